/* test_exitstatus.c - exit_decode, exit_describe and exit_shell_code against real children:
 * every exit status 0-255 and every signal 1-31 whose default action ends a process. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitstatus.h"
#include "tap.h"
#include "values.h"

static int
wait_for(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

/* A child that exits with code. */
static int
status_of_exit(int code)
{
    pid_t pid = fork();
    if (pid == 0) {
        _exit(code);
    }
    return wait_for(pid);
}

/* A child (a real sleep(1), not this instrumented program) killed by sig. It resets every
 * disposition and its mask first, so an inherited SIG_IGN cannot save it; a close-on-exec pipe
 * tells us it has executed. With core, it may dump core into dir. */
static int
status_of_signal(int sig, bool core, const char *dir)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_DFL;
        for (int s = 1; s < NSIG; s++) {
            sigaction(s, &sa, NULL);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        struct rlimit rl = {0, 0};
        if (core) {
            rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
            getrlimit(RLIMIT_CORE, &rl);
            rl.rlim_cur = rl.rlim_max;
        }
        setrlimit(RLIMIT_CORE, &rl);
        if (dir && chdir(dir) < 0) {
            _exit(100);
        }
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl("/bin/sleep", "sleep", "60", (char *)NULL);
        _exit(101);
    }
    close(p[1]);
    char c;
    while (read(p[0], &c, 1) < 0 && errno == EINTR) {
    }
    close(p[0]);
    kill(pid, sig);
    return wait_for(pid);
}

/* Signals whose default action is to ignore or to stop: a child cannot die of them. */
static bool
signal_kills(int sig)
{
    return sig != SIGCHLD && sig != SIGCONT && sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN &&
           sig != SIGTTOU && sig != SIGURG && sig != SIGWINCH;
}

static void
test_every_exit_code(void)
{
    for (int code = 0; code <= 255; code++) {
        struct exit_info x = exit_decode(status_of_exit(code));
        char want[64];
        snprintf(want, sizeof(want), "exited with status %d", code);
        char *got = exit_describe(&x);
        bool ok = x.code == code && x.signal == 0 && !x.core_dumped &&
                  exit_shell_code(&x) == code && strcmp(got, want) == 0;
        TAP_OK(ok, "_exit(%d): code %d, no signal, shell status %d, \"%s\"", code, x.code,
               exit_shell_code(&x), got);
        free(got);
    }
}

static void
test_every_signal(void)
{
    int tested = 0;
    for (int sig = 1; sig <= 31; sig++) {
        if (!signal_kills(sig)) {
            continue;
        }
        tested++;
        struct exit_info x = exit_decode(status_of_signal(sig, false, NULL));
        char want[64];
        snprintf(want, sizeof(want), "killed by signal %s", signal_name(sig));
        char *got = exit_describe(&x);
        bool ok = x.code == -1 && x.signal == sig && !x.core_dumped &&
                  exit_shell_code(&x) == 128 + sig && strcmp(got, want) == 0;
        TAP_OK(ok, "kill -%d: signal %d, no code, shell status %d, \"%s\"", sig, x.signal,
               exit_shell_code(&x), got);
        free(got);
    }
    TAP_OK(tested == 23, "23 of the signals 1-31 end a process by default (%d tested)", tested);
}

static void
test_names(void)
{
    struct exit_info x = exit_decode(status_of_signal(SIGKILL, false, NULL));
    char *s = exit_describe(&x);
    TAP_STREQ(s, "killed by signal KILL", "KILL is named");
    free(s);
    x = exit_decode(status_of_signal(SIGTERM, false, NULL));
    s = exit_describe(&x);
    TAP_STREQ(s, "killed by signal TERM", "TERM is named");
    free(s);
    TAP_OK(exit_shell_code(&x) == 143, "TERM is 143");
    x = exit_decode(status_of_exit(1));
    s = exit_describe(&x);
    TAP_STREQ(s, "exited with status 1", "status 1");
    free(s);

    struct exit_info fake = {.code = -1, .signal = SIGSEGV, .core_dumped = true};
    s = exit_describe(&fake);
    TAP_STREQ(s, "killed by signal SEGV (core dumped)", "a core dump is said");
    free(s);
}

static void
test_core_dump(void)
{
    /* With RLIMIT_CORE 0 no core is written, whatever core_pattern says. */
    struct exit_info x = exit_decode(status_of_signal(SIGSEGV, false, NULL));
    TAP_OK(x.signal == SIGSEGV && !x.core_dumped, "SEGV without a core limit: no core dumped");

    char dir[] = "/tmp/tend-core.XXXXXX";
    if (!mkdtemp(dir)) {
        TAP_OK(1, "# SKIP no temporary directory for a core dump");
        return;
    }
    x = exit_decode(status_of_signal(SIGQUIT, true, dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/core", dir);
    unlink(path);
    /* core files may carry the pid in their name */
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        printf("# could not remove %s\n", dir);
    }
    if (!x.core_dumped) {
        /* core_pattern, a hard limit of 0 or the container may forbid dumps */
        TAP_OK(x.signal == SIGQUIT,
               "QUIT with cores allowed # SKIP this system writes no core files");
        return;
    }
    char *s = exit_describe(&x);
    TAP_STREQ(s, "killed by signal QUIT (core dumped)", "a real core dump is seen and said");
    TAP_OK(exit_shell_code(&x) == 128 + SIGQUIT, "a core dump does not change the status");
    free(s);
}

int
main(void)
{
    test_every_exit_code();
    test_every_signal();
    test_names();
    test_core_dump();
    return tap_done();
}
