/* fuzz_http.c - the whole HTTP request path of tend: any bytes, sent on a connection of the
 * control socket's kind, through libmicrohttpd's parser, tend's auth, routing, body limits,
 * XML-RPC (src/http.c, rpc.c, xmlrpc.c), /metrics and the status page, in a real libev loop
 * with a real supervisor. Its one program cannot start (its command does not exist, so the
 * start is refused before any fork) and reload and shutdown have no hooks, so no input forks
 * or ends anything. Besides memory errors and leaks (a connection left open, or a stream
 * left waiting, is one), the harness checks that whatever the server answers begins like an
 * HTTP response. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "http.h"
#include "log.h"
#include "rpc.h"
#include "supervise.h"
#include "util.h"

static char dir[] = "/tmp/tend-fuzz-http-XXXXXX";
static struct ev_loop *loop;
static struct supervisor *sv;
static struct rpc *rpc;
static struct http *http;

static void setup(void)
{
    if (!mkdtemp(dir)) {
        abort();
    }
    char *path = xasprintf("%s/tend.ini", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        abort();
    }
    /* a user and password on the socket, so both sides of the auth check are reached */
    fprintf(f, "[unix_http_server]\nfile = %s/s.sock\nusername = u\npassword = {SHA}"
               "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3\n"
               "[program:a]\ncommand = %s/no-such-program\nautostart = false\n",
            dir, dir);
    fclose(f);
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_load(path, &d);
    diag_free(&d);
    free(path);
    if (!cfg) {
        abort();
    }
    log_set_level(LOG_CRIT);
    log_open_file("/dev/null");
    loop = ev_default_loop(0);
    sv = supervisor_new(loop, cfg, false);
    struct rpc_hooks hooks = {0};
    rpc = rpc_new(sv, sv->cfg->global.file, NULL, &hooks);
    char *err = NULL;
    http = http_new(loop, sv, rpc, &sv->cfg->global, NULL, &err);
    if (!http) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!loop) {
        setup();
    }
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        return 0;
    }
    fcntl(sp[0], F_SETFL, O_NONBLOCK);
    fcntl(sp[1], F_SETFL, O_NONBLOCK);
    http_add_unix_connection(http, sp[1]);
    size_t sent = 0, got = 0;
    bool closed = false, half = false;
    char head[8] = "";
    char buf[65536];
    /* bounded: every step either moves bytes or lets the server run once more */
    for (int round = 0; round < 2000 && !closed; round++) {
        if (sent < size) {
            ssize_t n = send(sp[0], data + sent, size - sent, MSG_NOSIGNAL);
            if (n > 0) {
                sent += (size_t)n;
            }
        } else if (!half) {
            shutdown(sp[0], SHUT_WR);
            half = true;
        }
        ev_run(loop, EVRUN_NOWAIT);
        for (;;) {
            ssize_t n = recv(sp[0], buf, sizeof(buf), 0);
            if (n > 0) {
                if (got < sizeof(head)) {
                    size_t k = sizeof(head) - got < (size_t)n ? sizeof(head) - got : (size_t)n;
                    memcpy(head + got, buf, k);
                }
                got += (size_t)n;
                continue;
            }
            if (n == 0) {
                closed = true;
            }
            break;
        }
    }
    if (!closed) {
        /* a stream (/mainlogtail) waits for news: a log line wakes it to find the client gone */
        close(sp[0]);
        sp[0] = -1;
        for (int round = 0; round < 50; round++) {
            log_msg(LOG_CRIT, "fuzz: next input");
            ev_run(loop, EVRUN_NOWAIT);
        }
    } else {
        close(sp[0]);
    }
    if (getenv("FUZZ_HTTP_DEBUG")) {
        fprintf(stderr, "fuzz_http: %zu bytes answered, %s: %.8s\n", got,
                closed ? "closed" : "left open", head);
    }
    FUZZ_ASSERT(got == 0 || memcmp(head, "HTTP/1.", got < 7 ? got : 7) == 0,
                "an answer that is not HTTP: %.8s", head);
    return 0;
}
