/* control_int.h - what the files of the control socket share (control.c: connections,
 * dispatch and the other verbs; control_wait.c: the verbs that act and wait for an outcome).
 * Not for other modules: they use control.h. */
#ifndef TEND_CONTROL_INT_H
#define TEND_CONTROL_INT_H

#include "control.h"

#include <stdarg.h>

#define CONTROL_MAX_REQUEST (64 * 1024)
#define CONTROL_MAX_PENDING (4 * 1024 * 1024) /* a follower this far behind is dropped */
#define CONTROL_MAX_CLIENTS 512
#define CONTROL_IDLE_SECONDS 10.0
#define CONTROL_DEFAULT_LINES 100

enum wait_kind { WAIT_NONE, WAIT_START, WAIT_STOP, WAIT_EXIT, WAIT_FOLLOW, WAIT_DOWN };

struct client {
    struct control *ctl;
    int fd;
    ev_io io;
    ev_timer idle;
    char *in;
    size_t inlen;
    struct strbuf out;
    size_t out_off;
    bool header_sent;
    bool close_after_flush;
    bool reading; /* the watcher waits for EV_READ (else EV_WRITE) */
    /* a request that waits for processes to reach a state */
    enum wait_kind wait;
    struct proc **targets;
    size_t ntargets;
    bool json;
    struct output_sink *followed;
    bool follows_events; /* `tend events -f` */
    struct client *prev, *next;
};

struct control {
    struct ev_loop *loop;
    struct supervisor *sv;
    struct control_hooks hooks;
    char *path;
    int fd;
    ev_io accept_watcher;
    struct client *clients;
    size_t nclients;
    bool others_allowed; /* chmod/chown opened the socket: its permissions decide */
    struct events *events;
};

/* ---- connections (control.c) ---- */

/* Writes what is pending; -1 once the client is gone (and freed). */
int client_flush(struct client *c);
/* The header line and the stderr text, once. */
void client_header(struct client *c, int code, const char *err, size_t errlen);
/* The whole answer at once: header, stderr text, stdout text; then the connection closes. */
void client_reply(struct client *c, int code, const struct strbuf *err, const struct strbuf *out);
void client_error(struct client *c, int code, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* NAME, GROUP:*, GROUP:NAME, all: the processes named; -1 with err set. */
int resolve_targets(struct control *ctl, char **names, size_t nnames, struct proc ***out,
                    size_t *nout, struct strbuf *err);

/* ---- start, stop, restart, signal, pid, wait (control_wait.c) ---- */

void verb_act(struct client *c, const char *verb, char **args, size_t nargs, bool no_wait);
void verb_signal(struct client *c, char **args, size_t nargs);
void verb_pid(struct client *c, char **args, size_t nargs);
void verb_wait(struct client *c, char **args, size_t nargs);
/* A waiting client answered once its targets reached their outcome; true if answered. */
bool client_check_wait(struct client *c);
/* `tend wait`: the exit of p, as the answer. */
void client_answer_exit(struct client *c, const struct proc *p);

#endif
