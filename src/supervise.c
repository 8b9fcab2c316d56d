/* supervise.c - supervisord's state machine for every process: spawn, RUNNING after startsecs,
 * BACKOFF with a delay that grows by a second per failed start, FATAL after startretries,
 * autorestart against exitcodes, stop with stopsignal then KILL, shutdown in reverse order. */
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "ready.h"
#include "spawn.h"
#include "values.h"


#define RING_SIZE (32 * 1024)

static const char *const state_names[] = {"STOPPED", "STARTING", "RUNNING", "BACKOFF",
                                          "STOPPING", "EXITED",  "FATAL"};

const char *proc_state_name(enum proc_state s)
{
    return state_names[s];
}

bool proc_is_alive(const struct proc *p)
{
    return p->pid > 0;
}

/* ---- pid hash: every reaped pid is looked up here, so no event walks all programs ---- */

static size_t pid_bucket(const struct supervisor *sv, pid_t pid)
{
    return ((size_t)pid * 2654435761u) & (sv->nbuckets - 1);
}

static void pid_link(struct supervisor *sv, struct pid_entry *e)
{
    size_t b = pid_bucket(sv, e->pid);
    e->next = sv->pid_buckets[b];
    sv->pid_buckets[b] = e;
}

void pid_entry_add(struct supervisor *sv, struct pid_entry *e, pid_t pid)
{
    e->pid = pid;
    pid_link(sv, e);
}

void pid_entry_remove(struct supervisor *sv, struct pid_entry *e)
{
    if (e->pid <= 0) {
        return;
    }
    struct pid_entry **link = &sv->pid_buckets[pid_bucket(sv, e->pid)];
    while (*link && *link != e) {
        link = &(*link)->next;
    }
    if (*link) {
        *link = e->next;
    }
    e->next = NULL;
    e->pid = 0;
}

static struct pid_entry *pid_lookup(struct supervisor *sv, pid_t pid)
{
    for (struct pid_entry *e = sv->pid_buckets[pid_bucket(sv, pid)]; e; e = e->next) {
        if (e->pid == pid) {
            return e;
        }
    }
    return NULL;
}

struct proc *supervisor_proc_by_pid(struct supervisor *sv, pid_t pid)
{
    struct pid_entry *e = pid_lookup(sv, pid);
    return e && e->kind == PID_MAIN ? e->proc : NULL;
}

/* ---- state changes ---- */

void proc_set_state(struct proc *p, enum proc_state s)
{
    enum proc_state old = p->state;
    p->state = s;
    p->state_since = ev_time();
    log_debug("%s: %s -> %s", p->cfg->name, state_names[old], state_names[s]);
    if (p->sv->on_state && old != s) {
        p->sv->on_state(p, old, p->sv->on_state_arg);
    }
}

static void proc_set_error(struct proc *p, char *msg)
{
    free(p->last_error);
    p->last_error = msg;
}

static void timer_arm(struct proc *p, ev_tstamp after)
{
    ev_timer_stop(p->sv->loop, &p->timer);
    ev_now_update(p->sv->loop);
    ev_timer_set(&p->timer, after, 0.);
    ev_timer_start(p->sv->loop, &p->timer);
}

static void timer_cancel(struct proc *p)
{
    ev_timer_stop(p->sv->loop, &p->timer);
}

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
    if (p->cfg->ready.kind == PROBE_NOTIFY) {
        if (notify_open(p->sv, err) < 0) {
            strv_free(env);
            return -1;
        }
        char *ns = xasprintf("NOTIFY_SOCKET=%s", p->sv->notify_path);
        strv_setenv(env, ns);
        free(ns);
    }
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Makes a pipe whose read end (tend's) is non-blocking; both ends close-on-exec. */
static int make_output_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) < 0) {
        return -1;
    }
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    return 0;
}

/* Forks and executes the process. On failure *err says why (for the log and status). */
static int proc_spawn(struct proc *p, char **err)
{
    const struct proc_config *c = p->cfg;
    struct spawn_user user = {0};
    bool have_user = false;
    struct strv env = {0};
    int out[2] = {-1, -1}, errp[2] = {-1, -1}, in = -1, ready_end = -1;
    int listener_in[2] = {-1, -1};
    int rc = -1;

    p->spawn_status = 125;
    if (c->user) {
        if (spawn_user_lookup(c->user, &user, err) < 0) {
            goto done;
        }
        have_user = true;
        if (geteuid() != 0 && user.uid != geteuid()) {
            *err = xasprintf("cannot run as user %s: tend is not running as root", c->user);
            goto done;
        }
    }
    if (build_environment(p, have_user ? &user : NULL, &env, err) < 0) {
        goto done;
    }
    if (make_output_pipe(out) < 0 || (!c->redirect_stderr && make_output_pipe(errp) < 0)) {
        *err = xasprintf("cannot create pipes: %s", strerror(errno));
        goto done;
    }
    if (c->stdin.kind == STDIN_FILE) {
        /* a regular file is handed over as it is: the child may even seek in it */
        in = open(c->stdin.path, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
            *err = xasprintf("cannot open stdin file %s: %s", c->stdin.path, strerror(errno));
            goto done;
        }
    }

    struct spawn_request req;
    memset(&req, 0, sizeof(req));
    req.argv = (const char *const *)c->command.v;
    req.envp = (const char *const *)env.v;
    req.cwd = c->directory;
    req.umask = c->umask >= 0 ? c->umask : -1;
    req.user = have_user && user.uid != geteuid() ? &user : NULL;
    req.new_process_group = true;
    if (c->listener) {
        /* a fresh stdin per run: a dead listener's unread event must not reach the next one */
        if (make_output_pipe(listener_in) < 0) {
            *err = xasprintf("cannot create the stdin pipe: %s", strerror(errno));
            goto done;
        }
        int r = listener_in[0], w = listener_in[1];
        fcntl(r, F_SETFL, fcntl(r, F_GETFL) & ~O_NONBLOCK);
        fcntl(w, F_SETFL, fcntl(w, F_GETFL) | O_NONBLOCK);
        in = r;
        listener_in[0] = -1;
    } else if (p->in) {
        int rfd = feed_reader_fd(p->in);
        if (rfd < 0) {
            *err = xasprintf("cannot create the stdin pipe: %s", strerror(errno));
            goto done;
        }
        in = dup(rfd); /* closed below like a file would be; tend keeps its own */
        fcntl(in, F_SETFD, FD_CLOEXEC);
    }
    req.map[0].src = in;
    req.map[0].target = 0;
    req.map[1].src = out[1];
    req.map[1].target = 1;
    req.map[2].src = c->redirect_stderr ? out[1] : errp[1];
    req.map[2].target = 2;
    req.nmap = 3;
    if (c->ready.kind == PROBE_FD) {
        if (ready_prepare_fd(p, &ready_end, err) < 0) {
            goto done;
        }
        req.map[3].src = ready_end;
        req.map[3].target = c->ready.fd;
        req.nmap = 4;
    }
    const struct {
        int resource;
        int64_t value;
    } limits[] = {{RLIMIT_NOFILE, c->rlimit_nofile},
                  {RLIMIT_CORE, c->rlimit_core},
                  {RLIMIT_NPROC, c->rlimit_nproc},
                  {RLIMIT_AS, c->rlimit_as}};
    for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
        if (limits[i].value == RLIMIT_UNSET) {
            continue;
        }
        rlim_t v = limits[i].value == RLIMIT_UNLIMITED ? RLIM_INFINITY : (rlim_t)limits[i].value;
        req.rlimits[req.nrlimits].resource = limits[i].resource;
        req.rlimits[req.nrlimits].limit.rlim_cur = v;
        req.rlimits[req.nrlimits].limit.rlim_max = v;
        req.nrlimits++;
    }

    struct spawn_error se = {0};
    pid_t pid;
    if (spawn_child(&req, &pid, &se) < 0) {
        p->spawn_status = spawn_error_exit_code(&se);
        *err = spawn_error_message(&se);
        spawn_error_free(&se);
        goto done;
    }
    p->pid = pid;
    p->started_at = ev_time();
    pid_entry_add(p->sv, &p->main_entry, pid);
    close_fd(&out[1]);
    close_fd(&errp[1]);
    if (c->listener && p->sv->on_listener) {
        p->sv->on_listener(p, listener_in[1], out[0], p->sv->on_state_arg);
        listener_in[1] = -1;
    } else {
        p->out_pipe = output_pipe_new(p->sv->loop, out[0], p->out);
    }
    out[0] = -1;
    if (!c->redirect_stderr) {
        p->err_pipe = output_pipe_new(p->sv->loop, errp[0], p->err);
        errp[0] = -1;
    }
    rc = 0;
done:
    close_fd(&out[0]);
    close_fd(&out[1]);
    close_fd(&errp[0]);
    close_fd(&errp[1]);
    close_fd(&in);
    close_fd(&listener_in[1]);
    close_fd(&ready_end);
    strv_free(&env);
    if (have_user) {
        spawn_user_free(&user);
    }
    return rc;
}

int proc_spawn_helper(struct proc *p, const struct strv *argv, struct pid_entry *e, char **err)
{
    struct strv env;
    if (build_environment(p, NULL, &env, err) < 0) {
        return -1;
    }
    struct spawn_request req;
    memset(&req, 0, sizeof(req));
    req.argv = (const char *const *)argv->v;
    req.envp = (const char *const *)env.v;
    req.cwd = p->cfg->directory;
    req.umask = -1;
    req.new_process_group = true;
    for (int i = 0; i < 3; i++) {
        req.map[i].src = -1;
        req.map[i].target = i;
    }
    req.nmap = 3;
    struct spawn_error se = {0};
    pid_t pid;
    int rc = spawn_child(&req, &pid, &se);
    if (rc < 0) {
        *err = spawn_error_message(&se);
        spawn_error_free(&se);
    } else {
        pid_entry_add(p->sv, e, pid);
    }
    strv_free(&env);
    return rc;
}

static void proc_wait_ready(struct proc *p);
static void proc_start_failed(struct proc *p, const char *what);
static void proc_do_start(struct proc *p);
static void unwire(struct proc *p);
static void wire_pipes(struct supervisor *sv);
static void proc_free(struct proc *p);

/* ---- type = forking: the daemon's pid comes from its pid file ---- */

/* Reads a pid file the way a careful init does: no symlink, a regular file owned by root,
 * by tend's user or by the program's user, holding the pid of a live process. */
static pid_t read_pidfile(const struct proc *p, char **why)
{
    const char *path = p->cfg->pidfile;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        *why = errno == ELOOP ? xstrdup("it is a symbolic link; refused")
                              : xasprintf("%s", strerror(errno));
        return errno == ELOOP ? -2 : -1;
    }
    struct stat st;
    char buf[32] = "";
    ssize_t n = -1;
    if (fstat(fd, &st) == 0) {
        n = read(fd, buf, sizeof(buf) - 1);
    }
    close(fd);
    uid_t program_uid = (uid_t)-1;
    if (p->cfg->user) {
        struct spawn_user u;
        char *err = NULL;
        if (spawn_user_lookup(p->cfg->user, &u, &err) == 0) {
            program_uid = u.uid;
            spawn_user_free(&u);
        }
        free(err);
    }
    if (!S_ISREG(st.st_mode)) {
        *why = xstrdup("it is not a regular file; refused");
        return -2;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != program_uid) {
        *why = xasprintf("it is owned by uid %u; refused", (unsigned)st.st_uid);
        return -2;
    }
    buf[n > 0 ? n : 0] = '\0';
    long pid = strtol(buf, NULL, 10);
    if (pid <= 1) {
        *why = xstrdup("it holds no pid yet");
        return -1;
    }
    if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
        *why = xasprintf("pid %ld is not running", pid);
        return -1;
    }
    return (pid_t)pid;
}

static void proc_start_failed(struct proc *p, const char *what);

/* Polls the pid file for a few seconds after the launcher exited (the daemon writes it a
 * moment later); a timer, only while waiting. */
static void forking_find_daemon(struct proc *p)
{
    char *why = NULL;
    pid_t pid = read_pidfile(p, &why);
    if (pid > 0) {
        free(why);
        p->pid = pid;
        pid_entry_add(p->sv, &p->main_entry, pid);
        log_info("%s (pid %d) daemon found in %s", p->cfg->name, (int)pid, p->cfg->pidfile);
        proc_wait_ready(p);
        return;
    }
    if (pid == -2 || ev_time() > p->pidfile_deadline) {
        char *what = xasprintf("%s: no daemon from pid file %s: %s", p->cfg->name,
                               p->cfg->pidfile, why);
        proc_set_error(p, xasprintf("pid file %s: %s", p->cfg->pidfile, why));
        free(why);
        if (p->out_pipe) {
            output_pipe_drain_and_free(p->out_pipe);
            p->out_pipe = NULL;
        }
        if (p->err_pipe) {
            output_pipe_drain_and_free(p->err_pipe);
            p->err_pipe = NULL;
        }
        proc_start_failed(p, what);
        free(what);
        return;
    }
    free(why);
    p->awaiting_pidfile = true;
    timer_arm(p, 0.1);
}

/* ---- dependencies ---- */

static bool deps_ready(const struct proc *p)
{
    for (size_t i = 0; i < p->ndeps; i++) {
        if (!p->deps[i]->ready) {
            return false;
        }
    }
    return true;
}

static struct proc *deps_failed(const struct proc *p)
{
    for (size_t i = 0; i < p->ndeps; i++) {
        if (p->deps[i]->state == PROC_FATAL || p->deps[i]->blocked) {
            return p->deps[i];
        }
    }
    return NULL;
}

static void proc_notify(struct proc *p)
{
    if (p->sv->on_state) {
        p->sv->on_state(p, p->state, p->sv->on_state_arg);
    }
}

/* A dependency failed for good: whoever waits for it will not start, and says why. */
static void deps_block(struct proc *p, const struct proc *bad)
{
    p->waiting_deps = false;
    p->blocked = true;
    proc_set_error(p, xasprintf("blocked: dependency %s is %s", bad->cfg->name,
                                bad->state == PROC_FATAL ? "FATAL" : "blocked"));
    log_error("%s: not started: dependency %s is %s", p->cfg->name, bad->cfg->name,
              bad->state == PROC_FATAL ? "FATAL" : "blocked");
    proc_notify(p);
    for (size_t i = 0; i < p->ndependents; i++) {
        if (p->dependents[i]->waiting_deps) {
            deps_block(p->dependents[i], p);
        }
    }
}

static void deps_notify_fatal(struct proc *p)
{
    for (size_t i = 0; i < p->ndependents; i++) {
        if (p->dependents[i]->waiting_deps) {
            deps_block(p->dependents[i], p);
        }
    }
}

static void proc_do_start(struct proc *p);

static void deps_notify_ready(struct proc *p)
{
    for (size_t i = 0; i < p->ndependents; i++) {
        struct proc *d = p->dependents[i];
        if (d->waiting_deps && deps_ready(d) && !d->sv->shutting_down) {
            d->waiting_deps = false;
            proc_do_start(d);
        }
    }
}

/* ---- the state machine ---- */

static bool retries_exhausted(const struct proc *p)
{
    long max = p->cfg->startretries;
    return max != RETRIES_FOREVER && p->retries > max;
}

/* The delay before retry number `attempt` (1, 2, ...): backoff_base grown linearly
 * (backoff_factor 1, supervisord's one more second per attempt) or geometrically, capped at
 * backoff_max. */
static ev_tstamp backoff_delay(const struct proc_config *c, int attempt)
{
    double base = (double)c->backoff_base / 1000.0;
    double max = (double)c->backoff_max / 1000.0;
    double d = base;
    if (c->backoff_factor <= 1.0) {
        d = base * attempt;
    } else {
        for (int i = 1; i < attempt && (max <= 0 || d < max); i++) {
            d *= c->backoff_factor;
        }
    }
    if (max > 0 && d > max) {
        d = max;
    }
    return d;
}

/* critical = true, or [tend] exit_with: this program's end is tend's end. */
static bool proc_is_critical(const struct proc *p)
{
    const char *exit_with = p->sv->cfg->global.exit_with;
    return p->cfg->critical || (exit_with && strcmp(exit_with, p->cfg->program) == 0);
}

static void proc_critical_end(struct proc *p, int status, const char *why)
{
    struct supervisor *sv = p->sv;
    if (sv->shutting_down || !sv->on_critical) {
        return;
    }
    log_warn("%s is critical and %s; stopping everything, tend exits with status %d",
             p->cfg->name, why, status);
    sv->exit_status = status;
    sv->on_critical(sv, sv->on_state_arg);
}

/* A start that failed (spawn error, or exit before startsecs): BACKOFF or FATAL. */
static void deps_notify_fatal(struct proc *p);

static void proc_start_failed(struct proc *p, const char *what)
{
    p->retries++;
    if (retries_exhausted(p)) {
        log_error("%s; giving up after %d attempt%s (FATAL)", what, p->retries,
                  p->retries == 1 ? "" : "s");
        proc_set_state(p, PROC_FATAL);
        deps_notify_fatal(p);
        if (proc_is_critical(p)) {
            proc_critical_end(p, p->has_exited ? exit_shell_code(&p->last_exit) : p->spawn_status,
                              "went FATAL");
        }
        return;
    }
    ev_tstamp delay = backoff_delay(p->cfg, p->retries);
    if (p->cfg->startretries == RETRIES_FOREVER) {
        log_warn("%s; restart %d in %gs", what, p->retries, delay);
    } else {
        log_warn("%s; restart %d/%ld in %gs", what, p->retries, p->cfg->startretries, delay);
    }
    proc_set_state(p, PROC_BACKOFF);
    timer_arm(p, delay);
}

static void proc_wait_ready(struct proc *p);

static void proc_do_start(struct proc *p)
{
    char *err = NULL;
    if (proc_spawn(p, &err) < 0) {
        char *what = xasprintf("%s: %s", p->cfg->name, err);
        proc_set_error(p, err);
        proc_start_failed(p, what);
        free(what);
        return;
    }
    proc_set_error(p, NULL);
    log_info("%s (pid %d) spawned", p->cfg->name, (int)p->pid);
    p->ready_timed_out = false;
    proc_set_state(p, PROC_STARTING);
    switch (p->cfg->type) {
    case PTYPE_ONESHOT:
        return; /* ready when it exits with one of its exitcodes */
    case PTYPE_FORKING:
        p->launching = true; /* the daemon is found in the pid file once this exits 0 */
        return;
    case PTYPE_SIMPLE:
        break;
    }
    proc_wait_ready(p);
}

/* STARTING: the startsecs timer, or a readiness probe bounded by startsecs. */
static void proc_wait_ready(struct proc *p)
{
    if (p->cfg->ready.kind != PROBE_NONE) {
        if (p->cfg->startsecs > 0) {
            timer_arm(p, (ev_tstamp)p->cfg->startsecs / 1000.0);
        }
        ready_probe_start(p);
        return;
    }
    if (p->cfg->startsecs <= 0) {
        proc_became_ready(p);
        return;
    }
    timer_arm(p, (ev_tstamp)p->cfg->startsecs / 1000.0);
}

static void deps_notify_ready(struct proc *p);

void proc_became_ready(struct proc *p)
{
    timer_cancel(p);
    p->retries = 0;
    log_info("%s (pid %d) is RUNNING", p->cfg->name, (int)p->pid);
    proc_set_state(p, PROC_RUNNING);
    p->ready = true;
    health_start(p);
    deps_notify_ready(p);
}

int proc_start(struct proc *p)
{
    if (p->sv->shutting_down) {
        return -1;
    }
    switch (p->state) {
    case PROC_STARTING:
    case PROC_RUNNING:
    case PROC_STOPPING:
        return -1;
    case PROC_BACKOFF:
    case PROC_EXITED:
        timer_cancel(p);
        break;
    default:
        break;
    }
    p->retries = 0;
    p->blocked = false;
    if (!deps_ready(p)) {
        struct proc *bad = deps_failed(p);
        if (bad) {
            deps_block(p, bad);
            return -1;
        }
        /* what it needs is started first; it starts once all of it is ready */
        p->waiting_deps = true;
        proc_set_error(p, NULL);
        log_info("%s waits for its dependencies", p->cfg->name);
        for (size_t i = 0; i < p->ndeps; i++) {
            struct proc *d = p->deps[i];
            if (!d->ready && !proc_is_alive(d) && !d->waiting_deps && d->state != PROC_BACKOFF) {
                proc_start(d);
            }
        }
        proc_notify(p);
        return 0;
    }
    proc_do_start(p);
    return 0;
}

void proc_kill(struct proc *p, int sig, bool group)
{
    if (p->pid <= 0) {
        return;
    }
    /* the child leads its own process group (setpgid in spawn), so -pid is its group */
    if (kill(group ? -p->pid : p->pid, sig) < 0 && group) {
        kill(p->pid, sig);
    }
}

int proc_signal(struct proc *p, int sig)
{
    if (p->pid <= 0) {
        errno = ESRCH;
        return -1;
    }
    proc_kill(p, sig, p->cfg->stopasgroup);
    return 0;
}

int proc_stop(struct proc *p)
{
    p->restart_after_stop = false;
    switch (p->state) {
    case PROC_STARTING:
    case PROC_RUNNING:
        log_info("%s (pid %d) stopping with %s", p->cfg->name, (int)p->pid,
                 signal_name(p->cfg->stopsignal));
        proc_kill(p, p->cfg->stopsignal, p->cfg->stopasgroup);
        proc_set_state(p, PROC_STOPPING);
        timer_arm(p, (ev_tstamp)p->cfg->stopwaitsecs / 1000.0);
        return 0;
    case PROC_BACKOFF:
        timer_cancel(p);
        proc_set_state(p, PROC_STOPPED);
        return 0;
    case PROC_EXITED:
        if (ev_is_active(&p->timer)) {
            /* a restart was pending: it is called off */
            timer_cancel(p);
            proc_set_state(p, PROC_STOPPED);
        }
        return 0;
    case PROC_STOPPING:
        return 0;
    default:
        if (p->waiting_deps) {
            p->waiting_deps = false;
            proc_notify(p);
            return 0;
        }
        return -1;
    }
}

void proc_restart(struct proc *p)
{
    if (proc_is_alive(p)) {
        proc_stop(p);
        p->restart_after_stop = true;
    } else {
        proc_stop(p);
        proc_start(p);
    }
}

static void forking_find_daemon(struct proc *p);

static void proc_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct proc *p = w->data;
    (void)loop;
    (void)revents;
    switch (p->state) {
    case PROC_STARTING:
        if (p->cfg->ready.kind != PROBE_NONE) {
            /* the startsecs budget ran out before the probe passed: a failed start */
            log_warn("%s (pid %d) did not become ready within %gs; killing it", p->cfg->name,
                     (int)p->pid, (double)p->cfg->startsecs / 1000.0);
            ready_probe_stop(p);
            p->ready_timed_out = true;
            proc_kill(p, SIGKILL, true);
            break;
        }
        if (p->awaiting_pidfile) {
            p->awaiting_pidfile = false;
            forking_find_daemon(p);
            break;
        }
        if (p->cfg->type == PTYPE_FORKING && p->launching) {
            break;
        }
        /* it stayed up for startsecs: a successful start */
        proc_became_ready(p);
        break;
    case PROC_BACKOFF:
    case PROC_EXITED: /* restart_delay or a flapping program's wait is over */
        proc_do_start(p);
        break;
    case PROC_STOPPING:
        log_warn("%s (pid %d) did not stop within %gs; sending KILL", p->cfg->name, (int)p->pid,
                 (double)p->cfg->stopwaitsecs / 1000.0);
        proc_kill(p, SIGKILL, p->cfg->killasgroup || p->cfg->stopasgroup);
        break;
    default:
        break;
    }
}

static void shutdown_proc_done(struct supervisor *sv, struct proc *p);
static void proc_after_stop(struct proc *p);
static void proc_make_sinks(struct proc *p);
static void proc_free_sinks(struct proc *p);

/* The process is gone: collect its output, decide by state and policy what comes next. */
static void proc_exited(struct proc *p, int status)
{
    struct supervisor *sv = p->sv;
    pid_t pid = p->pid;
    ev_tstamp ran = ev_time() - p->started_at;
    timer_cancel(p);
    pid_entry_remove(sv, &p->main_entry);
    ready_probe_stop(p);
    health_stop(p);
    p->ready = false;
    if (p->launching) {
        p->launching = false;
        if (p->state == PROC_STARTING && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            /* the launcher of a forking daemon is done: the daemon's pid is in the pid file;
             * the pipes stay open, the daemon may still write to them */
            log_info("%s (pid %d) launcher exited 0; reading %s", p->cfg->name, (int)pid,
                     p->cfg->pidfile);
            p->pid = 0;
            p->pidfile_deadline = ev_time() + 5.0;
            forking_find_daemon(p);
            return;
        }
    }
    /* whatever the child wrote before exiting is in the pipes now */
    if (p->out_pipe) {
        output_pipe_drain_and_free(p->out_pipe);
        p->out_pipe = NULL;
    }
    if (p->err_pipe) {
        output_pipe_drain_and_free(p->err_pipe);
        p->err_pipe = NULL;
    }
    p->last_pid = pid;
    p->pid = 0;
    p->last_exit = exit_decode(status);
    p->has_exited = true;
    char *how = exit_describe(&p->last_exit);
    char *what = xasprintf("%s (pid %d) %s after %.2fs", p->cfg->name, (int)pid, how, ran);
    free(how);
    enum proc_state was = p->state;

    if (was == PROC_STOPPING || sv->shutting_down) {
        /* a stop must not leave grandchildren behind: the rest of the group goes too */
        if (p->cfg->killasgroup || p->cfg->stopasgroup) {
            kill(-pid, SIGKILL);
        }
        log_info("%s; stopped", what);
        proc_set_state(p, PROC_STOPPED);
        free(what);
        if (sv->shutting_down && !p->retired) {
            shutdown_proc_done(sv, p);
        } else {
            proc_after_stop(p);
        }
        return;
    }
    if (was == PROC_STARTING && p->cfg->type == PTYPE_ONESHOT && p->last_exit.code >= 0 &&
        exitcodes_has(&p->cfg->exitcodes, p->last_exit.code)) {
        /* a one-shot that finished well: done, and ready for whoever depends on it */
        log_info("%s; finished", what);
        free(what);
        p->retries = 0;
        proc_set_state(p, PROC_EXITED);
        p->ready = true;
        if (proc_is_critical(p)) {
            proc_critical_end(p, 0, "finished");
            return;
        }
        deps_notify_ready(p);
        return;
    }
    if (was == PROC_STARTING) {
        char *quick = exit_describe(&p->last_exit);
        if (p->ready_timed_out) {
            proc_set_error(p, xasprintf("did not become ready within %gs",
                                        (double)p->cfg->startsecs / 1000.0));
        } else if (p->cfg->type == PTYPE_ONESHOT) {
            proc_set_error(p, xasprintf("failed: %s after %.2fs", quick, ran));
        } else {
            proc_set_error(p, xasprintf("exited too quickly: %s after %.2fs", quick, ran));
        }
        free(quick);
        proc_start_failed(p, what);
        free(what);
        return;
    }
    /* RUNNING -> EXITED, then autorestart decides */
    bool expected = p->last_exit.code >= 0 && exitcodes_has(&p->cfg->exitcodes, p->last_exit.code);
    bool restart = p->cfg->autorestart == AUTORESTART_TRUE ||
                   (p->cfg->autorestart == AUTORESTART_UNEXPECTED && !expected);
    proc_set_state(p, PROC_EXITED);
    if (proc_is_critical(p)) {
        log_info("%s (%s)", what, expected ? "expected" : "not expected");
        free(what);
        proc_critical_end(p, exit_shell_code(&p->last_exit), "exited");
        return;
    }
    if (!restart) {
        log_info("%s (%s)", what, expected ? "expected" : "not expected");
        free(what);
        return;
    }
    /* a program that keeps dying within a second of starting is flapping: it waits like a
     * failed start (backoff_*), so tend never restarts it in a tight loop */
    p->flaps = ran < 1.0 ? p->flaps + 1 : 0;
    ev_tstamp delay = (ev_tstamp)p->cfg->restart_delay / 1000.0;
    if (p->flaps > 0 && backoff_delay(p->cfg, p->flaps) > delay) {
        delay = backoff_delay(p->cfg, p->flaps);
    }
    p->restarts++;
    if (delay > 0) {
        log_info("%s (%s); restarting in %gs", what, expected ? "expected" : "not expected",
                 delay);
        timer_arm(p, delay);
    } else {
        log_info("%s (%s); restarting", what, expected ? "expected" : "not expected");
        /* through a zero timer, not right here: with many programs exiting at once there is
         * always another child to reap, and the loop must still get to sockets and signals */
        timer_arm(p, 0.);
    }
    free(what);
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
    struct supervisor *sv = w->data;
    (void)loop;
    (void)revents;
    if (!WIFEXITED(w->rstatus) && !WIFSIGNALED(w->rstatus)) {
        return; /* stopped or continued: not an exit */
    }
    struct pid_entry *e = pid_lookup(sv, w->rpid);
    if (!e) {
        /* an orphan re-parented to tend (the subreaper): reaped by libev already */
        sv->orphans_reaped++;
        log_debug("reaped orphan pid %d", (int)w->rpid);
        return;
    }
    switch (e->kind) {
    case PID_MAIN:
        proc_exited(e->proc, w->rstatus);
        break;
    case PID_PROBE:
        ready_probe_exited(e->proc, w->rstatus);
        break;
    case PID_HEALTH:
        health_exited(e->proc, w->rstatus);
        break;
    }
}

/* ---- shutdown: reverse priority order, one level at a time ---- */

static void shutdown_finish(struct supervisor *sv)
{
    ev_timer_stop(sv->loop, &sv->shutdown_deadline);
    if (sv->shutdown_done) {
        void (*done)(struct supervisor *, void *) = sv->shutdown_done;
        sv->shutdown_done = NULL;
        done(sv, sv->shutdown_arg);
    }
}

static void shutdown_next_level(struct supervisor *sv)
{
    while (sv->shutdown_pending == 0) {
        if (sv->shutdown_cursor == 0) {
            /* processes a reload removed are stopping already; wait for them too */
            if (sv->nretired == 0) {
                shutdown_finish(sv);
            }
            return;
        }
        /* a level: the same dependency depth and priority; dependents go before what they
         * depend on, higher priority numbers before lower */
        const struct proc *top = sv->procs[sv->shutdown_cursor - 1];
        long level = top->cfg->priority;
        int depth = top->depth;
        while (sv->shutdown_cursor > 0 &&
               sv->procs[sv->shutdown_cursor - 1]->cfg->priority == level &&
               sv->procs[sv->shutdown_cursor - 1]->depth == depth) {
            struct proc *p = sv->procs[--sv->shutdown_cursor];
            p->waiting_deps = false;
            if (p->state == PROC_BACKOFF) {
                timer_cancel(p);
                proc_set_state(p, PROC_STOPPED);
            }
            if (proc_is_alive(p)) {
                p->shutdown_pending = true;
                sv->shutdown_pending++;
                if (p->state != PROC_STOPPING) {
                    proc_stop(p);
                }
            }
        }
    }
}

static void shutdown_proc_done(struct supervisor *sv, struct proc *p)
{
    if (p->shutdown_pending) {
        p->shutdown_pending = false;
        sv->shutdown_pending--;
        shutdown_next_level(sv);
    }
}

static void kill_everything(struct supervisor *sv)
{
    for (size_t i = 0; i < sv->nprocs + sv->nretired; i++) {
        struct proc *p = i < sv->nprocs ? sv->procs[i] : sv->retired[i - sv->nprocs];
        if (proc_is_alive(p)) {
            log_warn("%s (pid %d): sending KILL", p->cfg->name, (int)p->pid);
            proc_kill(p, SIGKILL, true);
        }
    }
}

static void shutdown_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct supervisor *sv = w->data;
    (void)loop;
    (void)revents;
    log_warn("shutdown_timeout reached; killing what is left");
    kill_everything(sv);
}

void supervisor_shutdown(struct supervisor *sv, void (*done)(struct supervisor *, void *),
                         void *arg)
{
    if (sv->shutting_down) {
        /* asked twice (a second ^C): no more waiting */
        kill_everything(sv);
        return;
    }
    sv->shutting_down = true;
    sv->shutdown_done = done;
    sv->shutdown_arg = arg;
    sv->shutdown_cursor = sv->nprocs;
    sv->shutdown_pending = 0;
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
        if (p->state == PROC_BACKOFF || (p->state == PROC_EXITED && ev_is_active(&p->timer))) {
            timer_cancel(p);
            proc_set_state(p, PROC_STOPPED);
        }
    }
    ev_timer_init(&sv->shutdown_deadline, shutdown_deadline_cb,
                  (ev_tstamp)sv->cfg->global.shutdown_timeout / 1000.0, 0.);
    sv->shutdown_deadline.data = sv;
    ev_timer_start(sv->loop, &sv->shutdown_deadline);
    shutdown_next_level(sv);
}

/* ---- construction ---- */

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
                                     bool timestamps)
{
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
    };
    struct output_sink *s = output_sink_new(&o);
    free(path);
    bool is_stderr = strcmp(stream, "stderr") == 0;
    if (is_stderr ? p->cfg->stderr_events_enabled : p->cfg->stdout_events_enabled) {
        output_sink_add_listener(s, is_stderr ? log_event_stderr_cb : log_event_stdout_cb, p);
    }
    return s;
}

static void proc_make_sinks(struct proc *p)
{
    const struct proc_config *c = p->cfg;
    p->out = make_sink(p->sv, p, "stdout", c->stdout_logfile, c->stdout_logfile_maxbytes,
                       c->stdout_logfile_backups, c->stdout_timestamps);
    p->err = c->redirect_stderr
                 ? NULL
                 : make_sink(p->sv, p, "stderr", c->stderr_logfile, c->stderr_logfile_maxbytes,
                             c->stderr_logfile_backups, c->stderr_timestamps);
}

static void proc_free_sinks(struct proc *p)
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

static int proc_depth(struct proc *p)
{
    if (p->depth >= 0) {
        return p->depth;
    }
    p->depth = 0; /* the configuration has no cycles: validated at load */
    for (size_t i = 0; i < p->ndeps; i++) {
        int d = proc_depth(p->deps[i]) + 1;
        p->depth = d > p->depth ? d : p->depth;
    }
    return p->depth;
}

static int proc_start_order(const void *a, const void *b)
{
    const struct proc *x = *(struct proc *const *)a, *y = *(struct proc *const *)b;
    if (x->depth != y->depth) {
        return x->depth < y->depth ? -1 : 1;
    }
    if (x->cfg->priority != y->cfg->priority) {
        return x->cfg->priority < y->cfg->priority ? -1 : 1;
    }
    return x->cfg->order < y->cfg->order ? -1 : (x->cfg->order > y->cfg->order);
}

/* Resolves depends_on into pointers both ways and orders the procs: dependencies first, then
 * by priority. Shutdown walks the same order backwards. */
static void build_deps(struct supervisor *sv)
{
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
        free(p->deps);
        free(p->dependents);
        p->deps = p->dependents = NULL;
        p->ndeps = p->ndependents = 0;
        p->depth = -1;
    }
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
        const struct proc_config *c = p->pending_cfg ? p->pending_cfg : p->cfg;
        /* a pipeline is a dependency: the reader starts first and stops last */
        struct strv needs;
        strv_copy(&needs, &c->depends_on);
        const struct strv *targets[] = {&c->stdout, &c->stderr};
        for (size_t t = 0; t < 2; t++) {
            for (size_t k = 0; k < targets[t]->n; k++) {
                const char *x = targets[t]->v[k];
                if (strncmp(x, "program:", 8) == 0 && !strv_contains(&needs, x + 8)) {
                    strv_push(&needs, x + 8);
                }
            }
        }
        for (size_t d = 0; d < needs.n; d++) {
            for (size_t k = 0; k < sv->nprocs; k++) {
                struct proc *q = sv->procs[k];
                if (strcmp(q->cfg->program, needs.v[d]) != 0) {
                    continue;
                }
                p->deps = xrealloc(p->deps, (p->ndeps + 1) * sizeof(*p->deps));
                p->deps[p->ndeps++] = q;
                q->dependents =
                    xrealloc(q->dependents, (q->ndependents + 1) * sizeof(*q->dependents));
                q->dependents[q->ndependents++] = p;
            }
        }
        strv_free(&needs);
    }
    for (size_t i = 0; i < sv->nprocs; i++) {
        proc_depth(sv->procs[i]);
    }
    if (sv->nprocs > 1) {
        qsort(sv->procs, sv->nprocs, sizeof(*sv->procs), proc_start_order);
    }
    for (size_t i = 0; i < sv->nprocs; i++) {
        sv->procs[i]->index = i;
    }
}

static void forward_cb(void *arg, const char *buf, size_t n)
{
    struct pipe_link *link = arg;
    if (link->to->in) {
        feed_write_some(link->to->in, buf, n);
    }
}

static void unwire(struct proc *p)
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
static void wire_pipes(struct supervisor *sv)
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

struct supervisor *supervisor_new(struct ev_loop *loop, struct config *cfg, bool console)
{
    struct supervisor *sv = xcalloc(1, sizeof(*sv));
    sv->loop = loop;
    sv->cfg = cfg;
    sv->console = console;
    sv->nprocs = cfg->nprocs;
    sv->procs = xcalloc(cfg->nprocs, sizeof(*sv->procs));
    sv->nbuckets = 64;
    while (sv->nbuckets < cfg->nprocs * 2) {
        sv->nbuckets *= 2;
    }
    sv->pid_buckets = xcalloc(sv->nbuckets, sizeof(*sv->pid_buckets));
    for (size_t i = 0; i < cfg->nprocs; i++) {
        int n = (int)strlen(cfg->procs[i]->name);
        sv->prefix_width = n > sv->prefix_width ? n : sv->prefix_width;
    }
    for (size_t i = 0; i < cfg->nprocs; i++) {
        struct proc *p = xcalloc(1, sizeof(*p));
        const struct proc_config *c = cfg->procs[i];
        p->sv = sv;
        p->cfg = cfg->procs[i];
        p->index = i;
        p->state = PROC_STOPPED;
        p->state_since = ev_time();
        ev_timer_init(&p->timer, proc_timer_cb, 0., 0.);
        p->timer.data = p;
        (void)c;
        p->owner = cfg;
        ready_init(p);
        proc_make_sinks(p);
        sv->procs[i] = p;
    }
    sv->notify_fd = -1;
    build_deps(sv);
    wire_pipes(sv);
    ev_child_init(&sv->child_watcher, child_cb, 0, 0);
    sv->child_watcher.data = sv;
    ev_child_start(loop, &sv->child_watcher);
    return sv;
}

/* Frees a proc and everything it owns: its timers and watchers stop, its pipes are drained. */
static void proc_free(struct proc *p)
{
    ev_timer_stop(p->sv->loop, &p->timer);
    ready_probe_stop(p);
    health_stop(p);
    if (p->out_pipe) {
        output_pipe_drain_and_free(p->out_pipe);
    }
    if (p->err_pipe) {
        output_pipe_drain_and_free(p->err_pipe);
    }
    unwire(p);
    feed_free(p->in);
    proc_free_sinks(p);
    free(p->deps);
    free(p->dependents);
    free(p->status_text);
    free(p->last_error);
    free(p);
}

void supervisor_free(struct supervisor *sv)
{
    if (!sv) {
        return;
    }
    ev_child_stop(sv->loop, &sv->child_watcher);
    ev_timer_stop(sv->loop, &sv->shutdown_deadline);
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
        proc_free(p);
    }
    for (size_t i = 0; i < sv->nretired; i++) {
        struct proc *p = sv->retired[i];
        proc_free(p);
    }
    free(sv->retired);
    notify_close(sv);
    for (size_t i = 0; i < sv->nold_configs; i++) {
        config_free(sv->old_configs[i]);
    }
    free(sv->old_configs);
    free(sv->procs);
    free(sv->pid_buckets);
    config_free(sv->cfg);
    free(sv);
}

void supervisor_start_autostart(struct supervisor *sv)
{
    for (size_t i = 0; i < sv->nprocs; i++) {
        if (sv->procs[i]->cfg->autostart) {
            proc_start(sv->procs[i]);
        }
    }
}

void supervisor_reopen_logs(struct supervisor *sv)
{
    for (size_t i = 0; i < sv->nprocs; i++) {
        if (sv->procs[i]->out) {
            output_sink_reopen(sv->procs[i]->out);
        }
        if (sv->procs[i]->err) {
            output_sink_reopen(sv->procs[i]->err);
        }
    }
    log_reopen();
}

struct proc *supervisor_find(struct supervisor *sv, const char *name)
{
    for (size_t i = 0; i < sv->nprocs; i++) {
        if (strcmp(sv->procs[i]->cfg->name, name) == 0) {
            return sv->procs[i];
        }
    }
    return NULL;
}

/* ---- reload ---- */

/* Frees the configurations that no process refers to any more. */
static void collect_configs(struct supervisor *sv)
{
    for (size_t c = 0; c < sv->nold_configs;) {
        struct config *cfg = sv->old_configs[c];
        bool used = false;
        for (size_t i = 0; i < sv->nprocs + sv->nretired && !used; i++) {
            const struct proc *p = i < sv->nprocs ? sv->procs[i] : sv->retired[i - sv->nprocs];
            used = p->owner == cfg;
        }
        if (used) {
            c++;
            continue;
        }
        config_free(cfg);
        sv->old_configs[c] = sv->old_configs[--sv->nold_configs];
    }
}

/* The configuration a reload gave it takes effect (the process is not running). */
static void proc_apply_pending(struct proc *p)
{
    if (!p->pending_cfg) {
        return;
    }
    p->cfg = p->pending_cfg;
    p->owner = p->sv->cfg;
    p->pending_cfg = NULL;
    unwire(p);
    proc_free_sinks(p);
    proc_make_sinks(p);
    wire_pipes(p->sv);
    collect_configs(p->sv);
}

static void retire_finish(struct proc *p)
{
    struct supervisor *sv = p->sv;
    for (size_t i = 0; i < sv->nretired; i++) {
        if (sv->retired[i] == p) {
            sv->retired[i] = sv->retired[--sv->nretired];
            break;
        }
    }
    if (sv->on_remove) {
        sv->on_remove(p, sv->on_state_arg);
    }
    log_info("%s: removed", p->cfg->name);
    proc_free(p);
    collect_configs(sv);
    if (sv->shutting_down) {
        shutdown_next_level(sv);
    }
}

/* A stop finished: a removed process goes, a changed one takes its new configuration and
 * starts again, a restarted one starts. */
static void proc_after_stop(struct proc *p)
{
    if (p->retired) {
        retire_finish(p);
        return;
    }
    bool start = p->restart_after_stop;
    p->restart_after_stop = false;
    if (p->pending_cfg) {
        proc_apply_pending(p);
    }
    if (start) {
        proc_start(p);
    }
}

/* Options that only say where output goes: changing them reopens logs, no restart. */
static bool option_is_logging(const char *name)
{
    static const char *const logging[] = {
        "stdout_logfile", "stdout_logfile_maxbytes", "stdout_logfile_backups",
        "stderr_logfile", "stderr_logfile_maxbytes", "stderr_logfile_backups",
        "stdout_timestamps", "stderr_timestamps"};
    for (size_t i = 0; i < ARRAY_SIZE(logging); i++) {
        if (strcmp(name, logging[i]) == 0) {
            return true;
        }
    }
    return false;
}

enum change { CHANGE_NONE, CHANGE_LOGGING, CHANGE_RESTART };

static enum change compare_procs(const struct config *oldcfg, const struct proc_config *a,
                                 const struct config *newcfg, const struct proc_config *b,
                                 struct strbuf *what)
{
    enum change change = CHANGE_NONE;
    for (size_t i = 0; i < program_options_count; i++) {
        const struct option_def *opt = &program_options[i];
        if (strcmp(opt->name, "numprocs") == 0 || strcmp(opt->name, "numprocs_start") == 0) {
            continue; /* each process stands alone; its name already says which it is */
        }
        char *x = config_format_value(opt, a), *y = config_format_value(opt, b);
        if (strcmp(x, y) != 0) {
            strbuf_addf(what, "%s%s", what->len ? ", " : "", opt->name);
            if (!option_is_logging(opt->name)) {
                change = CHANGE_RESTART;
            } else if (change == CHANGE_NONE) {
                change = CHANGE_LOGGING;
            }
        }
        free(x);
        free(y);
    }
    if (strcmp(a->group, b->group) != 0) {
        strbuf_addf(what, "%sgroup", what->len ? ", " : "");
        change = CHANGE_RESTART;
    }
    /* its pipes are wired differently; events= and buffer_size only change the pool */
    if (a->listener != b->listener) {
        strbuf_addf(what, "%seventlistener", what->len ? ", " : "");
        change = CHANGE_RESTART;
    }
    /* [tend] environment is part of every program's environment */
    if (!strv_equal(&oldcfg->global.environment, &newcfg->global.environment)) {
        strbuf_addf(what, "%s[tend] environment", what->len ? ", " : "");
        change = CHANGE_RESTART;
    }
    return change;
}

void supervisor_reload(struct supervisor *sv, struct config *newcfg, bool dry_run,
                       struct strbuf *plan)
{
    struct config *oldcfg = sv->cfg;
    size_t n = newcfg->nprocs;
    struct proc **procs = xcalloc(n ? n : 1, sizeof(*procs));
    enum change *changes = xcalloc(n ? n : 1, sizeof(*changes));
    bool *kept = xcalloc(sv->nprocs ? sv->nprocs : 1, sizeof(bool));
    struct strbuf lines;
    strbuf_init(&lines);
    size_t added = 0, changed = 0, removed = 0, unchanged = 0;

    for (size_t i = 0; i < n; i++) {
        struct proc_config *pc = newcfg->procs[i];
        struct proc *old = supervisor_find(sv, pc->name);
        struct strbuf what;
        strbuf_init(&what);
        if (!old) {
            added++;
            strbuf_addf(&lines, "+ %s: added%s\n", pc->name, pc->autostart ? "; start" : "");
        } else {
            kept[old->index] = true;
            procs[i] = old;
            changes[i] = compare_procs(old->owner, old->cfg, newcfg, pc, &what);
            if (changes[i] == CHANGE_NONE) {
                unchanged++;
                if (old->pid > 0) {
                    strbuf_addf(&lines, "= %s: unchanged (pid %d keeps running)\n", pc->name,
                                (int)old->pid);
                } else {
                    strbuf_addf(&lines, "= %s: unchanged\n", pc->name);
                }
            } else if (changes[i] == CHANGE_LOGGING) {
                changed++;
                strbuf_addf(&lines, "~ %s: logging changed (%s); reopen logs, no restart\n",
                            pc->name, what.buf);
            } else {
                changed++;
                strbuf_addf(&lines, "~ %s: changed (%s); %s\n", pc->name, what.buf,
                            proc_is_alive(old) ? "restart" : (pc->autostart ? "start" : "update"));
            }
        }
        strbuf_free(&what);
    }
    for (size_t i = 0; i < sv->nprocs; i++) {
        if (!kept[i]) {
            removed++;
            strbuf_addf(&lines, "- %s: removed%s\n", sv->procs[i]->cfg->name,
                        proc_is_alive(sv->procs[i]) ? "; stop" : "");
        }
    }
    strbuf_addf(plan, "%s: %zu added, %zu changed, %zu removed, %zu unchanged\n",
                dry_run ? "reload plan (dry run, nothing done)" : "reload", added, changed,
                removed, unchanged);
    strbuf_add(plan, lines.buf ? lines.buf : "", lines.len);
    strbuf_free(&lines);

    if (dry_run) {
        free(procs);
        free(changes);
        free(kept);
        config_free(newcfg);
        return;
    }

    /* removed processes stop and are freed when they have stopped */
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
        if (kept[i]) {
            continue;
        }
        p->retired = true;
        unwire(p);
        sv->retired = xrealloc(sv->retired, (sv->nretired + 1) * sizeof(*sv->retired));
        sv->retired[sv->nretired++] = p;
    }
    free(kept);

    sv->nold_configs++;
    sv->old_configs = xrealloc(sv->old_configs, sv->nold_configs * sizeof(*sv->old_configs));
    sv->old_configs[sv->nold_configs - 1] = oldcfg;
    sv->cfg = newcfg;
    log_set_level(newcfg->global.loglevel);

    for (size_t i = 0; i < n; i++) {
        int len = (int)strlen(newcfg->procs[i]->name);
        sv->prefix_width = len > sv->prefix_width ? len : sv->prefix_width;
    }
    /* the pid hash holds procs by pointer: kept procs stay valid, new ones are added later */
    free(sv->procs);
    sv->procs = procs;
    sv->nprocs = n;
    if (sv->nbuckets < n * 2) {
        size_t nb = sv->nbuckets;
        while (nb < n * 2) {
            nb *= 2;
        }
        struct pid_entry **buckets = xcalloc(nb, sizeof(*buckets));
        struct pid_entry **oldb = sv->pid_buckets;
        size_t oldn = sv->nbuckets;
        sv->pid_buckets = buckets;
        sv->nbuckets = nb;
        for (size_t b = 0; b < oldn; b++) {
            for (struct pid_entry *e = oldb[b], *next; e; e = next) {
                next = e->next;
                pid_link(sv, e);
            }
        }
        free(oldb);
    }

    /* added procs exist before any change is applied: applying one rewires every pipe,
     * which walks the whole (new) proc array */
    bool *added_now = xcalloc(n ? n : 1, sizeof(bool));
    for (size_t i = 0; i < n; i++) {
        struct proc_config *pc = newcfg->procs[i];
        struct proc *p = procs[i];
        if (!p) {
            added_now[i] = true;
            p = xcalloc(1, sizeof(*p));
            p->sv = sv;
            p->cfg = pc;
            p->owner = newcfg;
            p->state = PROC_STOPPED;
            p->state_since = ev_time();
            ev_timer_init(&p->timer, proc_timer_cb, 0., 0.);
            p->timer.data = p;
            ready_init(p);
            proc_make_sinks(p);
            procs[i] = p;
            p->index = i;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct proc_config *pc = newcfg->procs[i];
        struct proc *p = procs[i];
        if (added_now[i]) {
            continue;
        }
        p->index = i;
        switch (changes[i]) {
        case CHANGE_NONE:
            p->cfg = pc;
            p->owner = newcfg;
            break;
        case CHANGE_LOGGING: {
            /* new sinks; the running pipes move to them; no restart */
            p->cfg = pc;
            p->owner = newcfg;
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
            if (old_out) {
                output_sink_flush(old_out);
                output_sink_free(old_out);
            }
            if (old_err) {
                output_sink_flush(old_err);
                output_sink_free(old_err);
            }
            break;
        }
        case CHANGE_RESTART:
            p->pending_cfg = pc;
            if (proc_is_alive(p)) {
                proc_stop(p);
                p->restart_after_stop = true;
            } else {
                if (p->state == PROC_BACKOFF) {
                    proc_stop(p);
                }
                proc_apply_pending(p);
                if (pc->autostart) {
                    proc_start(p);
                }
            }
            break;
        }
    }
    free(changes);
    free(added_now);
    /* dependencies point at the procs of the new configuration; then the added ones start */
    for (size_t i = 0; i < sv->nretired; i++) {
        struct proc *r = sv->retired[i];
        free(r->deps);
        free(r->dependents);
        r->deps = r->dependents = NULL;
        r->ndeps = r->ndependents = 0;
    }
    build_deps(sv);
    wire_pipes(sv);
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
        if (p->state == PROC_STOPPED && !p->waiting_deps && !p->main_entry.pid &&
            p->owner == newcfg && p->cfg->autostart && !p->has_exited && p->started_at == 0) {
            proc_start(p);
        }
    }

    for (size_t i = 0; i < sv->nretired;) {
        struct proc *p = sv->retired[i];
        if (proc_is_alive(p) || p->state == PROC_STOPPING) {
            if (p->state != PROC_STOPPING) {
                proc_stop(p);
            }
            i++;
        } else {
            if (p->state == PROC_BACKOFF) {
                timer_cancel(p);
            }
            retire_finish(p); /* removes it from the array */
        }
    }
    collect_configs(sv);
}

void supervisor_set_notify_path(struct supervisor *sv, const char *path)
{
    free(sv->notify_path);
    sv->notify_path = path ? xstrdup(path) : NULL;
}
