/* listen.h - the listening sockets of [fcgi-program:x]: parsing supervisord's
 * socket = tcp://HOST:PORT or unix:///PATH, and creating one (bound, listening, close-on-exec,
 * owner and mode applied) for the supervisor to hand to its processes as their fd 0. */
#ifndef TEND_LISTEN_H
#define TEND_LISTEN_H

#include <stdbool.h>
#include <sys/types.h>

enum listen_kind { LISTEN_TCP, LISTEN_UNIX };

struct listen_spec {
    enum listen_kind kind;
    char *host; /* LISTEN_TCP: a name or address; NULL for every address ("*") */
    int port;   /* LISTEN_TCP */
    char *path; /* LISTEN_UNIX: absolute */
};

/* Parses socket = ...; -1 with *err (for a config message) when it is malformed. */
int listen_spec_parse(const char *text, struct listen_spec *spec, char **err);
void listen_spec_free(struct listen_spec *spec);

/* Creates, binds and listens. A unix socket's old file is removed first (as supervisord
 * does), then chown (uid/gid -1: unchanged) and chmod (mode < 0: 0700). backlog <= 0 means
 * SOMAXCONN. Returns the O_CLOEXEC fd, or -1 with *err; *ino identifies a unix socket's file
 * for listen_close. */
int listen_open(const struct listen_spec *spec, int backlog, int mode, uid_t uid, gid_t gid,
                ino_t *ino, char **err);
/* Closes the fd; a unix socket's file is removed if it is still the one listen_open made. */
void listen_close(const struct listen_spec *spec, int fd, ino_t ino);

/* socket_owner = USER[:GROUP] (names or numbers); gid -1 when no group is given. */
int listen_parse_owner(const char *text, uid_t *uid, gid_t *gid, char **err);

#endif
