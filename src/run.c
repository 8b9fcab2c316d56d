/* run.c - `tend run`'s command line: options, usage, help; then the one-shot runner
 * (oneshot.c) or the batch pool (batch.c). Calls values and util only. */
#include "run.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "values.h"

/* ---- the command line ---- */

static const char run_synopsis[] = "usage: tend run [OPTIONS] -- CMD [ARG...]\n"
                                   "       tend run -c FILE [-j N] [--keep-going] [--json] "
                                   "[NAME...]\n";

static void
run_help(void)
{
    printf("%s", run_synopsis);
    printf("\nRun one command: feed its stdin, pass or capture its output, enforce a timeout.\n"
           "\n"
           "  -i, --input FILE         feed FILE to the command's stdin (- for tend's stdin)\n"
           "      --input-text STRING  feed STRING to the command's stdin\n"
           "                           (default: tend's stdin unless it is a terminal)\n"
           "      --stdout FILE        write the command's stdout to FILE\n"
           "      --stderr FILE        write the command's stderr to FILE\n"
           "      --capture            keep the output and write it once the command ended\n"
           "  -t, --timeout DUR        send the signal after DUR (10, 500ms, 2s, 1m); exit 124\n"
           "  -s, --signal SIG         signal for the timeout (default TERM)\n"
           "  -k, --kill-after DUR     send KILL this long after the signal (default 5s)\n"
           "  -e, --env NAME=VALUE     set a variable in the command's environment\n"
           "  -C, --cwd DIR            run the command in DIR\n"
           "  -u, --user USER          run the command as USER (name or uid)\n"
           "      --shell              run CMD ARG... joined by blanks with /bin/sh -c\n"
           "      --report             print a line with status, time and sizes to stderr\n"
           "      --json               print one JSON object with status and output on stdout\n"
           "\n"
           "Run the programs of a configuration file as one-shot jobs:\n"
           "\n"
           "  -c, --config FILE        the configuration file\n"
           "  -j, --jobs N             run at most N jobs at once (default: number of CPUs)\n"
           "      --keep-going         start the other jobs after a failure\n"
           "      --json               print a JSON array of the jobs' results on stdout\n"
           "\n"
           "stdout = program:NAME in the file makes a pipeline: its stages start together, count\n"
           "as one job for -j, and each reports its own status (pipefail).\n"
           "\n"
           "Exit status: the command's; 128+N when killed by signal N; 124 timed out;\n"
           "125 tend failed; 126 not executable; 127 not found; 2 usage; 78 bad config.\n"
           "With -c: 0 when every job succeeded, 1 otherwise.\n");
}

static int run_usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

static int
run_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tend: run: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", run_synopsis);
    return RUN_EXIT_USAGE;
}

static int
run_parse_duration(const char *opt, const char *s, int64_t *ms)
{
    char *err = NULL;
    if (value_parse_duration(s, ms, &err) < 0) {
        fprintf(stderr, "tend: run: %s: %s\n%s", opt, err, run_synopsis);
        free(err);
        return -1;
    }
    return 0;
}

/* ---- the option table: one entry per option; getopt's tables are built from it ---- */

#define RUN_GO_ON (-1) /* what an option's apply returns to go on parsing */

/* Which mode an option belongs to: given in the other, it is a usage error. */
enum run_scope { RUN_FOR_ANY, RUN_FOR_ONE, RUN_FOR_BATCH };

struct run_option {
    const char *name; /* the long name */
    int key;          /* the short letter, or a number above 255 */
    int has_arg;      /* no_argument, required_argument */
    enum run_scope scope;
    /* RUN_GO_ON, or the exit status to return at once (after printing why) */
    int (*apply)(struct run_opts *o, const char *arg);
};

static int
run_set_input(struct run_opts *o, const char *arg)
{
    o->input = arg;
    return RUN_GO_ON;
}

static int
run_set_input_text(struct run_opts *o, const char *arg)
{
    o->input_text = arg;
    return RUN_GO_ON;
}

static int
run_set_stdout(struct run_opts *o, const char *arg)
{
    o->stdout_path = arg;
    return RUN_GO_ON;
}

static int
run_set_stderr(struct run_opts *o, const char *arg)
{
    o->stderr_path = arg;
    return RUN_GO_ON;
}

static int
run_set_capture(struct run_opts *o, const char *arg)
{
    (void)arg;
    o->capture = true;
    return RUN_GO_ON;
}

static int
run_set_timeout(struct run_opts *o, const char *arg)
{
    return run_parse_duration("--timeout", arg, &o->timeout_ms) < 0 ? RUN_EXIT_USAGE : RUN_GO_ON;
}

static int
run_set_kill_after(struct run_opts *o, const char *arg)
{
    return run_parse_duration("--kill-after", arg, &o->kill_after_ms) < 0 ? RUN_EXIT_USAGE
                                                                          : RUN_GO_ON;
}

static int
run_set_signal(struct run_opts *o, const char *arg)
{
    char *err = NULL;
    if (value_parse_signal(arg, &o->signal, &err) < 0) {
        fprintf(stderr, "tend: run: --signal: %s\n%s", err, run_synopsis);
        free(err);
        return RUN_EXIT_USAGE;
    }
    return RUN_GO_ON;
}

static int
run_set_env(struct run_opts *o, const char *arg)
{
    if (arg[0] == '=' || !strchr(arg, '=')) {
        return run_usage_error("--env needs NAME=VALUE, not '%s'", arg);
    }
    strv_push(&o->env, arg);
    return RUN_GO_ON;
}

static int
run_set_cwd(struct run_opts *o, const char *arg)
{
    o->cwd = arg;
    return RUN_GO_ON;
}

static int
run_set_user(struct run_opts *o, const char *arg)
{
    o->user = arg;
    return RUN_GO_ON;
}

static int
run_set_shell(struct run_opts *o, const char *arg)
{
    (void)arg;
    o->shell = true;
    return RUN_GO_ON;
}

static int
run_set_report(struct run_opts *o, const char *arg)
{
    (void)arg;
    o->report = true;
    return RUN_GO_ON;
}

static int
run_set_json(struct run_opts *o, const char *arg)
{
    (void)arg;
    o->json = true;
    return RUN_GO_ON;
}

static int
run_set_jobs(struct run_opts *o, const char *arg)
{
    char *err = NULL;
    if (value_parse_int(arg, 1, 100000, &o->jobs, &err) < 0) {
        fprintf(stderr, "tend: run: --jobs: %s\n%s", err, run_synopsis);
        free(err);
        return RUN_EXIT_USAGE;
    }
    return RUN_GO_ON;
}

static int
run_set_keep_going(struct run_opts *o, const char *arg)
{
    (void)arg;
    o->keep_going = true;
    return RUN_GO_ON;
}

static int
run_set_config(struct run_opts *o, const char *arg)
{
    o->config = arg;
    return RUN_GO_ON;
}

static int
run_show_help(struct run_opts *o, const char *arg)
{
    (void)o;
    (void)arg;
    run_help();
    return 0;
}

static const struct run_option run_options[] = {
    {"input", 'i', required_argument, RUN_FOR_ONE, run_set_input},
    {"input-text", 256, required_argument, RUN_FOR_ONE, run_set_input_text},
    {"stdout", 257, required_argument, RUN_FOR_ONE, run_set_stdout},
    {"stderr", 258, required_argument, RUN_FOR_ONE, run_set_stderr},
    {"capture", 259, no_argument, RUN_FOR_ONE, run_set_capture},
    {"timeout", 't', required_argument, RUN_FOR_ONE, run_set_timeout},
    {"signal", 's', required_argument, RUN_FOR_ONE, run_set_signal},
    {"kill-after", 'k', required_argument, RUN_FOR_ONE, run_set_kill_after},
    {"env", 'e', required_argument, RUN_FOR_ONE, run_set_env},
    {"cwd", 'C', required_argument, RUN_FOR_ONE, run_set_cwd},
    {"user", 'u', required_argument, RUN_FOR_ONE, run_set_user},
    {"shell", 260, no_argument, RUN_FOR_ONE, run_set_shell},
    {"report", 261, no_argument, RUN_FOR_ONE, run_set_report},
    {"json", 262, no_argument, RUN_FOR_ANY, run_set_json},
    {"jobs", 'j', required_argument, RUN_FOR_BATCH, run_set_jobs},
    {"keep-going", 263, no_argument, RUN_FOR_BATCH, run_set_keep_going},
    {"config", 'c', required_argument, RUN_FOR_ANY, run_set_config},
    {"help", 'h', no_argument, RUN_FOR_ANY, run_show_help},
};

/* getopt_long's tables from run_options: "+" stops at the command, ":" reports a missing
 * value as ':'. */
static void
run_getopt_tables(struct option *longopts, char *shortopts)
{
    char *p = shortopts;
    *p++ = '+';
    *p++ = ':';
    for (size_t i = 0; i < ARRAY_SIZE(run_options); i++) {
        const struct run_option *r = &run_options[i];
        longopts[i] = (struct option){r->name, r->has_arg, NULL, r->key};
        if (r->key < 256) {
            *p++ = (char)r->key;
            if (r->has_arg == required_argument) {
                *p++ = ':';
            }
        }
    }
    longopts[ARRAY_SIZE(run_options)] = (struct option){NULL, 0, NULL, 0};
    *p = '\0';
}

/* Applies one option found by getopt; remembers the first one of each mode. */
static int
run_apply(struct run_opts *o, int key, const char *arg)
{
    for (size_t i = 0; i < ARRAY_SIZE(run_options); i++) {
        const struct run_option *r = &run_options[i];
        if (r->key != key) {
            continue;
        }
        const char **first = r->scope == RUN_FOR_ONE     ? &o->single_only
                             : r->scope == RUN_FOR_BATCH ? &o->batch_only
                                                         : NULL;
        int rc = r->apply(o, arg);
        if (rc == RUN_GO_ON && first && !*first) {
            *first = r->name;
        }
        return rc;
    }
    return RUN_GO_ON;
}

/* After the options: which words are the command or the NAMEs, and whether the options
 * fit the mode. */
static int
run_check(struct run_opts *o, int argc, char **argv)
{
    for (int i = optind; i < argc && o->names.n > 0; i++) {
        strv_push(&o->names, argv[i]);
    }
    if (o->names.n > 0) {
        o->words = o->names.v;
        o->nwords = (int)o->names.n;
    } else {
        o->words = argv + optind;
        o->nwords = argc - optind;
    }
    if (o->config) {
        if (o->single_only) {
            return run_usage_error("--%s is for one command, not for the jobs of -c FILE",
                                   o->single_only);
        }
        return RUN_GO_ON;
    }
    if (o->batch_only) {
        return run_usage_error("--%s needs -c FILE", o->batch_only);
    }
    if (o->nwords == 0) {
        return run_usage_error("%s", "no command to run");
    }
    if (o->input && o->input_text) {
        return run_usage_error("%s", "--input and --input-text exclude each other");
    }
    if (o->json) {
        o->capture = true;
    }
    return RUN_GO_ON;
}

/* Returns -1 to go on, or the exit status to return at once. */
static int
run_parse(struct run_opts *o, const char *config, int argc, char **argv)
{
    struct option longopts[ARRAY_SIZE(run_options) + 1];
    char shortopts[3 + 2 * ARRAY_SIZE(run_options) + 1];
    run_getopt_tables(longopts, shortopts);
    memset(o, 0, sizeof(*o));
    o->config = config;
    o->signal = SIGTERM;
    o->kill_after_ms = 5000;
    strv_init(&o->env);
    strv_init(&o->names);

    /* main() ran getopt already: 0 makes glibc start over */
    optind = 0;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, shortopts, longopts, NULL);
        if (c == -1) {
            /* With -c the words are NAMEs, and options may follow them; without, the first
             * word starts the command and everything after it is the command's. */
            bool after_dashes = optind > 1 && strcmp(argv[optind - 1], "--") == 0;
            if (!o->config || optind >= argc || after_dashes) {
                break;
            }
            strv_push(&o->names, argv[optind++]);
            continue;
        }
        const char *name = argv[optind - 1];
        if (c == ':') {
            return run_usage_error("option '%s' needs a value", name);
        }
        if (c == '?') {
            return run_usage_error("unknown option '%s'", name);
        }
        int rc = run_apply(o, c, optarg);
        if (rc != RUN_GO_ON) {
            return rc;
        }
    }
    return run_check(o, argc, argv);
}

int
run_main(const char *config, int argc, char **argv)
{
    struct run_opts o;
    int code = run_parse(&o, config, argc, argv);
    if (code < 0) {
        code = o.config ? batch_main(&o) : oneshot_main(&o);
    }
    strv_free(&o.env);
    strv_free(&o.names);
    return code;
}
