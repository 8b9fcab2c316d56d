/* test_child.c - unit tests for child.c's pipe reader: when a reader rests (after a big chunk
 * that emptied its grown pipe, or small chunks that stream), and on a real loop that bytes
 * written meanwhile arrive once the rest is over and that pausing or closing a resting reader
 * is safe. Nothing here is timed. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "child.h"
#include "tap.h"

struct counter {
    struct child_reader rd;
    size_t bytes;
    size_t chunks;
};

static void
count_data(struct child_reader *r, const char *buf, size_t n)
{
    (void)buf;
    struct counter *c = (struct counter *)r;
    c->bytes += n;
    c->chunks++;
}

static void
count_eof(struct child_reader *r)
{
    (void)r;
}

/* n bytes into the pipe's write end (blocking: they must fit). */
static void
fill(int fd, size_t n)
{
    static char buf[1024 * 1024]; /* zeros: what they are does not matter here */
    while (n > 0) {
        ssize_t w = write(fd, buf, n < sizeof(buf) ? n : sizeof(buf));
        if (w <= 0) {
            perror("write");
            exit(1);
        }
        n -= (size_t)w;
    }
}

/* Runs the loop without waiting until the reader holds want bytes (or nothing more comes). */
static void
turn(struct ev_loop *loop, struct counter *c, size_t want)
{
    for (int i = 0; i < 64 && c->bytes < want; i++) {
        ev_run(loop, EVRUN_NOWAIT);
    }
}

/* Waits in the loop until the reader's rest, if any, is over. */
static void
rest_over(struct ev_loop *loop, struct counter *c)
{
    for (int i = 0; i < 1000 && c->rd.resting; i++) {
        ev_run(loop, EVRUN_ONCE);
    }
}

/* Waits in the loop (no busy turning) until the rest is over and the reader has want bytes. */
static void
wait_for(struct ev_loop *loop, struct counter *c, size_t want)
{
    for (int i = 0; i < 1000 && c->bytes < want; i++) {
        ev_run(loop, EVRUN_ONCE);
    }
}

int
main(void)
{
    /* the rule itself, without a clock */
    TAP_OK(child_rest_due(CHILD_PIPE_DEFAULT, CHILD_READ_SIZE, true, 5),
           "a big chunk from a grown pipe rests, however long since the last");
    TAP_OK(!child_rest_due(CHILD_PIPE_DEFAULT, CHILD_READ_SIZE, false, 0),
           "a big chunk from a pipe not grown does not");
    TAP_OK(!child_rest_due(CHILD_READ_SIZE, CHILD_READ_SIZE, true, 0),
           "nor a chunk as big as a read takes");
    TAP_OK(!child_rest_due(100, CHILD_READ_SIZE, true, 1), "a line now and then does not rest");
    TAP_OK(child_rest_due(4096, CHILD_READ_SIZE, false, CHILD_STREAM_S / 10),
           "small chunks that stream rest");
    TAP_OK(!child_rest_due(4096, CHILD_READ_SIZE, false, -0.5),
           "a clock that stepped back says nothing of streaming");

    struct ev_loop *loop = ev_default_loop(0);
    int fds[2];
    if (child_pipe(fds, 0) < 0) {
        perror("pipe");
        return 1;
    }
    struct counter *c = calloc(1, sizeof(*c));
    child_reader_init(&c->rd, loop, count_data, count_eof, c);
    child_reader_start(&c->rd, fds[0]);

    /* a full default pipe: grown, and read again at once */
    fill(fds[1], CHILD_PIPE_DEFAULT);
    turn(loop, c, CHILD_PIPE_DEFAULT);
    TAP_OK(c->bytes == CHILD_PIPE_DEFAULT, "the full default pipe is read in one chunk");
    TAP_OK(c->rd.grown && c->rd.big, "and then grown");
    TAP_OK(!c->rd.resting && ev_is_active(&c->rd.io), "a pipe found full does not rest");

    /* a small chunk long after the last does not rest */
    c->rd.last_chunk = ev_now(loop) - 1;
    fill(fds[1], 100);
    turn(loop, c, CHILD_PIPE_DEFAULT + 100);
    TAP_OK(c->bytes == CHILD_PIPE_DEFAULT + 100 && !c->rd.resting, "a small chunk does not rest");

    /* a big chunk that empties the grown pipe rests; what comes meanwhile waits, then arrives */
    rest_over(loop, c);
    size_t total = c->bytes + 128 * 1024;
    fill(fds[1], 128 * 1024);
    turn(loop, c, total);
    TAP_OK(c->bytes == total, "a big chunk is read whole");
    TAP_OK(c->rd.resting && !ev_is_active(&c->rd.io), "and the reader rests after it");
    fill(fds[1], 10);
    wait_for(loop, c, total + 10);
    TAP_OK(c->bytes == total + 10, "bytes written during the rest arrive when it is over");
    rest_over(loop, c); /* those ten bytes came soon after the chunk before: they may rest */
    TAP_OK(!c->rd.resting && ev_is_active(&c->rd.io), "the reader is watched again");

    /* a chunk as big as a read takes does not rest: the pipe may hold more */
    total = c->bytes + CHILD_READ_SIZE + 1000;
    fill(fds[1], CHILD_READ_SIZE + 1000);
    ev_run(loop, EVRUN_NOWAIT);
    TAP_OK(!c->rd.resting, "a chunk of a whole read does not rest");
    turn(loop, c, total);
    TAP_OK(c->bytes == total, "and the rest of the pipe follows at once");

    /* paused while resting: the end of the rest does not watch it again; resume does */
    rest_over(loop, c);
    total = c->bytes + 100 * 1024;
    fill(fds[1], 100 * 1024);
    turn(loop, c, total);
    TAP_OK(c->rd.resting, "resting again after a big chunk");
    child_reader_pause(&c->rd);
    fill(fds[1], 10);
    for (int i = 0; i < 1000 && c->rd.resting; i++) {
        ev_run(loop, EVRUN_ONCE); /* until the rest ends */
    }
    ev_run(loop, EVRUN_NOWAIT);
    TAP_OK(!c->rd.resting && !ev_is_active(&c->rd.io) && c->bytes == total,
           "a paused reader stays paused when its rest ends");
    child_reader_resume(&c->rd);
    turn(loop, c, total + 10);
    TAP_OK(c->bytes == total + 10, "and reads on when resumed");

    /* closed and freed while resting: the end of the rest does not touch it (ASan checks) */
    rest_over(loop, c);
    fill(fds[1], 100 * 1024);
    turn(loop, c, c->bytes + 100 * 1024);
    TAP_OK(c->rd.resting, "resting before the close");
    child_reader_close(&c->rd);
    TAP_OK(!c->rd.resting && !child_reader_open(&c->rd), "closing ends the rest");
    free(c);
    ev_run(loop, EVRUN_NOWAIT);
    struct counter *d = calloc(1, sizeof(*d));
    int fds2[2];
    child_pipe(fds2, 0);
    child_reader_init(&d->rd, loop, count_data, count_eof, d);
    child_reader_start(&d->rd, fds2[0]);
    fill(fds2[1], 10);
    wait_for(loop, d, 10);
    TAP_OK(d->bytes == 10, "the loop goes on after a resting reader was freed");
    child_reader_close(&d->rd);
    free(d);
    close(fds[1]);
    close(fds2[1]);
    ev_loop_destroy(loop);
    return tap_done();
}
