/* test_config.c - the configuration loader: sections, defaults, numprocs, includes, long and
 * continued lines, comments, and every class of error with its file:line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "events.h"
#include "tap.h"

static char dir[] = "/tmp/tend-test-config-XXXXXX";

static char *write_file(const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static struct config *load(const char *text, struct diag *d)
{
    char *path = write_file("tend.ini", text);
    diag_init(d);
    struct config *cfg = config_load(path, d);
    free(path);
    return cfg;
}

static const struct proc_config *proc(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nprocs; i++) {
        if (strcmp(cfg->procs[i]->name, name) == 0) {
            return cfg->procs[i];
        }
    }
    return NULL;
}

static bool has_message(const struct strv *list, const char *fragment)
{
    for (size_t i = 0; i < list->n; i++) {
        if (strstr(list->v[i], fragment)) {
            return true;
        }
    }
    return false;
}

static void expect_error(const char *what, const char *text, const char *fragment)
{
    struct diag d;
    struct config *cfg = load(text, &d);
    TAP_OK(cfg == NULL, "%s: load fails", what);
    TAP_OK(has_message(&d.errors, fragment), "%s: error mentions '%s'", what, fragment);
    if (!has_message(&d.errors, fragment)) {
        for (size_t i = 0; i < d.errors.n; i++) {
            printf("#   error: %s\n", d.errors.v[i]);
        }
    }
    config_free(cfg);
    diag_free(&d);
}

static void test_defaults(void)
{
    struct diag d;
    struct config *cfg = load("[program:web]\ncommand = /bin/sleep 10\n", &d);
    TAP_OK(cfg != NULL, "minimal program loads");
    const struct proc_config *pc = proc(cfg, "web");
    TAP_OK(pc != NULL, "process 'web' exists");
    TAP_OK(pc->command.n == 2 && strcmp(pc->command.v[0], "/bin/sleep") == 0, "argv split");
    TAP_OK(pc->numprocs == 1 && pc->priority == 999 && pc->autostart, "numprocs/priority/autostart");
    TAP_OK(pc->startsecs == 1000 && pc->startretries == 3, "startsecs 1s, startretries 3");
    TAP_OK(pc->autorestart == AUTORESTART_UNEXPECTED, "autorestart unexpected");
    TAP_OK(exitcodes_has(&pc->exitcodes, 0) && !exitcodes_has(&pc->exitcodes, 1), "exitcodes 0");
    TAP_OK(pc->stopsignal == 15 && pc->stopwaitsecs == 10000, "stopsignal TERM, stopwaitsecs 10");
    TAP_OK(pc->stopasgroup && pc->killasgroup, "group signalling on by default");
    TAP_OK(pc->stdout_logfile_maxbytes == 50 * 1024 * 1024, "maxbytes 50MB");
    TAP_OK(pc->stdout_logfile_backups == 10, "backups 10");
    TAP_OK(pc->umask == -1 && pc->user == NULL && pc->directory == NULL, "unset options");
    TAP_OK(pc->stdin.kind == STDIN_NULL && pc->type == PTYPE_SIMPLE, "stdin null, type simple");
    TAP_OK(strcmp(pc->group, "web") == 0, "own group");
    TAP_OK(cfg->global.socket_mode == 0600 && cfg->global.umask == 022, "global defaults");
    TAP_OK(d.errors.n == 0 && d.warnings.n == 0, "no diagnostics");
    config_free(cfg);
    diag_free(&d);
}

static void test_numprocs_and_groups(void)
{
    struct diag d;
    struct config *cfg = load("[group:svc]\nprograms = worker, api\npriority = 5\n"
                              "[program:worker]\n"
                              "command = /bin/echo %(program_name)s %(process_num)d %(group_name)s\n"
                              "process_name = %(program_name)s_%(process_num)02d\n"
                              "numprocs = 3\nnumprocs_start = 1\npriority = 20\n"
                              "[program:api]\ncommand = /bin/true\npriority = 10\n",
                              &d);
    TAP_OK(cfg != NULL && cfg->nprocs == 4, "3 workers + api");
    const struct proc_config *w = proc(cfg, "worker_03");
    TAP_OK(w != NULL, "worker_03 exists (numprocs_start 1)");
    TAP_OK(w && strcmp(w->command.v[1], "worker") == 0 && strcmp(w->command.v[2], "3") == 0 &&
               strcmp(w->command.v[3], "svc") == 0,
           "command expanded per process");
    TAP_OK(cfg && strcmp(cfg->procs[0]->name, "api") == 0, "priority order: api first");
    TAP_OK(cfg && strcmp(cfg->procs[1]->name, "worker_01") == 0, "then worker_01");
    TAP_OK(cfg && cfg->ngroups == 1 && cfg->groups[0].priority == 5, "group parsed");
    config_free(cfg);
    diag_free(&d);
}

static void test_syntax(void)
{
    struct diag d;
    struct strbuf long_cmd;
    strbuf_init(&long_cmd);
    strbuf_adds(&long_cmd, "[program:long]\ncommand = /bin/echo");
    for (int i = 0; i < 60; i++) {
        strbuf_adds(&long_cmd, " word");
    }
    strbuf_adds(&long_cmd, "\n[program:cont]\ncommand = /bin/echo one\n    two\n\tthree\n"
                           "environment = A=\"1\",\n  B='x, y'\n"
                           "stopsignal = INT ; a comment\n"
                           "priority = 3 # another comment\n"
                           "Autostart: false\n"
                           "[supervisord]\nloglevel = debug\n"
                           "[unix_http_server]\nfile = /tmp/x.sock\nchmod = 0700\n");
    struct config *cfg = load(long_cmd.buf, &d);
    strbuf_free(&long_cmd);
    TAP_OK(cfg != NULL, "long lines, continuations and comments load");
    const struct proc_config *l = proc(cfg, "long");
    TAP_OK(l && l->command.n == 61, "a line over inih's 200 bytes is read whole");
    const struct proc_config *c = proc(cfg, "cont");
    TAP_OK(c && c->command.n == 4 && strcmp(c->command.v[3], "three") == 0, "continuation lines");
    TAP_OK(c && c->environment.n == 2 && strcmp(c->environment.v[1], "B=x, y") == 0,
           "multi-line environment");
    TAP_OK(c && c->stopsignal == 2 && c->priority == 3, "inline ; and # comments stripped");
    TAP_OK(c && !c->autostart, "name: value and case-insensitive names");
    TAP_OK(cfg && cfg->global.loglevel == LOG_DEBUG, "[supervisord] is [tend]");
    TAP_OK(cfg && cfg->global.socket && strcmp(cfg->global.socket, "/tmp/x.sock") == 0 &&
               cfg->global.socket_mode == 0700,
           "[unix_http_server] file and chmod");
    config_free(cfg);
    diag_free(&d);
}

static void test_includes(void)
{
    char *sub = xasprintf("%s/conf.d", dir);
    mkdir(sub, 0755);
    free(write_file("conf.d/a.ini", "[program:a]\ncommand = /bin/true\ndirectory = %(here)s\n"));
    free(write_file("conf.d/b.ini", "[program:b]\ncommand = /bin/true\n"));
    struct diag d;
    struct config *cfg = load("[include]\nfiles = conf.d/*.ini\n", &d);
    TAP_OK(cfg && cfg->nprocs == 2 && cfg->files.n == 3, "glob relative to the including file");
    const struct proc_config *a = cfg ? proc(cfg, "a") : NULL;
    TAP_OK(a && a->directory && strcmp(a->directory, sub) == 0, "%%(here)s is the included file's dir");
    config_free(cfg);
    diag_free(&d);

    free(write_file("conf.d/loop.ini", "[include]\nfiles = ../tend.ini\n"));
    expect_error("include cycle", "[include]\nfiles = conf.d/loop.ini\n", "include cycle");
    char *loop = xasprintf("%s/conf.d/loop.ini", dir);
    unlink(loop);
    free(loop);
    free(sub);
}

static void test_errors(void)
{
    expect_error("unknown option in [tend]", "[tend]\nlogfle = /tmp/x\n",
                 "tend.ini:2: [tend] logfle: unknown option (did you mean logfile?)");
    expect_error("bad value", "[program:x]\ncommand = /bin/true\nstartsecs = soon\n",
                 "tend.ini:3: [program:x] startsecs: invalid duration");
    expect_error("bad bool", "[program:x]\ncommand = /bin/true\nautostart = maybe\n",
                 ":3: [program:x] autostart:");
    expect_error("bad signal", "[program:x]\ncommand = /bin/true\nstopsignal = TREM\n",
                 "stopsignal:");
    expect_error("missing command", "\n[program:x]\nautostart = true\n",
                 "tend.ini:2: [program:x]: command is required");
    expect_error("keyless program", "[program:x]\n", "tend.ini:1: [program:x]: command is required");
    expect_error("numprocs without process_num", "[program:x]\ncommand = /bin/true\nnumprocs = 2\n",
                 "process_name must contain %(process_num)d");
    expect_error("duplicate process names",
                 "[program:x]\ncommand = /bin/true\n[program:y]\ncommand = /bin/true\n"
                 "process_name = x\n",
                 "process name 'x' is already used");
    expect_error("dependency cycle",
                 "[program:a]\ncommand = /bin/true\ndepends_on = b\n"
                 "[program:b]\ncommand = /bin/true\ndepends_on = c\n"
                 "[program:c]\ncommand = /bin/true\ndepends_on = a\n",
                 "dependency cycle: a -> b -> c -> a");
    expect_error("unknown dependency", "[program:a]\ncommand = /bin/true\ndepends_on = zz\n",
                 "tend.ini:3: [program:a] depends_on: no [program:zz]");
    expect_error("duplicate option", "[program:a]\ncommand = /bin/true\ncommand = /bin/false\n",
                 "tend.ini:3: [program:a] command: set twice (first at line 2)");
    expect_error("undefined variable", "[program:a]\ncommand = %(ENV_TEND_NO_SUCH_VAR)s\n",
                 "tend.ini:2: [program:a] command: undefined variable %(ENV_TEND_NO_SUCH_VAR)s");
    expect_error("unterminated quote", "[program:a]\ncommand = /bin/echo 'oops\n", "command:");
    expect_error("no equals", "[program:a]\ncommand = /bin/true\njunk line\n",
                 "tend.ini:3: expected 'name = value'");
    expect_error("unknown section in [tend]", "[tend]\nsocket = /tmp/s\nbad = 1\n",
                 "tend.ini:3: [tend] bad: unknown option");
    expect_error("forking without pidfile", "[program:a]\ncommand = /bin/true\ntype = forking\n",
                 "type = forking needs a pidfile");
    expect_error("group of unknown program", "[group:g]\nprograms = nope\n",
                 "[group:g] programs: no [program:nope]");
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_load("/nonexistent/tend.ini", &d);
    TAP_OK(cfg == NULL && has_message(&d.errors, "/nonexistent/tend.ini: cannot read "
                                                 "configuration file: No such file"),
           "missing file is an error naming it");
    diag_free(&d);
}

static void test_warnings(void)
{
    struct diag d;
    struct config *cfg = load("[program:a]\ncommand = /bin/true\nstdout_capture_maxbytes = 1MB\n"
                              "[rpcinterface:supervisor]\n"
                              "supervisor.rpcinterface_factory = supervisor.rpcinterface:x\n"
                              "[supervisorctl]\nserverurl = unix:///tmp/s.sock\n",
                              &d);
    TAP_OK(cfg != NULL, "ignored supervisord options and sections are not errors");
    TAP_OK(has_message(&d.warnings, "tend.ini:3: warning: [program:a] stdout_capture_maxbytes"),
           "warning names the ignored option");
    TAP_OK(has_message(&d.warnings, "[rpcinterface:supervisor]: a Python RPC interface factory"),
           "warning names the ignored section");
    config_free(cfg);
    diag_free(&d);

    /* supervisord skips options it does not know: tend warns, and --strict makes it an error */
    const char *typo = "[program:x]\ncommand = /bin/true\nautorestrt = true\n";
    cfg = load(typo, &d);
    TAP_OK(cfg != NULL && d.errors.n == 0, "an unknown [program:x] option is no error");
    TAP_OK(has_message(&d.warnings, "tend.ini:3: warning: [program:x] autorestrt: unknown option, "
                                    "ignored (did you mean autorestart?)"),
           "the warning has file:line and a suggestion");
    config_free(cfg);
    diag_free(&d);
    char *path = write_file("tend.ini", typo);
    diag_init(&d);
    d.strict = true;
    cfg = config_load(path, &d);
    free(path);
    TAP_OK(cfg == NULL && has_message(&d.errors, "tend.ini:3: [program:x] autorestrt: unknown "
                                                 "option (did you mean autorestart?)"),
           "strict: the unknown option is an error");
    config_free(cfg);
    diag_free(&d);
}

static void test_eventlistener(void)
{
    struct diag d;
    struct config *cfg = load("[eventlistener:mon]\ncommand = /bin/cat\nnumprocs = 2\n"
                              "process_name = mon_%(process_num)d\n"
                              "events = PROCESS_STATE, tick_60\nbuffer_size = 3\n"
                              "result_handler = my.module:handler\n",
                              &d);
    TAP_OK(cfg != NULL && cfg->nprocs == 2, "[eventlistener:x] builds numprocs listeners");
    if (cfg) {
        const struct proc_config *pc = cfg->procs[0];
        TAP_OK(pc->listener && strcmp(pc->program, "mon") == 0 && strcmp(pc->group, "mon") == 0,
               "a listener's pool is its group");
        TAP_OK(pc->listener_events == (event_mask_for_name("PROCESS_STATE") |
                                       event_mask_for_name("TICK_60")),
               "events= is a mask of types and groups");
        TAP_OK(pc->buffer_size == 3 && pc->priority == -1, "buffer_size; priority -1 by default");
    }
    TAP_OK(has_message(&d.warnings, "tend.ini:7: warning: [eventlistener:mon] result_handler"),
           "result_handler warns");
    config_free(cfg);
    diag_free(&d);
    expect_error("events missing", "[eventlistener:x]\ncommand = /bin/cat\n", "[eventlistener:x]: events is required");
    expect_error("bad event", "[eventlistener:x]\ncommand = /bin/cat\nevents = NOPE\n", "tend.ini:3: [eventlistener:x] events: unknown event type NOPE");
    expect_error("buffer_size 0", "[eventlistener:x]\ncommand = /bin/cat\nevents = TICK\nbuffer_size = 0\n", "tend.ini:4: [eventlistener:x] buffer_size");
    expect_error("redirect_stderr", "[eventlistener:x]\ncommand = /bin/cat\nevents = TICK\nredirect_stderr = true\n", "tend.ini:4: [eventlistener:x] redirect_stderr: not allowed");
}

static void test_http_sections(void)
{
    struct diag d;
    struct config *cfg = load("[unix_http_server]\nfile = /tmp/x.sock\nchmod = 0660\n"
                              "chown = root:root\nusername = u\npassword = {SHA}ab\n"
                              "[inet_http_server]\nport = 127.0.0.1:9001\nusername = admin\n"
                              "password = pw\n[supervisorctl]\nserverurl = unix:///tmp/x.sock\n"
                              "[program:a]\ncommand = /bin/true\n",
                              &d);
    const struct global_config *g = cfg ? &cfg->global : NULL;
    TAP_OK(g && g->socket_mode == 0660 && strcmp(g->socket_owner, "root:root") == 0 &&
               strcmp(g->socket_username, "u") == 0 && strcmp(g->socket_password, "{SHA}ab") == 0,
           "[unix_http_server] chown, username, password");
    TAP_OK(g && strcmp(g->http_port, "127.0.0.1:9001") == 0 &&
               strcmp(g->http_username, "admin") == 0 && strcmp(g->http_password, "pw") == 0,
           "[inet_http_server] port, username, password");
    TAP_OK(d.warnings.n == 0, "no warning for the HTTP sections or [supervisorctl]");
    config_free(cfg);
    diag_free(&d);
    cfg = load("[inet_http_server]\nport = 9001\nsocket = x\n[program:a]\ncommand = /bin/true\n",
               &d);
    TAP_OK(!cfg && has_message(&d.errors, "tend.ini:3: [inet_http_server] socket: unknown option"),
           "an unknown option of [inet_http_server] is an error with its line");
    config_free(cfg);
    diag_free(&d);
}

/* The reader works through a 64 KiB window, and a client (config_load_global) jumps over the
 * sections it does not need and counts their lines only when a section it keeps follows. Both
 * must name the same exact line, wherever the window boundaries fall. */
static unsigned reader_rand_state = 12345;

static unsigned reader_rand(unsigned below)
{
    reader_rand_state = reader_rand_state * 1103515245u + 12345u;
    return (reader_rand_state >> 8) % below;
}

/* A file of many sections with every shape the skip must pass over, the [tend] section with an
 * unknown option somewhere among them; returns that option's line. */
static int reader_file(struct strbuf *sb, int variant, bool overlong)
{
    int line = 1, bad_line = 0;
    int sections = 50 + (int)reader_rand(3000);
    /* with the long line, [tend] comes last: the client must count past that line */
    int tend_at = overlong ? sections : (int)reader_rand((unsigned)sections + 1);
    for (int i = 0; i <= sections; i++) {
        const char *eol = reader_rand(4) == 0 ? "\r\n" : "\n";
        if (i == tend_at) {
            strbuf_addf(sb, "[tend] ; the socket%ssocket = /tmp/r%d.sock%s", eol, variant, eol);
            strbuf_addf(sb, "bogus_%d = 1%s", variant, eol);
            bad_line = line + 2;
            line += 3;
        }
        if (i == sections) {
            break;
        }
        strbuf_addf(sb, "[program:p%d]%s%scommand = echo [x] %d%s", i,
                    reader_rand(5) == 0 ? " ; [tend]" : "", eol, i, eol);
        line += 2;
        switch (reader_rand(6)) {
        case 0:
            strbuf_addf(sb, "  [a continuation, not a header%s; [tend] a comment%s", eol, eol);
            line += 2;
            break;
        case 1: {
            strbuf_adds(sb, "environment = A=\"");
            for (unsigned k = reader_rand(4000); k; k--) {
                strbuf_addc(sb, k % 7 ? 'x' : '[');
            }
            strbuf_addf(sb, "\"%s", eol);
            line += 1;
            break;
        }
        case 2:
            strbuf_addf(sb, "%s%s", eol, eol);
            line += 2;
            break;
        default:
            break;
        }
        if (overlong && i == sections / 2) {
            strbuf_adds(sb, "directory = ");
            for (int k = 0; k < 70000; k++) {
                strbuf_addc(sb, 'd');
            }
            strbuf_adds(sb, eol);
            line += 1;
        }
    }
    if (reader_rand(2) && sb->len && sb->buf[sb->len - 1] == '\n') {
        sb->buf[--sb->len] = '\0'; /* no newline after the last line */
        if (sb->len && sb->buf[sb->len - 1] == '\r') {
            sb->buf[--sb->len] = '\0';
        }
    }
    return bad_line;
}

static void test_reader_windows(void)
{
    int full_ok = 0, client_ok = 0, socket_ok = 0, rounds = 30;
    for (int v = 0; v < rounds; v++) {
        struct strbuf sb;
        strbuf_init(&sb);
        int bad_line = reader_file(&sb, v, false);
        char *want = xasprintf("tend.ini:%d: [tend] bogus_%d: unknown option", bad_line, v);
        struct diag d;
        struct config *cfg = load(sb.buf, &d);
        full_ok += !cfg && has_message(&d.errors, want);
        config_free(cfg);
        diag_free(&d);
        char *path = xasprintf("%s/tend.ini", dir);
        diag_init(&d);
        cfg = config_load_global(path, &d);
        client_ok += !cfg && has_message(&d.errors, want);
        if (cfg || !has_message(&d.errors, want)) {
            printf("# round %d: wanted %s; got %s\n", v, want, d.errors.n ? d.errors.v[0] : "-");
        }
        config_free(cfg);
        diag_free(&d);
        /* without the bad option the client finds the socket */
        char *bad = strstr(sb.buf, "bogus_");
        memcpy(bad, ";ogus_", 6);
        free(write_file("tend.ini", sb.buf));
        diag_init(&d);
        cfg = config_load_global(path, &d);
        char *sock = xasprintf("/tmp/r%d.sock", v);
        socket_ok += cfg && strcmp(cfg->global.socket, sock) == 0;
        config_free(cfg);
        diag_free(&d);
        free(sock);
        free(path);
        free(want);
        strbuf_free(&sb);
    }
    TAP_OK(full_ok == rounds, "full load: exact line in %d random files over the window", rounds);
    TAP_OK(client_ok == rounds, "client skip: the same exact line (%d of %d)", client_ok, rounds);
    TAP_OK(socket_ok == rounds, "client skip finds [tend] anywhere (%d of %d)", socket_ok, rounds);

    /* a line longer than the window: an error at its line, and the lines after it still exact */
    struct strbuf sb;
    strbuf_init(&sb);
    int bad_line = reader_file(&sb, 99, true);
    const char *long_at = strstr(sb.buf, "directory = ddd");
    int long_line = 1;
    for (const char *p = sb.buf; p < long_at; p++) {
        long_line += *p == '\n';
    }
    char *want = xasprintf("tend.ini:%d: [tend] bogus_99: unknown option", bad_line);
    char *want_long = xasprintf("tend.ini:%d: line too long (70012 bytes", long_line);
    struct diag d;
    struct config *cfg = load(sb.buf, &d);
    /* (reading errors stop the load before the options are checked) */
    TAP_OK(!cfg && has_message(&d.errors, want_long), "a 70,000-byte line: an error at its line");
    diag_free(&d);
    char *path = xasprintf("%s/tend.ini", dir);
    diag_init(&d);
    cfg = config_load_global(path, &d);
    TAP_OK(!cfg && has_message(&d.errors, want), "client: exact lines after a 70,000-byte line");
    diag_free(&d);

    /* a pipe cannot be read twice: the client counts as the window moves */
    char *fifo = xasprintf("%s/tend.fifo", dir);
    mkfifo(fifo, 0600);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = fopen(fifo, "w");
        fwrite(sb.buf, 1, sb.len, f);
        fclose(f);
        _exit(0);
    }
    diag_init(&d);
    cfg = config_load_global(fifo, &d);
    waitpid(pid, NULL, 0);
    char *want_fifo = xasprintf("tend.fifo:%d: [tend] bogus_99: unknown option", bad_line);
    TAP_OK(!cfg && has_message(&d.errors, want_fifo), "client reading a pipe: exact lines");
    diag_free(&d);
    unlink(fifo);
    free(want_fifo);
    free(fifo);
    free(path);
    free(want);
    free(want_long);
    strbuf_free(&sb);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_defaults();
    test_numprocs_and_groups();
    test_syntax();
    test_includes();
    test_errors();
    test_warnings();
    test_http_sections();
    test_eventlistener();
    test_reader_windows();
    char *cmd = xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        printf("# could not remove %s\n", dir);
    }
    free(cmd);
    return tap_done();
}
