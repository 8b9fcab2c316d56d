/* feed.c - non-blocking writes into a program's stdin pipe with a bounded buffer behind it.
 * The write end is O_NONBLOCK (tend's side only); the child gets the read end as fd 0. */
#include "feed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static void feed_flush(struct feed *f);

static void feed_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    feed_flush(w->data);
}

static int feed_open(struct feed *f)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        return -1;
    }
    fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    f->rfd = fds[0];
    f->wfd = fds[1];
    f->eof_requested = false;
    ev_io_set(&f->watcher, f->wfd, EV_WRITE);
    return 0;
}

struct feed *feed_new(struct ev_loop *loop, const char *name)
{
    struct feed *f = xcalloc(1, sizeof(*f));
    f->loop = loop;
    f->name = xstrdup(name);
    f->rfd = f->wfd = -1;
    ev_init(&f->watcher, feed_cb);
    f->watcher.data = f;
    return f;
}

static void feed_close(struct feed *f)
{
    ev_io_stop(f->loop, &f->watcher);
    if (f->wfd >= 0) {
        close(f->wfd);
    }
    if (f->rfd >= 0) {
        close(f->rfd);
    }
    f->rfd = f->wfd = -1;
}

void feed_free(struct feed *f)
{
    if (!f) {
        return;
    }
    feed_close(f);
    free(f->pending);
    free(f->name);
    free(f);
}

int feed_reader_fd(struct feed *f)
{
    if (f->rfd < 0) {
        f->pending_len = 0;
        if (feed_open(f) < 0) {
            return -1;
        }
    }
    return f->rfd;
}

static void feed_flush(struct feed *f)
{
    while (f->pending_len > 0 && f->wfd >= 0) {
        ssize_t n = write(f->wfd, f->pending, f->pending_len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            if (errno != EAGAIN) {
                /* nobody can read any more: what is queued is lost */
                f->dropped += f->pending_len;
                f->pending_len = 0;
            }
            break;
        }
        f->bytes += (uint64_t)n;
        memmove(f->pending, f->pending + n, f->pending_len - (size_t)n);
        f->pending_len -= (size_t)n;
    }
    if (f->pending_len > 0 && f->wfd >= 0) {
        if (!ev_is_active(&f->watcher)) {
            ev_io_start(f->loop, &f->watcher);
        }
        return;
    }
    ev_io_stop(f->loop, &f->watcher);
    if (f->eof_requested && f->wfd >= 0) {
        /* the reader sees end of input; its next start gets a fresh pipe */
        close(f->wfd);
        f->wfd = -1;
        close(f->rfd);
        f->rfd = -1;
    }
}

static void feed_queue(struct feed *f, const char *buf, size_t n)
{
    f->pending = xrealloc(f->pending, f->pending_len + n);
    memcpy(f->pending + f->pending_len, buf, n);
    f->pending_len += n;
    feed_flush(f);
}

int feed_write_all(struct feed *f, const char *buf, size_t n)
{
    if (f->eof_requested || feed_reader_fd(f) < 0) {
        errno = EPIPE;
        return -1;
    }
    if (f->pending_len + n > FEED_MAX_PENDING) {
        feed_flush(f);
        if (f->pending_len + n > FEED_MAX_PENDING) {
            errno = EAGAIN;
            return -1;
        }
    }
    feed_queue(f, buf, n);
    return 0;
}

void feed_write_some(struct feed *f, const char *buf, size_t n)
{
    if (f->eof_requested || feed_reader_fd(f) < 0) {
        f->dropped += n;
        return;
    }
    size_t room = FEED_MAX_PENDING > f->pending_len ? FEED_MAX_PENDING - f->pending_len : 0;
    size_t take = n < room ? n : room;
    if (take < n) {
        f->dropped += n - take;
        if (!f->drop_reported) {
            log_warn("%s: stdin buffer full (%d bytes); dropping input (counted in status)",
                     f->name, FEED_MAX_PENDING);
            f->drop_reported = true;
        }
    } else {
        f->drop_reported = false;
    }
    if (take > 0) {
        feed_queue(f, buf, take);
    }
}

void feed_eof(struct feed *f)
{
    f->eof_requested = true;
    feed_flush(f);
}
