/* ready.h - how tend knows a program is up and stays healthy: readiness probes (sd_notify,
 * tcp, exec, a newline on fd N), health checks, and the sd_notify datagram socket. */
#ifndef TEND_READY_H
#define TEND_READY_H

#include "supervise.h"

/* Initialises a new proc's probe and health watchers. */
void ready_init(struct proc *p);
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
