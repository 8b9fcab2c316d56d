/* output.c - a program's output: log files with supervisord's exact size rotation, the prefixed
 * console, the ring buffer for `tend logs`, and the pipe readers that feed them (child.c's
 * reader). Calls child, log and util. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "filefollow.h"
#include "log.h"
#include "syslog_sink.h"
#include "util.h"

#define OUTPUT_LINE_MAX 8192   /* a longer console line is cut into pieces of this size */
#define OUTPUT_SPLICE_MAX CHILD_PIPE_GROWN /* at most one grown pipe per splice */
#define OUTPUT_LINE_FIRST 128  /* first allocation of a console line; grows to the maximum */

/* What only the console, the ring, stdout_timestamps and strip_ansi need: allocated for the
 * sinks that use one of them (a log-file sink, the common case, has none of it). */
struct sink_text {
    /* the console: line holds the prefix, then the partial line, then room for '\n' */
    char *prefix;
    size_t prefix_len;
    char *line;
    size_t line_cap;
    size_t partial;
    bool console_reported;
    uint64_t console_errors;

    /* the ring: head is where the next byte goes */
    char *ring;
    size_t ring_head;
    size_t ring_len;

    /* stdout_timestamps: lines get a time in front; the buffer is reused for every chunk */
    bool mid_line;
    struct strbuf stamped;

    /* strip_ansi: where an escape sequence cut by a chunk boundary stands; buffer reused */
    enum { ANSI_TEXT, ANSI_ESC, ANSI_CSI, ANSI_OSC } ansi;
    struct strbuf stripped;
};

struct output_sink {
    char *name;
    const char *stream; /* a literal of the caller's */
    char *path; /* NULL: no log file */
    int64_t maxbytes;
    int backups;
    bool console;
    size_t ring_size;

    /* the log file */
    int fd;                 /* -1 while there is no open file */
    bool regular;           /* a regular file: rotation is possible */
    bool nonregular_logged; /* "rotation is off" was said once */
    bool reported;          /* a failure was logged; a success or a reopen clears it */
    int open_errno;         /* why the last open failed, for the writes that follow */
    time_t next_open;       /* monotonic second of the next automatic open attempt */
    int64_t size;
    bool append_off; /* O_APPEND cleared on fd for splice(2), which refuses append-only files */
    bool no_splice;  /* the file's filesystem cannot splice: read and write */
    uint64_t bytes;
    uint64_t write_errors;

    bool timestamps; /* stdout_timestamps */
    bool strip_ansi;
    /* stdout/stderr_logfile_direct: the program writes the file; followers read it there */
    bool direct;
    struct ev_loop *loop;
    struct file_follow *follow; /* while the sink has listeners */
    struct sink_text *t; /* NULL unless console, ring, timestamps or strip_ansi is on */
    struct syslog_sink *syslog; /* stdout_syslog / stderr_syslog, or NULL */

    /* followers (tend logs -f): each gets every chunk as it arrives */
    struct output_listener {
        output_listener_fn fn;
        void *arg;
    } *listeners;
    size_t nlisteners;
};

struct output_pipe {
    struct child_reader rd; /* child.c reads; the pipe owns its fd */
    struct output_sink *sink;
    void (*eof_cb)(struct output_pipe *p, void *data);
    void *eof_data;
};

static time_t
output_monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* Writes all of buf, resuming after short writes and EINTR. Returns the bytes written; *err
 * gets the errno that stopped it, or 0. */
static size_t
output_write_all(int fd, const char *buf, size_t n, int *err)
{
    size_t done = 0;
    *err = 0;
    while (done < n) {
        ssize_t w = write(fd, buf + done, n - done);
        if (w > 0) {
            done += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else {
            /* write(2) returning 0 for a non-empty buffer would otherwise spin */
            *err = w < 0 ? errno : EIO;
            break;
        }
    }
    return done;
}

/* ---- the log file ---- */

static void
output_file_close(struct output_sink *s)
{
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

/* Opens the path for appending (truncating when asked); -1 with errno on failure. */
static int
output_file_open(struct output_sink *s, bool truncate)
{
    /* O_NONBLOCK: opening a FIFO without a reader must not hang tend, and a full pipe or tty
     * drops data instead of stopping the supervisor (no effect on regular files). O_NOCTTY: a
     * tty as log target must not become tend's controlling terminal. */
    int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    if (truncate) {
        flags |= O_TRUNC;
    }
    int fd = open(s->path, flags, 0644);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) < 0) {
        int saved = errno;
        close(fd);
        fd = -1;
        errno = saved;
    }
    if (fd < 0) {
        s->open_errno = errno;
        s->next_open = output_monotonic_seconds() + 1;
        return -1;
    }
    s->fd = fd;
    s->append_off = false;
    s->no_splice = false;
    s->regular = S_ISREG(st.st_mode);
    s->size = s->regular ? (int64_t)st.st_size : 0;
    if (!s->regular && s->maxbytes > 0 && !s->nonregular_logged) {
        log_info("%s: %s log %s is not a regular file: rotation is off", s->name, s->stream,
                 s->path);
        s->nonregular_logged = true;
    }
    return 0;
}

/* Counts a failed write (its data is dropped) and logs the first of a series. */
static void
output_file_failed(struct output_sink *s, int err)
{
    s->write_errors++;
    if (!s->reported) {
        log_error("%s: cannot write %s log %s: %s", s->name, s->stream, s->path, strerror(err));
        s->reported = true;
    }
}

/* supervisord's scheme: file.N goes, file.i becomes file.(i+1), file becomes file.1, and a new
 * file is opened; with no backups the file is truncated instead. -1 with errno on failure. */
static int
output_file_rotate(struct output_sink *s)
{
    if (s->backups > 0) {
        char *dst = xasprintf("%s.%d", s->path, s->backups);
        unlink(dst);
        for (int i = s->backups - 1; i >= 1; i--) {
            char *src = xasprintf("%s.%d", s->path, i);
            /* a backup that cannot move costs one old file, not the live log: go on */
            rename(src, dst);
            free(dst);
            dst = src;
        }
        /* ENOENT: someone removed the live file; there is nothing to keep, as supervisord */
        if (rename(s->path, dst) < 0 && errno != ENOENT) {
            int saved = errno;
            free(dst);
            errno = saved;
            return -1;
        }
        free(dst);
    }
    output_file_close(s);
    return output_file_open(s, s->backups == 0);
}

/* Sets O_APPEND again after splicing: other writers of the same file (stderr into the stdout
 * log, a second program, logrotate's copytruncate) must not be overwritten. */
static void
output_file_append(struct output_sink *s)
{
    if (s->fd >= 0 && s->append_off) {
        int flags = fcntl(s->fd, F_GETFL);
        if (flags >= 0 && fcntl(s->fd, F_SETFL, flags | O_APPEND) == 0) {
            s->append_off = false;
        }
    }
}

static void
output_file_write(struct output_sink *s, const char *buf, size_t n)
{
    output_file_append(s);
    while (n > 0) {
        if (s->fd < 0) {
            /* retry an open that failed (a directory created later, EMFILE gone), at most once
             * a second so a chatty program does not turn into a stream of failing opens */
            if (output_monotonic_seconds() < s->next_open || output_file_open(s, false) < 0) {
                output_file_failed(s, s->open_errno);
                return;
            }
        }
        size_t take = n;
        bool rotate = false;
        if (s->regular && s->maxbytes > 0 && (uint64_t)s->size + n > (uint64_t)s->maxbytes) {
            /* fill the file up to maxbytes exactly, then rotate and go on with the rest */
            take = s->size < s->maxbytes ? (size_t)(s->maxbytes - s->size) : 0;
            rotate = true;
        }
        if (take > 0) {
            int err;
            size_t w = output_write_all(s->fd, buf, take, &err);
            s->size += (int64_t)w;
            if (err) {
                output_file_failed(s, err);
                return;
            }
            s->reported = false;
            buf += take;
            n -= take;
        }
        /* a failed rotation drops the rest rather than grow the file past maxbytes */
        if (rotate && output_file_rotate(s) < 0) {
            output_file_failed(s, errno);
            return;
        }
    }
}

/* ---- the console ---- */

/* Makes room for need bytes in the line buffer, which grows on demand up to one full line. */
static void
output_line_reserve(struct output_sink *s, size_t need)
{
    if (need <= s->t->line_cap) {
        return;
    }
    size_t max = s->t->prefix_len + OUTPUT_LINE_MAX + 1;
    size_t cap = s->t->line_cap ? s->t->line_cap : OUTPUT_LINE_FIRST;
    while (cap < need) {
        cap *= 2;
    }
    if (cap > max) {
        cap = max;
    }
    bool fresh = s->t->line == NULL;
    s->t->line = xrealloc(s->t->line, cap);
    s->t->line_cap = cap;
    if (fresh) {
        memcpy(s->t->line, s->t->prefix, s->t->prefix_len);
    }
}

/* Writes the prefix, the partial line and a newline with one write(2), so that lines of
 * different programs never mix; a failure drops the line. */
static void
output_console_emit(struct output_sink *s)
{
    output_line_reserve(s, s->t->prefix_len + s->t->partial + 1);
    size_t len = s->t->prefix_len + s->t->partial;
    s->t->line[len++] = '\n';
    s->t->partial = 0;
    int err;
    output_write_all(STDOUT_FILENO, s->t->line, len, &err);
    if (!err) {
        s->t->console_reported = false;
        return;
    }
    s->t->console_errors++;
    if (!s->t->console_reported) {
        log_error("%s: cannot write %s to the console: %s", s->name, s->stream, strerror(err));
        s->t->console_reported = true;
    }
}

static void
output_console_write(struct output_sink *s, const char *buf, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(buf, '\n', n);
        size_t seg = nl ? (size_t)(nl - buf) : n;
        while (seg > 0) {
            /* emitted only when more bytes follow, so a line of exactly the maximum and its
             * newline still make one line */
            if (s->t->partial == OUTPUT_LINE_MAX) {
                output_console_emit(s);
            }
            size_t take = OUTPUT_LINE_MAX - s->t->partial;
            if (take > seg) {
                take = seg;
            }
            output_line_reserve(s, s->t->prefix_len + s->t->partial + take + 1);
            memcpy(s->t->line + s->t->prefix_len + s->t->partial, buf, take);
            s->t->partial += take;
            buf += take;
            n -= take;
            seg -= take;
        }
        if (nl) {
            output_console_emit(s);
            buf++;
            n--;
        }
    }
}

/* "name   | ", the padded name coloured when asked. */
static char *
output_console_prefix(const char *name, int width, int color)
{
    int w = width > 0 ? width : 0;
    if (color > 0 && color < 8) {
        return xasprintf("\033[3%dm%-*s\033[0m | ", color, w, name);
    }
    return xasprintf("%-*s | ", w, name);
}

/* ---- the ring ---- */

static void
output_ring_write(struct output_sink *s, const char *buf, size_t n)
{
    size_t size = s->ring_size;
    if (!s->t->ring) {
        s->t->ring = xmalloc(size); /* on the first write: idle programs cost nothing */
    }
    if (n >= size) {
        memcpy(s->t->ring, buf + (n - size), size);
        s->t->ring_head = 0;
        s->t->ring_len = size;
        return;
    }
    size_t first = size - s->t->ring_head;
    if (first > n) {
        first = n;
    }
    memcpy(s->t->ring + s->t->ring_head, buf, first);
    memcpy(s->t->ring, buf + first, n - first);
    s->t->ring_head = (s->t->ring_head + n) % size;
    s->t->ring_len = s->t->ring_len + n < size ? s->t->ring_len + n : size;
}

char *
output_sink_ring_copy(const struct output_sink *s, size_t *n)
{
    size_t len = s->t ? s->t->ring_len : 0;
    char *out = xmalloc(len + 1);
    if (len > 0) {
        size_t start = (s->t->ring_head + s->ring_size - s->t->ring_len) % s->ring_size;
        size_t first = s->ring_size - start;
        if (first > s->t->ring_len) {
            first = s->t->ring_len;
        }
        memcpy(out, s->t->ring + start, first);
        memcpy(out + first, s->t->ring, s->t->ring_len - first);
    }
    out[len] = '\0';
    *n = len;
    return out;
}

/* ---- the sink ---- */

struct output_sink *
output_sink_new(const struct output_options *o)
{
    struct output_sink *s = xcalloc(1, sizeof(*s));
    s->name = xstrdup(o->name ? o->name : "");
    s->stream = o->stream ? o->stream : "output";
    s->path = o->path ? xstrdup(o->path) : NULL;
    s->maxbytes = o->maxbytes > 0 ? o->maxbytes : 0;
    s->backups = o->backups > 0 ? o->backups : 0;
    s->console = o->console;
    s->ring_size = o->ring_size;
    s->timestamps = o->timestamps;
    s->syslog = o->syslog ? syslog_sink_new(s->name) : NULL;
    s->strip_ansi = o->strip_ansi;
    s->direct = o->direct && s->path;
    s->loop = o->loop;
    if (s->console || s->ring_size > 0 || s->timestamps || s->strip_ansi) {
        s->t = xcalloc(1, sizeof(*s->t));
        strbuf_init(&s->t->stripped);
        strbuf_init(&s->t->stamped);
    }
    s->fd = -1;
    if (s->console) {
        s->t->prefix = output_console_prefix(s->name, o->prefix_width, o->color);
        s->t->prefix_len = strlen(s->t->prefix);
    }
    /* a direct sink's file is opened for each run of the program, by output_sink_open_direct */
    if (s->path && !s->direct && output_file_open(s, false) < 0) {
        log_error("%s: cannot open %s log %s: %s", s->name, s->stream, s->path,
                  strerror(s->open_errno));
        s->reported = true;
    }
    return s;
}

bool
output_sink_direct(const struct output_sink *s)
{
    return s->direct;
}

int
output_sink_open_direct(const struct output_sink *s)
{
    /* O_NONBLOCK only for the open itself: a FIFO without a reader must not hang tend */
    int fd =
        open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0644);
    if (fd < 0) {
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* What the program appended to its direct log, for the followers. */
static void
output_sink_follow_cb(void *arg, const char *buf, size_t n)
{
    struct output_sink *s = arg;
    for (size_t i = 0; i < s->nlisteners; i++) {
        s->listeners[i].fn(s->listeners[i].arg, buf, n);
    }
}

void
output_sink_free(struct output_sink *s)
{
    if (!s) {
        return;
    }
    output_file_close(s);
    file_follow_free(s->follow);
    syslog_sink_free(s->syslog);
    free(s->name);
    free(s->path);
    if (s->t) {
        free(s->t->prefix);
        free(s->t->line);
        free(s->t->ring);
        strbuf_free(&s->t->stamped);
        strbuf_free(&s->t->stripped);
        free(s->t);
    }
    free(s->listeners);
    free(s);
}

void
output_sink_add_listener(struct output_sink *s, output_listener_fn fn, void *arg)
{
    s->listeners = xrealloc(s->listeners, (s->nlisteners + 1) * sizeof(*s->listeners));
    s->listeners[s->nlisteners].fn = fn;
    s->listeners[s->nlisteners].arg = arg;
    s->nlisteners++;
    if (s->direct && !s->follow && s->loop) {
        s->follow = file_follow_new(s->loop, s->path, output_sink_follow_cb, s);
        int fd;
        if (!s->follow && errno == ENOENT && (fd = output_sink_open_direct(s)) >= 0) {
            /* not started yet: the file it will append to, created as its start would */
            close(fd);
            s->follow = file_follow_new(s->loop, s->path, output_sink_follow_cb, s);
        }
        if (!s->follow) {
            log_error("%s: cannot follow %s log %s: %s", s->name, s->stream, s->path,
                      strerror(errno));
        }
    }
}

void
output_sink_remove_listener(struct output_sink *s, void *arg)
{
    for (size_t i = 0; i < s->nlisteners; i++) {
        if (s->listeners[i].arg == arg) {
            s->listeners[i] = s->listeners[--s->nlisteners];
            if (s->nlisteners == 0) {
                file_follow_free(s->follow);
                s->follow = NULL;
            }
            return;
        }
    }
}

/* Copies buf into s->t->stamped with "2026-11-24T00:41:02.123+00:00 " at every line start. */
static void
output_add_timestamps(struct output_sink *s, const char **buf, size_t *n)
{
    char stamp[64];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    size_t len = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff / 60;
    len += (size_t)snprintf(stamp + len, sizeof(stamp) - len, ".%03ld%c%02ld:%02ld ",
                            ts.tv_nsec / 1000000, off < 0 ? '-' : '+', labs(off) / 60,
                            labs(off) % 60);
    strbuf_reset(&s->t->stamped);
    const char *p = *buf, *end = *buf + *n;
    while (p < end) {
        if (!s->t->mid_line) {
            strbuf_add(&s->t->stamped, stamp, len);
        }
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl + 1 : end;
        strbuf_add(&s->t->stamped, p, (size_t)(stop - p));
        s->t->mid_line = !nl;
        p = stop;
    }
    *buf = s->t->stamped.buf;
    *n = s->t->stamped.len;
}

/* Copies buf into s->t->stripped without its escape sequences: CSI (ESC [ ... final byte: colours
 * and cursor moves, what supervisord's strip_ansi removes), OSC (ESC ] ... BEL) and the other
 * ESC sequences, such as ESC ( B. */
static void
output_strip_ansi(struct output_sink *s, const char **buf, size_t *n)
{
    strbuf_reset(&s->t->stripped);
    for (size_t i = 0; i < *n; i++) {
        unsigned char c = (unsigned char)(*buf)[i];
        switch (s->t->ansi) {
        case ANSI_TEXT:
            if (c == 0x1b) {
                s->t->ansi = ANSI_ESC;
            } else {
                strbuf_addc(&s->t->stripped, (char)c);
            }
            break;
        case ANSI_ESC:
            /* ESC, intermediate bytes (0x20-0x2f), a final byte: ECMA-48's escape sequence */
            if (c == '[') {
                s->t->ansi = ANSI_CSI;
            } else if (c == ']') {
                s->t->ansi = ANSI_OSC;
            } else if (c < 0x20 || c > 0x2f) {
                s->t->ansi = ANSI_TEXT;
            }
            break;
        case ANSI_CSI:
            if (c >= 0x40 && c <= 0x7e) {
                s->t->ansi = ANSI_TEXT; /* the final byte ends the sequence */
            }
            break;
        case ANSI_OSC:
            /* a terminal title and the like: ends at BEL, or at ESC \ */
            if (c == 0x07) {
                s->t->ansi = ANSI_TEXT;
            } else if (c == 0x1b) {
                s->t->ansi = ANSI_ESC;
            }
            break;
        }
    }
    *buf = s->t->stripped.buf ? s->t->stripped.buf : "";
    *n = s->t->stripped.len;
}

void
output_sink_write(struct output_sink *s, const char *buf, size_t n)
{
    if (s->strip_ansi) {
        output_strip_ansi(s, &buf, &n);
    }
    if (n == 0) {
        return;
    }
    if (s->syslog) {
        syslog_sink_write(s->syslog, buf, n); /* syslog stamps its messages itself */
    }
    if (s->timestamps) {
        output_add_timestamps(s, &buf, &n);
    }
    s->bytes += n;
    if (s->ring_size > 0) {
        output_ring_write(s, buf, n);
    }
    if (s->path) {
        output_file_write(s, buf, n);
    }
    if (s->console) {
        output_console_write(s, buf, n);
    }
    for (size_t i = 0; i < s->nlisteners; i++) {
        s->listeners[i].fn(s->listeners[i].arg, buf, n);
    }
}

void
output_sink_flush(struct output_sink *s)
{
    if (s->console && s->t->partial > 0) {
        output_console_emit(s);
    }
    if (s->syslog) {
        syslog_sink_flush(s->syslog);
    }
}

void
output_sink_reopen(struct output_sink *s)
{
    if (!s->path || s->direct) {
        return;
    }
    output_file_close(s);
    s->reported = false;
    if (output_file_open(s, false) < 0) {
        log_error("%s: cannot open %s log %s: %s", s->name, s->stream, s->path,
                  strerror(s->open_errno));
        s->reported = true;
    }
}

void
output_sink_rotate(struct output_sink *s)
{
    if (!s->path || s->direct) {
        return;
    }
    /* never rename a device, a FIFO or a symlink to one (/dev/stdout) */
    struct stat st;
    if (s->fd >= 0 ? !s->regular : (stat(s->path, &st) == 0 && !S_ISREG(st.st_mode))) {
        return;
    }
    if (output_file_rotate(s) < 0) {
        int err = errno;
        if (!s->reported) {
            log_error("%s: cannot rotate %s log %s: %s", s->name, s->stream, s->path,
                      strerror(err));
            s->reported = true;
        }
    }
}

uint64_t
output_sink_bytes(const struct output_sink *s)
{
    return s->bytes;
}

uint64_t
output_sink_write_errors(const struct output_sink *s)
{
    return s->write_errors;
}

uint64_t
output_sink_console_errors(const struct output_sink *s)
{
    return s->t ? s->t->console_errors : 0;
}

const char *
output_sink_path(const struct output_sink *s)
{
    return s->path;
}

/* ---- the pipe readers ---- */

/* Only the log file wants the bytes: no copy into tend, nothing that looks at them. Checked per
 * chunk, so a `tend logs -f` follower attaching switches to reading at once. */
static bool
output_sink_splices(const struct output_sink *s)
{
    return s->fd >= 0 && s->regular && !s->no_splice && !s->console && s->ring_size == 0 &&
           !s->timestamps && !s->syslog && !s->strip_ansi && s->nlisteners == 0;
}

/* tend's own pipe between a program's pipe and its log file. Splicing a pipe into a file holds
 * that pipe's lock for the whole copy, and the program's next write waits for it; moving the
 * pages into a second pipe copies nothing and takes the lock for an instant, and the copy into
 * the file then holds the relay's lock, which nobody else wants. One relay serves every sink:
 * it is empty between two chunks. */
static int output_relay[2] = {-1, -1};

static bool
output_relay_ready(void)
{
    if (output_relay[0] >= 0) {
        return true;
    }
    if (pipe2(output_relay, O_CLOEXEC | O_NONBLOCK) < 0) {
        output_relay[0] = output_relay[1] = -1;
        return false; /* EMFILE and the like: this chunk is read and written */
    }
    fcntl(output_relay[0], F_SETPIPE_SZ, OUTPUT_SPLICE_MAX); /* else chunks of the default */
    return true;
}

/* Empties the relay's n bytes into the log file: spliced, or, where the file refuses (a full
 * disk, a filesystem without splice), read back and written by the write path, so every byte
 * taken from the program is written or counted as dropped. */
static void
output_relay_drain(struct output_sink *s, size_t n)
{
    while (n > 0) {
        ssize_t w = splice(output_relay[0], NULL, s->fd, NULL, n, SPLICE_F_MOVE);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            if (w < 0 && errno == EINVAL) {
                s->no_splice = true;
            }
            break;
        }
        n -= (size_t)w;
        s->size += w;
    }
    if (n == 0) {
        s->reported = false;
        return;
    }
    char buf[64 * 1024];
    while (n > 0) {
        ssize_t r = read(output_relay[0], buf, n < sizeof(buf) ? n : sizeof(buf));
        if (r <= 0) {
            /* cannot happen to a pipe holding n bytes; a fresh relay next time, to be sure */
            close(output_relay[0]);
            close(output_relay[1]);
            output_relay[0] = output_relay[1] = -1;
            output_file_failed(s, r < 0 ? errno : EIO);
            return;
        }
        output_file_write(s, buf, (size_t)r);
        n -= (size_t)r;
    }
}

/* Moves a chunk from the pipe into the log file with splice(2): never more than what is left
 * before maxbytes, so rotation stays exact to the byte. Same contract as child_splice_fn. */
static ssize_t
output_sink_splice(struct output_sink *s, int pipe_fd)
{
    size_t len = OUTPUT_SPLICE_MAX;
    if (s->maxbytes > 0) {
        if (s->size >= s->maxbytes) {
            errno = ENOSPC; /* a rotation failed: the write path retries it or drops */
            return -1;
        }
        if ((uint64_t)(s->maxbytes - s->size) < len) {
            len = (size_t)(s->maxbytes - s->size);
        }
    }
    if (!s->append_off) {
        int flags = fcntl(s->fd, F_GETFL);
        if (flags < 0 || fcntl(s->fd, F_SETFL, flags & ~O_APPEND) < 0) {
            return -1;
        }
        s->append_off = true;
    }
    /* at the end, as O_APPEND would be: another writer may have written since */
    if (lseek(s->fd, 0, SEEK_END) < 0) {
        return -1;
    }
    if (!output_relay_ready()) {
        return -1;
    }
    ssize_t n = splice(pipe_fd, NULL, output_relay[1], NULL, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n <= 0) {
        return n; /* EOF, or EAGAIN: nothing was taken */
    }
    output_relay_drain(s, (size_t)n);
    s->bytes += (uint64_t)n;
    if (s->maxbytes > 0 && s->size >= s->maxbytes && output_file_rotate(s) < 0) {
        output_file_failed(s, errno);
    }
    return n;
}

static ssize_t
output_pipe_splice(struct child_reader *rd)
{
    struct output_pipe *p = rd->data;
    if (!output_sink_splices(p->sink)) {
        errno = ENOTSUP;
        return -1;
    }
    return output_sink_splice(p->sink, rd->fd);
}

static void
output_pipe_data(struct child_reader *rd, const char *buf, size_t n)
{
    struct output_pipe *p = rd->data;
    output_sink_write(p->sink, buf, n);
}

static void
output_pipe_eof(struct child_reader *rd)
{
    struct output_pipe *p = rd->data;
    if (rd->read_errno) {
        log_warn("%s: cannot read %s pipe: %s", p->sink->name, p->sink->stream,
                 strerror(rd->read_errno));
    }
    if (p->eof_cb) {
        p->eof_cb(p, p->eof_data); /* last: the callback may free p */
    }
}

struct output_pipe *
output_pipe_new(struct ev_loop *loop, int fd, struct output_sink *sink)
{
    struct output_pipe *p = xcalloc(1, sizeof(*p));
    p->sink = sink;
    child_reader_init(&p->rd, loop, output_pipe_data, output_pipe_eof, p);
    p->rd.on_splice = output_pipe_splice;
    child_reader_start(&p->rd, fd);
    return p;
}

void
output_pipe_set_sink(struct output_pipe *p, struct output_sink *sink)
{
    p->sink = sink;
}

void
output_pipe_set_eof_cb(struct output_pipe *p, void (*cb)(struct output_pipe *p, void *data),
                       void *data)
{
    p->eof_cb = cb;
    p->eof_data = data;
}

bool
output_pipe_done(const struct output_pipe *p)
{
    return !child_reader_open(&p->rd);
}

void
output_pipe_drain_and_free(struct output_pipe *p)
{
    if (!p) {
        return;
    }
    child_reader_drain(&p->rd, OUTPUT_DRAIN_BYTES);
    child_reader_close(&p->rd);
    output_sink_flush(p->sink);
    free(p);
}

/* ---- the console's colours ---- */

bool
output_console_use_color(void)
{
    /* https://no-color.org: set and non-empty disables colour */
    const char *no_color = getenv("NO_COLOR");
    return isatty(STDOUT_FILENO) && (!no_color || !*no_color);
}

int
output_color_for(size_t index)
{
    return (int)(index % 6) + 1;
}
