/* events.c - supervisord's events: types and masks, payloads, the per-pool buffers and their
 * dispatch to listeners, TICK timers, and the ring of recent events for `tend events`.
 * Semantics follow supervisor/process.py EventListenerPool: an event a listener rejects, or
 * that was in flight when the listener died, goes back to the head of its pool's buffer; a
 * full buffer drops its oldest event with an error in tend's log. */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "json.h"
#include "listener.h"
#include "log.h"
#include "supervise.h"

#define EVENTS_RING 200 /* recent events kept for `tend events` */

static const char *const type_names[EVENT_NTYPES] = {
    "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_EXITED",
    "PROCESS_STATE_STARTING",
    "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING",
    "PROCESS_STATE_UNKNOWN",
    "PROCESS_LOG_STDOUT",
    "PROCESS_LOG_STDERR",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_COMMUNICATION_STDERR",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK_5",
    "TICK_60",
    "TICK_3600",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
};

#define BIT(t) (1u << (t))
#define RANGE(a, b) ((BIT(b) << 1) - BIT(a))

/* supervisord's abstract types: a subscription to one covers its subtypes */
static const struct {
    const char *name;
    uint32_t mask;
} groups[] = {
    {"EVENT", RANGE(0, EVENT_NTYPES - 1)},
    {"PROCESS_STATE", RANGE(EVENT_PROCESS_STATE_STOPPED, EVENT_PROCESS_STATE_UNKNOWN)},
    {"PROCESS_LOG", RANGE(EVENT_PROCESS_LOG_STDOUT, EVENT_PROCESS_LOG_STDERR)},
    {"PROCESS_COMMUNICATION",
     RANGE(EVENT_PROCESS_COMMUNICATION_STDOUT, EVENT_PROCESS_COMMUNICATION_STDERR)},
    {"SUPERVISOR_STATE_CHANGE",
     RANGE(EVENT_SUPERVISOR_STATE_CHANGE_RUNNING, EVENT_SUPERVISOR_STATE_CHANGE_STOPPING)},
    {"TICK", RANGE(EVENT_TICK_5, EVENT_TICK_3600)},
    {"PROCESS_GROUP", RANGE(EVENT_PROCESS_GROUP_ADDED, EVENT_PROCESS_GROUP_REMOVED)},
};

static const int tick_periods[] = {5, 60, 3600};

const char *
event_type_name(enum event_type t)
{
    return type_names[t];
}

uint32_t
event_mask_for_name(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
        if (strcasecmp(groups[i].name, name) == 0) {
            return groups[i].mask;
        }
    }
    for (int t = 0; t < EVENT_NTYPES; t++) {
        if (strcasecmp(type_names[t], name) == 0) {
            return BIT(t);
        }
    }
    return 0;
}

void event_mask_format(uint32_t mask, struct strbuf *out)
{
    bool first = true;
    for (int t = 0; t < EVENT_NTYPES; t++) {
        if (mask & BIT(t)) {
            strbuf_addf(out, "%s%s", first ? "" : ", ", type_names[t]);
            first = false;
        }
    }
}

/* ---- events ---- */

struct event {
    unsigned refs;
    uint64_t serial;
    enum event_type type;
    double time;
    char *payload; /* supervisord's payload, sent after the header */
    size_t len;
};

struct pool_entry {
    struct event *event;
    uint64_t poolserial;
};

struct member; /* one listener process of a pool */

struct pool {
    char *name;
    uint32_t mask;
    size_t cap;             /* buffer_size */
    struct pool_entry *buf; /* oldest first */
    size_t n;
    uint64_t next_serial;
    bool in_config;
    struct pool *next;
};

struct member {
    struct events *ev;
    struct pool *pool;
    struct proc *proc;
    struct listener *l;
    bool busy;    /* current holds the event it is handling */
    bool closing; /* the process is gone: its last words are being read */
    bool broken;  /* its stdin is closed: it gets nothing more */
    struct pool_entry current;
    struct member *next;
};

struct follower {
    events_follow_fn fn;
    void *arg;
    bool json;
};

struct events {
    struct ev_loop *loop;
    struct supervisor *sv;
    char *identifier;
    uint64_t next_serial;
    struct event *ring[EVENTS_RING];
    size_t ring_start, ring_n;
    struct follower *followers;
    size_t nfollowers;
    struct pool *pools;
    struct member *members;
    ev_periodic ticks[3];
};

static void
event_unref(struct event *e)
{
    if (e && --e->refs == 0) {
        free(e->payload);
        free(e);
    }
}

/* Keys whose values are numbers in the JSON form. */
static bool
key_is_number(const char *k, size_t n)
{
    static const char *const numeric[] = {"pid", "expected", "tries", "when"};
    for (size_t i = 0; i < ARRAY_SIZE(numeric); i++) {
        if (strlen(numeric[i]) == n && memcmp(numeric[i], k, n) == 0) {
            return true;
        }
    }
    return false;
}

/* {"serial":..,"eventname":..,"time":.., the payload's key:value words.., "data":..} */
static void
event_json(const struct event *e, struct strbuf *out)
{
    struct json j;
    json_init(&j, out, false);
    json_object_begin(&j);
    json_key(&j, "serial");
    json_int(&j, (int64_t)e->serial);
    json_key(&j, "eventname");
    json_string(&j, type_names[e->type]);
    json_key(&j, "time");
    json_double(&j, e->time);
    const char *p = e->payload, *end = e->payload + e->len;
    const char *nl = memchr(p, '\n', e->len);
    const char *line_end = nl ? nl : end;
    while (p < line_end) {
        const char *sp = memchr(p, ' ', (size_t)(line_end - p));
        const char *word_end = sp ? sp : line_end;
        const char *colon = memchr(p, ':', (size_t)(word_end - p));
        if (colon) {
            char *key = xstrndup(p, (size_t)(colon - p));
            json_key(&j, key);
            const char *v = colon + 1;
            size_t vn = (size_t)(word_end - v);
            char *val = xstrndup(v, vn);
            char *endp;
            long long num = strtoll(val, &endp, 10);
            if (key_is_number(key, strlen(key)) && vn && !*endp) {
                json_int(&j, num);
            } else {
                json_string_n(&j, v, vn);
            }
            free(key);
            free(val);
        }
        p = word_end + 1;
    }
    if (nl) {
        json_key(&j, "data");
        json_string_n(&j, nl + 1, (size_t)(end - nl - 1));
    }
    json_object_end(&j);
    strbuf_addc(out, '\n');
}

/* TIME SERIAL EVENTNAME first-line-of-payload [len:N of the data] */
static void
event_text(const struct event *e, struct strbuf *out)
{
    char when[32];
    time_t t = (time_t)e->time;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    const char *nl = memchr(e->payload, '\n', e->len);
    size_t first = nl ? (size_t)(nl - e->payload) : e->len;
    strbuf_addf(out, "%s %llu %s", when, (unsigned long long)e->serial, type_names[e->type]);
    if (first) {
        strbuf_addf(out, " %.*s", (int)first, e->payload);
    }
    if (nl) {
        strbuf_addf(out, " len:%zu", e->len - first - 1);
    }
    strbuf_addc(out, '\n');
}

/* ---- pools ---- */

static void
pool_drop_oldest(struct pool *pl)
{
    log_error("pool %s event buffer overflowed, discarding event %llu", pl->name,
              (unsigned long long)pl->buf[0].event->serial);
    event_unref(pl->buf[0].event);
    memmove(pl->buf, pl->buf + 1, (pl->n - 1) * sizeof(*pl->buf));
    pl->n--;
}

/* A new event at the tail, or one coming back (rejected, or its listener died) at the head. */
static void
pool_accept(struct pool *pl, struct pool_entry entry, bool head)
{
    if (pl->n >= pl->cap && pl->n > 0) {
        pool_drop_oldest(pl);
    }
    pl->buf = xrealloc(pl->buf, (pl->n + 1) * sizeof(*pl->buf));
    if (head) {
        memmove(pl->buf + 1, pl->buf, pl->n * sizeof(*pl->buf));
        pl->buf[0] = entry;
    } else {
        pl->buf[pl->n] = entry;
    }
    pl->n++;
}

static void
pool_free(struct pool *pl)
{
    for (size_t i = 0; i < pl->n; i++) {
        event_unref(pl->buf[i].event);
    }
    free(pl->buf);
    free(pl->name);
    free(pl);
}

static struct pool *
pool_find(struct events *ev, const char *name)
{
    for (struct pool *pl = ev->pools; pl; pl = pl->next) {
        if (strcmp(pl->name, name) == 0) {
            return pl;
        }
    }
    return NULL;
}

static struct member *
member_ready(struct events *ev, struct pool *pl)
{
    for (struct member *m = ev->members; m; m = m->next) {
        if (m->pool == pl && !m->closing && !m->broken && m->proc->state == PROC_RUNNING &&
            listener_state(m->l) == LISTENER_READY) {
            return m;
        }
    }
    return NULL;
}

/* Sends the oldest events to READY listeners of the pool, one event per listener. */
static void
pool_dispatch(struct events *ev, struct pool *pl)
{
    while (pl->n > 0) {
        struct member *m = member_ready(ev, pl);
        if (!m) {
            return;
        }
        struct pool_entry entry = pl->buf[0];
        struct strbuf env;
        strbuf_init(&env);
        strbuf_addf(&env,
                    "ver:3.0 server:%s serial:%llu pool:%s poolserial:%llu eventname:%s "
                    "len:%zu\n",
                    ev->identifier, (unsigned long long)entry.event->serial, pl->name,
                    (unsigned long long)entry.poolserial, type_names[entry.event->type],
                    entry.event->len);
        strbuf_add(&env, entry.event->payload, entry.event->len);
        int rc = listener_send(m->l, env.buf, env.len);
        strbuf_free(&env);
        if (rc < 0) {
            /* like supervisord on EPIPE: the event stays; this listener is skipped */
            log_debug("epipe occurred while sending event %llu to listener %s",
                      (unsigned long long)entry.event->serial, m->proc->cfg->name);
            m->broken = true;
            continue;
        }
        memmove(pl->buf, pl->buf + 1, (pl->n - 1) * sizeof(*pl->buf));
        pl->n--;
        m->current = entry;
        m->busy = true;
        log_debug("event %llu sent to listener %s", (unsigned long long)entry.event->serial,
                  m->proc->cfg->name);
    }
}

/* The listener did not handle its event: it goes back to the head of the buffer. */
static void
member_rebuffer(struct member *m)
{
    if (!m->busy) {
        return;
    }
    m->busy = false;
    log_debug("rebuffering event %llu for pool %s", (unsigned long long)m->current.event->serial,
              m->pool->name);
    pool_accept(m->pool, m->current, true);
}

static void
member_ready_cb(struct listener *l, void *arg)
{
    struct member *m = arg;
    (void)l;
    if (!m->closing) {
        pool_dispatch(m->ev, m->pool);
    }
}

static void
member_done_cb(struct listener *l, bool accepted, void *arg)
{
    struct member *m = arg;
    (void)l;
    if (!accepted) {
        member_rebuffer(m);
    } else if (m->busy) {
        m->busy = false;
        event_unref(m->current.event);
    }
    if (!m->closing) {
        pool_dispatch(m->ev, m->pool);
    }
}

static void
member_violated_cb(struct listener *l, void *arg)
{
    member_done_cb(l, false, arg);
}

static struct member *
member_of(struct events *ev, const struct proc *p)
{
    for (struct member *m = ev->members; m; m = m->next) {
        if (m->proc == p) {
            return m;
        }
    }
    return NULL;
}

/* The process is gone: its last output is read, its event goes back to the pool. */
static void
member_free(struct events *ev, struct member *m)
{
    m->closing = true;
    listener_drain(m->l);
    member_rebuffer(m);
    listener_free(m->l);
    for (struct member **link = &ev->members; *link; link = &(*link)->next) {
        if (*link == m) {
            *link = m->next;
            break;
        }
    }
    struct pool *pl = m->pool;
    free(m);
    pool_dispatch(ev, pl);
}

void
events_listener_spawned(struct events *ev, struct proc *p, int in_fd, int out_fd)
{
    struct member *old = member_of(ev, p);
    if (old) {
        member_free(ev, old);
    }
    struct pool *pl = pool_find(ev, p->cfg->program);
    if (!pl) {
        events_sync(ev);
        pl = pool_find(ev, p->cfg->program);
    }
    struct member *m = xcalloc(1, sizeof(*m));
    m->ev = ev;
    m->pool = pl;
    m->proc = p;
    struct listener_hooks hooks = {
        .ready = member_ready_cb, .done = member_done_cb, .violated = member_violated_cb, .arg = m};
    m->l = listener_new(ev->loop, p->cfg->name, in_fd, out_fd, &hooks);
    m->next = ev->members;
    ev->members = m;
}

/* ---- emitting ---- */

static void
events_emit(struct events *ev, enum event_type type, char *payload)
{
    struct event *e = xcalloc(1, sizeof(*e));
    e->refs = 1;
    e->serial = ev->next_serial++;
    e->type = type;
    e->time = ev_time();
    e->payload = payload;
    e->len = strlen(payload);
    if (ev->ring_n == EVENTS_RING) {
        event_unref(ev->ring[ev->ring_start]);
        ev->ring_start = (ev->ring_start + 1) % EVENTS_RING;
        ev->ring_n--;
    }
    ev->ring[(ev->ring_start + ev->ring_n++) % EVENTS_RING] = e;
    struct strbuf json, text;
    strbuf_init(&json);
    strbuf_init(&text);
    for (size_t i = 0; i < ev->nfollowers; i++) {
        struct strbuf *sb = ev->followers[i].json ? &json : &text;
        if (!sb->len) {
            (ev->followers[i].json ? event_json : event_text)(e, sb);
        }
        ev->followers[i].fn(ev->followers[i].arg, sb->buf, sb->len);
    }
    strbuf_free(&json);
    strbuf_free(&text);
    for (struct pool *pl = ev->pools; pl; pl = pl->next) {
        if (pl->mask & BIT(type)) {
            e->refs++;
            pool_accept(pl, (struct pool_entry){e, pl->next_serial++}, false);
            pool_dispatch(ev, pl);
        }
    }
}

static enum event_type
state_event(enum proc_state s)
{
    switch (s) {
    case PROC_STOPPED:
        return EVENT_PROCESS_STATE_STOPPED;
    case PROC_STARTING:
        return EVENT_PROCESS_STATE_STARTING;
    case PROC_RUNNING:
        return EVENT_PROCESS_STATE_RUNNING;
    case PROC_BACKOFF:
        return EVENT_PROCESS_STATE_BACKOFF;
    case PROC_STOPPING:
        return EVENT_PROCESS_STATE_STOPPING;
    case PROC_EXITED:
        return EVENT_PROCESS_STATE_EXITED;
    case PROC_FATAL:
        return EVENT_PROCESS_STATE_FATAL;
    }
    return EVENT_PROCESS_STATE_UNKNOWN;
}

void
events_proc_changed(struct events *ev, struct proc *p, enum proc_state old)
{
    struct member *m = p->cfg->listener ? member_of(ev, p) : NULL;
    if (m && !proc_is_alive(p)) {
        member_free(ev, m);
    }
    if (old == p->state) {
        return; /* a notification without a change (readiness) */
    }
    /* supervisord's payloads (events.py ProcessState*Event) */
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_addf(&sb, "processname:%s groupname:%s from_state:%s", p->cfg->name, p->cfg->group,
                proc_state_name(old));
    pid_t pid = p->pid ? p->pid : p->last_pid;
    switch (p->state) {
    case PROC_STARTING:
    case PROC_BACKOFF:
        strbuf_addf(&sb, " tries:%d", p->retries);
        break;
    case PROC_EXITED: {
        bool expected =
            p->last_exit.code >= 0 && exitcodes_has(&p->cfg->exitcodes, p->last_exit.code);
        strbuf_addf(&sb, " expected:%d pid:%d", expected ? 1 : 0, (int)pid);
        break;
    }
    case PROC_RUNNING:
    case PROC_STOPPING:
    case PROC_STOPPED:
        strbuf_addf(&sb, " pid:%d", (int)pid);
        break;
    case PROC_FATAL:
        break;
    }
    events_emit(ev, state_event(p->state), strbuf_detach(&sb));
    if (p->cfg->listener && p->state == PROC_RUNNING && (m = member_of(ev, p))) {
        pool_dispatch(ev, m->pool);
    }
}

void
events_proc_removed(struct events *ev, struct proc *p)
{
    struct member *m = member_of(ev, p);
    if (m) {
        member_free(ev, m);
    }
}

void
events_supervisor_state(struct events *ev, bool running)
{
    events_emit(ev,
                running ? EVENT_SUPERVISOR_STATE_CHANGE_RUNNING
                        : EVENT_SUPERVISOR_STATE_CHANGE_STOPPING,
                xstrdup(""));
}

void
events_proc_log(struct events *ev, struct proc *p, bool is_stderr, const char *buf, size_t n)
{
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_addf(&sb, "processname:%s groupname:%s pid:%d channel:%s\n", p->cfg->name, p->cfg->group,
                (int)p->pid, is_stderr ? "stderr" : "stdout");
    strbuf_add(&sb, buf, n);
    events_emit(ev, is_stderr ? EVENT_PROCESS_LOG_STDERR : EVENT_PROCESS_LOG_STDOUT,
                strbuf_detach(&sb));
}

static void
tick_cb(struct ev_loop *loop, ev_periodic *w, int revents)
{
    struct events *ev = w->data;
    (void)revents;
    int period = tick_periods[w - ev->ticks];
    /* supervisord's timeslice: the start of the period that just began */
    long long when = (long long)((ev_now(loop) + 0.5) / period) * period;
    events_emit(ev, (enum event_type)(EVENT_TICK_5 + (w - ev->ticks)),
                xasprintf("when:%lld", when));
}

/* ---- life cycle ---- */

struct events *
events_new(struct ev_loop *loop, struct supervisor *sv, const char *identifier)
{
    struct events *ev = xcalloc(1, sizeof(*ev));
    ev->loop = loop;
    ev->sv = sv;
    ev->identifier = xstrdup(identifier && *identifier ? identifier : "tend");
    for (size_t i = 0; i < ARRAY_SIZE(ev->ticks); i++) {
        ev_periodic_init(&ev->ticks[i], tick_cb, 0., tick_periods[i], 0);
        ev->ticks[i].data = ev;
    }
    events_sync(ev);
    return ev;
}

void
events_sync(struct events *ev)
{
    for (struct pool *pl = ev->pools; pl; pl = pl->next) {
        pl->in_config = false;
    }
    for (size_t i = 0; i < ev->sv->nprocs; i++) {
        const struct proc_config *c = ev->sv->procs[i]->cfg;
        if (!c->listener) {
            continue;
        }
        struct pool *pl = pool_find(ev, c->program);
        if (!pl) {
            pl = xcalloc(1, sizeof(*pl));
            pl->name = xstrdup(c->program);
            pl->next = ev->pools;
            ev->pools = pl;
        }
        pl->in_config = true;
        pl->mask = c->listener_events;
        pl->cap = c->buffer_size > 0 ? (size_t)c->buffer_size : 10;
        while (pl->n > pl->cap) {
            pool_drop_oldest(pl);
        }
    }
    uint32_t all = 0;
    for (struct pool **link = &ev->pools; *link;) {
        struct pool *pl = *link;
        bool used = pl->in_config;
        for (struct member *m = ev->members; m && !used; m = m->next) {
            used = m->pool == pl;
        }
        if (!used) {
            *link = pl->next;
            pool_free(pl);
            continue;
        }
        all |= pl->in_config ? pl->mask : 0;
        link = &pl->next;
    }
    /* TICK timers run only while a pool wants them: tend sleeps otherwise */
    for (size_t i = 0; i < ARRAY_SIZE(ev->ticks); i++) {
        bool want = all & BIT(EVENT_TICK_5 + i);
        if (want && !ev_is_active(&ev->ticks[i])) {
            ev_periodic_start(ev->loop, &ev->ticks[i]);
        } else if (!want && ev_is_active(&ev->ticks[i])) {
            ev_periodic_stop(ev->loop, &ev->ticks[i]);
        }
    }
}

void
events_free(struct events *ev)
{
    if (!ev) {
        return;
    }
    while (ev->members) {
        struct member *m = ev->members;
        ev->members = m->next;
        listener_free(m->l);
        if (m->busy) {
            event_unref(m->current.event);
        }
        free(m);
    }
    while (ev->pools) {
        struct pool *pl = ev->pools;
        ev->pools = pl->next;
        pool_free(pl);
    }
    for (size_t i = 0; i < ARRAY_SIZE(ev->ticks); i++) {
        ev_periodic_stop(ev->loop, &ev->ticks[i]);
    }
    for (size_t i = 0; i < ev->ring_n; i++) {
        event_unref(ev->ring[(ev->ring_start + i) % EVENTS_RING]);
    }
    free(ev->followers);
    free(ev->identifier);
    free(ev);
}

/* ---- tend events ---- */

void
events_format_recent(struct events *ev, bool json, struct strbuf *out)
{
    for (size_t i = 0; i < ev->ring_n; i++) {
        const struct event *e = ev->ring[(ev->ring_start + i) % EVENTS_RING];
        (json ? event_json : event_text)(e, out);
    }
}

void
events_follow(struct events *ev, bool json, events_follow_fn fn, void *arg)
{
    ev->followers = xrealloc(ev->followers, (ev->nfollowers + 1) * sizeof(*ev->followers));
    ev->followers[ev->nfollowers++] = (struct follower){fn, arg, json};
}

void
events_unfollow(struct events *ev, void *arg)
{
    for (size_t i = 0; i < ev->nfollowers; i++) {
        if (ev->followers[i].arg == arg) {
            ev->followers[i] = ev->followers[--ev->nfollowers];
            return;
        }
    }
}
