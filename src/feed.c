/* feed.c - non-blocking writes into a program's stdin pipe with a bounded buffer behind it,
 * over child.c's writer. The write end is O_NONBLOCK (tend's side only); the child gets the read
 * end as fd 0. Calls child, log and util. */
#include "feed.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* The write end closed (EOF written, or the reader went away): the read end goes too, so the
 * next start of the reader gets a fresh pipe. */
static void
feed_writer_closed(struct child_writer *w)
{
    struct feed *f = w->data;
    if (!child_writer_open(w)) {
        child_close(&f->rfd);
    }
}

struct feed *
feed_new(struct ev_loop *loop, const char *name)
{
    struct feed *f = xcalloc(1, sizeof(*f));
    f->name = xstrdup(name);
    f->rfd = -1;
    child_writer_init(&f->w, loop, feed_writer_closed, feed_writer_closed, f);
    return f;
}

void
feed_free(struct feed *f)
{
    if (!f) {
        return;
    }
    child_writer_free(&f->w);
    child_close(&f->rfd);
    free(f->name);
    free(f);
}

int
feed_reader_fd(struct feed *f)
{
    if (f->rfd < 0) {
        int fds[2];
        child_writer_close(&f->w);
        if (child_pipe(fds, 1) < 0) {
            return -1;
        }
        f->rfd = fds[0];
        child_writer_start(&f->w, fds[1]);
    }
    return f->rfd;
}

static void
feed_queue(struct feed *f, const char *buf, size_t n)
{
    child_writer_push(&f->w, buf, n);
    feed_writer_closed(&f->w);
}

int
feed_write_all(struct feed *f, const char *buf, size_t n)
{
    if (f->w.eof_requested || feed_reader_fd(f) < 0) {
        errno = EPIPE;
        return -1;
    }
    if (child_writer_queued(&f->w) + n > FEED_MAX_PENDING) {
        errno = EAGAIN;
        return -1;
    }
    feed_queue(f, buf, n);
    return 0;
}

void
feed_write_some(struct feed *f, const char *buf, size_t n)
{
    if (f->w.eof_requested || feed_reader_fd(f) < 0) {
        f->overflowed += n;
        return;
    }
    size_t queued = child_writer_queued(&f->w);
    size_t room = FEED_MAX_PENDING > queued ? FEED_MAX_PENDING - queued : 0;
    size_t take = n < room ? n : room;
    if (take < n) {
        f->overflowed += n - take;
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

void
feed_eof(struct feed *f)
{
    child_writer_eof(&f->w);
    feed_writer_closed(&f->w);
}

uint64_t
feed_bytes(const struct feed *f)
{
    return f->w.bytes;
}

uint64_t
feed_dropped(const struct feed *f)
{
    return f->overflowed + f->w.dropped;
}
