/* child.h - the child engine shared by `tend up`, `tend run` and the batch pool: a child spawned
 * with pipes on fds 1 and 2, a reader per pipe (one read per wakeup, a short rest after a big
 * chunk, pause/resume for back-pressure, a bounded drain, EOF), and a writer into a child's
 * stdin (what the pipe does not take waits in a buffer; EOF once it is written). Calls spawn
 * and util only; reaping stays with the caller (libev's ev_child for `up`, wait4 for `run`),
 * which hands the status back. */
#ifndef TEND_CHILD_H
#define TEND_CHILD_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spawn.h"
#include "util.h"

#define CHILD_READ_SIZE (256 * 1024) /* one read per wakeup, into a buffer on the stack */
/* A pipe found full (a read or splice of a whole default pipe, 64 KiB) is grown to this once,
 * so a chatty child costs fewer wakeups; quiet children keep the kernel's default. */
#define CHILD_PIPE_GROWN (1024 * 1024)
#define CHILD_PIPE_DEFAULT 65536
/* After a chunk of at least CHILD_PIPE_DEFAULT that emptied a grown pipe, or a small chunk that
 * came within CHILD_STREAM_S of the one before, the reader rests this long before it looks
 * again (see child_rest in child.c). */
#define CHILD_REST_NS 200000
#define CHILD_STREAM_S 0.001

/* A pipe with both ends close-on-exec and tend's end non-blocking (the child's end stays
 * blocking: ordinary programs do not expect EAGAIN). tends_end is 0 (tend reads) or 1 (tend
 * writes), or -1 for a pipe between two children (both ends blocking). -1 with errno. */
int child_pipe(int fds[2], int tends_end);
/* close(*fd) when open, and *fd = -1. */
void child_close(int *fd);
/* Writes everything to a blocking or non-blocking fd (waiting for room with poll: for tend's
 * own stdout, which whoever started tend may have left non-blocking). -1 with errno. */
int child_write_all(int fd, const char *buf, size_t len);

/* ---- spawning with pipes ---- */

/* Where a child's stdout and stderr go. out_to / err_to >= 0: that fd (the caller's, left
 * open) is handed over as it is; -1: a pipe tend reads, whose read end comes back. With
 * merge_stderr fd 2 is whatever fd 1 is. */
struct child_stdio {
    int out_to, err_to;
    bool merge_stderr;
};

/* Appends fds 1 and 2 to req->map (req's other entries, stdin included, are the caller's),
 * makes the child lead its own process group, spawns it and closes the child's ends. On
 * success *out_rd / *err_rd are tend's read ends (or -1 where there is no pipe). On failure e
 * says why ("create pipes for", or spawn_child's step) and nothing is left open. */
int child_spawn(struct spawn_request *req, const struct child_stdio *io, pid_t *pid, int *out_rd,
                int *err_rd, struct spawn_error *e);

/* ---- reading a child's output ---- */

struct child_reader;
/* A chunk read; the callback may close, pause or drain the reader (and may free it only when
 * it returns right after). */
typedef void (*child_data_fn)(struct child_reader *r, const char *buf, size_t n);
/* The pipe reached EOF or a read error (read_errno) and is closed; only from the loop, not
 * from child_reader_close. The callback may free the reader. */
typedef void (*child_eof_fn)(struct child_reader *r);
/* Optional, tried before each read: moves bytes from the pipe r->fd straight to where they go
 * (splice into a log file). Returns the bytes moved, 0 at EOF, or -1 with errno: EAGAIN when
 * the pipe is empty, anything else to read(2) this chunk instead (declined or failed). */
typedef ssize_t (*child_splice_fn)(struct child_reader *r);

struct child_reader {
    ev_io io;
    struct ev_loop *loop;
    int fd;      /* tend's read end; -1 once closed */
    bool paused; /* not read for now: the writer blocks on the full pipe */
    bool grown;  /* the pipe was found full once and grown (or growing failed) */
    bool big;    /* ... and growing worked */
    bool resting; /* a fast writer: not watched until child_rest's timer fires */
    ev_tstamp last_chunk; /* ev_now() of the last chunk: small chunks close together stream */
    int read_errno;
    child_data_fn on_data;
    child_eof_fn on_eof;
    child_splice_fn on_splice; /* NULL: always read */
    void *data;
};

/* Whether a reader rests after a chunk of n bytes (one read takes at most most), gap seconds
 * after the chunk before; big: its pipe was grown. Pure, for child.c and its tests. */
bool child_rest_due(size_t n, size_t most, bool big, double gap);
void child_reader_init(struct child_reader *r, struct ev_loop *loop, child_data_fn on_data,
                       child_eof_fn on_eof, void *data);
/* Starts watching fd (the reader owns it from now on). */
void child_reader_start(struct child_reader *r, int fd);
bool child_reader_open(const struct child_reader *r);
/* Back-pressure: stop reading until resumed (the writer blocks once the pipe is full). */
void child_reader_pause(struct child_reader *r);
void child_reader_resume(struct child_reader *r);
/* Reads what is in the pipe now, at most about max_bytes (a grandchild may write forever),
 * without waiting: for a child that has exited. Does not close. */
void child_reader_drain(struct child_reader *r, size_t max_bytes);
/* Stops the watcher and closes the fd; no EOF callback. The reader may be freed after it. */
void child_reader_close(struct child_reader *r);

/* ---- feeding a child's stdin ---- */

struct child_writer;
/* Called from the loop only (child_writer_push reports by its return value instead). */
typedef void (*child_writer_fn)(struct child_writer *w);

struct child_writer {
    ev_io io;
    struct ev_loop *loop;
    int fd;                /* tend's write end (non-blocking); -1 once closed */
    struct strbuf pending; /* bytes the pipe had no room for, from off on */
    size_t off;
    bool eof_requested;         /* close fd once pending is written */
    uint64_t bytes;             /* accepted by the pipe */
    uint64_t dropped;           /* queued, then lost because the reader went away */
    child_writer_fn on_drained; /* the queue emptied (and fd closed if EOF was asked for) */
    child_writer_fn on_gone;    /* the reader went away (EPIPE...): queue dropped, fd closed */
    void *data;
};

void child_writer_init(struct child_writer *w, struct ev_loop *loop, child_writer_fn on_drained,
                       child_writer_fn on_gone, void *data);
/* Starts writing into fd (the writer owns it from now on). */
void child_writer_start(struct child_writer *w, int fd);
bool child_writer_open(const struct child_writer *w);
size_t child_writer_queued(const struct child_writer *w);
/* Writes what the pipe takes now and queues the rest (the loop writes it later). -1 when the
 * reader is gone (the writer is closed then, with no callback) or was closed before. */
int child_writer_push(struct child_writer *w, const char *buf, size_t n);
/* The child sees end of input once what is queued has been written. */
void child_writer_eof(struct child_writer *w);
/* Closes now, dropping what is queued; no callback. */
void child_writer_close(struct child_writer *w);
void child_writer_free(struct child_writer *w);

#endif
