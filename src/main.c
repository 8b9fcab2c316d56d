/* main.c - the command line: global options, the verb table, dispatch and exit codes.
 * Each verb lives in its own module; this file only finds it and reports misuse. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
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
};

static int verb_check(struct cli *cli, int argc, char **argv);
static int verb_version(struct cli *cli, int argc, char **argv);
static int verb_help(struct cli *cli, int argc, char **argv);
static int verb_run(struct cli *cli, int argc, char **argv);
static int verb_up(struct cli *cli, int argc, char **argv);

static const struct verb verbs[] = {
    {"check", "check [--json]",
     "validate the configuration and print its effective form; start nothing", verb_check},
    {"up", "up", "run the supervisor in the foreground: start, watch and restart programs",
     verb_up},
    {"run", "run [OPTIONS] -- CMD [ARG...]",
     "run one command: feed stdin, capture output, enforce a timeout", verb_run},
    {"run", "run -c FILE [-j N] [NAME...]",
     "run the programs of FILE as one-shot jobs, at most N at once", verb_run},
    {"version", "version", "print tend's version", verb_version},
    {"help", "help", "print this help", verb_help},
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
                "\nExit status: 0 success, 2 usage, 78 configuration error, 125 tend failed.\n"
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

/* Loads the configuration for a verb; prints diagnostics. NULL means exit EXIT_CONFIG. */
static struct config *cli_load_config(struct cli *cli)
{
    char *tried = NULL;
    const char *path = config_find(cli->config, &tried);
    if (!path) {
        fprintf(stderr, "tend: no configuration file found (looked for %s)\n", tried);
        free(tried);
        return NULL;
    }
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_load(path, &d);
    diag_print(&d, stderr);
    if (!cfg) {
        fprintf(stderr, "tend: %zu error%s in the configuration; nothing done\n", d.errors.n,
                d.errors.n == 1 ? "" : "s");
    }
    diag_free(&d);
    return cfg;
}

static int verb_check(struct cli *cli, int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            const struct verb *v = verb_find("check");
            printf("usage: tend [-c FILE] %s\n%s\n", v->synopsis, v->summary);
            return 0;
        } else {
            return verb_usage_error(verb_find("check"), "unexpected argument", argv[i]);
        }
    }
    struct config *cfg = cli_load_config(cli);
    if (!cfg) {
        return EXIT_CONFIG;
    }
    if (json) {
        check_print_json(cfg, stdout);
    } else {
        check_print_ini(cfg, stdout);
    }
    config_free(cfg);
    return fflush(stdout) == 0 ? 0 : 125;
}

static int verb_up(struct cli *cli, int argc, char **argv)
{
    return up_main(cli->config, argc, argv);
}

static int verb_run(struct cli *cli, int argc, char **argv)
{
    return run_main(cli->config, argc, argv);
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
    for (; i < *argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
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
