/* http.c - supervisord's HTTP surface: XML-RPC at /RPC2, /logtail/NAME[/stderr] and
 * /mainlogtail, Basic auth (plain and {SHA} passwords), body limits. libmicrohttpd runs in
 * tend's libev loop without a thread: its epoll fd is watched by one ev_io and its timeout by
 * one ev_timer; waiting answers and idle log streams suspend their connection and resume it
 * when the supervisor has news. */
#include "http.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <microhttpd.h>
#include <netdb.h>
#include <nettle/sha1.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "webpage.h"
#include "xmlrpc.h"
#include "output.h"

#define HTTP_MAX_BODY (1024 * 1024)          /* bigger requests get 413 */
#define HTTP_MAX_CONNECTIONS 256
#define HTTP_TIMEOUT_SECONDS 60               /* idle connections are closed */
#define HTTP_TAIL_BYTES 1024                  /* /logtail starts with the last KiB, as supervisord */
#define HTTP_STREAM_MAX_PENDING (1024 * 1024) /* a follower this far behind loses the oldest */

struct request {
    struct http *h;
    struct MHD_Connection *conn;
    struct strbuf body;
    bool too_big;
    bool suspended;
    char *answer; /* a waiting XML-RPC answer, once it has come */
    size_t answer_len;
    struct rpc_pending *pending;
    struct request *prev, *next;
};

/* A /logtail or /mainlogtail response: what was written since, until the client leaves. */
struct stream {
    struct http *h;
    struct MHD_Connection *conn;
    struct output_sink *sink; /* NULL for tend's own log */
    struct proc *proc;
    struct strbuf buf;
    size_t off;
    bool suspended;
    bool ended;
    struct stream *prev, *next;
};

struct http {
    struct ev_loop *loop;
    struct supervisor *sv;
    struct rpc *rpc;
    struct MHD_Daemon *daemon;
    ev_io io;
    ev_timer timer;
    int listen_fd;
    char *unix_user, *unix_password;
    char *inet_user, *inet_password;
    char *main_log;
    struct stream *streams;
    struct request *requests; /* every request being served, to wake the waiting at the end */
    char token[33]; /* in the page's forms: a POST from another site cannot know it */
};

/* ---- libmicrohttpd, loaded when the server starts ----
 * Linking it would load GnuTLS and its dependencies into every tend command, `tend status` and
 * `tend run` included (their start-up tripled); only `tend up` needs it. The table is filled
 * once and never changes after. */
static struct {
    __typeof__(&MHD_add_connection) add_connection;
    __typeof__(&MHD_add_response_header) add_response_header;
    __typeof__(&MHD_basic_auth_get_username_password) basic_auth_get_username_password;
    __typeof__(&MHD_create_response_from_buffer) create_response_from_buffer;
    __typeof__(&MHD_create_response_from_callback) create_response_from_callback;
    __typeof__(&MHD_destroy_response) destroy_response;
    __typeof__(&MHD_free) free;
    __typeof__(&MHD_get_connection_info) get_connection_info;
    __typeof__(&MHD_get_daemon_info) get_daemon_info;
    __typeof__(&MHD_get_timeout) get_timeout;
    __typeof__(&MHD_lookup_connection_value) lookup_connection_value;
    __typeof__(&MHD_queue_basic_auth_fail_response) queue_basic_auth_fail_response;
    __typeof__(&MHD_queue_response) queue_response;
    __typeof__(&MHD_resume_connection) resume_connection;
    __typeof__(&MHD_run) run;
    __typeof__(&MHD_start_daemon) start_daemon;
    __typeof__(&MHD_stop_daemon) stop_daemon;
    __typeof__(&MHD_suspend_connection) suspend_connection;
} mhd;

static int mhd_load(char **err)
{
    static bool loaded;
    if (loaded) {
        return 0;
    }
    void *lib = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        *err = xasprintf("cannot load libmicrohttpd (%s): %s", MHD_SONAME, dlerror());
        return -1;
    }
#define LOAD(field, name)                                                                          \
    if (!(*(void **)&mhd.field = dlsym(lib, #name))) {                                             \
        *err = xasprintf("libmicrohttpd (%s) has no %s", MHD_SONAME, #name);                     \
        return -1;                                                                                 \
    }
    LOAD(add_connection, MHD_add_connection);
    LOAD(add_response_header, MHD_add_response_header);
    LOAD(basic_auth_get_username_password, MHD_basic_auth_get_username_password);
    LOAD(create_response_from_buffer, MHD_create_response_from_buffer);
    LOAD(create_response_from_callback, MHD_create_response_from_callback);
    LOAD(destroy_response, MHD_destroy_response);
    LOAD(free, MHD_free);
    LOAD(get_connection_info, MHD_get_connection_info);
    LOAD(get_daemon_info, MHD_get_daemon_info);
    LOAD(get_timeout, MHD_get_timeout);
    LOAD(lookup_connection_value, MHD_lookup_connection_value);
    LOAD(queue_basic_auth_fail_response, MHD_queue_basic_auth_fail_response);
    LOAD(queue_response, MHD_queue_response);
    LOAD(resume_connection, MHD_resume_connection);
    LOAD(run, MHD_run);
    LOAD(start_daemon, MHD_start_daemon);
    LOAD(stop_daemon, MHD_stop_daemon);
    LOAD(suspend_connection, MHD_suspend_connection);
#undef LOAD
    loaded = true;
    return 0;
}

/* ---- the loop ---- */

static void http_arm_timer(struct http *h)
{
    MHD_UNSIGNED_LONG_LONG ms;
    ev_timer_stop(h->loop, &h->timer);
    if (mhd.get_timeout(h->daemon, &ms) == MHD_YES) {
        ev_timer_set(&h->timer, (double)ms / 1000.0, 0.);
        ev_timer_start(h->loop, &h->timer);
    }
}

static void http_run(struct http *h)
{
    mhd.run(h->daemon);
    http_arm_timer(h);
}

static void http_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    http_run(w->data);
}

static void http_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    http_run(w->data);
}

/* A resumed connection is served on the next loop iteration, never from inside MHD_run. */
static void http_kick(struct http *h)
{
    ev_feed_event(h->loop, &h->io, EV_READ);
}

/* ---- auth ---- */

static bool secret_equal(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    unsigned char diff = n != m;
    for (size_t i = 0; i < n; i++) {
        diff |= (unsigned char)(a[i] ^ b[i % (m ? m : 1)]);
    }
    return diff == 0;
}

/* supervisord's password: plain text, or {SHA} and the hex SHA-1 of it. */
static bool password_matches(const char *given, const char *want)
{
    if (strncmp(want, "{SHA}", 5) != 0) {
        return secret_equal(given, want);
    }
    struct sha1_ctx ctx;
    uint8_t digest[SHA1_DIGEST_SIZE];
    char hex[2 * SHA1_DIGEST_SIZE + 1];
    sha1_init(&ctx);
    sha1_update(&ctx, strlen(given), (const uint8_t *)given);
    sha1_digest(&ctx, SHA1_DIGEST_SIZE, digest);
    for (size_t i = 0; i < SHA1_DIGEST_SIZE; i++) {
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    char lower[2 * SHA1_DIGEST_SIZE + 1] = "";
    size_t n = strlen(want + 5);
    for (size_t i = 0; i < n && i < 2 * SHA1_DIGEST_SIZE; i++) {
        char ch = want[5 + i];
        lower[i] = ch >= 'A' && ch <= 'F' ? (char)(ch - 'A' + 'a') : ch;
    }
    return n == 2 * SHA1_DIGEST_SIZE && secret_equal(hex, lower);
}

static bool connection_is_unix(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        mhd.get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return ci && ci->client_addr && ci->client_addr->sa_family == AF_UNIX;
}

static bool auth_ok(struct http *h, struct MHD_Connection *conn)
{
    bool is_unix = connection_is_unix(conn);
    const char *user = is_unix ? h->unix_user : h->inet_user;
    const char *pass = is_unix ? h->unix_password : h->inet_password;
    if (!user) {
        return true;
    }
    char *given_pass = NULL;
    char *given_user = mhd.basic_auth_get_username_password(conn, &given_pass);
    bool ok = given_user && given_pass && secret_equal(given_user, user) &&
              password_matches(given_pass, pass ? pass : "");
    mhd.free(given_user);
    mhd.free(given_pass);
    return ok;
}

/* ---- answers ---- */

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned code, const char *type,
                              const char *body, size_t len, bool copy)
{
    struct MHD_Response *r = mhd.create_response_from_buffer(
        len, (void *)body, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_MUST_FREE);
    if (!r) {
        if (!copy) {
            free((void *)body);
        }
        return MHD_NO;
    }
    mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ret = mhd.queue_response(conn, code, r);
    mhd.destroy_response(r);
    return ret;
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned code, const char *text)
{
    return answer(conn, code, "text/plain; charset=utf-8", text, strlen(text), true);
}

static enum MHD_Result answer_unauthorized(struct MHD_Connection *conn)
{
    static const char body[] = "401 Unauthorized\n";
    struct MHD_Response *r = mhd.create_response_from_buffer(sizeof(body) - 1, (void *)body,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r) {
        return MHD_NO;
    }
    mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    enum MHD_Result ret = mhd.queue_basic_auth_fail_response(conn, "default", r);
    mhd.destroy_response(r);
    return ret;
}

/* ---- XML-RPC ---- */

static void rpc_done_cb(void *arg, char *body, size_t len)
{
    struct request *rq = arg;
    rq->pending = NULL;
    rq->answer = body;
    rq->answer_len = len;
    if (rq->suspended) {
        rq->suspended = false;
        mhd.resume_connection(rq->conn);
        http_kick(rq->h);
    }
}

static enum MHD_Result serve_rpc(struct request *rq)
{
    size_t len = 0;
    char *body = rpc_handle(rq->h->rpc, rq->body.buf ? rq->body.buf : "", rq->body.len, &len,
                            rpc_done_cb, rq, &rq->pending);
    if (!body) {
        /* the answer comes once the processes got where they were asked to go */
        rq->suspended = true;
        mhd.suspend_connection(rq->conn);
        return MHD_YES;
    }
    return answer(rq->conn, MHD_HTTP_OK, "text/xml", body, len, false);
}

/* ---- /logtail and /mainlogtail ---- */

static void stream_listener(void *arg, const char *buf, size_t n)
{
    struct stream *st = arg;
    if (st->ended) {
        return;
    }
    size_t pending = st->buf.len - st->off;
    if (pending + n > HTTP_STREAM_MAX_PENDING) {
        /* a reader this slow loses the oldest bytes, not tend's memory */
        st->off = st->buf.len;
    }
    if (st->off > 0 && st->off == st->buf.len) {
        strbuf_reset(&st->buf);
        st->off = 0;
    }
    strbuf_add(&st->buf, buf, n);
    if (st->suspended) {
        st->suspended = false;
        mhd.resume_connection(st->conn);
        http_kick(st->h);
    }
}

static void stream_main_log_tap(void *arg, const char *line, size_t n)
{
    struct http *h = arg;
    for (struct stream *st = h->streams; st; st = st->next) {
        if (!st->sink && !st->proc) {
            stream_listener(st, line, n);
        }
    }
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *st = cls;
    (void)pos;
    if (st->off < st->buf.len) {
        size_t n = st->buf.len - st->off;
        n = n < max ? n : max;
        memcpy(buf, st->buf.buf + st->off, n);
        st->off += n;
        return (ssize_t)n;
    }
    if (st->ended) {
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    st->suspended = true;
    mhd.suspend_connection(st->conn);
    return 0;
}

static void stream_free_cb(void *cls)
{
    struct stream *st = cls;
    struct http *h = st->h;
    if (st->sink && !st->ended) {
        output_sink_remove_listener(st->sink, st);
    }
    if (st->prev) {
        st->prev->next = st->next;
    } else if (h->streams == st) {
        h->streams = st->next;
    }
    if (st->next) {
        st->next->prev = st->prev;
    }
    strbuf_free(&st->buf);
    free(st);
}

static void stream_end(struct stream *st)
{
    if (st->sink && !st->ended) {
        output_sink_remove_listener(st->sink, st);
    }
    st->ended = true;
    if (st->suspended) {
        st->suspended = false;
        mhd.resume_connection(st->conn);
        http_kick(st->h);
    }
}

/* The last bytes of a file, to begin a stream with. */
static void tail_file(struct strbuf *out, const char *path, size_t max)
{
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat sb;
    if (fd < 0) {
        return;
    }
    if (fstat(fd, &sb) == 0 && sb.st_size > 0) {
        size_t size = (size_t)sb.st_size, n = size < max ? size : max;
        char *buf = xmalloc(n);
        ssize_t got = pread(fd, buf, n, (off_t)(size - n));
        if (got > 0) {
            strbuf_add(out, buf, (size_t)got);
        }
        free(buf);
    }
    close(fd);
}

static enum MHD_Result serve_stream(struct http *h, struct MHD_Connection *conn,
                                    struct output_sink *sink, struct proc *p)
{
    struct stream *st = xcalloc(1, sizeof(*st));
    st->h = h;
    st->conn = conn;
    st->sink = sink;
    st->proc = p;
    strbuf_init(&st->buf);
    if (sink && output_sink_path(sink)) {
        tail_file(&st->buf, output_sink_path(sink), HTTP_TAIL_BYTES);
    } else if (sink) {
        size_t n;
        char *ring = output_sink_ring_copy(sink, &n);
        size_t skip = n > HTTP_TAIL_BYTES ? n - HTTP_TAIL_BYTES : 0;
        strbuf_add(&st->buf, ring + skip, n - skip);
        free(ring);
    } else {
        tail_file(&st->buf, h->main_log, HTTP_TAIL_BYTES);
    }
    struct MHD_Response *r =
        mhd.create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_reader, st,
                                          stream_free_cb);
    if (!r) {
        strbuf_free(&st->buf);
        free(st);
        return MHD_NO;
    }
    st->next = h->streams;
    if (h->streams) {
        h->streams->prev = st;
    }
    h->streams = st;
    if (sink) {
        output_sink_add_listener(sink, stream_listener, st);
    }
    mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain;charset=utf-8");
    mhd.add_response_header(r, "X-Accel-Buffering", "no");
    enum MHD_Result ret = mhd.queue_response(conn, MHD_HTTP_OK, r);
    mhd.destroy_response(r);
    return ret;
}

/* GET /logtail/NAME[/stderr], NAME as group:name or name, as supervisord's logtail_handler. */
static enum MHD_Result serve_logtail(struct http *h, struct MHD_Connection *conn,
                                     const char *rest)
{
    char *spec = xstrdup(rest);
    char *slash = strchr(spec, '/');
    bool err = false;
    if (slash) {
        *slash = '\0';
        err = strcmp(slash + 1, "stderr") == 0;
        if (!err && strcmp(slash + 1, "stdout") != 0) {
            free(spec);
            return answer_text(conn, MHD_HTTP_NOT_FOUND, "404 Not Found\n");
        }
    }
    const char *colon = strchr(spec, ':');
    struct proc *p = supervisor_find(h->sv, colon ? colon + 1 : spec);
    if (p && colon && (strlen(p->cfg->group) != (size_t)(colon - spec) ||
                       strncmp(p->cfg->group, spec, (size_t)(colon - spec)) != 0)) {
        p = NULL;
    }
    free(spec);
    struct output_sink *sink = p ? (err ? p->err : p->out) : NULL;
    if (!sink) {
        return answer_text(conn, MHD_HTTP_NOT_FOUND, "404 Not Found\n");
    }
    return serve_stream(h, conn, sink, p);
}

void http_proc_removed(struct http *h, struct proc *p)
{
    for (struct stream *st = h->streams; st; st = st->next) {
        if (st->proc == p) {
            stream_end(st);
            st->sink = NULL;
        }
    }
}

void http_sinks_replaced(struct http *h, struct proc *p, struct output_sink *old_out,
                         struct output_sink *old_err)
{
    for (struct stream *st = h->streams; st; st = st->next) {
        if (st->ended || !st->sink || (st->sink != old_out && st->sink != old_err)) {
            continue;
        }
        struct output_sink *to = st->sink == old_out ? p->out : p->err;
        if (!to) {
            stream_end(st);
            st->sink = NULL;
            continue;
        }
        output_sink_remove_listener(st->sink, st);
        st->sink = to;
        output_sink_add_listener(to, stream_listener, st);
    }
}

/* ---- the status page ---- */

static enum MHD_Result serve_page(struct http *h, struct MHD_Connection *conn)
{
    const char *msg = mhd.lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "msg");
    struct strbuf sb;
    strbuf_init(&sb);
    webpage_write(&sb, h->sv, h->token, msg, ev_time());
    size_t len = sb.len;
    struct MHD_Response *r = mhd.create_response_from_buffer(len, strbuf_detach(&sb),
                                                             MHD_RESPMEM_MUST_FREE);
    if (!r) {
        return MHD_NO;
    }
    mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    mhd.add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    mhd.add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    mhd.add_response_header(r, "X-Frame-Options", "DENY");
    enum MHD_Result ret = mhd.queue_response(conn, MHD_HTTP_OK, r);
    mhd.destroy_response(r);
    return ret;
}

/* POST /action: name, action and the page's token; then back to the page (303). */
static enum MHD_Result serve_action(struct http *h, struct request *rq)
{
    const char *body = rq->body.buf ? rq->body.buf : "";
    char *token = webpage_form_value(body, rq->body.len, "token");
    char *name = webpage_form_value(body, rq->body.len, "name");
    char *action = webpage_form_value(body, rq->body.len, "action");
    enum MHD_Result ret;
    if (!token || strcmp(token, h->token) != 0) {
        ret = answer_text(rq->conn, MHD_HTTP_FORBIDDEN, "403 Forbidden: stale or missing form "
                                                        "token; reload the page\n");
    } else {
        char *msg = webpage_act(h->sv, action, name);
        struct strbuf loc;
        strbuf_init(&loc);
        strbuf_adds(&loc, "/?msg=");
        for (const char *c = msg; *c; c++) {
            if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')) {
                strbuf_addc(&loc, *c);
            } else {
                strbuf_addf(&loc, "%%%02X", (unsigned char)*c);
            }
        }
        struct MHD_Response *r =
            mhd.create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (r) {
            mhd.add_response_header(r, MHD_HTTP_HEADER_LOCATION, loc.buf);
            ret = mhd.queue_response(rq->conn, MHD_HTTP_SEE_OTHER, r);
            mhd.destroy_response(r);
        } else {
            ret = MHD_NO;
        }
        strbuf_free(&loc);
        free(msg);
    }
    free(token);
    free(name);
    free(action);
    return ret;
}

/* ---- routing ---- */

static enum MHD_Result http_access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    struct http *h = cls;
    struct request *rq = *con_cls;
    (void)version;
    if (!rq) {
        rq = xcalloc(1, sizeof(*rq));
        rq->h = h;
        rq->conn = conn;
        strbuf_init(&rq->body);
        *con_cls = rq;
        rq->next = h->requests;
        if (h->requests) {
            h->requests->prev = rq;
        }
        h->requests = rq;
        const char *cl = mhd.lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > HTTP_MAX_BODY) {
            return answer_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "413 Request Entity Too Large\n");
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (rq->body.len + *upload_data_size > HTTP_MAX_BODY) {
            rq->too_big = true;
        } else {
            strbuf_add(&rq->body, upload_data, *upload_data_size);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->answer) {
        /* a waiting XML-RPC call, resumed with its answer */
        char *body = rq->answer;
        rq->answer = NULL;
        return answer(conn, MHD_HTTP_OK, "text/xml", body, rq->answer_len, false);
    }
    if (rq->too_big) {
        return answer_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "413 Request Entity Too Large\n");
    }
    if (!auth_ok(h, conn)) {
        return answer_unauthorized(conn);
    }
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    if (strcmp(url, "/RPC2") == 0) {
        return post ? serve_rpc(rq)
                    : answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "405 Method Not Allowed\n");
    }
    if (strncmp(url, "/logtail/", 9) == 0) {
        return get ? serve_logtail(h, conn, url + 9)
                   : answer_text(conn, MHD_HTTP_BAD_REQUEST, "400 Bad Request\n");
    }
    if (strcmp(url, "/") == 0) {
        return get ? serve_page(h, conn)
                   : answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "405 Method Not Allowed\n");
    }
    if (strcmp(url, "/action") == 0) {
        return post ? serve_action(h, rq)
                    : answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "405 Method Not Allowed\n");
    }
    if (strcmp(url, "/metrics") == 0) {
        if (!get) {
            return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "405 Method Not Allowed\n");
        }
        struct strbuf sb;
        strbuf_init(&sb);
        metrics_write(&sb, h->sv, ev_time());
        size_t len = sb.len;
        return answer(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                      strbuf_detach(&sb), len, false);
    }
    if (strcmp(url, "/mainlogtail") == 0) {
        return get ? serve_stream(h, conn, NULL, NULL)
                   : answer_text(conn, MHD_HTTP_BAD_REQUEST, "400 Bad Request\n");
    }
    return answer_text(conn, MHD_HTTP_NOT_FOUND, "404 Not Found\n");
}

static void http_completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct http *h = cls;
    struct request *rq = *con_cls;
    (void)conn;
    if (!rq) {
        return;
    }
    if (rq->pending) {
        rpc_cancel(h->rpc, rq->pending);
    }
    if (rq->prev) {
        rq->prev->next = rq->next;
    } else if (h->requests == rq) {
        h->requests = rq->next;
    }
    if (rq->next) {
        rq->next->prev = rq->prev;
    }
    strbuf_free(&rq->body);
    free(rq->answer);
    free(rq);
    *con_cls = NULL;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        rpc_response_sent(h->rpc);
    }
}

static void http_logger(void *cls, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);
static void http_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char buf[512];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n') {
        buf[--n] = '\0';
    }
    log_debug("http: %s", buf);
}

/* ---- the TCP listener ---- */

static bool address_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

/* "HOST:PORT", ":PORT", "*:PORT" or "PORT", as supervisord's [inet_http_server] port. */
static int listen_tcp(const char *spec, bool have_user, char **err)
{
    char *copy = xstrdup(spec);
    char *colon = strrchr(copy, ':');
    const char *host = NULL, *port = copy;
    if (colon) {
        *colon = '\0';
        port = colon + 1;
        host = copy;
        size_t n = strlen(copy);
        if (n >= 2 && copy[0] == '[' && copy[n - 1] == ']') {
            copy[n - 1] = '\0';
            host = copy + 1;
        }
        if (!*host || strcmp(host, "*") == 0) {
            host = NULL;
        }
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        *err = xasprintf("[inet_http_server] port = %s: %s", spec, gai_strerror(rc));
        free(copy);
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (!have_user && (!host || !address_is_loopback(ai->ai_addr))) {
            *err = xasprintf("[inet_http_server] port = %s: refusing to listen on a "
                             "non-loopback address without a username and password; set "
                             "username and password, or listen on 127.0.0.1",
                             spec);
            break;
        }
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
        int one = 1;
        if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
            bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0) {
            break;
        }
        free(*err);
        *err = xasprintf("[inet_http_server] port = %s: cannot listen: %s", spec,
                         strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        fd = -1;
    }
    freeaddrinfo(res);
    free(copy);
    if (fd >= 0) {
        free(*err);
        *err = NULL;
    }
    return fd;
}

/* ---- lifetime ---- */

/* Loads libmicrohttpd and starts its daemon: at once for a TCP listener, else at the first
 * HTTP connection on the control socket, so a tend nobody talks HTTP to never maps GnuTLS
 * (it would triple tend's memory). */
static int http_start_daemon(struct http *h, char **err)
{
    if (mhd_load(err) < 0) {
        return -1;
    }
    int fd = h->listen_fd;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (fd < 0) {
        flags |= MHD_USE_NO_LISTEN_SOCKET;
    }
    /* the same options with or without a listener (MHD refuses LISTEN_SOCKET without one) */
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)http_completed_cb, h},
        {MHD_OPTION_CONNECTION_TIMEOUT, HTTP_TIMEOUT_SECONDS, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, HTTP_MAX_CONNECTIONS, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL},
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)http_logger, h},
        {fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_END, fd, NULL},
        {MHD_OPTION_END, 0, NULL}};
    h->daemon = mhd.start_daemon(flags, 0, NULL, NULL, http_access_cb, h, MHD_OPTION_ARRAY,
                                 opts, MHD_OPTION_END);
    if (!h->daemon) {
        *err = xstrdup("cannot start the HTTP server (libmicrohttpd)");
        return -1;
    }
    const union MHD_DaemonInfo *info = mhd.get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    ev_io_init(&h->io, http_io_cb, info->epoll_fd, EV_READ);
    h->io.data = h;
    ev_io_start(h->loop, &h->io);
    ev_timer_init(&h->timer, http_timer_cb, 0., 0.);
    h->timer.data = h;
    log_set_tap(stream_main_log_tap, h);
    return 0;
}

struct http *http_new(struct ev_loop *loop, struct supervisor *sv, struct rpc *rpc,
                      const struct global_config *g, const char *main_log, char **err)
{
    *err = NULL;
    int fd = -1;
    if (g->http_port && (fd = listen_tcp(g->http_port, g->http_username != NULL, err)) < 0) {
        return NULL;
    }
    struct http *h = xcalloc(1, sizeof(*h));
    h->loop = loop;
    h->sv = sv;
    h->rpc = rpc;
    h->listen_fd = fd;
    h->unix_user = g->socket_username ? xstrdup(g->socket_username) : NULL;
    h->unix_password = g->socket_password ? xstrdup(g->socket_password) : NULL;
    h->inet_user = g->http_username ? xstrdup(g->http_username) : NULL;
    h->inet_password = g->http_password ? xstrdup(g->http_password) : NULL;
    h->main_log = main_log ? xstrdup(main_log) : NULL;
    unsigned char rnd[16] = {0};
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        log_warn("http: getrandom failed: %s; the page's form token is weak", strerror(errno));
    }
    for (size_t i = 0; i < sizeof(rnd); i++) {
        snprintf(h->token + 2 * i, 3, "%02x", rnd[i]);
    }
    if (fd >= 0) {
        if (http_start_daemon(h, err) < 0) {
            http_free(h);
            return NULL;
        }
        log_info("HTTP/XML-RPC server listening on %s", g->http_port);
    }
    return h;
}

void http_add_unix_connection(struct http *h, int fd)
{
    char *err = NULL;
    if (!h->daemon && http_start_daemon(h, &err) < 0) {
        log_error("http: %s", err);
        free(err);
        close(fd);
        return;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (mhd.add_connection(h->daemon, fd, (const struct sockaddr *)&addr, sizeof(addr)) !=
        MHD_YES) {
        log_warn("http: cannot take a connection: %s", strerror(errno));
        /* MHD closes the socket on failure */
        return;
    }
    http_run(h);
}

void http_free(struct http *h)
{
    if (!h) {
        return;
    }
    if (h->daemon) {
        log_set_tap(NULL, NULL);
        /* suspended connections must be resumed before the daemon can close them */
        for (struct stream *st = h->streams; st; st = st->next) {
            stream_end(st);
        }
        /* a call still waiting for a process gets supervisord's answer for a server going down */
        for (struct request *rq = h->requests; rq; rq = rq->next) {
            if (rq->suspended) {
                rpc_cancel(h->rpc, rq->pending);
                rq->pending = NULL;
                struct strbuf sb;
                strbuf_init(&sb);
                xmlrpc_write_fault(&sb, FAULT_SHUTDOWN_STATE, "SHUTDOWN_STATE");
                rq->answer_len = sb.len;
                rq->answer = strbuf_detach(&sb);
                rq->suspended = false;
                mhd.resume_connection(rq->conn);
            }
        }
        /* one last turn sends what can be sent at once */
        mhd.run(h->daemon);
        ev_io_stop(h->loop, &h->io);
        ev_timer_stop(h->loop, &h->timer);
        mhd.stop_daemon(h->daemon);
    }
    if (h->listen_fd >= 0) {
        close(h->listen_fd);
    }
    free(h->unix_user);
    free(h->unix_password);
    free(h->inet_user);
    free(h->inet_password);
    free(h->main_log);
    free(h);
}

int http_chown_socket(const char *path, const char *owner, char **err)
{
    char *user = xstrdup(owner);
    char *group = strchr(user, ':');
    if (group) {
        *group++ = '\0';
    }
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    struct passwd *pw = getpwnam(user);
    char *end;
    if (pw) {
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    } else if (*user && (uid = (uid_t)strtoul(user, &end, 10), !*end)) {
        /* a numeric uid */
    } else {
        *err = xasprintf("[unix_http_server] chown = %s: no such user", owner);
        free(user);
        return -1;
    }
    if (group && *group) {
        struct group *gr = getgrnam(group);
        if (gr) {
            gid = gr->gr_gid;
        } else if (gid = (gid_t)strtoul(group, &end, 10), *end) {
            *err = xasprintf("[unix_http_server] chown = %s: no such group", owner);
            free(user);
            return -1;
        }
    }
    free(user);
    if (chown(path, uid, gid) < 0) {
        *err = xasprintf("[unix_http_server] chown = %s: %s: %s", owner, path, strerror(errno));
        return -1;
    }
    return 0;
}

int http_looks_like_request(const char *buf, size_t n)
{
    static const char *const methods[] = {"GET ", "POST ", "HEAD ", "PUT ", "DELETE ",
                                          "OPTIONS "};
    for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
        size_t m = strlen(methods[i]);
        size_t k = n < m ? n : m;
        if (memcmp(buf, methods[i], k) == 0) {
            return n >= m ? 1 : -1;
        }
    }
    return 0;
}
