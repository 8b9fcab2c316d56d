/* spawn.h - fork/exec of one child with exactly the fds it was promised, in its own process
 * group, with its environment, directory, umask, user and limits; shared by `up` and `run`.
 * All the work that is not async-signal-safe (user lookup, PATH search, allocation) happens
 * before fork; the child only makes system calls and reports a failure through a pipe. */
#ifndef TEND_SPAWN_H
#define TEND_SPAWN_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "util.h"

#define SPAWN_MAX_FDS 8
#define SPAWN_MAX_RLIMITS 8

/* The account a child runs as, resolved from the password database before fork. */
struct spawn_user {
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* supplementary groups (getgrouplist) */
    int ngroups;
    char *name, *home, *shell;
};

struct spawn_request {
    const char *const *argv; /* argv[0]: a path, or a name searched in the child's PATH */
    const char *const *envp; /* the whole environment of the child */
    const char *cwd;         /* NULL: inherit */
    int umask;               /* -1: inherit */
    const struct spawn_user *user; /* NULL: no change of identity */
    /* fds of the child: map[i].src (a tend fd, or -1 for /dev/null) becomes map[i].target.
     * 0, 1 and 2 should always be mapped; nothing else is inherited (tend's fds are CLOEXEC). */
    struct {
        int src;
        int target;
    } map[SPAWN_MAX_FDS];
    int nmap;
    struct {
        int resource;
        struct rlimit limit;
    } rlimits[SPAWN_MAX_RLIMITS];
    int nrlimits;
    bool new_process_group; /* setpgid(0, 0): the child leads its own group */
};

/* Why a spawn failed: which step, and errno. */
struct spawn_error {
    const char *step; /* "execute", "change directory to", "switch to user", "open", ... */
    int err;          /* errno */
    char *what;       /* the object of the step, e.g. the command or directory (owned) */
};

/* Forks and executes. Returns 0 with *pid set once the child has executed the program, or -1
 * with *e filled (the failed child has already been reaped). Blocks only until the child's exec
 * (a close-on-exec pipe tells the parent). It blocks every signal across fork and restores the
 * mask; the child resets every disposition to the default and starts with an empty mask. */
int spawn_child(const struct spawn_request *req, pid_t *pid, struct spawn_error *e);
void spawn_error_free(struct spawn_error *e);
/* "cannot execute /usr/bin/nod: No such file or directory" */
char *spawn_error_message(const struct spawn_error *e);
/* The exit status tend run reports for a spawn failure: 127 not found, 126 not executable,
 * 125 for a step before exec (directory, user, fds, limits) or a failed fork. */
int spawn_error_exit_code(const struct spawn_error *e);

/* Looks a user up by name or number. Returns -1 with *err set when it does not exist. */
int spawn_user_lookup(const char *user, struct spawn_user *u, char **err);
void spawn_user_free(struct spawn_user *u);

struct proc_config;
/* Who a program's processes run as, the program itself and its readiness probe and health
 * check alike: its user (looked up into *user, which the caller frees with spawn_user_free),
 * umask (default_umask when it has none; -1 inherits) and rlimit_* limits, all set on req.
 * Returns 1 when the program names a user, 0 when it does not, -1 with *err when the user does
 * not exist or tend, not being root, cannot become it. */
int spawn_identity(const struct proc_config *pc, int default_umask, struct spawn_user *user,
                   struct spawn_request *req, char **err);

/* Searches PATH (from envp, else the default path) for a command without a slash; returns a new
 * string, or NULL with errno ENOENT/EACCES. A command with a slash is returned as is. */
char *spawn_find_program(const char *name, const char *const *envp);

/* Makes every fd of tend above 2 close-on-exec and opens /dev/null on 0-2 if they are closed,
 * so pipes are never created as fd 0-2 and children never inherit a stray fd. */
void spawn_sanitize_fds(void);

/* Reserves a few low fd numbers for staging a child's fds, so a child copies only tend's
 * first fds rather than its whole table (the cost of a spawn would grow with every program's
 * pipes). Once, early, before the fds of the programs are opened; without it spawns still work. */
void spawn_stage_init(void);

/* Adds the KEY=VALUE lines of an env_file to env (replacing same keys): blank lines and lines
 * starting with '#' are skipped, "export " is allowed, a value in matching quotes loses them.
 * Returns -1 with *err ("PATH:LINE: ...") on a bad line or an unreadable file. */
int spawn_read_env_file(const char *path, struct strv *env, char **err);

/* Sets HOME, USER, LOGNAME and SHELL from the password entry of user. */
void spawn_user_environment(const struct spawn_user *user, struct strv *env);

/* Sets the variables that name pc's process: TEND_PROCESS_NAME, TEND_GROUP_NAME and
 * supervisord's SUPERVISOR_ENABLED, SUPERVISOR_PROCESS_NAME, SUPERVISOR_GROUP_NAME. */
void spawn_process_environment(const struct proc_config *pc, struct strv *env);

/* A program's environment, the same for `up` and `run -c`: tend's own, then the global
 * [tend] environment, HOME/USER/LOGNAME/SHELL of user (when given), the env_file, the
 * program's environment, and the variables that name the process (TEND_* and supervisord's
 * SUPERVISOR_*). -1 with *err when the env_file cannot be read. */
int spawn_build_environment(const struct strv *global_env, const struct proc_config *pc,
                            const struct spawn_user *user, struct strv *env, char **err);

#endif
