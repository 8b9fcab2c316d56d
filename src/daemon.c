/* daemon.c - double fork with a pipe back to the launcher, so `tend up -d && tend status`
 * never races; the pid file, locked with fcntl while the daemon lives. Calls util only. */
#include "daemon.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static ssize_t write_all(int fd, const char *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, buf + done, n - done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

/* The launcher: waits for the daemon's word. "0\n" is success; "N message" a failure. */
static void launcher_wait(int fd, pid_t first_child)
{
    struct strbuf sb;
    strbuf_init(&sb);
    char buf[1024];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        strbuf_add(&sb, buf, (size_t)n);
    }
    /* the intermediate child exits at once; reap it so the launcher leaves no zombie */
    waitpid(first_child, NULL, 0);
    if (sb.len == 0) {
        fprintf(stderr, "tend: the daemon exited during start-up\n");
        _exit(1);
    }
    int status = atoi(sb.buf);
    const char *msg = strchr(sb.buf, ' ');
    if (status != 0 && msg) {
        fprintf(stderr, "%s\n", msg + 1);
    }
    _exit(status);
}

static void close_inherited_fds(int keep)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        for (int fd = 3; fd < 1024; fd++) {
            if (fd != keep) {
                close(fd);
            }
        }
        return;
    }
    int dfd = dirfd(d);
    struct dirent *e;
    int fds[4096];
    size_t n = 0;
    while ((e = readdir(d)) && n < ARRAY_SIZE(fds)) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd > 2 && fd != keep && fd != dfd) {
            fds[n++] = fd;
        }
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        close(fds[i]);
    }
}

int daemon_start(const char *dir, const char *log_path, int *ready_fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid > 0) {
        close(p[1]);
        launcher_wait(p[0], pid);
    }
    close(p[0]);
    /* a new session without a terminal, then a second fork: the daemon is not a session
     * leader, so opening a terminal can never make it the daemon's controlling terminal */
    if (setsid() < 0) {
        daemon_fail(p[1], 125, "tend: setsid failed");
    }
    pid = fork();
    if (pid < 0) {
        daemon_fail(p[1], 125, "tend: second fork failed");
    }
    if (pid > 0) {
        _exit(0);
    }
    if (chdir(dir ? dir : "/") < 0) {
        char *msg = xasprintf("tend: cannot change directory to %s: %s", dir ? dir : "/",
                              strerror(errno));
        daemon_fail(p[1], 125, msg);
    }
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int out = null;
    if (log_path) {
        out = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (out < 0) {
            char *msg = xasprintf("tend: cannot open log file %s: %s", log_path, strerror(errno));
            daemon_fail(p[1], 125, msg);
        }
    }
    if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) {
        daemon_fail(p[1], 125, "tend: cannot set up standard file descriptors");
    }
    if (out != null) {
        close(out);
    }
    close(null);
    close_inherited_fds(p[1]);
    *ready_fd = p[1];
    return 0;
}

void daemon_ready(int ready_fd)
{
    if (ready_fd >= 0) {
        write_all(ready_fd, "0\n", 2);
        close(ready_fd);
    }
}

void daemon_fail(int ready_fd, int status, const char *msg)
{
    if (ready_fd >= 0) {
        char *line = xasprintf("%d %s", status, msg);
        write_all(ready_fd, line, strlen(line));
        free(line);
        close(ready_fd);
    }
    _exit(status);
}

/* ---- the pid file ---- */

struct pidfile {
    char *path;
    int fd;
};

/* flock, not fcntl: an fcntl lock is dropped when the process closes any fd of the file,
 * which pidfile_holder() itself would do */
static int lock_fd(int fd)
{
    return flock(fd, LOCK_EX | LOCK_NB);
}

pid_t pidfile_holder(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return 0;
    }
    pid_t holder = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        holder = (pid_t)atoi(buf);
        if (holder <= 0) {
            holder = -1; /* locked, but no pid written yet */
        }
    }
    close(fd);
    return holder;
}

int pidfile_acquire(const char *path, struct pidfile **out, pid_t *holder, char **err)
{
    *out = NULL;
    *holder = pidfile_holder(path);
    if (*holder != 0) {
        return 1;
    }
    mkdir_parents(path, 0700);
    char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        *err = xasprintf("cannot create pid file %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    /* no fsync: after a crash the pid in the file is stale whether it reached the disk or
     * not (the lock, not the content, says whether a tend holds it), and on a real disk the
     * journal commit would delay every program's start */
    if (lock_fd(fd) < 0 || write_all(fd, buf, (size_t)n) < 0 || rename(tmp, path) < 0) {
        *err = xasprintf("cannot write pid file %s: %s", path, strerror(errno));
        unlink(tmp);
        close(fd);
        free(tmp);
        return -1;
    }
    free(tmp);
    struct pidfile *pf = xcalloc(1, sizeof(*pf));
    pf->path = xstrdup(path);
    pf->fd = fd;
    *out = pf;
    return 0;
}

void pidfile_release(struct pidfile *pf)
{
    if (!pf) {
        return;
    }
    unlink(pf->path);
    close(pf->fd);
    free(pf->path);
    free(pf);
}
