/* up.c - `tend up`: loads the configuration, becomes a child subreaper, starts the programs
 * on a libev loop and turns signals into actions: TERM/INT shut down, HUP reload, USR2 reopen. */
#include "up.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "spawn.h"
#include "supervise.h"

struct up {
    struct ev_loop *loop;
    struct supervisor *sv;
    ev_signal sig_term, sig_int, sig_hup, sig_usr2;
    int exit_status;
    bool done; /* every program stopped: the loop is ending */
};

static void up_shutdown_done(struct supervisor *sv, void *arg)
{
    struct up *up = arg;
    (void)sv;
    up->done = true;
    log_info("every program is stopped; exiting");
    ev_break(up->loop, EVBREAK_ALL);
}

static void up_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    struct up *up = w->data;
    (void)loop;
    (void)revents;
    if (up->done) {
        return;
    }
    switch (w->signum) {
    case SIGTERM:
    case SIGINT:
        if (up->sv->shutting_down) {
            log_warn("received SIG%s again; killing every program",
                     w->signum == SIGTERM ? "TERM" : "INT");
        } else {
            log_info("received SIG%s; stopping every program",
                     w->signum == SIGTERM ? "TERM" : "INT");
        }
        supervisor_shutdown(up->sv, up_shutdown_done, up);
        break;
    case SIGHUP:
        log_info("received SIGHUP; reloading is not implemented yet, nothing changed");
        break;
    case SIGUSR2:
        log_info("received SIGUSR2; reopening log files");
        supervisor_reopen_logs(up->sv);
        break;
    default:
        break;
    }
}

static void up_usage(FILE *to)
{
    fprintf(to, "usage: tend [-c FILE] up\n");
}

/* libev aborts on a failed system call unless told otherwise: log first, then abort. */
static void up_syserr(const char *msg)
{
    log_msg(LOG_CRIT, "event loop failure: %s: %s", msg, strerror(errno));
    abort();
}

int up_main(const char *config, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            up_usage(stdout);
            return 0;
        }
        fprintf(stderr, "tend: up: unexpected argument '%s'\n", argv[i]);
        up_usage(stderr);
        return 2;
    }
    char *tried = NULL;
    const char *path = config_find(config, &tried);
    if (!path) {
        fprintf(stderr, "tend: no configuration file found (looked for %s)\n", tried);
        free(tried);
        return EXIT_CONFIG;
    }
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_load(path, &d);
    diag_print(&d, stderr);
    diag_free(&d);
    if (!cfg) {
        return EXIT_CONFIG;
    }

    spawn_sanitize_fds();
    signal(SIGPIPE, SIG_IGN); /* a dead reader is an error to report, never a death */
    log_set_level(cfg->global.loglevel);
    if (cfg->global.logfile && log_open_file(cfg->global.logfile) < 0) {
        fprintf(stderr, "tend: cannot open log file %s: %s\n", cfg->global.logfile,
                strerror(errno));
        config_free(cfg);
        return 125;
    }
    if (cfg->global.umask >= 0) {
        umask((mode_t)cfg->global.umask);
    }
    /* orphaned grandchildren are re-parented to tend, which reaps them: no zombie survives */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        log_warn("cannot become a child subreaper: %s", strerror(errno));
    }

    ev_set_syserr_cb(up_syserr);
    struct up up = {0};
    up.loop = ev_default_loop(EVFLAG_AUTO);
    if (!up.loop) {
        fprintf(stderr, "tend: cannot initialise the event loop\n");
        config_free(cfg);
        return 125;
    }
    up.sv = supervisor_new(up.loop, cfg, true);
    int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR2};
    ev_signal *watchers[] = {&up.sig_term, &up.sig_int, &up.sig_hup, &up.sig_usr2};
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
        ev_signal_init(watchers[i], up_signal_cb, sigs[i]);
        watchers[i]->data = &up;
        ev_signal_start(up.loop, watchers[i]);
    }
    log_info("tend %s starting %zu process%s from %s", PACKAGE_VERSION, cfg->nprocs,
             cfg->nprocs == 1 ? "" : "es", cfg->global.file);
    supervisor_start_autostart(up.sv);
    ev_run(up.loop, 0);

    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
        ev_signal_stop(up.loop, watchers[i]);
    }
    supervisor_free(up.sv);
    ev_loop_destroy(up.loop);
    log_close();
    return up.exit_status;
}
