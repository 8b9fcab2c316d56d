/* filefollow.c - a file another process appends to, followed through inotify: each change
 * wakes the loop once, the bytes past what was read are read and handed on. Calls util. */
#include "filefollow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define FOLLOW_CHUNK (64 * 1024)
#define FOLLOW_MAX_PER_WAKE (1024 * 1024) /* then the loop runs once before the rest */

struct file_follow {
    struct ev_loop *loop;
    int fd;     /* the file, read-only */
    int notify; /* the inotify instance watching it */
    ev_io watcher;
    off_t offset; /* bytes already handed on */
    file_follow_fn fn;
    void *arg;
    char *buf;
};

/* Reads what was appended since the last call, up to a bound; true when more is left. */
static bool
file_follow_read(struct file_follow *f)
{
    struct stat st;
    if (fstat(f->fd, &st) == 0 && st.st_size < f->offset) {
        f->offset = 0; /* truncated (copytruncate, a cleared log): what is there now is new */
    }
    size_t total = 0;
    while (total < FOLLOW_MAX_PER_WAKE) {
        ssize_t n = pread(f->fd, f->buf, FOLLOW_CHUNK, f->offset);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        f->offset += n;
        total += (size_t)n;
        f->fn(f->arg, f->buf, (size_t)n);
    }
    return true;
}

static void
file_follow_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    struct file_follow *f = w->data;
    /* the events themselves say nothing the file's size does not: empty the queue */
    char events[4096];
    while (read(f->notify, events, sizeof(events)) > 0) {
    }
    if (file_follow_read(f)) {
        ev_feed_event(loop, w, EV_READ); /* the rest after the loop's other watchers */
    }
}

struct file_follow *
file_follow_new(struct ev_loop *loop, const char *path, file_follow_fn fn, void *arg)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return NULL;
    }
    int notify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    /* IN_MODIFY covers write(2) and truncate(2); the watch follows the inode when the file is
     * renamed, as the writer does */
    if (notify < 0 || inotify_add_watch(notify, path, IN_MODIFY) < 0) {
        int saved = errno;
        if (notify >= 0) {
            close(notify);
        }
        close(fd);
        errno = saved;
        return NULL;
    }
    struct file_follow *f = xcalloc(1, sizeof(*f));
    f->loop = loop;
    f->fd = fd;
    f->notify = notify;
    f->fn = fn;
    f->arg = arg;
    f->buf = xmalloc(FOLLOW_CHUNK);
    struct stat st;
    f->offset = fstat(fd, &st) == 0 ? st.st_size : 0;
    ev_io_init(&f->watcher, file_follow_cb, notify, EV_READ);
    f->watcher.data = f;
    ev_io_start(loop, &f->watcher);
    return f;
}

void
file_follow_free(struct file_follow *f)
{
    if (!f) {
        return;
    }
    ev_io_stop(f->loop, &f->watcher);
    close(f->notify);
    close(f->fd);
    free(f->buf);
    free(f);
}
