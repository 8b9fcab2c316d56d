/* run.c - `tend run`: one command pumped like Python's communicate(input, timeout), or the
 * programs of a config file as a pool of one-shot jobs; both on a libev loop of their own. */
#include "run.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "exitstatus.h"
#include "json.h"
#include "spawn.h"
#include "util.h"
#include "values.h"

#define RUN_BUF_SIZE 65536
#define RUN_LINE_MAX 65536    /* a longer line is cut (and ended) here when prefixing */
#define RUN_DRAIN_SECONDS 2.0 /* bound on reading pipes after the child exited */
#define RUN_EXIT_USAGE 2
#define RUN_EXIT_TIMEOUT 124
#define RUN_EXIT_FAILED 125

extern char **environ;

/* ---- the command line ---- */

struct run_opts {
    const char *config;
    const char *input;      /* --input FILE, "-" for tend's stdin */
    const char *input_text; /* --input-text STRING */
    const char *stdout_path;
    const char *stderr_path;
    const char *cwd;
    const char *user;
    bool capture, shell, report, json, keep_going;
    int64_t timeout_ms; /* 0: none */
    int64_t kill_after_ms;
    int signal;
    long jobs; /* 0: one per CPU */
    struct strv env;
    struct strv names; /* NAMEs collected between options in batch mode */
    char **words;      /* CMD [ARG...], or NAMEs in batch mode */
    int nwords;
    const char *single_only; /* first option given that only makes sense for one command */
    const char *batch_only;  /* first option given that only makes sense with -c */
};

static const char run_synopsis[] = "usage: tend run [OPTIONS] -- CMD [ARG...]\n"
                                   "       tend run -c FILE [-j N] [--keep-going] [--json] "
                                   "[NAME...]\n";

static void
run_help(void)
{
    printf("%s", run_synopsis);
    printf("\nRun one command: feed its stdin, pass or capture its output, enforce a timeout.\n"
           "\n"
           "  -i, --input FILE         feed FILE to the command's stdin (- for tend's stdin)\n"
           "      --input-text STRING  feed STRING to the command's stdin\n"
           "                           (default: tend's stdin unless it is a terminal)\n"
           "      --stdout FILE        write the command's stdout to FILE\n"
           "      --stderr FILE        write the command's stderr to FILE\n"
           "      --capture            keep the output and write it once the command ended\n"
           "  -t, --timeout DUR        send the signal after DUR (10, 500ms, 2s, 1m); exit 124\n"
           "  -s, --signal SIG         signal for the timeout (default TERM)\n"
           "  -k, --kill-after DUR     send KILL this long after the signal (default 5s)\n"
           "  -e, --env NAME=VALUE     set a variable in the command's environment\n"
           "  -C, --cwd DIR            run the command in DIR\n"
           "  -u, --user USER          run the command as USER (name or uid)\n"
           "      --shell              run CMD ARG... joined by blanks with /bin/sh -c\n"
           "      --report             print a line with status, time and sizes to stderr\n"
           "      --json               print one JSON object with status and output on stdout\n"
           "\n"
           "Run the programs of a configuration file as one-shot jobs:\n"
           "\n"
           "  -c, --config FILE        the configuration file\n"
           "  -j, --jobs N             run at most N jobs at once (default: number of CPUs)\n"
           "      --keep-going         start the other jobs after a failure\n"
           "      --json               print a JSON array of the jobs' results on stdout\n"
           "\n"
           "stdout = program:NAME in the file makes a pipeline: its stages start together, count\n"
           "as one job for -j, and each reports its own status (pipefail).\n"
           "\n"
           "Exit status: the command's; 128+N when killed by signal N; 124 timed out;\n"
           "125 tend failed; 126 not executable; 127 not found; 2 usage; 78 bad config.\n"
           "With -c: 0 when every job succeeded, 1 otherwise.\n");
}

static int run_usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

static int
run_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tend: run: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", run_synopsis);
    return RUN_EXIT_USAGE;
}

static int
run_parse_duration(const char *opt, const char *s, int64_t *ms)
{
    char *err = NULL;
    if (value_parse_duration(s, ms, &err) < 0) {
        fprintf(stderr, "tend: run: %s: %s\n%s", opt, err, run_synopsis);
        free(err);
        return -1;
    }
    return 0;
}

enum {
    RUN_OPT_INPUT_TEXT = 256,
    RUN_OPT_STDOUT,
    RUN_OPT_STDERR,
    RUN_OPT_CAPTURE,
    RUN_OPT_SHELL,
    RUN_OPT_REPORT,
    RUN_OPT_JSON,
    RUN_OPT_KEEP_GOING,
};

/* Returns -1 to go on, or the exit status to return at once. */
static int
run_parse(struct run_opts *o, const char *config, int argc, char **argv)
{
    static const struct option long_options[] = {
        {"input", required_argument, NULL, 'i'},
        {"input-text", required_argument, NULL, RUN_OPT_INPUT_TEXT},
        {"stdout", required_argument, NULL, RUN_OPT_STDOUT},
        {"stderr", required_argument, NULL, RUN_OPT_STDERR},
        {"capture", no_argument, NULL, RUN_OPT_CAPTURE},
        {"timeout", required_argument, NULL, 't'},
        {"signal", required_argument, NULL, 's'},
        {"kill-after", required_argument, NULL, 'k'},
        {"env", required_argument, NULL, 'e'},
        {"cwd", required_argument, NULL, 'C'},
        {"user", required_argument, NULL, 'u'},
        {"shell", no_argument, NULL, RUN_OPT_SHELL},
        {"report", no_argument, NULL, RUN_OPT_REPORT},
        {"json", no_argument, NULL, RUN_OPT_JSON},
        {"jobs", required_argument, NULL, 'j'},
        {"keep-going", no_argument, NULL, RUN_OPT_KEEP_GOING},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->config = config;
    o->signal = SIGTERM;
    o->kill_after_ms = 5000;
    strv_init(&o->env);
    strv_init(&o->names);

    /* main() ran getopt already: 0 makes glibc start over; "+" stops at the command */
    optind = 0;
    opterr = 0;
    int c;
    for (;;) {
        c = getopt_long(argc, argv, "+:i:t:s:k:e:C:u:j:c:h", long_options, NULL);
        if (c == -1) {
            /* With -c the words are NAMEs, and options may follow them; without, the first
             * word starts the command and everything after it is the command's. */
            bool after_dashes = optind > 1 && strcmp(argv[optind - 1], "--") == 0;
            if (!o->config || optind >= argc || after_dashes) {
                break;
            }
            strv_push(&o->names, argv[optind++]);
            continue;
        }
        const char *name = argv[optind - 1];
        switch (c) {
        case 'i':
            o->input = optarg;
            o->single_only = o->single_only ? o->single_only : "--input";
            break;
        case RUN_OPT_INPUT_TEXT:
            o->input_text = optarg;
            o->single_only = o->single_only ? o->single_only : "--input-text";
            break;
        case RUN_OPT_STDOUT:
            o->stdout_path = optarg;
            o->single_only = o->single_only ? o->single_only : "--stdout";
            break;
        case RUN_OPT_STDERR:
            o->stderr_path = optarg;
            o->single_only = o->single_only ? o->single_only : "--stderr";
            break;
        case RUN_OPT_CAPTURE:
            o->capture = true;
            o->single_only = o->single_only ? o->single_only : "--capture";
            break;
        case 't':
            if (run_parse_duration("--timeout", optarg, &o->timeout_ms) < 0) {
                return RUN_EXIT_USAGE;
            }
            o->single_only = o->single_only ? o->single_only : "--timeout";
            break;
        case 'k':
            if (run_parse_duration("--kill-after", optarg, &o->kill_after_ms) < 0) {
                return RUN_EXIT_USAGE;
            }
            o->single_only = o->single_only ? o->single_only : "--kill-after";
            break;
        case 's': {
            char *err = NULL;
            if (value_parse_signal(optarg, &o->signal, &err) < 0) {
                fprintf(stderr, "tend: run: --signal: %s\n%s", err, run_synopsis);
                free(err);
                return RUN_EXIT_USAGE;
            }
            o->single_only = o->single_only ? o->single_only : "--signal";
            break;
        }
        case 'e':
            if (optarg[0] == '=' || !strchr(optarg, '=')) {
                return run_usage_error("--env needs NAME=VALUE, not '%s'", optarg);
            }
            strv_push(&o->env, optarg);
            o->single_only = o->single_only ? o->single_only : "--env";
            break;
        case 'C':
            o->cwd = optarg;
            o->single_only = o->single_only ? o->single_only : "--cwd";
            break;
        case 'u':
            o->user = optarg;
            o->single_only = o->single_only ? o->single_only : "--user";
            break;
        case RUN_OPT_SHELL:
            o->shell = true;
            o->single_only = o->single_only ? o->single_only : "--shell";
            break;
        case RUN_OPT_REPORT:
            o->report = true;
            o->single_only = o->single_only ? o->single_only : "--report";
            break;
        case RUN_OPT_JSON:
            o->json = true;
            break;
        case 'j': {
            char *err = NULL;
            if (value_parse_int(optarg, 1, 100000, &o->jobs, &err) < 0) {
                fprintf(stderr, "tend: run: --jobs: %s\n%s", err, run_synopsis);
                free(err);
                return RUN_EXIT_USAGE;
            }
            o->batch_only = o->batch_only ? o->batch_only : "--jobs";
            break;
        }
        case RUN_OPT_KEEP_GOING:
            o->keep_going = true;
            o->batch_only = o->batch_only ? o->batch_only : "--keep-going";
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'h':
            run_help();
            return 0;
        case ':':
            return run_usage_error("option '%s' needs a value", name);
        default:
            return run_usage_error("unknown option '%s'", name);
        }
    }
    for (int i = optind; i < argc && o->names.n > 0; i++) {
        strv_push(&o->names, argv[i]);
    }
    if (o->names.n > 0) {
        o->words = o->names.v;
        o->nwords = (int)o->names.n;
    } else {
        o->words = argv + optind;
        o->nwords = argc - optind;
    }
    if (o->config) {
        if (o->single_only) {
            return run_usage_error("%s is for one command, not for the jobs of -c FILE",
                                   o->single_only);
        }
        return -1;
    }
    if (o->batch_only) {
        return run_usage_error("%s needs -c FILE", o->batch_only);
    }
    if (o->nwords == 0) {
        return run_usage_error("%s", "no command to run");
    }
    if (o->input && o->input_text) {
        return run_usage_error("%s", "--input and --input-text exclude each other");
    }
    if (o->json) {
        o->capture = true;
    }
    return -1;
}

/* ---- small helpers ---- */

static double
run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
run_timeval_seconds(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/* Seconds to the microsecond: 0.003290072000027 is noise in a report. */
static double
run_round_us(double seconds)
{
    return seconds > 0 ? (double)(int64_t)(seconds * 1e6 + 0.5) / 1e6 : 0.0;
}

static void
run_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Writes everything; waits for room when fd is non-blocking (tend's stdout may have been left
 * so by whoever started it). Returns -1 with errno on a real error (EPIPE, ENOSPC...). */
static int
run_write_all(int fd, const char *buf, size_t len)
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

/* A pipe with both ends close-on-exec and tend's end non-blocking (the child's end stays
 * blocking: ordinary programs do not expect EAGAIN). tends_end is 0 (read) or 1 (write), or
 * -1 for a pipe between two children (both ends blocking). */
static int
run_pipe(int fds[2], int tends_end)
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

static void
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

struct runner;
struct run_child;

enum run_sink {
    RUN_SINK_FD,      /* write through to out_fd as it arrives */
    RUN_SINK_CAPTURE, /* keep in data */
    RUN_SINK_LINES,   /* whole lines to out_fd, each behind prefix */
    RUN_SINK_HOOK,    /* handed to hook as it arrives; hook(s, NULL, 0) once at EOF */
};

struct run_stream {
    ev_io io; /* first: the callback casts the watcher back */
    struct run_child *child;
    int fd; /* tend's read end; -1 once closed */
    enum run_sink sink;
    int out_fd;
    bool discard; /* out_fd failed: keep reading, write nothing */
    const char *prefix;
    struct strbuf data; /* everything (capture) or the partial last line (lines) */
    int64_t bytes;
    void (*hook)(struct run_stream *s, const char *p, size_t n); /* RUN_SINK_HOOK */
    bool paused; /* the hook's receivers are full: not read for now, so the writer blocks */
};

struct run_child {
    struct runner *r;
    const char *name;
    pid_t pid;    /* from spawn on; kept after the reap for reports */
    bool running; /* spawned and not reaped */
    bool exited;  /* reaped */
    bool done;    /* reaped and its pipes drained */
    int status;
    struct rusage ru;
    double started, ended;
    struct run_stream out, err;
    ev_timer drain;
    void (*on_exit)(struct run_child *c);
    void (*on_done)(struct run_child *c);
    void *owner;
};

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

struct runner {
    struct ev_loop *loop;
    ev_signal sigchld;
    ev_signal forward[ARRAY_SIZE(run_forwarded)];
    struct run_child **children; /* the running ones, to find a reaped pid */
    size_t nchildren;
    bool broken[3]; /* tend's stdout/stderr gave EPIPE */
    void (*on_signal)(struct runner *r, int sig);
    void *owner;
    struct strbuf lines; /* prefixed lines on their way out */
    char buf[RUN_BUF_SIZE];
};

static void run_child_check_done(struct run_child *c);

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
        if (r->broken[s->out_fd] || run_write_all(s->out_fd, r->lines.buf, r->lines.len) < 0) {
            r->broken[s->out_fd] = true;
            s->discard = true;
        }
    }
}

static void
run_stream_close(struct run_stream *s)
{
    if (s->fd < 0) {
        return;
    }
    ev_io_stop(s->child->r->loop, &s->io);
    run_close(&s->fd);
    s->paused = false;
    if (s->sink == RUN_SINK_LINES) {
        run_stream_lines(s, "", 0, true);
    } else if (s->sink == RUN_SINK_HOOK) {
        s->hook(s, NULL, 0);
    }
}

static void
run_stream_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    struct run_stream *s = (struct run_stream *)w;
    struct runner *r = s->child->r;
    ssize_t n = read(s->fd, r->buf, sizeof(r->buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        run_stream_close(s);
        run_child_check_done(s->child);
        return;
    }
    s->bytes += n;
    switch (s->sink) {
    case RUN_SINK_CAPTURE:
        strbuf_add(&s->data, r->buf, (size_t)n);
        break;
    case RUN_SINK_LINES:
        run_stream_lines(s, r->buf, (size_t)n, false);
        break;
    case RUN_SINK_HOOK:
        s->hook(s, r->buf, (size_t)n);
        break;
    case RUN_SINK_FD:
        if (s->discard) {
            break;
        }
        if (run_write_all(s->out_fd, r->buf, (size_t)n) < 0) {
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

static void
run_stream_setup(struct run_stream *s, struct run_child *c, enum run_sink sink, int out_fd,
                 const char *prefix)
{
    memset(s, 0, sizeof(*s));
    s->child = c;
    s->fd = -1;
    s->sink = sink;
    s->out_fd = out_fd;
    s->prefix = prefix ? prefix : "";
    strbuf_init(&s->data);
}

static void
run_stream_start(struct run_stream *s, int fd)
{
    s->fd = fd;
    ev_io_init(&s->io, run_stream_cb, fd, EV_READ);
    ev_io_start(s->child->r->loop, &s->io);
}

static void
run_drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    /* something that left the process group still holds a pipe: stop waiting for it */
    struct run_child *c = (struct run_child *)((char *)w - offsetof(struct run_child, drain));
    if ((c->out.fd >= 0 && c->out.paused) || (c->err.fd >= 0 && c->err.paused)) {
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

static void
run_child_init(struct run_child *c, struct runner *r, const char *name)
{
    memset(c, 0, sizeof(*c));
    c->r = r;
    c->name = name;
    c->out.fd = c->err.fd = -1;
    strbuf_init(&c->out.data);
    strbuf_init(&c->err.data);
    ev_timer_init(&c->drain, run_drain_cb, RUN_DRAIN_SECONDS, 0.);
}

static void
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

static void
run_child_check_done(struct run_child *c)
{
    if (c->done || !c->exited || c->out.fd >= 0 || c->err.fd >= 0) {
        return;
    }
    ev_timer_stop(c->r->loop, &c->drain);
    c->done = true;
    if (c->on_done) {
        c->on_done(c);
    }
}

static void
run_child_signal(struct run_child *c, int sig, bool group)
{
    if (c->running && c->pid > 0) {
        kill(group ? -c->pid : c->pid, sig);
    }
}

/* Creates the output pipes, fills map[] for fds 1 and 2, spawns and starts reading. req's
 * map[0] (stdin) is the caller's. out_to / err_to >= 0 give the child that fd (the caller's,
 * left open) as its stdout / stderr instead of a pipe tend reads; with redirect_stderr fd 2 is
 * whatever fd 1 is. On failure e says why, and nothing is left open. */
static int
run_child_spawn(struct run_child *c, struct spawn_request *req, bool redirect_stderr, int out_to,
                int err_to, struct spawn_error *e)
{
    struct runner *r = c->r;
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    if ((out_to < 0 && run_pipe(out, 0) < 0) ||
        (!redirect_stderr && err_to < 0 && run_pipe(err, 0) < 0)) {
        e->step = "create pipes for";
        e->err = errno;
        e->what = xstrdup(req->argv[0]);
        run_close(&out[0]);
        run_close(&out[1]);
        return -1;
    }
    int fd1 = out_to >= 0 ? out_to : out[1];
    req->map[req->nmap].src = fd1;
    req->map[req->nmap++].target = 1;
    req->map[req->nmap].src = redirect_stderr ? fd1 : err_to >= 0 ? err_to : err[1];
    req->map[req->nmap++].target = 2;
    req->new_process_group = true;
    c->started = run_now();
    int rc = spawn_child(req, &c->pid, e);
    run_close(&out[1]);
    run_close(&err[1]);
    if (rc < 0) {
        run_close(&out[0]);
        run_close(&err[0]);
        c->pid = 0;
        return -1;
    }
    c->running = true;
    if (out[0] >= 0) {
        run_stream_start(&c->out, out[0]);
    }
    if (err[0] >= 0) {
        run_stream_start(&c->err, err[0]);
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
        if (c->out.fd >= 0 || c->err.fd >= 0) {
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

static void
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

static void
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

/* ---- one command ---- */

enum run_input {
    RUN_INPUT_NULL,   /* /dev/null */
    RUN_INPUT_DIRECT, /* a file (or device) handed to the child as it is */
    RUN_INPUT_PUMP,   /* a pipe, socket or terminal pumped through a pipe */
    RUN_INPUT_TEXT,   /* --input-text through a pipe */
};

struct run_single {
    struct runner r;
    const struct run_opts *o;
    const char *name; /* the command, for messages */
    struct strv argv; /* only for --shell */
    const char *const *cmd;
    struct run_child child;
    /* stdin */
    enum run_input input;
    int src_fd; /* what feeds the pump (tend's stdin or --input), or the direct fd */
    bool src_owned;
    off_t direct_start;
    ev_io src_io;
    int in_fd; /* tend's end of the child's stdin pipe */
    ev_io in_io;
    const char *pending;
    size_t pending_len;
    char *src_buf;
    int64_t in_bytes;
    /* timeout */
    ev_timer timeout, kill_timer;
    bool timed_out;
    /* output files */
    int out_file, err_file;
};

static void
single_feed_stop(struct run_single *s)
{
    ev_io_stop(s->r.loop, &s->src_io);
    ev_io_stop(s->r.loop, &s->in_io);
    run_close(&s->in_fd);
    if (s->input == RUN_INPUT_PUMP && s->src_owned) {
        run_close(&s->src_fd);
    }
    s->pending_len = 0;
}

/* Writes what is pending to the child; then reads more, or closes the child's stdin at the
 * end. A child that stopped reading (EPIPE) simply gets no more. */
static void
single_feed_flush(struct run_single *s)
{
    while (s->pending_len > 0) {
        ssize_t n = write(s->in_fd, s->pending, s->pending_len);
        if (n > 0) {
            s->pending += n;
            s->pending_len -= (size_t)n;
            s->in_bytes += n;
        } else if (n < 0 && errno == EAGAIN) {
            ev_io_start(s->r.loop, &s->in_io);
            return;
        } else if (n < 0 && errno != EINTR) {
            single_feed_stop(s);
            return;
        }
    }
    ev_io_stop(s->r.loop, &s->in_io);
    if (s->input == RUN_INPUT_TEXT) {
        single_feed_stop(s);
    } else {
        ev_io_start(s->r.loop, &s->src_io);
    }
}

static void
single_in_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    single_feed_flush(w->data);
}

static void
single_src_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    struct run_single *s = w->data;
    ssize_t n = read(s->src_fd, s->src_buf, RUN_BUF_SIZE);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n < 0) {
        fprintf(stderr, "tend: cannot read the input of %s: %s\n", s->name, strerror(errno));
    }
    if (n <= 0) {
        single_feed_stop(s); /* the child sees EOF */
        return;
    }
    ev_io_stop(s->r.loop, &s->src_io);
    s->pending = s->src_buf;
    s->pending_len = (size_t)n;
    single_feed_flush(s);
}

static void
single_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    struct run_single *s = w->data;
    s->timed_out = true;
    run_child_signal(&s->child, s->o->signal, true);
    ev_timer_set(&s->kill_timer, (double)s->o->kill_after_ms / 1000.0, 0.);
    ev_timer_start(loop, &s->kill_timer);
}

static void
single_kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct run_single *s = w->data;
    run_child_signal(&s->child, SIGKILL, true);
}

static void
single_on_exit(struct run_child *c)
{
    struct run_single *s = c->owner;
    ev_timer_stop(s->r.loop, &s->timeout);
    ev_timer_stop(s->r.loop, &s->kill_timer);
    if (s->input == RUN_INPUT_DIRECT) {
        /* the child shared the file's offset: how far it moved is how much it read */
        off_t end = lseek(s->src_fd, 0, SEEK_CUR);
        if (end >= 0 && s->direct_start >= 0 && end > s->direct_start) {
            s->in_bytes = end - s->direct_start;
        }
    }
    single_feed_stop(s);
}

static void
single_on_done(struct run_child *c)
{
    struct run_single *s = c->owner;
    ev_break(s->r.loop, EVBREAK_ALL);
}

/* Decides where the child's stdin comes from; opens --input. -1 with a message on failure. */
static int
single_setup_input(struct run_single *s, char **err)
{
    const struct run_opts *o = s->o;
    if (o->input_text) {
        s->input = RUN_INPUT_TEXT;
        return 0;
    }
    if (o->input && strcmp(o->input, "-") != 0) {
        s->src_fd = open(o->input, O_RDONLY | O_CLOEXEC);
        if (s->src_fd < 0) {
            *err = xasprintf("cannot open input %s: %s", o->input, strerror(errno));
            return -1;
        }
        s->src_owned = true;
    } else {
        s->src_fd = 0;
        /* a terminal is the user's, not the command's, unless asked for by --input - */
        if (!o->input && isatty(0)) {
            s->input = RUN_INPUT_NULL;
            s->src_fd = -1;
            return 0;
        }
    }
    struct stat st;
    if (fstat(s->src_fd, &st) < 0) {
        *err = xasprintf("cannot read input: %s", strerror(errno));
        return -1;
    }
    /* epoll cannot watch regular files, and a file or device needs no pump: the child gets it
     * as it would from a shell's redirection */
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(s->src_fd)) {
        s->input = RUN_INPUT_PUMP;
    } else {
        s->input = RUN_INPUT_DIRECT;
        s->direct_start = lseek(s->src_fd, 0, SEEK_CUR);
    }
    return 0;
}

static int
single_open_output(const char *path, int *fd, char **err)
{
    *fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (*fd < 0) {
        *err = xasprintf("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void
single_json(struct run_single *s, const char *error, int code)
{
    const struct run_child *c = &s->child;
    struct exit_info x = exit_decode(c->status);
    bool ran = c->exited;
    struct strbuf sb;
    struct json j;
    strbuf_init(&sb);
    json_init(&j, &sb, false);
    json_object_begin(&j);
    json_key(&j, "argv");
    json_array_begin(&j);
    for (const char *const *a = s->cmd; *a; a++) {
        json_string(&j, *a);
    }
    json_array_end(&j);
    json_key(&j, "pid");
    if (c->pid > 0) {
        json_int(&j, c->pid);
    } else {
        json_null(&j);
    }
    json_key(&j, "exit_code");
    if (!ran) {
        json_int(&j, code);
    } else if (x.code >= 0) {
        json_int(&j, x.code);
    } else {
        json_null(&j);
    }
    json_key(&j, "signal");
    json_string(&j, ran && x.signal ? signal_name(x.signal) : NULL);
    json_key(&j, "core_dumped");
    json_bool(&j, ran && x.core_dumped);
    json_key(&j, "timed_out");
    json_bool(&j, s->timed_out);
    json_key(&j, "duration_s");
    json_double(&j, ran ? run_round_us(c->ended - c->started) : 0.0);
    json_key(&j, "user_s");
    json_double(&j, run_timeval_seconds(&c->ru.ru_utime));
    json_key(&j, "sys_s");
    json_double(&j, run_timeval_seconds(&c->ru.ru_stime));
    json_key(&j, "max_rss_kb");
    json_int(&j, c->ru.ru_maxrss);
    json_key(&j, "stdout");
    if (c->out.sink == RUN_SINK_CAPTURE) {
        json_string_n(&j, c->out.data.buf ? c->out.data.buf : "", c->out.data.len);
    } else {
        json_null(&j);
    }
    json_key(&j, "stderr");
    if (c->err.sink == RUN_SINK_CAPTURE) {
        json_string_n(&j, c->err.data.buf ? c->err.data.buf : "", c->err.data.len);
    } else {
        json_null(&j);
    }
    json_key(&j, "stdout_bytes");
    json_int(&j, c->out.bytes);
    json_key(&j, "stderr_bytes");
    json_int(&j, c->err.bytes);
    json_key(&j, "stdin_bytes");
    json_int(&j, s->in_bytes);
    json_key(&j, "status");
    json_int(&j, code);
    json_key(&j, "error");
    json_string(&j, error);
    json_object_end(&j);
    strbuf_addc(&sb, '\n');
    if (run_write_all(1, sb.buf, sb.len) < 0 && errno != EPIPE) {
        fprintf(stderr, "tend: cannot write to stdout: %s\n", strerror(errno));
    }
    strbuf_free(&sb);
}

/* A failure before the command ran: the message, and the JSON object when asked for. */
static int
single_fail(struct run_single *s, const char *msg, int code)
{
    fprintf(stderr, "tend: %s\n", msg);
    if (s->o->json) {
        single_json(s, msg, code);
    }
    return code;
}

static void
single_report(struct run_single *s)
{
    const struct run_child *c = &s->child;
    struct exit_info x = exit_decode(c->status);
    char *how = exit_describe(&x);
    char in[32], out[32], err[32];
    run_human_size(in, sizeof(in), s->in_bytes);
    run_human_size(out, sizeof(out), c->out.bytes);
    run_human_size(err, sizeof(err), c->err.bytes);
    fprintf(stderr, "tend: %s %s%s after %.2fs (in %s, out %s, err %s)\n", s->name,
            s->timed_out ? "timed out and " : "", how, c->ended - c->started, in, out, err);
    free(how);
}

static int
single_finish(struct run_single *s)
{
    const struct run_opts *o = s->o;
    const struct run_child *c = &s->child;
    struct exit_info x = exit_decode(c->status);
    int code = s->timed_out ? RUN_EXIT_TIMEOUT : exit_shell_code(&x);
    if (o->json) {
        single_json(s, NULL, code);
    } else if (o->capture) {
        if (c->out.sink == RUN_SINK_CAPTURE && c->out.data.len) {
            run_write_all(1, c->out.data.buf, c->out.data.len);
        }
        if (c->err.sink == RUN_SINK_CAPTURE && c->err.data.len) {
            run_write_all(2, c->err.data.buf, c->err.data.len);
        }
    }
    if (o->report) {
        single_report(s);
    } else if (s->timed_out) {
        char *d = value_format_duration(o->timeout_ms);
        fprintf(stderr, "tend: %s timed out after %s\n", s->name, d);
        free(d);
    }
    return code;
}

/* The environment: tend's own, the account's variables with --user, then --env. NULL when
 * tend's environment is passed unchanged (nothing to copy). */
static bool
single_build_env(const struct run_opts *o, const struct spawn_user *user, struct strv *env)
{
    if (!user && o->env.n == 0) {
        return false;
    }
    strv_init(env);
    for (char **e = environ; *e; e++) {
        strv_push(env, *e);
    }
    if (user) {
        spawn_user_environment(user, env);
    }
    for (size_t i = 0; i < o->env.n; i++) {
        strv_setenv(env, o->env.v[i]);
    }
    return true;
}

static int
single_run(struct run_single *s)
{
    const struct run_opts *o = s->o;
    char *msg = NULL;
    struct spawn_user user;
    bool have_user = false;
    struct strv env = {0};
    bool own_env = false;
    int code;

    if (o->user) {
        if (spawn_user_lookup(o->user, &user, &msg) < 0) {
            goto fail;
        }
        have_user = true;
    }
    own_env = single_build_env(o, have_user ? &user : NULL, &env);
    if (single_setup_input(s, &msg) < 0) {
        goto fail;
    }
    if (o->stdout_path && single_open_output(o->stdout_path, &s->out_file, &msg) < 0) {
        goto fail;
    }
    if (o->stderr_path) {
        if (o->stdout_path && strcmp(o->stdout_path, o->stderr_path) == 0) {
            s->err_file = fcntl(s->out_file, F_DUPFD_CLOEXEC, 3);
        } else if (single_open_output(o->stderr_path, &s->err_file, &msg) < 0) {
            goto fail;
        }
    }

    struct run_child *c = &s->child;
    /* a file given for a stream takes it; otherwise capture, or straight through to tend's */
    enum run_sink through = o->capture ? RUN_SINK_CAPTURE : RUN_SINK_FD;
    run_stream_setup(&c->out, c, s->out_file >= 0 ? RUN_SINK_FD : through,
                     s->out_file >= 0 ? s->out_file : 1, NULL);
    run_stream_setup(&c->err, c, s->err_file >= 0 ? RUN_SINK_FD : through,
                     s->err_file >= 0 ? s->err_file : 2, NULL);

    struct spawn_request req;
    memset(&req, 0, sizeof(req));
    req.argv = s->cmd;
    req.envp = own_env ? (const char *const *)env.v : (const char *const *)environ;
    req.cwd = o->cwd;
    req.umask = -1;
    /* an unprivileged tend may "switch" to itself; anything else is for setuid() to refuse */
    req.user = have_user && (geteuid() == 0 || user.uid != geteuid()) ? &user : NULL;
    req.nmap = 1;
    req.map[0].target = 0;
    int in_pipe[2] = {-1, -1};
    switch (s->input) {
    case RUN_INPUT_NULL:
        req.map[0].src = -1;
        break;
    case RUN_INPUT_DIRECT:
        req.map[0].src = s->src_fd;
        break;
    case RUN_INPUT_PUMP:
    case RUN_INPUT_TEXT:
        if (run_pipe(in_pipe, 1) < 0) {
            msg = xasprintf("cannot create a pipe: %s", strerror(errno));
            goto fail;
        }
        req.map[0].src = in_pipe[0];
        break;
    }

    struct spawn_error se;
    int rc = run_child_spawn(c, &req, false, -1, -1, &se);
    run_close(&in_pipe[0]);
    if (rc < 0) {
        run_close(&in_pipe[1]);
        msg = spawn_error_message(&se);
        code = spawn_error_exit_code(&se);
        spawn_error_free(&se);
        single_fail(s, msg, code);
        goto out;
    }
    if (s->input == RUN_INPUT_PUMP || s->input == RUN_INPUT_TEXT) {
        s->in_fd = in_pipe[1];
        ev_io_init(&s->in_io, single_in_cb, s->in_fd, EV_WRITE);
        s->in_io.data = s;
        if (s->input == RUN_INPUT_TEXT) {
            s->pending = o->input_text;
            s->pending_len = strlen(o->input_text);
        } else {
            s->src_buf = xmalloc(RUN_BUF_SIZE);
            ev_io_init(&s->src_io, single_src_cb, s->src_fd, EV_READ);
            s->src_io.data = s;
        }
        single_feed_flush(s);
    }
    if (o->timeout_ms > 0) {
        ev_timer_init(&s->timeout, single_timeout_cb, (double)o->timeout_ms / 1000.0, 0.);
        s->timeout.data = s;
        ev_timer_start(s->r.loop, &s->timeout);
    }
    /* the child may be gone already; whatever it did is waiting in the loop */
    ev_run(s->r.loop, 0);
    code = single_finish(s);
    goto out;

fail:
    code = single_fail(s, msg, RUN_EXIT_FAILED);
out:
    free(msg);
    if (own_env) {
        strv_free(&env);
    }
    if (have_user) {
        spawn_user_free(&user);
    }
    return code;
}

static int
single_main(const struct run_opts *o)
{
    struct run_single s;
    memset(&s, 0, sizeof(s));
    s.o = o;
    s.src_fd = s.in_fd = s.out_file = s.err_file = -1;
    if (o->shell) {
        struct strbuf line;
        strbuf_init(&line);
        for (int i = 0; i < o->nwords; i++) {
            if (i) {
                strbuf_addc(&line, ' ');
            }
            strbuf_adds(&line, o->words[i]);
        }
        strv_init(&s.argv);
        strv_push(&s.argv, "/bin/sh");
        strv_push(&s.argv, "-c");
        strv_push_owned(&s.argv, strbuf_detach(&line));
        s.cmd = (const char *const *)s.argv.v;
        s.name = "sh";
    } else {
        s.cmd = (const char *const *)o->words;
        s.name = o->words[0];
    }
    /* fds tend inherited must not reach the child, and pipes must not become fd 0-2 */
    spawn_sanitize_fds();
    runner_init(&s.r, &s);
    run_child_init(&s.child, &s.r, s.name);
    s.child.owner = &s;
    s.child.on_exit = single_on_exit;
    s.child.on_done = single_on_done;
    ev_timer_init(&s.kill_timer, single_kill_cb, 0., 0.);
    s.kill_timer.data = &s;
    ev_timer_init(&s.timeout, single_timeout_cb, 0., 0.);
    s.timeout.data = &s;

    int code = single_run(&s);

    single_feed_stop(&s);
    ev_timer_stop(s.r.loop, &s.timeout);
    ev_timer_stop(s.r.loop, &s.kill_timer);
    run_child_free(&s.child);
    runner_free(&s.r);
    if (s.src_owned) {
        run_close(&s.src_fd);
    }
    run_close(&s.out_file);
    run_close(&s.err_file);
    free(s.src_buf);
    if (o->shell) {
        strv_free(&s.argv);
    }
    return code;
}

/* ---- the jobs of a config file ---- */

enum job_state { JOB_WAITING, JOB_RUNNING, JOB_OK, JOB_FAILED, JOB_SKIPPED };

static const char *const job_state_names[] = {"waiting", "running", "ok", "failed", "skipped"};

struct batch;
struct batch_job;

/* Where one output stream of a job goes (stdout = / stderr = in the file). */
enum route_kind {
    ROUTE_PREFIX, /* no target: to tend's output, each line behind the job's name */
    ROUTE_DIRECT, /* one target: the child's fd is the file, or the reader's stdin pipe
                   * (shared by all its writers: no copying, unless another stream into the
                   * same reader needs it) */
    ROUTE_COPY,   /* several targets, or a reader tend writes into: tend copies to every
                   * reader and file (fan-out, tee) */
};

struct batch_route {
    enum route_kind kind;
    struct batch_job **readers; /* the jobs whose stdin it feeds (program:NAME, every process) */
    size_t nreaders;
    const char **files; /* file:PATH targets (the config's strings) */
    int *file_fds;      /* the batch's open files; -1 after a write error */
    size_t nfiles;
};

struct batch_job {
    struct batch *b;
    const struct proc_config *pc;
    enum job_state state;
    struct run_child child;
    char *prefix_out, *prefix_err;
    char *detail; /* "exited with status 1", "dependency build failed", ... */
    char *error;  /* why it could not start */
    bool ran;
    size_t unit;                 /* its pipeline, in b->units */
    bool visited;                /* while its pipeline starts: readers before writers */
    struct batch_route route[2]; /* stdout, stderr (with redirect_stderr: all in [0]) */
    /* stdin, when other jobs' streams feed it */
    bool reader;
    bool in_copied; /* some stream into it has several targets: tend writes all of them */
    int in_rd;      /* the child's end, until it is spawned */
    int in_wr;      /* shared by the writers (direct), or tend's own (copied, non-blocking) */
    size_t in_open; /* copied streams into it that have not reached EOF */
    struct strbuf in_pending; /* copied bytes the pipe had no room for, from in_off on */
    size_t in_off;
    ev_io in_io;
};

/* The unit of scheduling: a pipeline (the jobs connected by program: targets, whichever the
 * direction), or one job alone. */
enum unit_state { UNIT_WAITING, UNIT_RUNNING, UNIT_DONE };

struct batch_unit {
    size_t *members; /* indexes in b->jobs, in start order */
    size_t n;
    enum unit_state state;
    size_t live; /* members spawned and not done */
};

struct batch_file {
    char *path;
    int fd;
};

struct batch {
    struct runner r;
    const struct run_opts *o;
    struct config *cfg;
    struct batch_job *jobs; /* the selected processes, in start order */
    size_t njobs;
    struct batch_unit *units; /* in the order of their first member */
    size_t nunits;
    struct batch_file *files; /* file: targets, each opened (and truncated) once */
    size_t nfiles;
    long max_running;
    size_t running; /* units, not jobs: see batch_schedule */
    bool stopping;  /* after a failure or a signal: no new job starts */
    int interrupted;
};

static void batch_schedule(struct batch *b);

/* Whether pc's stdout or stderr names program:PROGRAM. */
static bool
batch_feeds(const struct proc_config *pc, const char *program)
{
    const struct strv *lists[] = {&pc->stdout, &pc->stderr};
    for (size_t t = 0; t < ARRAY_SIZE(lists); t++) {
        for (size_t k = 0; k < lists[t]->n; k++) {
            const char *x = lists[t]->v[k];
            if (strncmp(x, "program:", 8) == 0 && strcmp(x + 8, program) == 0) {
                return true;
            }
        }
    }
    return false;
}

/* Selects by process name, program name, group name, GROUP:* or GROUP:NAME, then pulls in
 * every process of the programs the selected ones depend on, and the whole pipeline of every
 * selected stage: its readers and its writers. */
static int
batch_select(const struct config *cfg, const struct run_opts *o, bool *sel)
{
    for (size_t i = 0; i < cfg->nprocs; i++) {
        sel[i] = o->nwords == 0 && cfg->procs[i]->autostart;
    }
    for (int w = 0; w < o->nwords; w++) {
        const char *word = o->words[w];
        const char *colon = strchr(word, ':');
        bool matched = false;
        for (size_t i = 0; i < cfg->nprocs; i++) {
            const struct proc_config *pc = cfg->procs[i];
            bool m;
            if (colon) {
                size_t glen = (size_t)(colon - word);
                m = strlen(pc->group) == glen && strncmp(pc->group, word, glen) == 0 &&
                    (strcmp(colon + 1, "*") == 0 || strcmp(colon + 1, pc->name) == 0 ||
                     strcmp(colon + 1, pc->program) == 0);
            } else {
                m = strcmp(word, pc->name) == 0 || strcmp(word, pc->program) == 0 ||
                    strcmp(word, pc->group) == 0;
            }
            if (m) {
                sel[i] = matched = true;
            }
        }
        if (!matched) {
            fprintf(stderr, "tend: run: no process, program or group named '%s' in %s\n", word,
                    cfg->global.file);
            return -1;
        }
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < cfg->nprocs; i++) {
            if (!sel[i]) {
                continue;
            }
            const struct proc_config *pc = cfg->procs[i];
            const struct strv *deps = &pc->depends_on;
            for (size_t k = 0; k < cfg->nprocs; k++) {
                const struct proc_config *other = cfg->procs[k];
                if (sel[k]) {
                    continue;
                }
                bool pull = batch_feeds(pc, other->program) || batch_feeds(other, pc->program);
                for (size_t d = 0; d < deps->n && !pull; d++) {
                    pull = strcmp(other->program, deps->v[d]) == 0;
                }
                if (pull) {
                    sel[k] = changed = true;
                }
            }
        }
    }
    return 0;
}

/* JOB_OK when every process of every program j depends on succeeded, JOB_FAILED (with the
 * culprit) when one failed or was skipped, JOB_WAITING otherwise. */
static enum job_state
batch_deps_state(struct batch *b, const struct batch_job *j, const char **culprit)
{
    enum job_state st = JOB_OK;
    const struct strv *deps = &j->pc->depends_on;
    for (size_t d = 0; d < deps->n; d++) {
        for (size_t k = 0; k < b->njobs; k++) {
            const struct batch_job *dep = &b->jobs[k];
            if (strcmp(dep->pc->program, deps->v[d]) != 0) {
                continue;
            }
            if (dep->state == JOB_FAILED || dep->state == JOB_SKIPPED) {
                *culprit = dep->pc->name;
                return JOB_FAILED;
            }
            if (dep->state != JOB_OK) {
                st = JOB_WAITING;
            }
        }
    }
    return st;
}

/* The same for a whole pipeline: it starts when the dependencies of all its stages allow. */
static enum job_state
batch_unit_deps_state(struct batch *b, const struct batch_unit *u, const char **culprit)
{
    enum job_state st = JOB_OK;
    for (size_t m = 0; m < u->n; m++) {
        enum job_state s = batch_deps_state(b, &b->jobs[u->members[m]], culprit);
        if (s == JOB_FAILED) {
            return JOB_FAILED;
        }
        if (s == JOB_WAITING) {
            st = JOB_WAITING;
        }
    }
    return st;
}

/* ---- pipelines: stdout / stderr = program:NAME, file:PATH ---- */

static void
batch_route_add(struct batch *b, struct batch_route *rt, const struct strv *targets)
{
    for (size_t k = 0; k < targets->n; k++) {
        const char *x = targets->v[k];
        if (strncmp(x, "file:", 5) == 0) {
            bool dup = false;
            for (size_t f = 0; f < rt->nfiles && !dup; f++) {
                dup = strcmp(rt->files[f], x + 5) == 0;
            }
            if (!dup) {
                rt->files = xrealloc(rt->files, (rt->nfiles + 1) * sizeof(*rt->files));
                rt->files[rt->nfiles++] = x + 5;
            }
            continue;
        }
        if (strncmp(x, "program:", 8) != 0) {
            continue;
        }
        for (size_t i = 0; i < b->njobs; i++) {
            struct batch_job *r = &b->jobs[i];
            bool dup = strcmp(r->pc->program, x + 8) != 0;
            for (size_t n = 0; n < rt->nreaders && !dup; n++) {
                dup = rt->readers[n] == r;
            }
            if (!dup) {
                rt->readers = xrealloc(rt->readers, (rt->nreaders + 1) * sizeof(*rt->readers));
                rt->readers[rt->nreaders++] = r;
            }
        }
    }
}

static size_t
batch_root(size_t *parent, size_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/* Resolves every job's targets into routes, decides which stdin pipes the writers can share
 * (kernel to kernel, nothing copied) and which tend must copy into, and groups the jobs into
 * pipelines (units). As with `tend up`, redirect_stderr merges stderr into stdout, and the
 * merged stream goes to the targets of both. */
static void
batch_wire(struct batch *b)
{
    for (size_t i = 0; i < b->njobs; i++) {
        struct batch_job *j = &b->jobs[i];
        batch_route_add(b, &j->route[0], &j->pc->stdout);
        batch_route_add(b, &j->route[j->pc->redirect_stderr ? 0 : 1], &j->pc->stderr);
        for (size_t t = 0; t < 2; t++) {
            struct batch_route *rt = &j->route[t];
            for (size_t k = 0; k < rt->nreaders; k++) {
                rt->readers[k]->reader = true;
                rt->readers[k]->in_copied |= rt->nreaders + rt->nfiles > 1;
            }
        }
    }
    size_t *parent = xcalloc(b->njobs, sizeof(*parent));
    for (size_t i = 0; i < b->njobs; i++) {
        parent[i] = i;
    }
    for (size_t i = 0; i < b->njobs; i++) {
        struct batch_job *j = &b->jobs[i];
        for (size_t t = 0; t < 2; t++) {
            struct batch_route *rt = &j->route[t];
            if (rt->nreaders + rt->nfiles == 0) {
                rt->kind = ROUTE_PREFIX;
            } else if (rt->nreaders + rt->nfiles == 1 &&
                       (rt->nfiles == 1 || !rt->readers[0]->in_copied)) {
                rt->kind = ROUTE_DIRECT;
            } else {
                rt->kind = ROUTE_COPY;
            }
            rt->file_fds = xcalloc(rt->nfiles ? rt->nfiles : 1, sizeof(int));
            for (size_t f = 0; f < rt->nfiles; f++) {
                rt->file_fds[f] = -1;
            }
            for (size_t k = 0; k < rt->nreaders; k++) {
                size_t a = batch_root(parent, i);
                size_t z = batch_root(parent, (size_t)(rt->readers[k] - b->jobs));
                parent[a > z ? a : z] = a < z ? a : z;
            }
        }
    }
    /* units in the order of their first member, members in job (priority) order */
    size_t *unit_of_root = xcalloc(b->njobs, sizeof(*unit_of_root));
    b->units = xcalloc(b->njobs ? b->njobs : 1, sizeof(*b->units));
    for (size_t i = 0; i < b->njobs; i++) {
        size_t root = batch_root(parent, i);
        if (root == i) {
            unit_of_root[root] = b->nunits++;
        }
        struct batch_unit *u = &b->units[unit_of_root[root]];
        u->members = xrealloc(u->members, (u->n + 1) * sizeof(*u->members));
        u->members[u->n++] = i;
        b->jobs[i].unit = unit_of_root[root];
    }
    free(unit_of_root);
    free(parent);
}

/* A file: target, opened (and truncated) the first time a job needs it and shared from then
 * on, so stdout and stderr, or several jobs, writing to one file do not overwrite each other. */
static int
batch_file_open(struct batch *b, const char *path, char **err)
{
    for (size_t i = 0; i < b->nfiles; i++) {
        if (strcmp(b->files[i].path, path) == 0) {
            return b->files[i].fd;
        }
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        *err = xasprintf("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    b->files = xrealloc(b->files, (b->nfiles + 1) * sizeof(*b->files));
    b->files[b->nfiles].path = xstrdup(path);
    b->files[b->nfiles++].fd = fd;
    return fd;
}

static size_t
batch_in_queued(const struct batch_job *r)
{
    return r->in_pending.len - r->in_off;
}

/* The reader stopped reading (EPIPE), or never started: what was for it is dropped. */
static void
batch_in_gone(struct batch_job *r)
{
    ev_io_stop(r->b->r.loop, &r->in_io);
    run_close(&r->in_wr);
    strbuf_reset(&r->in_pending);
    r->in_off = 0;
}

/* A copied stdin reaches EOF once every stream into it ended and tend wrote all it had. */
static void
batch_in_maybe_close(struct batch_job *r)
{
    if (r->in_wr >= 0 && r->in_open == 0 && batch_in_queued(r) == 0) {
        ev_io_stop(r->b->r.loop, &r->in_io);
        run_close(&r->in_wr);
    }
}

/* After a reader drained its queue or went away: a copying stream all of whose readers are
 * gone is closed, so its writer gets SIGPIPE / EPIPE on its next write, as `tee` in a shell
 * pipeline would give it (a file: target beside them does not keep it alive); a paused one
 * whose readers have room again is read again. */
static void
batch_wake(struct batch *b, const struct batch_unit *u)
{
    for (size_t m = 0; m < u->n; m++) {
        struct batch_job *j = &b->jobs[u->members[m]];
        for (size_t t = 0; t < 2; t++) {
            struct batch_route *rt = &j->route[t];
            struct run_stream *s = t == 0 ? &j->child.out : &j->child.err;
            if (rt->kind != ROUTE_COPY || s->fd < 0) {
                continue;
            }
            /* while s is open every reader's in_open counts it: a closed in_wr means gone */
            bool all_gone = rt->nreaders > 0, blocked = false;
            for (size_t k = 0; k < rt->nreaders; k++) {
                if (rt->readers[k]->in_wr >= 0) {
                    all_gone = false;
                    blocked = blocked || batch_in_queued(rt->readers[k]) > 0;
                }
            }
            if (all_gone) {
                run_stream_close(s);
                run_child_check_done(&j->child);
            } else if (s->paused && !blocked) {
                s->paused = false;
                ev_io_start(b->r.loop, &s->io);
            }
        }
    }
}

/* Writes what the pipe takes now and queues the rest. -1 when the reader is gone. */
static int
batch_in_push(struct batch_job *r, const char *p, size_t n)
{
    while (n > 0 && batch_in_queued(r) == 0) {
        ssize_t w = write(r->in_wr, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && errno != EAGAIN) {
            batch_in_gone(r);
            return -1;
        } else {
            break;
        }
    }
    if (n > 0) {
        strbuf_add(&r->in_pending, p, n);
        ev_io_start(r->b->r.loop, &r->in_io);
    }
    return 0;
}

static void
batch_in_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    struct batch_job *r = w->data;
    while (batch_in_queued(r) > 0) {
        ssize_t n = write(r->in_wr, r->in_pending.buf + r->in_off, batch_in_queued(r));
        if (n > 0) {
            r->in_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno != EAGAIN) {
            batch_in_gone(r);
            batch_wake(r->b, &r->b->units[r->unit]);
            return;
        } else {
            return; /* no room yet: the watcher stays */
        }
    }
    strbuf_reset(&r->in_pending);
    r->in_off = 0;
    ev_io_stop(r->b->r.loop, &r->in_io);
    batch_in_maybe_close(r);
    batch_wake(r->b, &r->b->units[r->unit]);
}

/* RUN_SINK_HOOK of a ROUTE_COPY stream: every file gets the bytes at once, every reader as
 * its pipe takes them. While a reader has bytes queued the stream is not read, so the writer
 * blocks on its full pipe: the slowest reader sets the pace, and tend holds at most one read
 * per reader. */
static void
batch_tee(struct run_stream *s, const char *p, size_t n)
{
    struct batch_job *j = s->child->owner;
    struct batch *b = j->b;
    struct batch_route *rt = &j->route[s == &j->child.out ? 0 : 1];
    if (!p) {
        for (size_t k = 0; k < rt->nreaders; k++) {
            rt->readers[k]->in_open--;
            batch_in_maybe_close(rt->readers[k]);
        }
        return;
    }
    for (size_t f = 0; f < rt->nfiles; f++) {
        if (rt->file_fds[f] >= 0 && run_write_all(rt->file_fds[f], p, n) < 0) {
            fprintf(stderr, "tend: %s: cannot write to %s: %s\n", j->pc->name, rt->files[f],
                    strerror(errno));
            rt->file_fds[f] = -1;
        }
    }
    bool gone = false, blocked = false;
    for (size_t k = 0; k < rt->nreaders; k++) {
        struct batch_job *r = rt->readers[k];
        if (r->in_wr < 0) {
            continue;
        }
        if (batch_in_push(r, p, n) < 0) {
            gone = true;
        } else if (batch_in_queued(r) > 0) {
            blocked = true;
        }
    }
    if (blocked) {
        ev_io_stop(b->r.loop, &s->io);
        s->paused = true;
    }
    if (gone) {
        batch_wake(b, &b->units[j->unit]);
    }
}

/* The environment as `tend up` builds it (spawn_build_environment). */
static int
batch_build_env(const struct batch *b, const struct proc_config *pc, const struct spawn_user *user,
                struct strv *env, char **err)
{
    return spawn_build_environment(&b->cfg->global.environment, pc, user, env, err);
}

static void
batch_job_finished(struct batch_job *j, enum job_state st)
{
    struct batch *b = j->b;
    j->state = st;
    if (st == JOB_FAILED && !b->o->keep_going && !b->stopping) {
        b->stopping = true;
        fprintf(stderr, "tend: %s %s; no new job starts (--keep-going would go on)\n", j->pc->name,
                j->detail ? j->detail : "failed");
    }
}

static void
batch_on_done(struct run_child *c)
{
    struct batch_job *j = c->owner;
    struct batch *b = j->b;
    struct batch_unit *u = &b->units[j->unit];
    struct exit_info x = exit_decode(c->status);
    free(j->detail);
    j->detail = exit_describe(&x);
    if (--u->live == 0) {
        u->state = UNIT_DONE;
        b->running--;
    }
    bool ok = x.code >= 0 && exitcodes_has(&j->pc->exitcodes, x.code);
    batch_job_finished(j, ok ? JOB_OK : JOB_FAILED);
    batch_schedule(b);
}

static void
batch_fail(struct batch_job *j, char *err)
{
    fprintf(stderr, "tend: %s: %s\n", j->pc->name, err);
    free(j->error);
    free(j->detail);
    j->error = err;
    j->detail = xstrdup(err);
    batch_job_finished(j, JOB_FAILED);
}

/* The fd a ROUTE_DIRECT stream hands the child, or -1 for a pipe tend reads. */
static int
batch_route_fd(const struct batch_route *rt)
{
    if (rt->kind != ROUTE_DIRECT) {
        return -1;
    }
    return rt->nreaders ? rt->readers[0]->in_wr : rt->file_fds[0];
}

static void
batch_start(struct batch_job *j)
{
    struct batch *b = j->b;
    const struct proc_config *pc = j->pc;
    struct spawn_user user;
    bool have_user = false;
    struct strv env = {0};
    bool have_env = false;
    int in = -1;
    char *err = NULL;

    if (pc->user) {
        if (spawn_user_lookup(pc->user, &user, &err) < 0) {
            goto fail;
        }
        have_user = true;
    }
    if (batch_build_env(b, pc, have_user ? &user : NULL, &env, &err) < 0) {
        goto fail;
    }
    have_env = true;
    if (!j->reader && pc->stdin.kind == STDIN_FILE) {
        in = open(pc->stdin.path, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
            err = xasprintf("cannot open stdin file %s: %s", pc->stdin.path, strerror(errno));
            goto fail;
        }
    }
    for (size_t t = 0; t < 2; t++) {
        struct batch_route *rt = &j->route[t];
        for (size_t f = 0; f < rt->nfiles; f++) {
            rt->file_fds[f] = batch_file_open(b, rt->files[f], &err);
            if (rt->file_fds[f] < 0) {
                goto fail;
            }
        }
    }
    struct spawn_request req;
    memset(&req, 0, sizeof(req));
    req.argv = (const char *const *)pc->command.v;
    req.envp = (const char *const *)env.v;
    req.cwd = pc->directory;
    req.umask = pc->umask >= 0 ? pc->umask : b->cfg->global.umask;
    req.user = have_user && (geteuid() == 0 || user.uid != geteuid()) ? &user : NULL;
    req.map[0].src = j->reader ? j->in_rd : in;
    req.map[0].target = 0;
    req.nmap = 1;
    struct spawn_error se;
    if (run_child_spawn(&j->child, &req, pc->redirect_stderr, batch_route_fd(&j->route[0]),
                        batch_route_fd(&j->route[1]), &se) < 0) {
        err = spawn_error_message(&se);
        spawn_error_free(&se);
        goto fail;
    }
    j->state = JOB_RUNNING;
    j->ran = true;
    b->units[j->unit].live++;
    for (size_t t = 0; t < 2; t++) {
        const struct batch_route *rt = &j->route[t];
        const struct run_stream *s = t == 0 ? &j->child.out : &j->child.err;
        for (size_t k = 0; rt->kind == ROUTE_COPY && s->fd >= 0 && k < rt->nreaders; k++) {
            rt->readers[k]->in_open++;
        }
    }
    goto out;

fail:
    batch_fail(j, err);
    err = NULL;
out:
    free(err);
    run_close(&in);
    if (have_env) {
        strv_free(&env);
    }
    if (have_user) {
        spawn_user_free(&user);
    }
}

/* Depth first along the pipes: every reader is running (or failed) before its writers. */
static void
batch_start_readers_first(struct batch_job *j)
{
    if (j->visited) {
        return;
    }
    j->visited = true;
    for (size_t t = 0; t < 2; t++) {
        for (size_t k = 0; k < j->route[t].nreaders; k++) {
            batch_start_readers_first(j->route[t].readers[k]);
        }
    }
    batch_start(j);
}

/* Starts every stage of a pipeline: the stdin pipes first, then the stages, readers before
 * writers; then tend closes every end it does not use itself, or no reader would see EOF. A
 * stage that cannot start fails alone, as in a shell: its readers see EOF, its writers get
 * SIGPIPE. */
static void
batch_start_unit(struct batch *b, struct batch_unit *u)
{
    for (size_t m = 0; m < u->n; m++) {
        struct batch_job *r = &b->jobs[u->members[m]];
        if (!r->reader) {
            continue;
        }
        int fds[2];
        if (run_pipe(fds, r->in_copied ? 1 : -1) < 0) {
            char *msg = xasprintf("cannot create a pipe: %s", strerror(errno));
            for (size_t k = 0; k < u->n; k++) {
                struct batch_job *j = &b->jobs[u->members[k]];
                run_close(&j->in_rd);
                run_close(&j->in_wr);
                batch_fail(j, xstrdup(msg));
            }
            free(msg);
            u->state = UNIT_DONE;
            return;
        }
        r->in_rd = fds[0];
        r->in_wr = fds[1];
        ev_io_init(&r->in_io, batch_in_cb, r->in_wr, EV_WRITE);
        r->in_io.data = r;
    }
    u->live = 0;
    for (size_t m = 0; m < u->n; m++) {
        b->jobs[u->members[m]].visited = false;
    }
    for (size_t m = 0; m < u->n; m++) {
        batch_start_readers_first(&b->jobs[u->members[m]]);
    }
    for (size_t m = 0; m < u->n; m++) {
        struct batch_job *r = &b->jobs[u->members[m]];
        run_close(&r->in_rd);
        if (!r->in_copied) {
            run_close(&r->in_wr); /* the writers have it */
        } else if (r->state != JOB_RUNNING) {
            batch_in_gone(r);
        } else {
            batch_in_maybe_close(r); /* no writer started */
        }
    }
    if (u->live == 0) {
        u->state = UNIT_DONE;
        return;
    }
    u->state = UNIT_RUNNING;
    b->running++;
    batch_wake(b, u);
}

/* Starts what may start, in priority order, as long as slots are free; skips what depends on
 * a failure; ends the loop when nothing runs and nothing more can start.
 *
 * The unit is the pipeline: all its stages start together and -j counts it as ONE slot. Its
 * stages must run at the same time (a writer blocks on a full pipe until its reader reads),
 * so counting stages could leave a reader waiting for a slot its own writer holds: with
 * -j 1 a pipeline of three runs its three stages, and nothing else, at once. A job alone is a
 * unit of one. */
static void
batch_schedule(struct batch *b)
{
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < b->nunits; i++) {
            struct batch_unit *u = &b->units[i];
            if (u->state != UNIT_WAITING) {
                continue;
            }
            const char *culprit = NULL;
            enum job_state deps = batch_unit_deps_state(b, u, &culprit);
            if (deps == JOB_FAILED) {
                for (size_t m = 0; m < u->n; m++) {
                    struct batch_job *j = &b->jobs[u->members[m]];
                    j->detail = xasprintf("not started: dependency %s did not succeed", culprit);
                    j->state = JOB_SKIPPED;
                }
                u->state = UNIT_DONE;
                changed = true;
            } else if (deps == JOB_OK && !b->stopping && b->running < (size_t)b->max_running) {
                batch_start_unit(b, u);
                changed = changed || u->state != UNIT_RUNNING;
            }
        }
    }
    if (b->running > 0) {
        return;
    }
    /* With nothing running and no failure, what still waits depends (through depends_on) on
     * a stage of its own pipeline, which cannot end before the pipeline starts. */
    const char **culprits = xcalloc(b->nunits ? b->nunits : 1, sizeof(*culprits));
    for (size_t i = 0; i < b->nunits; i++) {
        const struct batch_unit *u = &b->units[i];
        const char *culprit = NULL;
        for (size_t m = 0; m < u->n && !culprit; m++) {
            const struct strv *deps = &b->jobs[u->members[m]].pc->depends_on;
            for (size_t d = 0; d < deps->n && !culprit; d++) {
                for (size_t k = 0; k < b->njobs && !culprit; k++) {
                    if (b->jobs[k].state == JOB_WAITING &&
                        strcmp(b->jobs[k].pc->program, deps->v[d]) == 0) {
                        culprit = b->jobs[k].pc->name;
                    }
                }
            }
        }
        culprits[i] = culprit;
    }
    for (size_t i = 0; i < b->nunits; i++) {
        struct batch_unit *u = &b->units[i];
        if (u->state != UNIT_WAITING) {
            continue;
        }
        const char *culprit = culprits[i];
        char *why = b->interrupted ? xstrdup("not started: tend was interrupted")
                    : b->stopping  ? xstrdup("not started after an earlier failure")
                                   : xasprintf("not started: dependency %s waits for a pipeline "
                                                "that waits for it",
                                              culprit ? culprit : "?");
        for (size_t m = 0; m < u->n; m++) {
            struct batch_job *j = &b->jobs[u->members[m]];
            j->state = JOB_SKIPPED;
            free(j->detail);
            j->detail = xstrdup(why);
        }
        free(why);
        u->state = UNIT_DONE;
    }
    free(culprits);
    ev_break(b->r.loop, EVBREAK_ALL);
}

static void
batch_on_signal(struct runner *r, int sig)
{
    struct batch *b = r->owner;
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT) {
        b->stopping = true;
        b->interrupted = sig;
    }
}

static double
batch_job_duration(const struct batch_job *j)
{
    return j->ran ? j->child.ended - j->child.started : 0.0;
}

static void
batch_print_json(const struct batch *b)
{
    struct strbuf sb;
    struct json jw;
    strbuf_init(&sb);
    json_init(&jw, &sb, false);
    json_array_begin(&jw);
    for (size_t i = 0; i < b->njobs; i++) {
        const struct batch_job *j = &b->jobs[i];
        struct exit_info x = exit_decode(j->child.status);
        bool ran = j->ran && j->child.exited;
        json_object_begin(&jw);
        json_key(&jw, "name");
        json_string(&jw, j->pc->name);
        json_key(&jw, "program");
        json_string(&jw, j->pc->program);
        json_key(&jw, "group");
        json_string(&jw, j->pc->group);
        json_key(&jw, "status");
        json_string(&jw, job_state_names[j->state]);
        json_key(&jw, "exit_code");
        if (ran && x.code >= 0) {
            json_int(&jw, x.code);
        } else {
            json_null(&jw);
        }
        json_key(&jw, "signal");
        json_string(&jw, ran && x.signal ? signal_name(x.signal) : NULL);
        json_key(&jw, "core_dumped");
        json_bool(&jw, ran && x.core_dumped);
        json_key(&jw, "duration_s");
        if (ran) {
            json_double(&jw, run_round_us(batch_job_duration(j)));
        } else {
            json_null(&jw);
        }
        json_key(&jw, "pid");
        if (j->ran) {
            json_int(&jw, j->child.pid);
        } else {
            json_null(&jw);
        }
        json_key(&jw, "detail");
        json_string(&jw, j->detail);
        json_key(&jw, "error");
        json_string(&jw, j->error);
        json_object_end(&jw);
    }
    json_array_end(&jw);
    strbuf_addc(&sb, '\n');
    run_write_all(1, sb.buf, sb.len);
    strbuf_free(&sb);
}

static void
batch_print_table(const struct batch *b, int width)
{
    if (width < 4) {
        width = 4;
    }
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_addf(&sb, "%-*s  %-7s  %9s  %s\n", width, "NAME", "STATUS", "DURATION", "RESULT");
    for (size_t i = 0; i < b->njobs; i++) {
        const struct batch_job *j = &b->jobs[i];
        char dur[32] = "-";
        if (j->ran && j->child.exited) {
            snprintf(dur, sizeof(dur), "%.2fs", batch_job_duration(j));
        }
        strbuf_addf(&sb, "%-*s  %-7s  %9s  %s\n", width, j->pc->name, job_state_names[j->state],
                    dur, j->detail ? j->detail : "");
    }
    run_write_all(2, sb.buf, sb.len);
    strbuf_free(&sb);
}

/* "name  | " padded to the longest name; coloured like docker compose on a terminal. */
static char *
batch_prefix(const char *name, int width, size_t index, bool colour)
{
    static const char *const palette[] = {"36", "33", "32", "35", "34",
                                          "96", "93", "92", "95", "94"};
    if (!colour) {
        return xasprintf("%-*s | ", width, name);
    }
    return xasprintf("\033[%sm%-*s |\033[0m ", palette[index % ARRAY_SIZE(palette)], width, name);
}

static int
batch_main(const struct run_opts *o)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_load(o->config, &d);
    diag_print(&d, stderr);
    if (!cfg) {
        fprintf(stderr, "tend: %zu error%s in the configuration; nothing done\n", d.errors.n,
                d.errors.n == 1 ? "" : "s");
        diag_free(&d);
        return EXIT_CONFIG;
    }
    diag_free(&d);

    bool *sel = xcalloc(cfg->nprocs, sizeof(bool));
    if (batch_select(cfg, o, sel) < 0) {
        free(sel);
        config_free(cfg);
        return RUN_EXIT_USAGE;
    }
    /* a job reads /dev/null: an fcgi-program without its socket would run as something else */
    for (size_t i = 0; i < cfg->nprocs; i++) {
        if (sel[i] && cfg->procs[i]->fcgi) {
            fprintf(stderr, "%s:%d: [fcgi-program:%s]: tend run -c has no sockets to serve; "
                            "run it with tend up\n",
                    cfg->procs[i]->file, cfg->procs[i]->line, cfg->procs[i]->program);
            free(sel);
            config_free(cfg);
            return EXIT_CONFIG;
        }
    }

    spawn_sanitize_fds();
    struct batch b;
    memset(&b, 0, sizeof(b));
    b.o = o;
    b.cfg = cfg;
    b.max_running = o->jobs;
    if (b.max_running <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        b.max_running = n > 0 ? n : 1;
    }
    runner_init(&b.r, &b);
    b.r.on_signal = batch_on_signal;
    b.jobs = xcalloc(cfg->nprocs, sizeof(*b.jobs));
    int width = 0;
    for (size_t i = 0; i < cfg->nprocs; i++) {
        if (sel[i]) {
            b.jobs[b.njobs++].pc = cfg->procs[i];
            int len = (int)strlen(cfg->procs[i]->name);
            width = len > width ? len : width;
        }
    }
    free(sel);
    for (size_t i = 0; i < b.njobs; i++) {
        struct batch_job *j = &b.jobs[i];
        j->b = &b;
        j->in_rd = j->in_wr = -1;
        strbuf_init(&j->in_pending);
        ev_io_init(&j->in_io, batch_in_cb, -1, EV_WRITE);
        j->in_io.data = j;
    }
    batch_wire(&b);
    /* job output goes to tend's stdout and stderr, or all to stderr when stdout is JSON; a
     * stream with targets goes to them instead (copied by tend, or not seen by it at all) */
    int out_fd = o->json ? 2 : 1;
    bool no_color = getenv("NO_COLOR") && *getenv("NO_COLOR");
    bool colour_out = !no_color && isatty(out_fd);
    bool colour_err = !no_color && isatty(2);
    for (size_t i = 0; i < b.njobs; i++) {
        struct batch_job *j = &b.jobs[i];
        j->prefix_out = batch_prefix(j->pc->name, width, i, colour_out);
        j->prefix_err = batch_prefix(j->pc->name, width, i, colour_err);
        run_child_init(&j->child, &b.r, j->pc->name);
        j->child.owner = j;
        j->child.on_done = batch_on_done;
        run_stream_setup(&j->child.out, &j->child,
                         j->route[0].kind == ROUTE_COPY ? RUN_SINK_HOOK : RUN_SINK_LINES, out_fd,
                         j->prefix_out);
        run_stream_setup(&j->child.err, &j->child,
                         j->route[1].kind == ROUTE_COPY ? RUN_SINK_HOOK : RUN_SINK_LINES, 2,
                         j->prefix_err);
        j->child.out.hook = j->child.err.hook = batch_tee;
    }

    batch_schedule(&b);
    if (b.running > 0) {
        ev_run(b.r.loop, 0);
    }

    int code = 0;
    for (size_t i = 0; i < b.njobs; i++) {
        if (b.jobs[i].state != JOB_OK) {
            code = 1;
        }
    }
    if (o->json) {
        batch_print_json(&b);
    } else {
        batch_print_table(&b, width);
    }

    for (size_t i = 0; i < b.njobs; i++) {
        run_child_free(&b.jobs[i].child); /* may end copies into the stdin of others */
    }
    for (size_t i = 0; i < b.njobs; i++) {
        struct batch_job *j = &b.jobs[i];
        batch_in_gone(j);
        run_close(&j->in_rd);
        strbuf_free(&j->in_pending);
        for (size_t t = 0; t < 2; t++) {
            free(j->route[t].readers);
            free(j->route[t].files);
            free(j->route[t].file_fds);
        }
        free(j->prefix_out);
        free(j->prefix_err);
        free(j->detail);
        free(j->error);
    }
    for (size_t i = 0; i < b.nunits; i++) {
        free(b.units[i].members);
    }
    free(b.units);
    for (size_t i = 0; i < b.nfiles; i++) {
        if (close(b.files[i].fd) < 0) {
            fprintf(stderr, "tend: cannot write to %s: %s\n", b.files[i].path, strerror(errno));
            code = 1;
        }
        free(b.files[i].path);
    }
    free(b.files);
    free(b.jobs);
    runner_free(&b.r);
    config_free(cfg);
    return code;
}

int
run_main(const char *config, int argc, char **argv)
{
    struct run_opts o;
    int code = run_parse(&o, config, argc, argv);
    if (code < 0) {
        code = o.config ? batch_main(&o) : single_main(&o);
    }
    strv_free(&o.env);
    strv_free(&o.names);
    return code;
}
