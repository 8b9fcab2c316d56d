/* rpc.c - supervisord's XML-RPC interface (supervisor.* and system.*) over tend's supervisor.
 * Wire behaviour follows supervisor 4.2's rpcinterface.py: struct keys, state codes, the
 * description strings, fault codes and texts ("BAD_NAME: foo"), and startProcess/stopProcess
 * answering only once the process is RUNNING or stopped (without polling: the supervisor's
 * state changes complete the waiting requests). */
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
char *rpc_fault_text(int code, const char *extra)
{
    return extra && *extra ? xasprintf("%s: %s", fault_name(code), extra)
                           : xstrdup(fault_name(code));
}

struct xv *rpc_fail(struct call *c, int code, const char *extra)
{
    if (!c->fault) {
        c->fault = code;
        c->fault_text = rpc_fault_text(code, extra);
    }
    return NULL;
}

/* ---- parameters ---- */

bool rpc_nparams(struct call *c, size_t min, size_t max)
{
    if (c->params->n < min || c->params->n > max) {
        rpc_fail(c, FAULT_INCORRECT_PARAMETERS, NULL);
        return false;
    }
    return true;
}

const char *rpc_param_str(struct call *c, size_t i)
{
    const struct xv *v = i < c->params->n ? c->params->items[i] : NULL;
    if (!v || v->type != XV_STRING) {
        rpc_fail(c, FAULT_INCORRECT_PARAMETERS, NULL);
        return NULL;
    }
    return v->s;
}

bool rpc_param_int(struct call *c, size_t i, int64_t *out)
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
    rpc_fail(c, FAULT_INCORRECT_PARAMETERS, NULL);
    return false;
}

/* An optional wait flag (supervisorctl sends none: it means true). */
bool rpc_param_wait(struct call *c, size_t i)
{
    if (c->no_wait) {
        return false;
    }
    const struct xv *v = i < c->params->n ? c->params->items[i] : NULL;
    return !v || ((v->type == XV_BOOL || v->type == XV_INT) ? v->i != 0 : true);
}

/* ---- names ---- */

/* "group:name", "group:*" (name NULL) or "name" (group and name alike), as supervisord. */
void rpc_split_namespec(const char *spec, char **group, char **name)
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

bool rpc_group_exists(const struct supervisor *sv, const char *group)
{
    for (size_t i = 0; i < sv->nprocs; i++) {
        if (strcmp(sv->procs[i]->cfg->group, group) == 0) {
            return true;
        }
    }
    return false;
}

char *rpc_namespec(const struct proc *p)
{
    return strcmp(p->cfg->group, p->cfg->name) == 0
               ? xstrdup(p->cfg->name)
               : xasprintf("%s:%s", p->cfg->group, p->cfg->name);
}

/* Finds one process, or (*p NULL) names a whole group; false after a BAD_NAME fault.
 * A bare name that is no group is looked up as a process name too: tend's names are unique. */
static bool rpc_resolve(struct call *c, const char *spec, struct proc **p)
{
    struct supervisor *sv = c->r->sv;
    char *g, *n;
    rpc_split_namespec(spec, &g, &n);
    *p = NULL;
    bool ok = false;
    if (!n) {
        ok = rpc_group_exists(sv, g);
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
        rpc_fail(c, FAULT_BAD_NAME, spec);
    }
    return ok;
}

/* Parameter i names a process (*p) or a group (*p NULL); false after a fault. *spec gets the
 * name as given, for the faults that follow. */
bool rpc_param_target(struct call *c, size_t i, const char **spec, struct proc **p)
{
    *spec = rpc_param_str(c, i);
    return *spec && rpc_resolve(c, *spec, p);
}

/* Parameter i names one process; a group, an unknown name or a missing parameter is a fault
 * (NULL). */
struct proc *rpc_param_proc(struct call *c, size_t i, const char **spec)
{
    struct proc *p;
    if (!rpc_param_target(c, i, spec, &p)) {
        return NULL;
    }
    if (!p) {
        rpc_fail(c, FAULT_BAD_NAME, *spec);
    }
    return p;
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
    if (!rpc_nparams(c, 0, 0)) {
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
    if (!rpc_nparams(c, 1, 1) || !(name = rpc_param_str(c, 0))) {
        return NULL;
    }
    const struct method *m = find_method(name);
    if (!m) {
        rpc_fail(c, FAULT_SIGNATURE_UNSUPPORTED, NULL);
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
        return rpc_fail(c, FAULT_UNKNOWN_METHOD, NULL);
    }
    /* as supervisord: once shutting down, the supervisor.* methods answer SHUTDOWN_STATE */
    if (c->r->sv->shutting_down && strncmp(name, "supervisor.", 11) == 0 &&
        m->fn != m_get_state && m->fn != m_get_pid && m->fn != m_api_version) {
        return rpc_fail(c, FAULT_SHUTDOWN_STATE, NULL);
    }
    return m->fn(c);
}

static struct xv *m_multicall(struct call *c)
{
    const struct xv *calls = c->params->n == 1 ? c->params->items[0] : NULL;
    if (!calls || calls->type != XV_ARRAY) {
        return rpc_fail(c, FAULT_INCORRECT_PARAMETERS, NULL);
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
            rpc_fail(&sub, FAULT_INCORRECT_PARAMETERS, NULL);
        } else if (strcmp(name->s, "system.multicall") == 0) {
            rpc_fail(&sub, FAULT_INCORRECT_PARAMETERS, "recursive system.multicall");
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
        char *text = rpc_fault_text(RPC_PARSE_ERROR, err);
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
        rpc_pending_unlink(r, pd);
        rpc_pending_free(pd);
    }
    config_free(r->reread);
    strv_free(&r->readd);
    free(r->config_path);
    free(r->main_log);
    free(r);
}
