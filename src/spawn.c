/* spawn.c - fork/exec of one child: program and user lookup and every allocation before fork;
 * in the child only async-signal-safe calls, failures sent back on a pipe. Calls config, util. */
#include "spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"

#define SPAWN_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

/* The steps of the child, in order; the failing one travels back to the parent. */
enum spawn_step {
    SPAWN_STEP_UNSHARE,
    SPAWN_STEP_PGRP,
    SPAWN_STEP_DEVNULL,
    SPAWN_STEP_FDS,
    SPAWN_STEP_RLIMIT,
    SPAWN_STEP_CHDIR,
    SPAWN_STEP_GROUPS,
    SPAWN_STEP_GID,
    SPAWN_STEP_UID,
    SPAWN_STEP_SIGMASK,
    SPAWN_STEP_EXEC,
};

/* What the child writes on the error pipe before _exit(127). */
struct spawn_report {
    int step;
    int err;
    int index; /* which rlimit, for SPAWN_STEP_RLIMIT */
};

static const char spawn_step_execute[] = "execute";

static const struct {
    int resource;
    const char *name;
} spawn_rlimit_names[] = {
    {RLIMIT_AS, "AS"},
    {RLIMIT_CORE, "CORE"},
    {RLIMIT_CPU, "CPU"},
    {RLIMIT_DATA, "DATA"},
    {RLIMIT_FSIZE, "FSIZE"},
    {RLIMIT_MEMLOCK, "MEMLOCK"},
    {RLIMIT_NOFILE, "NOFILE"},
    {RLIMIT_NPROC, "NPROC"},
    {RLIMIT_RSS, "RSS"},
    {RLIMIT_STACK, "STACK"},
    {RLIMIT_MSGQUEUE, "MSGQUEUE"},
    {RLIMIT_NICE, "NICE"},
    {RLIMIT_RTPRIO, "RTPRIO"},
    {RLIMIT_SIGPENDING, "SIGPENDING"},
};

static char *
spawn_rlimit_name(int resource)
{
    for (size_t i = 0; i < ARRAY_SIZE(spawn_rlimit_names); i++) {
        if (spawn_rlimit_names[i].resource == resource) {
            return xasprintf("limit %s", spawn_rlimit_names[i].name);
        }
    }
    return xasprintf("limit %d", resource);
}

/* ---- the child side: async-signal-safe calls only ---- */

#define SPAWN_CHILD_STACK (64 * 1024) /* the child's frames before exec */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SPAWN_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SPAWN_SANITIZED 1
#endif
#endif
#ifndef SPAWN_SANITIZED
#define SPAWN_SANITIZED 0
#endif

NORETURN static void
spawn_child_fail(int errfd, int step, int index)
{
    struct spawn_report rep = {step, errno, index};
    ssize_t n;
    do {
        n = write(errfd, &rep, sizeof(rep));
    } while (n < 0 && errno == EINTR);
    _exit(127);
}

/* True when fd is the target of a mapping other than map[self]: dup2 onto that target would
 * close fd before map[self] is applied. */
static bool
spawn_is_other_target(const struct spawn_request *req, int n, int fd, int self)
{
    for (int j = 0; j < n; j++) {
        if (j != self && req->map[j].target == fd) {
            return true;
        }
    }
    return false;
}

/* Puts the child's fds in place: sources that a dup2 could clobber first move above every
 * target (close-on-exec copies, gone at exec), then each source lands on its target. Returns
 * the error pipe's fd, itself moved out of the way if needed. */
static int
spawn_child_fds(const struct spawn_request *req, int errfd)
{
    int n = req->nmap < SPAWN_MAX_FDS ? req->nmap : SPAWN_MAX_FDS;
    int src[SPAWN_MAX_FDS];
    int above = 3;
    int devnull = -1;
    for (int i = 0; i < n; i++) {
        if (req->map[i].target >= above) {
            above = req->map[i].target + 1;
        }
    }
    if (spawn_is_other_target(req, n, errfd, -1)) {
        int moved = fcntl(errfd, F_DUPFD_CLOEXEC, above);
        if (moved < 0) {
            spawn_child_fail(errfd, SPAWN_STEP_FDS, 0);
        }
        errfd = moved;
    }
    for (int i = 0; i < n; i++) {
        src[i] = req->map[i].src;
        if (src[i] < 0) {
            if (devnull < 0) {
                devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (devnull < 0) {
                    spawn_child_fail(errfd, SPAWN_STEP_DEVNULL, 0);
                }
            }
            src[i] = devnull;
        }
    }
    for (int i = 0; i < n; i++) {
        if (!spawn_is_other_target(req, n, src[i], i)) {
            continue;
        }
        int old = src[i];
        int moved = fcntl(old, F_DUPFD_CLOEXEC, above);
        if (moved < 0) {
            spawn_child_fail(errfd, SPAWN_STEP_FDS, 0);
        }
        for (int j = i; j < n; j++) {
            if (src[j] == old) {
                src[j] = moved;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        int target = req->map[i].target;
        if (src[i] == target) {
            /* dup2 onto itself would keep close-on-exec: clear it by hand */
            int flags = fcntl(target, F_GETFD);
            if (flags < 0 || fcntl(target, F_SETFD, flags & ~FD_CLOEXEC) < 0) {
                spawn_child_fail(errfd, SPAWN_STEP_FDS, 0);
            }
        } else if (dup2(src[i], target) < 0) {
            spawn_child_fail(errfd, SPAWN_STEP_FDS, 0);
        }
    }
    return errfd;
}

NORETURN static void
spawn_child_side(const struct spawn_request *req, const char *path, int errfd)
{
    /* Handlers die at exec by themselves, but ignored signals survive it: a child of tend must
     * not start with SIGPIPE ignored. Signals stay blocked until just before exec, so none of
     * tend's handlers can run here. glibc refuses its two internal signals (EINVAL): fine. */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig < _NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, &sa, NULL) < 0) {
            /* glibc keeps 32 and 33 for itself, but an ignored disposition inherited from
             * tend's own parent survives exec: reset it with the raw system call */
            struct {
                void (*handler)(int);
                unsigned long flags;
                void (*restorer)(void);
                unsigned long mask;
            } kernel_sa = {SIG_DFL, 0, NULL, 0};
            syscall(SYS_rt_sigaction, sig, &kernel_sa, NULL, sizeof(kernel_sa.mask));
        }
    }
    if (req->new_process_group && setpgid(0, 0) < 0) {
        spawn_child_fail(errfd, SPAWN_STEP_PGRP, 0);
    }
    errfd = spawn_child_fds(req, errfd);
    if (req->umask >= 0) {
        umask((mode_t)req->umask);
    }
    for (int i = 0; i < req->nrlimits && i < SPAWN_MAX_RLIMITS; i++) {
        if (setrlimit(req->rlimits[i].resource, &req->rlimits[i].limit) < 0) {
            spawn_child_fail(errfd, SPAWN_STEP_RLIMIT, i);
        }
    }
    if (req->cwd && chdir(req->cwd) < 0) {
        spawn_child_fail(errfd, SPAWN_STEP_CHDIR, 0);
    }
    /* groups first, then gid, then uid: after setuid nothing else may be changed */
    if (req->user) {
        const struct spawn_user *u = req->user;
        if (setgroups(u->ngroups > 0 ? (size_t)u->ngroups : 0, u->groups) < 0) {
            spawn_child_fail(errfd, SPAWN_STEP_GROUPS, 0);
        }
        if (setgid(u->gid) < 0) {
            spawn_child_fail(errfd, SPAWN_STEP_GID, 0);
        }
        if (setuid(u->uid) < 0) {
            spawn_child_fail(errfd, SPAWN_STEP_UID, 0);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) {
        spawn_child_fail(errfd, SPAWN_STEP_SIGMASK, 0);
    }
    execve(path, (char *const *)req->argv, (char *const *)req->envp);
    spawn_child_fail(errfd, SPAWN_STEP_EXEC, 0);
}

/* clone's entry in the child: on its own stack, in tend's memory until it executes */
struct spawn_clone_arg {
    const struct spawn_request *req;
    const char *path;
    int errfds[2];
    int keep_below; /* > 0: the fd table is tend's own (CLONE_FILES) until it is cut here */
};

static int
spawn_clone_main(void *arg)
{
    const struct spawn_clone_arg *a = arg;
    if (a->keep_below > 0) {
        /* Still tend's table: the first call makes a table of the child's own holding only
         * the fds below keep_below (tend's first few and the staged ones), so nothing is
         * copied for the thousands of pipes of other programs, and exec has none to close.
         * Without close_range (Linux < 5.9), a copy of the whole table. */
        long cut = -1;
#ifdef SYS_close_range
        cut = syscall(SYS_close_range, (unsigned)a->keep_below, ~0U, CLOSE_RANGE_UNSHARE);
#endif
        if (cut < 0 && unshare(CLONE_FILES) < 0) {
            spawn_child_fail(a->errfds[1], SPAWN_STEP_UNSHARE, 0);
        }
    }
    close(a->errfds[0]); /* the child's own fd table: tend keeps its end */
    spawn_child_side(a->req, a->path, a->errfds[1]);
}

/* ---- staging: the child's fds at low numbers ---- */

/* Slots reserved at start-up, low in tend's fd table, that hold /dev/null between spawns. For
 * one spawn, the child's fds are duplicated onto them, so the child can cut its table right
 * above them; afterwards they hold /dev/null again (tend must not keep a pipe end open). */
#define SPAWN_STAGE_FDS 3          /* stdin, stdout, stderr; a request with more is not staged */
#define SPAWN_STAGE_MIN_NOFILE 1024 /* below, the table is small to copy and fds are scarce */

static struct {
    int slot[SPAWN_STAGE_FDS + 1]; /* the sources, then the error pipe */
    int devnull;
    int above; /* one more than the highest slot; 0 while there are none */
} spawn_stage;

void
spawn_stage_init(void)
{
    struct rlimit nofile;
    if (spawn_stage.above > 0 || getrlimit(RLIMIT_NOFILE, &nofile) < 0 ||
        nofile.rlim_cur < SPAWN_STAGE_MIN_NOFILE) {
        return;
    }
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0) {
        return;
    }
    int high = devnull;
    for (size_t i = 0; i < ARRAY_SIZE(spawn_stage.slot); i++) {
        spawn_stage.slot[i] = fcntl(devnull, F_DUPFD_CLOEXEC, 0);
        if (spawn_stage.slot[i] < 0) {
            while (i-- > 0) {
                close(spawn_stage.slot[i]);
            }
            close(devnull);
            return; /* staging stays off: a child copies the whole table, as before */
        }
        if (spawn_stage.slot[i] > high) {
            high = spawn_stage.slot[i];
        }
    }
    spawn_stage.devnull = devnull;
    spawn_stage.above = high + 1;
}

/* Puts /dev/null back on the first n slots. */
static void
spawn_stage_clear(int n)
{
    for (int i = 0; i < n; i++) {
        dup3(spawn_stage.devnull, spawn_stage.slot[i], O_CLOEXEC);
    }
}

/* Copies the sources of req's map, then the error pipe, onto the first slots, into *staged (a
 * copy of req whose map names the slots). Returns the number of slots used, or 0: no staging. */
static int
spawn_stage_fds(const struct spawn_request *req, int *errfd, struct spawn_request *staged)
{
    if (spawn_stage.above == 0 || req->nmap > SPAWN_MAX_FDS) {
        return 0;
    }
    int sources = 0;
    for (int i = 0; i < req->nmap; i++) {
        sources += req->map[i].src >= 0;
    }
    if (sources > SPAWN_STAGE_FDS) {
        return 0;
    }
    *staged = *req;
    int used = 0;
    for (int i = 0; i < req->nmap; i++) {
        if (req->map[i].src < 0) {
            continue; /* /dev/null, opened by the child */
        }
        if (dup3(req->map[i].src, spawn_stage.slot[used], O_CLOEXEC) < 0) {
            spawn_stage_clear(used);
            return 0;
        }
        staged->map[i].src = spawn_stage.slot[used++];
    }
    if (dup3(*errfd, spawn_stage.slot[used], O_CLOEXEC) < 0) {
        spawn_stage_clear(used);
        return 0;
    }
    *errfd = spawn_stage.slot[used++];
    return used;
}

/* ---- the parent side ---- */

static void
spawn_error_set(struct spawn_error *e, const char *step, int err, char *what)
{
    e->step = step;
    e->err = err;
    e->what = what;
}

static void
spawn_error_from_report(const struct spawn_request *req, const char *path,
                        const struct spawn_report *rep, struct spawn_error *e)
{
    const char *user = req->user && req->user->name ? req->user->name : NULL;
    switch (rep->step) {
    case SPAWN_STEP_UNSHARE:
        spawn_error_set(e, "give a file descriptor table to", rep->err, xstrdup(req->argv[0]));
        break;
    case SPAWN_STEP_PGRP:
        spawn_error_set(e, "create a process group for", rep->err, xstrdup(req->argv[0]));
        break;
    case SPAWN_STEP_DEVNULL:
        spawn_error_set(e, "open", rep->err, xstrdup("/dev/null"));
        break;
    case SPAWN_STEP_FDS:
        spawn_error_set(e, "set up the file descriptors of", rep->err, xstrdup(req->argv[0]));
        break;
    case SPAWN_STEP_RLIMIT:
        spawn_error_set(e, "set resource", rep->err,
                        spawn_rlimit_name(rep->index >= 0 && rep->index < SPAWN_MAX_RLIMITS
                                              ? req->rlimits[rep->index].resource
                                              : -1));
        break;
    case SPAWN_STEP_CHDIR:
        spawn_error_set(e, "change directory to", rep->err, xstrdup(req->cwd));
        break;
    case SPAWN_STEP_GROUPS:
    case SPAWN_STEP_GID:
    case SPAWN_STEP_UID:
        spawn_error_set(e, "switch to user", rep->err,
                        user ? xstrdup(user) : xasprintf("%u", (unsigned)req->user->uid));
        break;
    case SPAWN_STEP_SIGMASK:
        spawn_error_set(e, "reset the signal mask of", rep->err, xstrdup(req->argv[0]));
        break;
    default:
        spawn_error_set(e, spawn_step_execute, rep->err, xstrdup(path));
        break;
    }
}

static pid_t
spawn_reap(pid_t pid)
{
    int status;
    pid_t r;
    do {
        r = waitpid(pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    return r;
}

int
spawn_child(const struct spawn_request *req, pid_t *pid, struct spawn_error *e)
{
    spawn_error_set(e, NULL, 0, NULL);
    *pid = -1;
    if (!req->argv || !req->argv[0]) {
        spawn_error_set(e, spawn_step_execute, ENOENT, xstrdup(""));
        return -1;
    }
    char *path = spawn_find_program(req->argv[0], req->envp);
    if (!path) {
        spawn_error_set(e, spawn_step_execute, errno, xstrdup(req->argv[0]));
        return -1;
    }
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) < 0) {
        spawn_error_set(e, "start", errno, xstrdup(req->argv[0]));
        free(path);
        return -1;
    }
    /* With every signal blocked, no handler of tend runs in the child between fork and exec,
     * and a signal sent to the new pid waits for the child's default dispositions. */
    sigset_t all, saved;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &saved);
    /* vfork-style: the child borrows tend's memory (no page tables to copy, no copy-on-write
     * faults in tend afterwards) and tend sleeps until it executed or failed, so the report
     * below is already there. The child writes only to its own stack, below, its own fd table
     * (with CLONE_FILES, once its first call made it its own) and its own signal dispositions
     * (no CLONE_SIGHAND); it makes system calls only, and tend's signals stay blocked until it
     * is gone. */
    struct spawn_request staged;
    int child_errfd = errpipe[1];
    int nstaged = spawn_stage_fds(req, &child_errfd, &staged);
    struct spawn_clone_arg arg = {nstaged ? &staged : req, path, {errpipe[0], child_errfd},
                                  nstaged ? spawn_stage.above : 0};
#if SPAWN_SANITIZED
    /* the sanitizers' interceptors take locks in the child that the parent shares with
     * CLONE_VM (a deadlock): a plain fork there */
    pid_t child = fork();
    if (child == 0) {
        spawn_clone_main(&arg);
    }
#else
    _Alignas(16) char stack[SPAWN_CHILD_STACK];
    int flags = CLONE_VM | CLONE_VFORK | SIGCHLD | (nstaged ? CLONE_FILES : 0);
    pid_t child = clone(spawn_clone_main, stack + sizeof(stack), flags, &arg);
#endif
    int fork_errno = errno;
    sigprocmask(SIG_SETMASK, &saved, NULL);
    /* the error pipe's write end and the program's pipe ends must not stay open in tend */
    spawn_stage_clear(nstaged);
    close(errpipe[1]);
    if (child < 0) {
        close(errpipe[0]);
        spawn_error_set(e, "start", fork_errno, xstrdup(req->argv[0]));
        free(path);
        return -1;
    }

    /* EOF: the exec closed the pipe. A report: a step failed and the child is exiting. */
    struct spawn_report rep;
    ssize_t n;
    do {
        n = read(errpipe[0], &rep, sizeof(rep));
    } while (n < 0 && errno == EINTR);
    int read_errno = errno;
    close(errpipe[0]);
    if (n == 0) {
        free(path);
        *pid = child;
        return 0;
    }
    if (n != (ssize_t)sizeof(rep)) {
        /* cannot tell whether it ran: make sure it does not */
        kill(child, SIGKILL);
        rep.step = -1;
        rep.err = n < 0 ? read_errno : EIO;
        spawn_reap(child);
        spawn_error_set(e, "start", rep.err, xstrdup(req->argv[0]));
        free(path);
        return -1;
    }
    spawn_reap(child);
    spawn_error_from_report(req, path, &rep, e);
    free(path);
    return -1;
}

void
spawn_error_free(struct spawn_error *e)
{
    free(e->what);
    e->what = NULL;
}

char *
spawn_error_message(const struct spawn_error *e)
{
    const char *step = e->step ? e->step : "start";
    if (e->what) {
        return xasprintf("cannot %s %s: %s", step, e->what, strerror(e->err));
    }
    return xasprintf("cannot %s: %s", step, strerror(e->err));
}

int
spawn_error_exit_code(const struct spawn_error *e)
{
    /* as env(1) and timeout(1): 127 not found, 126 found but not runnable, and tend's own
     * 125 for the steps before exec (directory, user, fds) */
    if (e->step == spawn_step_execute || (e->step && strcmp(e->step, spawn_step_execute) == 0)) {
        return e->err == ENOENT || e->err == ENOTDIR ? 127 : 126;
    }
    return 125;
}

/* ---- lookups before fork ---- */

static bool
spawn_is_number(const char *s)
{
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
    }
    return true;
}

int
spawn_user_lookup(const char *user, struct spawn_user *u, char **err)
{
    memset(u, 0, sizeof(*u));
    long size = sysconf(_SC_GETPW_R_SIZE_MAX);
    size_t bufsize = size > 0 ? (size_t)size : 16384;
    char *buf = NULL;
    struct passwd pw, *found = NULL;
    bool numeric = spawn_is_number(user);
    int rc;
    for (;;) {
        buf = xrealloc(buf, bufsize);
        if (numeric) {
            errno = 0;
            unsigned long id = strtoul(user, NULL, 10);
            if (errno || id > (uid_t)-1 - 1) {
                free(buf);
                *err = xasprintf("invalid user id '%s'", user);
                return -1;
            }
            rc = getpwuid_r((uid_t)id, &pw, buf, bufsize, &found);
        } else {
            rc = getpwnam_r(user, &pw, buf, bufsize, &found);
        }
        if (rc != ERANGE || bufsize > (1u << 24)) {
            break;
        }
        bufsize *= 2;
    }
    if (!found) {
        *err = rc && rc != ENOENT && rc != ESRCH
                   ? xasprintf("cannot look up user '%s': %s", user, strerror(rc))
                   : xasprintf("no such user '%s'", user);
        free(buf);
        return -1;
    }
    u->uid = pw.pw_uid;
    u->gid = pw.pw_gid;
    u->name = xstrdup(pw.pw_name);
    u->home = xstrdup(pw.pw_dir ? pw.pw_dir : "/");
    u->shell = xstrdup(pw.pw_shell && *pw.pw_shell ? pw.pw_shell : "/bin/sh");
    free(buf);

    int n = 16;
    for (;;) {
        u->groups = xrealloc(u->groups, (size_t)n * sizeof(gid_t));
        int count = n;
        if (getgrouplist(u->name, u->gid, u->groups, &count) >= 0) {
            u->ngroups = count;
            break;
        }
        /* glibc says how many it needs; others may not: grow anyway */
        n = count > n ? count : n * 2;
        if (n > 65536) {
            u->groups[0] = u->gid;
            u->ngroups = 1;
            break;
        }
    }
    return 0;
}

void
spawn_user_free(struct spawn_user *u)
{
    free(u->groups);
    free(u->name);
    free(u->home);
    free(u->shell);
    memset(u, 0, sizeof(*u));
}

/* The rlimit_* options of a program, as spawn requests them. */
static void
spawn_identity_limits(const struct proc_config *pc, struct spawn_request *req)
{
    const struct {
        int resource;
        int64_t value;
    } limits[] = {{RLIMIT_NOFILE, pc->rlimit_nofile},
                  {RLIMIT_CORE, pc->rlimit_core},
                  {RLIMIT_NPROC, pc->rlimit_nproc},
                  {RLIMIT_AS, pc->rlimit_as}};
    req->nrlimits = 0;
    for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
        if (limits[i].value == RLIMIT_UNSET) {
            continue;
        }
        rlim_t v = limits[i].value == RLIMIT_UNLIMITED ? RLIM_INFINITY : (rlim_t)limits[i].value;
        req->rlimits[req->nrlimits].resource = limits[i].resource;
        req->rlimits[req->nrlimits].limit.rlim_cur = v;
        req->rlimits[req->nrlimits].limit.rlim_max = v;
        req->nrlimits++;
    }
}

int
spawn_identity(const struct proc_config *pc, int default_umask, struct spawn_user *user,
               struct spawn_request *req, char **err)
{
    memset(user, 0, sizeof(*user));
    req->user = NULL;
    req->umask = pc->umask >= 0 ? pc->umask : default_umask;
    spawn_identity_limits(pc, req);
    if (!pc->user) {
        return 0;
    }
    if (spawn_user_lookup(pc->user, user, err) < 0) {
        return -1;
    }
    if (geteuid() != 0 && user->uid != geteuid()) {
        *err = xasprintf("cannot run as user %s: tend is not running as root", pc->user);
        spawn_user_free(user);
        return -1;
    }
    /* as root, even user = root: exactly that account's groups, not the ones tend was given */
    req->user = geteuid() == 0 || user->uid != geteuid() ? user : NULL;
    return 1;
}

char *
spawn_find_program(const char *name, const char *const *envp)
{
    if (!name || !*name) {
        errno = ENOENT;
        return NULL;
    }
    if (strchr(name, '/')) {
        return xstrdup(name);
    }
    const char *path = NULL;
    for (const char *const *e = envp; e && *e; e++) {
        if (strncmp(*e, "PATH=", 5) == 0) {
            path = *e + 5;
            break;
        }
    }
    if (!path) {
        path = SPAWN_DEFAULT_PATH;
    }
    /* as execvp: a file that exists but is not executable is remembered (EACCES) and the
     * search goes on; an empty element means the current directory */
    bool denied = false;
    size_t namelen = strlen(name);
    const char *p = path;
    for (;;) {
        const char *end = strchrnul(p, ':');
        size_t dirlen = (size_t)(end - p);
        char *candidate = dirlen ? xmalloc(dirlen + namelen + 2) : xmalloc(namelen + 3);
        if (dirlen) {
            memcpy(candidate, p, dirlen);
        } else {
            candidate[0] = '.';
            dirlen = 1;
        }
        candidate[dirlen] = '/';
        memcpy(candidate + dirlen + 1, name, namelen + 1);
        struct stat st;
        if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(candidate, X_OK) == 0) {
                return candidate;
            }
            denied = true;
        }
        free(candidate);
        if (!*end) {
            break;
        }
        p = end + 1;
    }
    errno = denied ? EACCES : ENOENT;
    return NULL;
}

static void
spawn_set_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) {
        fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
}

void
spawn_sanitize_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            /* the lowest free number is fd itself, as the ones below are open by now */
            int null = open("/dev/null", O_RDWR);
            if (null >= 0 && null != fd) {
                close(null);
            }
        }
    }
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) {
        return;
    }
#endif
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            char *end;
            long fd = strtol(de->d_name, &end, 10);
            if (*end == '\0' && end != de->d_name && fd > 2 && fd != dirfd(d)) {
                spawn_set_cloexec((int)fd);
            }
        }
        closedir(d);
        return;
    }
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536) {
        max = 65536;
    }
    for (int fd = 3; fd < max; fd++) {
        spawn_set_cloexec(fd);
    }
}

int
spawn_read_env_file(const char *path, struct strv *env, char **err)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        *err = xasprintf("cannot read env_file %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = '\0';
        }
        char *s = line;
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        if (!*s || *s == '#') {
            continue;
        }
        if (strncmp(s, "export ", 7) == 0) {
            s += 7;
        }
        char *eq = strchr(s, '=');
        if (!eq || eq == s) {
            *err = xasprintf("%s:%d: expected KEY=VALUE", path, lineno);
            rc = -1;
            break;
        }
        /* a value in matching quotes loses them, as in shells and docker's env files */
        size_t vlen = strlen(eq + 1);
        if (vlen >= 2 && (eq[1] == '"' || eq[1] == '\'') && eq[vlen] == eq[1]) {
            eq[vlen] = '\0';
            memmove(eq + 1, eq + 2, vlen - 1);
        }
        strv_setenv(env, s);
    }
    if (rc == 0 && ferror(f)) {
        *err = xasprintf("cannot read env_file %s: %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

void spawn_user_environment(const struct spawn_user *user, struct strv *env)
{
    char *kv[] = {xasprintf("HOME=%s", user->home), xasprintf("USER=%s", user->name),
                  xasprintf("LOGNAME=%s", user->name), xasprintf("SHELL=%s", user->shell)};
    for (size_t i = 0; i < ARRAY_SIZE(kv); i++) {
        strv_setenv(env, kv[i]);
        free(kv[i]);
    }
}

void spawn_process_environment(const struct proc_config *pc, struct strv *env)
{
    char *vars[] = {xasprintf("TEND_PROCESS_NAME=%s", pc->name),
                    xasprintf("TEND_GROUP_NAME=%s", pc->group), xstrdup("SUPERVISOR_ENABLED=1"),
                    xasprintf("SUPERVISOR_PROCESS_NAME=%s", pc->name),
                    xasprintf("SUPERVISOR_GROUP_NAME=%s", pc->group)};
    for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
        strv_setenv(env, vars[i]);
        free(vars[i]);
    }
}

int spawn_build_environment(const struct strv *global_env, const struct proc_config *pc,
                            const struct spawn_user *user, struct strv *env, char **err)
{
    strv_init(env);
    for (char **e = environ; *e; e++) {
        strv_push(env, *e);
    }
    for (size_t i = 0; i < global_env->n; i++) {
        strv_setenv(env, global_env->v[i]);
    }
    if (user) {
        spawn_user_environment(user, env);
    }
    if (pc->env_file && spawn_read_env_file(pc->env_file, env, err) < 0) {
        strv_free(env);
        return -1;
    }
    for (size_t i = 0; i < pc->environment.n; i++) {
        strv_setenv(env, pc->environment.v[i]);
    }
    spawn_process_environment(pc, env);
    /* supervisord's AUTO names its own XML-RPC server, which tend does not have */
    if (pc->serverurl && strcasecmp(pc->serverurl, "AUTO") != 0) {
        char *url = xasprintf("SUPERVISOR_SERVER_URL=%s", pc->serverurl);
        strv_setenv(env, url);
        free(url);
    }
    return 0;
}
