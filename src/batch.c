/* batch.c - `tend run -c FILE`: the programs of a file as a pool of one-shot jobs (-j slots,
 * depends_on) and their pipelines (program:NAME, file:PATH, tees) as pipes between stages.
 * Calls runner, child, config, spawn, exitstatus and json. */
#include "batch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "exitstatus.h"
#include "json.h"
#include "runner.h"
#include "spawn.h"
#include "util.h"

static void batch_schedule(struct batch *b);

/* Whether pc's stdout or stderr names program:PROGRAM. */
static bool
batch_feeds(const struct proc_config *pc, const char *program)
{
    const struct strv *lists[] = {&pc->stdout, &pc->stderr};
    for (size_t t = 0; t < ARRAY_SIZE(lists); t++) {
        for (size_t k = 0; k < lists[t]->n; k++) {
            const char *x = lists[t]->v[k];
            if (strncmp(x, "program:", 8) == 0 && strcmp(x + 8, program) == 0) {
                return true;
            }
        }
    }
    return false;
}

/* Selects by process name, program name, group name, GROUP:* or GROUP:NAME, then pulls in
 * every process of the programs the selected ones depend on, and the whole pipeline of every
 * selected stage: its readers and its writers. */
static int
batch_select(const struct config *cfg, const struct run_opts *o, bool *sel)
{
    for (size_t i = 0; i < cfg->nprocs; i++) {
        sel[i] = o->nwords == 0 && cfg->procs[i]->autostart;
    }
    for (int w = 0; w < o->nwords; w++) {
        const char *word = o->words[w];
        const char *colon = strchr(word, ':');
        bool matched = false;
        for (size_t i = 0; i < cfg->nprocs; i++) {
            const struct proc_config *pc = cfg->procs[i];
            bool m;
            if (colon) {
                size_t glen = (size_t)(colon - word);
                m = strlen(pc->group) == glen && strncmp(pc->group, word, glen) == 0 &&
                    (strcmp(colon + 1, "*") == 0 || strcmp(colon + 1, pc->name) == 0 ||
                     strcmp(colon + 1, pc->program) == 0);
            } else {
                m = strcmp(word, pc->name) == 0 || strcmp(word, pc->program) == 0 ||
                    strcmp(word, pc->group) == 0;
            }
            if (m) {
                sel[i] = matched = true;
            }
        }
        if (!matched) {
            fprintf(stderr, "tend: run: no process, program or group named '%s' in %s\n", word,
                    cfg->global.file);
            return -1;
        }
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < cfg->nprocs; i++) {
            if (!sel[i]) {
                continue;
            }
            const struct proc_config *pc = cfg->procs[i];
            const struct strv *deps = &pc->depends_on;
            for (size_t k = 0; k < cfg->nprocs; k++) {
                const struct proc_config *other = cfg->procs[k];
                if (sel[k]) {
                    continue;
                }
                bool pull = batch_feeds(pc, other->program) || batch_feeds(other, pc->program);
                for (size_t d = 0; d < deps->n && !pull; d++) {
                    pull = strcmp(other->program, deps->v[d]) == 0;
                }
                if (pull) {
                    sel[k] = changed = true;
                }
            }
        }
    }
    return 0;
}

/* JOB_OK when every process of every program j depends on succeeded, JOB_FAILED (with the
 * culprit) when one failed or was skipped, JOB_WAITING otherwise. */
static enum job_state
batch_deps_state(struct batch *b, const struct batch_job *j, const char **culprit)
{
    enum job_state st = JOB_OK;
    const struct strv *deps = &j->pc->depends_on;
    for (size_t d = 0; d < deps->n; d++) {
        for (size_t k = 0; k < b->njobs; k++) {
            const struct batch_job *dep = &b->jobs[k];
            if (strcmp(dep->pc->program, deps->v[d]) != 0) {
                continue;
            }
            if (dep->state == JOB_FAILED || dep->state == JOB_SKIPPED) {
                *culprit = dep->pc->name;
                return JOB_FAILED;
            }
            if (dep->state != JOB_OK) {
                st = JOB_WAITING;
            }
        }
    }
    return st;
}

/* The same for a whole pipeline: it starts when the dependencies of all its stages allow. */
static enum job_state
batch_unit_deps_state(struct batch *b, const struct batch_unit *u, const char **culprit)
{
    enum job_state st = JOB_OK;
    for (size_t m = 0; m < u->n; m++) {
        enum job_state s = batch_deps_state(b, &b->jobs[u->members[m]], culprit);
        if (s == JOB_FAILED) {
            return JOB_FAILED;
        }
        if (s == JOB_WAITING) {
            st = JOB_WAITING;
        }
    }
    return st;
}

/* ---- pipelines: stdout / stderr = program:NAME, file:PATH ---- */

static void
batch_route_add(struct batch *b, struct batch_route *rt, const struct strv *targets)
{
    for (size_t k = 0; k < targets->n; k++) {
        const char *x = targets->v[k];
        if (strncmp(x, "file:", 5) == 0) {
            bool dup = false;
            for (size_t f = 0; f < rt->nfiles && !dup; f++) {
                dup = strcmp(rt->files[f], x + 5) == 0;
            }
            if (!dup) {
                rt->files = xrealloc(rt->files, (rt->nfiles + 1) * sizeof(*rt->files));
                rt->files[rt->nfiles++] = x + 5;
            }
            continue;
        }
        if (strncmp(x, "program:", 8) != 0) {
            continue;
        }
        for (size_t i = 0; i < b->njobs; i++) {
            struct batch_job *r = &b->jobs[i];
            bool dup = strcmp(r->pc->program, x + 8) != 0;
            for (size_t n = 0; n < rt->nreaders && !dup; n++) {
                dup = rt->readers[n] == r;
            }
            if (!dup) {
                rt->readers = xrealloc(rt->readers, (rt->nreaders + 1) * sizeof(*rt->readers));
                rt->readers[rt->nreaders++] = r;
            }
        }
    }
}

static size_t
batch_root(size_t *parent, size_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/* Resolves every job's targets into routes, decides which stdin pipes the writers can share
 * (kernel to kernel, nothing copied) and which tend must copy into, and groups the jobs into
 * pipelines (units). As with `tend up`, redirect_stderr merges stderr into stdout, and the
 * merged stream goes to the targets of both. */
static void
batch_wire(struct batch *b)
{
    for (size_t i = 0; i < b->njobs; i++) {
        struct batch_job *j = &b->jobs[i];
        batch_route_add(b, &j->route[0], &j->pc->stdout);
        batch_route_add(b, &j->route[j->pc->redirect_stderr ? 0 : 1], &j->pc->stderr);
        for (size_t t = 0; t < 2; t++) {
            struct batch_route *rt = &j->route[t];
            for (size_t k = 0; k < rt->nreaders; k++) {
                rt->readers[k]->reader = true;
                rt->readers[k]->in_copied |= rt->nreaders + rt->nfiles > 1;
            }
        }
    }
    size_t *parent = xcalloc(b->njobs, sizeof(*parent));
    for (size_t i = 0; i < b->njobs; i++) {
        parent[i] = i;
    }
    for (size_t i = 0; i < b->njobs; i++) {
        struct batch_job *j = &b->jobs[i];
        for (size_t t = 0; t < 2; t++) {
            struct batch_route *rt = &j->route[t];
            if (rt->nreaders + rt->nfiles == 0) {
                rt->kind = ROUTE_PREFIX;
            } else if (rt->nreaders + rt->nfiles == 1 &&
                       (rt->nfiles == 1 || !rt->readers[0]->in_copied)) {
                rt->kind = ROUTE_DIRECT;
            } else {
                rt->kind = ROUTE_COPY;
            }
            rt->file_fds = xcalloc(rt->nfiles ? rt->nfiles : 1, sizeof(int));
            for (size_t f = 0; f < rt->nfiles; f++) {
                rt->file_fds[f] = -1;
            }
            for (size_t k = 0; k < rt->nreaders; k++) {
                size_t a = batch_root(parent, i);
                size_t z = batch_root(parent, (size_t)(rt->readers[k] - b->jobs));
                parent[a > z ? a : z] = a < z ? a : z;
            }
        }
    }
    /* units in the order of their first member, members in job (priority) order */
    size_t *unit_of_root = xcalloc(b->njobs, sizeof(*unit_of_root));
    b->units = xcalloc(b->njobs ? b->njobs : 1, sizeof(*b->units));
    for (size_t i = 0; i < b->njobs; i++) {
        size_t root = batch_root(parent, i);
        if (root == i) {
            unit_of_root[root] = b->nunits++;
        }
        struct batch_unit *u = &b->units[unit_of_root[root]];
        u->members = xrealloc(u->members, (u->n + 1) * sizeof(*u->members));
        u->members[u->n++] = i;
        b->jobs[i].unit = unit_of_root[root];
    }
    free(unit_of_root);
    free(parent);
}

/* A file: target, opened (and truncated) the first time a job needs it and shared from then
 * on, so stdout and stderr, or several jobs, writing to one file do not overwrite each other. */
static int
batch_file_open(struct batch *b, const char *path, char **err)
{
    for (size_t i = 0; i < b->nfiles; i++) {
        if (strcmp(b->files[i].path, path) == 0) {
            return b->files[i].fd;
        }
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        *err = xasprintf("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    b->files = xrealloc(b->files, (b->nfiles + 1) * sizeof(*b->files));
    b->files[b->nfiles].path = xstrdup(path);
    b->files[b->nfiles++].fd = fd;
    return fd;
}

static size_t
batch_in_queued(const struct batch_job *r)
{
    return child_writer_queued(&r->in);
}

/* The reader stopped reading (EPIPE), or never started: what was for it is dropped. */
static void
batch_in_gone(struct batch_job *r)
{
    child_writer_close(&r->in);
}

/* A copied stdin reaches EOF once every stream into it ended and tend wrote all it had. */
static void
batch_in_maybe_close(struct batch_job *r)
{
    if (r->in_open == 0) {
        child_writer_eof(&r->in);
    }
}

/* After a reader drained its queue or went away: a copying stream all of whose readers are
 * gone is closed, so its writer gets SIGPIPE / EPIPE on its next write, as `tee` in a shell
 * pipeline would give it (a file: target beside them does not keep it alive); a paused one
 * whose readers have room again is read again. */
static void
batch_wake(struct batch *b, const struct batch_unit *u)
{
    for (size_t m = 0; m < u->n; m++) {
        struct batch_job *j = &b->jobs[u->members[m]];
        for (size_t t = 0; t < 2; t++) {
            struct batch_route *rt = &j->route[t];
            struct run_stream *s = t == 0 ? &j->child.out : &j->child.err;
            if (rt->kind != ROUTE_COPY || !run_stream_open(s)) {
                continue;
            }
            /* while s is open every reader's in_open counts it: a closed stdin means gone */
            bool all_gone = rt->nreaders > 0, blocked = false;
            for (size_t k = 0; k < rt->nreaders; k++) {
                if (child_writer_open(&rt->readers[k]->in)) {
                    all_gone = false;
                    blocked = blocked || batch_in_queued(rt->readers[k]) > 0;
                }
            }
            if (all_gone) {
                run_stream_close(s);
                run_child_check_done(&j->child);
            } else if (s->rd.paused && !blocked) {
                run_stream_resume(s);
            }
        }
    }
}

/* From the loop: the reader took what was queued for it, or went away. */
static void
batch_in_cb(struct child_writer *w)
{
    struct batch_job *r = w->data;
    batch_wake(r->b, &r->b->units[r->unit]);
}

/* RUN_SINK_HOOK of a ROUTE_COPY stream: every file gets the bytes at once, every reader as
 * its pipe takes them. While a reader has bytes queued the stream is not read, so the writer
 * blocks on its full pipe: the slowest reader sets the pace, and tend holds at most one read
 * per reader. */
static void
batch_tee(struct run_stream *s, const char *p, size_t n)
{
    struct batch_job *j = s->child->owner;
    struct batch *b = j->b;
    struct batch_route *rt = &j->route[s == &j->child.out ? 0 : 1];
    if (!p) {
        for (size_t k = 0; k < rt->nreaders; k++) {
            rt->readers[k]->in_open--;
            batch_in_maybe_close(rt->readers[k]);
        }
        return;
    }
    for (size_t f = 0; f < rt->nfiles; f++) {
        if (rt->file_fds[f] >= 0 && child_write_all(rt->file_fds[f], p, n) < 0) {
            fprintf(stderr, "tend: %s: cannot write to %s: %s\n", j->pc->name, rt->files[f],
                    strerror(errno));
            rt->file_fds[f] = -1;
        }
    }
    bool gone = false, blocked = false;
    for (size_t k = 0; k < rt->nreaders; k++) {
        struct batch_job *r = rt->readers[k];
        if (!child_writer_open(&r->in)) {
            continue;
        }
        if (child_writer_push(&r->in, p, n) < 0) {
            gone = true;
        } else if (batch_in_queued(r) > 0) {
            blocked = true;
        }
    }
    if (blocked) {
        run_stream_pause(s);
    }
    if (gone) {
        batch_wake(b, &b->units[j->unit]);
    }
}

/* The environment as `tend up` builds it (spawn_build_environment). */
static int
batch_build_env(const struct batch *b, const struct proc_config *pc, const struct spawn_user *user,
                struct strv *env, char **err)
{
    return spawn_build_environment(&b->cfg->global.environment, pc, user, env, err);
}

static void
batch_job_finished(struct batch_job *j, enum job_state st)
{
    struct batch *b = j->b;
    j->state = st;
    if (st == JOB_FAILED && !b->o->keep_going && !b->stopping) {
        b->stopping = true;
        fprintf(stderr, "tend: %s %s; no new job starts (--keep-going would go on)\n", j->pc->name,
                j->detail ? j->detail : "failed");
    }
}

static void
batch_on_done(struct run_child *c)
{
    struct batch_job *j = c->owner;
    struct batch *b = j->b;
    struct batch_unit *u = &b->units[j->unit];
    struct exit_info x = exit_decode(c->status);
    free(j->detail);
    j->detail = exit_describe(&x);
    if (--u->live == 0) {
        u->state = UNIT_DONE;
        b->running--;
    }
    bool ok = x.code >= 0 && exitcodes_has(&j->pc->exitcodes, x.code);
    batch_job_finished(j, ok ? JOB_OK : JOB_FAILED);
    batch_schedule(b);
}

static void
batch_fail(struct batch_job *j, char *err)
{
    fprintf(stderr, "tend: %s: %s\n", j->pc->name, err);
    free(j->error);
    free(j->detail);
    j->error = err;
    j->detail = xstrdup(err);
    batch_job_finished(j, JOB_FAILED);
}

/* The fd a ROUTE_DIRECT stream hands the child, or -1 for a pipe tend reads. */
static int
batch_route_fd(const struct batch_route *rt)
{
    if (rt->kind != ROUTE_DIRECT) {
        return -1;
    }
    return rt->nreaders ? rt->readers[0]->in.fd : rt->file_fds[0];
}

static void
batch_start(struct batch_job *j)
{
    struct batch *b = j->b;
    const struct proc_config *pc = j->pc;
    struct spawn_user user = {0}; /* zeroed: freeing it is always safe */
    struct strv env = {0};
    bool have_env = false;
    int in = -1;
    char *err = NULL;

    struct spawn_request req;
    memset(&req, 0, sizeof(req));
    int who = spawn_identity(pc, b->cfg->global.umask, &user, &req, &err);
    if (who < 0) {
        goto fail;
    }
    if (batch_build_env(b, pc, who > 0 ? &user : NULL, &env, &err) < 0) {
        goto fail;
    }
    have_env = true;
    if (!j->reader && pc->stdin.kind == STDIN_FILE) {
        in = open(pc->stdin.path, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
            err = xasprintf("cannot open stdin file %s: %s", pc->stdin.path, strerror(errno));
            goto fail;
        }
    }
    for (size_t t = 0; t < 2; t++) {
        struct batch_route *rt = &j->route[t];
        for (size_t f = 0; f < rt->nfiles; f++) {
            rt->file_fds[f] = batch_file_open(b, rt->files[f], &err);
            if (rt->file_fds[f] < 0) {
                goto fail;
            }
        }
    }
    req.argv = (const char *const *)pc->command.v;
    req.envp = (const char *const *)env.v;
    req.cwd = pc->directory;
    req.map[0].src = j->reader ? j->in_rd : in;
    req.map[0].target = 0;
    req.nmap = 1;
    struct spawn_error se;
    const struct child_stdio io = {.out_to = batch_route_fd(&j->route[0]),
                                   .err_to = batch_route_fd(&j->route[1]),
                                   .merge_stderr = pc->redirect_stderr};
    if (run_child_spawn(&j->child, &req, &io, &se) < 0) {
        err = spawn_error_message(&se);
        spawn_error_free(&se);
        goto fail;
    }
    j->state = JOB_RUNNING;
    j->ran = true;
    b->units[j->unit].live++;
    for (size_t t = 0; t < 2; t++) {
        const struct batch_route *rt = &j->route[t];
        const struct run_stream *s = t == 0 ? &j->child.out : &j->child.err;
        for (size_t k = 0; rt->kind == ROUTE_COPY && run_stream_open(s) && k < rt->nreaders; k++) {
            rt->readers[k]->in_open++;
        }
    }
    goto out;

fail:
    batch_fail(j, err);
    err = NULL;
out:
    free(err);
    child_close(&in);
    if (have_env) {
        strv_free(&env);
    }
    spawn_user_free(&user);
}

/* Depth first along the pipes: every reader is running (or failed) before its writers. */
static void
batch_start_readers_first(struct batch_job *j)
{
    if (j->visited) {
        return;
    }
    j->visited = true;
    for (size_t t = 0; t < 2; t++) {
        for (size_t k = 0; k < j->route[t].nreaders; k++) {
            batch_start_readers_first(j->route[t].readers[k]);
        }
    }
    batch_start(j);
}

/* Starts every stage of a pipeline: the stdin pipes first, then the stages, readers before
 * writers; then tend closes every end it does not use itself, or no reader would see EOF. A
 * stage that cannot start fails alone, as in a shell: its readers see EOF, its writers get
 * SIGPIPE. */
static void
batch_start_unit(struct batch *b, struct batch_unit *u)
{
    for (size_t m = 0; m < u->n; m++) {
        struct batch_job *r = &b->jobs[u->members[m]];
        if (!r->reader) {
            continue;
        }
        int fds[2];
        if (child_pipe(fds, r->in_copied ? 1 : -1) < 0) {
            char *msg = xasprintf("cannot create a pipe: %s", strerror(errno));
            for (size_t k = 0; k < u->n; k++) {
                struct batch_job *j = &b->jobs[u->members[k]];
                child_close(&j->in_rd);
                child_writer_close(&j->in);
                batch_fail(j, xstrdup(msg));
            }
            free(msg);
            u->state = UNIT_DONE;
            return;
        }
        r->in_rd = fds[0];
        child_writer_start(&r->in, fds[1]);
    }
    u->live = 0;
    for (size_t m = 0; m < u->n; m++) {
        b->jobs[u->members[m]].visited = false;
    }
    for (size_t m = 0; m < u->n; m++) {
        batch_start_readers_first(&b->jobs[u->members[m]]);
    }
    for (size_t m = 0; m < u->n; m++) {
        struct batch_job *r = &b->jobs[u->members[m]];
        child_close(&r->in_rd);
        if (!r->in_copied) {
            child_writer_close(&r->in); /* the writers have it */
        } else if (r->state != JOB_RUNNING) {
            batch_in_gone(r);
        } else {
            batch_in_maybe_close(r); /* no writer started */
        }
    }
    if (u->live == 0) {
        u->state = UNIT_DONE;
        return;
    }
    u->state = UNIT_RUNNING;
    b->running++;
    batch_wake(b, u);
}

/* Starts what may start, in priority order, as long as slots are free; skips what depends on
 * a failure; ends the loop when nothing runs and nothing more can start.
 *
 * The unit is the pipeline: all its stages start together and -j counts it as ONE slot. Its
 * stages must run at the same time (a writer blocks on a full pipe until its reader reads),
 * so counting stages could leave a reader waiting for a slot its own writer holds: with
 * -j 1 a pipeline of three runs its three stages, and nothing else, at once. A job alone is a
 * unit of one. */
static void
batch_schedule(struct batch *b)
{
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < b->nunits; i++) {
            struct batch_unit *u = &b->units[i];
            if (u->state != UNIT_WAITING) {
                continue;
            }
            const char *culprit = NULL;
            enum job_state deps = batch_unit_deps_state(b, u, &culprit);
            if (deps == JOB_FAILED) {
                for (size_t m = 0; m < u->n; m++) {
                    struct batch_job *j = &b->jobs[u->members[m]];
                    j->detail = xasprintf("not started: dependency %s did not succeed", culprit);
                    j->state = JOB_SKIPPED;
                }
                u->state = UNIT_DONE;
                changed = true;
            } else if (deps == JOB_OK && !b->stopping && b->running < (size_t)b->max_running) {
                batch_start_unit(b, u);
                changed = changed || u->state != UNIT_RUNNING;
            }
        }
    }
    if (b->running > 0) {
        return;
    }
    /* With nothing running and no failure, what still waits depends (through depends_on) on
     * a stage of its own pipeline, which cannot end before the pipeline starts. */
    const char **culprits = xcalloc(b->nunits ? b->nunits : 1, sizeof(*culprits));
    for (size_t i = 0; i < b->nunits; i++) {
        const struct batch_unit *u = &b->units[i];
        const char *culprit = NULL;
        for (size_t m = 0; m < u->n && !culprit; m++) {
            const struct strv *deps = &b->jobs[u->members[m]].pc->depends_on;
            for (size_t d = 0; d < deps->n && !culprit; d++) {
                for (size_t k = 0; k < b->njobs && !culprit; k++) {
                    if (b->jobs[k].state == JOB_WAITING &&
                        strcmp(b->jobs[k].pc->program, deps->v[d]) == 0) {
                        culprit = b->jobs[k].pc->name;
                    }
                }
            }
        }
        culprits[i] = culprit;
    }
    for (size_t i = 0; i < b->nunits; i++) {
        struct batch_unit *u = &b->units[i];
        if (u->state != UNIT_WAITING) {
            continue;
        }
        const char *culprit = culprits[i];
        char *why = b->interrupted ? xstrdup("not started: tend was interrupted")
                    : b->stopping  ? xstrdup("not started after an earlier failure")
                                   : xasprintf("not started: dependency %s waits for a pipeline "
                                                "that waits for it",
                                              culprit ? culprit : "?");
        for (size_t m = 0; m < u->n; m++) {
            struct batch_job *j = &b->jobs[u->members[m]];
            j->state = JOB_SKIPPED;
            free(j->detail);
            j->detail = xstrdup(why);
        }
        free(why);
        u->state = UNIT_DONE;
    }
    free(culprits);
    ev_break(b->r.loop, EVBREAK_ALL);
}

static void
batch_on_signal(struct runner *r, int sig)
{
    struct batch *b = r->owner;
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT) {
        b->stopping = true;
        b->interrupted = sig;
    }
}


/* The jobs (the selected processes, in start order) and their routes and units. Returns the
 * width of the longest name, for the prefixes and the table. */
static int
batch_init(struct batch *b, const struct run_opts *o, struct config *cfg, const bool *sel)
{
    memset(b, 0, sizeof(*b));
    b->o = o;
    b->cfg = cfg;
    b->max_running = o->jobs;
    if (b->max_running <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        b->max_running = n > 0 ? n : 1;
    }
    runner_init(&b->r, b);
    b->r.on_signal = batch_on_signal;
    b->jobs = xcalloc(cfg->nprocs, sizeof(*b->jobs));
    int width = 0;
    for (size_t i = 0; i < cfg->nprocs; i++) {
        if (sel[i]) {
            b->jobs[b->njobs++].pc = cfg->procs[i];
            int len = (int)strlen(cfg->procs[i]->name);
            width = len > width ? len : width;
        }
    }
    for (size_t i = 0; i < b->njobs; i++) {
        struct batch_job *j = &b->jobs[i];
        j->b = b;
        j->in_rd = -1;
        child_writer_init(&j->in, b->r.loop, batch_in_cb, batch_in_cb, j);
    }
    batch_wire(b);
    return width;
}

/* Job output goes to tend's stdout and stderr, or all to stderr when stdout is JSON, each line
 * behind the job's name; a stream with targets goes to them instead (copied by tend, or not
 * seen by it at all). */
static void
batch_setup_streams(struct batch *b, int width)
{
    const struct run_opts *o = b->o;
    int out_fd = o->json ? 2 : 1;
    bool no_color = getenv("NO_COLOR") && *getenv("NO_COLOR");
    bool colour_out = !no_color && isatty(out_fd);
    bool colour_err = !no_color && isatty(2);
    for (size_t i = 0; i < b->njobs; i++) {
        struct batch_job *j = &b->jobs[i];
        j->prefix_out = batch_prefix(j->pc->name, width, i, colour_out);
        j->prefix_err = batch_prefix(j->pc->name, width, i, colour_err);
        run_child_init(&j->child, &b->r, j->pc->name);
        j->child.owner = j;
        j->child.on_done = batch_on_done;
        run_stream_setup(&j->child.out, &j->child,
                         j->route[0].kind == ROUTE_COPY ? RUN_SINK_HOOK : RUN_SINK_LINES, out_fd,
                         j->prefix_out);
        run_stream_setup(&j->child.err, &j->child,
                         j->route[1].kind == ROUTE_COPY ? RUN_SINK_HOOK : RUN_SINK_LINES, 2,
                         j->prefix_err);
        j->child.out.hook = j->child.err.hook = batch_tee;
    }
}

/* Frees what the batch owns; closing a file: target may report a write error (code 1). */
static int
batch_free(struct batch *b, int code)
{
    for (size_t i = 0; i < b->njobs; i++) {
        run_child_free(&b->jobs[i].child); /* may end copies into the stdin of others */
    }
    for (size_t i = 0; i < b->njobs; i++) {
        struct batch_job *j = &b->jobs[i];
        child_writer_free(&j->in);
        child_close(&j->in_rd);
        for (size_t t = 0; t < 2; t++) {
            free(j->route[t].readers);
            free(j->route[t].files);
            free(j->route[t].file_fds);
        }
        free(j->prefix_out);
        free(j->prefix_err);
        free(j->detail);
        free(j->error);
    }
    for (size_t i = 0; i < b->nunits; i++) {
        free(b->units[i].members);
    }
    free(b->units);
    for (size_t i = 0; i < b->nfiles; i++) {
        if (close(b->files[i].fd) < 0) {
            fprintf(stderr, "tend: cannot write to %s: %s\n", b->files[i].path, strerror(errno));
            code = 1;
        }
        free(b->files[i].path);
    }
    free(b->files);
    free(b->jobs);
    runner_free(&b->r);
    return code;
}

int
batch_main(const struct run_opts *o)
{
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_load(o->config, &d);
    diag_print(&d, stderr);
    if (!cfg) {
        fprintf(stderr, "tend: %zu error%s in the configuration; nothing done\n", d.errors.n,
                d.errors.n == 1 ? "" : "s");
        diag_free(&d);
        return EXIT_CONFIG;
    }
    diag_free(&d);

    bool *sel = xcalloc(cfg->nprocs, sizeof(bool));
    if (batch_select(cfg, o, sel) < 0) {
        free(sel);
        config_free(cfg);
        return RUN_EXIT_USAGE;
    }
    /* a job reads /dev/null: an fcgi-program without its socket would run as something else */
    for (size_t i = 0; i < cfg->nprocs; i++) {
        if (sel[i] && cfg->procs[i]->fcgi) {
            fprintf(stderr, "%s:%d: [fcgi-program:%s]: tend run -c has no sockets to serve; "
                            "run it with tend up\n",
                    cfg->procs[i]->file, cfg->procs[i]->line, cfg->procs[i]->program);
            free(sel);
            config_free(cfg);
            return EXIT_CONFIG;
        }
    }
    spawn_sanitize_fds();
    struct batch b;
    int width = batch_init(&b, o, cfg, sel);
    free(sel);
    batch_setup_streams(&b, width);

    batch_schedule(&b);
    if (b.running > 0) {
        ev_run(b.r.loop, 0);
    }

    int code = 0;
    for (size_t i = 0; i < b.njobs; i++) {
        if (b.jobs[i].state != JOB_OK) {
            code = 1;
        }
    }
    if (o->json) {
        batch_print_json(&b);
    } else {
        batch_print_table(&b, width);
    }
    code = batch_free(&b, code);
    config_free(cfg);
    return code;
}
