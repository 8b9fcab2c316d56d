/* supervise.c - supervisord's state machine for one process (start, ready, BACKOFF, FATAL,
 * autorestart, stop with KILL escalation, forking, critical), from proc_new to proc_free.
 * Calls wiring, deps, ready, pidmap, log; reports up only through sv->proc_stopped/on_state. */
#include "supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fcgi.h"
#include "log.h"
#include "ready.h"
#include "values.h"

/* Start, readiness and retry call each other in a circle (a ready dependency starts its
 * dependents): declared once here. */
static void proc_do_start(struct proc *p);
static void proc_wait_ready(struct proc *p);
static void proc_became_ready(struct proc *p);
static void proc_start_failed(struct proc *p, const char *what);

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

void proc_set_state(struct proc *p, enum proc_state s)
{
    enum proc_state old = p->state;
    p->state = s;
    p->state_since = ev_time();
    log_debug("%s: %s -> %s", p->cfg->name, state_names[old], state_names[s]);
    if (p->sv->on_state && old != s) {
        p->sv->on_state(p, old, p->sv->on_state_arg);
    }
    if (p->sv->fcgi_sockets && (s == PROC_STOPPED || s == PROC_FATAL || s == PROC_STARTING)) {
        fcgi_release_idle(p);
    }
}

void proc_set_error(struct proc *p, char *msg)
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

void timer_cancel(struct proc *p)
{
    ev_timer_stop(p->sv->loop, &p->timer);
}

/* Takes what the child left in its pipes into the logs, and closes them. */
static void proc_drain_pipes(struct proc *p)
{
    if (p->out_pipe) {
        output_pipe_drain_and_free(p->out_pipe);
        p->out_pipe = NULL;
    }
    if (p->err_pipe) {
        output_pipe_drain_and_free(p->err_pipe);
        p->err_pipe = NULL;
    }
}

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

/* Polls the pid file for a few seconds after the launcher exited (the daemon writes it a
 * moment later); a timer, only while waiting. */
static void forking_find_daemon(struct proc *p)
{
    char *why = NULL;
    pid_t pid = read_pidfile(p, &why);
    if (pid > 0) {
        free(why);
        p->pid = pid;
        pid_map_add(&p->sv->pids, &p->main_entry, pid);
        log_info("%s (pid %d) daemon found in %s", p->cfg->name, (int)pid, p->cfg->pidfile);
        proc_wait_ready(p);
        return;
    }
    if (pid == -2 || ev_time() > p->pidfile_deadline) {
        char *what = xasprintf("%s: no daemon from pid file %s: %s", p->cfg->name,
                               p->cfg->pidfile, why);
        proc_set_error(p, xasprintf("pid file %s: %s", p->cfg->pidfile, why));
        free(why);
        proc_drain_pipes(p);
        proc_start_failed(p, what);
        free(what);
        return;
    }
    free(why);
    p->awaiting_pidfile = true;
    timer_arm(p, 0.1);
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

/* STARTING: the startsecs timer, or a readiness probe bounded by ready_timeout (not by
 * startsecs: databases and JVMs take far longer to be ready than to be safely started). */
static void proc_wait_ready(struct proc *p)
{
    if (p->cfg->ready.kind != PROBE_NONE) {
        p->ready_wait_since = ev_time();
        if (p->cfg->ready_timeout > 0) {
            timer_arm(p, (ev_tstamp)p->cfg->ready_timeout / 1000.0);
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

static void proc_became_ready(struct proc *p)
{
    timer_cancel(p);
    p->retries = 0;
    p->ready_wait_since = 0;
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

static void proc_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct proc *p = w->data;
    (void)loop;
    (void)revents;
    switch (p->state) {
    case PROC_STARTING:
        if (p->awaiting_pidfile) {
            p->awaiting_pidfile = false;
            forking_find_daemon(p);
            break;
        }
        if (p->cfg->type == PTYPE_FORKING && p->launching) {
            break;
        }
        if (p->ready_timed_out) {
            log_warn("%s (pid %d) did not stop within %gs; sending KILL", p->cfg->name,
                     (int)p->pid, (double)p->cfg->stopwaitsecs / 1000.0);
            proc_kill(p, SIGKILL, true);
            break;
        }
        if (p->cfg->ready.kind != PROBE_NONE) {
            /* ready_timeout ran out before the probe passed: stopped as by `tend stop`, and
             * its exit is a failed start (startretries, BACKOFF, FATAL) */
            log_warn("%s: not ready within %gs; stopping pid %d with %s (a failed start)",
                     p->cfg->name, (double)p->cfg->ready_timeout / 1000.0, (int)p->pid,
                     signal_name(p->cfg->stopsignal));
            ready_probe_stop(p);
            p->ready_timed_out = true;
            proc_kill(p, p->cfg->stopsignal, p->cfg->stopasgroup);
            timer_arm(p, (ev_tstamp)p->cfg->stopwaitsecs / 1000.0);
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

/* The process is gone: collect its output, decide by state and policy what comes next. */
void proc_exited(struct proc *p, int status)
{
    struct supervisor *sv = p->sv;
    pid_t pid = p->pid;
    ev_tstamp ran = ev_time() - p->started_at;
    timer_cancel(p);
    pid_map_remove(&sv->pids, &p->main_entry);
    ready_probe_stop(p);
    health_stop(p);
    p->ready = false;
    p->ready_wait_since = 0;
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
    proc_drain_pipes(p);
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
        sv->proc_stopped(p); /* shutdown or reload decides what comes next */
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
            proc_set_error(p, xasprintf("not ready within %gs",
                                        (double)p->cfg->ready_timeout / 1000.0));
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
    /* it had started well (RUNNING), so this is a new start, as in supervisord: no backoff,
     * and its retry count was reset when it became RUNNING; only restart_delay may wait */
    ev_tstamp delay = (ev_tstamp)p->cfg->restart_delay / 1000.0;
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

/* How readiness probes and health checks report back (ready.h). */
const struct ready_reports supervise_ready_reports = {
    .up = proc_became_ready,
    .unhealthy = proc_restart,
};

struct proc *proc_new(struct supervisor *sv, struct proc_config *pc, struct config *owner,
                      size_t index)
{
    struct proc *p = xcalloc(1, sizeof(*p));
    p->sv = sv;
    p->cfg = pc;
    p->owner = owner;
    p->index = index;
    p->state = PROC_STOPPED;
    p->state_since = ev_time();
    ev_timer_init(&p->timer, proc_timer_cb, 0., 0.);
    p->timer.data = p;
    ready_init(p);
    proc_make_sinks(p);
    return p;
}

void proc_free(struct proc *p)
{
    ev_timer_stop(p->sv->loop, &p->timer);
    ready_free(p);
    proc_drain_pipes(p);
    unwire(p);
    feed_free(p->in);
    proc_free_sinks(p);
    free(p->deps);
    free(p->dependents);
    free(p->status_text);
    free(p->last_error);
    free(p);
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

