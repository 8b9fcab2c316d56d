/* daemon.h - `tend up -d`: the classic double fork with a readiness handshake to the launching
 * process, and a pid file that is written atomically and held locked while tend runs. */
#ifndef TEND_DAEMON_H
#define TEND_DAEMON_H

#include <sys/types.h>

/* Forks into the background: fork, setsid, fork again, chdir to dir (or /), std fds on
 * /dev/null (stdout and stderr on log_path when given), every other inherited fd closed.
 * Returns 0 in the daemon with *ready_fd set. The launching process never returns: it waits
 * for daemon_ready() (exit 0) or daemon_fail() (their message and status), or for the pipe
 * to close without a word (exit 1). Returns -1 with errno when the first fork fails. */
int daemon_start(const char *dir, const char *log_path, int *ready_fd);
/* Tells the launcher the daemon is serving: it exits 0. */
void daemon_ready(int ready_fd);
/* Tells the launcher the daemon failed: it prints msg and exits with status. */
void daemon_fail(int ready_fd, int status, const char *msg);

struct pidfile;
/* Takes the pid file at path: refused when another live process holds its lock (returns 1
 * with *holder set to the pid it contains); a stale file is taken over. -1 with *err on an
 * error. The file is written to a temporary name and renamed, so readers never see it empty. */
int pidfile_acquire(const char *path, struct pidfile **out, pid_t *holder, char **err);
/* Which pid holds the lock of path, or 0 when nobody does. */
pid_t pidfile_holder(const char *path);
/* Removes the file and drops the lock (at exit). */
void pidfile_release(struct pidfile *pf);

#endif
