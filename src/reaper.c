/* reaper.c - reaping by pid. waitpid(-1) makes the kernel walk every child of tend, which
 * with 10,000 programs costs more than the restart it serves; so SIGCHLD is blocked and read
 * from a signalfd, whose siginfo names the pid that exited, and that pid is reaped with
 * waitpid(pid) alone, an adopted orphan as well as a program. SIGCHLD does not queue: exits
 * that arrive while one is pending share it, and are found by a sweep with waitpid(-1) shortly
 * after any SIGCHLD (a timer armed by the signal, never running while nothing exits). Without
 * a signalfd, libev's ev_child reaps (supervisor.c). Calls supervisor_reaped and log. */
#include "supervise_int.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

/* How late an exit hidden behind another one's SIGCHLD may be seen. */
#define REAPER_SWEEP_DELAY 0.1

/* Every exited child, whoever it is: waitpid(-1) until none is left. */
static void reaper_sweep(struct supervisor *sv)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid < 0 && errno == EINTR) {
            continue;
        }
        if (pid <= 0) {
            return;
        }
        supervisor_reaped(sv, pid, status);
    }
}

static void reaper_sweep_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    reaper_sweep(w->data);
}

/* The pid a SIGCHLD named, reaped by itself: a program, a probe or check, or an orphan alike
 * (a pid a sweep reaped already is simply not there any more). */
static void reaper_take(struct supervisor *sv, pid_t pid)
{
    int status;
    pid_t r;
    do {
        r = waitpid(pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid) {
        supervisor_reaped(sv, pid, status);
    }
}

static void reaper_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct supervisor *sv = w->data;
    (void)revents;
    struct signalfd_siginfo si[32];
    for (;;) {
        ssize_t n = read(sv->sigchld_fd, si, sizeof(si));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; /* EAGAIN: nothing pending */
        }
        size_t count = (size_t)n / sizeof(si[0]);
        for (size_t i = 0; i < count; i++) {
            if (si[i].ssi_code == CLD_EXITED || si[i].ssi_code == CLD_KILLED ||
                si[i].ssi_code == CLD_DUMPED) {
                reaper_take(sv, (pid_t)si[i].ssi_pid);
            }
        }
        if (count < sizeof(si) / sizeof(si[0])) {
            break;
        }
    }
    /* exits that shared this SIGCHLD named no pid of their own */
    if (!ev_is_active(&sv->sweep_timer)) {
        ev_timer_set(&sv->sweep_timer, REAPER_SWEEP_DELAY, 0.);
        ev_timer_start(loop, &sv->sweep_timer);
    }
}

bool reaper_init(struct supervisor *sv)
{
    sv->sigchld_fd = -1;
    ev_timer_init(&sv->sweep_timer, reaper_sweep_cb, 0., 0.);
    sv->sweep_timer.data = sv;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        log_warn("cannot read SIGCHLD from a signalfd (%s): reaping with waitpid(-1)",
                 strerror(errno));
        return false;
    }
    /* from now on libev's SIGCHLD handler never runs: the signal waits in the signalfd */
    sigprocmask(SIG_BLOCK, &set, NULL);
    sv->sigchld_fd = fd;
    ev_io_init(&sv->sigchld_watcher, reaper_cb, fd, EV_READ);
    sv->sigchld_watcher.data = sv;
    ev_set_priority(&sv->sigchld_watcher, EV_MAXPRI); /* exits before pipes, as ev_child */
    ev_io_start(sv->loop, &sv->sigchld_watcher);
    /* anything that exited before the block went to libev, or is still waiting: look now */
    reaper_sweep(sv);
    return true;
}

void reaper_free(struct supervisor *sv)
{
    ev_timer_stop(sv->loop, &sv->sweep_timer);
    if (sv->sigchld_fd < 0) {
        return;
    }
    ev_io_stop(sv->loop, &sv->sigchld_watcher);
    close(sv->sigchld_fd);
    sv->sigchld_fd = -1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}
