/* control_wait.c - the control verbs that act on processes and wait for the outcome: start,
 * stop, restart (until RUNNING/STOPPED or a failure), signal, pid, wait (for an exit).
 * Calls supervise's public functions and control.c's connection helpers (control_int.h). */
#include "control_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "values.h"

enum outcome { OUTCOME_PENDING, OUTCOME_OK, OUTCOME_FAILED };

static enum outcome start_outcome(const struct proc *p)
{
    switch (p->state) {
    case PROC_RUNNING:
        return OUTCOME_OK;
    case PROC_STARTING:
    case PROC_BACKOFF:
        return OUTCOME_PENDING;
    case PROC_STOPPING:
    case PROC_STOPPED:
        return p->restart_after_stop || p->waiting_deps ? OUTCOME_PENDING : OUTCOME_FAILED;
    case PROC_EXITED:
        /* a one-shot that finished well reached its goal */
        return p->cfg->type == PTYPE_ONESHOT && p->last_exit.code >= 0 &&
                       exitcodes_has(&p->cfg->exitcodes, p->last_exit.code)
                   ? OUTCOME_OK
                   : OUTCOME_FAILED;
    case PROC_FATAL:
        return OUTCOME_FAILED;
    }
    return OUTCOME_FAILED;
}

static enum outcome stop_outcome(const struct proc *p)
{
    return proc_is_alive(p) || p->state == PROC_STOPPING ? OUTCOME_PENDING : OUTCOME_OK;
}

static enum outcome client_outcome(const struct client *c, const struct proc *p)
{
    return c->wait == WAIT_STOP ? stop_outcome(p) : start_outcome(p);
}

static void start_failure_reason(struct strbuf *err, const struct proc *p)
{
    if (p->last_error) {
        strbuf_addf(err, "tend: %s: not started: %s\n", p->cfg->name, p->last_error);
    } else if (p->has_exited) {
        char *how = exit_describe(&p->last_exit);
        strbuf_addf(err, "tend: %s: not started: %s (%s)\n", p->cfg->name, how,
                    proc_state_name(p->state));
        free(how);
    } else {
        strbuf_addf(err, "tend: %s: not started (%s)\n", p->cfg->name, proc_state_name(p->state));
    }
}

/* When every target has an outcome, answer. Returns true when the client was answered. */
bool client_check_wait(struct client *c)
{
    for (size_t i = 0; i < c->ntargets; i++) {
        if (client_outcome(c, c->targets[i]) == OUTCOME_PENDING) {
            return false;
        }
    }
    struct strbuf out, err;
    strbuf_init(&out);
    strbuf_init(&err);
    int code = 0;
    for (size_t i = 0; i < c->ntargets; i++) {
        const struct proc *p = c->targets[i];
        if (client_outcome(c, p) == OUTCOME_OK) {
            strbuf_addf(&out, "%s: %s\n", p->cfg->name,
                        c->wait == WAIT_STOP ? "stopped" : proc_state_name(p->state));
        } else {
            code = 1;
            start_failure_reason(&err, p);
        }
    }
    c->wait = WAIT_NONE;
    client_reply(c, code, &err, &out);
    strbuf_free(&out);
    strbuf_free(&err);
    return true;
}

void verb_act(struct client *c, const char *verb, char **args, size_t nargs, bool no_wait)
{
    struct strbuf err;
    strbuf_init(&err);
    struct proc **targets;
    size_t n;
    if (nargs == 0) {
        client_error(c, 2, "%s: name a process, GROUP:* or all", verb);
        strbuf_free(&err);
        return;
    }
    if (resolve_targets(c->ctl, args, nargs, &targets, &n, &err) < 0) {
        client_reply(c, 1, &err, NULL);
        strbuf_free(&err);
        free(targets);
        return;
    }
    strbuf_free(&err);
    enum wait_kind wait = WAIT_START;
    for (size_t i = 0; i < n; i++) {
        struct proc *p = targets[i];
        if (strcmp(verb, "stop") == 0) {
            wait = WAIT_STOP;
            proc_stop(p);
        } else if (strcmp(verb, "restart") == 0) {
            proc_restart(p);
        } else if (start_outcome(p) != OUTCOME_OK || p->state == PROC_EXITED) {
            proc_start(p);
        }
    }
    c->targets = targets;
    c->ntargets = n;
    c->wait = wait;
    if (no_wait) {
        struct strbuf out;
        strbuf_init(&out);
        for (size_t i = 0; i < n; i++) {
            strbuf_addf(&out, "%s: %s\n", targets[i]->cfg->name,
                        proc_state_name(targets[i]->state));
        }
        c->wait = WAIT_NONE;
        client_reply(c, 0, NULL, &out);
        strbuf_free(&out);
        return;
    }
    client_check_wait(c);
}

void verb_signal(struct client *c, char **args, size_t nargs)
{
    if (nargs < 2) {
        client_error(c, 2, "signal: usage: tend signal SIG NAME|GROUP:*|all");
        return;
    }
    int sig;
    char *perr = NULL;
    if (value_parse_signal(args[0], &sig, &perr) < 0) {
        client_error(c, 2, "signal: %s", perr);
        free(perr);
        return;
    }
    struct strbuf out, err;
    strbuf_init(&out);
    strbuf_init(&err);
    struct proc **targets;
    size_t n;
    int code = resolve_targets(c->ctl, args + 1, nargs - 1, &targets, &n, &err) < 0 ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
        if (proc_signal(targets[i], sig) < 0) {
            strbuf_addf(&err, "tend: %s: not running\n", targets[i]->cfg->name);
            code = 1;
        } else {
            strbuf_addf(&out, "%s: sent %s\n", targets[i]->cfg->name, signal_name(sig));
        }
    }
    client_reply(c, code, &err, &out);
    strbuf_free(&out);
    strbuf_free(&err);
    free(targets);
}

void verb_pid(struct client *c, char **args, size_t nargs)
{
    struct strbuf out, err;
    strbuf_init(&out);
    strbuf_init(&err);
    int code = 0;
    if (nargs == 0) {
        strbuf_addf(&out, "%d\n", (int)getpid());
    } else {
        struct proc **targets;
        size_t n;
        code = resolve_targets(c->ctl, args, nargs, &targets, &n, &err) < 0 ? 1 : 0;
        for (size_t i = 0; i < n; i++) {
            strbuf_addf(&out, "%d\n", (int)targets[i]->pid);
            if (targets[i]->pid <= 0) {
                strbuf_addf(&err, "tend: %s: not running\n", targets[i]->cfg->name);
                code = 1;
            }
        }
        free(targets);
    }
    client_reply(c, code, &err, &out);
    strbuf_free(&out);
    strbuf_free(&err);
}

/* `wait NAME`: answered with the exit of the process, as a shell would report it. */
void client_answer_exit(struct client *c, const struct proc *p)
{
    struct strbuf out;
    strbuf_init(&out);
    char *how = exit_describe(&p->last_exit);
    strbuf_addf(&out, "%s: %s\n", p->cfg->name, how);
    free(how);
    c->wait = WAIT_NONE;
    client_reply(c, exit_shell_code(&p->last_exit), NULL, &out);
    strbuf_free(&out);
}

void verb_wait(struct client *c, char **args, size_t nargs)
{
    if (nargs != 1) {
        client_error(c, 2, "wait: usage: tend wait NAME");
        return;
    }
    struct strbuf err;
    strbuf_init(&err);
    struct proc **targets;
    size_t n;
    if (resolve_targets(c->ctl, args, nargs, &targets, &n, &err) < 0 || n != 1) {
        if (n > 1) {
            strbuf_addf(&err, "tend: wait: %s names %zu processes; name one\n", args[0], n);
        }
        client_reply(c, 1, &err, NULL);
        strbuf_free(&err);
        free(targets);
        return;
    }
    strbuf_free(&err);
    struct proc *p = targets[0];
    if (!proc_is_alive(p) && p->state != PROC_BACKOFF && p->state != PROC_STARTING) {
        free(targets);
        if (p->has_exited) {
            client_answer_exit(c, p);
        } else {
            client_error(c, 1, "%s: not running", p->cfg->name);
        }
        return;
    }
    c->targets = targets;
    c->ntargets = 1;
    c->wait = WAIT_EXIT;
}

