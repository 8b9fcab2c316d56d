/* syslog_sink.c - program output to syslog over /dev/log, line by line (see syslog_sink.h).
 * Called by output.c; calls log and util. */
#include "syslog_sink.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define SYSLOG_LINE_MAX 4096    /* a longer line goes out in pieces of this size */
#define SYSLOG_PRI_USER_INFO 14 /* facility user (1) * 8 + severity info (6) */

struct syslog_sink {
    char *tag;
    char *path;
    int fd;          /* -1 until connected */
    time_t next_try; /* monotonic second of the next connection attempt after a failure */
    bool reported;   /* a failure was logged; a successful send clears it */
    uint64_t dropped;
    char line[SYSLOG_LINE_MAX];
    size_t partial;
};

static time_t
syslog_monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

struct syslog_sink *
syslog_sink_new(const char *tag)
{
    struct syslog_sink *s = xcalloc(1, sizeof(*s));
    const char *path = getenv("TEND_SYSLOG_SOCKET");
    s->tag = xstrdup(tag);
    s->path = xstrdup(path && *path ? path : "/dev/log");
    s->fd = -1;
    return s;
}

void
syslog_sink_free(struct syslog_sink *s)
{
    if (!s) {
        return;
    }
    syslog_sink_flush(s);
    if (s->fd >= 0) {
        close(s->fd);
    }
    free(s->tag);
    free(s->path);
    free(s);
}

uint64_t
syslog_sink_dropped(const struct syslog_sink *s)
{
    return s->dropped;
}

static void
syslog_failed(struct syslog_sink *s, int err)
{
    s->dropped++;
    if (!s->reported) {
        log_warn("%s: cannot send output to syslog at %s: %s", s->tag, s->path, strerror(err));
        s->reported = true;
    }
}

static int
syslog_connect(struct syslog_sink *s)
{
    struct sockaddr_un sun = {0};
    sun.sun_family = AF_UNIX;
    if (strlen(s->path) >= sizeof(sun.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sun.sun_path, s->path, strlen(s->path) + 1);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    s->fd = fd;
    return 0;
}

/* One RFC 3164 message, "<14>Dec  3 08:50:03 TAG: text", the format syslog(3) sends. */
static void
syslog_send(struct syslog_sink *s, const char *text, size_t n)
{
    if (s->fd < 0) {
        /* no daemon (yet): try again at most once a second, dropping what comes meanwhile */
        time_t now = syslog_monotonic_seconds();
        if (now < s->next_try) {
            s->dropped++;
            return;
        }
        if (syslog_connect(s) < 0) {
            s->next_try = now + 1;
            syslog_failed(s, errno);
            return;
        }
    }
    char msg[SYSLOG_LINE_MAX + 256];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    size_t len = (size_t)snprintf(msg, sizeof(msg), "<%d>", SYSLOG_PRI_USER_INFO);
    len += strftime(msg + len, sizeof(msg) - len, "%b %e %H:%M:%S ", &tm);
    int w = snprintf(msg + len, sizeof(msg) - len, "%.128s: %.*s", s->tag, (int)n, text);
    len = w > 0 && (size_t)w < sizeof(msg) - len ? len + (size_t)w : sizeof(msg) - 1;
    /* never blocks: a full queue drops the line; a datagram socket raises no SIGPIPE */
    if (send(s->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
        s->reported = false;
        return;
    }
    int err = errno;
    if (err != EAGAIN && err != EWOULDBLOCK && err != ENOBUFS) {
        /* the daemon went away or restarted: connect again next time */
        close(s->fd);
        s->fd = -1;
    }
    syslog_failed(s, err);
}

void
syslog_sink_write(struct syslog_sink *s, const char *buf, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(buf, '\n', n);
        size_t seg = nl ? (size_t)(nl - buf) : n;
        while (seg > 0) {
            if (s->partial == SYSLOG_LINE_MAX) {
                syslog_send(s, s->line, s->partial);
                s->partial = 0;
            }
            size_t take = SYSLOG_LINE_MAX - s->partial;
            if (take > seg) {
                take = seg;
            }
            memcpy(s->line + s->partial, buf, take);
            s->partial += take;
            buf += take;
            n -= take;
            seg -= take;
        }
        if (nl) {
            syslog_send(s, s->line, s->partial);
            s->partial = 0;
            buf++;
            n--;
        }
    }
}

void
syslog_sink_flush(struct syslog_sink *s)
{
    if (s->partial > 0) {
        syslog_send(s, s->line, s->partial);
        s->partial = 0;
    }
}
