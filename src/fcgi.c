/* fcgi.c - the shared listening sockets of [fcgi-program:x] processes (see fcgi.h), kept across
 * restarts. Called by supervise.c, wiring.c and supervisor.c; calls listen, spawn and log. */
#include "fcgi.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "spawn.h"
#include "supervise.h"

/* One listening socket: a program's, at one address (a reload that moves the address makes a
 * second one; the first closes when its last process has moved on). */
struct fcgi_socket {
    struct fcgi_socket *next;
    char *program;
    char *address; /* socket = ... as configured */
    struct listen_spec spec;
    int fd;
    ino_t ino;
};

static struct fcgi_socket *
fcgi_find(struct supervisor *sv, const struct proc_config *c)
{
    for (struct fcgi_socket *s = sv->fcgi_sockets; s; s = s->next) {
        if (strcmp(s->program, c->program) == 0 && strcmp(s->address, c->socket) == 0) {
            return s;
        }
    }
    return NULL;
}

/* socket_owner, or else the program's user when that is not tend's own (as supervisord). */
static int
fcgi_owner(const struct proc_config *c, uid_t *uid, gid_t *gid, char **err)
{
    *uid = (uid_t)-1;
    *gid = (gid_t)-1;
    if (c->socket_owner) {
        return listen_parse_owner(c->socket_owner, uid, gid, err);
    }
    if (c->user) {
        struct spawn_user u;
        if (spawn_user_lookup(c->user, &u, err) < 0) {
            return -1;
        }
        if (u.uid != geteuid()) {
            *uid = u.uid;
            *gid = u.gid;
        }
        spawn_user_free(&u);
    }
    return 0;
}

int
fcgi_socket_acquire(struct proc *p, char **err)
{
    struct supervisor *sv = p->sv;
    const struct proc_config *c = p->cfg;
    struct fcgi_socket *s = fcgi_find(sv, c);
    if (s) {
        return s->fd;
    }
    struct listen_spec spec;
    uid_t uid = (uid_t)-1; /* unchanged; a TCP socket has no owner to set */
    gid_t gid = (gid_t)-1;
    if (listen_spec_parse(c->socket, &spec, err) < 0) {
        return -1;
    }
    if (spec.kind == LISTEN_UNIX && fcgi_owner(c, &uid, &gid, err) < 0) {
        listen_spec_free(&spec);
        return -1;
    }
    ino_t ino;
    int fd = listen_open(&spec, (int)c->socket_backlog, c->socket_mode, uid, gid, &ino, err);
    if (fd < 0) {
        listen_spec_free(&spec);
        return -1;
    }
    s = xcalloc(1, sizeof(*s));
    s->program = xstrdup(c->program);
    s->address = xstrdup(c->socket);
    s->spec = spec;
    s->fd = fd;
    s->ino = ino;
    s->next = sv->fcgi_sockets;
    sv->fcgi_sockets = s;
    log_info("%s: listening on %s", c->program, c->socket);
    return fd;
}

/* A process holds its socket from its start until it is STOPPED or FATAL, and through a
 * restart (STOPPED with a start to follow); EXITED holds too, so an automatic restart finds
 * the socket still open. */
static bool
fcgi_holds(const struct proc *p, const struct fcgi_socket *s)
{
    if (!p->cfg->fcgi || strcmp(p->cfg->program, s->program) != 0 ||
        strcmp(p->cfg->socket, s->address) != 0) {
        return false;
    }
    return (p->state != PROC_STOPPED && p->state != PROC_FATAL) || p->restart_after_stop ||
           p->waiting_deps;
}

static void
fcgi_free(struct fcgi_socket *s)
{
    listen_close(&s->spec, s->fd, s->ino);
    listen_spec_free(&s->spec);
    free(s->program);
    free(s->address);
    free(s);
}

void
fcgi_release_idle(struct proc *p)
{
    struct supervisor *sv = p->sv;
    for (struct fcgi_socket **link = &sv->fcgi_sockets; *link;) {
        struct fcgi_socket *s = *link;
        bool held = strcmp(s->program, p->cfg->program) != 0; /* not ours to judge */
        for (size_t i = 0; i < sv->nprocs + sv->nretired && !held; i++) {
            const struct proc *q = i < sv->nprocs ? sv->procs[i] : sv->retired[i - sv->nprocs];
            held = q && fcgi_holds(q, s); /* NULL: a reload is filling in its new procs */
        }
        if (held) {
            link = &s->next;
            continue;
        }
        log_info("%s: closing %s", s->program, s->address);
        *link = s->next;
        fcgi_free(s);
    }
}

void
fcgi_close_all(struct supervisor *sv)
{
    while (sv->fcgi_sockets) {
        struct fcgi_socket *s = sv->fcgi_sockets;
        sv->fcgi_sockets = s->next;
        fcgi_free(s);
    }
}
