/* supervise_int.h - what the files of the supervisor share among themselves (not for control,
 * up or anything outside): supervisor.c (construction, reaping, the public entry points) sits
 * on reload.c and shutdown.c, which sit on supervise.c (the state machine of one proc), which
 * sits on wiring.c (sinks, pipes, spawning) and deps.c (the dependency graph). Calls go down
 * only; a stop that finished goes up through sv->proc_stopped. */
#ifndef TEND_SUPERVISE_INT_H
#define TEND_SUPERVISE_INT_H

#include "reaper.h"
#include "supervise.h"

/* ---- supervise.c: the state machine ---- */

/* A new proc in STOPPED for pc (owned by owner), with its timer, watchers and sinks. */
struct proc *proc_new(struct supervisor *sv, struct proc_config *pc, struct config *owner,
                      size_t index);
/* Frees a proc and everything it owns: its timers and watchers stop, its pipes are drained. */
void proc_free(struct proc *p);
/* The reaped status of the program's main pid. */
void proc_exited(struct proc *p, int status);
void proc_set_error(struct proc *p, char *msg);
void timer_cancel(struct proc *p);
/* How readiness and health checks report back (sv->reports). */
extern const struct ready_reports supervise_ready_reports;

/* ---- wiring.c: what a process is connected to ---- */

/* Forks and executes the process through the child engine; its pipes go to its sinks. */
int proc_spawn(struct proc *p, char **err);
/* The log file, console and ring of its stdout and stderr (per its configuration). */
void proc_make_sinks(struct proc *p);
void proc_free_sinks(struct proc *p);
/* Logging changed on reload: new sinks, the running pipes move to them, no restart. */
void proc_remake_sinks(struct proc *p);
/* stdout/stderr = program:NAME: every reader gets a stdin feed, every writer its links. */
void wire_pipes(struct supervisor *sv);
void unwire(struct proc *p);

/* ---- deps.c: depends_on and the start order ---- */

/* Resolves depends_on (and program: targets) into pointers both ways, then orders sv->procs:
 * dependencies first, then by priority. */
void build_deps(struct supervisor *sv);
/* Forgets a proc's dependencies (a reload removed it). */
void deps_clear(struct proc *p);
bool deps_ready(const struct proc *p);
/* A dependency that is FATAL or blocked, or NULL. */
struct proc *deps_failed(const struct proc *p);

/* ---- shutdown.c ---- */

void shutdown_next_level(struct supervisor *sv);
void shutdown_proc_done(struct supervisor *sv, struct proc *p);

/* ---- supervisor.c and reaper.c: reaping ---- */

/* A reaped pid and its wait status: dispatched to its proc, or counted as an orphan. */
void supervisor_reaped(struct supervisor *sv, pid_t pid, int status);

/* ---- reload.c ---- */

/* A stop finished outside a shutdown: a removed process goes, a changed one takes its new
 * configuration, a restarted one starts again. */
void proc_after_stop(struct proc *p);

#endif
