/* control.c - the control socket, server side: bounded non-blocking clients, SO_PEERCRED, one
 * request per connection, HTTP connections handed to the http hook, the verbs and their
 * replies (status rendered by status.c; start/stop/restart/signal/pid/wait in control_wait.c).
 * Calls supervise's public functions, status, protocol, logtail, output, events, json, log. */
#include "control_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "json.h"
#include "log.h"
#include "logtail.h"
#include "status.h"
#include "values.h"

/* ---- connections ---- */

static void client_free(struct client *c);

static void client_watch(struct client *c, bool reading)
{
    if (c->reading == reading && ev_is_active(&c->io)) {
        return;
    }
    ev_io_stop(c->ctl->loop, &c->io);
    ev_io_set(&c->io, c->fd, reading ? EV_READ : EV_READ | EV_WRITE);
    c->reading = reading;
    ev_io_start(c->ctl->loop, &c->io);
}

/* Writes what is pending; closes the client when done and asked to. Returns -1 if freed. */
int client_flush(struct client *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            client_watch(c, false);
            return 0;
        }
        if (n <= 0) {
            client_free(c);
            return -1;
        }
        c->out_off += (size_t)n;
    }
    strbuf_reset(&c->out);
    c->out_off = 0;
    if (c->close_after_flush) {
        client_free(c);
        return -1;
    }
    client_watch(c, true);
    return 0;
}

void client_header(struct client *c, int code, const char *err, size_t errlen)
{
    strbuf_addf(&c->out, "%d %zu\n", code, errlen);
    strbuf_add(&c->out, err, errlen);
    c->header_sent = true;
}

/* The whole answer at once: header, stderr text, stdout text; then the connection closes. */
void client_reply(struct client *c, int code, const struct strbuf *err, const struct strbuf *out)
{
    client_header(c, code, err && err->buf ? err->buf : "", err ? err->len : 0);
    if (out && out->len) {
        strbuf_add(&c->out, out->buf, out->len);
    }
    c->close_after_flush = true;
    client_flush(c);
}

void client_error(struct client *c, int code, const char *fmt, ...)
{
    struct strbuf err;
    strbuf_init(&err);
    strbuf_adds(&err, "tend: ");
    va_list ap;
    va_start(ap, fmt);
    strbuf_vaddf(&err, fmt, ap);
    va_end(ap);
    strbuf_addc(&err, '\n');
    client_reply(c, code, &err, NULL);
    strbuf_free(&err);
}

static void client_free(struct client *c)
{
    struct control *ctl = c->ctl;
    if (c->followed) {
        output_sink_remove_listener(c->followed, c);
    }
    if (c->follows_events) {
        events_unfollow(ctl->events, c);
    }
    ev_io_stop(ctl->loop, &c->io);
    ev_timer_stop(ctl->loop, &c->idle);
    if (c->fd >= 0) {
        close(c->fd);
    }
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        ctl->clients = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    ctl->nclients--;
    free(c->in);
    free(c->targets);
    strbuf_free(&c->out);
    free(c);
}

/* ---- targets: NAME, GROUP:*, GROUP:NAME, all ---- */

static void targets_add(struct proc ***v, size_t *n, struct proc *p)
{
    for (size_t i = 0; i < *n; i++) {
        if ((*v)[i] == p) {
            return;
        }
    }
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = p;
}

int resolve_targets(struct control *ctl, char **names, size_t nnames, struct proc ***out,
                    size_t *nout, struct strbuf *err)
{
    struct supervisor *sv = ctl->sv;
    *out = NULL;
    *nout = 0;
    int rc = 0;
    for (size_t i = 0; i < nnames; i++) {
        const char *name = names[i];
        size_t before = *nout;
        const char *colon = strchr(name, ':');
        if (strcmp(name, "all") == 0) {
            for (size_t k = 0; k < sv->nprocs; k++) {
                targets_add(out, nout, sv->procs[k]);
            }
            continue;
        }
        if (colon) {
            size_t glen = (size_t)(colon - name);
            for (size_t k = 0; k < sv->nprocs; k++) {
                const struct proc_config *pc = sv->procs[k]->cfg;
                if (strlen(pc->group) == glen && strncmp(pc->group, name, glen) == 0 &&
                    (strcmp(colon + 1, "*") == 0 || strcmp(colon + 1, pc->name) == 0)) {
                    targets_add(out, nout, sv->procs[k]);
                }
            }
        } else {
            struct proc *p = supervisor_find(sv, name);
            if (p) {
                targets_add(out, nout, p);
            } else {
                /* a program or group name stands for all its processes */
                for (size_t k = 0; k < sv->nprocs; k++) {
                    const struct proc_config *pc = sv->procs[k]->cfg;
                    if (strcmp(pc->program, name) == 0 || strcmp(pc->group, name) == 0) {
                        targets_add(out, nout, sv->procs[k]);
                    }
                }
            }
        }
        if (*nout == before) {
            strbuf_addf(err, "tend: no such process: %s\n", name);
            rc = -1;
        }
    }
    return rc;
}

static void verb_status(struct client *c, char **args, size_t nargs, bool color)
{
    struct control *ctl = c->ctl;
    struct proc **targets = NULL;
    size_t n = 0;
    struct strbuf out, err;
    strbuf_init(&out);
    strbuf_init(&err);
    int code = 0;
    if (nargs == 0) {
        char *all = (char *)"all";
        resolve_targets(ctl, &all, 1, &targets, &n, &err);
    } else if (resolve_targets(ctl, args, nargs, &targets, &n, &err) < 0) {
        code = 1;
    }
    double now = ev_time();
    if (c->json) {
        status_render_json(&out, targets, n, now);
    } else if (n > 0 || nargs == 0) {
        /* names that all matched nothing get the error alone, not an empty table's header */
        status_render_table(&out, targets, n, now, color);
    }
    /* scripts can trust it: naming processes asks whether every one of them is RUNNING */
    if (nargs > 0) {
        for (size_t i = 0; i < n; i++) {
            if (targets[i]->state != PROC_RUNNING) {
                code = code ? code : 1;
            }
        }
    }
    client_reply(c, code, &err, &out);
    strbuf_free(&out);
    strbuf_free(&err);
    free(targets);
}

/* ---- logs ---- */

static void follow_cb(void *arg, const char *buf, size_t n)
{
    struct client *c = arg;
    if (c->out.len - c->out_off + n > CONTROL_MAX_PENDING) {
        /* a follower that does not read is dropped rather than buffered without bound */
        c->out_off = c->out.len;
        c->close_after_flush = true;
        client_watch(c, false);
        return;
    }
    strbuf_add(&c->out, buf, n);
    /* the write happens from the loop: this runs inside output's write path */
    client_watch(c, false);
}

/* `logs --rotate NAME|GROUP:*|all`: rotate the log files now. */
static void logs_rotate(struct client *c, const char *name)
{
    struct strbuf out, err;
    strbuf_init(&out);
    strbuf_init(&err);
    struct proc **targets;
    size_t n;
    char *names[] = {(char *)name};
    int code = resolve_targets(c->ctl, names, 1, &targets, &n, &err) < 0 ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
        struct output_sink *sinks[] = {targets[i]->out, targets[i]->err};
        for (size_t k = 0; k < ARRAY_SIZE(sinks); k++) {
            if (sinks[k] && output_sink_direct(sinks[k])) {
                /* renaming it would only rename the file the program goes on writing */
                strbuf_addf(&err,
                            "%s: not rotated %s: the program writes it itself "
                            "(%s_logfile_direct)\n",
                            targets[i]->cfg->name, output_sink_path(sinks[k]),
                            k == 0 ? "stdout" : "stderr");
                code = 1;
            } else if (sinks[k] && output_sink_path(sinks[k])) {
                output_sink_rotate(sinks[k]);
                strbuf_addf(&out, "%s: rotated %s\n", targets[i]->cfg->name,
                            output_sink_path(sinks[k]));
            }
        }
    }
    client_reply(c, code, &err, &out);
    strbuf_free(&out);
    strbuf_free(&err);
    free(targets);
}

static void verb_logs(struct client *c, char **args, size_t nargs)
{
    const char *name = NULL;
    bool follow = false, use_stderr = false, rotate = false;
    long lines = CONTROL_DEFAULT_LINES;
    for (size_t i = 0; i < nargs; i++) {
        if (strcmp(args[i], "-f") == 0 || strcmp(args[i], "--follow") == 0) {
            follow = true;
        } else if (strcmp(args[i], "--stderr") == 0) {
            use_stderr = true;
        } else if (strcmp(args[i], "--rotate") == 0) {
            rotate = true;
        } else if ((strcmp(args[i], "-n") == 0 || strcmp(args[i], "--lines") == 0) &&
                   i + 1 < nargs) {
            char *perr = NULL;
            if (value_parse_int(args[++i], 0, 100000000, &lines, &perr) < 0) {
                client_error(c, 2, "logs: -n: %s", perr);
                free(perr);
                return;
            }
        } else if (!name && args[i][0] != '-') {
            name = args[i];
        } else {
            client_error(c, 2, "logs: usage: tend logs NAME [-f] [-n LINES] [--stderr]");
            return;
        }
    }
    if (!name) {
        client_error(c, 2, "logs: usage: tend logs NAME [-f] [-n LINES] [--stderr]");
        return;
    }
    if (rotate) {
        logs_rotate(c, name);
        return;
    }
    struct proc *p = supervisor_find(c->ctl->sv, name);
    if (!p) {
        client_error(c, 1, "no such process: %s", name);
        return;
    }
    struct output_sink *sink = use_stderr ? p->err : p->out;
    if (!sink) {
        client_error(c, 1, "%s: stderr is redirected to stdout (redirect_stderr); see tend logs %s",
                     name, name);
        return;
    }
    size_t n = 0;
    char *buf = output_sink_path(sink) ? logtail_read(output_sink_path(sink), 4 << 20, &n)
                                       : output_sink_ring_copy(sink, &n);
    size_t from = lines == 0 ? n : (buf ? logtail_offset(buf, n, lines) : 0);
    client_header(c, 0, "", 0);
    if (buf && from < n) {
        strbuf_add(&c->out, buf + from, n - from);
    }
    free(buf);
    if (follow) {
        c->wait = WAIT_FOLLOW;
        c->followed = sink;
        output_sink_add_listener(sink, follow_cb, c);
        client_flush(c);
    } else {
        c->close_after_flush = true;
        client_flush(c);
    }
}

/* ---- events ---- */

static void verb_events(struct client *c, char **args, size_t nargs)
{
    bool follow = false;
    for (size_t i = 0; i < nargs; i++) {
        if (strcmp(args[i], "-f") == 0 || strcmp(args[i], "--follow") == 0) {
            follow = true;
        } else {
            client_error(c, 2, "events: unexpected argument '%.40s'", args[i]);
            return;
        }
    }
    if (!c->ctl->events) {
        client_error(c, 1, "events: not available");
        return;
    }
    client_header(c, 0, "", 0);
    events_format_recent(c->ctl->events, c->json, &c->out);
    if (follow) {
        c->wait = WAIT_FOLLOW;
        c->follows_events = true;
        events_follow(c->ctl->events, c->json, follow_cb, c);
    } else {
        c->close_after_flush = true;
    }
    client_flush(c);
}

/* ---- send ---- */

static void verb_send(struct client *c, char **args, size_t nargs, bool eof, bool raw)
{
    if (nargs < 1) {
        client_error(c, 2, "send: usage: tend send [--eof] NAME [TEXT...|-]");
        return;
    }
    struct proc *p = supervisor_find(c->ctl->sv, args[0]);
    if (!p) {
        client_error(c, 1, "no such process: %s", args[0]);
        return;
    }
    struct strbuf data;
    strbuf_init(&data);
    if (raw && nargs == 2) {
        size_t len;
        char *bytes = control_decode_bytes(args[1], strlen(args[1]), &len);
        strbuf_add(&data, bytes, len);
        free(bytes);
    } else if (nargs > 1) {
        /* words are joined like echo joins them, with a newline at the end */
        for (size_t i = 1; i < nargs; i++) {
            strbuf_addf(&data, "%s%s", i > 1 ? " " : "", args[i]);
        }
        strbuf_addc(&data, '\n');
    }
    char *err = NULL;
    if (proc_send(p, data.buf ? data.buf : "", data.len, eof, &err) < 0) {
        client_error(c, 1, "%s", err);
        free(err);
    } else {
        client_reply(c, 0, NULL, NULL);
    }
    strbuf_free(&data);
}

/* ---- dispatch ---- */

static void verb_version(struct client *c)
{
    struct strbuf out;
    strbuf_init(&out);
    strbuf_addf(&out, "tend %s\n", PACKAGE_VERSION);
    client_reply(c, 0, NULL, &out);
    strbuf_free(&out);
}

static void client_dispatch(struct client *c, char **words, size_t nwords)
{
    struct control *ctl = c->ctl;
    const char *verb = words[0];
    /* flags every verb may carry */
    char **args = xcalloc(nwords + 1, sizeof(char *));
    size_t nargs = 0;
    bool color = false, no_wait = false, dry_run = false, eof = false, raw = false;
    for (size_t i = 1; i < nwords; i++) {
        if (strcmp(words[i], "--json") == 0) {
            c->json = true;
        } else if (strcmp(words[i], "--color") == 0) {
            color = true;
        } else if (strcmp(words[i], "--no-wait") == 0) {
            no_wait = true;
        } else if (strcmp(words[i], "--dry-run") == 0) {
            dry_run = true;
        } else if (strcmp(words[i], "--eof") == 0) {
            eof = true;
        } else if (strcmp(words[i], "--raw") == 0) {
            raw = true;
        } else {
            args[nargs++] = words[i];
        }
    }
    if (strcmp(verb, "status") == 0) {
        verb_status(c, args, nargs, color);
    } else if (strcmp(verb, "start") == 0 || strcmp(verb, "stop") == 0 ||
               strcmp(verb, "restart") == 0) {
        verb_act(c, verb, args, nargs, no_wait);
    } else if (strcmp(verb, "signal") == 0) {
        verb_signal(c, args, nargs);
    } else if (strcmp(verb, "pid") == 0) {
        verb_pid(c, args, nargs);
    } else if (strcmp(verb, "wait") == 0) {
        verb_wait(c, args, nargs);
    } else if (strcmp(verb, "logs") == 0) {
        verb_logs(c, args, nargs);
    } else if (strcmp(verb, "version") == 0) {
        verb_version(c);
    } else if (strcmp(verb, "events") == 0) {
        verb_events(c, args, nargs);
    } else if (strcmp(verb, "send") == 0) {
        verb_send(c, args, nargs, eof, raw);
    } else if (strcmp(verb, "reload") == 0 && ctl->hooks.reload) {
        struct strbuf out, err;
        strbuf_init(&out);
        strbuf_init(&err);
        int code = ctl->hooks.reload(ctl->hooks.arg, dry_run, &out, &err);
        client_reply(c, code, &err, &out);
        strbuf_free(&out);
        strbuf_free(&err);
    } else if (strcmp(verb, "down") == 0 && ctl->hooks.down) {
        c->wait = WAIT_DOWN;
        ctl->hooks.down(ctl->hooks.arg);
    } else {
        client_error(c, 2, "unknown request '%.40s'", verb);
    }
    free(args);
}

static void client_request(struct client *c, size_t len)
{
    ev_timer_stop(c->ctl->loop, &c->idle);
    struct strv words;
    strv_init(&words);
    const char *p = c->in, *end = c->in + len;
    while (p <= end) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        const char *stop = tab ? tab : end;
        strv_push_owned(&words, control_decode_word(p, (size_t)(stop - p)));
        p = stop + 1;
    }
    if (words.n == 0 || !words.v[0][0]) {
        client_error(c, 2, "empty request");
    } else {
        client_dispatch(c, words.v, words.n);
    }
    strv_free(&words);
}

static void client_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct client *c = w->data;
    (void)loop;
    if (revents & EV_WRITE) {
        if (client_flush(c) < 0) {
            return;
        }
    }
    if (!(revents & EV_READ)) {
        return;
    }
    if (c->header_sent || c->wait != WAIT_NONE) {
        /* after the request only end-of-file matters: the client went away */
        char buf[256];
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            client_free(c);
        }
        return;
    }
    if (c->inlen == 0 && c->ctl->hooks.http) {
        /* HTTP's methods are upper case, tend's verbs lower case: one byte tells them apart */
        char first;
        if (recv(c->fd, &first, 1, MSG_PEEK) == 1 && first >= 'A' && first <= 'Z') {
            struct control *ctl = c->ctl;
            int fd = c->fd;
            c->fd = -1;
            client_free(c);
            ctl->hooks.http(ctl->hooks.arg, fd);
            return;
        }
    }
    ssize_t n = recv(c->fd, c->in + c->inlen, CONTROL_MAX_REQUEST - c->inlen, 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            client_free(c);
        }
        return;
    }
    if (n == 0) {
        /* half a request and then nothing */
        client_free(c);
        return;
    }
    c->inlen += (size_t)n;
    char *nl = memchr(c->in, '\n', c->inlen);
    if (nl) {
        client_request(c, (size_t)(nl - c->in));
        return;
    }
    if (c->inlen >= CONTROL_MAX_REQUEST) {
        client_error(c, 2, "request too long (more than %d bytes)", CONTROL_MAX_REQUEST);
    }
}

static void client_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct client *c = w->data;
    (void)loop;
    (void)revents;
    client_error(c, 2, "no complete request within %gs", CONTROL_IDLE_SECONDS);
}

static bool peer_allowed(const struct control *ctl, int fd)
{
    if (ctl->others_allowed) {
        return true;
    }
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        return false;
    }
    return cred.uid == 0 || cred.uid == geteuid();
}

/* Answers and closes a connection that will not be served (best effort, never blocks). */
static void refuse(int fd, const char *msg)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "1 %zu\n%s", strlen(msg), msg);
    ssize_t ignored = send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)ignored;
    close(fd);
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct control *ctl = w->data;
    (void)revents;
    for (int i = 0; i < 64; i++) {
        int fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                log_warn("control socket: cannot accept a client: %s", strerror(errno));
            }
            return;
        }
        if (!peer_allowed(ctl, fd)) {
            refuse(fd, "tend: permission denied: not the owner of this supervisor\n");
            continue;
        }
        if (ctl->nclients >= CONTROL_MAX_CLIENTS) {
            refuse(fd, "tend: too many clients; try again\n");
            continue;
        }
        struct client *c = xcalloc(1, sizeof(*c));
        c->ctl = ctl;
        c->fd = fd;
        c->in = xmalloc(CONTROL_MAX_REQUEST);
        strbuf_init(&c->out);
        ev_io_init(&c->io, client_io_cb, fd, EV_READ);
        c->io.data = c;
        c->reading = true;
        ev_io_start(loop, &c->io);
        ev_timer_init(&c->idle, client_idle_cb, CONTROL_IDLE_SECONDS, 0.);
        c->idle.data = c;
        ev_timer_start(loop, &c->idle);
        c->next = ctl->clients;
        if (ctl->clients) {
            ctl->clients->prev = c;
        }
        ctl->clients = c;
        ctl->nclients++;
    }
}

/* ---- lifetime ---- */

struct control *control_new(struct ev_loop *loop, struct supervisor *sv, const char *path,
                            int mode, const struct control_hooks *hooks, char **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path)) {
        *err = xasprintf("control socket path too long: %s", path);
        return NULL;
    }
    strcpy(addr.sun_path, path);
    if (mkdir_parents(path, 0700) < 0) {
        *err = xasprintf("cannot create the directory of %s: %s", path, strerror(errno));
        return NULL;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = xasprintf("cannot create a socket: %s", strerror(errno));
        return NULL;
    }
    /* a socket file nobody answers on is stale (a killed tend): take it over */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        pid_t pid = getsockopt(probe, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : 0;
        *err = xasprintf("already running (pid %d)", (int)pid);
        close(probe);
        close(fd);
        return NULL;
    }
    if (probe >= 0) {
        close(probe);
    }
    unlink(path);
    /* created owner-only from the start, so there is no window with wider permissions */
    mode_t old = umask(0077);
    int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    umask(old);
    if (rc < 0 || chmod(path, (mode_t)(mode & 0777)) < 0 || listen(fd, 128) < 0) {
        *err = xasprintf("cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    struct control *ctl = xcalloc(1, sizeof(*ctl));
    ctl->loop = loop;
    ctl->sv = sv;
    ctl->hooks = *hooks;
    ctl->path = xstrdup(path);
    ctl->fd = fd;
    ev_io_init(&ctl->accept_watcher, accept_cb, fd, EV_READ);
    ctl->accept_watcher.data = ctl;
    ev_io_start(loop, &ctl->accept_watcher);
    return ctl;
}

void control_allow_others(struct control *ctl)
{
    ctl->others_allowed = true;
}

void control_set_events(struct control *ctl, struct events *events)
{
    ctl->events = events;
}

void control_set_supervisor(struct control *ctl, struct supervisor *sv)
{
    ctl->sv = sv;
}

void control_proc_changed(struct control *ctl, struct proc *p, enum proc_state old)
{
    struct client *next;
    for (struct client *c = ctl->clients; c; c = next) {
        next = c->next;
        if (c->wait == WAIT_NONE || c->wait == WAIT_FOLLOW || c->wait == WAIT_DOWN) {
            continue;
        }
        bool involved = false;
        for (size_t i = 0; i < c->ntargets; i++) {
            involved |= c->targets[i] == p;
        }
        if (!involved) {
            continue;
        }
        if (c->wait == WAIT_EXIT) {
            bool was_alive = old == PROC_STARTING || old == PROC_RUNNING || old == PROC_STOPPING;
            if (was_alive && !proc_is_alive(p) && p->has_exited) {
                client_answer_exit(c, p);
            }
            continue;
        }
        client_check_wait(c);
    }
}

void control_proc_removed(struct control *ctl, struct proc *p)
{
    struct client *next;
    for (struct client *c = ctl->clients; c; c = next) {
        next = c->next;
        bool involved = c->followed == p->out || (p->err && c->followed == p->err);
        for (size_t i = 0; i < c->ntargets; i++) {
            involved |= c->targets[i] == p;
        }
        if (!involved) {
            continue;
        }
        if (c->followed) {
            output_sink_remove_listener(c->followed, c);
            c->followed = NULL;
            c->close_after_flush = true;
            client_flush(c);
        } else {
            c->wait = WAIT_NONE;
            client_error(c, 1, "%s was removed from the configuration", p->cfg->name);
        }
    }
}

void control_sinks_replaced(struct control *ctl, struct proc *p, struct output_sink *old_out,
                            struct output_sink *old_err)
{
    for (struct client *c = ctl->clients; c; c = c->next) {
        if (!c->followed || (c->followed != old_out && c->followed != old_err)) {
            continue;
        }
        struct output_sink *to = c->followed == old_out ? p->out : p->err;
        output_sink_remove_listener(c->followed, c);
        c->followed = to;
        if (to) {
            output_sink_add_listener(to, follow_cb, c);
        } else {
            c->close_after_flush = true;
            client_flush(c);
        }
    }
}

void control_free(struct control *ctl)
{
    if (!ctl) {
        return;
    }
    while (ctl->clients) {
        struct client *c = ctl->clients;
        if (c->wait == WAIT_DOWN && !c->header_sent) {
            /* best effort: the reply to `down` is tiny and the client is waiting for it */
            fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
            client_header(c, 0, "", 0);
            strbuf_adds(&c->out, "tend: stopped\n");
            ssize_t ignored = send(c->fd, c->out.buf, c->out.len, MSG_NOSIGNAL);
            (void)ignored;
        }
        client_free(c);
    }
    ev_io_stop(ctl->loop, &ctl->accept_watcher);
    close(ctl->fd);
    unlink(ctl->path);
    free(ctl->path);
    free(ctl);
}
