/* rpc.c - supervisord's XML-RPC interface (supervisor.* and system.*) over tend's supervisor.
 * Wire behaviour follows supervisor 4.2's rpcinterface.py: struct keys, state codes, the
 * description strings, fault codes and texts ("BAD_NAME: foo"), and startProcess/stopProcess
 * answering only once the process is RUNNING or stopped (without polling: the supervisor's
 * state changes complete the waiting requests). */
#include "rpc.h"

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

#define RPC_API_VERSION "3.0"
#define RPC_MAX_READ (16 * 1024 * 1024) /* the most one log read returns */
#define RPC_PARSE_ERROR (-32700)        /* the XML-RPC convention for a malformed request */

struct wait_item {
    struct proc *p;
    bool stop;
    bool done;
    int code;   /* FAULT_SUCCESS or the fault */
    char *text; /* the fault's text */
};

struct rpc_pending {
    struct rpc *r;
    struct wait_item *items;
    size_t n;
    bool single;        /* answer True or the fault of items[0]; else a result array */
    struct xv *results; /* an array's results known before the wait */
    rpc_done_fn done;
    void *arg;
    struct rpc_pending *prev, *next;
};

struct rpc {
    struct supervisor *sv;
    char *config_path;
    char *main_log;
    struct rpc_hooks hooks;
    struct rpc_pending *pending;
    struct config *reread; /* the file as reloadConfig last read it (getAllConfigInfo) */
    struct strv readd;     /* groups an applied reload already added or changed */
    bool down_requested;
};

/* One method call being answered. */
struct call {
    struct rpc *r;
    const struct xv *params;
    int fault;
    char *fault_text;
    bool no_wait;          /* inside system.multicall: starts and stops do not wait */
    struct rpc_pending *pending; /* set by a method whose answer comes later */
};

/* ---- faults ---- */

static const char *fault_name(int code)
{
    static const struct {
        int code;
        const char *name;
    } names[] = {{FAULT_UNKNOWN_METHOD, "UNKNOWN_METHOD"},
                 {FAULT_INCORRECT_PARAMETERS, "INCORRECT_PARAMETERS"},
                 {FAULT_BAD_ARGUMENTS, "BAD_ARGUMENTS"},
                 {FAULT_SIGNATURE_UNSUPPORTED, "SIGNATURE_UNSUPPORTED"},
                 {FAULT_SHUTDOWN_STATE, "SHUTDOWN_STATE"},
                 {FAULT_BAD_NAME, "BAD_NAME"},
                 {FAULT_BAD_SIGNAL, "BAD_SIGNAL"},
                 {FAULT_NO_FILE, "NO_FILE"},
                 {FAULT_NOT_EXECUTABLE, "NOT_EXECUTABLE"},
                 {FAULT_FAILED, "FAILED"},
                 {FAULT_ABNORMAL_TERMINATION, "ABNORMAL_TERMINATION"},
                 {FAULT_SPAWN_ERROR, "SPAWN_ERROR"},
                 {FAULT_ALREADY_STARTED, "ALREADY_STARTED"},
                 {FAULT_NOT_RUNNING, "NOT_RUNNING"},
                 {FAULT_SUCCESS, "SUCCESS"},
                 {FAULT_ALREADY_ADDED, "ALREADY_ADDED"},
                 {FAULT_STILL_RUNNING, "STILL_RUNNING"},
                 {FAULT_CANT_REREAD, "CANT_REREAD"},
                 {RPC_PARSE_ERROR, "PARSE_ERROR"}};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (names[i].code == code) {
            return names[i].name;
        }
    }
    return "UNKNOWN";
}

/* supervisord's RPCError text: "NAME" or "NAME: extra". */
static char *fault_text(int code, const char *extra)
{
    return extra && *extra ? xasprintf("%s: %s", fault_name(code), extra)
                           : xstrdup(fault_name(code));
}

static struct xv *fail(struct call *c, int code, const char *extra)
{
    if (!c->fault) {
        c->fault = code;
        c->fault_text = fault_text(code, extra);
    }
    return NULL;
}

/* ---- parameters ---- */

static bool nparams(struct call *c, size_t min, size_t max)
{
    if (c->params->n < min || c->params->n > max) {
        fail(c, FAULT_INCORRECT_PARAMETERS, NULL);
        return false;
    }
    return true;
}

static const char *param_str(struct call *c, size_t i)
{
    const struct xv *v = i < c->params->n ? c->params->items[i] : NULL;
    if (!v || v->type != XV_STRING) {
        fail(c, FAULT_INCORRECT_PARAMETERS, NULL);
        return NULL;
    }
    return v->s;
}

static bool param_int(struct call *c, size_t i, int64_t *out)
{
    const struct xv *v = i < c->params->n ? c->params->items[i] : NULL;
    if (v && (v->type == XV_INT || v->type == XV_BOOL)) {
        *out = v->i;
        return true;
    }
    if (v && v->type == XV_STRING) {
        char *end;
        errno = 0;
        long long x = strtoll(v->s, &end, 10);
        if (!errno && end != v->s && !*end) {
            *out = x;
            return true;
        }
    }
    fail(c, FAULT_INCORRECT_PARAMETERS, NULL);
    return false;
}

/* An optional wait flag (supervisorctl sends none: it means true). */
static bool param_wait(struct call *c, size_t i)
{
    if (c->no_wait) {
        return false;
    }
    const struct xv *v = i < c->params->n ? c->params->items[i] : NULL;
    return !v || ((v->type == XV_BOOL || v->type == XV_INT) ? v->i != 0 : true);
}

/* ---- names ---- */

/* "group:name", "group:*" (name NULL) or "name" (group and name alike), as supervisord. */
static void split_namespec(const char *spec, char **group, char **name)
{
    const char *colon = strchr(spec, ':');
    if (!colon) {
        *group = xstrdup(spec);
        *name = xstrdup(spec);
        return;
    }
    *group = xstrndup(spec, (size_t)(colon - spec));
    *name = colon[1] && strcmp(colon + 1, "*") != 0 ? xstrdup(colon + 1) : NULL;
}

static bool group_exists(const struct supervisor *sv, const char *group)
{
    for (size_t i = 0; i < sv->nprocs; i++) {
        if (strcmp(sv->procs[i]->cfg->group, group) == 0) {
            return true;
        }
    }
    return false;
}

static char *namespec(const struct proc *p)
{
    return strcmp(p->cfg->group, p->cfg->name) == 0
               ? xstrdup(p->cfg->name)
               : xasprintf("%s:%s", p->cfg->group, p->cfg->name);
}

/* Finds one process, or (*p NULL, *group set) a whole group; false after a BAD_NAME fault.
 * A bare name that is no group is looked up as a process name too: tend's names are unique. */
static bool resolve(struct call *c, const char *spec, struct proc **p, char **group)
{
    struct supervisor *sv = c->r->sv;
    char *g, *n;
    split_namespec(spec, &g, &n);
    *p = NULL;
    *group = NULL;
    bool ok = false;
    if (!n) {
        ok = group_exists(sv, g);
        if (ok) {
            *group = g;
            g = NULL;
        }
    } else {
        struct proc *found = supervisor_find(sv, n);
        if (found && (strcmp(found->cfg->group, g) == 0 || !strchr(spec, ':'))) {
            *p = found;
            ok = true;
        }
    }
    free(g);
    free(n);
    if (!ok) {
        fail(c, FAULT_BAD_NAME, spec);
    }
    return ok;
}

/* ---- process info ---- */

int rpc_state_code(enum proc_state s)
{
    static const int codes[] = {[PROC_STOPPED] = 0,   [PROC_STARTING] = 10, [PROC_RUNNING] = 20,
                                [PROC_BACKOFF] = 30,  [PROC_STOPPING] = 40, [PROC_EXITED] = 100,
                                [PROC_FATAL] = 200};
    return codes[s];
}

static bool is_running_state(enum proc_state s)
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
static struct proc **select_procs(struct supervisor *sv, const char *group, size_t *n)
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

static struct xv *result_struct(const struct proc *p, int code, const char *text)
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
    char *spec = p ? namespec(p) : NULL;
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
        w->text = fault_text(w->code, spec);
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

static void pending_free(struct rpc_pending *pd)
{
    for (size_t i = 0; i < pd->n; i++) {
        free(pd->items[i].text);
    }
    free(pd->items);
    xv_free(pd->results);
    free(pd);
}

static void pending_unlink(struct rpc *r, struct rpc_pending *pd)
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
    pending_unlink(pd->r, pd);
    rpc_done_fn done = pd->done;
    void *arg = pd->arg;
    pending_free(pd);
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
            xv_push(pd->results, result_struct(w->p, w->code, w->text));
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
                    char *spec = namespec(p);
                    w->text = w->stop ? NULL : fault_text(w->code, spec);
                    free(spec);
                }
                if (!pd->single) {
                    xv_push(pd->results, result_struct(p, w->code, w->text));
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
        pending_unlink(r, pd);
        pending_free(pd);
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
    char *spec = namespec(p);
    int code = 0;
    if (c->r->sv->shutting_down) {
        code = FAULT_SHUTDOWN_STATE;
    } else if (is_running_state(p->state) || p->state == PROC_STOPPING) {
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
        *text = fault_text(code, spec);
    }
    free(spec);
    return code;
}

static bool start_settled(const struct proc *p)
{
    return p->state == PROC_RUNNING;
}

static struct xv *start_many(struct call *c, struct proc **procs, size_t n, bool wait)
{
    struct rpc_pending *pd = NULL;
    struct xv *results = xv_array();
    for (size_t i = 0; i < n; i++) {
        struct proc *p = procs[i];
        if (is_running_state(p->state)) {
            continue; /* supervisord's isNotRunning filter */
        }
        char *text = NULL;
        int code = start_one(c, p, &text);
        if (code) {
            xv_push(results, result_struct(p, code, text));
        } else if (wait && !start_settled(p)) {
            if (!pd) {
                pd = xcalloc(1, sizeof(*pd));
            }
            pending_add(pd, p, false);
        } else {
            xv_push(results, result_struct(p, FAULT_SUCCESS, "OK"));
        }
        free(text);
    }
    if (!pd) {
        return results;
    }
    pd->r = c->r;
    pd->results = results;
    c->pending = pd;
    if (pending_settle(pd)) {
        c->pending = NULL;
        results = pd->results;
        pd->results = NULL;
        pending_free(pd);
        return results;
    }
    return NULL;
}

static struct xv *stop_many(struct call *c, struct proc **procs, size_t n, bool wait)
{
    struct rpc_pending *pd = NULL;
    struct xv *results = xv_array();
    /* stop order is the reverse of start order */
    for (size_t i = n; i-- > 0;) {
        struct proc *p = procs[i];
        if (!is_running_state(p->state)) {
            continue;
        }
        proc_stop(p);
        if (wait && !is_stopped_state(p->state)) {
            if (!pd) {
                pd = xcalloc(1, sizeof(*pd));
            }
            pending_add(pd, p, true);
        } else {
            xv_push(results, result_struct(p, FAULT_SUCCESS, "OK"));
        }
    }
    if (!pd) {
        return results;
    }
    pd->r = c->r;
    pd->results = results;
    c->pending = pd;
    if (pending_settle(pd)) {
        c->pending = NULL;
        results = pd->results;
        pd->results = NULL;
        pending_free(pd);
        return results;
    }
    return NULL;
}

static struct xv *m_start_process_group(struct call *c);
static struct xv *m_stop_process_group(struct call *c);
static struct xv *m_signal_process_group(struct call *c);

static struct xv *m_start_process(struct call *c)
{
    if (!nparams(c, 1, 2)) {
        return NULL;
    }
    const char *spec = param_str(c, 0);
    struct proc *p;
    char *group;
    if (!spec || !resolve(c, spec, &p, &group)) {
        return NULL;
    }
    if (!p) {
        free(group);
        return m_start_process_group(c);
    }
    bool wait = param_wait(c, 1);
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
            pending_free(pd);
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

static struct xv *m_start_process_group(struct call *c)
{
    if (!nparams(c, 1, 2)) {
        return NULL;
    }
    const char *spec = param_str(c, 0);
    if (!spec) {
        return NULL;
    }
    char *g, *n;
    split_namespec(spec, &g, &n);
    free(n);
    if (!group_exists(c->r->sv, g)) {
        free(g);
        return fail(c, FAULT_BAD_NAME, spec);
    }
    size_t np;
    struct proc **procs = select_procs(c->r->sv, g, &np);
    struct xv *v = start_many(c, procs, np, param_wait(c, 1));
    free(procs);
    free(g);
    return v;
}

static struct xv *m_start_all(struct call *c)
{
    if (!nparams(c, 0, 1)) {
        return NULL;
    }
    size_t np;
    struct proc **procs = select_procs(c->r->sv, NULL, &np);
    struct xv *v = start_many(c, procs, np, param_wait(c, 0));
    free(procs);
    return v;
}

static struct xv *m_stop_process(struct call *c)
{
    if (!nparams(c, 1, 2)) {
        return NULL;
    }
    const char *spec = param_str(c, 0);
    struct proc *p;
    char *group;
    if (!spec || !resolve(c, spec, &p, &group)) {
        return NULL;
    }
    if (!p) {
        free(group);
        return m_stop_process_group(c);
    }
    if (!is_running_state(p->state)) {
        return fail(c, FAULT_NOT_RUNNING, spec);
    }
    proc_stop(p);
    if (param_wait(c, 1) && !is_stopped_state(p->state)) {
        struct rpc_pending *pd = pending_new(c, true);
        pending_add(pd, p, true);
        return NULL;
    }
    return xv_bool(true);
}

static struct xv *m_stop_process_group(struct call *c)
{
    if (!nparams(c, 1, 2)) {
        return NULL;
    }
    const char *spec = param_str(c, 0);
    if (!spec) {
        return NULL;
    }
    char *g, *n;
    split_namespec(spec, &g, &n);
    free(n);
    if (!group_exists(c->r->sv, g)) {
        free(g);
        return fail(c, FAULT_BAD_NAME, spec);
    }
    size_t np;
    struct proc **procs = select_procs(c->r->sv, g, &np);
    struct xv *v = stop_many(c, procs, np, param_wait(c, 1));
    free(procs);
    free(g);
    return v;
}

static struct xv *m_stop_all(struct call *c)
{
    if (!nparams(c, 0, 1)) {
        return NULL;
    }
    size_t np;
    struct proc **procs = select_procs(c->r->sv, NULL, &np);
    struct xv *v = stop_many(c, procs, np, param_wait(c, 0));
    free(procs);
    return v;
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
        fail(c, FAULT_BAD_SIGNAL, s ? s : "");
        return false;
    }
    return true;
}

static int signal_one(struct proc *p, int sig, char **text)
{
    char *spec = namespec(p);
    int code = 0;
    if (!is_running_state(p->state) || !proc_is_alive(p)) {
        code = FAULT_NOT_RUNNING;
        *text = fault_text(code, spec);
    } else if (proc_signal(p, sig) < 0) {
        code = FAULT_FAILED;
        char *why = xasprintf("%s: %s", spec, strerror(errno));
        *text = fault_text(code, why);
        free(why);
    }
    free(spec);
    return code;
}

static struct xv *signal_many(struct proc **procs, size_t n, int sig)
{
    struct xv *results = xv_array();
    for (size_t i = 0; i < n; i++) {
        if (!is_running_state(procs[i]->state)) {
            continue;
        }
        char *text = NULL;
        int code = signal_one(procs[i], sig, &text);
        xv_push(results, result_struct(procs[i], code ? code : FAULT_SUCCESS, text));
        free(text);
    }
    return results;
}

static struct xv *m_signal_process(struct call *c)
{
    if (!nparams(c, 2, 2)) {
        return NULL;
    }
    const char *spec = param_str(c, 0);
    struct proc *p;
    char *group;
    int sig;
    if (!spec || !resolve(c, spec, &p, &group)) {
        return NULL;
    }
    if (!p) {
        free(group);
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

static struct xv *m_signal_process_group(struct call *c)
{
    if (!nparams(c, 2, 2)) {
        return NULL;
    }
    const char *spec = param_str(c, 0);
    int sig;
    if (!spec) {
        return NULL;
    }
    char *g, *n;
    split_namespec(spec, &g, &n);
    free(n);
    if (!group_exists(c->r->sv, g)) {
        free(g);
        return fail(c, FAULT_BAD_NAME, spec);
    }
    if (!param_signal(c, 1, &sig)) {
        free(g);
        return NULL;
    }
    size_t np;
    struct proc **procs = select_procs(c->r->sv, g, &np);
    struct xv *v = signal_many(procs, np, sig);
    free(procs);
    free(g);
    return v;
}

static struct xv *m_signal_all(struct call *c)
{
    int sig;
    if (!nparams(c, 1, 1) || !param_signal(c, 0, &sig)) {
        return NULL;
    }
    size_t np;
    struct proc **procs = select_procs(c->r->sv, NULL, &np);
    struct xv *v = signal_many(procs, np, sig);
    free(procs);
    return v;
}

/* ---- information ---- */

static struct xv *m_api_version(struct call *c)
{
    return nparams(c, 0, 0) ? xv_string(RPC_API_VERSION) : NULL;
}

static struct xv *m_supervisor_version(struct call *c)
{
    return nparams(c, 0, 0) ? xv_string(PACKAGE_VERSION) : NULL;
}

static struct xv *m_identification(struct call *c)
{
    const char *id = c->r->sv->cfg->global.identifier;
    return nparams(c, 0, 0) ? xv_string(id ? id : "tend") : NULL;
}

static struct xv *m_get_state(struct call *c)
{
    if (!nparams(c, 0, 0)) {
        return NULL;
    }
    bool down = c->r->sv->shutting_down;
    struct xv *st = xv_struct();
    xv_set(st, "statecode", xv_int(down ? -1 : 1));
    xv_set(st, "statename", xv_string(down ? "SHUTDOWN" : "RUNNING"));
    return st;
}

static struct xv *m_get_pid(struct call *c)
{
    return nparams(c, 0, 0) ? xv_int(getpid()) : NULL;
}

static struct xv *m_process_info(struct call *c)
{
    if (!nparams(c, 1, 1)) {
        return NULL;
    }
    const char *spec = param_str(c, 0);
    struct proc *p;
    char *group;
    if (!spec || !resolve(c, spec, &p, &group)) {
        return NULL;
    }
    if (!p) {
        free(group);
        return fail(c, FAULT_BAD_NAME, spec);
    }
    return proc_info_xv(p, ev_time());
}

static struct xv *m_all_process_info(struct call *c)
{
    if (!nparams(c, 0, 0)) {
        return NULL;
    }
    struct supervisor *sv = c->r->sv;
    size_t n;
    struct proc **procs = select_procs(sv, NULL, &n);
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

static struct xv *m_all_config_info(struct call *c)
{
    if (!nparams(c, 0, 0)) {
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
        xv_set(st, "inuse", xv_bool(group_exists(c->r->sv, pc->group)));
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

/* ---- logs ---- */

/* What a log read works on: the file, or (no log file) the ring buffer tend keeps. */
struct logsrc {
    int fd;
    char *mem;
    size_t size;
};

static int logsrc_open_path(const char *path, struct logsrc *s)
{
    *s = (struct logsrc){.fd = -1};
    if (!path) {
        return -1;
    }
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (s->fd < 0 || fstat(s->fd, &st) < 0) {
        if (s->fd >= 0) {
            close(s->fd);
        }
        s->fd = -1;
        return -1;
    }
    s->size = (size_t)st.st_size;
    return 0;
}

static int logsrc_open_proc(const struct proc *p, bool err, struct logsrc *s)
{
    const struct output_sink *sink = err ? p->err : p->out;
    const char *configured = err ? p->cfg->stderr_logfile : p->cfg->stdout_logfile;
    *s = (struct logsrc){.fd = -1};
    /* NONE: no log, as supervisord says; AUTO without a file: the ring tend keeps */
    if (!sink || (configured && strcasecmp(configured, "NONE") == 0)) {
        return -1;
    }
    if (output_sink_path(sink)) {
        return logsrc_open_path(output_sink_path(sink), s);
    }
    s->mem = output_sink_ring_copy(sink, &s->size);
    return 0;
}

static void logsrc_close(struct logsrc *s)
{
    if (s->fd >= 0) {
        close(s->fd);
    }
    free(s->mem);
}

static struct xv *logsrc_slice(struct logsrc *s, size_t off, size_t n)
{
    if (off > s->size) {
        off = s->size;
    }
    if (n > s->size - off) {
        n = s->size - off;
    }
    if (n > RPC_MAX_READ) {
        off += n - RPC_MAX_READ; /* the newest part of an oversized read */
        n = RPC_MAX_READ;
    }
    if (s->mem) {
        return xv_string_n(s->mem + off, n);
    }
    char *buf = xmalloc(n + 1);
    ssize_t got = n ? pread(s->fd, buf, n, (off_t)off) : 0;
    struct xv *v = xv_string_n(buf, got > 0 ? (size_t)got : 0);
    free(buf);
    return v;
}

/* supervisord's readFile(offset, length): a negative offset counts from the end (length 0). */
static struct xv *read_log(struct call *c, struct logsrc *s, int64_t offset, int64_t length)
{
    if (offset < 0) {
        if (length) {
            return fail(c, FAULT_BAD_ARGUMENTS, NULL);
        }
        uint64_t back = (uint64_t)(-offset);
        size_t pos = back > s->size ? 0 : s->size - (size_t)back;
        return logsrc_slice(s, pos, s->size - pos);
    }
    if (length < 0) {
        return fail(c, FAULT_BAD_ARGUMENTS, NULL);
    }
    size_t len = length == 0 ? s->size : (size_t)length;
    return logsrc_slice(s, (size_t)offset, len);
}

/* supervisord's tailFile(offset, length): [bytes, new offset, overflow]. */
static struct xv *tail_log(struct logsrc *s, int64_t offset, int64_t length)
{
    int64_t sz = (int64_t)s->size;
    bool overflow = false;
    if (sz > offset + length) {
        overflow = true;
        offset = sz - 1;
    }
    if (offset + length > sz) {
        if (offset > sz - 1) {
            length = 0;
        }
        offset = sz - length;
    }
    if (offset < 0) {
        offset = 0;
    }
    if (length < 0) {
        length = 0;
    }
    struct xv *arr = xv_array();
    xv_push(arr, length ? logsrc_slice(s, (size_t)offset, (size_t)length) : xv_string(""));
    xv_push(arr, xv_int(sz));
    xv_push(arr, xv_bool(overflow));
    return arr;
}

static struct xv *m_read_log(struct call *c)
{
    int64_t off, len;
    struct logsrc s;
    if (!nparams(c, 2, 2) || !param_int(c, 0, &off) || !param_int(c, 1, &len)) {
        return NULL;
    }
    if (logsrc_open_path(c->r->main_log, &s) < 0) {
        return fail(c, FAULT_NO_FILE, c->r->main_log ? c->r->main_log : "");
    }
    struct xv *v = read_log(c, &s, off, len);
    logsrc_close(&s);
    return v;
}

static struct xv *m_clear_log(struct call *c)
{
    if (!nparams(c, 0, 0)) {
        return NULL;
    }
    if (!c->r->main_log) {
        return fail(c, FAULT_NO_FILE, NULL);
    }
    if (truncate(c->r->main_log, 0) < 0) {
        return fail(c, FAULT_FAILED, strerror(errno));
    }
    return xv_bool(true);
}

static struct xv *proc_log_call(struct call *c, bool err, bool tail)
{
    if (!nparams(c, 3, 3)) {
        return NULL;
    }
    const char *spec = param_str(c, 0);
    int64_t off, len;
    struct proc *p;
    char *group;
    if (!spec || !param_int(c, 1, &off) || !param_int(c, 2, &len) ||
        !resolve(c, spec, &p, &group)) {
        return NULL;
    }
    if (!p) {
        free(group);
        return fail(c, FAULT_BAD_NAME, spec);
    }
    struct logsrc s;
    if (logsrc_open_proc(p, err, &s) < 0) {
        return fail(c, FAULT_NO_FILE, spec);
    }
    struct xv *v = tail ? tail_log(&s, off, len) : read_log(c, &s, off, len);
    logsrc_close(&s);
    return v;
}

static struct xv *m_read_stdout(struct call *c)
{
    return proc_log_call(c, false, false);
}

static struct xv *m_read_stderr(struct call *c)
{
    return proc_log_call(c, true, false);
}

static struct xv *m_tail_stdout(struct call *c)
{
    return proc_log_call(c, false, true);
}

static struct xv *m_tail_stderr(struct call *c)
{
    return proc_log_call(c, true, true);
}

/* Truncates both log files; the sinks write with O_APPEND, so they go on at the start. */
static int clear_proc_logs(struct proc *p, char **text)
{
    struct output_sink *sinks[] = {p->out, p->err};
    for (size_t i = 0; i < ARRAY_SIZE(sinks); i++) {
        const char *path = sinks[i] ? output_sink_path(sinks[i]) : NULL;
        if (path && truncate(path, 0) < 0 && errno != ENOENT) {
            *text = fault_text(FAULT_FAILED, strerror(errno));
            return FAULT_FAILED;
        }
        if (path) {
            output_sink_reopen(sinks[i]);
        }
    }
    return 0;
}

static struct xv *m_clear_process_logs(struct call *c)
{
    if (!nparams(c, 1, 1)) {
        return NULL;
    }
    const char *spec = param_str(c, 0);
    struct proc *p;
    char *group;
    if (!spec || !resolve(c, spec, &p, &group)) {
        return NULL;
    }
    if (!p) {
        free(group);
        return fail(c, FAULT_BAD_NAME, spec);
    }
    char *text = NULL;
    int code = clear_proc_logs(p, &text);
    if (code) {
        c->fault = code;
        c->fault_text = text;
        return NULL;
    }
    return xv_bool(true);
}

static struct xv *m_clear_all_process_logs(struct call *c)
{
    if (!nparams(c, 0, 0)) {
        return NULL;
    }
    size_t n;
    struct proc **procs = select_procs(c->r->sv, NULL, &n);
    struct xv *arr = xv_array();
    for (size_t i = 0; i < n; i++) {
        char *text = NULL;
        int code = clear_proc_logs(procs[i], &text);
        xv_push(arr, result_struct(procs[i], code ? code : FAULT_SUCCESS, text));
        free(text);
    }
    free(procs);
    return arr;
}

static struct xv *m_send_stdin(struct call *c)
{
    if (!nparams(c, 2, 2)) {
        return NULL;
    }
    const char *spec = param_str(c, 0);
    const char *chars = param_str(c, 1);
    struct proc *p;
    char *group;
    if (!spec || !chars || !resolve(c, spec, &p, &group)) {
        return NULL;
    }
    if (!p) {
        free(group);
        return fail(c, FAULT_BAD_NAME, spec);
    }
    if (!proc_is_alive(p)) {
        return fail(c, FAULT_NOT_RUNNING, spec);
    }
    char *err = NULL;
    if (proc_send(p, chars, c->params->items[1]->len, false, &err) < 0) {
        fail(c, FAULT_NO_FILE, err);
        free(err);
        return NULL;
    }
    return xv_bool(true);
}

/* ---- the supervisor itself ---- */

static struct xv *m_shutdown(struct call *c)
{
    if (!nparams(c, 0, 0)) {
        return NULL;
    }
    if (!c->r->hooks.down) {
        return fail(c, FAULT_FAILED, "not available");
    }
    /* begins once this answer is sent (rpc_response_sent) */
    c->r->down_requested = true;
    return xv_bool(true);
}

void rpc_response_sent(struct rpc *r)
{
    if (r->down_requested) {
        r->down_requested = false;
        r->hooks.down(r->hooks.arg);
    }
}

/* Group names by what a reload would do: a group only in the file is added, one only in tend
 * is removed, one in both with any process added, changed or removed is changed. */
struct group_diff {
    struct strv added, changed, removed;
};

static void group_diff_free(struct group_diff *d)
{
    strv_free(&d->added);
    strv_free(&d->changed);
    strv_free(&d->removed);
}

static bool config_has_group(const struct config *cfg, const char *g)
{
    for (size_t i = 0; i < cfg->nprocs; i++) {
        if (strcmp(cfg->procs[i]->group, g) == 0) {
            return true;
        }
    }
    return false;
}

static const char *config_group_of(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nprocs; i++) {
        if (strcmp(cfg->procs[i]->name, name) == 0) {
            return cfg->procs[i]->group;
        }
    }
    return NULL;
}

static void diff_add(struct strv *v, const char *g)
{
    if (g && !strv_contains(v, g)) {
        strv_push(v, g);
    }
}

/* Reads the file (twice: one copy is kept for getAllConfigInfo, one is used up by the dry
 * run) and sorts the plan's lines into groups. false with a CANT_REREAD fault. */
static bool diff_groups(struct call *c, struct group_diff *d)
{
    struct rpc *r = c->r;
    struct diag dg;
    diag_init(&dg);
    struct config *keep = config_load(r->config_path, &dg);
    struct config *dry = keep ? config_load(r->config_path, &dg) : NULL;
    if (!dry) {
        fail(c, FAULT_CANT_REREAD, dg.errors.n ? dg.errors.v[0] : r->config_path);
        diag_free(&dg);
        config_free(keep);
        return false;
    }
    diag_free(&dg);
    *d = (struct group_diff){0};
    strv_init(&d->added);
    strv_init(&d->changed);
    strv_init(&d->removed);
    struct strbuf plan;
    strbuf_init(&plan);
    supervisor_reload(r->sv, dry, true, &plan);
    for (char *save = NULL, *line = strtok_r(plan.buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char kind = line[0];
        if ((kind != '+' && kind != '-' && kind != '~') || line[1] != ' ') {
            continue;
        }
        char *name = line + 2, *end = strstr(name, ": ");
        if (!end) {
            continue;
        }
        *end = '\0';
        if (kind == '+') {
            const char *g = config_group_of(keep, name);
            diff_add(g && group_exists(r->sv, g) ? &d->changed : &d->added, g);
        } else if (kind == '-') {
            struct proc *p = supervisor_find(r->sv, name);
            const char *g = p ? p->cfg->group : NULL;
            diff_add(g && config_has_group(keep, g) ? &d->changed : &d->removed, g);
        } else {
            diff_add(&d->changed, config_group_of(keep, name));
        }
    }
    strbuf_free(&plan);
    config_free(r->reread);
    r->reread = keep;
    return true;
}

static struct xv *strv_xv(const struct strv *v)
{
    struct xv *arr = xv_array();
    for (size_t i = 0; i < v->n; i++) {
        xv_push(arr, xv_string(v->v[i]));
    }
    return arr;
}

static struct xv *m_reload_config(struct call *c)
{
    if (!nparams(c, 0, 0)) {
        return NULL;
    }
    struct group_diff d;
    if (!diff_groups(c, &d)) {
        return NULL;
    }
    strv_free(&c->r->readd);
    struct xv *inner = xv_array();
    xv_push(inner, strv_xv(&d.added));
    xv_push(inner, strv_xv(&d.changed));
    xv_push(inner, strv_xv(&d.removed));
    group_diff_free(&d);
    return xv_push(xv_array(), inner);
}

/* Applies the whole file (tend reloads a configuration at once); the groups it added or
 * changed are remembered, so the addProcessGroup calls of `supervisorctl update` that follow
 * find their work done. */
static bool apply_reload(struct call *c, const struct group_diff *d)
{
    struct strbuf out, err;
    strbuf_init(&out);
    strbuf_init(&err);
    int rc = c->r->hooks.reload ? c->r->hooks.reload(c->r->hooks.arg, false, &out, &err) : 1;
    if (rc != 0) {
        fail(c, FAULT_FAILED, err.buf ? err.buf : "reload failed");
    } else {
        strv_free(&c->r->readd);
        for (size_t i = 0; i < d->added.n; i++) {
            strv_push(&c->r->readd, d->added.v[i]);
        }
        for (size_t i = 0; i < d->changed.n; i++) {
            strv_push(&c->r->readd, d->changed.v[i]);
        }
    }
    strbuf_free(&out);
    strbuf_free(&err);
    return rc == 0;
}

static bool strv_remove(struct strv *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++) {
        if (strcmp(v->v[i], s) == 0) {
            free(v->v[i]);
            memmove(&v->v[i], &v->v[i + 1], (v->n - i) * sizeof(*v->v));
            v->n--;
            return true;
        }
    }
    return false;
}

static struct xv *m_add_group(struct call *c)
{
    const char *g;
    if (!nparams(c, 1, 1) || !(g = param_str(c, 0))) {
        return NULL;
    }
    if (strv_remove(&c->r->readd, g)) {
        /* applied already; like supervisord's addProcessGroup, start what autostarts */
        size_t n;
        struct proc **procs = select_procs(c->r->sv, g, &n);
        for (size_t i = 0; i < n; i++) {
            if (procs[i]->cfg->autostart && !proc_is_alive(procs[i]) &&
                !is_running_state(procs[i]->state)) {
                proc_start(procs[i]);
            }
        }
        free(procs);
        return xv_bool(true);
    }
    struct group_diff d;
    if (!diff_groups(c, &d)) {
        return NULL;
    }
    struct xv *v = NULL;
    if (strv_contains(&d.added, g) || strv_contains(&d.changed, g)) {
        if (apply_reload(c, &d)) {
            strv_remove(&c->r->readd, g);
            v = xv_bool(true);
        }
    } else if (group_exists(c->r->sv, g)) {
        fail(c, FAULT_ALREADY_ADDED, g);
    } else {
        fail(c, FAULT_BAD_NAME, g);
    }
    group_diff_free(&d);
    return v;
}

static struct xv *m_remove_group(struct call *c)
{
    const char *g;
    if (!nparams(c, 1, 1) || !(g = param_str(c, 0))) {
        return NULL;
    }
    if (strv_contains(&c->r->readd, g)) {
        return xv_bool(true); /* a changed group: the reload that changed it is applied */
    }
    if (!group_exists(c->r->sv, g)) {
        return fail(c, FAULT_BAD_NAME, g);
    }
    size_t n;
    struct proc **procs = select_procs(c->r->sv, g, &n);
    bool alive = false;
    for (size_t i = 0; i < n; i++) {
        alive |= proc_is_alive(procs[i]) || is_running_state(procs[i]->state);
    }
    free(procs);
    if (alive) {
        return fail(c, FAULT_STILL_RUNNING, g);
    }
    struct group_diff d;
    if (!diff_groups(c, &d)) {
        return NULL;
    }
    struct xv *v = NULL;
    if (strv_contains(&d.removed, g) || strv_contains(&d.changed, g)) {
        if (apply_reload(c, &d)) {
            v = xv_bool(true);
        }
    } else {
        fail(c, FAULT_FAILED, "tend removes a group only when the configuration file no longer "
                              "has it or changed it");
    }
    group_diff_free(&d);
    return v;
}

/* supervisord re-executes itself; tend applies the file again and restarts every program
 * that was running (and starts the autostart ones). */
static struct xv *m_restart(struct call *c)
{
    if (!nparams(c, 0, 0)) {
        return NULL;
    }
    struct group_diff d = {0};
    if (!diff_groups(c, &d) || !apply_reload(c, &d)) {
        if (c->fault == 0) {
            fail(c, FAULT_FAILED, NULL);
        }
        if (d.added.v || d.changed.v || d.removed.v) {
            group_diff_free(&d);
        }
        return NULL;
    }
    group_diff_free(&d);
    strv_free(&c->r->readd);
    struct supervisor *sv = c->r->sv;
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
        if (proc_is_alive(p)) {
            proc_restart(p);
        } else if (p->cfg->autostart) {
            proc_start(p);
        }
    }
    return xv_bool(true);
}

/* ---- the method table and system.* ---- */

typedef struct xv *(*method_fn)(struct call *c);

struct method {
    const char *name;
    method_fn fn;
    const char *signature; /* return type, then the parameters' */
    const char *help;
};

static struct xv *m_list_methods(struct call *c);
static struct xv *m_method_help(struct call *c);
static struct xv *m_method_signature(struct call *c);
static struct xv *m_multicall(struct call *c);

static const struct method methods[] = {
    {"supervisor.getAPIVersion", m_api_version, "string", "The API version: 3.0."},
    {"supervisor.getVersion", m_api_version, "string", "Deprecated alias of getAPIVersion."},
    {"supervisor.getSupervisorVersion", m_supervisor_version, "string", "tend's version."},
    {"supervisor.getIdentification", m_identification, "string", "[tend] identifier."},
    {"supervisor.getState", m_get_state, "struct", "{statecode, statename}: RUNNING or SHUTDOWN."},
    {"supervisor.getPID", m_get_pid, "int", "tend's pid."},
    {"supervisor.readLog", m_read_log, "string,int,int", "Bytes of tend's log file."},
    {"supervisor.readMainLog", m_read_log, "string,int,int", "Alias of readLog."},
    {"supervisor.clearLog", m_clear_log, "boolean", "Truncates tend's log file."},
    {"supervisor.shutdown", m_shutdown, "boolean", "Stops every program, then tend exits."},
    {"supervisor.restart", m_restart, "boolean",
     "Applies the configuration file and restarts every program."},
    {"supervisor.reloadConfig", m_reload_config, "array",
     "Reads the file: [[added, changed, removed]] group names; nothing is applied."},
    {"supervisor.addProcessGroup", m_add_group, "boolean,string",
     "Applies the file when it adds or changes the group."},
    {"supervisor.removeProcessGroup", m_remove_group, "boolean,string",
     "Applies the file when it removes or changes the (stopped) group."},
    {"supervisor.getProcessInfo", m_process_info, "struct,string", "One process's info."},
    {"supervisor.getAllProcessInfo", m_all_process_info, "array", "Every process's info."},
    {"supervisor.getAllConfigInfo", m_all_config_info, "array",
     "Every configured process, as last read."},
    {"supervisor.startProcess", m_start_process, "boolean,string,boolean",
     "Starts a process; with wait (default) answers once it is RUNNING."},
    {"supervisor.startProcessGroup", m_start_process_group, "array,string,boolean",
     "Starts a group's processes."},
    {"supervisor.startAllProcesses", m_start_all, "array,boolean", "Starts every process."},
    {"supervisor.stopProcess", m_stop_process, "boolean,string,boolean",
     "Stops a process; with wait (default) answers once it has stopped."},
    {"supervisor.stopProcessGroup", m_stop_process_group, "array,string,boolean",
     "Stops a group's processes."},
    {"supervisor.stopAllProcesses", m_stop_all, "array,boolean", "Stops every process."},
    {"supervisor.signalProcess", m_signal_process, "boolean,string,string",
     "Sends a signal (name or number) to a process."},
    {"supervisor.signalProcessGroup", m_signal_process_group, "array,string,string",
     "Sends a signal to a group's running processes."},
    {"supervisor.signalAllProcesses", m_signal_all, "array,string",
     "Sends a signal to every running process."},
    {"supervisor.sendProcessStdin", m_send_stdin, "boolean,string,string",
     "Writes to a process's stdin (needs stdin = pipe)."},
    {"supervisor.readProcessStdoutLog", m_read_stdout, "string,string,int,int",
     "Bytes of a process's stdout log."},
    {"supervisor.readProcessLog", m_read_stdout, "string,string,int,int",
     "Alias of readProcessStdoutLog."},
    {"supervisor.readProcessStderrLog", m_read_stderr, "string,string,int,int",
     "Bytes of a process's stderr log."},
    {"supervisor.tailProcessStdoutLog", m_tail_stdout, "array,string,int,int",
     "[bytes, offset, overflow] of a process's stdout log."},
    {"supervisor.tailProcessLog", m_tail_stdout, "array,string,int,int",
     "Alias of tailProcessStdoutLog."},
    {"supervisor.tailProcessStderrLog", m_tail_stderr, "array,string,int,int",
     "[bytes, offset, overflow] of a process's stderr log."},
    {"supervisor.clearProcessLogs", m_clear_process_logs, "boolean,string",
     "Truncates a process's log files."},
    {"supervisor.clearProcessLog", m_clear_process_logs, "boolean,string",
     "Alias of clearProcessLogs."},
    {"supervisor.clearAllProcessLogs", m_clear_all_process_logs, "array",
     "Truncates every process's log files."},
    {"system.listMethods", m_list_methods, "array", "Every method's name."},
    {"system.methodHelp", m_method_help, "string,string", "A method's help."},
    {"system.methodSignature", m_method_signature, "array,string", "A method's signature."},
    {"system.multicall", m_multicall, "array,array",
     "Several calls in one; starts and stops in it do not wait."},
};

static const struct method *find_method(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
        if (strcmp(methods[i].name, name) == 0) {
            return &methods[i];
        }
    }
    return NULL;
}

static int method_name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static struct xv *m_list_methods(struct call *c)
{
    if (!nparams(c, 0, 0)) {
        return NULL;
    }
    const char *names[ARRAY_SIZE(methods)];
    for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
        names[i] = methods[i].name;
    }
    qsort(names, ARRAY_SIZE(names), sizeof(names[0]), method_name_cmp);
    struct xv *arr = xv_array();
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        xv_push(arr, xv_string(names[i]));
    }
    return arr;
}

static const struct method *param_method(struct call *c)
{
    const char *name;
    if (!nparams(c, 1, 1) || !(name = param_str(c, 0))) {
        return NULL;
    }
    const struct method *m = find_method(name);
    if (!m) {
        fail(c, FAULT_SIGNATURE_UNSUPPORTED, NULL);
    }
    return m;
}

static struct xv *m_method_help(struct call *c)
{
    const struct method *m = param_method(c);
    return m ? xv_string(m->help) : NULL;
}

static struct xv *m_method_signature(struct call *c)
{
    const struct method *m = param_method(c);
    if (!m) {
        return NULL;
    }
    struct xv *sig = xv_array();
    char *copy = xstrdup(m->signature);
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        xv_push(sig, xv_string(t));
    }
    free(copy);
    return xv_push(xv_array(), sig);
}

/* Runs one method; NULL with c->fault (or c->pending) set when there is no value now. */
static struct xv *run_method(struct call *c, const char *name)
{
    const struct method *m = find_method(name);
    if (!m) {
        return fail(c, FAULT_UNKNOWN_METHOD, NULL);
    }
    /* as supervisord: once shutting down, the supervisor.* methods answer SHUTDOWN_STATE */
    if (c->r->sv->shutting_down && strncmp(name, "supervisor.", 11) == 0 &&
        m->fn != m_get_state && m->fn != m_get_pid && m->fn != m_api_version) {
        return fail(c, FAULT_SHUTDOWN_STATE, NULL);
    }
    return m->fn(c);
}

static struct xv *m_multicall(struct call *c)
{
    const struct xv *calls = c->params->n == 1 ? c->params->items[0] : NULL;
    if (!calls || calls->type != XV_ARRAY) {
        return fail(c, FAULT_INCORRECT_PARAMETERS, NULL);
    }
    struct xv *results = xv_array();
    for (size_t i = 0; i < calls->n; i++) {
        const struct xv *one = calls->items[i];
        const struct xv *name = xv_get(one, "methodName");
        const struct xv *params = xv_get(one, "params");
        struct xv empty = {.type = XV_ARRAY};
        struct call sub = {.r = c->r, .params = params ? params : &empty, .no_wait = true};
        struct xv *v = NULL;
        if (!name || name->type != XV_STRING || (params && params->type != XV_ARRAY)) {
            fail(&sub, FAULT_INCORRECT_PARAMETERS, NULL);
        } else if (strcmp(name->s, "system.multicall") == 0) {
            fail(&sub, FAULT_INCORRECT_PARAMETERS, "recursive system.multicall");
        } else {
            v = run_method(&sub, name->s);
        }
        if (v) {
            xv_push(results, xv_push(xv_array(), v));
        } else {
            struct xv *f = xv_struct();
            xv_set(f, "faultCode", xv_int(sub.fault ? sub.fault : FAULT_FAILED));
            xv_set(f, "faultString", xv_string(sub.fault_text ? sub.fault_text : "FAILED"));
            xv_push(results, f);
        }
        free(sub.fault_text);
    }
    return results;
}

/* ---- entry points ---- */

char *rpc_handle(struct rpc *r, const char *body, size_t blen, size_t *len, rpc_done_fn done,
                 void *arg, struct rpc_pending **pending)
{
    struct strbuf out;
    strbuf_init(&out);
    *pending = NULL;
    struct xmlrpc_call xc;
    char *err = NULL;
    if (xmlrpc_parse_call(body, blen, &xc, &err) < 0) {
        char *text = fault_text(RPC_PARSE_ERROR, err);
        xmlrpc_write_fault(&out, RPC_PARSE_ERROR, text);
        free(text);
        free(err);
        *len = out.len;
        return strbuf_detach(&out);
    }
    struct call c = {.r = r, .params = xc.params};
    struct xv *v = run_method(&c, xc.method);
    if (!v && c.pending) {
        c.pending->done = done;
        c.pending->arg = arg;
        c.pending->next = r->pending;
        if (r->pending) {
            r->pending->prev = c.pending;
        }
        r->pending = c.pending;
        *pending = c.pending;
        xmlrpc_call_free(&xc);
        strbuf_free(&out);
        return NULL;
    }
    if (v) {
        xmlrpc_write_response(&out, v);
        xv_free(v);
    } else {
        xmlrpc_write_fault(&out, c.fault ? c.fault : FAULT_FAILED,
                           c.fault_text ? c.fault_text : "FAILED");
    }
    free(c.fault_text);
    xmlrpc_call_free(&xc);
    *len = out.len;
    return strbuf_detach(&out);
}

struct rpc *rpc_new(struct supervisor *sv, const char *config_path, const char *main_log,
                    const struct rpc_hooks *h)
{
    struct rpc *r = xcalloc(1, sizeof(*r));
    r->sv = sv;
    r->config_path = xstrdup(config_path);
    r->main_log = main_log ? xstrdup(main_log) : NULL;
    r->hooks = *h;
    strv_init(&r->readd);
    return r;
}

void rpc_free(struct rpc *r)
{
    if (!r) {
        return;
    }
    while (r->pending) {
        struct rpc_pending *pd = r->pending;
        pending_unlink(r, pd);
        pending_free(pd);
    }
    config_free(r->reread);
    strv_free(&r->readd);
    free(r->config_path);
    free(r->main_log);
    free(r);
}
