/* ready.h - how tend knows a program is up and stays healthy: readiness probes (sd_notify,
 * tcp, exec, a newline on fd N), health checks, and the sd_notify datagram socket. Called by
 * supervise; reports back through struct ready_reports. */
#ifndef TEND_READY_H
#define TEND_READY_H

#include "supervise.h"

/* How readiness and health report to the supervisor: supervisor_new sets sv->reports, and
 * ready.c calls these instead of calling into supervise.c. */
struct ready_reports {
    void (*up)(struct proc *p);        /* passed its readiness probe: RUNNING, ready */
    void (*unhealthy)(struct proc *p); /* failed healthcheck_retries checks: restart it */
};

/* Adds NOTIFY_SOCKET (opening the socket on first need) for ready = notify; -1 with *err
 * (env freed) when the socket cannot be opened. */
int ready_environment(struct proc *p, struct strv *env, char **err);
/* Initialises a new proc's probe and health watchers. */
void ready_init(struct proc *p);
/* Stops its probe and health check and frees their state (the proc is being freed). */
void ready_free(struct proc *p);
/* Before spawning a program with ready = fd:N: makes the pipe; *child_end is the fd to map
 * onto N in the child (tend keeps the read end). -1 with *err on failure. */
int ready_prepare_fd(struct proc *p, int *child_end, char **err);
/* STARTING with a readiness probe: starts probing (retried until it passes, or until the
 * supervisor's ready_timeout runs out). */
void ready_probe_start(struct proc *p);
void ready_probe_stop(struct proc *p);
void ready_probe_exited(struct proc *p, int status);

/* RUNNING with a health check: checks every healthcheck_interval. */
void health_start(struct proc *p);
void health_stop(struct proc *p);
void health_exited(struct proc *p, int status);

/* The sd_notify socket: opened on first need; only datagrams from a program's own processes
 * (its pid or its process group, from SO_PASSCRED) count. */
int notify_open(struct supervisor *sv, char **err);
void notify_close(struct supervisor *sv);

#endif
