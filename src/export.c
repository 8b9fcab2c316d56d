/* export.c - `tend export systemd`: a tend-NAME.service unit per process of the effective
 * configuration, printed or written to a directory; what systemd lacks is noted in the unit.
 * Calls config, values and util. */
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "spawn.h"
#include "util.h"
#include "values.h"

#define EXPORT_EXIT_USAGE 2
#define EXPORT_EXIT_FAILED 125

/* systemd refuses longer unit names (UNIT_NAME_MAX is 256 with the NUL) */
#define EXPORT_UNIT_NAME_MAX 255

struct export_ctx {
    const struct config *cfg;
    char *cwd; /* relative paths are taken from here, as a `tend up` started here takes them */
};

static void
export_usage(FILE *to)
{
    fprintf(to, "usage: tend [-c FILE] export systemd [-o DIR]\n"
                "Write a systemd service unit, tend-NAME.service, for each process.\n"
                "  -o, --output DIR   write the units as files in DIR (created if missing)\n"
                "                     instead of printing them\n");
}

/* ---- systemd's syntax ---- */

static bool
export_is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* tend-NAME.service. A byte systemd does not accept in a unit name is written \xNN, as
 * systemd-escape writes it; '-' is kept, as it is valid and only special in names made from
 * paths. Process names are unique and the escape is reversible, so unit names are unique. */
static char *
export_unit_name(const char *process)
{
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_adds(&sb, "tend-");
    for (const unsigned char *p = (const unsigned char *)process; *p; p++) {
        if (export_is_alnum(*p) || *p == '_' || *p == '.' || *p == '-') {
            strbuf_addc(&sb, (char)*p);
        } else {
            strbuf_addf(&sb, "\\x%02x", *p);
        }
    }
    strbuf_adds(&sb, ".service");
    return strbuf_detach(&sb);
}

/* Appends s in double quotes with systemd's C-style escapes. % is doubled everywhere (unit
 * specifiers); $ only when dollar is set, for command lines, where systemd expands $VAR. */
static void
unit_add_quoted(struct strbuf *sb, const char *s, bool dollar)
{
    strbuf_addc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '\\':
            strbuf_adds(sb, "\\\\");
            break;
        case '"':
            strbuf_adds(sb, "\\\"");
            break;
        case '%':
            strbuf_adds(sb, "%%");
            break;
        case '$':
            strbuf_adds(sb, dollar ? "$$" : "$");
            break;
        case '\n':
            strbuf_adds(sb, "\\n");
            break;
        case '\t':
            strbuf_adds(sb, "\\t");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                strbuf_addf(sb, "\\x%02x", *p);
            } else {
                strbuf_addc(sb, (char)*p);
            }
        }
    }
    strbuf_addc(sb, '"');
}

/* A word that needs no quotes on a command line. The first word must not start with one of
 * the prefixes systemd reads there ("-" ignore failure, "@" argv[0], ":", "+", "!"). */
static bool
unit_word_is_plain(const char *w, bool first)
{
    if (!*w || (first && strchr("-@:+!", *w))) {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)w; *p; p++) {
        if (!export_is_alnum(*p) && !strchr("/_.,:=+@-", *p)) {
            return false;
        }
    }
    return true;
}

/* Appends a command line for ExecStart=: words quoted when they need it, so systemd gives
 * back the same argv without expanding $VAR or %specifiers, or splitting at a lone ";". */
static void
unit_add_command(struct strbuf *sb, const struct strv *argv)
{
    for (size_t i = 0; i < argv->n; i++) {
        if (i > 0) {
            strbuf_addc(sb, ' ');
        }
        if (unit_word_is_plain(argv->v[i], i == 0)) {
            strbuf_adds(sb, argv->v[i]);
        } else {
            unit_add_quoted(sb, argv->v[i], true);
        }
    }
}

/* Appends a value that systemd takes as it is, but for specifiers: % is doubled. False, with
 * nothing appended, for what a line of a unit file cannot hold: control characters, blanks at
 * either end (systemd strips them) or a trailing backslash (a line continuation). */
static bool
unit_add_plain(struct strbuf *sb, const char *s)
{
    size_t n = strlen(s);
    if (n > 0 && (s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == '\\')) {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return false;
        }
    }
    for (const char *p = s; *p; p++) {
        if (*p == '%') {
            strbuf_addc(sb, '%');
        }
        strbuf_addc(sb, *p);
    }
    return true;
}

/* "10s" or "1500ms": what systemd's time settings read. */
static char *
unit_duration(int64_t ms)
{
    if (ms % 1000 == 0) {
        return xasprintf("%llds", (long long)(ms / 1000));
    }
    return xasprintf("%lldms", (long long)ms);
}

/* ---- one unit ---- */

static char *
export_absolute(const struct export_ctx *x, const char *path)
{
    if (path[0] == '/') {
        return xstrdup(path);
    }
    return xasprintf("%s/%s", x->cwd, path);
}

/* KEY=value line (or NULL) of an environment vector. */
static const char *
export_getenv(const struct strv *env, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < env->n; i++) {
        if (strncmp(env->v[i], key, n) == 0 && env->v[i][n] == '=') {
            return env->v[i] + n + 1;
        }
    }
    return NULL;
}

/* The command's first word as an absolute path. tend looks a bare name up at each start in
 * the PATH the process gets, systemd in its own fixed PATH; so it is looked up now, in the
 * process's PATH, and left as it is when it is not found. A relative path is taken from the
 * process's working directory, where tend's exec would take it from. */
static char *
export_command_path(const struct export_ctx *x, const char *word, const struct strv *env,
                    const char *dir)
{
    if (word[0] == '/') {
        return xstrdup(word);
    }
    if (strchr(word, '/')) {
        return xasprintf("%s/%s", dir ? dir : x->cwd, word);
    }
    const char *path = export_getenv(env, "PATH");
    if (!path) {
        path = getenv("PATH");
    }
    if (!path) {
        path = "/usr/local/bin:/usr/bin:/bin";
    }
    while (*path) {
        size_t len = strcspn(path, ":");
        if (len > 0 && path[0] == '/') {
            char *candidate = xasprintf("%.*s/%s", (int)len, path, word);
            struct stat st;
            if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode) && access(candidate, X_OK) == 0) {
                return candidate;
            }
            free(candidate);
        }
        path += len;
        if (*path == ':') {
            path++;
        }
    }
    return xstrdup(word);
}

/* "key=VALUE" on its own line, the value as unit_add_plain() writes it after prefix; a value
 * that cannot be written is left out with a warning. */
static void
export_setting(struct strbuf *u, const struct proc_config *pc, const char *key, const char *prefix,
               const char *value)
{
    struct strbuf line;
    strbuf_init(&line);
    strbuf_addf(&line, "%s=%s", key, prefix);
    if (unit_add_plain(&line, value)) {
        strbuf_adds(u, line.buf);
        strbuf_addc(u, '\n');
    } else {
        fprintf(stderr,
                "tend: export: %s: %s: '%s' cannot be written in a unit file "
                "(control character, blank at an end or trailing backslash); left out\n",
                pc->name, key, value);
    }
    strbuf_free(&line);
}

/* "# option = VALUE: why" for an option that has no systemd equivalent. */
static void
export_note(struct strbuf *notes, const struct proc_config *pc, const char *option, const char *why)
{
    const struct option_def *opt = config_find_program_option(option);
    char *v = opt ? config_format_value(opt, pc) : xstrdup("?");
    strbuf_addf(notes, "# %s = %s: %s\n", option, v, why);
    free(v);
}

/* The file a stream goes to under systemd: the one tend would write, or NULL for the journal,
 * where systemd puts what tend would print on its console. */
static char *
export_log_file(const struct export_ctx *x, const struct proc_config *pc, const char *setting,
                const char *stream)
{
    if (!setting || strcasecmp(setting, "NONE") == 0) {
        return NULL;
    }
    if (strcasecmp(setting, "AUTO") == 0) {
        const char *dir = x->cfg->global.childlogdir;
        if (!dir) {
            return NULL;
        }
        char *rel = xasprintf("%s/%s-%s.log", dir, pc->name, stream);
        char *path = export_absolute(x, rel);
        free(rel);
        return path;
    }
    if (strcmp(setting, "/dev/stdout") == 0 || strcmp(setting, "/dev/stderr") == 0) {
        return NULL;
    }
    return export_absolute(x, setting);
}

/* StandardOutput= or StandardError= for a file (NULL: the journal). */
static void
export_log_setting(struct strbuf *u, const struct proc_config *pc, const char *key,
                   const char *file)
{
    if (!file) {
        strbuf_addf(u, "%s=journal\n", key);
    } else if (strcmp(file, "/dev/null") == 0) {
        strbuf_addf(u, "%s=null\n", key);
    } else {
        export_setting(u, pc, key, "append:", file);
    }
}

static void
export_log_note(struct strbuf *notes, const struct proc_config *pc, const char *file,
                int64_t maxbytes, const char *option)
{
    if (file && maxbytes > 0 && strncmp(file, "/dev/", 5) != 0) {
        export_note(notes, pc, option,
                    "systemd does not rotate the file; use logrotate with copytruncate");
    }
}

/* [Unit] After=/Requires= every process unit of the programs this one depends on. */
static void
export_dependencies(const struct export_ctx *x, const struct proc_config *pc, struct strbuf *u)
{
    struct strbuf deps;
    strbuf_init(&deps);
    for (size_t d = 0; d < pc->depends_on.n; d++) {
        for (size_t i = 0; i < x->cfg->nprocs; i++) {
            const struct proc_config *dep = x->cfg->procs[i];
            if (strcmp(dep->program, pc->depends_on.v[d]) == 0) {
                char *name = export_unit_name(dep->name);
                strbuf_addf(&deps, " %s", name);
                free(name);
            }
        }
    }
    if (deps.len > 0) {
        strbuf_addf(u, "After=%s\nRequires=%s\n", deps.buf + 1, deps.buf + 1);
    }
    strbuf_free(&deps);
}

/* [Unit] StartLimit*: tend gives up after startretries failed starts in a row, that is after
 * startretries + 1 attempts; systemd when a unit starts more than StartLimitBurst= times within
 * StartLimitIntervalSec=. A failed start lasts less than startsecs, and is followed by
 * RestartSec=, so a window of that many times (startsecs + RestartSec) catches every loop of
 * failed starts, while a process that runs for startsecs before it exits is restarted without
 * end, as tend restarts it. */
static void
export_start_limit(const struct proc_config *pc, int64_t restart_ms, struct strbuf *u)
{
    if (pc->startretries == RETRIES_FOREVER) {
        strbuf_adds(u, "StartLimitIntervalSec=0\n");
        return;
    }
    long attempts = pc->startretries + 1;
    double ms = (double)attempts * ((double)pc->startsecs + (double)restart_ms);
    const double year_ms = 365.0 * 24 * 3600 * 1000;
    char *text = unit_duration(ms > year_ms ? (int64_t)year_ms : (int64_t)ms);
    strbuf_addf(u, "StartLimitIntervalSec=%s\nStartLimitBurst=%ld\n", text, attempts);
    free(text);
}

/* [Service] Restart= and the exit statuses that count as a success or force a restart. */
static void
export_restart(const struct proc_config *pc, int64_t restart_ms, struct strbuf *u,
               struct strbuf *notes)
{
    bool oneshot = pc->type == PTYPE_ONESHOT;
    const char *restart = "on-failure";
    if (pc->autorestart == AUTORESTART_FALSE) {
        restart = "no";
    } else if (pc->autorestart == AUTORESTART_TRUE) {
        if (oneshot) {
            export_note(notes, pc, "autorestart",
                        "systemd allows only Restart=on-failure for Type=oneshot");
        } else {
            restart = "always";
        }
    }
    strbuf_addf(u, "Restart=%s\n", restart);
    if (strcmp(restart, "no") != 0) {
        char *text = unit_duration(restart_ms);
        strbuf_addf(u, "RestartSec=%s\n", text);
        free(text);
    }
    struct strbuf codes;
    strbuf_init(&codes);
    for (int c = 1; c < 256; c++) {
        if (exitcodes_has(&pc->exitcodes, c)) {
            strbuf_addf(&codes, " %d", c);
        }
    }
    if (codes.len > 0) {
        strbuf_addf(u, "SuccessExitStatus=%s\n", codes.buf + 1);
    }
    strbuf_free(&codes);
    /* For tend an exit status not in exitcodes, 0 included, and any death by a signal are
     * unexpected; systemd counts 0 and SIGHUP, SIGINT, SIGTERM and SIGPIPE as clean. (It
     * refuses this setting for Type=oneshot.) */
    if (pc->autorestart == AUTORESTART_UNEXPECTED && !oneshot) {
        strbuf_addf(u, "RestartForceExitStatus=%sSIGHUP SIGINT SIGTERM SIGPIPE\n",
                    exitcodes_has(&pc->exitcodes, 0) ? "" : "0 ");
    } else if (!exitcodes_has(&pc->exitcodes, 0)) {
        export_note(notes, pc, "exitcodes", "systemd counts exit status 0 as a success too");
    }
    if (pc->backoff_factor != 1.0 && strcmp(restart, "no") != 0) {
        export_note(notes, pc, "backoff_factor",
                    "not mapped; systemd waits RestartSec= before every restart");
    }
}

/* [Service] Type= and what goes with it. */
static void
export_type(const struct export_ctx *x, const struct proc_config *pc, struct strbuf *u,
            struct strbuf *notes)
{
    bool notify = pc->ready.kind == PROBE_NOTIFY;
    switch (pc->type) {
    case PTYPE_FORKING: {
        strbuf_adds(u, "Type=forking\n");
        char *pidfile = export_absolute(x, pc->pidfile);
        export_setting(u, pc, "PIDFile", "", pidfile);
        free(pidfile);
        break;
    }
    case PTYPE_ONESHOT:
        strbuf_adds(u, "Type=oneshot\nRemainAfterExit=yes\n");
        break;
    default:
        /* exec, not simple: a command that cannot be run is a failed start, as in tend */
        strbuf_adds(u, notify ? "Type=notify\n" : "Type=exec\n");
        if (notify) {
            /* systemd waits TimeoutStartSec= for READY=1, as tend waits ready_timeout */
            char *text = pc->ready_timeout > 0 ? unit_duration(pc->ready_timeout)
                                               : xstrdup("infinity");
            strbuf_addf(u, "TimeoutStartSec=%s\n", text);
            free(text);
        }
        break;
    }
    if (notify && pc->type != PTYPE_SIMPLE) {
        export_note(notes, pc, "ready", "not mapped; systemd reads notify only for Type=simple");
    } else if (pc->ready.kind != PROBE_NONE && !notify) {
        export_note(notes, pc, "ready",
                    "not mapped; systemd counts the unit as started once the command runs");
    }
}

/* [Service] Environment=: the global environment, the program's, and the variables by which
 * tend tells a process who it is (as spawn_build_environment()). */
static void
export_environment(const struct export_ctx *x, const struct proc_config *pc, struct strv *env)
{
    strv_init(env);
    for (size_t i = 0; i < x->cfg->global.environment.n; i++) {
        strv_setenv(env, x->cfg->global.environment.v[i]);
    }
    for (size_t i = 0; i < pc->environment.n; i++) {
        strv_setenv(env, pc->environment.v[i]);
    }
    spawn_process_environment(pc, env);
}

static void
export_limits(const struct proc_config *pc, struct strbuf *u)
{
    const struct {
        const char *key;
        int64_t value;
    } limits[] = {
        {"LimitNOFILE", pc->rlimit_nofile},
        {"LimitCORE", pc->rlimit_core},
        {"LimitNPROC", pc->rlimit_nproc},
        {"LimitAS", pc->rlimit_as},
    };
    for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
        if (limits[i].value == RLIMIT_UNLIMITED) {
            strbuf_addf(u, "%s=infinity\n", limits[i].key);
        } else if (limits[i].value != RLIMIT_UNSET) {
            strbuf_addf(u, "%s=%lld\n", limits[i].key, (long long)limits[i].value);
        }
    }
}

/* [Service] ExecStart= and what the command runs with: directory, user, umask, environment. */
static void
export_exec(const struct export_ctx *x, const struct proc_config *pc, struct strbuf *u,
            struct strbuf *notes)
{
    const struct global_config *g = &x->cfg->global;
    char *dir = NULL;
    if (pc->directory || g->directory) {
        dir = export_absolute(x, pc->directory ? pc->directory : g->directory);
    }
    struct strv env;
    export_environment(x, pc, &env);
    struct strv argv;
    strv_copy(&argv, &pc->command);
    char *path = export_command_path(x, argv.v[0], &env, dir);
    free(argv.v[0]);
    argv.v[0] = path;
    strbuf_adds(u, "ExecStart=");
    unit_add_command(u, &argv);
    strbuf_addc(u, '\n');
    strv_free(&argv);

    if (dir) {
        export_setting(u, pc, "WorkingDirectory", "", dir);
        free(dir);
    }
    const char *user = pc->user ? pc->user : g->user;
    if (user) {
        export_setting(u, pc, "User", "", user);
    }
    /* a process inherits tend's umask, the global one, unless it has its own */
    int umask_value = pc->umask >= 0 ? pc->umask : g->umask;
    if (umask_value >= 0 && umask_value != 022) {
        strbuf_addf(u, "UMask=%04o\n", (unsigned)umask_value);
    }
    if (pc->env_file) {
        char *file = export_absolute(x, pc->env_file);
        export_setting(u, pc, "EnvironmentFile", "", file);
        free(file);
        if (pc->environment.n > 0) {
            export_note(notes, pc, "env_file",
                        "its variables win over Environment= in systemd, "
                        "while the program's environment wins in tend");
        }
    }
    for (size_t i = 0; i < env.n; i++) {
        strbuf_adds(u, "Environment=");
        unit_add_quoted(u, env.v[i], false);
        strbuf_addc(u, '\n');
    }
    strv_free(&env);
}

/* [Service] StandardInput=, StandardOutput=, StandardError=. */
static void
export_io(const struct export_ctx *x, const struct proc_config *pc, struct strbuf *u,
          struct strbuf *notes)
{
    if (pc->stdin.kind == STDIN_FILE) {
        char *file = export_absolute(x, pc->stdin.path);
        export_setting(u, pc, "StandardInput", "file:", file);
        free(file);
    }
    char *out = export_log_file(x, pc, pc->stdout_logfile, "stdout");
    char *err = pc->redirect_stderr ? NULL : export_log_file(x, pc, pc->stderr_logfile, "stderr");
    if (out) {
        export_log_setting(u, pc, "StandardOutput", out);
    }
    /* systemd's StandardError= defaults to where standard output goes */
    if (!pc->redirect_stderr && (out || err)) {
        export_log_setting(u, pc, "StandardError", err);
    }
    export_log_note(notes, pc, out, pc->stdout_logfile_maxbytes, "stdout_logfile_maxbytes");
    export_log_note(notes, pc, err, pc->stderr_logfile_maxbytes, "stderr_logfile_maxbytes");
    free(out);
    free(err);
}

/* [Service] KillMode=, KillSignal=, TimeoutStopSec=. */
static void
export_stop(const struct proc_config *pc, struct strbuf *u)
{
    /* stopasgroup signals the group; killasgroup alone signals the process, then SIGKILLs the
     * group, which is what systemd's mixed mode does */
    strbuf_addf(u, "KillMode=%s\n",
                pc->stopasgroup   ? "control-group"
                : pc->killasgroup ? "mixed"
                                  : "process");
    const char *sig = signal_name(pc->stopsignal);
    strbuf_addf(u, "KillSignal=%s%s\n", (sig[0] >= '0' && sig[0] <= '9') ? "" : "SIG", sig);
    /* systemd reads 0 as no timeout at all; tend kills at once */
    char *stopwait = unit_duration(pc->stopwaitsecs > 0 ? pc->stopwaitsecs : 1);
    strbuf_addf(u, "TimeoutStopSec=%s\n", stopwait);
    free(stopwait);
}

/* Comments for the options that have no systemd equivalent and are not at their default. */
static void
export_unmapped(const struct proc_config *pc, struct strbuf *notes)
{
    if (pc->healthcheck.kind != PROBE_NONE) {
        export_note(notes, pc, "healthcheck", "not mapped; systemd has no health checks");
    }
    if (pc->critical) {
        export_note(notes, pc, "critical", "not mapped");
    }
    const struct option_def *priority = config_find_program_option("priority");
    if (priority && pc->priority != strtol(priority->def, NULL, 10)) {
        export_note(notes, pc, "priority", "not mapped; systemd orders units by After=");
    }
    if (pc->stdout_timestamps) {
        export_note(notes, pc, "stdout_timestamps", "not mapped");
    }
    if (pc->stderr_timestamps) {
        export_note(notes, pc, "stderr_timestamps", "not mapped");
    }
    if (!pc->autostart) {
        export_note(notes, pc, "autostart", "no [Install] section; start it by hand");
    }
    if (pc->fcgi) {
        export_note(notes, pc, "socket",
                    "not mapped; write a .socket unit with Accept=no and StandardInput=socket");
    }
    if (pc->stdout_syslog || pc->stderr_syslog) {
        export_note(notes, pc, pc->stdout_syslog ? "stdout_syslog" : "stderr_syslog",
                    "the journal forwards to syslog when ForwardToSyslog=yes");
    }
}

/* The whole unit of one process: a header, the notes, [Unit], [Service] and [Install]. */
static char *
export_unit(const struct export_ctx *x, const struct proc_config *pc, const char *unit)
{
    struct strbuf u, notes;
    strbuf_init(&u);
    strbuf_init(&notes);
    int64_t restart_ms =
        pc->restart_delay > pc->backoff_base ? pc->restart_delay : pc->backoff_base;

    strbuf_adds(&u, "[Unit]\nDescription=");
    char *description = xasprintf("%s (tend program %s)", pc->name, pc->program);
    unit_add_plain(&u, description); /* names hold no control characters or blanks */
    free(description);
    strbuf_addc(&u, '\n');
    export_dependencies(x, pc, &u);
    if (pc->autorestart != AUTORESTART_FALSE) {
        export_start_limit(pc, restart_ms, &u);
    }

    strbuf_adds(&u, "\n[Service]\n");
    export_type(x, pc, &u, &notes);
    export_exec(x, pc, &u, &notes);
    export_io(x, pc, &u, &notes);
    export_restart(pc, restart_ms, &u, &notes);
    export_stop(pc, &u);
    export_limits(pc, &u);

    if (pc->autostart) {
        strbuf_adds(&u, "\n[Install]\nWantedBy=multi-user.target\n");
    }
    export_unmapped(pc, &notes);

    struct strbuf all;
    strbuf_init(&all);
    strbuf_addf(&all,
                "# %s: generated by `tend export systemd` from %s:%d\n"
                "# ([program:%s], process %s); edit that file and export again.\n",
                unit, pc->file, pc->line, pc->program, pc->name);
    strbuf_add(&all, notes.buf, notes.len);
    strbuf_add(&all, u.buf, u.len);
    strbuf_free(&notes);
    strbuf_free(&u);
    return strbuf_detach(&all);
}

/* ---- output ---- */

/* Writes text to dir/name through a temporary file, so a reader never sees half a unit. */
static int
export_write_file(const char *dir, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", dir, name);
    char *tmp = xasprintf("%s/.%s.%d.tmp", dir, name, (int)getpid());
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "tend: export: cannot create %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    size_t len = strlen(text);
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fprintf(stderr, "tend: export: cannot write %s: %s\n", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            goto out;
        }
        done += (size_t)n;
    }
    if (close(fd) < 0) {
        fprintf(stderr, "tend: export: cannot write %s: %s\n", tmp, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) < 0) {
        fprintf(stderr, "tend: export: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    printf("%s\n", path);
    rc = 0;
out:
    free(tmp);
    free(path);
    return rc;
}

static int
export_make_dir(const char *dir)
{
    char *inside = xasprintf("%s/.", dir); /* mkdir_parents() creates what is above a path */
    int rc = mkdir_parents(inside, 0755);
    free(inside);
    struct stat st;
    if (rc == 0 && stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        rc = -1;
    } else if (rc == 0 && stat(dir, &st) < 0) {
        rc = -1;
    }
    if (rc < 0) {
        fprintf(stderr, "tend: export: cannot create directory %s: %s\n", dir, strerror(errno));
    }
    return rc;
}

static int
export_systemd(const struct config *cfg, const char *outdir)
{
    struct export_ctx x = {.cfg = cfg, .cwd = getcwd(NULL, 0)};
    if (!x.cwd) {
        fprintf(stderr, "tend: export: cannot find the current directory: %s\n", strerror(errno));
        return EXPORT_EXIT_FAILED;
    }
    if (cfg->nprocs == 0) {
        fprintf(stderr, "tend: export: %s has no programs; nothing to export\n", cfg->global.file);
    }
    int rc = 0;
    if (outdir && export_make_dir(outdir) < 0) {
        rc = EXPORT_EXIT_FAILED;
    }
    for (size_t i = 0; rc == 0 && i < cfg->nprocs; i++) {
        const struct proc_config *pc = cfg->procs[i];
        char *name = export_unit_name(pc->name);
        if (strlen(name) > EXPORT_UNIT_NAME_MAX) {
            fprintf(stderr,
                    "%s:%d: [program:%s] process_name: '%s' makes a unit name longer than "
                    "systemd allows (%d bytes)\n",
                    pc->file, pc->line, pc->program, pc->name, EXPORT_UNIT_NAME_MAX);
            rc = EXIT_CONFIG;
            free(name);
            break;
        }
        char *text = export_unit(&x, pc, name);
        if (outdir) {
            if (export_write_file(outdir, name, text) < 0) {
                rc = EXPORT_EXIT_FAILED;
            }
        } else {
            printf("%s# ---- %s\n%s", i > 0 ? "\n" : "", name, text);
        }
        free(text);
        free(name);
    }
    free(x.cwd);
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "tend: export: cannot write to standard output: %s\n", strerror(errno));
        rc = EXPORT_EXIT_FAILED;
    }
    return rc;
}

int
export_main(const char *config, int argc, char **argv)
{
    const char *format = NULL;
    const char *outdir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            export_usage(stdout);
            return 0;
        }
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (++i >= argc) {
                fprintf(stderr, "tend: export: %s needs a DIR\n", a);
                export_usage(stderr);
                return EXPORT_EXIT_USAGE;
            }
            outdir = argv[i];
        } else if (strncmp(a, "--output=", 9) == 0) {
            outdir = a + 9;
        } else if (strncmp(a, "-o", 2) == 0) {
            outdir = a + 2;
        } else if (a[0] == '-') {
            fprintf(stderr, "tend: export: unknown option '%s'\n", a);
            export_usage(stderr);
            return EXPORT_EXIT_USAGE;
        } else if (!format) {
            format = a;
        } else {
            fprintf(stderr, "tend: export: unexpected argument '%s'\n", a);
            export_usage(stderr);
            return EXPORT_EXIT_USAGE;
        }
    }
    if (!format || strcmp(format, "systemd") != 0) {
        if (format) {
            fprintf(stderr, "tend: export: unknown format '%s' (tend knows: systemd)\n", format);
        } else {
            fprintf(stderr, "tend: export: which format? (tend knows: systemd)\n");
        }
        export_usage(stderr);
        return EXPORT_EXIT_USAGE;
    }
    if (outdir && !*outdir) {
        fprintf(stderr, "tend: export: -o needs a DIR\n");
        export_usage(stderr);
        return EXPORT_EXIT_USAGE;
    }

    struct config *cfg = config_load_for_verb(config, "exported");
    if (!cfg) {
        return EXIT_CONFIG;
    }
    int rc = export_systemd(cfg, outdir);
    config_free(cfg);
    return rc;
}
