/* up.c - `tend up [-d]`: loads the config, daemonizes, becomes a subreaper, opens the control
 * socket and runs the supervisor on libev (TERM/INT stop, HUP reload, USR2 reopen logs).
 * Wires control to the supervisor; calls config, daemon, supervise, control, spawn, log. */
#include "up.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "events.h"
#include "http.h"
#include "log.h"
#include "rpc.h"
#include "spawn.h"
#include "supervise.h"

struct up {
    struct ev_loop *loop;
    struct supervisor *sv;
    struct control *ctl;
    struct rpc *rpc;   /* supervisord's XML-RPC methods */
    struct http *http; /* ...served over HTTP on the control socket and [inet_http_server] */
    struct events *events; /* [eventlistener:x] pools and `tend events` */
    char *config_path; /* absolute, for reload */
    ev_signal sig_term, sig_int, sig_hup, sig_usr2;
    bool done; /* every program stopped: the loop is ending */
};

static void up_shutdown_done(struct supervisor *sv, void *arg)
{
    struct up *up = arg;
    (void)sv;
    up->done = true;
    log_info("every program is stopped; exiting");
    ev_break(up->loop, EVBREAK_ALL);
}

static void up_begin_shutdown(struct up *up)
{
    if (!up->sv->shutting_down && up->events) {
        events_supervisor_state(up->events, false);
    }
    supervisor_shutdown(up->sv, up_shutdown_done, up);
}

/* Reload: a configuration with any error is rejected whole and nothing changes. */
static int up_reload(void *arg, bool dry_run, struct strbuf *out, struct strbuf *err)
{
    struct up *up = arg;
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_load(up->config_path, &d);
    for (size_t i = 0; i < d.warnings.n; i++) {
        strbuf_addf(err, "%s\n", d.warnings.v[i]);
    }
    if (!cfg) {
        for (size_t i = 0; i < d.errors.n; i++) {
            strbuf_addf(err, "%s\n", d.errors.v[i]);
            log_error("reload: %s", d.errors.v[i]);
        }
        strbuf_addf(err, "tend: reload rejected: %zu error%s in %s; nothing changed\n",
                    d.errors.n, d.errors.n == 1 ? "" : "s", up->config_path);
        diag_free(&d);
        return EXIT_CONFIG;
    }
    diag_free(&d);
    if (up->sv->shutting_down) {
        config_free(cfg);
        strbuf_adds(err, "tend: reload refused: shutting down\n");
        return 1;
    }
    supervisor_reload(up->sv, cfg, dry_run, out);
    if (!dry_run && up->events) {
        events_sync(up->events);
    }
    if (!dry_run) {
        /* the plan in the log too, one line at a time */
        char *copy = xstrdup(out->buf ? out->buf : "");
        for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
            log_info("%s", line);
        }
        free(copy);
    }
    return 0;
}

static void up_down(void *arg)
{
    struct up *up = arg;
    log_info("down requested; stopping every program");
    up_begin_shutdown(up);
}

static void up_state_cb(struct proc *p, enum proc_state old, void *arg)
{
    struct up *up = arg;
    if (up->ctl) {
        control_proc_changed(up->ctl, p, old);
    }
    if (up->rpc) {
        rpc_proc_changed(up->rpc, p, old);
    }
    if (up->events) {
        events_proc_changed(up->events, p, old);
    }
}

static void up_listener_cb(struct proc *p, int in_fd, int out_fd, void *arg)
{
    struct up *up = arg;
    events_listener_spawned(up->events, p, in_fd, out_fd);
}

static void up_log_cb(struct proc *p, bool is_stderr, const char *buf, size_t n, void *arg)
{
    struct up *up = arg;
    if (up->events) {
        events_proc_log(up->events, p, is_stderr, buf, n);
    }
}

static void up_critical_cb(struct supervisor *sv, void *arg)
{
    struct up *up = arg;
    (void)sv;
    up_begin_shutdown(up);
}

static void up_remove_cb(struct proc *p, void *arg)
{
    struct up *up = arg;
    if (up->ctl) {
        control_proc_removed(up->ctl, p);
    }
    if (up->rpc) {
        rpc_proc_removed(up->rpc, p);
    }
    if (up->http) {
        http_proc_removed(up->http, p);
    }
    if (up->events) {
        events_proc_removed(up->events, p);
    }
}

static void up_sinks_replaced_cb(struct proc *p, struct output_sink *old_out,
                                 struct output_sink *old_err, void *arg)
{
    struct up *up = arg;
    if (up->ctl) {
        control_sinks_replaced(up->ctl, p, old_out, old_err);
    }
    if (up->http) {
        http_sinks_replaced(up->http, p, old_out, old_err);
    }
}

static void up_http_connection(void *arg, int fd)
{
    struct up *up = arg;
    if (up->http) {
        http_add_unix_connection(up->http, fd);
    } else {
        close(fd);
    }
}

/* The HTTP/XML-RPC server beside tend's own protocol: on the control socket (its owner, mode
 * and auth from [unix_http_server]) and on [inet_http_server] port when set. */
static int up_start_http(struct up *up, const char *socket_path, const char *logfile,
                         char **err)
{
    const struct global_config *g = &up->sv->cfg->global;
    if (g->socket_owner && http_chown_socket(socket_path, g->socket_owner, err) < 0) {
        return -1;
    }
    if (g->socket_owner || (g->socket_mode & 0077)) {
        control_allow_others(up->ctl);
    }
    struct rpc_hooks rh = {.reload = up_reload, .down = up_down, .arg = up};
    up->rpc = rpc_new(up->sv, up->config_path, logfile, &rh);
    up->http = http_new(up->loop, up->sv, up->rpc, g, logfile, err);
    return up->http ? 0 : -1;
}

static void up_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct up *up = w->data;
    (void)loop;
    (void)revents;
    if (up->done) {
        return;
    }
    switch (w->signum) {
    case SIGTERM:
    case SIGINT:
        if (up->sv->shutting_down) {
            log_warn("received SIG%s again; killing every program",
                     w->signum == SIGTERM ? "TERM" : "INT");
        } else {
            log_info("received SIG%s; stopping every program",
                     w->signum == SIGTERM ? "TERM" : "INT");
        }
        up_begin_shutdown(up);
        break;
    case SIGHUP: {
        log_info("received SIGHUP; reloading %s", up->config_path);
        struct strbuf out, err;
        strbuf_init(&out);
        strbuf_init(&err);
        up_reload(up, false, &out, &err);
        strbuf_free(&out);
        strbuf_free(&err);
        break;
    }
    case SIGUSR2:
        log_info("received SIGUSR2; reopening log files");
        supervisor_reopen_logs(up->sv);
        break;
    default:
        break;
    }
}

static void up_usage(FILE *to)
{
    fprintf(to, "usage: tend [-c FILE] up [-d]\n"
                "  -d, --daemon   run in the background; return once the control socket listens\n");
}

/* libev aborts on a failed system call unless told otherwise (its callback must not return):
 * say why and exit as tend's own failure, never a crash. Seen at start-up with fds exhausted,
 * when libev cannot make its signal pipe. */
static void up_syserr(const char *msg)
{
    log_msg(LOG_CRIT, "event loop failure: %s: %s", msg, strerror(errno));
    exit(125);
}

/* Reports a start-up failure: to the launcher when daemonized, else on stderr. */
static int up_fail(int ready_fd, int status, const char *msg)
{
    if (ready_fd >= 0) {
        daemon_fail(ready_fd, status, msg);
    }
    fprintf(stderr, "%s\n", msg);
    return status;
}

/* [tend] minfds and minprocs: raise a soft limit as far as the hard limit allows. */
static void raise_limit(int resource, long want)
{
    struct rlimit rl;
    if (want <= 0 || getrlimit(resource, &rl) < 0 || rl.rlim_cur >= (rlim_t)want) {
        return;
    }
    rl.rlim_cur = (rlim_t)want < rl.rlim_max ? (rlim_t)want : rl.rlim_max;
    setrlimit(resource, &rl);
}

static char *absolute(const char *path)
{
    if (!path || path[0] == '/') {
        return path ? xstrdup(path) : NULL;
    }
    char cwd[PATH_MAX];
    return getcwd(cwd, sizeof(cwd)) ? xasprintf("%s/%s", cwd, path) : xstrdup(path);
}

/* `up [-d]`: -1 to go on (with *daemonize), or the exit status. */
static int up_parse_args(int argc, char **argv, bool *daemonize)
{
    *daemonize = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            up_usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--daemon") == 0) {
            *daemonize = true;
            continue;
        }
        fprintf(stderr, "tend: up: unexpected argument '%s'\n", argv[i]);
        up_usage(stderr);
        return 2;
    }
    return -1;
}

/* What tend up needs before its loop: absolute paths (the daemon's cwd is /), the pid file,
 * the fd that tells the launcher `up -d` succeeded. */
struct up_start {
    bool daemonize;
    char *socket_path, *pidfile_path, *logfile;
    struct pidfile *pidfile;
    int ready_fd;
    char *msg;
};

/* Refuses a second instance, daemonizes, opens the log, takes the pid file, applies umask and
 * limits, becomes a subreaper. -1 to go on, or the exit status. */
static int up_prepare(struct up_start *st, const struct config *cfg)
{
    /* refuse a second instance before forking, so the error reaches the terminal */
    pid_t holder = st->pidfile_path ? pidfile_holder(st->pidfile_path) : 0;
    if (holder != 0) {
        fprintf(stderr, "tend: already running (pid %d)\n", (int)holder);
        return 1;
    }
    if (st->daemonize && daemon_start(cfg->global.directory, st->logfile, &st->ready_fd) < 0) {
        fprintf(stderr, "tend: cannot daemonize: %s\n", strerror(errno));
        return 125;
    }
    spawn_sanitize_fds();
    spawn_stage_init(); /* before any program's pipe: the slots must be low */
    signal(SIGPIPE, SIG_IGN); /* a dead reader is an error to report, never a death */
    log_set_level(cfg->global.loglevel);
    log_set_rotation(cfg->global.logfile_maxbytes, (int)cfg->global.logfile_backups);
    if (st->logfile && !st->daemonize && log_open_file(st->logfile) < 0) {
        st->msg = xasprintf("tend: cannot open log file %s: %s", st->logfile, strerror(errno));
        return up_fail(st->ready_fd, 125, st->msg);
    }
    if (st->logfile && st->daemonize) {
        log_open_file(st->logfile);
    }
    if (st->pidfile_path) {
        char *err = NULL;
        int taken = pidfile_acquire(st->pidfile_path, &st->pidfile, &holder, &err);
        if (taken != 0) {
            st->msg = taken > 0 ? xasprintf("tend: already running (pid %d)", (int)holder)
                                : xasprintf("tend: %s", err);
            free(err);
            return up_fail(st->ready_fd, taken > 0 ? 1 : 125, st->msg);
        }
    }
    if (cfg->global.umask >= 0) {
        umask((mode_t)cfg->global.umask);
    }
    raise_limit(RLIMIT_NOFILE, cfg->global.minfds);
    raise_limit(RLIMIT_NPROC, cfg->global.minprocs);
    /* orphaned grandchildren are re-parented to tend, which reaps them: no zombie survives */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        log_warn("cannot become a child subreaper: %s", strerror(errno));
    }
    return -1;
}

/* The loop, the supervisor (taking cfg), the control socket and the signals; runs until every
 * program stopped. Returns tend's exit status. */
static int up_run(struct up *up, struct up_start *st, struct config *cfg)
{
    ev_set_syserr_cb(up_syserr);
    up->loop = ev_default_loop(EVFLAG_AUTO);
    if (!up->loop) {
        config_free(cfg);
        return up_fail(st->ready_fd, 125, "tend: cannot initialise the event loop");
    }
    up->sv = supervisor_new(up->loop, cfg, !st->daemonize);
    up->sv->on_state = up_state_cb;
    up->sv->on_state_arg = up;
    up->sv->on_remove = up_remove_cb;
    up->sv->on_sinks_replaced = up_sinks_replaced_cb;
    up->sv->on_critical = up_critical_cb;
    up->sv->on_listener = up_listener_cb;
    up->sv->on_log = up_log_cb;
    up->events = events_new(up->loop, up->sv, up->sv->cfg->global.identifier);
    /* sd_notify datagrams arrive next to the control socket */
    char *notify_path = xasprintf("%s.notify", st->socket_path);
    supervisor_set_notify_path(up->sv, notify_path);
    free(notify_path);
    struct control_hooks hooks = {
        .reload = up_reload, .down = up_down, .http = up_http_connection, .arg = up};
    char *err = NULL;
    up->ctl = control_new(up->loop, up->sv, st->socket_path, up->sv->cfg->global.socket_mode,
                          &hooks, &err);
    if (!up->ctl) {
        st->msg = xasprintf("tend: %s", err);
        free(err);
        int rc = up_fail(st->ready_fd, strncmp(st->msg, "tend: already running", 21) == 0 ? 1 : 125,
                         st->msg);
        events_free(up->events);
        supervisor_free(up->sv);
        ev_loop_destroy(up->loop);
        return rc;
    }
    if (up_start_http(up, st->socket_path, st->logfile, &err) < 0) {
        st->msg = xasprintf("tend: %s", err);
        free(err);
        int rc = up_fail(st->ready_fd, EXIT_CONFIG, st->msg);
        http_free(up->http);
        rpc_free(up->rpc);
        control_free(up->ctl);
        events_free(up->events);
        supervisor_free(up->sv);
        ev_loop_destroy(up->loop);
        return rc;
    }
    int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR2};
    ev_signal *watchers[] = {&up->sig_term, &up->sig_int, &up->sig_hup, &up->sig_usr2};
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
        ev_signal_init(watchers[i], up_signal_cb, sigs[i]);
        watchers[i]->data = up;
        ev_signal_start(up->loop, watchers[i]);
    }
    log_info("tend %s (pid %d) supervising %zu process%s from %s; control socket %s",
             PACKAGE_VERSION, (int)getpid(), up->sv->nprocs, up->sv->nprocs == 1 ? "" : "es",
             up->config_path, st->socket_path);
    /* the launcher returns now: `tend up -d && tend status` finds the socket listening */
    daemon_ready(st->ready_fd);
    st->ready_fd = -1;
    control_set_events(up->ctl, up->events);
    /* as supervisord: RUNNING before the first program starts */
    events_supervisor_state(up->events, true);
    supervisor_start_autostart(up->sv);
    /* the loader's scaffolding is freed but its pages are still tend's: give them back, so
     * a long-running supervisor keeps only what its programs need */
    malloc_trim(0);
    /* a critical program may have failed already, and ended everything */
    if (!up->done) {
        ev_run(up->loop, 0);
    }

    /* tend has stopped everything and exits with its own status from here on: a late TERM
     * or INT (a second Ctrl-C, a service manager that repeats itself) must not turn that into
     * death by signal, as stopping the watchers alone would (libev restores SIG_DFL) */
    sigset_t late;
    sigemptyset(&late);
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
        sigaddset(&late, sigs[i]);
    }
    sigprocmask(SIG_BLOCK, &late, NULL);
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
        ev_signal_stop(up->loop, watchers[i]);
        signal(sigs[i], SIG_IGN); /* also drops one already pending */
    }
    http_free(up->http);
    up->http = NULL;
    rpc_free(up->rpc);
    up->rpc = NULL;
    control_free(up->ctl);
    events_free(up->events);
    up->events = NULL;
    int rc = up->sv->exit_status;
    supervisor_free(up->sv);
    ev_loop_destroy(up->loop);
    return rc;
}

int up_main(const char *config, int argc, char **argv)
{
    struct up_start st = {.ready_fd = -1};
    int rc = up_parse_args(argc, argv, &st.daemonize);
    if (rc >= 0) {
        return rc;
    }
    struct config *cfg = config_load_for_verb(config, NULL);
    if (!cfg) {
        return EXIT_CONFIG;
    }
    struct up up = {0};
    up.config_path = xstrdup(cfg->global.file);
    st.socket_path = absolute(cfg->global.socket);
    st.pidfile_path = absolute(cfg->global.pidfile);
    st.logfile = absolute(cfg->global.logfile);
    if (cfg->global.logfile && strcasecmp(cfg->global.logfile, "syslog") == 0) {
        /* supervisord's magic name, not a file called syslog in the current directory */
        fprintf(stderr, "tend: warning: logfile = syslog: tend's own log does not go to syslog; "
                        "it stays on standard error\n");
        free(st.logfile);
        st.logfile = NULL;
    }
    if (st.daemonize && !st.pidfile_path) {
        /* a daemon always has a pid file: next to its socket unless configured */
        size_t n = strlen(st.socket_path);
        st.pidfile_path = n > 5 && strcmp(st.socket_path + n - 5, ".sock") == 0
                              ? xasprintf("%.*s.pid", (int)(n - 5), st.socket_path)
                              : xasprintf("%s.pid", st.socket_path);
    }
    rc = up_prepare(&st, cfg);
    if (rc < 0) {
        rc = up_run(&up, &st, cfg);
        cfg = NULL;
    }
    pidfile_release(st.pidfile);
    config_free(cfg);
    free(st.msg);
    free(st.socket_path);
    free(st.pidfile_path);
    free(st.logfile);
    free(up.config_path);
    log_close();
    return rc;
}
