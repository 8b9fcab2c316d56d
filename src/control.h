/* control.h - the supervisor's control socket: a Unix stream socket that answers the CLI
 * verbs (status, start, stop, restart, signal, pid, wait, logs, reload, down, version).
 *
 * Protocol (documented in tend(1)): the client sends one request line, the words separated by
 * tabs, each word percent-encoded (%XX for '%', tab, newline, CR and other control bytes):
 *     VERB <TAB> ARG ... \n
 * The server answers with a header line "CODE ERRLEN\n", then ERRLEN bytes for the client's
 * stderr, then the output for its stdout until it closes the connection. CODE is the exit
 * status the client exits with. Verbs that wait send the header when they are done; `logs -f`
 * sends it at once and streams until the client goes away. */
#ifndef TEND_CONTROL_H
#define TEND_CONTROL_H

#include <ev.h>
#include <stdbool.h>

#include "protocol.h"
#include "supervise.h"
#include "util.h"

struct control;

struct control_hooks {
    /* reload: build the plan, apply it unless dry_run; returns the exit code */
    int (*reload)(void *arg, bool dry_run, struct strbuf *out, struct strbuf *err);
    /* down: begin a graceful shutdown; the connection is answered when tend exits */
    void (*down)(void *arg);
    /* a connection that speaks HTTP (supervisorctl, XML-RPC): the hook owns fd from now on */
    void (*http)(void *arg, int fd);
    void *arg;
};

/* Creates the socket (its directory too, mode 0700), refusing when a live supervisor answers
 * on it. Returns NULL with *err set on failure. */
struct control *control_new(struct ev_loop *loop, struct supervisor *sv, const char *path,
                            int mode, const struct control_hooks *hooks, char **err);
/* [unix_http_server] chmod or chown opened the socket to others: the file's permissions
 * decide who may connect, not tend's check of the peer's uid. */
void control_allow_others(struct control *ctl);
/* Where `tend events` reads the recent events and follows new ones. */
struct events;
void control_set_events(struct control *ctl, struct events *events);
/* The supervisor changed (reload): later requests use this one. */
void control_set_supervisor(struct control *ctl, struct supervisor *sv);
/* A process changed state: wakes the clients waiting for it. */
void control_proc_changed(struct control *ctl, struct proc *p, enum proc_state old);
/* A process is about to be freed (reload removed it): followers and waiters let go of it. */
void control_proc_removed(struct control *ctl, struct proc *p);
/* A reload replaced p's sinks: `logs -f` followers of the old ones follow the new ones (or
 * end, when the stream has no sink of its own any more). */
void control_sinks_replaced(struct control *ctl, struct proc *p, struct output_sink *old_out,
                            struct output_sink *old_err);
/* Answers `down` clients, closes every connection and removes the socket. */
void control_free(struct control *ctl);

#endif
