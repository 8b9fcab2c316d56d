/* rpc_admin.c - supervisord's log methods (tend's log, a process's stdout/stderr logs or ring
 * buffers), sendProcessStdin, shutdown, reloadConfig, add/removeProcessGroup and restart.
 * Calls supervise's public functions, config, log and values. */
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
            return rpc_fail(c, FAULT_BAD_ARGUMENTS, NULL);
        }
        uint64_t back = (uint64_t)(-offset);
        size_t pos = back > s->size ? 0 : s->size - (size_t)back;
        return logsrc_slice(s, pos, s->size - pos);
    }
    if (length < 0) {
        return rpc_fail(c, FAULT_BAD_ARGUMENTS, NULL);
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

struct xv *m_read_log(struct call *c)
{
    int64_t off, len;
    struct logsrc s;
    if (!rpc_nparams(c, 2, 2) || !rpc_param_int(c, 0, &off) || !rpc_param_int(c, 1, &len)) {
        return NULL;
    }
    if (logsrc_open_path(c->r->main_log, &s) < 0) {
        return rpc_fail(c, FAULT_NO_FILE, c->r->main_log ? c->r->main_log : "");
    }
    struct xv *v = read_log(c, &s, off, len);
    logsrc_close(&s);
    return v;
}

struct xv *m_clear_log(struct call *c)
{
    if (!rpc_nparams(c, 0, 0)) {
        return NULL;
    }
    if (!c->r->main_log) {
        return rpc_fail(c, FAULT_NO_FILE, NULL);
    }
    if (truncate(c->r->main_log, 0) < 0) {
        return rpc_fail(c, FAULT_FAILED, strerror(errno));
    }
    return xv_bool(true);
}

static struct xv *proc_log_call(struct call *c, bool err, bool tail)
{
    if (!rpc_nparams(c, 3, 3)) {
        return NULL;
    }
    int64_t off, len;
    const char *spec;
    struct proc *p;
    if (!rpc_param_str(c, 0) || !rpc_param_int(c, 1, &off) || !rpc_param_int(c, 2, &len) ||
        !(p = rpc_param_proc(c, 0, &spec))) {
        return NULL;
    }
    struct logsrc s;
    if (logsrc_open_proc(p, err, &s) < 0) {
        return rpc_fail(c, FAULT_NO_FILE, spec);
    }
    struct xv *v = tail ? tail_log(&s, off, len) : read_log(c, &s, off, len);
    logsrc_close(&s);
    return v;
}

struct xv *m_read_stdout(struct call *c)
{
    return proc_log_call(c, false, false);
}

struct xv *m_read_stderr(struct call *c)
{
    return proc_log_call(c, true, false);
}

struct xv *m_tail_stdout(struct call *c)
{
    return proc_log_call(c, false, true);
}

struct xv *m_tail_stderr(struct call *c)
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
            *text = rpc_fault_text(FAULT_FAILED, strerror(errno));
            return FAULT_FAILED;
        }
        if (path) {
            output_sink_reopen(sinks[i]);
        }
    }
    return 0;
}

struct xv *m_clear_process_logs(struct call *c)
{
    if (!rpc_nparams(c, 1, 1)) {
        return NULL;
    }
    const char *spec;
    struct proc *p = rpc_param_proc(c, 0, &spec);
    if (!p) {
        return NULL;
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

struct xv *m_clear_all_process_logs(struct call *c)
{
    if (!rpc_nparams(c, 0, 0)) {
        return NULL;
    }
    size_t n;
    struct proc **procs = rpc_select_procs(c->r->sv, NULL, &n);
    struct xv *arr = xv_array();
    for (size_t i = 0; i < n; i++) {
        char *text = NULL;
        int code = clear_proc_logs(procs[i], &text);
        xv_push(arr, rpc_result_struct(procs[i], code ? code : FAULT_SUCCESS, text));
        free(text);
    }
    free(procs);
    return arr;
}

struct xv *m_send_stdin(struct call *c)
{
    if (!rpc_nparams(c, 2, 2)) {
        return NULL;
    }
    const char *spec;
    struct proc *p;
    const char *chars;
    if (!rpc_param_str(c, 0) || !(chars = rpc_param_str(c, 1)) ||
        !(p = rpc_param_proc(c, 0, &spec))) {
        return NULL;
    }
    if (!proc_is_alive(p)) {
        return rpc_fail(c, FAULT_NOT_RUNNING, spec);
    }
    char *err = NULL;
    if (proc_send(p, chars, c->params->items[1]->len, false, &err) < 0) {
        rpc_fail(c, FAULT_NO_FILE, err);
        free(err);
        return NULL;
    }
    return xv_bool(true);
}

/* ---- the supervisor itself ---- */

struct xv *m_shutdown(struct call *c)
{
    if (!rpc_nparams(c, 0, 0)) {
        return NULL;
    }
    if (!c->r->hooks.down) {
        return rpc_fail(c, FAULT_FAILED, "not available");
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
        rpc_fail(c, FAULT_CANT_REREAD, dg.errors.n ? dg.errors.v[0] : r->config_path);
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
            diff_add(g && rpc_group_exists(r->sv, g) ? &d->changed : &d->added, g);
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

struct xv *m_reload_config(struct call *c)
{
    if (!rpc_nparams(c, 0, 0)) {
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
        rpc_fail(c, FAULT_FAILED, err.buf ? err.buf : "reload failed");
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

struct xv *m_add_group(struct call *c)
{
    const char *g;
    if (!rpc_nparams(c, 1, 1) || !(g = rpc_param_str(c, 0))) {
        return NULL;
    }
    if (strv_remove(&c->r->readd, g)) {
        /* applied already; like supervisord's addProcessGroup, start what autostarts */
        size_t n;
        struct proc **procs = rpc_select_procs(c->r->sv, g, &n);
        for (size_t i = 0; i < n; i++) {
            if (procs[i]->cfg->autostart && !proc_is_alive(procs[i]) &&
                !rpc_is_running_state(procs[i]->state)) {
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
    } else if (rpc_group_exists(c->r->sv, g)) {
        rpc_fail(c, FAULT_ALREADY_ADDED, g);
    } else {
        rpc_fail(c, FAULT_BAD_NAME, g);
    }
    group_diff_free(&d);
    return v;
}

struct xv *m_remove_group(struct call *c)
{
    const char *g;
    if (!rpc_nparams(c, 1, 1) || !(g = rpc_param_str(c, 0))) {
        return NULL;
    }
    if (strv_contains(&c->r->readd, g)) {
        return xv_bool(true); /* a changed group: the reload that changed it is applied */
    }
    if (!rpc_group_exists(c->r->sv, g)) {
        return rpc_fail(c, FAULT_BAD_NAME, g);
    }
    size_t n;
    struct proc **procs = rpc_select_procs(c->r->sv, g, &n);
    bool alive = false;
    for (size_t i = 0; i < n; i++) {
        alive |= proc_is_alive(procs[i]) || rpc_is_running_state(procs[i]->state);
    }
    free(procs);
    if (alive) {
        return rpc_fail(c, FAULT_STILL_RUNNING, g);
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
        rpc_fail(c, FAULT_FAILED, "tend removes a group only when the configuration file no longer "
                              "has it or changed it");
    }
    group_diff_free(&d);
    return v;
}

/* supervisord re-executes itself; tend applies the file again and restarts every program
 * that was running (and starts the autostart ones). */
struct xv *m_restart(struct call *c)
{
    if (!rpc_nparams(c, 0, 0)) {
        return NULL;
    }
    struct group_diff d = {0};
    if (!diff_groups(c, &d) || !apply_reload(c, &d)) {
        if (c->fault == 0) {
            rpc_fail(c, FAULT_FAILED, NULL);
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

