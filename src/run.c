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

enum {
    RUN_OPT_INPUT_TEXT = 256,
    RUN_OPT_STDOUT,
    RUN_OPT_STDERR,
    RUN_OPT_CAPTURE,
    RUN_OPT_SHELL,
    RUN_OPT_REPORT,
    RUN_OPT_JSON,
    RUN_OPT_KEEP_GOING,
};

/* Returns -1 to go on, or the exit status to return at once. */
static int
run_parse(struct run_opts *o, const char *config, int argc, char **argv)
{
    static const struct option long_options[] = {
        {"input", required_argument, NULL, 'i'},
        {"input-text", required_argument, NULL, RUN_OPT_INPUT_TEXT},
        {"stdout", required_argument, NULL, RUN_OPT_STDOUT},
        {"stderr", required_argument, NULL, RUN_OPT_STDERR},
        {"capture", no_argument, NULL, RUN_OPT_CAPTURE},
        {"timeout", required_argument, NULL, 't'},
        {"signal", required_argument, NULL, 's'},
        {"kill-after", required_argument, NULL, 'k'},
        {"env", required_argument, NULL, 'e'},
        {"cwd", required_argument, NULL, 'C'},
        {"user", required_argument, NULL, 'u'},
        {"shell", no_argument, NULL, RUN_OPT_SHELL},
        {"report", no_argument, NULL, RUN_OPT_REPORT},
        {"json", no_argument, NULL, RUN_OPT_JSON},
        {"jobs", required_argument, NULL, 'j'},
        {"keep-going", no_argument, NULL, RUN_OPT_KEEP_GOING},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->config = config;
    o->signal = SIGTERM;
    o->kill_after_ms = 5000;
    strv_init(&o->env);
    strv_init(&o->names);

    /* main() ran getopt already: 0 makes glibc start over; "+" stops at the command */
    optind = 0;
    opterr = 0;
    int c;
    for (;;) {
        c = getopt_long(argc, argv, "+:i:t:s:k:e:C:u:j:c:h", long_options, NULL);
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
        switch (c) {
        case 'i':
            o->input = optarg;
            o->single_only = o->single_only ? o->single_only : "--input";
            break;
        case RUN_OPT_INPUT_TEXT:
            o->input_text = optarg;
            o->single_only = o->single_only ? o->single_only : "--input-text";
            break;
        case RUN_OPT_STDOUT:
            o->stdout_path = optarg;
            o->single_only = o->single_only ? o->single_only : "--stdout";
            break;
        case RUN_OPT_STDERR:
            o->stderr_path = optarg;
            o->single_only = o->single_only ? o->single_only : "--stderr";
            break;
        case RUN_OPT_CAPTURE:
            o->capture = true;
            o->single_only = o->single_only ? o->single_only : "--capture";
            break;
        case 't':
            if (run_parse_duration("--timeout", optarg, &o->timeout_ms) < 0) {
                return RUN_EXIT_USAGE;
            }
            o->single_only = o->single_only ? o->single_only : "--timeout";
            break;
        case 'k':
            if (run_parse_duration("--kill-after", optarg, &o->kill_after_ms) < 0) {
                return RUN_EXIT_USAGE;
            }
            o->single_only = o->single_only ? o->single_only : "--kill-after";
            break;
        case 's': {
            char *err = NULL;
            if (value_parse_signal(optarg, &o->signal, &err) < 0) {
                fprintf(stderr, "tend: run: --signal: %s\n%s", err, run_synopsis);
                free(err);
                return RUN_EXIT_USAGE;
            }
            o->single_only = o->single_only ? o->single_only : "--signal";
            break;
        }
        case 'e':
            if (optarg[0] == '=' || !strchr(optarg, '=')) {
                return run_usage_error("--env needs NAME=VALUE, not '%s'", optarg);
            }
            strv_push(&o->env, optarg);
            o->single_only = o->single_only ? o->single_only : "--env";
            break;
        case 'C':
            o->cwd = optarg;
            o->single_only = o->single_only ? o->single_only : "--cwd";
            break;
        case 'u':
            o->user = optarg;
            o->single_only = o->single_only ? o->single_only : "--user";
            break;
        case RUN_OPT_SHELL:
            o->shell = true;
            o->single_only = o->single_only ? o->single_only : "--shell";
            break;
        case RUN_OPT_REPORT:
            o->report = true;
            o->single_only = o->single_only ? o->single_only : "--report";
            break;
        case RUN_OPT_JSON:
            o->json = true;
            break;
        case 'j': {
            char *err = NULL;
            if (value_parse_int(optarg, 1, 100000, &o->jobs, &err) < 0) {
                fprintf(stderr, "tend: run: --jobs: %s\n%s", err, run_synopsis);
                free(err);
                return RUN_EXIT_USAGE;
            }
            o->batch_only = o->batch_only ? o->batch_only : "--jobs";
            break;
        }
        case RUN_OPT_KEEP_GOING:
            o->keep_going = true;
            o->batch_only = o->batch_only ? o->batch_only : "--keep-going";
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'h':
            run_help();
            return 0;
        case ':':
            return run_usage_error("option '%s' needs a value", name);
        default:
            return run_usage_error("unknown option '%s'", name);
        }
    }
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
            return run_usage_error("%s is for one command, not for the jobs of -c FILE",
                                   o->single_only);
        }
        return -1;
    }
    if (o->batch_only) {
        return run_usage_error("%s needs -c FILE", o->batch_only);
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
    return -1;
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

