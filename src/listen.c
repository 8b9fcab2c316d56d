/* listen.c - parses fcgi-program socket addresses and creates the listening sockets. Called by
 * config (validation) and fcgi.c; calls values and util. */
#include "listen.h"

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"
#include "values.h"

int
listen_spec_parse(const char *text, struct listen_spec *spec, char **err)
{
    memset(spec, 0, sizeof(*spec));
    if (strncasecmp(text, "unix://", 7) == 0) {
        const char *path = text + 7;
        if (path[0] != '/') {
            *err = xasprintf("unix socket path '%s' is not absolute", path);
            return -1;
        }
        if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            *err = xasprintf("unix socket path '%s' is too long", path);
            return -1;
        }
        spec->kind = LISTEN_UNIX;
        spec->path = xstrdup(path);
        return 0;
    }
    if (strncasecmp(text, "tcp://", 6) == 0) {
        const char *addr = text + 6;
        const char *colon = strrchr(addr, ':');
        long port;
        if (!colon) {
            *err = xasprintf("'%s' has no port (use tcp://HOST:PORT)", text);
            return -1;
        }
        char *host;
        if (addr[0] == '[' && colon > addr + 1 && colon[-1] == ']') {
            host = xstrndup(addr + 1, (size_t)(colon - addr - 2)); /* [::1]:9000 */
        } else {
            host = xstrndup(addr, (size_t)(colon - addr));
        }
        if (value_parse_int(colon + 1, 1, 65535, &port, err) < 0) {
            free(host);
            return -1;
        }
        if (!*host || strcmp(host, "*") == 0) {
            free(host);
            host = NULL;
        }
        spec->kind = LISTEN_TCP;
        spec->host = host;
        spec->port = (int)port;
        return 0;
    }
    *err = xasprintf("invalid socket '%s' (use tcp://HOST:PORT or unix:///PATH)", text);
    return -1;
}

void
listen_spec_free(struct listen_spec *spec)
{
    free(spec->host);
    free(spec->path);
    memset(spec, 0, sizeof(*spec));
}

static int
listen_tcp(const struct listen_spec *spec, char **err)
{
    struct addrinfo hints = {0}, *res = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", spec->port);
    hints.ai_family = spec->host ? AF_UNSPEC : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(spec->host, port, &hints, &res);
    if (rc != 0) {
        *err = xasprintf("cannot resolve %s: %s", spec->host ? spec->host : "*", gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    /* like supervisord: a restart of tend must not wait for TIME_WAIT to end */
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
        *err = xasprintf("cannot listen on tcp://%s:%d: %s", spec->host ? spec->host : "*",
                         spec->port, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int
listen_unix(const struct listen_spec *spec, int mode, uid_t uid, gid_t gid, char **err)
{
    struct sockaddr_un sun = {0};
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", spec->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = xasprintf("cannot create a unix socket: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (lstat(spec->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(spec->path); /* a socket left by an earlier run */
    }
    const char *step = "bind";
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        goto fail;
    }
    step = "chown";
    if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(spec->path, uid, gid) < 0) {
        goto fail_unlink;
    }
    step = "chmod";
    if (chmod(spec->path, (mode_t)(mode >= 0 ? mode : 0700)) < 0) {
        goto fail_unlink;
    }
    return fd;
fail_unlink : {
    int saved = errno;
    unlink(spec->path);
    errno = saved;
}
fail:
    *err = xasprintf("cannot %s unix socket %s: %s", step, spec->path, strerror(errno));
    close(fd);
    return -1;
}

int
listen_open(const struct listen_spec *spec, int backlog, int mode, uid_t uid, gid_t gid, ino_t *ino,
            char **err)
{
    struct stat st;
    *ino = 0;
    int fd =
        spec->kind == LISTEN_TCP ? listen_tcp(spec, err) : listen_unix(spec, mode, uid, gid, err);
    if (fd < 0) {
        return -1;
    }
    if (listen(fd, backlog > 0 ? backlog : SOMAXCONN) < 0) {
        *err = xasprintf("cannot listen: %s", strerror(errno));
        if (spec->kind == LISTEN_UNIX) {
            unlink(spec->path);
        }
        close(fd);
        return -1;
    }
    if (spec->kind == LISTEN_UNIX && lstat(spec->path, &st) == 0) {
        *ino = st.st_ino;
    }
    return fd;
}

void
listen_close(const struct listen_spec *spec, int fd, ino_t ino)
{
    struct stat st;
    /* only our own socket file: a new one may have been bound at the path since */
    if (spec->kind == LISTEN_UNIX && ino && lstat(spec->path, &st) == 0 && st.st_ino == ino &&
        S_ISSOCK(st.st_mode)) {
        unlink(spec->path);
    }
    close(fd);
}

int
listen_parse_owner(const char *text, uid_t *uid, gid_t *gid, char **err)
{
    const char *colon = strchr(text, ':');
    char *user = colon ? xstrndup(text, (size_t)(colon - text)) : xstrdup(text);
    char *end;
    *gid = (gid_t)-1;
    errno = 0;
    unsigned long n = strtoul(user, &end, 10);
    if (*user && !*end && !errno) {
        *uid = (uid_t)n;
    } else {
        struct passwd *pw = getpwnam(user);
        if (!pw) {
            *err = xasprintf("no user '%s'", user);
            free(user);
            return -1;
        }
        *uid = pw->pw_uid;
    }
    free(user);
    if (colon) {
        const char *group = colon + 1;
        errno = 0;
        n = strtoul(group, &end, 10);
        if (*group && !*end && !errno) {
            *gid = (gid_t)n;
        } else {
            struct group *gr = getgrnam(group);
            if (!gr) {
                *err = xasprintf("no group '%s'", group);
                return -1;
            }
            *gid = gr->gr_gid;
        }
    }
    return 0;
}
