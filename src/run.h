/* run.h - `tend run`: one command as Python's communicate(input, timeout), or the programs of
 * a config file as a pool of one-shot jobs. run.c parses the command line into run_opts and
 * hands it to oneshot.c or batch.c. */
#ifndef TEND_RUN_H
#define TEND_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

#define RUN_EXIT_USAGE 2
#define RUN_EXIT_TIMEOUT 124
#define RUN_EXIT_FAILED 125

struct run_opts {
    const char *config;
    const char *input;      /* --input FILE, "-" for tend's stdin */
    const char *input_text; /* --input-text STRING */
    const char *stdout_path;
    const char *stderr_path;
    const char *cwd;
    const char *user;
    bool capture, shell, report, json, keep_going;
    int64_t timeout_ms; /* 0: none */
    int64_t kill_after_ms;
    int signal;
    long jobs; /* 0: one per CPU */
    struct strv env;
    struct strv names; /* NAMEs collected between options in batch mode */
    char **words;      /* CMD [ARG...], or NAMEs in batch mode */
    int nwords;
    const char *single_only; /* first option given that is only for one command (long name) */
    const char *batch_only;  /* first option given that is only for -c (long name) */
};

/* `tend run -- CMD`: returns the exit status (oneshot.c). */
int oneshot_main(const struct run_opts *o);
/* `tend run -c FILE`: 0 when every job succeeded, 1 otherwise (batch.c). */
int batch_main(const struct run_opts *o);

/* argv[0] is "run". config is the global -c FILE (or NULL); run also takes its own -c.
 * Returns tend's exit status. */
int run_main(const char *config, int argc, char **argv);

#endif
