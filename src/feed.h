/* feed.h - what tend writes into a program's stdin: `tend send` and pipelines
 * (stdout = program:NAME). tend holds both ends of the pipe, so it outlives restarts of the
 * reader: bytes written while the reader is down wait in the pipe and in a bounded buffer.
 * Built on child.c's writer; called by supervise and control. */
#ifndef TEND_FEED_H
#define TEND_FEED_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "child.h"

#define FEED_MAX_PENDING (256 * 1024)

struct feed {
    char *name;
    int rfd;               /* the read end, kept by tend across restarts; -1 when closed */
    struct child_writer w; /* the write end and the bytes waiting for room in the pipe */
    uint64_t overflowed;   /* lost because the buffer was full */
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
/* Bytes accepted into the pipe, and bytes lost (buffer full, or the reader went away). */
uint64_t feed_bytes(const struct feed *f);
uint64_t feed_dropped(const struct feed *f);

#endif
