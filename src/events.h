/* events.h - supervisord's event system: the event types and their names, subscription masks,
 * one buffer per [eventlistener:x] pool with dispatch to its READY listeners, the TICK timers,
 * and a ring of recent events for `tend events`. The wire format is supervisord's:
 *     ver:3.0 server:ID serial:N pool:NAME poolserial:N eventname:NAME len:N\n PAYLOAD */
#ifndef TEND_EVENTS_H
#define TEND_EVENTS_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum event_type {
    EVENT_PROCESS_STATE_STOPPED,
    EVENT_PROCESS_STATE_EXITED,
    EVENT_PROCESS_STATE_STARTING,
    EVENT_PROCESS_STATE_STOPPING,
    EVENT_PROCESS_STATE_BACKOFF,
    EVENT_PROCESS_STATE_FATAL,
    EVENT_PROCESS_STATE_RUNNING,
    EVENT_PROCESS_STATE_UNKNOWN,
    EVENT_PROCESS_LOG_STDOUT,
    EVENT_PROCESS_LOG_STDERR,
    EVENT_PROCESS_COMMUNICATION_STDOUT,
    EVENT_PROCESS_COMMUNICATION_STDERR,
    EVENT_REMOTE_COMMUNICATION,
    EVENT_SUPERVISOR_STATE_CHANGE_RUNNING,
    EVENT_SUPERVISOR_STATE_CHANGE_STOPPING,
    EVENT_TICK_5,
    EVENT_TICK_60,
    EVENT_TICK_3600,
    EVENT_PROCESS_GROUP_ADDED,
    EVENT_PROCESS_GROUP_REMOVED,
    EVENT_NTYPES
};

const char *event_type_name(enum event_type t);
/* The mask an events= word subscribes to: a type, or a group (EVENT, PROCESS_STATE, TICK, ...).
 * Case-insensitive like supervisord; 0 for an unknown name. */
uint32_t event_mask_for_name(const char *name);
/* The names of a mask's types, ", "-separated (for tend check). */
void event_mask_format(uint32_t mask, struct strbuf *out);

struct events;
struct supervisor;
struct proc;
enum proc_state;

/* identifier: [tend] identifier (the header's server:). */
struct events *events_new(struct ev_loop *loop, struct supervisor *sv, const char *identifier);
void events_free(struct events *ev);
/* Creates, updates or removes pools to match the supervisor's listeners, and starts the TICK
 * timers some pool subscribes to (none run otherwise). Call after start-up and each reload. */
void events_sync(struct events *ev);

/* A process changed state: emits PROCESS_STATE_*, and notices a listener that went away
 * (its event in flight goes back to the head of its pool's buffer). */
void events_proc_changed(struct events *ev, struct proc *p, enum proc_state old);
/* A proc removed by reload is about to be freed. */
void events_proc_removed(struct events *ev, struct proc *p);
/* A listener was spawned: tend writes events to in_fd (its stdin) and reads the protocol from
 * out_fd (its stdout). The events module owns both fds from now on. */
void events_listener_spawned(struct events *ev, struct proc *p, int in_fd, int out_fd);
/* SUPERVISOR_STATE_CHANGE_RUNNING / _STOPPING. */
void events_supervisor_state(struct events *ev, bool running);
/* PROCESS_LOG_STDOUT / _STDERR for a process with stdout/stderr_events_enabled. */
void events_proc_log(struct events *ev, struct proc *p, bool is_stderr, const char *buf, size_t n);

/* `tend events`: the recent events, as JSON lines or text lines; followers get each new one. */
void events_format_recent(struct events *ev, bool json, struct strbuf *out);
typedef void (*events_follow_fn)(void *arg, const char *buf, size_t n);
void events_follow(struct events *ev, bool json, events_follow_fn fn, void *arg);
void events_unfollow(struct events *ev, void *arg);

#endif
