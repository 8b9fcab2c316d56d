/* feed.h - what tend writes into a program's stdin: `tend send` and pipelines
 * (stdout = program:NAME). tend holds both ends of the pipe, so it outlives restarts of the
 * reader: bytes written while the reader is down wait in the pipe and in a bounded buffer. */
#ifndef TEND_FEED_H
#define TEND_FEED_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FEED_MAX_PENDING (256 * 1024)

struct feed {
    struct ev_loop *loop;
    char *name;
    int rfd, wfd;       /* the pipe; -1 when closed */
    char *pending;      /* bytes the pipe did not take yet (a ring would be no simpler) */
    size_t pending_len;
    ev_io watcher;      /* waits for the pipe to take more */
    bool eof_requested; /* close the write end once pending is written */
    uint64_t bytes;     /* accepted into the pipe */
    uint64_t dropped;   /* lost because the buffer was full */
    bool drop_reported;
};

struct feed *feed_new(struct ev_loop *loop, const char *name);
void feed_free(struct feed *f);
/* The read end for the child's fd 0; a fresh pipe when the last one was closed by EOF. */
int feed_reader_fd(struct feed *f);
/* Queues all of buf or nothing: -1 (errno EAGAIN) when it does not fit, -1 (EPIPE) after EOF. */
int feed_write_all(struct feed *f, const char *buf, size_t n);
/* Queues what fits and drops the rest, counting it (pipelines must never block tend). */
void feed_write_some(struct feed *f, const char *buf, size_t n);
/* The program will see end of input once what is queued has been read. */
void feed_eof(struct feed *f);

#endif
