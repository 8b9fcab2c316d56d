/* wiring.c - what a process is connected to: environment and fds at spawn (child engine),
 * the sinks of its stdout/stderr, and program:NAME pipes into other programs' stdin.
 * Calls child, output, feed, ready (NOTIFY_SOCKET, fd:N), spawn and config. */
#include "supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "child.h"
#include "fcgi.h"
#include "listener.h"
#include "ready.h"
#include "spawn.h"

#define RING_SIZE (32 * 1024)

/* ---- spawning ---- */

/* tend's environment, then [tend] environment, env_file, the program's environment, and the
 * variables that tell a program who it is (supervisord's names too, for existing scripts). */
static int build_environment(struct proc *p, const struct spawn_user *user, struct strv *env,
                             char **err)
{
    if (spawn_build_environment(&p->sv->cfg->global.environment, p->cfg, user, env, err) < 0) {
        return -1;
    }
    if (p->cfg->listener) {
        listener_environment(&p->sv->cfg->global, env);
    }
    return ready_environment(p, env, err);
}

/* The child's fd 0: a file handed over as it is (the child may even seek in it), a copy of
 * the feed's read end (tend keeps its own), an event listener's own pipe (*listener_w is
 * tend's non-blocking write end), or -1 for /dev/null. */
static int proc_spawn_stdin(struct proc *p, int *in, int *listener_w, char **err)
{
    const struct proc_config *c = p->cfg;
    *in = -1;
    if (c->listener) {
        /* a fresh stdin per run: a dead listener's unread event must not reach the next one */
        int fds[2];
        if (child_pipe(fds, 1) < 0) {
            *err = xasprintf("cannot create the stdin pipe: %s", strerror(errno));
            return -1;
        }
        *in = fds[0];
        *listener_w = fds[1];
        return 0;
    }
    if (c->stdin.kind == STDIN_FILE) {
        *in = open(c->stdin.path, O_RDONLY | O_CLOEXEC);
        if (*in < 0) {
            *err = xasprintf("cannot open stdin file %s: %s", c->stdin.path, strerror(errno));
            return -1;
        }
    }
    if (p->in) {
        int rfd = feed_reader_fd(p->in);
        if (rfd < 0) {
            *err = xasprintf("cannot create the stdin pipe: %s", strerror(errno));
            return -1;
        }
        *in = fcntl(rfd, F_DUPFD_CLOEXEC, 0);
    }
    if (c->fcgi) {
        /* supervisord's contract: an fcgi-program accepts on its stdin */
        int fd = fcgi_socket_acquire(p, err);
        if (fd < 0) {
            return -1;
        }
        *in = fcntl(fd, F_DUPFD_CLOEXEC, 3); /* closed by the caller like a file; tend keeps fd */
        if (*in < 0) {
            *err = xasprintf("cannot duplicate the socket: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* A direct log (stdout/stderr_logfile_direct): the file itself as the child's fd, opened for
 * this run, so a log moved away and reopened reaches the program at its next start. */
static int proc_spawn_direct(const struct output_sink *sink, int *fd, char **err)
{
    if (!sink || !output_sink_direct(sink)) {
        return 0;
    }
    *fd = output_sink_open_direct(sink);
    if (*fd < 0) {
        *err = xasprintf("cannot open log file %s: %s", output_sink_path(sink), strerror(errno));
        return -1;
    }
    return 0;
}

/* Forks and executes the process through the child engine; its output pipes go to the
 * program's sinks. On failure *err says why (for the log and status). */
int proc_spawn(struct proc *p, char **err)
{
    const struct proc_config *c = p->cfg;
    struct spawn_user user = {0}; /* zeroed: freeing it is always safe */
    struct strv env = {0};
    int in = -1, ready_end = -1, listener_w = -1, out_to = -1, err_to = -1;
    int rc = -1;

    p->spawn_status = 125;
    struct spawn_request req;
    memset(&req, 0, sizeof(req));
    int who = spawn_identity(c, -1, &user, &req, err);
    if (who < 0) {
        goto done;
    }
    if (build_environment(p, who > 0 ? &user : NULL, &env, err) < 0 ||
        proc_spawn_stdin(p, &in, &listener_w, err) < 0) {
        goto done;
    }

    req.argv = (const char *const *)c->command.v;
    req.envp = (const char *const *)env.v;
    req.cwd = c->directory;
    req.map[0].src = in;
    req.map[0].target = 0;
    req.nmap = 1;
    if (c->ready.kind == PROBE_FD) {
        if (ready_prepare_fd(p, &ready_end, err) < 0) {
            goto done;
        }
        req.map[1].src = ready_end;
        req.map[1].target = c->ready.fd;
        req.nmap = 2;
    }
    if (proc_spawn_direct(p->out, &out_to, err) < 0 ||
        proc_spawn_direct(p->err, &err_to, err) < 0) {
        goto done;
    }

    const struct child_stdio io = {
        .out_to = out_to, .err_to = err_to, .merge_stderr = c->redirect_stderr};
    struct spawn_error se = {0};
    pid_t pid;
    int out_rd, err_rd;
    if (child_spawn(&req, &io, &pid, &out_rd, &err_rd, &se) < 0) {
        p->spawn_status = spawn_error_exit_code(&se);
        *err = spawn_error_message(&se);
        spawn_error_free(&se);
        goto done;
    }
    p->pid = pid;
    p->started_at = ev_time();
    pid_map_add(&p->sv->pids, &p->main_entry, pid);
    if (c->listener && p->sv->on_listener) {
        /* the protocol channel: never logged */
        p->sv->on_listener(p, listener_w, out_rd, p->sv->on_state_arg);
        listener_w = -1;
    } else if (out_rd >= 0) {
        p->out_pipe = output_pipe_new(p->sv->loop, out_rd, p->out);
    }
    if (err_rd >= 0) {
        p->err_pipe = output_pipe_new(p->sv->loop, err_rd, p->err);
    }
    rc = 0;
done:
    child_close(&in);
    child_close(&listener_w);
    child_close(&ready_end);
    child_close(&out_to);
    child_close(&err_to);
    strv_free(&env);
    spawn_user_free(&user);
    return rc;
}

static char *log_path_for(const struct supervisor *sv, const char *setting, const char *name,
                          const char *stream)
{
    if (!setting || strcasecmp(setting, "NONE") == 0) {
        return NULL;
    }
    if (strcasecmp(setting, "AUTO") == 0) {
        const char *dir = sv->cfg->global.childlogdir;
        return dir ? xasprintf("%s/%s-%s.log", dir, name, stream) : NULL;
    }
    return xstrdup(setting);
}

/* The first file: of a stdout/stderr target list, if any. */
static const char *target_file(const struct strv *targets)
{
    for (size_t i = 0; i < targets->n; i++) {
        if (strncmp(targets->v[i], "file:", 5) == 0) {
            return targets->v[i] + 5;
        }
    }
    return NULL;
}

static bool has_program_target(const struct strv *targets)
{
    for (size_t i = 0; i < targets->n; i++) {
        if (strncmp(targets->v[i], "program:", 8) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- sinks ---- */

/* stdout/stderr_events_enabled: every chunk also becomes a PROCESS_LOG_* event */
static void log_event_stdout_cb(void *arg, const char *buf, size_t n)
{
    struct proc *p = arg;
    if (p->sv->on_log) {
        p->sv->on_log(p, false, buf, n, p->sv->on_state_arg);
    }
}

static void log_event_stderr_cb(void *arg, const char *buf, size_t n)
{
    struct proc *p = arg;
    if (p->sv->on_log) {
        p->sv->on_log(p, true, buf, n, p->sv->on_state_arg);
    }
}

static struct output_sink *make_sink(struct supervisor *sv, struct proc *p, const char *stream,
                                     const char *setting, int64_t maxbytes, long backups,
                                     bool timestamps, bool to_syslog)
{
    /* supervisord's deprecated stdout_logfile = syslog means stdout_syslog = true */
    if (setting && strcasecmp(setting, "syslog") == 0) {
        setting = NULL;
        to_syslog = true;
    }
    int width = sv->prefix_width;
    const struct strv *targets = strcmp(stream, "stdout") == 0 ? &p->cfg->stdout : &p->cfg->stderr;
    const char *file = target_file(targets);
    char *path = file ? xstrdup(file) : log_path_for(sv, setting, p->cfg->name, stream);
    bool piped = has_program_target(targets);
    struct output_options o = {
        .name = p->cfg->name,
        .stream = stream,
        .path = path,
        .maxbytes = maxbytes,
        .backups = (int)backups,
        .console = sv->console && !path && !piped,
        .prefix_width = width,
        .color = output_console_use_color() ? output_color_for(p->index) : 0,
        .ring_size = path ? 0 : RING_SIZE,
        .timestamps = timestamps,
        .syslog = to_syslog,
        .strip_ansi = sv->cfg->global.strip_ansi,
        .direct = strcmp(stream, "stdout") == 0 ? p->cfg->stdout_logfile_direct
                                                : p->cfg->stderr_logfile_direct,
        .loop = sv->loop,
    };
    struct output_sink *s = output_sink_new(&o);
    free(path);
    bool is_stderr = strcmp(stream, "stderr") == 0;
    if (is_stderr ? p->cfg->stderr_events_enabled : p->cfg->stdout_events_enabled) {
        output_sink_add_listener(s, is_stderr ? log_event_stderr_cb : log_event_stdout_cb, p);
    }
    return s;
}

void proc_make_sinks(struct proc *p)
{
    const struct proc_config *c = p->cfg;
    p->out = make_sink(p->sv, p, "stdout", c->stdout_logfile, c->stdout_logfile_maxbytes,
                       c->stdout_logfile_backups, c->stdout_timestamps, c->stdout_syslog);
    p->err = c->redirect_stderr
                 ? NULL
                 : make_sink(p->sv, p, "stderr", c->stderr_logfile, c->stderr_logfile_maxbytes,
                             c->stderr_logfile_backups, c->stderr_timestamps,
                             c->stderr_syslog);
}

void proc_free_sinks(struct proc *p)
{
    if (p->out) {
        output_sink_free(p->out);
        p->out = NULL;
    }
    if (p->err) {
        output_sink_free(p->err);
        p->err = NULL;
    }
}

void proc_remake_sinks(struct proc *p)
{
    unwire(p);
    struct output_sink *old_out = p->out, *old_err = p->err;
    p->out = p->err = NULL;
    proc_make_sinks(p);
    if (p->out_pipe) {
        output_pipe_set_sink(p->out_pipe, p->out);
    }
    if (p->err_pipe && p->err) {
        output_pipe_set_sink(p->err_pipe, p->err);
    }
    if (p->sv->on_sinks_replaced) {
        p->sv->on_sinks_replaced(p, old_out, old_err, p->sv->on_state_arg);
    }
    if (old_out) {
        output_sink_flush(old_out);
        output_sink_free(old_out);
    }
    if (old_err) {
        output_sink_flush(old_err);
        output_sink_free(old_err);
    }
}

/* ---- pipes between programs ---- */

static void forward_cb(void *arg, const char *buf, size_t n)
{
    struct pipe_link *link = arg;
    if (link->to->in) {
        feed_write_some(link->to->in, buf, n);
    }
}

void unwire(struct proc *p)
{
    for (size_t i = 0; i < p->nlinks; i++) {
        output_sink_remove_listener(p->links[i].sink, &p->links[i]);
    }
    free(p->links);
    p->links = NULL;
    p->nlinks = 0;
}

/* Connects stdout/stderr = program:NAME to the readers' stdin feeds; every program that is
 * read from, or has stdin = pipe, gets a feed (kept across its restarts). */
void wire_pipes(struct supervisor *sv)
{
    for (size_t i = 0; i < sv->nprocs; i++) {
        unwire(sv->procs[i]);
    }
    bool *needs_feed = xcalloc(sv->nprocs ? sv->nprocs : 1, sizeof(bool));
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
        needs_feed[i] |= p->cfg->stdin.kind == STDIN_PIPE;
        const struct strv *targets[] = {&p->cfg->stdout, &p->cfg->stderr};
        for (size_t t = 0; t < 2; t++) {
            struct output_sink *sink = t == 0 || !p->err ? p->out : p->err;
            for (size_t k = 0; k < targets[t]->n; k++) {
                const char *x = targets[t]->v[k];
                if (strncmp(x, "program:", 8) != 0) {
                    continue;
                }
                for (size_t r = 0; r < sv->nprocs; r++) {
                    if (strcmp(sv->procs[r]->cfg->program, x + 8) == 0) {
                        needs_feed[r] = true;
                        p->links = xrealloc(p->links, (p->nlinks + 1) * sizeof(*p->links));
                        p->links[p->nlinks].sink = sink;
                        p->links[p->nlinks].to = sv->procs[r];
                        p->nlinks++;
                    }
                }
            }
        }
    }
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
        if (needs_feed[i] && !p->in) {
            p->in = feed_new(sv->loop, p->cfg->name);
        } else if (!needs_feed[i] && p->in) {
            feed_free(p->in);
            p->in = NULL;
        }
        /* the links array is complete: now its addresses are stable listener arguments */
        for (size_t k = 0; k < p->nlinks; k++) {
            output_sink_add_listener(p->links[k].sink, forward_cb, &p->links[k]);
        }
    }
    free(needs_feed);
}

int proc_send(struct proc *p, const char *buf, size_t n, bool eof, char **err)
{
    if (!p->in || p->cfg->stdin.kind != STDIN_PIPE) {
        *err = xasprintf("%s: its stdin is not a pipe (set stdin = pipe)", p->cfg->name);
        return -1;
    }
    if (!proc_is_alive(p)) {
        *err = xasprintf("%s: not running", p->cfg->name);
        return -1;
    }
    if (n > 0 && feed_write_all(p->in, buf, n) < 0) {
        *err = errno == EAGAIN
                   ? xasprintf("%s: stdin buffer is full (%d bytes queued); the program is not "
                               "reading",
                               p->cfg->name, FEED_MAX_PENDING)
                   : xasprintf("%s: stdin is closed (after --eof)", p->cfg->name);
        return -1;
    }
    if (eof) {
        feed_eof(p->in);
    }
    return 0;
}

