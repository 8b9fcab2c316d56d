/* config.c - reads tend.ini (or a supervisord file) through inih, follows [include]s, expands
 * %(...)s, fills defaults from the option table and validates the result. */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events.h"
#include "expand.h"

#define CONFIG_MAX_LINE 4096
#define CONFIG_MAX_INCLUDE_DEPTH 16

/* ---- the option tables, generated from options.def ---- */

const struct option_def program_options[] = {
#define PROGRAM_OPTION(name, type, def, min, max, flags, doc)                                      \
    {#name, type, def, min, max, flags, doc, offsetof(struct proc_config, name)},
#include "options.def"
};
const size_t program_options_count = ARRAY_SIZE(program_options);

const struct option_def global_options[] = {
#define GLOBAL_OPTION(name, type, def, min, max, flags, doc)                                       \
    {#name, type, def, min, max, flags, doc, offsetof(struct global_config, name)},
#include "options.def"
};
const size_t global_options_count = ARRAY_SIZE(global_options);

static const char *const autorestart_names[] = {"false", "true", "unexpected"};
static const char *const proc_type_names[] = {"simple", "forking", "oneshot"};
static const char *const loglevel_names[] = {"critical", "error", "warn",
                                             "info",     "debug", "trace"};

const char *autorestart_name(enum autorestart a)
{
    return autorestart_names[a];
}

const char *proc_type_name(enum proc_type t)
{
    return proc_type_names[t];
}

const char *loglevel_name(enum loglevel l)
{
    return loglevel_names[l];
}

/* supervisord sections that tend reads without implementing them (a warning names them). */
static const char *const ignored_sections[] = {"rpcinterface:", "fcgi-program:", "ctlplugin:"};

/* What an [eventlistener:x] section has besides the [program:x] options. */
static const char *const listener_keys[] = {"events", "buffer_size", "result_handler"};

/* [unix_http_server] and [inet_http_server] options: supervisord's name, tend's [tend] name. */
static const char *const unix_http_keys[][2] = {{"file", "socket"},
                                                {"chmod", "socket_mode"},
                                                {"chown", "socket_owner"},
                                                {"username", "socket_username"},
                                                {"password", "socket_password"}};
static const char *const inet_http_keys[][2] = {
    {"port", "http_port"}, {"username", "http_username"}, {"password", "http_password"}};

static const char *http_section_key(const char *section, const char *option)
{
    bool is_unix = strcmp(section, "unix_http_server") == 0;
    const char *const(*keys)[2] = is_unix ? unix_http_keys : inet_http_keys;
    size_t n = is_unix ? ARRAY_SIZE(unix_http_keys) : ARRAY_SIZE(inet_http_keys);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(keys[i][1], option) == 0) {
            return keys[i][0];
        }
    }
    return NULL;
}

/* ---- diagnostics ---- */

void diag_init(struct diag *d)
{
    strv_init(&d->errors);
    strv_init(&d->warnings);
}

void diag_free(struct diag *d)
{
    strv_free(&d->errors);
    strv_free(&d->warnings);
}

void diag_print(const struct diag *d, FILE *to)
{
    for (size_t i = 0; i < d->warnings.n; i++) {
        fprintf(to, "%s\n", d->warnings.v[i]);
    }
    for (size_t i = 0; i < d->errors.n; i++) {
        fprintf(to, "%s\n", d->errors.v[i]);
    }
}

/* Identical messages (one per process of a numprocs program) are kept once. */
static void diag_add(struct strv *list, char *msg)
{
    if (strv_contains(list, msg)) {
        free(msg);
    } else {
        strv_push_owned(list, msg);
    }
}

/* ---- raw sections as read from the files ---- */

struct raw_option {
    char *name; /* lower-cased */
    char *value;
    int line;
};

struct raw_section {
    char *name;
    char *file;
    char *here;
    int line;
    struct raw_option *opts;
    size_t nopts;
    size_t order;
};

struct loader {
    struct diag *diag;
    struct raw_section *sections;
    size_t nsections;
    struct strv files;    /* every file read */
    struct strv stack;    /* include chain, for cycle messages */
    /* state of the file being read */
    FILE *fp;
    const char *file;
    char *here;
    int lineno;
    char *peek; /* a physical line read ahead while looking for continuation lines */
    int peek_lineno;
    long current; /* index of the section being filled, -1 before the first header */
    bool global_only; /* keep only [tend]-like sections and [include] */
    char *key;    /* the option the reader just assembled, consumed by the handler */
    char *value;
    int key_line;
};

PRINTF_LIKE(4, 5)
static void loader_error(struct loader *ld, const char *file, int line, const char *fmt, ...)
{
    struct strbuf sb;
    va_list ap;
    strbuf_init(&sb);
    strbuf_addf(&sb, "%s:%d: ", file, line);
    va_start(ap, fmt);
    strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    diag_add(&ld->diag->errors, strbuf_detach(&sb));
}

PRINTF_LIKE(4, 5)
static void loader_warning(struct loader *ld, const char *file, int line, const char *fmt, ...)
{
    struct strbuf sb;
    va_list ap;
    strbuf_init(&sb);
    strbuf_addf(&sb, "%s:%d: warning: ", file, line);
    va_start(ap, fmt);
    strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    diag_add(&ld->diag->warnings, strbuf_detach(&sb));
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) {
        s[--n] = '\0';
    }
    return s;
}

/* Like supervisord (Python's configparser with inline_comment_prefixes), ";" or "#" after a
 * blank starts a comment. */
static void strip_inline_comment(char *s)
{
    for (char *p = s; *p; p++) {
        if ((*p == ';' || *p == '#') && p > s && (p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            return;
        }
    }
}

/* Reads one physical line into a new string (without its newline); NULL at end of file.
 * Over-long lines are reported and returned cut, so the line count stays exact. */
static char *loader_physical_line(struct loader *ld, int *lineno)
{
    if (ld->peek) {
        char *l = ld->peek;
        *lineno = ld->peek_lineno;
        ld->peek = NULL;
        return l;
    }
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n = getline(&buf, &cap, ld->fp);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    *lineno = ++ld->lineno;
    if (n > 0 && buf[n - 1] == '\n') {
        buf[--n] = '\0';
    }
    if (n > 0 && buf[n - 1] == '\r') {
        buf[--n] = '\0';
    }
    if (strlen(buf) != (size_t)n) {
        loader_error(ld, ld->file, *lineno, "line contains a NUL byte");
        buf[0] = '\0';
    } else if (n > CONFIG_MAX_LINE) {
        loader_error(ld, ld->file, *lineno, "line too long (%zd bytes, at most %d)", n,
                     CONFIG_MAX_LINE);
        buf[0] = '\0';
    }
    return buf;
}

static bool is_blank_or_comment(const char *l)
{
    while (*l == ' ' || *l == '\t') {
        l++;
    }
    return *l == '\0' || *l == ';' || *l == '#';
}

static void loader_begin_section(struct loader *ld, const char *name, int line)
{
    /* a client looking for the socket needs only the global sections (and includes) */
    if (ld->global_only && strcmp(name, "tend") != 0 && strcmp(name, "supervisord") != 0 &&
        strcmp(name, "unix_http_server") != 0 && strcmp(name, "include") != 0) {
        ld->current = -2;
        return;
    }
    ld->sections = xrealloc(ld->sections, (ld->nsections + 1) * sizeof(*ld->sections));
    struct raw_section *sec = &ld->sections[ld->nsections];
    memset(sec, 0, sizeof(*sec));
    sec->name = xstrdup(name);
    sec->file = xstrdup(ld->file);
    sec->here = xstrdup(ld->here);
    sec->line = line;
    sec->order = ld->nsections;
    ld->current = (long)ld->nsections++;
}

/* The inih reader: turns the file into logical lines. It does the parts Debian's inih build
 * gets wrong for supervisord files (long lines, section names over 50 bytes, " #" comments,
 * exact line numbers, keyless sections) and hands inih a short placeholder per option, whose
 * real name and value wait in the loader for the handler. */
static char *loader_reader(char *str, int num, void *stream)
{
    struct loader *ld = stream;
    int lineno;
    (void)num;
    for (;;) {
        char *raw = loader_physical_line(ld, &lineno);
        if (!raw) {
            return NULL;
        }
        if (is_blank_or_comment(raw)) {
            free(raw);
            continue;
        }
        char *l = trim(raw);
        if (raw[0] == ' ' || raw[0] == '\t') {
            loader_error(ld, ld->file, lineno, "indented line continues no option");
            free(raw);
            continue;
        }
        if (*l == '[') {
            strip_inline_comment(l);
            l = trim(l);
            size_t n = strlen(l);
            if (n < 2 || l[n - 1] != ']') {
                loader_error(ld, ld->file, lineno, "section header must be [name]");
                ld->current = -2; /* options until the next header belong to nothing */
            } else {
                l[n - 1] = '\0';
                loader_begin_section(ld, trim(l + 1), lineno);
            }
            free(raw);
            snprintf(str, (size_t)num, "[s]\n");
            return str;
        }
        /* name = value, or name: value as configparser also accepts */
        size_t split = strcspn(l, "=:");
        if (!l[split]) {
            loader_error(ld, ld->file, lineno, "expected 'name = value', got '%.40s'", l);
            free(raw);
            continue;
        }
        l[split] = '\0';
        char *name = trim(l);
        char *value = l + split + 1;
        strip_inline_comment(value);
        struct strbuf sb;
        strbuf_init(&sb);
        strbuf_adds(&sb, trim(value));
        /* Indented lines after it continue the value (joined with newlines, as configparser). */
        for (;;) {
            int next_lineno;
            char *next = loader_physical_line(ld, &next_lineno);
            if (!next) {
                break;
            }
            if ((next[0] != ' ' && next[0] != '\t') || is_blank_or_comment(next)) {
                if (is_blank_or_comment(next)) {
                    free(next);
                    break;
                }
                ld->peek = next;
                ld->peek_lineno = next_lineno;
                break;
            }
            strip_inline_comment(next);
            if (sb.len) {
                strbuf_addc(&sb, '\n');
            }
            strbuf_adds(&sb, trim(next));
            free(next);
        }
        free(ld->key);
        free(ld->value);
        ld->key = xstrdup(name);
        for (char *p = ld->key; *p; p++) {
            if (*p >= 'A' && *p <= 'Z') {
                *p = (char)(*p - 'A' + 'a');
            }
        }
        ld->value = strbuf_detach(&sb);
        ld->key_line = lineno;
        free(raw);
        snprintf(str, (size_t)num, "k=v\n");
        return str;
    }
}

/* The inih handler: stores the option the reader assembled in the current section. */
static int loader_handler(void *user, const char *section, const char *name, const char *value)
{
    struct loader *ld = user;
    (void)section;
    (void)name;
    (void)value;
    if (!ld->key) {
        return 1;
    }
    if (ld->current == -2) {
        return 1;
    }
    if (ld->current < 0) {
        loader_error(ld, ld->file, ld->key_line, "option '%s' is outside of any [section]",
                     ld->key);
        return 1;
    }
    struct raw_section *sec = &ld->sections[ld->current];
    for (size_t i = 0; i < sec->nopts; i++) {
        if (strcmp(sec->opts[i].name, ld->key) == 0) {
            loader_error(ld, ld->file, ld->key_line,
                         "[%s] %s: set twice (first at line %d)", sec->name, ld->key,
                         sec->opts[i].line);
            return 1;
        }
    }
    sec->opts = xrealloc(sec->opts, (sec->nopts + 1) * sizeof(*sec->opts));
    sec->opts[sec->nopts].name = ld->key;
    sec->opts[sec->nopts].value = ld->value;
    sec->opts[sec->nopts].line = ld->key_line;
    sec->nopts++;
    ld->key = NULL;
    ld->value = NULL;
    return 1;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        return xstrdup(".");
    }
    if (slash == path) {
        return xstrdup("/");
    }
    return xstrndup(path, (size_t)(slash - path));
}

/* The canonical path when the file exists (so include cycles are recognised however they are
 * spelled), else the path made absolute. */
static char *absolute_path(const char *path)
{
    char *real = realpath(path, NULL);
    if (real) {
        return real;
    }
    if (path[0] == '/') {
        return xstrdup(path);
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd))) {
        return xstrdup(path);
    }
    if (strncmp(path, "./", 2) == 0) {
        path += 2;
    }
    return xasprintf("%s/%s", cwd, path);
}

/* Like sshd's StrictModes: tend running as root refuses a configuration file (or include) that
 * another user could have written, since it says what runs as root. False after an error. */
static bool loader_file_trusted(struct loader *ld, const char *abs, int fd)
{
    struct stat st;
    if (geteuid() != 0) {
        return true;
    }
    struct strbuf sb;
    strbuf_init(&sb);
    if (fstat(fd, &st) < 0) {
        strbuf_addf(&sb, "%s: refused: cannot check its mode: %s", abs, strerror(errno));
    } else if (!(st.st_mode & 022) && st.st_uid == 0) {
        strbuf_free(&sb);
        return true;
    } else if (st.st_mode & 022) {
        strbuf_addf(&sb, "%s: refused: writable by others (mode %04o); fix with chmod go-w", abs,
                    (unsigned)(st.st_mode & 07777));
    } else {
        strbuf_addf(&sb, "%s: refused: owned by uid %u, not root; fix with chown root", abs,
                    (unsigned)st.st_uid);
    }
    diag_add(&ld->diag->errors, strbuf_detach(&sb));
    return false;
}

static void loader_read_file(struct loader *ld, const char *path, const char *from_file,
                             int from_line);

static void loader_follow_includes(struct loader *ld, size_t first, size_t end)
{
    for (size_t s = first; s < end; s++) {
        if (strcmp(ld->sections[s].name, "include") != 0) {
            continue;
        }
        for (size_t o = 0; o < ld->sections[s].nopts; o++) {
            /* re-fetch: reading includes grows ld->sections */
            struct raw_option *opt = &ld->sections[s].opts[o];
            if (strcmp(opt->name, "files") != 0) {
                loader_error(ld, ld->sections[s].file, opt->line,
                             "[include] %s: unknown option (only 'files')", opt->name);
                continue;
            }
            struct strv patterns;
            value_split_list(opt->value, &patterns);
            char *file = xstrdup(ld->sections[s].file);
            char *here = xstrdup(ld->sections[s].here);
            int line = opt->line;
            for (size_t p = 0; p < patterns.n; p++) {
                char *pat = patterns.v[p][0] == '/' ? xstrdup(patterns.v[p])
                                                     : xasprintf("%s/%s", here, patterns.v[p]);
                glob_t g;
                int rc = glob(pat, 0, NULL, &g);
                if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
                    if (!strpbrk(patterns.v[p], "*?[")) {
                        loader_warning(ld, file, line, "[include] files: %s does not exist",
                                       pat);
                    }
                } else if (rc != 0) {
                    loader_error(ld, file, line, "[include] files: cannot expand %s", pat);
                } else {
                    for (size_t i = 0; i < g.gl_pathc; i++) {
                        loader_read_file(ld, g.gl_pathv[i], file, line);
                    }
                }
                if (rc == 0 || rc == GLOB_NOMATCH) {
                    globfree(&g);
                }
                free(pat);
            }
            free(file);
            free(here);
            strv_free(&patterns);
        }
    }
}

static void loader_read_file(struct loader *ld, const char *path, const char *from_file,
                             int from_line)
{
    char *abs = absolute_path(path);
    if (strv_contains(&ld->stack, abs)) {
        struct strbuf chain;
        strbuf_init(&chain);
        for (size_t i = 0; i < ld->stack.n; i++) {
            strbuf_addf(&chain, "%s -> ", ld->stack.v[i]);
        }
        strbuf_adds(&chain, abs);
        loader_error(ld, from_file, from_line, "[include] files: include cycle: %s", chain.buf);
        strbuf_free(&chain);
        free(abs);
        return;
    }
    if (strv_contains(&ld->files, abs)) {
        loader_warning(ld, from_file, from_line, "[include] files: %s is already read; skipped",
                       abs);
        free(abs);
        return;
    }
    if (ld->stack.n >= CONFIG_MAX_INCLUDE_DEPTH) {
        loader_error(ld, from_file, from_line, "[include] files: includes nested too deep");
        free(abs);
        return;
    }
    FILE *fp = fopen(abs, "re");
    if (!fp) {
        if (from_file) {
            loader_error(ld, from_file, from_line, "[include] files: cannot read %s: %s", abs,
                         strerror(errno));
        } else {
            struct strbuf sb;
            strbuf_init(&sb);
            strbuf_addf(&sb, "%s: cannot read configuration file: %s", abs, strerror(errno));
            diag_add(&ld->diag->errors, strbuf_detach(&sb));
        }
        free(abs);
        return;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        struct strbuf sb;
        strbuf_init(&sb);
        strbuf_addf(&sb, "%s: cannot read configuration file: Is a directory", abs);
        diag_add(&ld->diag->errors, strbuf_detach(&sb));
        fclose(fp);
        free(abs);
        return;
    }
    if (!loader_file_trusted(ld, abs, fileno(fp))) {
        fclose(fp);
        free(abs);
        return;
    }
    strv_push(&ld->files, abs);
    strv_push(&ld->stack, abs);

    /* save the state of the including file, read this one, restore */
    FILE *saved_fp = ld->fp;
    const char *saved_file = ld->file;
    char *saved_here = ld->here;
    int saved_lineno = ld->lineno;
    long saved_current = ld->current;
    char *saved_peek = ld->peek;
    int saved_peek_lineno = ld->peek_lineno;

    ld->fp = fp;
    ld->file = ld->files.v[ld->files.n - 1];
    ld->here = dir_of(abs);
    ld->lineno = 0;
    ld->current = -1;
    ld->peek = NULL;
    size_t first = ld->nsections;
    ini_parse_stream(loader_reader, ld, loader_handler, ld);
    free(ld->peek);
    free(ld->key);
    free(ld->value);
    ld->key = ld->value = NULL;
    fclose(fp);
    free(ld->here);
    size_t end = ld->nsections;

    ld->fp = saved_fp;
    ld->file = saved_file;
    ld->here = saved_here;
    ld->lineno = saved_lineno;
    ld->current = saved_current;
    ld->peek = saved_peek;
    ld->peek_lineno = saved_peek_lineno;

    loader_follow_includes(ld, first, end);
    free(ld->stack.v[--ld->stack.n]);
    ld->stack.v[ld->stack.n] = NULL;
    free(abs);
}

static void loader_free(struct loader *ld)
{
    for (size_t s = 0; s < ld->nsections; s++) {
        struct raw_section *sec = &ld->sections[s];
        for (size_t o = 0; o < sec->nopts; o++) {
            free(sec->opts[o].name);
            free(sec->opts[o].value);
        }
        free(sec->opts);
        free(sec->name);
        free(sec->file);
        free(sec->here);
    }
    free(ld->sections);
    strv_free(&ld->files);
    strv_free(&ld->stack);
}

/* ---- typed values ---- */

static int parse_probe(const char *s, bool allow_ready, struct probe *pr, char **err)
{
    memset(pr, 0, sizeof(*pr));
    if (!*s || strcasecmp(s, "none") == 0 || (allow_ready && strcasecmp(s, "startsecs") == 0)) {
        pr->kind = PROBE_NONE;
        return 0;
    }
    if (allow_ready && strcasecmp(s, "notify") == 0) {
        pr->kind = PROBE_NOTIFY;
        return 0;
    }
    if (strncasecmp(s, "exec:", 5) == 0) {
        pr->kind = PROBE_EXEC;
        return value_split_command(s + 5, &pr->argv, err);
    }
    if (allow_ready && strncasecmp(s, "fd:", 3) == 0) {
        long fd;
        if (value_parse_int(s + 3, 3, 1023, &fd, err) < 0) {
            return -1;
        }
        pr->kind = PROBE_FD;
        pr->fd = (int)fd;
        return 0;
    }
    if (strncasecmp(s, "tcp:", 4) == 0) {
        const char *addr = s + 4;
        const char *colon = strrchr(addr, ':');
        char *host;
        const char *port;
        if (!colon) {
            host = xstrdup("127.0.0.1");
            port = addr;
        } else if (addr[0] == '[' && colon > addr && colon[-1] == ']') {
            host = xstrndup(addr + 1, (size_t)(colon - addr - 2));
            port = colon + 1;
        } else {
            host = xstrndup(addr, (size_t)(colon - addr));
            port = colon + 1;
        }
        long p;
        if (!*host || value_parse_int(port, 1, 65535, &p, err) < 0) {
            if (!*err) {
                *err = xasprintf("missing host in '%s'", s);
            }
            free(host);
            return -1;
        }
        pr->kind = PROBE_TCP;
        pr->host = host;
        pr->port = (int)p;
        return 0;
    }
    *err = xasprintf("invalid value '%s' (use %s)", s,
                     allow_ready ? "notify, tcp:[HOST:]PORT, exec:CMD or fd:N"
                                 : "exec:CMD or tcp:[HOST:]PORT");
    return -1;
}

static int parse_choice(const char *s, const char *const *names, size_t n, int *out, char **err)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    struct strbuf sb;
    strbuf_init(&sb);
    for (size_t i = 0; i < n; i++) {
        strbuf_addf(&sb, "%s%s", i ? (i + 1 == n ? " or " : ", ") : "", names[i]);
    }
    *err = xasprintf("invalid value '%s' (use %s)", s, sb.buf);
    strbuf_free(&sb);
    return -1;
}

/* Parses text into the field of base described by opt. The field must be unset (zeroed). */
static int option_parse(const struct option_def *opt, const char *text, void *base, char **err)
{
    void *field = (char *)base + opt->offset;
    *err = NULL;
    switch (opt->type) {
    case OT_STRING:
        *(char **)field = *text ? xstrdup(text) : NULL;
        return 0;
    case OT_COMMAND:
        return value_split_command(text, field, err);
    case OT_BOOL:
        return value_parse_bool(text, field, err);
    case OT_INT:
        return value_parse_int(text, opt->min, opt->max, field, err);
    case OT_RETRIES:
        if (strcasecmp(text, "forever") == 0 || strcasecmp(text, "infinite") == 0) {
            *(long *)field = RETRIES_FOREVER;
            return 0;
        }
        return value_parse_int(text, opt->min, opt->max, field, err);
    case OT_DURATION:
        return value_parse_duration(text, field, err);
    case OT_SIZE:
        return value_parse_size(text, field, err);
    case OT_SIGNAL:
        return value_parse_signal(text, field, err);
    case OT_EXITCODES:
        return value_parse_exitcodes(text, field, err);
    case OT_AUTORESTART: {
        int v;
        bool b;
        if (strcasecmp(text, "unexpected") == 0) {
            *(enum autorestart *)field = AUTORESTART_UNEXPECTED;
            return 0;
        }
        if (value_parse_bool(text, &b, err) < 0) {
            free(*err);
            *err = NULL;
            return parse_choice(text, autorestart_names, ARRAY_SIZE(autorestart_names), &v, err);
        }
        *(enum autorestart *)field = b ? AUTORESTART_TRUE : AUTORESTART_FALSE;
        return 0;
    }
    case OT_UMASK:
        if (!*text) {
            *(int *)field = -1;
            return 0;
        }
        return value_parse_octal(text, field, err);
    case OT_ENVIRONMENT:
        return value_parse_environment(text, field, err);
    case OT_LIST:
        value_split_list(text, field);
        return 0;
    case OT_STDIN: {
        struct stdin_spec *in = field;
        if (!*text || strcasecmp(text, "null") == 0) {
            in->kind = STDIN_NULL;
            return 0;
        }
        if (strncasecmp(text, "file:", 5) == 0 && text[5]) {
            in->kind = STDIN_FILE;
            in->path = xstrdup(text + 5);
            return 0;
        }
        if (strcasecmp(text, "pipe") == 0) {
            in->kind = STDIN_PIPE;
            return 0;
        }
        *err = xasprintf("invalid value '%s' (use null, file:PATH or pipe)", text);
        return -1;
    }
    case OT_TARGETS: {
        struct strv items;
        value_split_list(text, &items);
        strv_init(field);
        for (size_t i = 0; i < items.n; i++) {
            const char *it = items.v[i];
            bool prog = strncasecmp(it, "program:", 8) == 0 && it[8];
            bool file = strncasecmp(it, "file:", 5) == 0 && it[5];
            if (!prog && !file) {
                *err = xasprintf("invalid target '%s' (use program:NAME or file:PATH)", it);
                strv_free(&items);
                strv_free(field);
                return -1;
            }
            char *norm = prog ? xasprintf("program:%s", it + 8) : xasprintf("file:%s", it + 5);
            strv_push_owned(field, norm);
        }
        strv_free(&items);
        return 0;
    }
    case OT_READY:
        return parse_probe(text, true, field, err);
    case OT_PROBE:
        return parse_probe(text, false, field, err);
    case OT_PTYPE: {
        int v;
        if (parse_choice(text, proc_type_names, ARRAY_SIZE(proc_type_names), &v, err) < 0) {
            return -1;
        }
        *(enum proc_type *)field = (enum proc_type)v;
        return 0;
    }
    case OT_FLOAT: {
        char *end;
        errno = 0;
        double d = strtod(text, &end);
        if (errno || end == text || *end || d != d || d < (double)opt->min ||
            d > (double)opt->max) {
            *err = xasprintf("invalid number '%s' (from %ld to %ld)", text, opt->min, opt->max);
            return -1;
        }
        *(double *)field = d;
        return 0;
    }
    case OT_RLIMIT:
        if (!*text) {
            *(int64_t *)field = RLIMIT_UNSET;
            return 0;
        }
        if (strcasecmp(text, "unlimited") == 0 || strcasecmp(text, "infinity") == 0) {
            *(int64_t *)field = RLIMIT_UNLIMITED;
            return 0;
        }
        return value_parse_size(text, field, err);
    case OT_LOGLEVEL: {
        int v;
        if (strcasecmp(text, "blather") == 0) {
            *(enum loglevel *)field = LOG_TRACE;
            return 0;
        }
        if (strcasecmp(text, "warning") == 0) {
            *(enum loglevel *)field = LOG_WARN;
            return 0;
        }
        if (parse_choice(text, loglevel_names, ARRAY_SIZE(loglevel_names), &v, err) < 0) {
            return -1;
        }
        *(enum loglevel *)field = (enum loglevel)v;
        return 0;
    }
    }
    *err = xstrdup("internal error: unknown option type");
    return -1;
}

static void option_free(const struct option_def *opt, void *base)
{
    void *field = (char *)base + opt->offset;
    switch (opt->type) {
    case OT_STRING:
        free(*(char **)field);
        *(char **)field = NULL;
        break;
    case OT_COMMAND:
    case OT_ENVIRONMENT:
    case OT_LIST:
    case OT_TARGETS:
        strv_free(field);
        break;
    case OT_STDIN:
        free(((struct stdin_spec *)field)->path);
        ((struct stdin_spec *)field)->path = NULL;
        break;
    case OT_READY:
    case OT_PROBE: {
        struct probe *pr = field;
        free(pr->host);
        pr->host = NULL;
        strv_free(&pr->argv);
        break;
    }
    default:
        break;
    }
}

static char *format_probe(const struct probe *pr)
{
    switch (pr->kind) {
    case PROBE_NONE:
        return xstrdup("");
    case PROBE_NOTIFY:
        return xstrdup("notify");
    case PROBE_TCP:
        return strchr(pr->host, ':') ? xasprintf("tcp:[%s]:%d", pr->host, pr->port)
                                     : xasprintf("tcp:%s:%d", pr->host, pr->port);
    case PROBE_EXEC: {
        char *cmd = value_join_command(&pr->argv);
        char *s = xasprintf("exec:%s", cmd);
        free(cmd);
        return s;
    }
    case PROBE_FD:
        return xasprintf("fd:%d", pr->fd);
    }
    return xstrdup("");
}

static char *format_environment(const struct strv *env)
{
    struct strbuf sb;
    strbuf_init(&sb);
    for (size_t i = 0; i < env->n; i++) {
        const char *eq = strchr(env->v[i], '=');
        /* the syntax has no escapes: a value with a double quote in it gets single quotes */
        char q = strchr(eq + 1, '"') ? '\'' : '"';
        strbuf_addf(&sb, "%s%.*s=%c%s%c", i ? "," : "", (int)(eq - env->v[i]), env->v[i], q,
                    eq + 1, q);
    }
    return strbuf_detach(&sb);
}

char *config_format_value(const struct option_def *opt, const void *base)
{
    const void *field = (const char *)base + opt->offset;
    switch (opt->type) {
    case OT_STRING: {
        const char *s = *(char *const *)field;
        return xstrdup(s ? s : "");
    }
    case OT_COMMAND:
        return value_join_command(field);
    case OT_BOOL:
        return xstrdup(*(const bool *)field ? "true" : "false");
    case OT_INT:
        return xasprintf("%ld", *(const long *)field);
    case OT_RETRIES:
        return *(const long *)field == RETRIES_FOREVER ? xstrdup("forever")
                                                       : xasprintf("%ld", *(const long *)field);
    case OT_DURATION:
        return value_format_duration(*(const int64_t *)field);
    case OT_SIZE:
        return value_format_size(*(const int64_t *)field);
    case OT_SIGNAL:
        return xstrdup(signal_name(*(const int *)field));
    case OT_EXITCODES:
        return value_format_exitcodes(field);
    case OT_AUTORESTART:
        return xstrdup(autorestart_name(*(const enum autorestart *)field));
    case OT_UMASK: {
        int m = *(const int *)field;
        return m < 0 ? xstrdup("") : xasprintf("%04o", (unsigned)m);
    }
    case OT_ENVIRONMENT:
        return format_environment(field);
    case OT_LIST: {
        const struct strv *l = field;
        struct strbuf sb;
        strbuf_init(&sb);
        for (size_t i = 0; i < l->n; i++) {
            strbuf_addf(&sb, "%s%s", i ? ", " : "", l->v[i]);
        }
        return strbuf_detach(&sb);
    }
    case OT_STDIN: {
        const struct stdin_spec *in = field;
        return in->kind == STDIN_FILE   ? xasprintf("file:%s", in->path)
               : in->kind == STDIN_PIPE ? xstrdup("pipe")
                                        : xstrdup("null");
    }
    case OT_TARGETS: {
        const struct strv *l = field;
        struct strbuf sb;
        strbuf_init(&sb);
        for (size_t i = 0; i < l->n; i++) {
            strbuf_addf(&sb, "%s%s", i ? ", " : "", l->v[i]);
        }
        return strbuf_detach(&sb);
    }
    case OT_READY:
    case OT_PROBE:
        return format_probe(field);
    case OT_PTYPE:
        return xstrdup(proc_type_name(*(const enum proc_type *)field));
    case OT_LOGLEVEL:
        return xstrdup(loglevel_name(*(const enum loglevel *)field));
    case OT_FLOAT:
        return xasprintf("%g", *(const double *)field);
    case OT_RLIMIT: {
        int64_t v = *(const int64_t *)field;
        return v == RLIMIT_UNSET       ? xstrdup("")
               : v == RLIMIT_UNLIMITED ? xstrdup("unlimited")
                                       : xasprintf("%lld", (long long)v);
    }
    }
    return xstrdup("");
}

static const struct option_def *find_option(const struct option_def *table, size_t n,
                                            const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i].name, name) == 0) {
            return &table[i];
        }
    }
    return NULL;
}

const struct option_def *config_find_program_option(const char *name)
{
    return find_option(program_options, program_options_count, name);
}

/* " (did you mean X?)" for a misspelled option name, or "" when nothing is close. */
static char *suggestion(const struct option_def *table, size_t n, const char *name)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t d = levenshtein(name, table[i].name);
        if (d < best_d) {
            best_d = d;
            best = table[i].name;
        }
    }
    size_t limit = strlen(name) < 5 ? 1 : (strlen(name) < 10 ? 2 : 3);
    if (best && best_d <= limit) {
        return xasprintf(" (did you mean %s?)", best);
    }
    return xstrdup("");
}

/* ---- building the config ---- */

struct expand_ctx {
    const char *here;
    const char *program_name;
    const char *group_name;
    const char *host_node_name;
    char process_num[32];
    char numprocs[32];
};

static const char *expand_ctx_lookup(void *ctx, const char *name)
{
    struct expand_ctx *e = ctx;
    if (strcmp(name, "here") == 0) {
        return e->here;
    }
    if (strcmp(name, "host_node_name") == 0) {
        return e->host_node_name;
    }
    if (e->program_name && strcmp(name, "program_name") == 0) {
        return e->program_name;
    }
    if (e->group_name && strcmp(name, "group_name") == 0) {
        return e->group_name;
    }
    if (e->process_num[0] && strcmp(name, "process_num") == 0) {
        return e->process_num;
    }
    if (e->numprocs[0] && strcmp(name, "numprocs") == 0) {
        return e->numprocs;
    }
    return NULL;
}

static const struct raw_option *section_get(const struct raw_section *sec, const char *name)
{
    for (size_t i = 0; i < sec->nopts; i++) {
        if (strcmp(sec->opts[i].name, name) == 0) {
            return &sec->opts[i];
        }
    }
    return NULL;
}

/* Expands and parses one option into base; the default applies when the section lacks it. */
static void apply_option(struct loader *ld, const struct raw_section *sec,
                         const struct option_def *opt, const struct raw_option *raw,
                         struct expand_ctx *ectx, void *base)
{
    const char *text = raw ? raw->value : (opt->def ? opt->def : "");
    int line = raw ? raw->line : sec->line;
    char *expanded = NULL, *err = NULL;
    if (expand_string(text, expand_ctx_lookup, ectx, &expanded, &err) < 0) {
        loader_error(ld, sec->file, line, "[%s] %s: %s", sec->name, opt->name, err);
        free(err);
        /* leave the default in place so the rest of the checks can go on */
        expand_string(opt->def ? opt->def : "", expand_ctx_lookup, ectx, &expanded, &err);
        free(err);
        err = NULL;
        if (!expanded) {
            expanded = xstrdup("");
        }
    }
    if (option_parse(opt, expanded, base, &err) < 0) {
        loader_error(ld, sec->file, line, "[%s] %s: %s", sec->name, opt->name,
                     err ? err : "invalid value");
        free(err);
        err = NULL;
        option_free(opt, base);
        if (option_parse(opt, opt->def ? opt->def : "", base, &err) < 0) {
            free(err);
            option_free(opt, base);
        }
    }
    free(expanded);
}

/* Reports options a section has that its table does not know. */
static void check_unknown_options(struct loader *ld, const struct raw_section *sec,
                                  const struct option_def *table, size_t n,
                                  const char *const *extra, size_t nextra)
{
    for (size_t i = 0; i < sec->nopts; i++) {
        const struct raw_option *o = &sec->opts[i];
        const struct option_def *opt = find_option(table, n, o->name);
        bool known_extra = false;
        for (size_t e = 0; e < nextra; e++) {
            known_extra |= strcmp(extra[e], o->name) == 0;
        }
        if (known_extra) {
            continue;
        }
        if (!opt) {
            char *hint = suggestion(table, n, o->name);
            loader_error(ld, sec->file, o->line, "[%s] %s: unknown option%s", sec->name, o->name,
                         hint);
            free(hint);
        } else if (opt->flags & OF_IGNORED) {
            loader_warning(ld, sec->file, o->line,
                           "[%s] %s: supervisord option not implemented by tend; ignored",
                           sec->name, o->name);
        }
    }
}

static void build_global(struct loader *ld, struct config *cfg, char hostname[])
{
    struct global_config *g = &cfg->global;
    struct expand_ctx ectx = {.here = g->here, .host_node_name = hostname};
    /* merged view of [tend], [supervisord] and [unix_http_server]: the first setting wins */
    for (size_t i = 0; i < global_options_count; i++) {
        const struct option_def *opt = &global_options[i];
        const struct raw_section *from = NULL;
        const struct raw_option *raw = NULL;
        for (size_t s = 0; s < ld->nsections && !raw; s++) {
            const struct raw_section *sec = &ld->sections[s];
            const char *key = opt->name;
            if (strcmp(sec->name, "unix_http_server") == 0 ||
                strcmp(sec->name, "inet_http_server") == 0) {
                key = http_section_key(sec->name, opt->name);
            } else if (strcmp(sec->name, "tend") != 0 && strcmp(sec->name, "supervisord") != 0) {
                continue;
            }
            if (key && (raw = section_get(sec, key))) {
                from = sec;
            }
        }
        const struct raw_section fallback = {.name = (char *)"tend",
                                             .file = g->file,
                                             .line = 0};
        ectx.here = from ? from->here : g->here;
        apply_option(ld, from ? from : &fallback, opt, raw, &ectx, g);
    }
    for (size_t s = 0; s < ld->nsections; s++) {
        const struct raw_section *sec = &ld->sections[s];
        if (strcmp(sec->name, "tend") == 0 || strcmp(sec->name, "supervisord") == 0) {
            check_unknown_options(ld, sec, global_options, global_options_count, NULL, 0);
        } else if (strcmp(sec->name, "unix_http_server") == 0 ||
                   strcmp(sec->name, "inet_http_server") == 0) {
            bool is_unix = sec->name[0] == 'u';
            for (size_t o = 0; o < sec->nopts; o++) {
                const char *n = sec->opts[o].name;
                const char *const(*keys)[2] = is_unix ? unix_http_keys : inet_http_keys;
                size_t nkeys = is_unix ? ARRAY_SIZE(unix_http_keys) : ARRAY_SIZE(inet_http_keys);
                bool known = false;
                for (size_t k = 0; k < nkeys; k++) {
                    known |= strcmp(keys[k][0], n) == 0;
                }
                if (!known) {
                    loader_error(ld, sec->file, sec->opts[o].line,
                                 "[%s] %s: unknown option (tend reads %s)", sec->name, n,
                                 is_unix ? "file, chmod, chown, username and password"
                                         : "port, username and password");
                }
            }
        }
    }
}

static bool valid_name(const char *name)
{
    if (!*name) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (*p == ':' || *p == '/' || *p == ' ' || *p == '\t' || *p == '*' || *p == ',' ||
            (unsigned char)*p < 0x20) {
            return false;
        }
    }
    return true;
}

static void build_groups(struct loader *ld, struct config *cfg)
{
    static const struct option_def group_options[] = {
        {"programs", OT_LIST, NULL, 0, 0, 0, "members", offsetof(struct group_config, programs)},
        {"priority", OT_INT, "999", -1000000, 1000000, 0, "order",
         offsetof(struct group_config, priority)},
    };
    for (size_t s = 0; s < ld->nsections; s++) {
        const struct raw_section *sec = &ld->sections[s];
        if (strncmp(sec->name, "group:", 6) != 0) {
            continue;
        }
        const char *name = sec->name + 6;
        if (!valid_name(name)) {
            loader_error(ld, sec->file, sec->line, "[%s]: invalid group name", sec->name);
            continue;
        }
        for (size_t i = 0; i < cfg->ngroups; i++) {
            if (strcmp(cfg->groups[i].name, name) == 0) {
                loader_error(ld, sec->file, sec->line, "[%s]: group defined twice (first at %s:%d)",
                             sec->name, cfg->groups[i].file, cfg->groups[i].line);
            }
        }
        cfg->groups = xrealloc(cfg->groups, (cfg->ngroups + 1) * sizeof(*cfg->groups));
        struct group_config *grp = &cfg->groups[cfg->ngroups++];
        memset(grp, 0, sizeof(*grp));
        grp->name = xstrdup(name);
        grp->file = xstrdup(sec->file);
        grp->line = sec->line;
        check_unknown_options(ld, sec, group_options, ARRAY_SIZE(group_options), NULL, 0);
        struct expand_ctx ectx = {.here = sec->here, .host_node_name = "", .group_name = name};
        for (size_t i = 0; i < ARRAY_SIZE(group_options); i++) {
            apply_option(ld, sec, &group_options[i], section_get(sec, group_options[i].name),
                         &ectx, grp);
        }
        if (!grp->programs.n) {
            loader_error(ld, sec->file, sec->line, "[%s]: programs is required", sec->name);
        }
    }
}

static const char *group_of(struct loader *ld, struct config *cfg, const char *program)
{
    (void)ld;
    for (size_t i = 0; i < cfg->ngroups; i++) {
        if (strv_contains(&cfg->groups[i].programs, program)) {
            return cfg->groups[i].name;
        }
    }
    return NULL;
}

static void proc_config_free(struct proc_config *pc)
{
    for (size_t i = 0; i < program_options_count; i++) {
        option_free(&program_options[i], pc);
    }
    free(pc->name);
    free(pc->program);
    free(pc->group);
    free(pc->file);
    free(pc);
}

/* events= (required, a list of event types or groups), buffer_size, result_handler. */
static void listener_options(struct loader *ld, const struct raw_section *sec, uint32_t *mask,
                             long *buffer_size)
{
    const struct raw_option *o = section_get(sec, "events");
    if (!o || !*o->value) {
        loader_error(ld, sec->file, sec->line, "[%s]: events is required", sec->name);
    } else {
        char *list = xstrdup(o->value);
        for (char *w = strtok(list, ", \t"); w; w = strtok(NULL, ", \t")) {
            uint32_t m = event_mask_for_name(w);
            if (!m) {
                loader_error(ld, sec->file, o->line, "[%s] events: unknown event type %s",
                             sec->name, w);
            }
            *mask |= m;
        }
        free(list);
    }
    o = section_get(sec, "buffer_size");
    if (o) {
        char *end;
        long v = strtol(o->value, &end, 10);
        if (end == o->value || *end || v < 1 || v > 1000000) {
            loader_error(ld, sec->file, o->line,
                         "[%s] buffer_size: '%s' is not a number from 1 to 1000000", sec->name,
                         o->value);
        } else {
            *buffer_size = v;
        }
    }
    o = section_get(sec, "result_handler");
    if (o && strcmp(o->value, "supervisor.dispatchers:default_handler") != 0) {
        loader_warning(ld, sec->file, o->line,
                       "[%s] result_handler: a Python function; tend cannot call it and uses "
                       "supervisord's default (OK accepts, anything else rejects)",
                       sec->name);
    }
}

/* The listener's stdin and stdout are the protocol: nothing else may use them. */
static void listener_check(struct loader *ld, const struct raw_section *sec,
                           const struct proc_config *pc)
{
    static const char *const taken[] = {"redirect_stderr", "stdin", "stdout"};
    bool bad[] = {pc->redirect_stderr, pc->stdin.kind != STDIN_NULL, pc->stdout.n > 0};
    for (size_t i = 0; i < ARRAY_SIZE(taken); i++) {
        if (bad[i]) {
            const struct raw_option *o = section_get(sec, taken[i]);
            loader_error(ld, sec->file, o ? o->line : sec->line,
                         "[%s] %s: not allowed for an event listener (its stdin and stdout "
                         "speak the listener protocol)",
                         sec->name, taken[i]);
        }
    }
    if (pc->type != PTYPE_SIMPLE) {
        const struct raw_option *o = section_get(sec, "type");
        loader_error(ld, sec->file, o ? o->line : sec->line,
                     "[%s] type: an event listener is a simple program", sec->name);
    }
}

static void build_program(struct loader *ld, struct config *cfg, const struct raw_section *sec,
                          const char *hostname)
{
    bool listener = strncmp(sec->name, "eventlistener:", 14) == 0;
    const char *name = sec->name + (listener ? 14 : 8);
    if (!valid_name(name)) {
        loader_error(ld, sec->file, sec->line,
                     "[%s]: invalid program name (no blanks, ':', '/', ',' or '*')", sec->name);
        return;
    }
    for (size_t i = 0; i < cfg->nprocs; i++) {
        if (strcmp(cfg->procs[i]->program, name) == 0) {
            loader_error(ld, sec->file, sec->line, "[%s]: program defined twice (first at %s:%d)",
                         sec->name, cfg->procs[i]->file, cfg->procs[i]->line);
            return;
        }
    }
    check_unknown_options(ld, sec, program_options, program_options_count, listener_keys,
                          listener ? ARRAY_SIZE(listener_keys) : 0);
    uint32_t listen_mask = 0;
    long buffer_size = 10;
    if (listener) {
        listener_options(ld, sec, &listen_mask, &buffer_size);
    }
    const char *group = listener ? NULL : group_of(ld, cfg, name);
    struct expand_ctx ectx = {
        .here = sec->here, .program_name = name, .group_name = group ? group : name,
        .host_node_name = hostname};

    /* numprocs and numprocs_start first: they decide how many instances to build */
    struct proc_config probe;
    memset(&probe, 0, sizeof(probe));
    const struct option_def *o_n = config_find_program_option("numprocs");
    const struct option_def *o_s = config_find_program_option("numprocs_start");
    apply_option(ld, sec, o_n, section_get(sec, "numprocs"), &ectx, &probe);
    apply_option(ld, sec, o_s, section_get(sec, "numprocs_start"), &ectx, &probe);
    long numprocs = probe.numprocs, start = probe.numprocs_start;
    snprintf(ectx.numprocs, sizeof(ectx.numprocs), "%ld", numprocs);

    const struct raw_option *pname = section_get(sec, "process_name");
    if (numprocs > 1 && (!pname || !expand_references(pname->value, "process_num"))) {
        loader_error(ld, sec->file, pname ? pname->line : sec->line,
                     "[%s] process_name: numprocs is %ld, so process_name must contain "
                     "%%(process_num)d to give each process its own name",
                     sec->name, numprocs);
        numprocs = 1;
    }
    if (!section_get(sec, "command")) {
        loader_error(ld, sec->file, sec->line, "[%s]: command is required", sec->name);
    }

    for (long i = 0; i < numprocs; i++) {
        struct proc_config *pc = xcalloc(1, sizeof(*pc));
        snprintf(ectx.process_num, sizeof(ectx.process_num), "%ld", start + i);
        for (size_t o = 0; o < program_options_count; o++) {
            const struct option_def *opt = &program_options[o];
            const struct raw_option *raw = section_get(sec, opt->name);
            if (!raw && strcmp(opt->name, "command") == 0) {
                continue; /* reported once above */
            }
            if (!raw && listener && strcmp(opt->name, "priority") == 0) {
                /* supervisord starts listeners first and stops them last */
                char key[] = "priority", value[] = "-1";
                struct raw_option first = {.name = key, .value = value, .line = sec->line};
                apply_option(ld, sec, opt, &first, &ectx, pc);
                continue;
            }
            apply_option(ld, sec, opt, raw, &ectx, pc);
        }
        pc->listener = listener;
        pc->listener_events = listen_mask;
        pc->buffer_size = buffer_size;
        if (listener) {
            listener_check(ld, sec, pc);
        }
        pc->program = xstrdup(name);
        pc->group = xstrdup(ectx.group_name);
        pc->process_num = (int)(start + i);
        pc->file = xstrdup(sec->file);
        pc->line = sec->line;
        pc->order = sec->order * 100000 + (size_t)i;
        pc->name = xstrdup(pc->process_name ? pc->process_name : name);
        if (!valid_name(pc->name)) {
            loader_error(ld, sec->file, pname ? pname->line : sec->line,
                         "[%s] process_name: '%s' is not a valid name", sec->name, pc->name);
        }
        if (pc->type == PTYPE_FORKING && !pc->pidfile) {
            loader_error(ld, sec->file, sec->line, "[%s] pidfile: type = forking needs a pidfile",
                         sec->name);
        }
        cfg->procs = xrealloc(cfg->procs, (cfg->nprocs + 1) * sizeof(*cfg->procs));
        cfg->procs[cfg->nprocs++] = pc;
    }
}

static const struct raw_section *find_program_section(struct loader *ld, const char *program)
{
    for (size_t s = 0; s < ld->nsections; s++) {
        if (strncmp(ld->sections[s].name, "program:", 8) == 0 &&
            strcmp(ld->sections[s].name + 8, program) == 0) {
            return &ld->sections[s];
        }
    }
    return NULL;
}

/* Depth-first search over depends_on; on a back edge the path from it is the cycle. */
static bool find_cycle(struct loader *ld, struct config *cfg, const char *program,
                       struct strv *path, int *state_of, struct strv *names)
{
    size_t idx = 0;
    while (idx < names->n && strcmp(names->v[idx], program) != 0) {
        idx++;
    }
    if (idx == names->n) {
        return false;
    }
    if (state_of[idx] == 2) {
        return false;
    }
    strv_push(path, program);
    if (state_of[idx] == 1) {
        return true;
    }
    state_of[idx] = 1;
    const struct proc_config *pc = NULL;
    for (size_t i = 0; i < cfg->nprocs && !pc; i++) {
        if (strcmp(cfg->procs[i]->program, program) == 0) {
            pc = cfg->procs[i];
        }
    }
    for (size_t d = 0; pc && d < pc->depends_on.n; d++) {
        if (find_cycle(ld, cfg, pc->depends_on.v[d], path, state_of, names)) {
            return true;
        }
    }
    /* a pipeline is a dependency too: the writer needs its reader */
    const struct strv *targets[] = {pc ? &pc->stdout : NULL, pc ? &pc->stderr : NULL};
    for (size_t t = 0; t < 2 && pc; t++) {
        for (size_t d = 0; d < targets[t]->n; d++) {
            if (strncmp(targets[t]->v[d], "program:", 8) == 0 &&
                find_cycle(ld, cfg, targets[t]->v[d] + 8, path, state_of, names)) {
                return true;
            }
        }
    }
    state_of[idx] = 2;
    free(path->v[--path->n]);
    path->v[path->n] = NULL;
    return false;
}

static void validate(struct loader *ld, struct config *cfg)
{
    /* duplicate process names across programs */
    for (size_t i = 0; i < cfg->nprocs; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->procs[i]->name, cfg->procs[j]->name) == 0 &&
                strcmp(cfg->procs[i]->program, cfg->procs[j]->program) != 0) {
                loader_error(ld, cfg->procs[i]->file, cfg->procs[i]->line,
                             "[program:%s]: process name '%s' is already used by "
                             "[program:%s] at %s:%d",
                             cfg->procs[i]->program, cfg->procs[i]->name,
                             cfg->procs[j]->program, cfg->procs[j]->file, cfg->procs[j]->line);
            }
        }
    }
    /* groups name existing programs, each program in one group at most */
    for (size_t g = 0; g < cfg->ngroups; g++) {
        struct group_config *grp = &cfg->groups[g];
        for (size_t p = 0; p < grp->programs.n; p++) {
            if (!find_program_section(ld, grp->programs.v[p])) {
                loader_error(ld, grp->file, grp->line, "[group:%s] programs: no [program:%s]",
                             grp->name, grp->programs.v[p]);
            }
            for (size_t h = 0; h < g; h++) {
                if (strv_contains(&cfg->groups[h].programs, grp->programs.v[p])) {
                    loader_error(ld, grp->file, grp->line,
                                 "[group:%s] programs: %s is already in [group:%s]", grp->name,
                                 grp->programs.v[p], cfg->groups[h].name);
                }
            }
        }
    }
    /* depends_on names programs that exist; no cycles */
    struct strv names;
    strv_init(&names);
    for (size_t i = 0; i < cfg->nprocs; i++) {
        if (!strv_contains(&names, cfg->procs[i]->program)) {
            strv_push(&names, cfg->procs[i]->program);
        }
    }
    for (size_t i = 0; i < cfg->nprocs; i++) {
        const struct proc_config *pc = cfg->procs[i];
        const struct raw_section *sec = find_program_section(ld, pc->program);
        const struct raw_option *raw = sec ? section_get(sec, "depends_on") : NULL;
        for (size_t d = 0; d < pc->depends_on.n; d++) {
            if (!strv_contains(&names, pc->depends_on.v[d])) {
                loader_error(ld, pc->file, raw ? raw->line : pc->line,
                             "[program:%s] depends_on: no [program:%s]", pc->program,
                             pc->depends_on.v[d]);
            } else if (strcmp(pc->depends_on.v[d], pc->program) == 0) {
                loader_error(ld, pc->file, raw ? raw->line : pc->line,
                             "[program:%s] depends_on: a program cannot depend on itself",
                             pc->program);
            }
        }
    }
    /* stdout/stderr = program:NAME name programs whose stdin tend can feed */
    for (size_t i = 0; i < cfg->nprocs; i++) {
        const struct proc_config *pc = cfg->procs[i];
        const struct raw_section *sec = find_program_section(ld, pc->program);
        const char *opts[] = {"stdout", "stderr"};
        const struct strv *lists[] = {&pc->stdout, &pc->stderr};
        for (size_t t = 0; t < 2; t++) {
            const struct raw_option *raw = sec ? section_get(sec, opts[t]) : NULL;
            for (size_t d = 0; d < lists[t]->n; d++) {
                const char *target = lists[t]->v[d];
                if (strncmp(target, "program:", 8) != 0) {
                    continue;
                }
                const struct proc_config *reader = NULL;
                for (size_t k = 0; k < cfg->nprocs && !reader; k++) {
                    if (strcmp(cfg->procs[k]->program, target + 8) == 0) {
                        reader = cfg->procs[k];
                    }
                }
                if (!reader) {
                    loader_error(ld, pc->file, raw ? raw->line : pc->line,
                                 "[program:%s] %s: no [program:%s]", pc->program, opts[t],
                                 target + 8);
                } else if (reader->stdin.kind == STDIN_FILE) {
                    loader_error(ld, pc->file, raw ? raw->line : pc->line,
                                 "[program:%s] %s: [program:%s] reads its stdin from a file",
                                 pc->program, opts[t], target + 8);
                } else if (strcmp(reader->program, pc->program) == 0) {
                    loader_error(ld, pc->file, raw ? raw->line : pc->line,
                                 "[program:%s] %s: a program cannot read its own output",
                                 pc->program, opts[t]);
                }
            }
        }
    }
    int *state_of = xcalloc(names.n, sizeof(int));
    for (size_t n = 0; n < names.n; n++) {
        struct strv path;
        strv_init(&path);
        if (state_of[n] == 0 && find_cycle(ld, cfg, names.v[n], &path, state_of, &names)) {
            /* path ends with the repeated name; print from its first occurrence */
            const char *again = path.v[path.n - 1];
            size_t from = 0;
            while (strcmp(path.v[from], again) != 0) {
                from++;
            }
            struct strbuf sb;
            strbuf_init(&sb);
            for (size_t k = from; k < path.n; k++) {
                strbuf_addf(&sb, "%s%s", k > from ? " -> " : "", path.v[k]);
            }
            const struct raw_section *sec = find_program_section(ld, again);
            const struct raw_option *raw = sec ? section_get(sec, "depends_on") : NULL;
            loader_error(ld, sec ? sec->file : cfg->global.file,
                         raw ? raw->line : (sec ? sec->line : 0),
                         "[program:%s] depends_on: dependency cycle: %s", again, sb.buf);
            strbuf_free(&sb);
            strv_free(&path);
            break;
        }
        strv_free(&path);
    }
    free(state_of);
    if (cfg->global.exit_with && !strv_contains(&names, cfg->global.exit_with)) {
        loader_error(ld, cfg->global.file, 0, "[tend] exit_with: no [program:%s]",
                     cfg->global.exit_with);
    }
    strv_free(&names);
}

static int proc_order_cmp(const void *a, const void *b)
{
    const struct proc_config *x = *(struct proc_config *const *)a;
    const struct proc_config *y = *(struct proc_config *const *)b;
    if (x->priority != y->priority) {
        return x->priority < y->priority ? -1 : 1;
    }
    return x->order < y->order ? -1 : (x->order > y->order);
}

static void check_sections(struct loader *ld)
{
    /* [supervisorctl] is the client's own section: supervisorctl reads it, tend has no use */
    static const char *const known[] = {"tend",          "supervisord", "unix_http_server",
                                        "inet_http_server", "supervisorctl", "include"};
    for (size_t s = 0; s < ld->nsections; s++) {
        const struct raw_section *sec = &ld->sections[s];
        bool ok = strncmp(sec->name, "program:", 8) == 0 || strncmp(sec->name, "group:", 6) == 0 ||
                  strncmp(sec->name, "eventlistener:", 14) == 0;
        for (size_t k = 0; k < ARRAY_SIZE(known) && !ok; k++) {
            ok = strcmp(sec->name, known[k]) == 0;
        }
        if (ok) {
            continue;
        }
        bool ignored = false;
        for (size_t k = 0; k < ARRAY_SIZE(ignored_sections) && !ignored; k++) {
            const char *ign = ignored_sections[k];
            size_t n = strlen(ign);
            ignored = ign[n - 1] == ':' ? strncmp(sec->name, ign, n) == 0
                                        : strcmp(sec->name, ign) == 0;
        }
        if (ignored) {
            loader_warning(ld, sec->file, sec->line,
                           "[%s]: supervisord section not implemented by tend; ignored",
                           sec->name);
        } else {
            loader_error(ld, sec->file, sec->line,
                         "[%s]: unknown section (tend reads [tend], [program:NAME], "
                         "[group:NAME], [include])",
                         sec->name);
        }
    }
}

/* The default control socket: one per configuration file, so instances run side by side;
 * root's lives under /run, a user's under $XDG_RUNTIME_DIR or /tmp/tend-UID. */
char *config_default_socket(const char *config_file)
{
    const char *base = strrchr(config_file, '/');
    base = base ? base + 1 : config_file;
    size_t stem = strcspn(base, ".");
    uint32_t hash = 2166136261u; /* FNV-1a of the absolute path */
    for (const char *p = config_file; *p; p++) {
        hash = (hash ^ (unsigned char)*p) * 16777619u;
    }
    char *name = strcmp(config_file, "/etc/tend.ini") == 0
                     ? xstrdup("tend")
                     : xasprintf("%.*s-%08x", (int)(stem ? stem : 4), stem ? base : "tend",
                                 (unsigned)hash);
    char *path;
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    if (geteuid() == 0) {
        path = xasprintf("/run/tend/%s.sock", name);
    } else if (runtime && runtime[0] == '/') {
        path = xasprintf("%s/tend/%s.sock", runtime, name);
    } else {
        path = xasprintf("/tmp/tend-%u/%s.sock", (unsigned)geteuid(), name);
    }
    free(name);
    return path;
}

static struct config *config_read(const char *path, struct diag *d, bool global_only)
{
    struct loader ld;
    memset(&ld, 0, sizeof(ld));
    ld.diag = d;
    ld.current = -1;
    ld.global_only = global_only;
    strv_init(&ld.files);
    strv_init(&ld.stack);
    loader_read_file(&ld, path, NULL, 0);
    if (d->errors.n) {
        loader_free(&ld);
        return NULL;
    }

    struct config *cfg = xcalloc(1, sizeof(*cfg));
    strv_copy(&cfg->files, &ld.files);
    cfg->global.file = xstrdup(ld.files.v[0]);
    cfg->global.here = dir_of(cfg->global.file);
    char hostname[256] = "localhost";
    gethostname(hostname, sizeof(hostname) - 1);
    hostname[sizeof(hostname) - 1] = '\0';

    if (!global_only) {
        check_sections(&ld);
    }
    build_global(&ld, cfg, hostname);
    if (!cfg->global.socket) {
        cfg->global.socket = config_default_socket(cfg->global.file);
    } else if (strncmp(cfg->global.socket, "unix://", 7) == 0) {
        memmove(cfg->global.socket, cfg->global.socket + 7, strlen(cfg->global.socket + 7) + 1);
    }
    if (!global_only) {
        build_groups(&ld, cfg);
        for (size_t s = 0; s < ld.nsections; s++) {
            if (strncmp(ld.sections[s].name, "program:", 8) == 0 ||
                strncmp(ld.sections[s].name, "eventlistener:", 14) == 0) {
                build_program(&ld, cfg, &ld.sections[s], hostname);
            }
        }
        validate(&ld, cfg);
        if (cfg->nprocs > 1) {
            qsort(cfg->procs, cfg->nprocs, sizeof(*cfg->procs), proc_order_cmp);
        }
    }
    loader_free(&ld);
    if (d->errors.n) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

struct config *config_load(const char *path, struct diag *d)
{
    return config_read(path, d, false);
}

struct config *config_load_for_verb(const char *given, const char *what)
{
    char *tried = NULL;
    const char *path = config_find(given, &tried);
    if (!path) {
        fprintf(stderr, "tend: no configuration file found (looked for %s)\n", tried);
        free(tried);
        return NULL;
    }
    struct diag d;
    diag_init(&d);
    struct config *cfg = config_load(path, &d);
    diag_print(&d, stderr);
    if (!cfg && what) {
        fprintf(stderr, "tend: %zu error%s in the configuration; nothing %s\n", d.errors.n,
                d.errors.n == 1 ? "" : "s", what);
    }
    diag_free(&d);
    return cfg;
}

struct config *config_load_global(const char *path, struct diag *d)
{
    return config_read(path, d, true);
}

void config_free(struct config *cfg)
{
    if (!cfg) {
        return;
    }
    for (size_t i = 0; i < cfg->nprocs; i++) {
        proc_config_free(cfg->procs[i]);
    }
    free(cfg->procs);
    for (size_t i = 0; i < cfg->ngroups; i++) {
        free(cfg->groups[i].name);
        free(cfg->groups[i].file);
        strv_free(&cfg->groups[i].programs);
    }
    free(cfg->groups);
    for (size_t i = 0; i < global_options_count; i++) {
        option_free(&global_options[i], &cfg->global);
    }
    free(cfg->global.file);
    free(cfg->global.here);
    strv_free(&cfg->files);
    free(cfg);
}

const char *config_find(const char *given, char **tried)
{
    *tried = NULL;
    if (given) {
        return given;
    }
    const char *env = getenv("TEND_CONFIG");
    if (env && *env) {
        return env;
    }
    if (access("tend.ini", F_OK) == 0) {
        return "tend.ini";
    }
    if (access(SYSCONFDIR "/tend.ini", F_OK) == 0) {
        return SYSCONFDIR "/tend.ini";
    }
    if (strcmp(SYSCONFDIR, "/etc") != 0 && access("/etc/tend.ini", F_OK) == 0) {
        return "/etc/tend.ini";
    }
    *tried = xstrdup("-c FILE, $TEND_CONFIG, ./tend.ini, " SYSCONFDIR "/tend.ini");
    return NULL;
}
