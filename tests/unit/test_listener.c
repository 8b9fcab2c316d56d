/* test_listener.c - the listener protocol parser against the byte sequences supervisord's
 * dispatcher accepts and refuses: tokens split across reads, several in one read, FAIL,
 * garbage in each state; and the event type masks. */
#include <ev.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "listener.h"
#include "tap.h"

struct seen {
    int ready, accepted, rejected, violated;
};

static void on_ready(struct listener *l, void *arg)
{
    (void)l;
    ((struct seen *)arg)->ready++;
}

static void on_done(struct listener *l, bool accepted, void *arg)
{
    (void)l;
    if (accepted) {
        ((struct seen *)arg)->accepted++;
    } else {
        ((struct seen *)arg)->rejected++;
    }
}

static void on_violated(struct listener *l, void *arg)
{
    (void)l;
    ((struct seen *)arg)->violated++;
}

struct rig {
    struct ev_loop *loop;
    struct listener *l;
    int to_tend;     /* the listener's stdout, written by the test */
    int from_tend;   /* the listener's stdin, read by the test */
    struct seen seen;
};

static void rig_open(struct rig *r)
{
    int out[2], in[2];
    if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(in, O_CLOEXEC | O_NONBLOCK) < 0) {
        perror("pipe2");
        _exit(1);
    }
    memset(&r->seen, 0, sizeof(r->seen));
    r->loop = ev_default_loop(0);
    struct listener_hooks h = {on_ready, on_done, on_violated, &r->seen};
    r->l = listener_new(r->loop, "t", in[1], out[0], &h);
    r->to_tend = out[1];
    r->from_tend = in[0];
}

static void rig_close(struct rig *r)
{
    listener_free(r->l);
    close(r->to_tend);
    close(r->from_tend);
}

/* The listener writes s; tend's loop reads it. */
static void say(struct rig *r, const char *s)
{
    if (write(r->to_tend, s, strlen(s)) != (ssize_t)strlen(s)) {
        perror("write");
    }
    ev_run(r->loop, EVRUN_NOWAIT);
}

int main(void)
{
    struct rig r;

    rig_open(&r);
    TAP_OK(listener_state(r.l) == LISTENER_ACKNOWLEDGED, "a new listener is ACKNOWLEDGED");
    say(&r, "REA");
    TAP_OK(listener_state(r.l) == LISTENER_ACKNOWLEDGED && !r.seen.ready,
           "half a READY token decides nothing");
    say(&r, "DY\n");
    TAP_OK(listener_state(r.l) == LISTENER_READY && r.seen.ready == 1, "READY split in two reads");
    const char *ev = "ver:3.0 server:tend serial:0 pool:p poolserial:0 eventname:TICK_5 len:10\n"
                     "when:1000";
    TAP_OK(listener_send(r.l, ev, strlen(ev)) == 0 && listener_state(r.l) == LISTENER_BUSY,
           "an event makes it BUSY");
    char buf[256];
    ssize_t n = read(r.from_tend, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    TAP_STREQ(buf, ev, "the event reaches its stdin byte for byte");
    say(&r, "RESULT 2\nOKREADY\n");
    TAP_OK(r.seen.accepted == 1 && r.seen.ready == 2 && listener_state(r.l) == LISTENER_READY,
           "RESULT, OK and READY in one read");
    listener_send(r.l, ev, strlen(ev));
    say(&r, "RESULT 4\nFA");
    TAP_OK(listener_state(r.l) == LISTENER_BUSY, "a partial result keeps it BUSY");
    say(&r, "IL");
    TAP_OK(r.seen.rejected == 1 && listener_state(r.l) == LISTENER_ACKNOWLEDGED,
           "FAIL rejects the event; the listener is ACKNOWLEDGED");
    say(&r, "READY\n");
    listener_send(r.l, ev, strlen(ev));
    say(&r, "RESULT x\n");
    TAP_OK(r.seen.violated == 1 && listener_state(r.l) == LISTENER_UNKNOWN,
           "a RESULT line without a number: UNKNOWN, the event given back");
    say(&r, "READY\n");
    TAP_OK(listener_state(r.l) == LISTENER_UNKNOWN && r.seen.ready == 3,
           "UNKNOWN is final: READY is ignored");
    rig_close(&r);

    rig_open(&r);
    say(&r, "hello\n");
    TAP_OK(listener_state(r.l) == LISTENER_UNKNOWN && !r.seen.ready,
           "anything but READY when ACKNOWLEDGED: UNKNOWN");
    rig_close(&r);

    rig_open(&r);
    say(&r, "READY\nREADY\n");
    TAP_OK(listener_state(r.l) == LISTENER_UNKNOWN,
           "output while READY (before an event) is a violation");
    rig_close(&r);

    rig_open(&r);
    say(&r, "READY\n");
    listener_send(r.l, ev, strlen(ev));
    /* written, then the process exits: the loop has not read it yet */
    if (write(r.to_tend, "RESULT 2\nOK", 11) != 11) {
        perror("write");
    }
    listener_drain(r.l);
    TAP_OK(r.seen.accepted == 1, "a result written just before exiting counts (drain)");
    rig_close(&r);

    TAP_OK(event_mask_for_name("PROCESS_STATE") == 0xff, "PROCESS_STATE covers the 8 states");
    TAP_OK(event_mask_for_name("tick") == (event_mask_for_name("TICK_5") |
                                          event_mask_for_name("TICK_60") |
                                          event_mask_for_name("TICK_3600")),
           "TICK covers the three ticks, case-insensitively");
    TAP_OK(event_mask_for_name("EVENT") == (1u << EVENT_NTYPES) - 1, "EVENT covers everything");
    TAP_OK(event_mask_for_name("PROCESS_STATE_EXIT") == 0, "a prefix is not a name");
    TAP_STREQ(event_type_name(EVENT_PROCESS_STATE_EXITED), "PROCESS_STATE_EXITED",
              "names are supervisord's");
    ev_loop_destroy(EV_DEFAULT);
    return tap_done();
}
