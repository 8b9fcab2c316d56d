/* listener.c - the READY / RESULT protocol of one event listener process, parsed exactly as
 * supervisord's PEventListenerDispatcher does it. */
#include "listener.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

#define LISTENER_READY_TOKEN "READY\n"
#define LISTENER_RESULT_TOKEN_LEN 7 /* "RESULT " */
#define LISTENER_MAX_LINE 4096      /* a RESULT line longer than this is garbage */

struct listener {
    struct ev_loop *loop;
    char *name;
    int in_fd, out_fd;
    ev_io out_io, in_io;
    enum listener_state state;
    struct strbuf data; /* read and not yet consumed: data.buf[used .. len) */
    size_t used;
    long result_len; /* -1 until the RESULT line is complete */
    struct strbuf result;
    struct strbuf pending; /* envelope bytes the pipe has not taken yet */
    size_t pending_off;
    struct listener_hooks hooks;
};

static const char *const state_names[] = {"ACKNOWLEDGED", "READY", "BUSY", "UNKNOWN"};

const char *
listener_state_name(enum listener_state s)
{
    return state_names[s];
}

enum listener_state
listener_state(const struct listener *l)
{
    return l->state;
}

static void
listener_set_state(struct listener *l, enum listener_state s)
{
    log_debug("%s: %s -> %s", l->name, state_names[l->state], state_names[s]);
    l->state = s;
    if (s == LISTENER_UNKNOWN) {
        log_warn("%s: has entered the UNKNOWN state and will no longer receive events, this "
                 "usually indicates the process violated the eventlistener protocol",
                 l->name);
    }
}

static void
listener_discard(struct listener *l)
{
    strbuf_reset(&l->data);
    l->used = 0;
}

/* One step of the state machine over the unread bytes; false when it needs more input. */
static bool
listener_step(struct listener *l)
{
    const char *d = l->data.buf + l->used;
    size_t n = l->data.len - l->used;
    if (n == 0) {
        return false;
    }
    switch (l->state) {
    case LISTENER_UNKNOWN:
        listener_discard(l);
        return false;
    case LISTENER_ACKNOWLEDGED: {
        size_t tlen = strlen(LISTENER_READY_TOKEN);
        if (n < tlen) {
            return false;
        }
        if (memcmp(d, LISTENER_READY_TOKEN, tlen) == 0) {
            l->used += tlen;
            listener_set_state(l, LISTENER_READY);
            if (l->hooks.ready) {
                l->hooks.ready(l, l->hooks.arg);
            }
            return true;
        }
        listener_set_state(l, LISTENER_UNKNOWN);
        listener_discard(l);
        return false;
    }
    case LISTENER_READY:
        /* spurious output before an event was sent: supervisord is strict about it */
        listener_set_state(l, LISTENER_UNKNOWN);
        listener_discard(l);
        return false;
    case LISTENER_BUSY:
        if (l->result_len < 0) {
            const char *nl = memchr(d, '\n', n);
            if (!nl && n < LISTENER_MAX_LINE) {
                return false;
            }
            size_t linelen = nl ? (size_t)(nl - d) : n;
            char *line = xstrndup(d, linelen);
            l->used += nl ? linelen + 1 : linelen;
            /* like supervisord: the first 7 bytes are skipped, the rest must be a number */
            const char *num =
                linelen > LISTENER_RESULT_TOKEN_LEN ? line + LISTENER_RESULT_TOKEN_LEN : "";
            char *end;
            errno = 0;
            long v = strtol(num, &end, 10);
            while (*end == ' ' || *end == '\t' || *end == '\r') {
                end++;
            }
            if (!nl || end == num || *end || errno || v < 0 || v > LISTENER_MAX_LINE) {
                log_warn("%s: bad result line: '%s'", l->name, line);
                free(line);
                listener_set_state(l, LISTENER_UNKNOWN);
                listener_discard(l);
                if (l->hooks.violated) {
                    l->hooks.violated(l, l->hooks.arg);
                }
                return false;
            }
            free(line);
            l->result_len = v;
            strbuf_reset(&l->result);
            return true;
        }
        size_t need = (size_t)l->result_len - l->result.len;
        size_t take = need < n ? need : n;
        strbuf_add(&l->result, d, take);
        l->used += take;
        if (l->result.len < (size_t)l->result_len) {
            return false;
        }
        bool ok = l->result.len == 2 && memcmp(l->result.buf, "OK", 2) == 0;
        l->result_len = -1;
        if (!ok) {
            log_warn("%s: event was rejected", l->name);
        } else {
            log_debug("%s: event was processed", l->name);
        }
        listener_set_state(l, LISTENER_ACKNOWLEDGED);
        if (l->hooks.done) {
            l->hooks.done(l, ok, l->hooks.arg);
        }
        return true;
    }
    return false;
}

static void
listener_process(struct listener *l)
{
    while (listener_step(l)) {
    }
    if (l->used == l->data.len) {
        listener_discard(l);
    } else if (l->used > 65536) {
        memmove(l->data.buf, l->data.buf + l->used, l->data.len - l->used);
        l->data.len -= l->used;
        l->data.buf[l->data.len] = '\0';
        l->used = 0;
    }
}

/* Reads what is there; returns false at EOF or on an error. */
static bool
listener_read(struct listener *l)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(l->out_fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        }
        if (n <= 0) {
            return false;
        }
        strbuf_add(&l->data, buf, (size_t)n);
        listener_process(l);
        if ((size_t)n < sizeof(buf)) {
            return true;
        }
    }
}

static void
listener_out_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct listener *l = w->data;
    (void)revents;
    if (!listener_read(l)) {
        /* the process is ending; its exit (a state change) frees the listener */
        ev_io_stop(loop, &l->out_io);
    }
}

/* Writes pending bytes; -1 when the pipe is broken. */
static int
listener_flush(struct listener *l)
{
    while (l->pending_off < l->pending.len) {
        ssize_t n =
            write(l->in_fd, l->pending.buf + l->pending_off, l->pending.len - l->pending_off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ev_io_start(l->loop, &l->in_io);
            return 0;
        }
        if (n < 0) {
            ev_io_stop(l->loop, &l->in_io);
            strbuf_reset(&l->pending);
            l->pending_off = 0;
            return -1;
        }
        l->pending_off += (size_t)n;
    }
    ev_io_stop(l->loop, &l->in_io);
    strbuf_reset(&l->pending);
    l->pending_off = 0;
    return 0;
}

static void
listener_in_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct listener *l = w->data;
    (void)loop;
    (void)revents;
    if (listener_flush(l) < 0) {
        log_debug("%s: its stdin is closed", l->name);
    }
}

int
listener_send(struct listener *l, const char *buf, size_t n)
{
    if (l->in_fd < 0) {
        return -1;
    }
    strbuf_add(&l->pending, buf, n);
    if (listener_flush(l) < 0) {
        return -1;
    }
    listener_set_state(l, LISTENER_BUSY);
    l->result_len = -1;
    return 0;
}

struct listener *
listener_new(struct ev_loop *loop, const char *name, int in_fd, int out_fd,
             const struct listener_hooks *hooks)
{
    struct listener *l = xcalloc(1, sizeof(*l));
    l->loop = loop;
    l->name = xstrdup(name);
    l->in_fd = in_fd;
    l->out_fd = out_fd;
    l->state = LISTENER_ACKNOWLEDGED;
    l->result_len = -1;
    l->hooks = *hooks;
    strbuf_init(&l->data);
    strbuf_init(&l->result);
    strbuf_init(&l->pending);
    ev_io_init(&l->out_io, listener_out_cb, out_fd, EV_READ);
    l->out_io.data = l;
    ev_io_start(loop, &l->out_io);
    ev_io_init(&l->in_io, listener_in_cb, in_fd, EV_WRITE);
    l->in_io.data = l;
    return l;
}

void
listener_drain(struct listener *l)
{
    if (ev_is_active(&l->out_io)) {
        listener_read(l);
    }
}

void
listener_free(struct listener *l)
{
    if (!l) {
        return;
    }
    ev_io_stop(l->loop, &l->out_io);
    ev_io_stop(l->loop, &l->in_io);
    close(l->out_fd);
    close(l->in_fd);
    strbuf_free(&l->data);
    strbuf_free(&l->result);
    strbuf_free(&l->pending);
    free(l->name);
    free(l);
}

/* supervisord sets these before the program's environment=, which may override them */
static void
env_default(struct strv *env, char *entry)
{
    size_t klen = strcspn(entry, "=") + 1;
    bool present = false;
    for (size_t i = 0; i < env->n && !present; i++) {
        present = strncmp(env->v[i], entry, klen) == 0;
    }
    if (!present) {
        strv_setenv(env, entry);
    }
    free(entry);
}

void
listener_environment(const struct global_config *g, struct strv *env)
{
    char cwd[4096];
    const char *user = g->socket_username, *pass = g->socket_password;
    char *url;
    if (g->socket[0] == '/' || !getcwd(cwd, sizeof(cwd))) {
        url = xasprintf("SUPERVISOR_SERVER_URL=unix://%s", g->socket);
    } else {
        url = xasprintf("SUPERVISOR_SERVER_URL=unix://%s/%s", cwd, g->socket);
    }
    env_default(env, url);
    if (user && *user) {
        env_default(env, xasprintf("SUPERVISOR_USERNAME=%s", user));
    }
    /* a {SHA} hash cannot log in: the listener must be given the password another way */
    if (pass && *pass && strncasecmp(pass, "{SHA}", 5) != 0) {
        env_default(env, xasprintf("SUPERVISOR_PASSWORD=%s", pass));
    }
}
