/* shutdown.c - stopping everything: in reverse start order, one level (depth and priority) at
 * a time, bounded by shutdown_timeout, then KILL; a second request kills at once.
 * Calls the state machine (supervise.c) and log. */
#include "supervise_int.h"

#include <signal.h>

#include "log.h"

static void shutdown_finish(struct supervisor *sv)
{
    ev_timer_stop(sv->loop, &sv->shutdown_deadline);
    if (sv->shutdown_done) {
        void (*done)(struct supervisor *, void *) = sv->shutdown_done;
        sv->shutdown_done = NULL;
        done(sv, sv->shutdown_arg);
    }
}

void shutdown_next_level(struct supervisor *sv)
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

void shutdown_proc_done(struct supervisor *sv, struct proc *p)
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

