/* runner.c - the loop of `tend run`: children spawned and read through the child engine,
 * reaped with wait4, their output passed through, captured, prefixed or hooked; signals
 * forwarded. Called by oneshot.c and batch.c; calls child, spawn and util. */
#include "runner.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- small helpers ---- */

double
run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
run_timeval_seconds(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/* Seconds to the microsecond: 0.003290072000027 is noise in a report. */
double
run_round_us(double seconds)
{
    return seconds > 0 ? (double)(int64_t)(seconds * 1e6 + 0.5) / 1e6 : 0.0;
}

void
run_human_size(char *buf, size_t size, int64_t bytes)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        snprintf(buf, size, "%lld B", (long long)bytes);
        return;
    }
    double v = (double)bytes / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, size, "%.1f %s", v, units[u]);
}

static void
run_syserr(const char *msg)
{
    fatal("libev: %s: %s", msg, strerror(errno));
}

/* ---- the runner: a loop, the children it reaps, the pipes it reads ---- */

/* Signals tend forwards to its children. INT and QUIT are what a terminal sends to its whole
 * foreground group, and TERM asks everything to stop: they go to the child's process group,
 * so the children of a shell get them too, as without tend in between. HUP, USR1 and USR2
 * often mean "reload" or "report" to one program: they go to the child's pid only. */
static const struct {
    int sig;
    bool group;
} run_forwarded[] = {
    {SIGINT, true},  {SIGTERM, true},  {SIGQUIT, true},
    {SIGHUP, false}, {SIGUSR1, false}, {SIGUSR2, false},
};
_Static_assert(ARRAY_SIZE(run_forwarded) == RUN_FORWARDED_SIGNALS, "runner.forward[] size");

static void
run_stream_emit_line(struct runner *r, struct run_stream *s, const char *p, size_t n, bool end)
{
    strbuf_adds(&r->lines, s->prefix);
    strbuf_add(&r->lines, s->data.buf ? s->data.buf : "", s->data.len);
    strbuf_add(&r->lines, p, n);
    if (end) {
        strbuf_addc(&r->lines, '\n');
    }
    strbuf_reset(&s->data);
}

/* Whole lines go out behind the prefix in one write; the rest waits in s->data, so a prefix
 * never lands in the middle of a line. At EOF the partial last line is ended. */
static void
run_stream_lines(struct run_stream *s, const char *p, size_t n, bool eof)
{
    struct runner *r = s->child->r;
    strbuf_reset(&r->lines);
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        if (nl) {
            size_t len = (size_t)(nl - p) + 1;
            run_stream_emit_line(r, s, p, len, false);
            p += len;
            n -= len;
            continue;
        }
        size_t room = RUN_LINE_MAX - s->data.len;
        size_t take = n < room ? n : room;
        strbuf_add(&s->data, p, take);
        p += take;
        n -= take;
        if (s->data.len >= RUN_LINE_MAX) {
            run_stream_emit_line(r, s, "", 0, true);
        }
    }
    if (eof && s->data.len > 0) {
        run_stream_emit_line(r, s, "", 0, true);
    }
    if (r->lines.len > 0 && !s->discard) {
        if (r->broken[s->out_fd] || child_write_all(s->out_fd, r->lines.buf, r->lines.len) < 0) {
            r->broken[s->out_fd] = true;
            s->discard = true;
        }
    }
}

/* The stream ended: the partial last line goes out, the hook hears of it. */
static void
run_stream_ended(struct run_stream *s)
{
    if (s->sink == RUN_SINK_LINES) {
        run_stream_lines(s, "", 0, true);
    } else if (s->sink == RUN_SINK_HOOK) {
        s->hook(s, NULL, 0);
    }
}

void
run_stream_close(struct run_stream *s)
{
    if (!child_reader_open(&s->rd)) {
        return;
    }
    child_reader_close(&s->rd);
    run_stream_ended(s);
}

bool
run_stream_open(const struct run_stream *s)
{
    return child_reader_open(&s->rd);
}

void
run_stream_pause(struct run_stream *s)
{
    child_reader_pause(&s->rd);
}

void
run_stream_resume(struct run_stream *s)
{
    child_reader_resume(&s->rd);
}

static void
run_stream_eof(struct child_reader *rd)
{
    struct run_stream *s = rd->data;
    run_stream_ended(s);
    run_child_check_done(s->child);
}

static void
run_stream_data(struct child_reader *rd, const char *buf, size_t n)
{
    struct run_stream *s = rd->data;
    struct runner *r = s->child->r;
    s->bytes += (int64_t)n;
    switch (s->sink) {
    case RUN_SINK_CAPTURE:
        strbuf_add(&s->data, buf, n);
        break;
    case RUN_SINK_LINES:
        run_stream_lines(s, buf, n, false);
        break;
    case RUN_SINK_HOOK:
        s->hook(s, buf, n);
        break;
    case RUN_SINK_FD:
        if (s->discard) {
            break;
        }
        if (child_write_all(s->out_fd, buf, n) < 0) {
            if (errno == EPIPE) {
                /* the reader of tend's output is gone: the child learns it the way it would
                 * without tend, by SIGPIPE on its next write */
                if (s->out_fd <= 2) {
                    r->broken[s->out_fd] = true;
                }
                run_stream_close(s);
                run_child_check_done(s->child);
                return;
            }
            fprintf(stderr, "tend: cannot write the output of %s: %s\n", s->child->name,
                    strerror(errno));
            s->discard = true;
        }
        break;
    }
}

void
run_stream_setup(struct run_stream *s, struct run_child *c, enum run_sink sink, int out_fd,
                 const char *prefix)
{
    strbuf_free(&s->data);
    memset(s, 0, sizeof(*s));
    child_reader_init(&s->rd, c->r->loop, run_stream_data, run_stream_eof, s);
    s->child = c;
    s->sink = sink;
    s->out_fd = out_fd;
    s->prefix = prefix ? prefix : "";
    strbuf_init(&s->data);
}

static void
run_drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    /* something that left the process group still holds a pipe: stop waiting for it */
    struct run_child *c = (struct run_child *)((char *)w - offsetof(struct run_child, drain));
    if (c->out.rd.paused || c->err.rd.paused) {
        /* what is left in the pipe waits for a slow reader downstream, not for a stray
         * process: the reader decides (it reads, or it exits and the stream closes) */
        ev_timer_set(&c->drain, RUN_DRAIN_SECONDS, 0.);
        ev_timer_start(loop, &c->drain);
        return;
    }
    run_stream_close(&c->out);
    run_stream_close(&c->err);
    run_child_check_done(c);
}

void
run_child_init(struct run_child *c, struct runner *r, const char *name)
{
    memset(c, 0, sizeof(*c));
    c->r = r;
    c->name = name;
    run_stream_setup(&c->out, c, RUN_SINK_FD, 1, NULL);
    run_stream_setup(&c->err, c, RUN_SINK_FD, 2, NULL);
    ev_timer_init(&c->drain, run_drain_cb, RUN_DRAIN_SECONDS, 0.);
}

void
run_child_free(struct run_child *c)
{
    if (c->r) {
        ev_timer_stop(c->r->loop, &c->drain);
        run_stream_close(&c->out);
        run_stream_close(&c->err);
    }
    strbuf_free(&c->out.data);
    strbuf_free(&c->err.data);
}

void
run_child_check_done(struct run_child *c)
{
    if (c->done || !c->exited || run_stream_open(&c->out) || run_stream_open(&c->err)) {
        return;
    }
    ev_timer_stop(c->r->loop, &c->drain);
    c->done = true;
    if (c->on_done) {
        c->on_done(c);
    }
}

void
run_child_signal(struct run_child *c, int sig, bool group)
{
    if (c->running && c->pid > 0) {
        kill(group ? -c->pid : c->pid, sig);
    }
}

int
run_child_spawn(struct run_child *c, struct spawn_request *req, const struct child_stdio *io,
                struct spawn_error *e)
{
    struct runner *r = c->r;
    int out_rd, err_rd;
    c->started = run_now();
    if (child_spawn(req, io, &c->pid, &out_rd, &err_rd, e) < 0) {
        c->pid = 0;
        return -1;
    }
    c->running = true;
    if (out_rd >= 0) {
        child_reader_start(&c->out.rd, out_rd);
    }
    if (err_rd >= 0) {
        child_reader_start(&c->err.rd, err_rd);
    }
    r->children = xrealloc(r->children, (r->nchildren + 1) * sizeof(*r->children));
    r->children[r->nchildren++] = c;
    return 0;
}

/* libev's default loop would reap every child with waitpid() and lose the rusage: this loop
 * is tend run's own, and wait4() here gives CPU times and the peak RSS of each child. */
static void
run_sigchld_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    struct runner *r = w->data;
    for (;;) {
        int status;
        struct rusage ru;
        pid_t pid = wait4(-1, &status, WNOHANG, &ru);
        if (pid < 0 && errno == EINTR) {
            continue;
        }
        if (pid <= 0) {
            break;
        }
        struct run_child *c = NULL;
        for (size_t i = 0; i < r->nchildren; i++) {
            if (r->children[i]->pid == pid) {
                c = r->children[i];
                r->children[i] = r->children[--r->nchildren];
                break;
            }
        }
        if (!c) {
            continue; /* inherited from whoever exec'd tend: reaped, nothing more */
        }
        c->ended = run_now();
        c->running = false;
        c->exited = true;
        c->status = status;
        c->ru = ru;
        /* Nothing the command started may outlive it: the rest of its group goes now, so
         * the pipes reach EOF unless something left the group. ESRCH is the usual answer. */
        kill(-pid, SIGKILL);
        if (c->on_exit) {
            c->on_exit(c);
        }
        if (run_stream_open(&c->out) || run_stream_open(&c->err)) {
            ev_timer_start(r->loop, &c->drain);
        }
        run_child_check_done(c);
    }
}

static void
run_forward_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop;
    (void)revents;
    struct runner *r = w->data;
    bool group = false;
    for (size_t i = 0; i < ARRAY_SIZE(run_forwarded); i++) {
        if (run_forwarded[i].sig == w->signum) {
            group = run_forwarded[i].group;
        }
    }
    for (size_t i = 0; i < r->nchildren; i++) {
        run_child_signal(r->children[i], w->signum, group);
    }
    if (r->on_signal) {
        r->on_signal(r, w->signum);
    }
}

void
runner_init(struct runner *r, void *owner)
{
    memset(r, 0, sizeof(*r));
    r->owner = owner;
    strbuf_init(&r->lines);
    /* A reader that went away must not kill tend: EPIPE is handled where it happens. */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
    ev_set_syserr_cb(run_syserr);
    r->loop = ev_loop_new(EVFLAG_AUTO);
    if (!r->loop) {
        fatal("cannot create an event loop");
    }
    ev_signal_init(&r->sigchld, run_sigchld_cb, SIGCHLD);
    r->sigchld.data = r;
    ev_signal_start(r->loop, &r->sigchld);
    for (size_t i = 0; i < ARRAY_SIZE(run_forwarded); i++) {
        ev_signal_init(&r->forward[i], run_forward_cb, run_forwarded[i].sig);
        r->forward[i].data = r;
        ev_signal_start(r->loop, &r->forward[i]);
    }
}

void
runner_free(struct runner *r)
{
    ev_signal_stop(r->loop, &r->sigchld);
    for (size_t i = 0; i < ARRAY_SIZE(run_forwarded); i++) {
        ev_signal_stop(r->loop, &r->forward[i]);
    }
    ev_loop_destroy(r->loop);
    r->loop = NULL;
    free(r->children);
    strbuf_free(&r->lines);
}
