/* runner.h - the loop of `tend run` (one command or the batch pool): children spawned through
 * the child engine, reaped with wait4 (for rusage), their output streams sent to tend's fds, a
 * capture buffer, prefixed lines or a hook, and tend's signals forwarded to them.
 * Called by oneshot.c and batch.c; calls child, spawn and util. */
#ifndef TEND_RUNNER_H
#define TEND_RUNNER_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>

#include "child.h"
#include "spawn.h"
#include "util.h"

#define RUN_LINE_MAX 65536    /* a longer line is cut (and ended) here when prefixing */
#define RUN_DRAIN_SECONDS 2.0 /* bound on reading pipes after the child exited */
#define RUN_FORWARDED_SIGNALS 6

struct runner;
struct run_child;

enum run_sink {
    RUN_SINK_FD,      /* write through to out_fd as it arrives */
    RUN_SINK_CAPTURE, /* keep in data */
    RUN_SINK_LINES,   /* whole lines to out_fd, each behind prefix */
    RUN_SINK_HOOK,    /* handed to hook as it arrives; hook(s, NULL, 0) once at EOF */
};

struct run_stream {
    struct child_reader rd; /* tend's read end; closed when rd.fd < 0 */
    struct run_child *child;
    enum run_sink sink;
    int out_fd;
    bool discard; /* out_fd failed: keep reading, write nothing */
    const char *prefix;
    struct strbuf data; /* everything (capture) or the partial last line (lines) */
    int64_t bytes;
    void (*hook)(struct run_stream *s, const char *p, size_t n); /* RUN_SINK_HOOK */
};

struct run_child {
    struct runner *r;
    const char *name;
    pid_t pid;    /* from spawn on; kept after the reap for reports */
    bool running; /* spawned and not reaped */
    bool exited;  /* reaped */
    bool done;    /* reaped and its pipes drained */
    int status;
    struct rusage ru;
    double started, ended;
    struct run_stream out, err;
    ev_timer drain;
    void (*on_exit)(struct run_child *c);
    void (*on_done)(struct run_child *c);
    void *owner;
};

struct runner {
    struct ev_loop *loop;
    ev_signal sigchld;
    ev_signal forward[RUN_FORWARDED_SIGNALS];
    struct run_child **children; /* the running ones, to find a reaped pid */
    size_t nchildren;
    bool broken[3]; /* tend's stdout/stderr gave EPIPE */
    void (*on_signal)(struct runner *r, int sig);
    void *owner;
    struct strbuf lines; /* prefixed lines on their way out */
};

/* A loop of its own, SIGPIPE ignored, SIGCHLD reaped with wait4, INT/TERM/QUIT forwarded to
 * every child's group and HUP/USR1/USR2 to its pid. */
void runner_init(struct runner *r, void *owner);
void runner_free(struct runner *r);

void run_child_init(struct run_child *c, struct runner *r, const char *name);
void run_child_free(struct run_child *c);
/* Spawns through child_spawn (fds 1 and 2 per io; req's map[0] is the caller's stdin) and
 * starts reading the pipes. On failure e says why, and nothing is left open. */
int run_child_spawn(struct run_child *c, struct spawn_request *req, const struct child_stdio *io,
                    struct spawn_error *e);
void run_child_signal(struct run_child *c, int sig, bool group);
/* Calls on_done once the child is reaped and both streams are closed. */
void run_child_check_done(struct run_child *c);

void run_stream_setup(struct run_stream *s, struct run_child *c, enum run_sink sink, int out_fd,
                      const char *prefix);
/* Closes the pipe and ends the stream (the last line, or hook(s, NULL, 0)). */
void run_stream_close(struct run_stream *s);
bool run_stream_open(const struct run_stream *s);
void run_stream_pause(struct run_stream *s);
void run_stream_resume(struct run_stream *s);

/* Small helpers of `tend run`'s reports. */
double run_now(void);
double run_timeval_seconds(const struct timeval *tv);
double run_round_us(double seconds); /* seconds to the microsecond */
void run_human_size(char *buf, size_t size, int64_t bytes);

#endif
