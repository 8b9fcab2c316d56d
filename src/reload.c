/* reload.c - a new configuration: the plan, then removed processes stop and go, changed ones
 * restart (or get new sinks), added ones start; old configs are freed once unused.
 * Calls supervise.c, wiring, deps, shutdown, config and log. */
#include "supervise_int.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Frees the configurations that no process refers to any more. */
static void collect_configs(struct supervisor *sv)
{
    for (size_t c = 0; c < sv->nold_configs;) {
        struct config *cfg = sv->old_configs[c];
        bool used = false;
        for (size_t i = 0; i < sv->nprocs + sv->nretired && !used; i++) {
            const struct proc *p = i < sv->nprocs ? sv->procs[i] : sv->retired[i - sv->nprocs];
            used = p->owner == cfg;
        }
        if (used) {
            c++;
            continue;
        }
        config_free(cfg);
        sv->old_configs[c] = sv->old_configs[--sv->nold_configs];
    }
}

/* The configuration a reload gave it takes effect (the process is not running). */
static void proc_apply_pending(struct proc *p)
{
    if (!p->pending_cfg) {
        return;
    }
    p->cfg = p->pending_cfg;
    p->owner = p->sv->cfg;
    p->pending_cfg = NULL;
    proc_remake_sinks(p); /* followers move to the new sinks */
    wire_pipes(p->sv);
    collect_configs(p->sv);
}

static void retire_finish(struct proc *p)
{
    struct supervisor *sv = p->sv;
    for (size_t i = 0; i < sv->nretired; i++) {
        if (sv->retired[i] == p) {
            sv->retired[i] = sv->retired[--sv->nretired];
            break;
        }
    }
    if (sv->on_remove) {
        sv->on_remove(p, sv->on_state_arg);
    }
    log_info("%s: removed", p->cfg->name);
    proc_free(p);
    collect_configs(sv);
    if (sv->shutting_down) {
        shutdown_next_level(sv);
    }
}

/* A stop finished: a removed process goes, a changed one takes its new configuration and
 * starts again, a restarted one starts. */
void proc_after_stop(struct proc *p)
{
    if (p->retired) {
        retire_finish(p);
        return;
    }
    bool start = p->restart_after_stop;
    p->restart_after_stop = false;
    if (p->pending_cfg) {
        proc_apply_pending(p);
    }
    if (start) {
        proc_start(p);
    }
}

/* Options that only say where output goes: changing them reopens logs, no restart. */
static bool option_is_logging(const char *name)
{
    static const char *const logging[] = {
        "stdout_logfile", "stdout_logfile_maxbytes", "stdout_logfile_backups",
        "stderr_logfile", "stderr_logfile_maxbytes", "stderr_logfile_backups",
        "stdout_timestamps", "stderr_timestamps", "stdout_syslog", "stderr_syslog"};
    for (size_t i = 0; i < ARRAY_SIZE(logging); i++) {
        if (strcmp(name, logging[i]) == 0) {
            return true;
        }
    }
    return false;
}

enum change { CHANGE_NONE, CHANGE_LOGGING, CHANGE_RESTART };

/* What a reload does: for each process of the new configuration its proc (NULL when added)
 * and its change; which old procs stay; the counts and the lines of the plan. */
struct reload_plan {
    size_t n;
    struct proc **procs;  /* by index in the new configuration */
    enum change *changes; /* likewise */
    bool *kept;           /* by index in the old sv->procs */
    size_t added, changed, removed, unchanged;
    struct strbuf lines;
};

static enum change compare_procs(const struct config *oldcfg, const struct proc_config *a,
                                 const struct config *newcfg, const struct proc_config *b,
                                 struct strbuf *what)
{
    enum change change = CHANGE_NONE;
    for (size_t i = 0; i < program_options_count; i++) {
        const struct option_def *opt = &program_options[i];
        if (strcmp(opt->name, "numprocs") == 0 || strcmp(opt->name, "numprocs_start") == 0) {
            continue; /* each process stands alone; its name already says which it is */
        }
        char *x = config_format_value(opt, a), *y = config_format_value(opt, b);
        if (strcmp(x, y) != 0) {
            strbuf_addf(what, "%s%s", what->len ? ", " : "", opt->name);
            if (!option_is_logging(opt->name)) {
                change = CHANGE_RESTART;
            } else if (change == CHANGE_NONE) {
                change = CHANGE_LOGGING;
            }
        }
        free(x);
        free(y);
    }
    if (strcmp(a->group, b->group) != 0) {
        strbuf_addf(what, "%sgroup", what->len ? ", " : "");
        change = CHANGE_RESTART;
    }
    /* its pipes are wired differently; events= and buffer_size only change the pool */
    if (a->listener != b->listener) {
        strbuf_addf(what, "%seventlistener", what->len ? ", " : "");
        change = CHANGE_RESTART;
    }
    /* a program that writes its log itself holds the old file until it starts again */
    bool direct = a->stdout_logfile_direct || a->stderr_logfile_direct ||
                  b->stdout_logfile_direct || b->stderr_logfile_direct;
    if (direct && change == CHANGE_LOGGING) {
        change = CHANGE_RESTART;
    }
    /* [tend] environment is part of every program's environment */
    if (!strv_equal(&oldcfg->global.environment, &newcfg->global.environment)) {
        strbuf_addf(what, "%s[tend] environment", what->len ? ", " : "");
        change = CHANGE_RESTART;
    }
    return change;
}

/* One line of the plan for process i of the new configuration. */
static void reload_plan_proc(struct supervisor *sv, struct config *newcfg, struct reload_plan *rp,
                             size_t i)
{
    struct proc_config *pc = newcfg->procs[i];
    struct proc *old = supervisor_find(sv, pc->name);
    if (!old) {
        rp->added++;
        strbuf_addf(&rp->lines, "+ %s: added%s\n", pc->name, pc->autostart ? "; start" : "");
        return;
    }
    struct strbuf what;
    strbuf_init(&what);
    rp->kept[old->index] = true;
    rp->procs[i] = old;
    rp->changes[i] = compare_procs(old->owner, old->cfg, newcfg, pc, &what);
    if (rp->changes[i] == CHANGE_NONE) {
        rp->unchanged++;
        if (old->pid > 0) {
            strbuf_addf(&rp->lines, "= %s: unchanged (pid %d keeps running)\n", pc->name,
                        (int)old->pid);
        } else {
            strbuf_addf(&rp->lines, "= %s: unchanged\n", pc->name);
        }
    } else if (rp->changes[i] == CHANGE_LOGGING) {
        rp->changed++;
        strbuf_addf(&rp->lines, "~ %s: logging changed (%s); reopen logs, no restart\n",
                    pc->name, what.buf);
    } else {
        rp->changed++;
        strbuf_addf(&rp->lines, "~ %s: changed (%s); %s\n", pc->name, what.buf,
                    proc_is_alive(old) ? "restart" : (pc->autostart ? "start" : "update"));
    }
    strbuf_free(&what);
}

static void reload_make_plan(struct supervisor *sv, struct config *newcfg, struct reload_plan *rp)
{
    rp->n = newcfg->nprocs;
    rp->procs = xcalloc(rp->n ? rp->n : 1, sizeof(*rp->procs));
    rp->changes = xcalloc(rp->n ? rp->n : 1, sizeof(*rp->changes));
    rp->kept = xcalloc(sv->nprocs ? sv->nprocs : 1, sizeof(bool));
    rp->added = rp->changed = rp->removed = rp->unchanged = 0;
    strbuf_init(&rp->lines);
    for (size_t i = 0; i < rp->n; i++) {
        reload_plan_proc(sv, newcfg, rp, i);
    }
    for (size_t i = 0; i < sv->nprocs; i++) {
        if (!rp->kept[i]) {
            rp->removed++;
            strbuf_addf(&rp->lines, "- %s: removed%s\n", sv->procs[i]->cfg->name,
                        proc_is_alive(sv->procs[i]) ? "; stop" : "");
        }
    }
}

static void reload_plan_free(struct reload_plan *rp)
{
    free(rp->procs); /* NULL once sv->procs took it */
    free(rp->changes);
    free(rp->kept);
    strbuf_free(&rp->lines);
}

/* Removed processes stop and are freed once they have stopped. */
static void reload_retire_removed(struct supervisor *sv, const struct reload_plan *rp)
{
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
        if (rp->kept[i]) {
            continue;
        }
        p->retired = true;
        unwire(p);
        sv->retired = xrealloc(sv->retired, (sv->nretired + 1) * sizeof(*sv->retired));
        sv->retired[sv->nretired++] = p;
    }
}

/* The new configuration becomes the supervisor's; the old one stays until unused. */
static void reload_swap_config(struct supervisor *sv, struct config *newcfg,
                               struct reload_plan *rp)
{
    sv->nold_configs++;
    sv->old_configs = xrealloc(sv->old_configs, sv->nold_configs * sizeof(*sv->old_configs));
    sv->old_configs[sv->nold_configs - 1] = sv->cfg;
    sv->cfg = newcfg;
    log_set_level(newcfg->global.loglevel);
    log_set_rotation(newcfg->global.logfile_maxbytes, (int)newcfg->global.logfile_backups);
    for (size_t i = 0; i < rp->n; i++) {
        int len = (int)strlen(newcfg->procs[i]->name);
        sv->prefix_width = len > sv->prefix_width ? len : sv->prefix_width;
    }
    /* the pid hash holds procs by pointer: kept procs stay valid, new ones are added later */
    free(sv->procs);
    sv->procs = rp->procs;
    sv->nprocs = rp->n;
    rp->procs = NULL;
    pid_map_reserve(&sv->pids, rp->n);
}

/* A kept process under its new configuration. */
static void reload_apply(struct proc *p, struct proc_config *pc, struct config *newcfg,
                         enum change change)
{
    switch (change) {
    case CHANGE_NONE:
        p->cfg = pc;
        p->owner = newcfg;
        break;
    case CHANGE_LOGGING:
        p->cfg = pc;
        p->owner = newcfg;
        proc_remake_sinks(p);
        break;
    case CHANGE_RESTART:
        p->pending_cfg = pc;
        if (proc_is_alive(p)) {
            proc_stop(p);
            p->restart_after_stop = true;
        } else {
            if (p->state == PROC_BACKOFF) {
                proc_stop(p);
            }
            proc_apply_pending(p);
            if (pc->autostart) {
                proc_start(p);
            }
        }
        break;
    }
}

/* Added autostart processes start, now that dependencies point at the new procs. */
static void reload_start_added(struct supervisor *sv, const struct config *newcfg)
{
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
        if (p->state == PROC_STOPPED && !p->waiting_deps && !p->main_entry.pid &&
            p->owner == newcfg && p->cfg->autostart && !p->has_exited && p->started_at == 0) {
            proc_start(p);
        }
    }
}

/* Removed processes that run are stopped; the others go at once. */
static void reload_stop_retired(struct supervisor *sv)
{
    for (size_t i = 0; i < sv->nretired;) {
        struct proc *p = sv->retired[i];
        if (proc_is_alive(p) || p->state == PROC_STOPPING) {
            if (p->state != PROC_STOPPING) {
                proc_stop(p);
            }
            i++;
        } else {
            if (p->state == PROC_BACKOFF) {
                timer_cancel(p);
            }
            retire_finish(p); /* removes it from the array */
        }
    }
}

void supervisor_reload(struct supervisor *sv, struct config *newcfg, bool dry_run,
                       struct strbuf *plan)
{
    struct reload_plan rp;
    reload_make_plan(sv, newcfg, &rp);
    strbuf_addf(plan, "%s: %zu added, %zu changed, %zu removed, %zu unchanged\n",
                dry_run ? "reload plan (dry run, nothing done)" : "reload", rp.added, rp.changed,
                rp.removed, rp.unchanged);
    strbuf_add(plan, rp.lines.buf ? rp.lines.buf : "", rp.lines.len);
    if (dry_run) {
        reload_plan_free(&rp);
        config_free(newcfg);
        return;
    }

    reload_retire_removed(sv, &rp);
    struct proc **procs = rp.procs;
    reload_swap_config(sv, newcfg, &rp);
    /* added procs exist before any change is applied: applying one rewires every pipe,
     * which walks the whole (new) proc array */
    bool *added_now = xcalloc(sv->nprocs ? sv->nprocs : 1, sizeof(bool));
    for (size_t i = 0; i < sv->nprocs; i++) {
        if (!procs[i]) {
            added_now[i] = true;
            procs[i] = proc_new(sv, newcfg->procs[i], newcfg, i);
        }
    }
    for (size_t i = 0; i < sv->nprocs; i++) {
        if (added_now[i]) {
            continue;
        }
        procs[i]->index = i;
        reload_apply(procs[i], newcfg->procs[i], newcfg, rp.changes[i]);
    }
    free(added_now);
    reload_plan_free(&rp);
    /* dependencies point at the procs of the new configuration; then the added ones start */
    for (size_t i = 0; i < sv->nretired; i++) {
        deps_clear(sv->retired[i]);
    }
    build_deps(sv);
    wire_pipes(sv);
    reload_start_added(sv, newcfg);
    reload_stop_retired(sv);
    collect_configs(sv);
}
