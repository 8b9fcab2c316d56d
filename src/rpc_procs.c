/* rpc_procs.c - supervisord's process methods: getProcessInfo and the other information
 * methods, start/stop (answered once the process is RUNNING or stopped, completed by the
 * supervisor's state changes) and signals. Calls supervise's public functions, config. */
#include "rpc_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "values.h"
#include "xmlrpc.h"

/* ---- process info ---- */

int rpc_state_code(enum proc_state s)
{
    static const int codes[] = {[PROC_STOPPED] = 0,   [PROC_STARTING] = 10, [PROC_RUNNING] = 20,
                                [PROC_BACKOFF] = 30,  [PROC_STOPPING] = 40, [PROC_EXITED] = 100,
                                [PROC_FATAL] = 200};
    return codes[s];
}

bool rpc_is_running_state(enum proc_state s)
{
    return s == PROC_STARTING || s == PROC_RUNNING || s == PROC_BACKOFF;
}

static bool is_stopped_state(enum proc_state s)
{
    return s == PROC_STOPPED || s == PROC_EXITED || s == PROC_FATAL;
}

/* The start failed before the program ran (supervisord's spawnerr), not by an early exit. */
static bool spawn_failed(const struct proc *p)
{
    static const char *const not_spawn[] = {"exited too quickly", "failed:", "did not become",
                                            "blocked:"};
    if (!p->last_error || p->pid > 0 || (p->state != PROC_BACKOFF && p->state != PROC_FATAL)) {
        return false;
    }
    for (size_t i = 0; i < ARRAY_SIZE(not_spawn); i++) {
        if (strncmp(p->last_error, not_spawn[i], strlen(not_spawn[i])) == 0) {
            return false;
        }
    }
    return true;
}

/* supervisord's spawnerr: empty unless a start failed. */
static char *spawnerr(const struct proc *p)
{
    if (p->state != PROC_BACKOFF && p->state != PROC_FATAL) {
        return xstrdup("");
    }
    if (spawn_failed(p)) {
        if (p->spawn_status == 127) {
            return xasprintf("can't find command '%s'", p->cfg->command.v[0]);
        }
        if (p->spawn_status == 126) {
            return xasprintf("command at '%s' is not executable", p->cfg->command.v[0]);
        }
        return xstrdup(p->last_error);
    }
    if (p->last_error && strncmp(p->last_error, "blocked:", 8) == 0) {
        return xstrdup(p->last_error);
    }
    return xstrdup("Exited too quickly (process log may have details)");
}

/* Python's str(timedelta): "0:00:05", "1 day, 2:03:04", "3 days, 0:00:00". */
static void format_timedelta(struct strbuf *sb, long s)
{
    if (s < 0) {
        s = 0;
    }
    if (s >= 86400) {
        strbuf_addf(sb, "%ld day%s, ", s / 86400, s / 86400 == 1 ? "" : "s");
    }
    strbuf_addf(sb, "%ld:%02ld:%02ld", s % 86400 / 3600, s % 3600 / 60, s % 60);
}

static long proc_stop_time(const struct proc *p)
{
    return p->started_at > 0 && !proc_is_alive(p) ? (long)p->state_since : 0;
}

char *rpc_describe(const struct proc *p, double now)
{
    struct strbuf sb;
    strbuf_init(&sb);
    switch (p->state) {
    case PROC_RUNNING:
        strbuf_addf(&sb, "pid %d, uptime ", (int)p->pid);
        format_timedelta(&sb, (long)now - (long)p->started_at);
        break;
    case PROC_STOPPED:
    case PROC_EXITED:
        if (p->started_at > 0) {
            time_t t = (time_t)proc_stop_time(p);
            struct tm tm;
            char buf[64];
            localtime_r(&t, &tm);
            strftime(buf, sizeof(buf), "%b %d %I:%M %p", &tm);
            strbuf_adds(&sb, buf);
        } else {
            strbuf_adds(&sb, "Not started");
        }
        break;
    case PROC_FATAL:
    case PROC_BACKOFF: {
        char *e = spawnerr(p);
        if (*e) {
            strbuf_adds(&sb, e);
        } else {
            strbuf_addf(&sb, "unknown error (try \"tail %s\")", p->cfg->name);
        }
        free(e);
        break;
    }
    default:
        break;
    }
    return strbuf_detach(&sb);
}

static const char *stream_path(const struct proc *p, bool err)
{
    const struct output_sink *s = err ? p->err : p->out;
    const char *path = s ? output_sink_path(s) : NULL;
    return path ? path : "";
}

/* getProcessInfo's struct, written as XML straight into sb: getAllProcessInfo of thousands of
 * processes is one buffer, not a tree of fifteen nodes per process. */
static void proc_info_write(struct strbuf *sb, const struct proc *p, double now)
{
    char *desc = rpc_describe(p, now), *se = spawnerr(p);
    strbuf_adds(sb, "<value><struct>\n");
    xmlrpc_write_member_string(sb, "name", p->cfg->name);
    xmlrpc_write_member_string(sb, "group", p->cfg->group);
    xmlrpc_write_member_string(sb, "description", desc);
    xmlrpc_write_member_int(sb, "start", p->started_at > 0 ? (int64_t)p->started_at : 0);
    xmlrpc_write_member_int(sb, "stop", proc_stop_time(p));
    xmlrpc_write_member_int(sb, "now", (int64_t)now);
    xmlrpc_write_member_int(sb, "state", rpc_state_code(p->state));
    xmlrpc_write_member_string(sb, "statename", proc_state_name(p->state));
    xmlrpc_write_member_string(sb, "spawnerr", se);
    xmlrpc_write_member_int(sb, "exitstatus", p->has_exited ? p->last_exit.code : 0);
    xmlrpc_write_member_string(sb, "logfile", stream_path(p, false));
    xmlrpc_write_member_string(sb, "stdout_logfile", stream_path(p, false));
    xmlrpc_write_member_string(sb, "stderr_logfile", stream_path(p, true));
    xmlrpc_write_member_int(sb, "pid", p->pid > 0 ? p->pid : 0);
    strbuf_adds(sb, "</struct></value>");
    free(desc);
    free(se);
}

static struct xv *proc_info_xv(const struct proc *p, double now)
{
    struct strbuf sb;
    strbuf_init(&sb);
    proc_info_write(&sb, p, now);
    size_t len = sb.len;
    return xv_raw(strbuf_detach(&sb), len);
}

static int proc_lexical_cmp(const void *a, const void *b)
{
    const struct proc *x = *(struct proc *const *)a, *y = *(struct proc *const *)b;
    int g = strcmp(x->cfg->group, y->cfg->group);
    return g ? g : strcmp(x->cfg->name, y->cfg->name);
}

/* The processes of a group, or of everything (group NULL), in start order. */
struct proc **rpc_select_procs(struct supervisor *sv, const char *group, size_t *n)
{
    struct proc **v = xcalloc(sv->nprocs ? sv->nprocs : 1, sizeof(*v));
    *n = 0;
    for (size_t i = 0; i < sv->nprocs; i++) {
        if (!group || strcmp(sv->procs[i]->cfg->group, group) == 0) {
            v[(*n)++] = sv->procs[i];
        }
    }
    return v;
}

struct xv *rpc_result_struct(const struct proc *p, int code, const char *text)
{
    struct xv *st = xv_struct();
    xv_set(st, "name", xv_string(p->cfg->name));
    xv_set(st, "group", xv_string(p->cfg->group));
    xv_set(st, "status", xv_int(code));
    xv_set(st, "description", xv_string(text ? text : "OK"));
    return st;
}

/* ---- waiting for starts and stops ---- */

static void wait_eval(struct wait_item *w)
{
    if (w->done) {
        return;
    }
    const struct proc *p = w->p;
    char *spec = p ? rpc_namespec(p) : NULL;
    if (!p) {
        w->done = true;
        w->code = w->stop ? FAULT_SUCCESS : FAULT_ABNORMAL_TERMINATION;
    } else if (w->stop) {
        if (is_stopped_state(p->state)) {
            w->done = true;
            w->code = FAULT_SUCCESS;
        }
    } else if (p->waiting_deps || p->state == PROC_STARTING) {
        /* not yet */
    } else if (p->state == PROC_RUNNING) {
        w->done = true;
        w->code = FAULT_SUCCESS;
    } else {
        /* supervisord sets spawnerr for an exit before startsecs too (BACKOFF, FATAL) */
        w->done = true;
        w->code = p->state == PROC_BACKOFF || p->state == PROC_FATAL ? FAULT_SPAWN_ERROR
                                                                     : FAULT_ABNORMAL_TERMINATION;
    }
    if (w->done && w->code != FAULT_SUCCESS) {
        w->text = rpc_fault_text(w->code, spec);
    }
    free(spec);
}

static struct rpc_pending *pending_new(struct call *c, bool single)
{
    struct rpc_pending *pd = xcalloc(1, sizeof(*pd));
    pd->r = c->r;
    pd->single = single;
    pd->results = single ? NULL : xv_array();
    c->pending = pd;
    return pd;
}

static void pending_add(struct rpc_pending *pd, struct proc *p, bool stop)
{
    pd->items = xrealloc(pd->items, (pd->n + 1) * sizeof(*pd->items));
    pd->items[pd->n++] = (struct wait_item){.p = p, .stop = stop};
}

void rpc_pending_free(struct rpc_pending *pd)
{
    for (size_t i = 0; i < pd->n; i++) {
        free(pd->items[i].text);
    }
    free(pd->items);
    xv_free(pd->results);
    free(pd);
}

void rpc_pending_unlink(struct rpc *r, struct rpc_pending *pd)
{
    if (pd->prev) {
        pd->prev->next = pd->next;
    } else if (r->pending == pd) {
        r->pending = pd->next;
    }
    if (pd->next) {
        pd->next->prev = pd->prev;
    }
    pd->prev = pd->next = NULL;
}

/* Everything it waited for is settled: the answer goes out and the wait is gone. */
static void pending_finish(struct rpc_pending *pd)
{
    struct strbuf out;
    strbuf_init(&out);
    if (pd->single) {
        struct wait_item *w = &pd->items[0];
        if (w->code == FAULT_SUCCESS) {
            struct xv *t = xv_bool(true);
            xmlrpc_write_response(&out, t);
            xv_free(t);
        } else {
            xmlrpc_write_fault(&out, w->code, w->text);
        }
    } else {
        xmlrpc_write_response(&out, pd->results);
    }
    rpc_pending_unlink(pd->r, pd);
    rpc_done_fn done = pd->done;
    void *arg = pd->arg;
    rpc_pending_free(pd);
    size_t len = out.len;
    done(arg, strbuf_detach(&out), len);
}

/* Moves newly settled items of an array answer into its results; true when all are. */
static bool pending_settle(struct rpc_pending *pd)
{
    bool all = true;
    for (size_t i = 0; i < pd->n; i++) {
        struct wait_item *w = &pd->items[i];
        bool was = w->done;
        wait_eval(w);
        if (!w->done) {
            all = false;
        } else if (!was && !pd->single && w->p) {
            xv_push(pd->results, rpc_result_struct(w->p, w->code, w->text));
        }
    }
    return all;
}

void rpc_proc_changed(struct rpc *r, struct proc *p, enum proc_state old)
{
    (void)old;
    struct rpc_pending *next;
    for (struct rpc_pending *pd = r->pending; pd; pd = next) {
        next = pd->next;
        bool involved = false;
        for (size_t i = 0; i < pd->n; i++) {
            involved |= pd->items[i].p == p;
        }
        if (involved && pending_settle(pd)) {
            pending_finish(pd);
        }
    }
}

void rpc_proc_removed(struct rpc *r, struct proc *p)
{
    struct rpc_pending *next;
    for (struct rpc_pending *pd = r->pending; pd; pd = next) {
        next = pd->next;
        bool involved = false;
        for (size_t i = 0; i < pd->n; i++) {
            struct wait_item *w = &pd->items[i];
            if (w->p == p && !w->done) {
                involved = true;
                wait_eval(w); /* the last chance to report it by name */
                if (!w->done) {
                    w->done = true;
                    w->code = w->stop ? FAULT_SUCCESS : FAULT_ABNORMAL_TERMINATION;
                    char *spec = rpc_namespec(p);
                    w->text = w->stop ? NULL : rpc_fault_text(w->code, spec);
                    free(spec);
                }
                if (!pd->single) {
                    xv_push(pd->results, rpc_result_struct(p, w->code, w->text));
                }
            }
            if (w->p == p) {
                w->p = NULL;
            }
        }
        if (involved && pending_settle(pd)) {
            pending_finish(pd);
        }
    }
}

void rpc_cancel(struct rpc *r, struct rpc_pending *pd)
{
    if (pd) {
        rpc_pending_unlink(r, pd);
        rpc_pending_free(pd);
    }
}

/* ---- starting and stopping ---- */

/* supervisord refuses a start whose command cannot be found or run (NO_FILE, NOT_EXECUTABLE)
 * before trying it. */
static int check_command(const struct proc *p, char **text)
{
    const char *prog = p->cfg->command.v[0];
    char *found = NULL;
    if (strchr(prog, '/')) {
        found = xstrdup(prog);
    } else {
        const char *path = getenv("PATH");
        char *copy = xstrdup(path ? path : "/usr/bin:/bin");
        for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir && !found;
             dir = strtok_r(NULL, ":", &save)) {
            char *cand = xasprintf("%s/%s", dir, prog);
            struct stat st;
            if (stat(cand, &st) == 0) {
                found = cand;
            } else {
                free(cand);
            }
        }
        free(copy);
    }
    struct stat st;
    int code = 0;
    if (!found || stat(found, &st) < 0) {
        *text = xasprintf("can't find command '%s'", prog);
        code = FAULT_NO_FILE;
    } else if (!S_ISREG(st.st_mode) || access(found, X_OK) < 0) {
        *text = xasprintf("command at '%s' is not executable", found);
        code = FAULT_NOT_EXECUTABLE;
    }
    free(found);
    return code;
}

/* Starts one process; 0, or a fault code with *text. */
static int start_one(struct call *c, struct proc *p, char **text)
{
    char *spec = rpc_namespec(p);
    int code = 0;
    if (c->r->sv->shutting_down) {
        code = FAULT_SHUTDOWN_STATE;
    } else if (rpc_is_running_state(p->state) || p->state == PROC_STOPPING) {
        /* supervisord counts STOPPING as not running; tend's start cannot begin until the
         * old one has stopped, so it reports it as started */
        code = FAULT_ALREADY_STARTED;
    } else if ((code = check_command(p, text)) != 0) {
        free(spec);
        return code;
    } else {
        proc_start(p);
        if (spawn_failed(p)) {
            code = FAULT_SPAWN_ERROR;
        }
    }
    if (code) {
        *text = rpc_fault_text(code, spec);
    }
    free(spec);
    return code;
}

static bool start_settled(const struct proc *p)
{
    return p->state == PROC_RUNNING;
}

/* Adds a process to wait for, creating the wait of a start or stop of many at the first. */
static struct rpc_pending *pending_add_to(struct rpc_pending *pd, struct proc *p, bool stop)
{
    if (!pd) {
        pd = xcalloc(1, sizeof(*pd));
    }
    pending_add(pd, p, stop);
    return pd;
}

/* The answer to a start or stop of many: results at once when nothing is waited for or all
 * settled already, otherwise NULL while pd (now the call's) waits for the rest. */
static struct xv *many_answer(struct call *c, struct rpc_pending *pd, struct xv *results)
{
    if (!pd) {
        return results;
    }
    pd->r = c->r;
    pd->results = results;
    c->pending = pd;
    if (!pending_settle(pd)) {
        return NULL;
    }
    c->pending = NULL;
    results = pd->results;
    pd->results = NULL;
    rpc_pending_free(pd);
    return results;
}

static struct xv *start_many(struct call *c, struct proc **procs, size_t n, bool wait)
{
    struct rpc_pending *pd = NULL;
    struct xv *results = xv_array();
    for (size_t i = 0; i < n; i++) {
        struct proc *p = procs[i];
        if (rpc_is_running_state(p->state)) {
            continue; /* supervisord's isNotRunning filter */
        }
        char *text = NULL;
        int code = start_one(c, p, &text);
        if (code) {
            xv_push(results, rpc_result_struct(p, code, text));
        } else if (wait && !start_settled(p)) {
            pd = pending_add_to(pd, p, false);
        } else {
            xv_push(results, rpc_result_struct(p, FAULT_SUCCESS, "OK"));
        }
        free(text);
    }
    return many_answer(c, pd, results);
}

static struct xv *stop_many(struct call *c, struct proc **procs, size_t n, bool wait)
{
    struct rpc_pending *pd = NULL;
    struct xv *results = xv_array();
    /* stop order is the reverse of start order */
    for (size_t i = n; i-- > 0;) {
        struct proc *p = procs[i];
        if (!rpc_is_running_state(p->state)) {
            continue;
        }
        proc_stop(p);
        if (wait && !is_stopped_state(p->state)) {
            pd = pending_add_to(pd, p, true);
        } else {
            xv_push(results, rpc_result_struct(p, FAULT_SUCCESS, "OK"));
        }
    }
    return many_answer(c, pd, results);
}


struct xv *m_start_process(struct call *c)
{
    if (!rpc_nparams(c, 1, 2)) {
        return NULL;
    }
    const char *spec;
    struct proc *p;
    if (!rpc_param_target(c, 0, &spec, &p)) {
        return NULL;
    }
    if (!p) {
        return m_start_process_group(c);
    }
    bool wait = rpc_param_wait(c, 1);
    char *text = NULL;
    int code = start_one(c, p, &text);
    if (code) {
        c->fault = code;
        c->fault_text = text;
        return NULL;
    }
    if (wait && !start_settled(p)) {
        struct rpc_pending *pd = pending_new(c, true);
        pending_add(pd, p, false);
        if (pending_settle(pd)) {
            struct wait_item w = pd->items[0];
            c->pending = NULL;
            pd->items[0].text = NULL;
            rpc_pending_free(pd);
            if (w.code != FAULT_SUCCESS) {
                c->fault = w.code;
                c->fault_text = w.text;
                return NULL;
            }
            free(w.text);
        } else {
            return NULL;
        }
    }
    return xv_bool(true);
}

/* The processes of the group that the first parameter names ("g" or "g:*"): false after a
 * fault (no string, or BAD_NAME). The caller frees *procs. */
static bool group_param_procs(struct call *c, struct proc ***procs, size_t *np)
{
    const char *spec = rpc_param_str(c, 0);
    if (!spec) {
        return false;
    }
    char *g, *n;
    rpc_split_namespec(spec, &g, &n);
    free(n);
    if (!rpc_group_exists(c->r->sv, g)) {
        free(g);
        rpc_fail(c, FAULT_BAD_NAME, spec);
        return false;
    }
    *procs = rpc_select_procs(c->r->sv, g, np);
    free(g);
    return true;
}

/* start or stop of many processes, waiting for them when the last parameter says so */
typedef struct xv *(*many_fn)(struct call *c, struct proc **procs, size_t np, bool wait);

/* (name, wait): every process of the group NAME names */
static struct xv *group_call(struct call *c, many_fn fn)
{
    struct proc **procs;
    size_t np;
    if (!rpc_nparams(c, 1, 2) || !group_param_procs(c, &procs, &np)) {
        return NULL;
    }
    struct xv *v = fn(c, procs, np, rpc_param_wait(c, 1));
    free(procs);
    return v;
}

/* (wait): every process */
static struct xv *all_call(struct call *c, many_fn fn)
{
    if (!rpc_nparams(c, 0, 1)) {
        return NULL;
    }
    size_t np;
    struct proc **procs = rpc_select_procs(c->r->sv, NULL, &np);
    struct xv *v = fn(c, procs, np, rpc_param_wait(c, 0));
    free(procs);
    return v;
}

struct xv *m_start_process_group(struct call *c)
{
    return group_call(c, start_many);
}

struct xv *m_start_all(struct call *c)
{
    return all_call(c, start_many);
}

struct xv *m_stop_process(struct call *c)
{
    if (!rpc_nparams(c, 1, 2)) {
        return NULL;
    }
    const char *spec;
    struct proc *p;
    if (!rpc_param_target(c, 0, &spec, &p)) {
        return NULL;
    }
    if (!p) {
        return m_stop_process_group(c);
    }
    if (!rpc_is_running_state(p->state)) {
        return rpc_fail(c, FAULT_NOT_RUNNING, spec);
    }
    proc_stop(p);
    if (rpc_param_wait(c, 1) && !is_stopped_state(p->state)) {
        struct rpc_pending *pd = pending_new(c, true);
        pending_add(pd, p, true);
        return NULL;
    }
    return xv_bool(true);
}

struct xv *m_stop_process_group(struct call *c)
{
    return group_call(c, stop_many);
}

struct xv *m_stop_all(struct call *c)
{
    return all_call(c, stop_many);
}

/* ---- signals ---- */

static bool param_signal(struct call *c, size_t i, int *sig)
{
    const struct xv *v = i < c->params->n ? c->params->items[i] : NULL;
    char *err = NULL;
    char buf[32];
    const char *s = NULL;
    if (v && v->type == XV_INT) {
        snprintf(buf, sizeof(buf), "%lld", (long long)v->i);
        s = buf;
    } else if (v && v->type == XV_STRING) {
        s = v->s;
    }
    if (!s || value_parse_signal(s, sig, &err) < 0 || *sig <= 0 || *sig >= NSIG) {
        free(err);
        rpc_fail(c, FAULT_BAD_SIGNAL, s ? s : "");
        return false;
    }
    return true;
}

static int signal_one(struct proc *p, int sig, char **text)
{
    char *spec = rpc_namespec(p);
    int code = 0;
    if (!rpc_is_running_state(p->state) || !proc_is_alive(p)) {
        code = FAULT_NOT_RUNNING;
        *text = rpc_fault_text(code, spec);
    } else if (proc_signal(p, sig) < 0) {
        code = FAULT_FAILED;
        char *why = xasprintf("%s: %s", spec, strerror(errno));
        *text = rpc_fault_text(code, why);
        free(why);
    }
    free(spec);
    return code;
}

static struct xv *signal_many(struct proc **procs, size_t n, int sig)
{
    struct xv *results = xv_array();
    for (size_t i = 0; i < n; i++) {
        if (!rpc_is_running_state(procs[i]->state)) {
            continue;
        }
        char *text = NULL;
        int code = signal_one(procs[i], sig, &text);
        xv_push(results, rpc_result_struct(procs[i], code ? code : FAULT_SUCCESS, text));
        free(text);
    }
    return results;
}

struct xv *m_signal_process(struct call *c)
{
    if (!rpc_nparams(c, 2, 2)) {
        return NULL;
    }
    const char *spec;
    struct proc *p;
    int sig;
    if (!rpc_param_target(c, 0, &spec, &p)) {
        return NULL;
    }
    if (!p) {
        return m_signal_process_group(c);
    }
    if (!param_signal(c, 1, &sig)) {
        return NULL;
    }
    char *text = NULL;
    int code = signal_one(p, sig, &text);
    if (code) {
        c->fault = code;
        c->fault_text = text;
        return NULL;
    }
    return xv_bool(true);
}

struct xv *m_signal_process_group(struct call *c)
{
    if (!rpc_nparams(c, 2, 2)) {
        return NULL;
    }
    struct proc **procs;
    size_t np;
    int sig;
    if (!group_param_procs(c, &procs, &np)) {
        return NULL;
    }
    if (!param_signal(c, 1, &sig)) {
        free(procs);
        return NULL;
    }
    struct xv *v = signal_many(procs, np, sig);
    free(procs);
    return v;
}

struct xv *m_signal_all(struct call *c)
{
    int sig;
    if (!rpc_nparams(c, 1, 1) || !param_signal(c, 0, &sig)) {
        return NULL;
    }
    size_t np;
    struct proc **procs = rpc_select_procs(c->r->sv, NULL, &np);
    struct xv *v = signal_many(procs, np, sig);
    free(procs);
    return v;
}

/* ---- information ---- */

struct xv *m_api_version(struct call *c)
{
    return rpc_nparams(c, 0, 0) ? xv_string(RPC_API_VERSION) : NULL;
}

struct xv *m_supervisor_version(struct call *c)
{
    return rpc_nparams(c, 0, 0) ? xv_string(PACKAGE_VERSION) : NULL;
}

struct xv *m_identification(struct call *c)
{
    const char *id = c->r->sv->cfg->global.identifier;
    return rpc_nparams(c, 0, 0) ? xv_string(id ? id : "tend") : NULL;
}

struct xv *m_get_state(struct call *c)
{
    if (!rpc_nparams(c, 0, 0)) {
        return NULL;
    }
    bool down = c->r->sv->shutting_down;
    struct xv *st = xv_struct();
    xv_set(st, "statecode", xv_int(down ? -1 : 1));
    xv_set(st, "statename", xv_string(down ? "SHUTDOWN" : "RUNNING"));
    return st;
}

struct xv *m_get_pid(struct call *c)
{
    return rpc_nparams(c, 0, 0) ? xv_int(getpid()) : NULL;
}

struct xv *m_process_info(struct call *c)
{
    if (!rpc_nparams(c, 1, 1)) {
        return NULL;
    }
    const char *spec;
    struct proc *p = rpc_param_proc(c, 0, &spec);
    return p ? proc_info_xv(p, ev_time()) : NULL;
}

struct xv *m_all_process_info(struct call *c)
{
    if (!rpc_nparams(c, 0, 0)) {
        return NULL;
    }
    struct supervisor *sv = c->r->sv;
    size_t n;
    struct proc **procs = rpc_select_procs(sv, NULL, &n);
    qsort(procs, n, sizeof(*procs), proc_lexical_cmp);
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_reserve(&sb, 1024 * (n + 1));
    strbuf_adds(&sb, "<value><array><data>\n");
    double now = ev_time();
    for (size_t i = 0; i < n; i++) {
        proc_info_write(&sb, procs[i], now);
        strbuf_addc(&sb, '\n');
    }
    strbuf_adds(&sb, "</data></array></value>");
    free(procs);
    size_t len = sb.len;
    return xv_raw(strbuf_detach(&sb), len);
}

static long group_priority(const struct config *cfg, const struct proc_config *pc)
{
    for (size_t i = 0; i < cfg->ngroups; i++) {
        if (strcmp(cfg->groups[i].name, pc->group) == 0) {
            return cfg->groups[i].priority;
        }
    }
    return pc->priority;
}

static int config_name_cmp(const void *a, const void *b)
{
    const struct proc_config *x = *(struct proc_config *const *)a;
    const struct proc_config *y = *(struct proc_config *const *)b;
    return strcmp(x->name, y->name);
}

static struct xv *size_or_auto(const char *path)
{
    return xv_string(!path ? "none" : strcmp(path, "AUTO") == 0 ? "auto" : path);
}

struct xv *m_all_config_info(struct call *c)
{
    if (!rpc_nparams(c, 0, 0)) {
        return NULL;
    }
    const struct config *cfg = c->r->reread ? c->r->reread : c->r->sv->cfg;
    struct proc_config **v = xcalloc(cfg->nprocs ? cfg->nprocs : 1, sizeof(*v));
    memcpy(v, cfg->procs, cfg->nprocs * sizeof(*v));
    qsort(v, cfg->nprocs, sizeof(*v), config_name_cmp);
    struct xv *arr = xv_array();
    for (size_t i = 0; i < cfg->nprocs; i++) {
        const struct proc_config *pc = v[i];
        struct xv *st = xv_struct();
        char *cmd = value_join_command(&pc->command);
        struct xv *codes = xv_array();
        for (int e = 0; e < 256; e++) {
            if (exitcodes_has(&pc->exitcodes, e)) {
                xv_push(codes, xv_int(e));
            }
        }
        xv_set(st, "autostart", xv_bool(pc->autostart));
        xv_set(st, "directory", xv_string(pc->directory ? pc->directory : "none"));
        xv_set(st, "uid", xv_string(pc->user ? pc->user : "none"));
        xv_set(st, "command", xv_string(cmd));
        xv_set(st, "exitcodes", codes);
        xv_set(st, "group", xv_string(pc->group));
        xv_set(st, "group_prio", xv_int(group_priority(cfg, pc)));
        xv_set(st, "inuse", xv_bool(rpc_group_exists(c->r->sv, pc->group)));
        xv_set(st, "killasgroup", xv_bool(pc->killasgroup));
        xv_set(st, "name", xv_string(pc->name));
        xv_set(st, "process_prio", xv_int(pc->priority));
        xv_set(st, "redirect_stderr", xv_bool(pc->redirect_stderr));
        xv_set(st, "startretries",
               xv_int(pc->startretries == RETRIES_FOREVER ? -1 : pc->startretries));
        xv_set(st, "startsecs", xv_int(pc->startsecs / 1000));
        xv_set(st, "stdout_capture_maxbytes", xv_int(0));
        xv_set(st, "stdout_events_enabled", xv_bool(false));
        xv_set(st, "stdout_logfile", size_or_auto(pc->stdout_logfile));
        xv_set(st, "stdout_logfile_backups", xv_int(pc->stdout_logfile_backups));
        xv_set(st, "stdout_logfile_maxbytes", xv_int(pc->stdout_logfile_maxbytes));
        xv_set(st, "stdout_syslog", xv_bool(false));
        xv_set(st, "stopsignal", xv_int(pc->stopsignal));
        xv_set(st, "stopwaitsecs", xv_int(pc->stopwaitsecs / 1000));
        xv_set(st, "stderr_capture_maxbytes", xv_int(0));
        xv_set(st, "stderr_events_enabled", xv_bool(false));
        xv_set(st, "stderr_logfile", size_or_auto(pc->stderr_logfile));
        xv_set(st, "stderr_logfile_backups", xv_int(pc->stderr_logfile_backups));
        xv_set(st, "stderr_logfile_maxbytes", xv_int(pc->stderr_logfile_maxbytes));
        xv_set(st, "stderr_syslog", xv_bool(false));
        xv_set(st, "serverurl", xv_string("auto"));
        xv_push(arr, st);
        free(cmd);
    }
    free(v);
    return arr;
}

