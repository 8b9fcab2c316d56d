/* supervise.h - the supervisor: one proc per configured process, supervisord's state machine,
 * restart policy with backoff, start order by priority, stop with signal escalation, and
 * shutdown in reverse order. It knows nothing of sockets or the command line. */
#ifndef TEND_SUPERVISE_H
#define TEND_SUPERVISE_H

#include <ev.h>
#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "exitstatus.h"
#include "feed.h"
#include "output.h"
#include "pidmap.h"

enum proc_state {
    PROC_STOPPED,
    PROC_STARTING,
    PROC_RUNNING,
    PROC_BACKOFF,
    PROC_STOPPING,
    PROC_EXITED,
    PROC_FATAL,
};

const char *proc_state_name(enum proc_state s);

struct supervisor;
struct proc;
struct ready_reports;

enum health { HEALTH_NONE, HEALTH_UNKNOWN, HEALTH_OK, HEALTH_FAILING };

/* stdout = program:NAME: one stream of one process forwarded into another's stdin. */
struct pipe_link {
    struct output_sink *sink;
    struct proc *to;
};
const char *health_name(enum health h);

struct proc {
    struct supervisor *sv;
    struct proc_config *cfg; /* owned by the supervisor's config */
    size_t index;            /* position in start order */
    enum proc_state state;
    pid_t pid;               /* 0 when not running */
    pid_t last_pid;          /* the pid of the last run, for events after it exited */
    int retries;             /* failed starts in a row (reset once RUNNING) */
    int spawn_status;        /* exit status for a spawn failure (127 not found, ...) */
    unsigned restarts;       /* automatic restarts since tend started */
    ev_tstamp started_at;    /* wall clock (ev_time) of the last spawn */
    ev_tstamp state_since;   /* wall clock of the last state change */
    struct exit_info last_exit;
    int depth;               /* longest depends_on chain below it: start and stop order */
    char *last_error;        /* spawn failure or FATAL reason, for status */
    struct proc_config *pending_cfg; /* reload changed it: used from the next start on */
    struct config *owner;    /* the config cfg belongs to */
    ev_timer timer;          /* startsecs, backoff delay or stop escalation */
    struct output_sink *out, *err;
    struct output_pipe *out_pipe, *err_pipe;
    struct pid_entry main_entry;
    /* readiness and dependencies */
    ev_tstamp ready_wait_since; /* wall clock when the wait for its ready probe began, or 0 */
    ev_tstamp pidfile_deadline;
    char *status_text;       /* last STATUS= from sd_notify */
    struct proc **deps, **dependents;
    size_t ndeps, ndependents;
    struct probe_state *probe; /* ready.c: only once a probe or pid file needs it */
    /* pipes: what tend writes into its stdin, and where its output is forwarded */
    struct feed *in;
    struct pipe_link *links;
    size_t nlinks;
    /* health checks */
    enum health health;
    int health_failures;
    struct health_state *hc; /* ready.c: only for a program with a health check */

    /* flags, together at the end (no padding between them) */
    bool has_exited;         /* last_exit is meaningful */
    bool restart_after_stop; /* `restart`: start again once stopped */
    bool shutdown_pending;   /* counted in the current shutdown level */
    bool retired;            /* reload removed it: freed once it has stopped */
    bool ready;              /* dependents may start (RUNNING and ready, or a oneshot done) */
    bool waiting_deps;       /* start requested; waits for its dependencies to be ready */
    bool launching;          /* type = forking: pid is the launcher, not yet the daemon */
    bool ready_timed_out;    /* stopped because it did not become ready in time */
    bool blocked;            /* a dependency went FATAL: it does not start */
    bool awaiting_pidfile;   /* type = forking: the launcher is done, the pid file is not */
};

/* Called after every state change (control uses it to answer `start`/`wait`). */
typedef void (*supervisor_state_cb)(struct proc *p, enum proc_state old, void *arg);

struct supervisor {
    struct ev_loop *loop;
    struct config *cfg;
    struct proc **procs; /* start order: priority, then file order */
    size_t nprocs;
    struct pid_map pids; /* program, probe and health-check pids -> their proc */
    const struct ready_reports *reports; /* how ready.c reports back (set by supervisor_new) */
    void (*proc_stopped)(struct proc *p); /* a stop finished: shutdown or reload goes on */
    ev_child child_watcher; /* libev's reaping, used only when there is no signalfd */
    int sigchld_fd;         /* SIGCHLD read with the pid in it (reaper.c), or -1 */
    ev_io sigchld_watcher;
    ev_timer sweep_timer;   /* a waitpid(-1) sweep shortly after a SIGCHLD */
    char *notify_path; /* NOTIFY_SOCKET for ready = notify programs */
    int notify_fd;
    ev_io notify_watcher;
    bool console;        /* foreground: programs without a log file print to tend's stdout */
    int prefix_width;    /* console prefixes are padded to the longest process name */
    unsigned long orphans_reaped;
    supervisor_state_cb on_state;
    void *on_state_arg;
    /* a critical program ended (critical, [tend] exit_with): tend should shut down */
    void (*on_critical)(struct supervisor *sv, void *arg);
    int exit_status; /* tend's exit status, set by a critical program */
    /* called just before a proc removed by reload is freed */
    void (*on_remove)(struct proc *p, void *arg);
    /* a reload gave a proc new sinks (p->out, p->err; err may be gone): called before the
     * old ones are freed, so that whoever follows one (tend logs -f) moves to the new one */
    void (*on_sinks_replaced)(struct proc *p, struct output_sink *old_out,
                              struct output_sink *old_err, void *arg);
    /* [eventlistener:x]: a listener was spawned; the callee owns the write end of its stdin
     * and the read end of its stdout (the protocol channel, never logged) */
    void (*on_listener)(struct proc *p, int in_fd, int out_fd, void *arg);
    /* stdout/stderr_events_enabled: a chunk of the process's output (PROCESS_LOG_*) */
    void (*on_log)(struct proc *p, bool is_stderr, const char *buf, size_t n, void *arg);
    /* reload: procs that are stopping before being freed, configs still in use by procs */
    struct proc **retired;
    size_t nretired;
    struct config **old_configs;
    size_t nold_configs;
    /* shutdown in reverse start order, one priority level at a time */
    bool shutting_down;
    size_t shutdown_cursor; /* procs[0 .. cursor) are still to be stopped */
    size_t shutdown_pending;
    ev_timer shutdown_deadline;
    void (*shutdown_done)(struct supervisor *sv, void *arg);
    void *shutdown_arg;
    struct fcgi_socket *fcgi_sockets; /* listening sockets of [fcgi-program:x] (fcgi.c) */
};

/* Builds a proc for every process of cfg (taking ownership of cfg) and opens the log files. */
struct supervisor *supervisor_new(struct ev_loop *loop, struct config *cfg, bool console);
void supervisor_free(struct supervisor *sv);

/* Starts every autostart process in priority order. */
void supervisor_start_autostart(struct supervisor *sv);
/* Stops everything in reverse order, then calls done. A second call kills what is left. */
void supervisor_shutdown(struct supervisor *sv, void (*done)(struct supervisor *, void *),
                         void *arg);
/* SIGUSR2: reopen every log file. */
void supervisor_reopen_logs(struct supervisor *sv);

struct proc *supervisor_find(struct supervisor *sv, const char *name);

/* Applies a new configuration (taking it): added processes start, removed ones stop and go,
 * changed ones restart (or only reopen their logs when nothing but logging changed), the
 * others keep running untouched. Writes the plan, one line per process. With dry_run nothing
 * changes and newcfg is freed. */
void supervisor_reload(struct supervisor *sv, struct config *newcfg, bool dry_run,
                       struct strbuf *plan);

/* Where the sd_notify socket goes (before the first start); set by up. */
void supervisor_set_notify_path(struct supervisor *sv, const char *path);

/* `tend send`: queues bytes for the program's stdin (stdin = pipe); -1 with a message. */
int proc_send(struct proc *p, const char *buf, size_t n, bool eof, char **err);

/* Requests for one process; they return at once, the outcome arrives as state changes.
 * proc_start returns -1 when the process is already running or starting. */
int proc_start(struct proc *p);
int proc_stop(struct proc *p);
void proc_restart(struct proc *p);
/* Sends sig to the process (its group when stopasgroup); -1 with errno when not running. */
int proc_signal(struct proc *p, int sig);
bool proc_is_alive(const struct proc *p);

void proc_set_state(struct proc *p, enum proc_state s);
void proc_kill(struct proc *p, int sig, bool group);

#endif
