/* supervisor.c - the supervisor as a whole: construction, what a reaped pid was (program,
 * probe, check or orphan; reaper.c and one ev_child reap), the all-process entry points,
 * freeing. Calls reload, shutdown, supervise.c, wiring, deps, ready, reaper, pidmap, log. */
#include "supervise_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "fcgi.h"
#include "log.h"
#include "ready.h"

/* A stop finished: during a shutdown the next level may go; otherwise reload's bookkeeping. */
static void supervisor_proc_stopped(struct proc *p)
{
    if (p->sv->shutting_down && !p->retired) {
        shutdown_proc_done(p->sv, p);
    } else {
        proc_after_stop(p);
    }
}

/* Every reaped pid: the program, its probe, its health check, or an orphan. */
void supervisor_reaped(struct supervisor *sv, pid_t pid, int status)
{
    if (!WIFEXITED(status) && !WIFSIGNALED(status)) {
        return; /* stopped or continued: not an exit */
    }
    struct pid_entry *e = pid_map_find(&sv->pids, pid);
    if (!e) {
        /* an orphan re-parented to tend (the subreaper): already reaped */
        sv->orphans_reaped++;
        log_debug("reaped orphan pid %d", (int)pid);
        return;
    }
    switch (e->kind) {
    case PID_MAIN:
        proc_exited(e->proc, status);
        break;
    case PID_PROBE:
        ready_probe_exited(e->proc, status);
        break;
    case PID_HEALTH:
        health_exited(e->proc, status);
        break;
    }
}

/* libev's SIGCHLD handling: orphans, and children spawned without the exit signal */
static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
    (void)loop;
    (void)revents;
    supervisor_reaped(w->data, w->rpid, w->rstatus);
}

struct supervisor *supervisor_new(struct ev_loop *loop, struct config *cfg, bool console)
{
    struct supervisor *sv = xcalloc(1, sizeof(*sv));
    sv->loop = loop;
    sv->cfg = cfg;
    sv->console = console;
    sv->nprocs = cfg->nprocs;
    sv->procs = xcalloc(cfg->nprocs, sizeof(*sv->procs));
    pid_map_init(&sv->pids, cfg->nprocs);
    sv->reports = &supervise_ready_reports;
    sv->proc_stopped = supervisor_proc_stopped;
    for (size_t i = 0; i < cfg->nprocs; i++) {
        int n = (int)strlen(cfg->procs[i]->name);
        sv->prefix_width = n > sv->prefix_width ? n : sv->prefix_width;
    }
    for (size_t i = 0; i < cfg->nprocs; i++) {
        sv->procs[i] = proc_new(sv, cfg->procs[i], cfg, i);
    }
    sv->notify_fd = -1;
    build_deps(sv);
    wire_pipes(sv);
    ev_child_init(&sv->child_watcher, child_cb, 0, 0);
    sv->child_watcher.data = sv;
    ev_child_start(loop, &sv->child_watcher);
    reaper_init(sv);
    return sv;
}

void supervisor_free(struct supervisor *sv)
{
    if (!sv) {
        return;
    }
    ev_child_stop(sv->loop, &sv->child_watcher);
    reaper_free(sv);
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
    fcgi_close_all(sv);
    notify_close(sv);
    for (size_t i = 0; i < sv->nold_configs; i++) {
        config_free(sv->old_configs[i]);
    }
    free(sv->old_configs);
    free(sv->procs);
    pid_map_free(&sv->pids);
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


void supervisor_set_notify_path(struct supervisor *sv, const char *path)
{
    free(sv->notify_path);
    sv->notify_path = path ? xstrdup(path) : NULL;
}

