/* client.c - sends one request line to the control socket and copies the answer ("CODE
 * ERRLEN", ERRLEN bytes for stderr, the rest for stdout); exit 3 naming the socket when the
 * supervisor cannot be reached. Calls config, protocol and util. */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "util.h"

char *client_socket_path(const char *config)
{
    const char *env = getenv("TEND_SOCKET");
    if (env && *env) {
        return xstrdup(env);
    }
    char *tried = NULL;
    const char *path = config_find(config, &tried);
    free(tried);
    if (!path) {
        /* no file at all: the socket tend would use for /etc/tend.ini */
        path = "/etc/tend.ini";
    }
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_load_global(path, &d);
    char *sock = NULL;
    if (cfg) {
        sock = xstrdup(cfg->global.socket);
        config_free(cfg);
    } else if (strcmp(path, "/etc/tend.ini") == 0 && !config) {
        sock = config_default_socket(path);
    } else {
        diag_print(&d, stderr);
    }
    diag_free(&d);
    return sock;
}

static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static int copy_fd(int from, FILE *to, size_t limit, bool bounded)
{
    char buf[65536];
    while (!bounded || limit > 0) {
        size_t want = bounded && limit < sizeof(buf) ? limit : sizeof(buf);
        ssize_t n = read(from, buf, want);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return bounded ? -1 : 0;
        }
        if (fwrite(buf, 1, (size_t)n, to) != (size_t)n) {
            return -1;
        }
        /* followers want every line as soon as it arrives */
        fflush(to);
        limit -= bounded ? (size_t)n : 0;
    }
    return 0;
}

int client_main(const char *config, int argc, char **argv)
{
    char *path = client_socket_path(config);
    if (!path) {
        return EXIT_CONFIG;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || strlen(path) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "tend: cannot reach the supervisor at %s: %s\n", path,
                fd < 0 ? strerror(errno) : "path too long");
        free(path);
        return EXIT_UNREACHABLE;
    }
    strcpy(addr.sun_path, path);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        fprintf(stderr, "tend: cannot reach the supervisor at %s: %s\n", path, strerror(errno));
        close(fd);
        free(path);
        return EXIT_UNREACHABLE;
    }

    struct strbuf req;
    strbuf_init(&req);
    for (int i = 0; i < argc; i++) {
        if (i) {
            strbuf_addc(&req, '\t');
        }
        control_encode_word(&req, argv[i]);
    }
    const char *no_color = getenv("NO_COLOR");
    if (isatty(STDOUT_FILENO) && !(no_color && *no_color)) {
        strbuf_adds(&req, "\t--color");
    }
    strbuf_addc(&req, '\n');
    /* a refusal (permission denied) may close the connection before the request is written:
     * the answer is still there to read */
    if (write_all(fd, req.buf, req.len) < 0 && errno != EPIPE && errno != ECONNRESET) {
        fprintf(stderr, "tend: cannot talk to the supervisor at %s: %s\n", path, strerror(errno));
        strbuf_free(&req);
        close(fd);
        free(path);
        return EXIT_UNREACHABLE;
    }
    strbuf_free(&req);

    /* the header, byte by byte: it is short and what follows belongs to other streams */
    char header[64];
    size_t hlen = 0;
    while (hlen < sizeof(header) - 1) {
        ssize_t n = read(fd, header + hlen, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        if (header[hlen] == '\n') {
            break;
        }
        hlen++;
    }
    header[hlen] = '\0';
    int code;
    size_t errlen;
    if (sscanf(header, "%d %zu", &code, &errlen) != 2) {
        fprintf(stderr, "tend: the supervisor at %s closed the connection without an answer\n",
                path);
        close(fd);
        free(path);
        return EXIT_UNREACHABLE;
    }
    free(path);
    if (errlen > 0 && copy_fd(fd, stderr, errlen, true) < 0) {
        close(fd);
        return code;
    }
    copy_fd(fd, stdout, 0, false);
    close(fd);
    return fflush(stdout) == 0 ? code : 125;
}
