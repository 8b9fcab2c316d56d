/* fcgi.h - the listening sockets of [fcgi-program:x], as supervisord shares them: one per
 * program, made before its first process starts, handed to every process as its fd 0, kept
 * open while any of them runs or is being restarted (clients queue, none is refused), and
 * closed once all of them are STOPPED or FATAL. */
#ifndef TEND_FCGI_H
#define TEND_FCGI_H

struct supervisor;
struct proc;

/* The socket for the next spawn of p (an fcgi-program process), created if it is not open.
 * The fd stays tend's (close-on-exec): the spawn maps it to the child's fd 0. -1 with *err. */
int fcgi_socket_acquire(struct proc *p, char **err);
/* After a state change of p: closes its program's sockets that no process holds any more. */
void fcgi_release_idle(struct proc *p);
/* Closes every socket (the supervisor is freed). */
void fcgi_close_all(struct supervisor *sv);

#endif
