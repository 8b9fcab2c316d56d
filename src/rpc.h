/* rpc.h - supervisord's XML-RPC interface (supervisor.* and system.*) over tend's supervisor:
 * the same method names, struct keys, state codes, description strings and fault codes, so
 * supervisorctl and every client written for supervisord work unchanged. Transport-free: it
 * takes a request body and gives back a response body, now or (for a start or stop that
 * waits) later through a callback. */
#ifndef TEND_RPC_H
#define TEND_RPC_H

#include <stdbool.h>
#include <stddef.h>

#include "supervise.h"
#include "util.h"

/* supervisord's fault codes (supervisor/xmlrpc.py, class Faults). */
enum rpc_fault {
    FAULT_UNKNOWN_METHOD = 1,
    FAULT_INCORRECT_PARAMETERS = 2,
    FAULT_BAD_ARGUMENTS = 3,
    FAULT_SIGNATURE_UNSUPPORTED = 4,
    FAULT_SHUTDOWN_STATE = 6,
    FAULT_BAD_NAME = 10,
    FAULT_BAD_SIGNAL = 11,
    FAULT_NO_FILE = 20,
    FAULT_NOT_EXECUTABLE = 21,
    FAULT_FAILED = 30,
    FAULT_ABNORMAL_TERMINATION = 40,
    FAULT_SPAWN_ERROR = 50,
    FAULT_ALREADY_STARTED = 60,
    FAULT_NOT_RUNNING = 70,
    FAULT_SUCCESS = 80,
    FAULT_ALREADY_ADDED = 90,
    FAULT_STILL_RUNNING = 91,
    FAULT_CANT_REREAD = 92,
};

struct rpc_hooks {
    /* apply the configuration file again (tend reload); returns 0 or an exit code */
    int (*reload)(void *arg, bool dry_run, struct strbuf *out, struct strbuf *err);
    /* begin a graceful shutdown */
    void (*down)(void *arg);
    void *arg;
};

struct rpc;
struct rpc_pending;

/* The later answer of a request that waits: the XML body (the callee frees it). */
typedef void (*rpc_done_fn)(void *arg, char *body, size_t len);

/* config_path: the file reloadConfig reads; main_log: tend's own log file (readLog), or NULL. */
struct rpc *rpc_new(struct supervisor *sv, const char *config_path, const char *main_log,
                    const struct rpc_hooks *h);
void rpc_free(struct rpc *r);

/* Handles one XML-RPC request body. Returns the response body (malloc'd, *len set), or NULL
 * when the answer comes later through done(arg, ...); *pending then names the wait so that
 * rpc_cancel can drop it when the client goes away first. */
char *rpc_handle(struct rpc *r, const char *body, size_t blen, size_t *len, rpc_done_fn done,
                 void *arg, struct rpc_pending **pending);
void rpc_cancel(struct rpc *r, struct rpc_pending *p);
/* The response to supervisor.shutdown has been sent: the shutdown begins now, so the client
 * hears its answer before the server goes away. */
void rpc_response_sent(struct rpc *r);

/* A process changed state / is about to be freed: answers the requests waiting for it. */
void rpc_proc_changed(struct rpc *r, struct proc *p, enum proc_state old);
void rpc_proc_removed(struct rpc *r, struct proc *p);

/* supervisord's numbers for process states (supervisor/states.py). */
int rpc_state_code(enum proc_state s);
/* supervisorctl's description of a process: "pid 12, uptime 0:00:05", "Not started", ... */
char *rpc_describe(const struct proc *p, double now);

#endif
