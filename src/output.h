/* output.h - where a program's stdout or stderr goes: a log file with supervisord's size
 * rotation, tend's console with a coloured "name | " prefix, and a ring buffer of the last
 * bytes for `tend logs`. A sink lives as long as its program; the pipe readers of each run
 * come and go. Nothing here blocks on a full disk or a dead reader: failures are counted and
 * reported once, and the pipes keep being drained so a child never blocks. */
#ifndef TEND_OUTPUT_H
#define TEND_OUTPUT_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "child.h"

/* bounds a drain against a grandchild writing forever: a few times a grown pipe */
#define OUTPUT_DRAIN_BYTES (4 * CHILD_PIPE_GROWN)

struct output_options {
    const char *name;     /* process name, for the console prefix and messages */
    const char *stream;   /* "stdout" or "stderr", for messages (kept, not copied) */
    const char *path;     /* log file, or NULL for none */
    int64_t maxbytes;     /* rotate at this size; 0 = never */
    int backups;          /* file.1 ... file.N; 0 = truncate at maxbytes */
    bool console;         /* also write lines to tend's stdout with a prefix */
    int prefix_width;     /* pad names to this width in the prefix */
    int color;            /* ANSI colour index 1-6 for the prefix, 0 = no colour */
    size_t ring_size;     /* bytes kept in memory for `tend logs` (0 = none) */
    bool timestamps;      /* prefix every line with an ISO-8601 time */
    bool syslog;          /* also send every line to syslog, tagged with name */
    bool strip_ansi;      /* remove ANSI escape sequences before anything else sees them */
    bool direct;          /* the program writes path itself: nothing is written here */
    struct ev_loop *loop; /* where a direct sink's followers are woken */
};

struct output_sink;

/* Opens the log file (creating it, appending); an open failure is reported once through
 * tend's log and the sink works without the file until a reopen succeeds. Never NULL. */
struct output_sink *output_sink_new(const struct output_options *o);
void output_sink_free(struct output_sink *s);

/* Writes a chunk read from the child: to the file (rotating exactly at maxbytes, splitting a
 * chunk across files if needed), to the ring, and complete lines to the console. */
void output_sink_write(struct output_sink *s, const char *buf, size_t n);
/* The child is gone: a partial last line goes to the console with a newline. */
void output_sink_flush(struct output_sink *s);
/* A direct sink (stdout/stderr_logfile_direct): the program gets the file as its fd, opened
 * again for each run, and tend writes nothing; its followers read the file as it grows. Reopen
 * and rotate do nothing to it: the running program keeps the file it was given. */
bool output_sink_direct(const struct output_sink *s);
/* A new fd on the file for the program: appending, blocking, close-on-exec. -1 with errno. */
int output_sink_open_direct(const struct output_sink *s);
/* Closes and opens the log file again (SIGUSR2, after logrotate moved it). */
void output_sink_reopen(struct output_sink *s);
/* Rotates now (tend logs --rotate), whatever the size. */
void output_sink_rotate(struct output_sink *s);

/* Followers of a sink (`tend logs -f`): fn gets every chunk written after it was added.
 * A listener must not add or remove listeners from inside fn. */
typedef void (*output_listener_fn)(void *arg, const char *buf, size_t n);
void output_sink_add_listener(struct output_sink *s, output_listener_fn fn, void *arg);
void output_sink_remove_listener(struct output_sink *s, void *arg);

/* Counters for status and tests. */
uint64_t output_sink_bytes(const struct output_sink *s);         /* bytes received */
uint64_t output_sink_write_errors(const struct output_sink *s);  /* failed file writes */
const char *output_sink_path(const struct output_sink *s);
/* Console lines that could not be written (EPIPE, EAGAIN, ...) and were dropped. */
uint64_t output_sink_console_errors(const struct output_sink *s);
/* Copies the last up-to-max bytes kept in the ring into a new buffer; *n gets the length. */
char *output_sink_ring_copy(const struct output_sink *s, size_t *n);

/* A non-blocking pipe read end watched by the loop; every chunk goes to the sink. At EOF (or
 * output_pipe_close) the fd is closed. The pipe owns its fd. */
struct output_pipe;
struct output_pipe *output_pipe_new(struct ev_loop *loop, int fd, struct output_sink *sink);
/* Sends what follows to another sink (a reload changed the log settings). */
void output_pipe_set_sink(struct output_pipe *p, struct output_sink *sink);
/* Reads whatever is buffered in the pipe now (the child has exited), then closes it. */
void output_pipe_drain_and_free(struct output_pipe *p);
/* True once the pipe reached EOF (or a read error) and its fd is closed. */
bool output_pipe_done(const struct output_pipe *p);
/* Called from the loop right after the pipe reached EOF and closed (not from drain_and_free);
 * the callback may call output_pipe_drain_and_free(p). */
void output_pipe_set_eof_cb(struct output_pipe *p, void (*cb)(struct output_pipe *p, void *data),
                            void *data);

/* The console: tend's stdout. Whether to colour, and a colour per program name. */
bool output_console_use_color(void);
int output_color_for(size_t index);

#endif
