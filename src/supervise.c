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

#include "log.h"
#include "spawn.h"
#include "values.h"

extern char **environ;

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

static void pid_insert(struct supervisor *sv, struct proc *p)
{
    size_t b = pid_bucket(sv, p->pid);
    p->hash_next = sv->pid_buckets[b];
    sv->pid_buckets[b] = p;
}

static void pid_remove(struct supervisor *sv, struct proc *p)
{
    struct proc **link = &sv->pid_buckets[pid_bucket(sv, p->pid)];
    while (*link && *link != p) {
        link = &(*link)->hash_next;
    }
    if (*link) {
        *link = p->hash_next;
    }
    p->hash_next = NULL;
}

static struct proc *pid_lookup(struct supervisor *sv, pid_t pid)
{
    for (struct proc *p = sv->pid_buckets[pid_bucket(sv, pid)]; p; p = p->hash_next) {
        if (p->pid == pid) {
            return p;
        }
    }
    return NULL;
}

/* ---- state changes ---- */

static void proc_set_state(struct proc *p, enum proc_state s)
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

/* KEY=VALUE lines of an env_file; '#' starts a comment line; blank lines are skipped. */
static int read_env_file(const char *path, struct strv *env, char **err)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        *err = xasprintf("cannot read env_file %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = '\0';
        }
        char *s = line;
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (!*s || *s == '#') {
            continue;
        }
        if (strncmp(s, "export ", 7) == 0) {
            s += 7;
        }
        char *eq = strchr(s, '=');
        if (!eq || eq == s) {
            *err = xasprintf("%s:%d: expected KEY=VALUE", path, lineno);
            rc = -1;
            break;
        }
        /* a value in matching quotes loses them, as in shells and docker's env files */
        size_t vlen = strlen(eq + 1);
        if (vlen >= 2 && (eq[1] == '"' || eq[1] == '\'') && eq[vlen] == eq[1]) {
            eq[vlen] = '\0';
            memmove(eq + 1, eq + 2, vlen - 1);
        }
        strv_setenv(env, s);
    }
    free(line);
    fclose(f);
    return rc;
}

/* tend's environment, then [tend] environment, env_file, the program's environment, and the
 * variables that tell a program who it is (supervisord's names too, for existing scripts). */
static int build_environment(struct proc *p, const struct spawn_user *user, struct strv *env,
                             char **err)
{
    const struct proc_config *c = p->cfg;
    strv_init(env);
    for (char **e = environ; *e; e++) {
        strv_push(env, *e);
    }
    for (size_t i = 0; i < p->sv->cfg->global.environment.n; i++) {
        strv_setenv(env, p->sv->cfg->global.environment.v[i]);
    }
    if (user) {
        char *kv[] = {xasprintf("HOME=%s", user->home), xasprintf("USER=%s", user->name),
                      xasprintf("LOGNAME=%s", user->name), xasprintf("SHELL=%s", user->shell)};
        for (size_t i = 0; i < ARRAY_SIZE(kv); i++) {
            strv_setenv(env, kv[i]);
            free(kv[i]);
        }
    }
    if (c->env_file && read_env_file(c->env_file, env, err) < 0) {
        strv_free(env);
        return -1;
    }
    for (size_t i = 0; i < c->environment.n; i++) {
        strv_setenv(env, c->environment.v[i]);
    }
    char *vars[] = {xasprintf("TEND_PROCESS_NAME=%s", c->name),
                    xasprintf("TEND_GROUP_NAME=%s", c->group), xstrdup("SUPERVISOR_ENABLED=1"),
                    xasprintf("SUPERVISOR_PROCESS_NAME=%s", c->name),
                    xasprintf("SUPERVISOR_GROUP_NAME=%s", c->group)};
    for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
        strv_setenv(env, vars[i]);
        free(vars[i]);
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
    int out[2] = {-1, -1}, errp[2] = {-1, -1}, in = -1;
    int rc = -1;

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
    req.map[0].src = in;
    req.map[0].target = 0;
    req.map[1].src = out[1];
    req.map[1].target = 1;
    req.map[2].src = c->redirect_stderr ? out[1] : errp[1];
    req.map[2].target = 2;
    req.nmap = 3;

    struct spawn_error se = {0};
    pid_t pid;
    if (spawn_child(&req, &pid, &se) < 0) {
        *err = spawn_error_message(&se);
        spawn_error_free(&se);
        goto done;
    }
    p->pid = pid;
    p->started_at = ev_time();
    pid_insert(p->sv, p);
    close_fd(&out[1]);
    close_fd(&errp[1]);
    p->out_pipe = output_pipe_new(p->sv->loop, out[0], p->out);
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
    strv_free(&env);
    if (have_user) {
        spawn_user_free(&user);
    }
    return rc;
}

/* ---- the state machine ---- */

static bool retries_exhausted(const struct proc *p)
{
    long max = p->cfg->startretries;
    return max != RETRIES_FOREVER && p->retries > max;
}

/* A start that failed (spawn error, or exit before startsecs): BACKOFF or FATAL. */
static void proc_start_failed(struct proc *p, const char *what)
{
    p->retries++;
    if (retries_exhausted(p)) {
        log_error("%s; giving up after %d attempt%s (FATAL)", what, p->retries,
                  p->retries == 1 ? "" : "s");
        proc_set_state(p, PROC_FATAL);
        return;
    }
    /* supervisord's backoff: one more second per failed attempt */
    ev_tstamp delay = (ev_tstamp)p->retries;
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
    if (p->cfg->startsecs <= 0) {
        proc_set_state(p, PROC_STARTING);
        p->retries = 0;
        log_info("%s (pid %d) is RUNNING", p->cfg->name, (int)p->pid);
        proc_set_state(p, PROC_RUNNING);
        return;
    }
    proc_set_state(p, PROC_STARTING);
    timer_arm(p, (ev_tstamp)p->cfg->startsecs / 1000.0);
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
        timer_cancel(p);
        break;
    default:
        break;
    }
    p->retries = 0;
    proc_do_start(p);
    return 0;
}

static void proc_kill(struct proc *p, int sig, bool group)
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
    case PROC_STOPPING:
        return 0;
    default:
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
        /* it stayed up for startsecs: a successful start */
        p->retries = 0;
        log_info("%s (pid %d) is RUNNING", p->cfg->name, (int)p->pid);
        proc_set_state(p, PROC_RUNNING);
        break;
    case PROC_BACKOFF:
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

/* The process is gone: collect its output, decide by state and policy what comes next. */
static void proc_exited(struct proc *p, int status)
{
    struct supervisor *sv = p->sv;
    pid_t pid = p->pid;
    ev_tstamp ran = ev_time() - p->started_at;
    timer_cancel(p);
    pid_remove(sv, p);
    /* whatever the child wrote before exiting is in the pipes now */
    if (p->out_pipe) {
        output_pipe_drain_and_free(p->out_pipe);
        p->out_pipe = NULL;
    }
    if (p->err_pipe) {
        output_pipe_drain_and_free(p->err_pipe);
        p->err_pipe = NULL;
    }
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
        if (sv->shutting_down) {
            shutdown_proc_done(sv, p);
        } else if (p->restart_after_stop) {
            p->restart_after_stop = false;
            proc_start(p);
        }
        return;
    }
    if (was == PROC_STARTING) {
        proc_set_error(p, xasprintf("exited too quickly (%s)", what));
        proc_start_failed(p, what);
        free(what);
        return;
    }
    /* RUNNING -> EXITED, then autorestart decides */
    bool expected = p->last_exit.code >= 0 && exitcodes_has(&p->cfg->exitcodes, p->last_exit.code);
    bool restart = p->cfg->autorestart == AUTORESTART_TRUE ||
                   (p->cfg->autorestart == AUTORESTART_UNEXPECTED && !expected);
    proc_set_state(p, PROC_EXITED);
    if (restart) {
        p->restarts++;
        log_info("%s (%s); restarting", what, expected ? "expected" : "not expected");
        proc_do_start(p);
    } else {
        log_info("%s (%s)", what, expected ? "expected" : "not expected");
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
    struct proc *p = pid_lookup(sv, w->rpid);
    if (!p) {
        /* an orphan re-parented to tend (the subreaper), or a helper: reaped by libev */
        sv->orphans_reaped++;
        log_debug("reaped orphan pid %d", (int)w->rpid);
        return;
    }
    proc_exited(p, w->rstatus);
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
            shutdown_finish(sv);
            return;
        }
        long level = sv->procs[sv->shutdown_cursor - 1]->cfg->priority;
        while (sv->shutdown_cursor > 0 && sv->procs[sv->shutdown_cursor - 1]->cfg->priority == level) {
            struct proc *p = sv->procs[--sv->shutdown_cursor];
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
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
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
        if (p->state == PROC_BACKOFF) {
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

static struct output_sink *make_sink(struct supervisor *sv, struct proc *p, const char *stream,
                                     const char *setting, int64_t maxbytes, long backups,
                                     int width)
{
    char *path = log_path_for(sv, setting, p->cfg->name, stream);
    struct output_options o = {
        .name = p->cfg->name,
        .stream = stream,
        .path = path,
        .maxbytes = maxbytes,
        .backups = (int)backups,
        .console = sv->console && !path,
        .prefix_width = width,
        .color = output_console_use_color() ? output_color_for(p->index) : 0,
        .ring_size = path ? 0 : RING_SIZE,
    };
    struct output_sink *s = output_sink_new(&o);
    free(path);
    return s;
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
    int width = 0;
    for (size_t i = 0; i < cfg->nprocs; i++) {
        int n = (int)strlen(cfg->procs[i]->name);
        width = n > width ? n : width;
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
        p->out = make_sink(sv, p, "stdout", c->stdout_logfile, c->stdout_logfile_maxbytes,
                           c->stdout_logfile_backups, width);
        p->err = c->redirect_stderr
                     ? NULL
                     : make_sink(sv, p, "stderr", c->stderr_logfile, c->stderr_logfile_maxbytes,
                                 c->stderr_logfile_backups, width);
        sv->procs[i] = p;
    }
    ev_child_init(&sv->child_watcher, child_cb, 0, 0);
    sv->child_watcher.data = sv;
    ev_child_start(loop, &sv->child_watcher);
    return sv;
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
        ev_timer_stop(sv->loop, &p->timer);
        if (p->out_pipe) {
            output_pipe_drain_and_free(p->out_pipe);
        }
        if (p->err_pipe) {
            output_pipe_drain_and_free(p->err_pipe);
        }
        if (p->out) {
            output_sink_free(p->out);
        }
        if (p->err) {
            output_sink_free(p->err);
        }
        free(p->last_error);
        free(p);
    }
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
