/* batch.h - the state of `tend run -c FILE` (jobs, routes, pipelines as units, shared files),
 * for batch.c, which runs them, and batch_report.c, which prints their results. */
#ifndef TEND_BATCH_H
#define TEND_BATCH_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

#include "child.h"
#include "config.h"
#include "run.h"
#include "runner.h"
#include "util.h"

enum job_state { JOB_WAITING, JOB_RUNNING, JOB_OK, JOB_FAILED, JOB_SKIPPED };

extern const char *const job_state_names[];

struct batch;
struct batch_job;

/* Where one output stream of a job goes (stdout = / stderr = in the file). */
enum route_kind {
    ROUTE_PREFIX, /* no target: to tend's output, each line behind the job's name */
    ROUTE_DIRECT, /* one target: the child's fd is the file, or the reader's stdin pipe
                   * (shared by all its writers: no copying, unless another stream into the
                   * same reader needs it) */
    ROUTE_COPY,   /* several targets, or a reader tend writes into: tend copies to every
                   * reader and file (fan-out, tee) */
};

struct batch_route {
    enum route_kind kind;
    struct batch_job **readers; /* the jobs whose stdin it feeds (program:NAME, every process) */
    size_t nreaders;
    const char **files; /* file:PATH targets (the config's strings) */
    int *file_fds;      /* the batch's open files; -1 after a write error */
    size_t nfiles;
};

struct batch_job {
    struct batch *b;
    const struct proc_config *pc;
    enum job_state state;
    struct run_child child;
    char *prefix_out, *prefix_err;
    char *detail; /* "exited with status 1", "dependency build failed", ... */
    char *error;  /* why it could not start */
    bool ran;
    size_t unit;                 /* its pipeline, in b->units */
    bool visited;                /* while its pipeline starts: readers before writers */
    struct batch_route route[2]; /* stdout, stderr (with redirect_stderr: all in [0]) */
    /* stdin, when other jobs' streams feed it */
    bool reader;
    bool in_copied; /* some stream into it has several targets: tend writes all of them */
    int in_rd;      /* the child's end, until it is spawned */
    /* the write end: shared by the writers (direct), or tend's own (copied, non-blocking,
     * with the bytes the pipe had no room for queued) */
    struct child_writer in;
    size_t in_open; /* copied streams into it that have not reached EOF */
};

/* The unit of scheduling: a pipeline (the jobs connected by program: targets, whichever the
 * direction), or one job alone. */
enum unit_state { UNIT_WAITING, UNIT_RUNNING, UNIT_DONE };

struct batch_unit {
    size_t *members; /* indexes in b->jobs, in start order */
    size_t n;
    enum unit_state state;
    size_t live; /* members spawned and not done */
};

struct batch_file {
    char *path;
    int fd;
};

struct batch {
    struct runner r;
    const struct run_opts *o;
    struct config *cfg;
    struct batch_job *jobs; /* the selected processes, in start order */
    size_t njobs;
    struct batch_unit *units; /* in the order of their first member */
    size_t nunits;
    struct batch_file *files; /* file: targets, each opened (and truncated) once */
    size_t nfiles;
    long max_running;
    size_t running; /* units, not jobs: see batch_schedule */
    bool stopping;  /* after a failure or a signal: no new job starts */
    int interrupted;
};

/* batch_report.c */
void batch_print_json(const struct batch *b);
void batch_print_table(const struct batch *b, int width);
/* "name  | " padded to the longest name; coloured like docker compose on a terminal. */
char *batch_prefix(const char *name, int width, size_t index, bool colour);

#endif
