/* main.c - the command line: global options, the verb table, dispatch and exit codes. Each
 * verb lives in its own module (up, client, run, check, export); this file finds it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client.h"
#include "config.h"
#include "control.h"
#include "export.h"
#include "run.h"
#include "up.h"
#include "util.h"

/* PACKAGE_VERSION comes from configure through the compiler command line. */

#define EXIT_USAGE 2

struct cli {
    const char *config; /* -c FILE, or NULL to look it up */
};

struct verb {
    const char *name;
    const char *synopsis;
    const char *summary;
    int (*run)(struct cli *cli, int argc, char **argv);
    /* for the verbs answered by the supervisor: checked here, so misuse exits 2 at once */
    const char *flags; /* allowed flags; "-n=" takes a value */
    int min_args, max_args; /* names and other positional words; -1 = no limit */
};

static int verb_check(struct cli *cli, int argc, char **argv);
static int verb_version(struct cli *cli, int argc, char **argv);
static int verb_help(struct cli *cli, int argc, char **argv);
static int verb_run(struct cli *cli, int argc, char **argv);
static int verb_up(struct cli *cli, int argc, char **argv);
static int verb_export(struct cli *cli, int argc, char **argv);
static int verb_client(struct cli *cli, int argc, char **argv);
static int verb_send(struct cli *cli, int argc, char **argv);

static const struct verb verbs[] = {
    {"check", "check [--json] [--show-env] [--strict]",
     "validate the configuration and print its effective form; start nothing", verb_check, NULL, 0, 0},
    {"up", "up [-d]", "run the supervisor (in the foreground, or as a daemon with -d)", verb_up, NULL, 0, 0},
    {"run", "run [OPTIONS] -- CMD [ARG...]",
     "run one command: feed stdin, capture output, enforce a timeout", verb_run, NULL, 0, 0},
    {"run", "run -c FILE [-j N] [NAME...]",
     "run the programs of FILE as one-shot jobs, at most N at once", verb_run, NULL, 0, 0},
    {"status", "status [--json] [NAME|GROUP:*|all...]",
     "show the state of processes (exit 0 when every named one is RUNNING)", verb_client,
     "--json", 0, -1},
    {"start", "start [--no-wait] NAME|GROUP:*|all...",
     "start processes and wait until they run (or fail)", verb_client, "--no-wait", 1, -1},
    {"stop", "stop [--no-wait] NAME|GROUP:*|all...", "stop processes and wait until they stopped",
     verb_client, "--no-wait", 1, -1},
    {"restart", "restart [--no-wait] NAME|GROUP:*|all...", "stop, then start processes",
     verb_client, "--no-wait", 1, -1},
    {"signal", "signal SIG NAME|GROUP:*|all...", "send a signal to processes", verb_client, "", 2,
     -1},
    {"pid", "pid [NAME...]", "print the pid of tend, or of processes", verb_client, "", 0, -1},
    {"wait", "wait NAME", "wait until a process exits; exit with its status", verb_client, "", 1,
     1},
    {"logs", "logs NAME [-f] [-n LINES] [--stderr] | logs --rotate NAME|GROUP:*|all",
     "print a process's recent output; -f follows it; --rotate rotates its log files now",
     verb_client, "-f --follow -n= --lines= --stderr --rotate", 1, 1},
    {"events", "events [-f] [--json]",
     "print recent events (process states, ticks, ...); -f follows; --json as JSON lines",
     verb_client, "-f --follow --json", 0, 0},
    {"reload", "reload [--dry-run]",
     "re-read the configuration and apply the difference; print the plan", verb_client,
     "--dry-run", 0, 0},
    {"down", "down", "stop every process and the supervisor; return when it has exited",
     verb_client, "", 0, 0},
    {"export", "export systemd [-o DIR]", "write a systemd unit for each process", verb_export,
     NULL, 0, 0},
    {"send", "send [--eof] NAME [TEXT...|-]",
     "write TEXT (or tend's own stdin, with -) to a program's stdin; --eof closes it",
     verb_send, "--eof", 1, -1},
    {"version", "version", "print tend's version", verb_version, NULL, 0, 0},
    {"help", "help", "print this help", verb_help, NULL, 0, 0},
};

static void usage(FILE *to)
{
    fprintf(to, "usage: tend [-c FILE] VERB [ARGS...]\n\n"
                "tend is a process supervisor and runner.\n\n"
                "Verbs:\n");
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
        fprintf(to, "  %-28s %s\n", verbs[i].synopsis, verbs[i].summary);
    }
    fprintf(to, "\nOptions:\n"
                "  -c, --config FILE            configuration file (default: $TEND_CONFIG,\n"
                "                               ./tend.ini, then /etc/tend.ini)\n"
                "  -h, --help                   print this help\n"
                "  -V, --version                print tend's version\n"
                "\nExit status: 0 success; 1 a process did not reach the requested state or\n"
                "does not exist; 2 usage; 3 the supervisor cannot be reached; 78 configuration\n"
                "error; 125 tend failed. tend run exits with the command's status.\n"
                "See tend(1) and tend.ini(5).\n");
}

static const struct verb *verb_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
        if (strcmp(verbs[i].name, name) == 0) {
            return &verbs[i];
        }
    }
    return NULL;
}

static int verb_usage_error(const struct verb *v, const char *what, const char *arg)
{
    fprintf(stderr, "tend: %s: %s '%s'\n", v->name, what, arg);
    fprintf(stderr, "usage: tend [-c FILE] %s\n", v->synopsis);
    return EXIT_USAGE;
}

static int verb_check(struct cli *cli, int argc, char **argv)
{
    bool json = false, show_env = false, strict = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--strict") == 0) {
            strict = true;
        } else if (strcmp(argv[i], "--show-env") == 0) {
            show_env = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            const struct verb *v = verb_find("check");
            printf("usage: tend [-c FILE] %s\n%s\n", v->synopsis, v->summary);
            return 0;
        } else {
            return verb_usage_error(verb_find("check"), "unexpected argument", argv[i]);
        }
    }
    /* --strict: what supervisord would only skip (unknown options and sections) is an error */
    struct config *cfg = config_load_for_verb_strict(cli->config, "done", strict);
    if (!cfg) {
        return EXIT_CONFIG;
    }
    if (json) {
        check_print_json(cfg, stdout, show_env);
    } else {
        check_print_ini(cfg, stdout, show_env);
    }
    config_free(cfg);
    return fflush(stdout) == 0 ? 0 : 125;
}

static int verb_up(struct cli *cli, int argc, char **argv)
{
    return up_main(cli->config, argc, argv);
}

static int verb_export(struct cli *cli, int argc, char **argv)
{
    return export_main(cli->config, argc, argv);
}

static int verb_run(struct cli *cli, int argc, char **argv)
{
    return run_main(cli->config, argc, argv);
}

/* True when flag is in the space-separated list; *takes_value when it is listed with '='. */
static bool flag_allowed(const char *list, const char *flag, bool *takes_value)
{
    size_t n = strlen(flag);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, " ");
        bool value = len > 0 && p[len - 1] == '=';
        if ((value ? len - 1 : len) == n && strncmp(p, flag, n) == 0) {
            *takes_value = value;
            return true;
        }
        p += len;
        while (*p == ' ') {
            p++;
        }
    }
    return false;
}

static int verb_client(struct cli *cli, int argc, char **argv)
{
    const struct verb *v = verb_find(argv[0]);
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf("usage: tend [-c FILE] %s\n%s\n", v->synopsis, v->summary);
            return 0;
        }
        /* a signal number like -9 is a value, not a flag */
        if (a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9')) {
            bool takes_value = false;
            if (!flag_allowed(v->flags, a, &takes_value)) {
                return verb_usage_error(v, "unknown option", a);
            }
            if (takes_value && ++i >= argc) {
                return verb_usage_error(v, "option needs a value:", a);
            }
            continue;
        }
        positional++;
    }
    if (positional < v->min_args || (v->max_args >= 0 && positional > v->max_args)) {
        fprintf(stderr, "tend: %s: wrong number of arguments\nusage: tend [-c FILE] %s\n",
                v->name, v->synopsis);
        return EXIT_USAGE;
    }
    return client_main(cli->config, argc, argv);
}

/* `tend send NAME -` copies tend's own stdin in chunks, each one request; the rest of the
 * forms are a single request. */
static int verb_send(struct cli *cli, int argc, char **argv)
{
    bool from_stdin = argc >= 2 && strcmp(argv[argc - 1], "-") == 0;
    if (!from_stdin) {
        return verb_client(cli, argc, argv);
    }
    const char *name = NULL;
    bool eof = false;
    for (int i = 1; i < argc - 1; i++) {
        if (strcmp(argv[i], "--eof") == 0) {
            eof = true;
        } else if (!name && argv[i][0] != '-') {
            name = argv[i];
        } else {
            return verb_usage_error(verb_find("send"), "unexpected argument", argv[i]);
        }
    }
    if (!name) {
        return verb_usage_error(verb_find("send"), "missing", "NAME");
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
        struct strbuf word;
        strbuf_init(&word);
        control_encode_bytes(&word, buf, n);
        char *req[] = {(char *)"send", (char *)"--raw", (char *)name, word.buf, NULL};
        int rc = client_main(cli->config, 4, req);
        strbuf_free(&word);
        if (rc != 0) {
            return rc;
        }
    }
    if (eof) {
        char *req[] = {(char *)"send", (char *)"--eof", (char *)name, NULL};
        return client_main(cli->config, 3, req);
    }
    return 0;
}

static int verb_version(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    (void)argc;
    (void)argv;
    printf("tend %s\n", PACKAGE_VERSION);
    return 0;
}

static int verb_help(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    (void)argc;
    (void)argv;
    usage(stdout);
    return 0;
}

/* `-c FILE` is accepted after the verb too (tend up -c FILE), up to a "--" that starts a
 * command: it is taken out of the verb's arguments. */
static int cli_take_config_option(struct cli *cli, int *argc, char **argv)
{
    int out = 1;
    int i = 1;
    /* `tend run sh -c '...'`: for run, the first plain word starts the command */
    bool is_run = strcmp(argv[0], "run") == 0;
    for (; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0 || (is_run && a[0] != '-')) {
            break;
        }
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= *argc) {
                return -1;
            }
            cli->config = argv[++i];
        } else if (strncmp(a, "--config=", 9) == 0) {
            cli->config = a + 9;
        } else if (strncmp(a, "-c", 2) == 0 && a[2]) {
            cli->config = a + 2;
        } else {
            argv[out++] = argv[i];
        }
    }
    for (; i < *argc; i++) {
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct cli cli = {0};
    int c;
    /* "+" stops at the verb: its options belong to it */
    while ((c = getopt_long(argc, argv, "+c:hV", long_options, NULL)) != -1) {
        switch (c) {
        case 'c':
            cli.config = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            return verb_version(&cli, 0, NULL);
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const struct verb *v = verb_find(argv[optind]);
    if (!v) {
        fprintf(stderr, "tend: unknown verb '%s' (see tend --help)\n", argv[optind]);
        return EXIT_USAGE;
    }
    argc -= optind;
    argv += optind;
    if (cli_take_config_option(&cli, &argc, argv) < 0) {
        fprintf(stderr, "tend: %s: -c needs a FILE\nusage: tend [-c FILE] %s\n", v->name,
                v->synopsis);
        return EXIT_USAGE;
    }
    return v->run(&cli, argc, argv);
}
