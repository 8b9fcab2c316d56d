/* ready.c - readiness probes (retried until they pass or ready_timeout runs out), health checks
 * (restart after healthcheck_retries failures) and the sd_notify socket; timers only while due.
 * Reports through sv->reports, never calls supervise.c; calls pidmap, spawn, exitstatus, log. */
#include "ready.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitstatus.h"
#include "log.h"
#include "spawn.h"

const char *health_name(enum health h)
{
    static const char *const names[] = {"none", "starting", "healthy", "unhealthy"};
    return names[h];
}

int ready_environment(struct proc *p, struct strv *env, char **err)
{
    if (p->cfg->ready.kind != PROBE_NOTIFY) {
        return 0;
    }
    if (notify_open(p->sv, err) < 0) {
        strv_free(env);
        return -1;
    }
    char *ns = xasprintf("NOTIFY_SOCKET=%s", p->sv->notify_path);
    strv_setenv(env, ns);
    free(ns);
    return 0;
}

/* Spawns a probe or health-check command with std fds on /dev/null in its own process group,
 * as the program runs: its user, umask, limits, environment and directory (a check must not
 * have privileges its program was denied). Its exit arrives through the entry. */
static int ready_spawn_helper(struct proc *p, const struct strv *argv, struct pid_entry *e,
                              char **err)
{
    struct spawn_request req;
    memset(&req, 0, sizeof(req));
    struct spawn_user user;
    int who = spawn_identity(p->cfg, -1, &user, &req, err);
    if (who < 0) {
        return -1;
    }
    struct strv env;
    if (spawn_build_environment(&p->sv->cfg->global.environment, p->cfg, who > 0 ? &user : NULL,
                                &env, err) < 0) {
        spawn_user_free(&user);
        return -1;
    }
    if (ready_environment(p, &env, err) < 0) {
        spawn_user_free(&user);
        return -1;
    }
    req.argv = (const char *const *)argv->v;
    req.envp = (const char *const *)env.v;
    req.cwd = p->cfg->directory;
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
        pid_map_add(&p->sv->pids, e, pid);
    }
    strv_free(&env);
    spawn_user_free(&user);
    return rc;
}

static void probe_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void probe_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void health_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void health_io_cb(struct ev_loop *loop, ev_io *w, int revents);

/* What a probe or a health check needs, allocated for the programs that have one (most have
 * neither: 10,000 programs should not carry their timers and watchers). */
struct probe_state {
    ev_timer timer; /* retry of a readiness probe, or re-read of a pid file */
    ev_io io;       /* fd:N pipe, or a tcp connect in progress */
    int fd;
    int attempts;
    struct pid_entry entry;
};

struct health_state {
    bool running; /* a check is in flight (timer is its timeout) */
    ev_timer timer;
    ev_io io;
    int fd;
    struct pid_entry entry;
};

/* The timer, io watcher, fd and pid entry that a probe and a health check both have. */
static void check_parts_init(struct proc *p, ev_timer *timer, ev_io *io, int *fd,
                             struct pid_entry *entry, enum pid_kind kind,
                             void (*timer_cb)(struct ev_loop *, ev_timer *, int),
                             void (*io_cb)(struct ev_loop *, ev_io *, int))
{
    ev_timer_init(timer, timer_cb, 0., 0.);
    timer->data = p;
    ev_init(io, io_cb);
    io->data = p;
    *fd = -1;
    entry->kind = kind;
    entry->proc = p;
}

static struct probe_state *probe_state(struct proc *p)
{
    if (!p->probe) {
        struct probe_state *ps = p->probe = xcalloc(1, sizeof(*p->probe));
        check_parts_init(p, &ps->timer, &ps->io, &ps->fd, &ps->entry, PID_PROBE, probe_timer_cb,
                         probe_io_cb);
    }
    return p->probe;
}

static struct health_state *health_state(struct proc *p)
{
    if (!p->hc) {
        struct health_state *hs = p->hc = xcalloc(1, sizeof(*p->hc));
        check_parts_init(p, &hs->timer, &hs->io, &hs->fd, &hs->entry, PID_HEALTH,
                         health_timer_cb, health_io_cb);
    }
    return p->hc;
}

void ready_init(struct proc *p)
{
    p->main_entry.kind = PID_MAIN;
    p->main_entry.proc = p;
}

void ready_free(struct proc *p)
{
    ready_probe_stop(p);
    health_stop(p);
    free(p->probe);
    free(p->hc);
    p->probe = NULL;
    p->hc = NULL;
}

/* ---- tcp: a non-blocking connect; the io watcher says when it is decided ---- */

/* Starts a connect to host:port; returns the socket (EINPROGRESS is the usual case) or -1. */
static int tcp_connect_start(const char *host, int port)
{
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, service, &hints, &res) != 0 || !res) {
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static bool tcp_connected(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);
    return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
}

/* ---- readiness probes ---- */

/* Stops the watcher of a probe's or check's fd (a pipe or a connecting socket), closes it. */
static void check_io_close(struct ev_loop *loop, ev_io *io, int *fd)
{
    ev_io_stop(loop, io);
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void probe_close_fd(struct proc *p)
{
    if (p->probe) {
        check_io_close(p->sv->loop, &p->probe->io, &p->probe->fd);
    }
}

void ready_probe_stop(struct proc *p)
{
    if (!p->probe) {
        return;
    }
    ev_timer_stop(p->sv->loop, &p->probe->timer);
    probe_close_fd(p);
    if (p->probe->entry.pid > 0) {
        kill(-p->probe->entry.pid, SIGKILL);
        pid_map_remove(&p->sv->pids, &p->probe->entry);
    }
}

static void probe_passed(struct proc *p, const char *how)
{
    log_info("%s (pid %d) is ready (%s)", p->cfg->name, (int)p->pid, how);
    ready_probe_stop(p);
    p->sv->reports->up(p);
}

/* Tries again after a pause that grows from 100 ms to 1 s. */
static void probe_retry(struct proc *p)
{
    double pause = 0.1 * (1 << (p->probe->attempts < 4 ? p->probe->attempts : 4));
    p->probe->attempts++;
    ev_timer_stop(p->sv->loop, &p->probe->timer);
    ev_timer_set(&p->probe->timer, pause > 1.0 ? 1.0 : pause, 0.);
    ev_timer_start(p->sv->loop, &p->probe->timer);
}

static void probe_attempt(struct proc *p)
{
    const struct probe *pr = &p->cfg->ready;
    if (p->state != PROC_STARTING) {
        return;
    }
    if (pr->kind == PROBE_TCP) {
        probe_close_fd(p);
        p->probe->fd = tcp_connect_start(pr->host, pr->port);
        if (p->probe->fd < 0) {
            probe_retry(p);
            return;
        }
        ev_io_set(&p->probe->io, p->probe->fd, EV_WRITE);
        ev_io_start(p->sv->loop, &p->probe->io);
    } else if (pr->kind == PROBE_EXEC) {
        char *err = NULL;
        if (ready_spawn_helper(p, &pr->argv, &p->probe->entry, &err) < 0) {
            log_warn("%s: readiness probe: %s", p->cfg->name, err);
            free(err);
            probe_retry(p);
        }
    }
}

static void probe_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    probe_attempt(w->data);
}

static void probe_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct proc *p = w->data;
    (void)loop;
    (void)revents;
    if (p->cfg->ready.kind == PROBE_TCP) {
        bool ok = tcp_connected(p->probe->fd);
        probe_close_fd(p);
        if (ok) {
            probe_passed(p, "tcp connection accepted");
        } else {
            probe_retry(p);
        }
        return;
    }
    /* fd:N: the s6 convention, a newline written to the notification fd */
    char buf[512];
    ssize_t n = read(p->probe->fd, buf, sizeof(buf));
    if (n > 0 && memchr(buf, '\n', (size_t)n)) {
        probe_passed(p, "notification fd");
    } else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        /* closed without a newline: it will not say it is ready; ready_timeout decides */
        probe_close_fd(p);
    }
}

int ready_prepare_fd(struct proc *p, int *child_end, char **err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        *err = xasprintf("cannot create the notification pipe: %s", strerror(errno));
        return -1;
    }
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    probe_close_fd(p);
    probe_state(p)->fd = fds[0];
    *child_end = fds[1];
    return 0;
}

void ready_probe_start(struct proc *p)
{
    probe_state(p)->attempts = 0;
    switch (p->cfg->ready.kind) {
    case PROBE_FD:
        if (p->probe->fd >= 0) {
            ev_io_set(&p->probe->io, p->probe->fd, EV_READ);
            ev_io_start(p->sv->loop, &p->probe->io);
        }
        break;
    case PROBE_TCP:
    case PROBE_EXEC:
        probe_attempt(p);
        break;
    default:
        break; /* notify: the datagram arrives on the supervisor's socket */
    }
}

void ready_probe_exited(struct proc *p, int status)
{
    pid_map_remove(&p->sv->pids, &p->probe->entry);
    if (p->state != PROC_STARTING) {
        return;
    }
    struct exit_info x = exit_decode(status);
    if (x.code == 0) {
        probe_passed(p, "probe command exited 0");
    } else {
        probe_retry(p);
    }
}

/* ---- health checks ---- */

static void health_schedule(struct proc *p, double after)
{
    health_state(p);
    ev_timer_stop(p->sv->loop, &p->hc->timer);
    ev_timer_set(&p->hc->timer, after, 0.);
    ev_timer_start(p->sv->loop, &p->hc->timer);
}

static void health_cleanup(struct proc *p)
{
    if (!p->hc) {
        return;
    }
    check_io_close(p->sv->loop, &p->hc->io, &p->hc->fd);
    if (p->hc->entry.pid > 0) {
        kill(-p->hc->entry.pid, SIGKILL);
        pid_map_remove(&p->sv->pids, &p->hc->entry);
    }
    p->hc->running = false;
}

void health_stop(struct proc *p)
{
    if (p->hc) {
        ev_timer_stop(p->sv->loop, &p->hc->timer);
        health_cleanup(p);
    }
    p->health = p->cfg->healthcheck.kind == PROBE_NONE ? HEALTH_NONE : HEALTH_UNKNOWN;
}

void health_start(struct proc *p)
{
    if (p->cfg->healthcheck.kind == PROBE_NONE) {
        p->health = HEALTH_NONE;
        return;
    }
    p->health = HEALTH_UNKNOWN;
    p->health_failures = 0;
    health_schedule(p, (double)p->cfg->healthcheck_interval / 1000.0);
}

static void health_result(struct proc *p, bool ok, const char *why)
{
    health_cleanup(p);
    if (p->state != PROC_RUNNING) {
        return;
    }
    if (ok) {
        if (p->health != HEALTH_OK) {
            log_info("%s is healthy", p->cfg->name);
        }
        p->health = HEALTH_OK;
        p->health_failures = 0;
    } else {
        p->health_failures++;
        p->health = HEALTH_FAILING;
        log_warn("%s: health check failed (%d/%ld): %s", p->cfg->name, p->health_failures,
                 p->cfg->healthcheck_retries, why);
        if (p->health_failures >= p->cfg->healthcheck_retries) {
            log_error("%s (pid %d) is unhealthy after %d failed checks; restarting",
                      p->cfg->name, (int)p->pid, p->health_failures);
            ev_timer_stop(p->sv->loop, &p->hc->timer);
            p->restarts++;
            p->sv->reports->unhealthy(p);
            return;
        }
    }
    health_schedule(p, (double)p->cfg->healthcheck_interval / 1000.0);
}

static void health_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct proc *p = w->data;
    (void)loop;
    (void)revents;
    if (p->hc->running) {
        health_result(p, false, "timed out");
        return;
    }
    if (p->state != PROC_RUNNING) {
        return;
    }
    const struct probe *hc = &p->cfg->healthcheck;
    p->hc->running = true;
    if (hc->kind == PROBE_TCP) {
        p->hc->fd = tcp_connect_start(hc->host, hc->port);
        if (p->hc->fd < 0) {
            health_result(p, false, "connection refused");
            return;
        }
        ev_io_set(&p->hc->io, p->hc->fd, EV_WRITE);
        ev_io_start(p->sv->loop, &p->hc->io);
    } else {
        char *err = NULL;
        if (ready_spawn_helper(p, &hc->argv, &p->hc->entry, &err) < 0) {
            health_result(p, false, err);
            free(err);
            return;
        }
    }
    /* the same timer now bounds the check */
    health_schedule(p, (double)p->cfg->healthcheck_timeout / 1000.0);
}

static void health_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct proc *p = w->data;
    (void)loop;
    (void)revents;
    bool ok = tcp_connected(p->hc->fd);
    health_result(p, ok, ok ? "" : "connection refused");
}

void health_exited(struct proc *p, int status)
{
    pid_map_remove(&p->sv->pids, &p->hc->entry);
    struct exit_info x = exit_decode(status);
    char *how = exit_describe(&x);
    health_result(p, x.code == 0, how);
    free(how);
}

/* ---- sd_notify ---- */

/* The proc a sender belongs to: its main pid, or a process in its process group. */
static struct proc *notify_sender(struct supervisor *sv, pid_t pid)
{
    struct proc *p = pid_map_find_main(&sv->pids, pid);
    if (!p) {
        /* a helper such as systemd-notify runs in the program's process group */
        pid_t group = getpgid(pid);
        p = group > 0 ? pid_map_find_main(&sv->pids, group) : NULL;
    }
    return p;
}

static void notify_handle(struct proc *p, char *msg)
{
    for (char *line = strtok(msg, "\n"); line; line = strtok(NULL, "\n")) {
        if (strcmp(line, "READY=1") == 0) {
            /* not once ready_timeout has run out: it is being stopped by then */
            if (p->state == PROC_STARTING && p->cfg->ready.kind == PROBE_NOTIFY &&
                !p->ready_timed_out) {
                probe_passed(p, "READY=1");
            }
        } else if (strncmp(line, "STATUS=", 7) == 0) {
            free(p->status_text);
            p->status_text = xstrdup(line + 7);
            log_debug("%s: status: %s", p->cfg->name, line + 7);
        } else if (strncmp(line, "MAINPID=", 8) == 0) {
            log_debug("%s: reports main pid %s", p->cfg->name, line + 8);
        } else if (strcmp(line, "STOPPING=1") == 0) {
            log_info("%s (pid %d) says it is stopping", p->cfg->name, (int)p->pid);
        }
    }
}

static void notify_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct supervisor *sv = w->data;
    (void)loop;
    (void)revents;
    for (int i = 0; i < 64; i++) {
        char buf[4096];
        union {
            struct cmsghdr align;
            char space[CMSG_SPACE(sizeof(struct ucred))];
        } control;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = control.space,
                             .msg_controllen = sizeof(control.space)};
        ssize_t n = recvmsg(sv->notify_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            return;
        }
        buf[n] = '\0';
        struct ucred *cred = NULL;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                cred = (struct ucred *)CMSG_DATA(c);
            }
        }
        struct proc *p = cred ? notify_sender(sv, cred->pid) : NULL;
        if (!p) {
            log_debug("sd_notify datagram from pid %d ignored: not a supervised process",
                      cred ? (int)cred->pid : -1);
            continue;
        }
        notify_handle(p, buf);
    }
}

int notify_open(struct supervisor *sv, char **err)
{
    if (sv->notify_fd >= 0) {
        return 0;
    }
    if (!sv->notify_path) {
        sv->notify_path = xasprintf("/tmp/tend-notify-%d.sock", (int)getpid());
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(sv->notify_path) >= sizeof(addr.sun_path)) {
        *err = xasprintf("notify socket path too long: %s", sv->notify_path);
        return -1;
    }
    strcpy(addr.sun_path, sv->notify_path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    unlink(sv->notify_path);
    mkdir_parents(sv->notify_path, 0700);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0) {
        *err = xasprintf("cannot open the notify socket %s: %s", sv->notify_path,
                         strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    /* programs running as another user must be able to send; the sender check is by pid */
    chmod(sv->notify_path, 0666);
    sv->notify_fd = fd;
    ev_io_init(&sv->notify_watcher, notify_cb, fd, EV_READ);
    sv->notify_watcher.data = sv;
    ev_io_start(sv->loop, &sv->notify_watcher);
    return 0;
}

void notify_close(struct supervisor *sv)
{
    if (sv->notify_fd >= 0) {
        ev_io_stop(sv->loop, &sv->notify_watcher);
        close(sv->notify_fd);
        unlink(sv->notify_path);
        sv->notify_fd = -1;
    }
    free(sv->notify_path);
    sv->notify_path = NULL;
}
