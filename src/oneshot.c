/* oneshot.c - `tend run -- CMD` as communicate(input, timeout): stdin from a file, pipe or
 * string; output passed, captured or to files; timeout with escalation; report or JSON.
 * Calls runner, child, spawn, exitstatus, json and values. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "exitstatus.h"
#include "json.h"
#include "runner.h"
#include "spawn.h"
#include "util.h"
#include "values.h"

extern char **environ;

enum run_input {
    RUN_INPUT_NULL,   /* /dev/null */
    RUN_INPUT_DIRECT, /* a file (or device) handed to the child as it is */
    RUN_INPUT_PUMP,   /* a pipe, socket or terminal pumped through a pipe */
    RUN_INPUT_TEXT,   /* --input-text through a pipe */
};

struct oneshot {
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
    struct child_writer in; /* tend's end of the child's stdin pipe */
    int64_t in_bytes;       /* RUN_INPUT_DIRECT: how far the child moved the offset */
    /* timeout */
    ev_timer timeout, kill_timer;
    bool timed_out;
    /* output files */
    int out_file, err_file;
};

static void
oneshot_feed_stop(struct oneshot *s)
{
    ev_io_stop(s->r.loop, &s->src_io);
    child_writer_close(&s->in);
    if (s->input == RUN_INPUT_PUMP && s->src_owned) {
        child_close(&s->src_fd);
    }
}

/* The pipe took everything queued: read more from the source. */
static void
oneshot_in_drained(struct child_writer *w)
{
    struct oneshot *s = w->data;
    if (child_writer_open(w) && s->input == RUN_INPUT_PUMP) {
        ev_io_start(s->r.loop, &s->src_io);
    }
}

/* A child that stopped reading (EPIPE) simply gets no more. */
static void
oneshot_in_gone(struct child_writer *w)
{
    oneshot_feed_stop(w->data);
}

/* Reads a chunk of the source while the pipe has room; the child's reading sets the pace. */
static void
oneshot_src_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    struct oneshot *s = w->data;
    char buf[CHILD_READ_SIZE];
    ssize_t n = read(s->src_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n < 0) {
        fprintf(stderr, "tend: cannot read the input of %s: %s\n", s->name, strerror(errno));
    }
    if (n <= 0 || child_writer_push(&s->in, buf, (size_t)n) < 0) {
        oneshot_feed_stop(s); /* the child sees EOF */
        return;
    }
    if (child_writer_queued(&s->in) > 0) {
        ev_io_stop(loop, &s->src_io); /* until oneshot_in_drained */
    }
}

/* Bytes the child took from its stdin. */
static int64_t
oneshot_in_bytes(const struct oneshot *s)
{
    return s->input == RUN_INPUT_DIRECT ? s->in_bytes : (int64_t)s->in.bytes;
}

static void
oneshot_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    struct oneshot *s = w->data;
    s->timed_out = true;
    run_child_signal(&s->child, s->o->signal, true);
    ev_timer_set(&s->kill_timer, (double)s->o->kill_after_ms / 1000.0, 0.);
    ev_timer_start(loop, &s->kill_timer);
}

static void
oneshot_kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    struct oneshot *s = w->data;
    run_child_signal(&s->child, SIGKILL, true);
}

static void
oneshot_on_exit(struct run_child *c)
{
    struct oneshot *s = c->owner;
    ev_timer_stop(s->r.loop, &s->timeout);
    ev_timer_stop(s->r.loop, &s->kill_timer);
    if (s->input == RUN_INPUT_DIRECT) {
        /* the child shared the file's offset: how far it moved is how much it read */
        off_t end = lseek(s->src_fd, 0, SEEK_CUR);
        if (end >= 0 && s->direct_start >= 0 && end > s->direct_start) {
            s->in_bytes = end - s->direct_start;
        }
    }
    oneshot_feed_stop(s);
}

static void
oneshot_on_done(struct run_child *c)
{
    struct oneshot *s = c->owner;
    ev_break(s->r.loop, EVBREAK_ALL);
}

/* Nothing tend reports needs the bytes (no --capture, --json or --report): the command gets
 * tend's own pipes, sockets and files (not a terminal) as its stdin, stdout and stderr, as
 * from a shell, and tend only waits, times out and reports its status; a pump in between
 * would copy every byte twice. */
static bool
oneshot_straight(const struct run_opts *o)
{
    return !o->capture && !o->json && !o->report;
}

/* Decides where the child's stdin comes from; opens --input. -1 with a message on failure. */
static int
oneshot_setup_input(struct oneshot *s, char **err)
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
    if (isatty(s->src_fd) ||
        ((S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) && !oneshot_straight(o))) {
        s->input = RUN_INPUT_PUMP;
    } else {
        s->input = RUN_INPUT_DIRECT;
        s->direct_start = lseek(s->src_fd, 0, SEEK_CUR);
    }
    return 0;
}

static int
oneshot_open_output(const char *path, int *fd, char **err)
{
    *fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (*fd < 0) {
        *err = xasprintf("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void
oneshot_json(struct oneshot *s, const char *error, int code)
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
    json_int(&j, oneshot_in_bytes(s));
    json_key(&j, "status");
    json_int(&j, code);
    json_key(&j, "error");
    json_string(&j, error);
    json_object_end(&j);
    strbuf_addc(&sb, '\n');
    if (child_write_all(1, sb.buf, sb.len) < 0 && errno != EPIPE) {
        fprintf(stderr, "tend: cannot write to stdout: %s\n", strerror(errno));
    }
    strbuf_free(&sb);
}

/* A failure before the command ran: the message, and the JSON object when asked for. */
static int
oneshot_fail(struct oneshot *s, const char *msg, int code)
{
    fprintf(stderr, "tend: %s\n", msg);
    if (s->o->json) {
        oneshot_json(s, msg, code);
    }
    return code;
}

static void
oneshot_report(struct oneshot *s)
{
    const struct run_child *c = &s->child;
    struct exit_info x = exit_decode(c->status);
    char *how = exit_describe(&x);
    char in[32], out[32], err[32];
    run_human_size(in, sizeof(in), oneshot_in_bytes(s));
    run_human_size(out, sizeof(out), c->out.bytes);
    run_human_size(err, sizeof(err), c->err.bytes);
    fprintf(stderr, "tend: %s %s%s after %.2fs (in %s, out %s, err %s)\n", s->name,
            s->timed_out ? "timed out and " : "", how, c->ended - c->started, in, out, err);
    free(how);
}

static int
oneshot_finish(struct oneshot *s)
{
    const struct run_opts *o = s->o;
    const struct run_child *c = &s->child;
    struct exit_info x = exit_decode(c->status);
    int code = s->timed_out ? RUN_EXIT_TIMEOUT : exit_shell_code(&x);
    if (o->json) {
        oneshot_json(s, NULL, code);
    } else if (o->capture) {
        if (c->out.sink == RUN_SINK_CAPTURE && c->out.data.len) {
            child_write_all(1, c->out.data.buf, c->out.data.len);
        }
        if (c->err.sink == RUN_SINK_CAPTURE && c->err.data.len) {
            child_write_all(2, c->err.data.buf, c->err.data.len);
        }
    }
    if (o->report) {
        oneshot_report(s);
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
oneshot_build_env(const struct run_opts *o, const struct spawn_user *user, struct strv *env)
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
oneshot_run(struct oneshot *s)
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
    own_env = oneshot_build_env(o, have_user ? &user : NULL, &env);
    if (oneshot_setup_input(s, &msg) < 0) {
        goto fail;
    }
    if (o->stdout_path && oneshot_open_output(o->stdout_path, &s->out_file, &msg) < 0) {
        goto fail;
    }
    if (o->stderr_path) {
        if (o->stdout_path && strcmp(o->stdout_path, o->stderr_path) == 0) {
            s->err_file = fcntl(s->out_file, F_DUPFD_CLOEXEC, 3);
        } else if (oneshot_open_output(o->stderr_path, &s->err_file, &msg) < 0) {
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
        if (child_pipe(in_pipe, 1) < 0) {
            msg = xasprintf("cannot create a pipe: %s", strerror(errno));
            goto fail;
        }
        req.map[0].src = in_pipe[0];
        break;
    }

    struct spawn_error se;
    int out_fd = s->out_file >= 0 ? s->out_file : 1;
    int err_fd = s->err_file >= 0 ? s->err_file : 2;
    bool straight = oneshot_straight(o);
    /* a terminal stays behind a pipe: the command is never told its output is one */
    const struct child_stdio io = {
        .out_to = straight && !isatty(out_fd) ? out_fd : -1,
        .err_to = straight && !isatty(err_fd) ? err_fd : -1,
        .merge_stderr = false,
    };
    int rc = run_child_spawn(c, &req, &io, &se);
    child_close(&in_pipe[0]);
    if (rc < 0) {
        child_close(&in_pipe[1]);
        msg = spawn_error_message(&se);
        code = spawn_error_exit_code(&se);
        spawn_error_free(&se);
        oneshot_fail(s, msg, code);
        goto out;
    }
    if (s->input == RUN_INPUT_PUMP || s->input == RUN_INPUT_TEXT) {
        child_writer_start(&s->in, in_pipe[1]);
        if (s->input == RUN_INPUT_TEXT) {
            if (child_writer_push(&s->in, o->input_text, strlen(o->input_text)) < 0) {
                oneshot_feed_stop(s);
            }
            child_writer_eof(&s->in);
        } else {
            ev_io_init(&s->src_io, oneshot_src_cb, s->src_fd, EV_READ);
            s->src_io.data = s;
            ev_io_start(s->r.loop, &s->src_io);
        }
    }
    if (o->timeout_ms > 0) {
        ev_timer_init(&s->timeout, oneshot_timeout_cb, (double)o->timeout_ms / 1000.0, 0.);
        s->timeout.data = s;
        ev_timer_start(s->r.loop, &s->timeout);
    }
    /* the child may be gone already; whatever it did is waiting in the loop */
    ev_run(s->r.loop, 0);
    code = oneshot_finish(s);
    goto out;

fail:
    code = oneshot_fail(s, msg, RUN_EXIT_FAILED);
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

int
oneshot_main(const struct run_opts *o)
{
    struct oneshot s;
    memset(&s, 0, sizeof(s));
    s.o = o;
    s.src_fd = s.out_file = s.err_file = -1;
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
    child_writer_init(&s.in, s.r.loop, oneshot_in_drained, oneshot_in_gone, &s);
    ev_init(&s.src_io, oneshot_src_cb);
    s.src_io.data = &s;
    s.child.owner = &s;
    s.child.on_exit = oneshot_on_exit;
    s.child.on_done = oneshot_on_done;
    ev_timer_init(&s.kill_timer, oneshot_kill_cb, 0., 0.);
    s.kill_timer.data = &s;
    ev_timer_init(&s.timeout, oneshot_timeout_cb, 0., 0.);
    s.timeout.data = &s;

    int code = oneshot_run(&s);

    oneshot_feed_stop(&s);
    ev_timer_stop(s.r.loop, &s.timeout);
    ev_timer_stop(s.r.loop, &s.kill_timer);
    run_child_free(&s.child);
    runner_free(&s.r);
    if (s.src_owned) {
        child_close(&s.src_fd);
    }
    child_close(&s.out_file);
    child_close(&s.err_file);
    child_writer_free(&s.in);
    if (o->shell) {
        strv_free(&s.argv);
    }
    return code;
}
