/* child.c - the child engine: spawning with pipes, reading output with back-pressure, feeding
 * stdin. Used by supervise (up), oneshot and batch (run); calls spawn and util only. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

int
child_pipe(int fds[2], int tends_end)
{
    if (pipe2(fds, O_CLOEXEC) < 0) {
        fds[0] = fds[1] = -1;
        return -1;
    }
    if (tends_end < 0) {
        return 0;
    }
    int flags = fcntl(fds[tends_end], F_GETFL);
    fcntl(fds[tends_end], F_SETFL, flags | O_NONBLOCK);
    return 0;
}

void
child_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

int
child_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, -1);
        } else if (n < 0 && errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

/* ---- spawning with pipes ---- */

int
child_spawn(struct spawn_request *req, const struct child_stdio *io, pid_t *pid, int *out_rd,
            int *err_rd, struct spawn_error *e)
{
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    *out_rd = *err_rd = -1;
    if ((io->out_to < 0 && child_pipe(out, 0) < 0) ||
        (!io->merge_stderr && io->err_to < 0 && child_pipe(err, 0) < 0)) {
        e->step = "create pipes for";
        e->err = errno;
        e->what = xstrdup(req->argv && req->argv[0] ? req->argv[0] : "");
        child_close(&out[0]);
        child_close(&out[1]);
        return -1;
    }
    int fd1 = io->out_to >= 0 ? io->out_to : out[1];
    req->map[req->nmap].src = fd1;
    req->map[req->nmap++].target = 1;
    req->map[req->nmap].src = io->merge_stderr ? fd1 : io->err_to >= 0 ? io->err_to : err[1];
    req->map[req->nmap++].target = 2;
    req->new_process_group = true;
    int rc = spawn_child(req, pid, e);
    child_close(&out[1]);
    child_close(&err[1]);
    if (rc < 0) {
        child_close(&out[0]);
        child_close(&err[0]);
        return -1;
    }
    *out_rd = out[0];
    *err_rd = err[0];
    return 0;
}

/* ---- reading ---- */

/* A read or splice that took a whole default pipe found it full: the writer is faster than
 * one chunk per wakeup, so give it room (silently kept small where the kernel refuses). */
static void
child_reader_grow(struct child_reader *r, size_t n)
{
    if (!r->grown && n >= CHILD_PIPE_DEFAULT) {
        r->grown = true;
        r->big = fcntl(r->fd, F_SETPIPE_SZ, CHILD_PIPE_GROWN) >= CHILD_PIPE_GROWN;
    }
}

/* ---- resting after a big chunk, or among small ones that stream ----
 * A reader that keeps up with a fast writer copies each cache line just after the writer's
 * core wrote it, while it is still dirty in that core's cache, and the transfer between cores
 * makes its copy about twice as dear as one a little later (perf: memcpy; 0.57 → 0.25-0.33 CPU
 * s per GB for `head -c 1G /dev/zero` into a log file). So a reader whose chunk was big and
 * still emptied its grown pipe stops watching for CHILD_REST_NS, while the writer fills it
 * further. So does a reader of small chunks that come less than CHILD_STREAM_S apart: without
 * it, a program writing 100-byte lines as fast as it can wakes tend for each one (200 MB of
 * them: ~200,000 wakeups and 0.5 CPU s; with it ~9,000 and 0.15 s). A pipe found full is read
 * again at once, and a line now and then (a program talking to a person) never waits. One
 * timerfd serves every resting reader: libev's timers have millisecond steps, and a
 * millisecond would let a fast writer fill 1 MiB and block. */
static struct {
    struct ev_loop *loop; /* the loop of the first reader that rested; others never rest */
    ev_io io;             /* the timerfd */
    bool armed;
    struct child_reader **v;
    size_t n, cap;
} child_rest;

static void
child_rest_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    uint64_t ticks;
    while (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno == EINTR) {
    }
    child_rest.armed = false;
    ev_io_stop(loop, w);
    for (size_t i = 0; i < child_rest.n; i++) {
        struct child_reader *r = child_rest.v[i];
        r->resting = false;
        if (r->fd >= 0 && !r->paused) {
            ev_io_start(r->loop, &r->io);
        }
    }
    child_rest.n = 0;
}

static bool
child_rest_ready(struct ev_loop *loop)
{
    if (child_rest.loop) {
        return child_rest.loop == loop;
    }
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) {
        return false; /* EMFILE and the like: this reader does not rest */
    }
    child_rest.loop = loop;
    ev_io_init(&child_rest.io, child_rest_cb, fd, EV_READ); /* watched while armed */
    return true;
}

/* Stops watching r until the timer fires; false (r still watched) when it cannot rest. */
static bool
child_reader_rest(struct child_reader *r)
{
    if (!child_rest_ready(r->loop)) {
        return false;
    }
    if (!child_rest.armed) {
        struct itimerspec t = {.it_value = {.tv_nsec = CHILD_REST_NS}};
        if (timerfd_settime(child_rest.io.fd, 0, &t, NULL) < 0) {
            return false;
        }
        child_rest.armed = true;
        ev_io_start(r->loop, &child_rest.io);
    }
    if (child_rest.n == child_rest.cap) {
        child_rest.cap = child_rest.cap ? 2 * child_rest.cap : 16;
        child_rest.v = xrealloc(child_rest.v, child_rest.cap * sizeof(*child_rest.v));
    }
    child_rest.v[child_rest.n++] = r;
    r->resting = true;
    ev_io_stop(r->loop, &r->io);
    return true;
}

/* r leaves the resting list (it is closed, or watched again by someone else). */
static void
child_reader_wake(struct child_reader *r)
{
    if (!r->resting) {
        return;
    }
    r->resting = false;
    for (size_t i = 0; i < child_rest.n; i++) {
        if (child_rest.v[i] == r) {
            child_rest.v[i] = child_rest.v[--child_rest.n];
            break;
        }
    }
}

bool
child_rest_due(size_t n, size_t most, bool big, double gap)
{
    if (n >= most) {
        return false; /* the pipe may hold more */
    }
    if (n >= CHILD_PIPE_DEFAULT) {
        return big; /* a chunk that filled the default pipe says nothing of the grown one */
    }
    return gap >= 0 && gap < CHILD_STREAM_S;
}

/* After a chunk of n bytes, where a read or splice takes at most most. */
static void
child_reader_after(struct child_reader *r, size_t n, size_t most, bool may_rest)
{
    bool big = r->big; /* as it was before this chunk grew the pipe */
    ev_tstamp now = ev_now(r->loop), gap = now - r->last_chunk;
    r->last_chunk = now;
    child_reader_grow(r, n);
    if (may_rest && !r->paused && child_rest_due(n, most, big, gap)) {
        child_reader_rest(r);
    }
}

/* One chunk: spliced where the reader can, read otherwise. > 0 bytes, 0 EOF, -1 errno. The
 * reader may rest after it (not while draining: that reads on until the pipe is empty). */
static ssize_t
child_reader_take(struct child_reader *r, char *buf, size_t size, bool may_rest)
{
    if (r->on_splice) {
        ssize_t n = r->on_splice(r);
        if (n >= 0 || errno == EAGAIN || errno == EINTR) {
            if (n > 0) {
                child_reader_after(r, (size_t)n, CHILD_PIPE_GROWN, may_rest);
            }
            return n;
        }
    }
    ssize_t n = read(r->fd, buf, size);
    if (n > 0) {
        child_reader_after(r, (size_t)n, size, may_rest);
        r->on_data(r, buf, (size_t)n); /* last: it may free r */
    }
    return n;
}

static void
child_reader_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    struct child_reader *r = (struct child_reader *)w;
    char buf[CHILD_READ_SIZE];
    /* one chunk per wakeup: a chatty child cannot starve the other pipes */
    ssize_t n = child_reader_take(r, buf, sizeof(buf), true);
    if (n > 0) {
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    r->read_errno = n < 0 ? errno : 0;
    /* level-triggered: a watcher left on an fd at EOF would spin the loop */
    child_reader_close(r);
    if (r->on_eof) {
        r->on_eof(r); /* last: the callback may free r */
    }
}

void
child_reader_init(struct child_reader *r, struct ev_loop *loop, child_data_fn on_data,
                  child_eof_fn on_eof, void *data)
{
    memset(r, 0, sizeof(*r));
    r->loop = loop;
    r->fd = -1;
    r->on_data = on_data;
    r->on_eof = on_eof;
    r->data = data;
    ev_init(&r->io, child_reader_cb);
}

void
child_reader_start(struct child_reader *r, int fd)
{
    child_reader_wake(r);
    r->fd = fd;
    r->paused = false;
    r->grown = false;
    r->big = false;
    r->last_chunk = 0;
    r->read_errno = 0;
    ev_io_set(&r->io, fd, EV_READ); /* again for a new fd, even when the number is reused */
    ev_io_start(r->loop, &r->io);
}

bool
child_reader_open(const struct child_reader *r)
{
    return r->fd >= 0;
}

void
child_reader_pause(struct child_reader *r)
{
    ev_io_stop(r->loop, &r->io);
    r->paused = r->fd >= 0;
}

void
child_reader_resume(struct child_reader *r)
{
    if (r->fd >= 0 && r->paused) {
        r->paused = false;
        ev_io_start(r->loop, &r->io);
    }
}

void
child_reader_drain(struct child_reader *r, size_t max_bytes)
{
    char buf[CHILD_READ_SIZE];
    size_t total = 0;
    while (total < max_bytes && r->fd >= 0) {
        ssize_t n = child_reader_take(r, buf, sizeof(buf), false);
        if (n > 0) {
            total += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            break; /* EOF, EAGAIN (a grandchild still holds the pipe) or an error */
        }
    }
}

void
child_reader_close(struct child_reader *r)
{
    child_reader_wake(r);
    if (r->fd >= 0) {
        ev_io_stop(r->loop, &r->io); /* before close: the number may be reused at once */
        child_close(&r->fd);
    }
    r->paused = false;
}

/* ---- writing ---- */

size_t
child_writer_queued(const struct child_writer *w)
{
    return w->pending.len - w->off;
}

static void
child_writer_drop(struct child_writer *w)
{
    w->dropped += child_writer_queued(w);
    strbuf_reset(&w->pending);
    w->off = 0;
    child_writer_close(w);
}

/* Writes from the queue as long as the pipe takes it. 1: all written; 0: the pipe is full;
 * -1: the reader is gone (queue dropped, fd closed). */
static int
child_writer_flush(struct child_writer *w)
{
    while (child_writer_queued(w) > 0) {
        ssize_t n = write(w->fd, w->pending.buf + w->off, child_writer_queued(w));
        if (n > 0) {
            w->off += (size_t)n;
            w->bytes += (uint64_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno != EAGAIN) {
            child_writer_drop(w);
            return -1;
        } else {
            return 0;
        }
    }
    strbuf_reset(&w->pending);
    w->off = 0;
    ev_io_stop(w->loop, &w->io);
    if (w->eof_requested) {
        child_writer_close(w);
    }
    return 1;
}

static void
child_writer_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)loop;
    (void)revents;
    struct child_writer *w = (struct child_writer *)io;
    int rc = child_writer_flush(w);
    if (rc < 0 && w->on_gone) {
        w->on_gone(w);
    } else if (rc > 0 && w->on_drained) {
        w->on_drained(w);
    }
}

void
child_writer_init(struct child_writer *w, struct ev_loop *loop, child_writer_fn on_drained,
                  child_writer_fn on_gone, void *data)
{
    memset(w, 0, sizeof(*w));
    w->loop = loop;
    w->fd = -1;
    strbuf_init(&w->pending);
    w->on_drained = on_drained;
    w->on_gone = on_gone;
    w->data = data;
    ev_init(&w->io, child_writer_cb);
}

void
child_writer_start(struct child_writer *w, int fd)
{
    w->fd = fd;
    w->eof_requested = false;
    ev_io_set(&w->io, fd, EV_WRITE);
}

bool
child_writer_open(const struct child_writer *w)
{
    return w->fd >= 0;
}

int
child_writer_push(struct child_writer *w, const char *buf, size_t n)
{
    if (w->fd < 0) {
        return -1;
    }
    while (n > 0 && child_writer_queued(w) == 0) {
        ssize_t k = write(w->fd, buf, n);
        if (k > 0) {
            buf += k;
            n -= (size_t)k;
            w->bytes += (uint64_t)k;
        } else if (k < 0 && errno == EINTR) {
            continue;
        } else if (k < 0 && errno != EAGAIN) {
            w->dropped += n;
            child_writer_drop(w);
            return -1;
        } else {
            break;
        }
    }
    if (n > 0) {
        strbuf_add(&w->pending, buf, n);
        ev_io_start(w->loop, &w->io);
    }
    return 0;
}

void
child_writer_eof(struct child_writer *w)
{
    w->eof_requested = true;
    if (w->fd >= 0 && child_writer_queued(w) == 0) {
        child_writer_close(w);
    }
}

void
child_writer_close(struct child_writer *w)
{
    ev_io_stop(w->loop, &w->io);
    child_close(&w->fd);
    strbuf_reset(&w->pending);
    w->off = 0;
}

void
child_writer_free(struct child_writer *w)
{
    child_writer_close(w);
    strbuf_free(&w->pending);
}
