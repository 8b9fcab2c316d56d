/* rpc_int.h - what the files of the XML-RPC interface share: rpc.c (faults, parameters,
 * names, the method table, system.*, the entry points), rpc_procs.c (process info, waiting for
 * starts and stops, start/stop/signal, the information methods) and rpc_admin.c (logs, stdin,
 * shutdown, reload, groups, restart). Not for other modules: they use rpc.h. */
#ifndef TEND_RPC_INT_H
#define TEND_RPC_INT_H

#include "rpc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* ---- rpc.c: faults, parameters, names ---- */

char *rpc_fault_text(int code, const char *extra);
struct xv *rpc_fail(struct call *c, int code, const char *extra);
bool rpc_nparams(struct call *c, size_t min, size_t max);
const char *rpc_param_str(struct call *c, size_t i);
bool rpc_param_int(struct call *c, size_t i, int64_t *out);
bool rpc_param_wait(struct call *c, size_t i);
void rpc_split_namespec(const char *spec, char **group, char **name);
bool rpc_group_exists(const struct supervisor *sv, const char *group);
char *rpc_namespec(const struct proc *p);
bool rpc_param_target(struct call *c, size_t i, const char **spec, struct proc **p);
struct proc *rpc_param_proc(struct call *c, size_t i, const char **spec);

/* ---- rpc_procs.c ---- */

bool rpc_is_running_state(enum proc_state s);
struct proc **rpc_select_procs(struct supervisor *sv, const char *group, size_t *n);
struct xv *rpc_result_struct(const struct proc *p, int code, const char *text);
void rpc_pending_free(struct rpc_pending *pd);
void rpc_pending_unlink(struct rpc *r, struct rpc_pending *pd);
struct xv *m_start_process(struct call *c);
struct xv *m_start_process_group(struct call *c);
struct xv *m_start_all(struct call *c);
struct xv *m_stop_process(struct call *c);
struct xv *m_stop_process_group(struct call *c);
struct xv *m_stop_all(struct call *c);
struct xv *m_signal_process(struct call *c);
struct xv *m_signal_process_group(struct call *c);
struct xv *m_signal_all(struct call *c);
struct xv *m_api_version(struct call *c);
struct xv *m_supervisor_version(struct call *c);
struct xv *m_identification(struct call *c);
struct xv *m_get_state(struct call *c);
struct xv *m_get_pid(struct call *c);
struct xv *m_process_info(struct call *c);
struct xv *m_all_process_info(struct call *c);
struct xv *m_all_config_info(struct call *c);

/* ---- rpc_admin.c ---- */

struct xv *m_read_log(struct call *c);
struct xv *m_clear_log(struct call *c);
struct xv *m_read_stdout(struct call *c);
struct xv *m_read_stderr(struct call *c);
struct xv *m_tail_stdout(struct call *c);
struct xv *m_tail_stderr(struct call *c);
struct xv *m_clear_process_logs(struct call *c);
struct xv *m_clear_all_process_logs(struct call *c);
struct xv *m_send_stdin(struct call *c);
struct xv *m_shutdown(struct call *c);
struct xv *m_reload_config(struct call *c);
struct xv *m_add_group(struct call *c);
struct xv *m_remove_group(struct call *c);
struct xv *m_restart(struct call *c);

#endif
