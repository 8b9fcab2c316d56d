/* listener.h - one event listener process's side of supervisord's protocol: tend writes an
 * event (header + payload) to its stdin, and reads READY\n, then RESULT LEN\n + LEN bytes
 * (OK or anything else) from its stdout. The state machine is supervisord's
 * (ACKNOWLEDGED -> READY -> BUSY -> ACKNOWLEDGED; UNKNOWN after a protocol violation). */
#ifndef TEND_LISTENER_H
#define TEND_LISTENER_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

enum listener_state { LISTENER_ACKNOWLEDGED, LISTENER_READY, LISTENER_BUSY, LISTENER_UNKNOWN };
const char *listener_state_name(enum listener_state s);

struct listener;

/* What the listener's answers mean to its pool. */
struct listener_hooks {
    void (*ready)(struct listener *l, void *arg);               /* READY: send the next event */
    void (*done)(struct listener *l, bool accepted, void *arg); /* RESULT OK / anything else */
    void (*violated)(struct listener *l, void *arg); /* garbage while BUSY: event not handled */
    void *arg;
};

/* Takes both fds: in_fd is the write end of the listener's stdin, out_fd the read end of its
 * stdout. name is for tend's log. */
struct listener *listener_new(struct ev_loop *loop, const char *name, int in_fd, int out_fd,
                              const struct listener_hooks *hooks);
/* Reads and handles what the process wrote before it died (a RESULT just before exiting
 * counts); hooks may run. */
void listener_drain(struct listener *l);
/* Closes the fds and frees. */
void listener_free(struct listener *l);
enum listener_state listener_state(const struct listener *l);
/* Writes one event to a READY listener, which becomes BUSY. -1 when the pipe is broken. */
int listener_send(struct listener *l, const char *buf, size_t n);

/* SUPERVISOR_SERVER_URL (unix:///PATH of the control socket, which serves XML-RPC) and
 * SUPERVISOR_USERNAME / SUPERVISOR_PASSWORD when the socket asks for them, for
 * supervisor.childutils.getRPCInterface(os.environ). */
struct global_config;
struct strv;
void listener_environment(const struct global_config *g, struct strv *env);

#endif
