/* config.c - reads tend.ini (or a supervisord file) through inih, follows [include]s, expands
 * %(...)s, fills defaults from the option table and validates the result. Calls options.c
 * (value types), expand, values and util. */
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

#include "config_int.h"
#include "expand.h"
#include "listen.h"

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

/* supervisord sections that tend reads without running them: one warning each says why, and
 * their options are checked against supervisord's names so that a typo is still reported. */
static const char *const inet_http_server_keys[] = {"port", "username", "password"};
static const char *const supervisorctl_keys[] = {"serverurl", "username", "password", "prompt",
                                                 "history_file"};
static const char *const eventlistener_keys[] = {"buffer_size", "events", "result_handler"};
static const struct {
    const char *prefix; /* a section name, or a prefix when it ends with ':' */
    const char *why;
    const char *const *keys; /* NULL: any option (a Python factory's own arguments) */
    size_t nkeys;
    bool program_keys; /* [program:x]'s options are valid too */
} ignored_sections[] = {
    {"inet_http_server", "supervisord's HTTP server is not served by tend (yet); ignored",
     inet_http_server_keys, ARRAY_SIZE(inet_http_server_keys), false},
    {"supervisorctl",
     "read by supervisorctl only; tend's client finds the supervisor through [unix_http_server] "
     "file or [tend] socket; ignored",
     supervisorctl_keys, ARRAY_SIZE(supervisorctl_keys), false},
    {"eventlistener:", "supervisord's event listeners are not run by tend (yet); ignored",
     eventlistener_keys, ARRAY_SIZE(eventlistener_keys), true},
    {"rpcinterface:", "a Python RPC interface factory; tend runs no Python; ignored", NULL, 0,
     false},
    {"ctlplugin:", "a Python supervisorctl plugin; tend runs no Python; ignored", NULL, 0, false},
};

/* ---- diagnostics ---- */

void diag_init(struct diag *d)
{
    strv_init(&d->errors);
    strv_init(&d->warnings);
    d->strict = false;
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

/* " (did you mean X?)" among plain names, or "". */
static char *suggestion_among(const char *const *names, size_t n, const char *name)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t d = levenshtein(name, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    size_t limit = strlen(name) < 5 ? 1 : (strlen(name) < 10 ? 2 : 3);
    if (best && best_d <= limit) {
        return xasprintf(" (did you mean %s?)", best);
    }
    return xstrdup("");
}

/* An option a section does not know. supervisord ignores those, so a supervisord file must
 * still run: a warning, except in tend's own [tend] and with check --strict. */
static void report_unknown_option(struct loader *ld, const char *file, int line,
                                  const char *section, const char *name, const char *hint)
{
    if (ld->diag->strict || strcmp(section, "tend") == 0) {
        loader_error(ld, file, line, "[%s] %s: unknown option%s", section, name, hint);
    } else {
        loader_warning(ld, file, line, "[%s] %s: unknown option, ignored%s", section, name,
                       hint);
    }
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
                static const char *const keys[] = {"files"};
                char *hint = suggestion_among(keys, 1, opt->name);
                report_unknown_option(ld, ld->sections[s].file, opt->line, "include", opt->name,
                                      hint);
                free(hint);
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
        if (opt && (opt->flags & OF_FCGI) && strncmp(sec->name, "fcgi-program:", 13) != 0) {
            opt = NULL; /* socket options belong to [fcgi-program:x] only */
        }
        if (!opt) {
            char *hint = option_suggestion(table, n, o->name);
            report_unknown_option(ld, sec->file, o->line, sec->name, o->name, hint);
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
            if (strcmp(sec->name, "unix_http_server") == 0) {
                key = strcmp(opt->name, "socket") == 0        ? "file"
                      : strcmp(opt->name, "socket_mode") == 0 ? "chmod"
                                                              : NULL;
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
        } else if (strcmp(sec->name, "unix_http_server") == 0) {
            for (size_t o = 0; o < sec->nopts; o++) {
                const char *n = sec->opts[o].name;
                if (strcmp(n, "file") == 0 || strcmp(n, "chmod") == 0) {
                    continue;
                }
                if (strcmp(n, "chown") == 0 || strcmp(n, "username") == 0 ||
                    strcmp(n, "password") == 0) {
                    loader_warning(ld, sec->file, sec->opts[o].line,
                                   "[unix_http_server] %s: not implemented by tend; ignored", n);
                } else {
                    static const char *const keys[] = {"file", "chmod", "chown", "username",
                                                       "password"};
                    char *hint = suggestion_among(keys, ARRAY_SIZE(keys), n);
                    report_unknown_option(ld, sec->file, sec->opts[o].line, sec->name, n, hint);
                    free(hint);
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

/* [fcgi-program:x]: a socket that tend can create, and a stdin that is free for it. */
static void validate_fcgi(struct loader *ld, const struct raw_section *sec,
                          const struct proc_config *pc)
{
    const struct raw_option *raw = section_get(sec, "socket");
    int line = raw ? raw->line : sec->line;
    struct listen_spec spec;
    char *err = NULL;
    if (!pc->socket) {
        loader_error(ld, sec->file, sec->line, "[%s]: socket is required", sec->name);
        return;
    }
    if (listen_spec_parse(pc->socket, &spec, &err) < 0) {
        loader_error(ld, sec->file, line, "[%s] socket: %s", sec->name, err);
        free(err);
        return;
    }
    if (spec.kind == LISTEN_TCP && (pc->socket_owner || pc->socket_mode >= 0)) {
        loader_error(ld, sec->file, line,
                     "[%s] socket: socket_owner and socket_mode apply to unix sockets only",
                     sec->name);
    }
    listen_spec_free(&spec);
    uid_t uid;
    gid_t gid;
    if (pc->socket_owner && listen_parse_owner(pc->socket_owner, &uid, &gid, &err) < 0) {
        raw = section_get(sec, "socket_owner");
        loader_error(ld, sec->file, raw ? raw->line : sec->line, "[%s] socket_owner: %s",
                     sec->name, err);
        free(err);
    }
    if (pc->stdin.kind != STDIN_NULL) {
        raw = section_get(sec, "stdin");
        loader_error(ld, sec->file, raw ? raw->line : sec->line,
                     "[%s] stdin: the stdin of an fcgi-program is its socket", sec->name);
    }
}

static void build_program(struct loader *ld, struct config *cfg, const struct raw_section *sec,
                          const char *hostname)
{
    bool fcgi = strncmp(sec->name, "fcgi-program:", 13) == 0;
    const char *name = sec->name + (fcgi ? 13 : 8);
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
    check_unknown_options(ld, sec, program_options, program_options_count, NULL, 0);
    const char *group = group_of(ld, cfg, name);
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
            apply_option(ld, sec, opt, raw, &ectx, pc);
        }
        pc->program = xstrdup(name);
        pc->fcgi = fcgi;
        if (fcgi && i == 0) {
            validate_fcgi(ld, sec, pc);
        }
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
        const char *n = ld->sections[s].name;
        if ((strncmp(n, "program:", 8) == 0 && strcmp(n + 8, program) == 0) ||
            (strncmp(n, "fcgi-program:", 13) == 0 && strcmp(n + 13, program) == 0)) {
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
                } else if (reader->fcgi) {
                    loader_error(ld, pc->file, raw ? raw->line : pc->line,
                                 "[program:%s] %s: [fcgi-program:%s] reads its socket, not a pipe",
                                 pc->program, opts[t], target + 8);
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
    static const char *const known[] = {"tend", "supervisord", "unix_http_server", "include"};
    for (size_t s = 0; s < ld->nsections; s++) {
        const struct raw_section *sec = &ld->sections[s];
        bool ok = strncmp(sec->name, "program:", 8) == 0 || strncmp(sec->name, "group:", 6) == 0 ||
                  strncmp(sec->name, "fcgi-program:", 13) == 0;
        for (size_t k = 0; k < ARRAY_SIZE(known) && !ok; k++) {
            ok = strcmp(sec->name, known[k]) == 0;
        }
        if (ok) {
            continue;
        }
        size_t ign = ARRAY_SIZE(ignored_sections);
        for (size_t k = 0; k < ARRAY_SIZE(ignored_sections) && ign == ARRAY_SIZE(ignored_sections);
             k++) {
            const char *prefix = ignored_sections[k].prefix;
            size_t n = strlen(prefix);
            if (prefix[n - 1] == ':' ? strncmp(sec->name, prefix, n) == 0
                                     : strcmp(sec->name, prefix) == 0) {
                ign = k;
            }
        }
        if (ign == ARRAY_SIZE(ignored_sections)) {
            /* supervisord skips sections it does not know; so does tend, unless --strict */
            if (ld->diag->strict) {
                loader_error(ld, sec->file, sec->line,
                             "[%s]: unknown section (tend reads [tend], [program:NAME], "
                             "[fcgi-program:NAME], [group:NAME], [include])",
                             sec->name);
            } else {
                loader_warning(ld, sec->file, sec->line, "[%s]: unknown section, ignored",
                               sec->name);
            }
            continue;
        }
        loader_warning(ld, sec->file, sec->line, "[%s]: %s", sec->name,
                       ignored_sections[ign].why);
        if (!ignored_sections[ign].keys) {
            continue;
        }
        for (size_t o = 0; o < sec->nopts; o++) {
            const char *name = sec->opts[o].name;
            const struct option_def *opt = find_option(program_options, program_options_count, name);
            bool known_key = ignored_sections[ign].program_keys && opt && !(opt->flags & OF_FCGI);
            for (size_t k = 0; k < ignored_sections[ign].nkeys && !known_key; k++) {
                known_key = strcmp(ignored_sections[ign].keys[k], name) == 0;
            }
            if (!known_key) {
                char *hint = suggestion_among(ignored_sections[ign].keys,
                                              ignored_sections[ign].nkeys, name);
                report_unknown_option(ld, sec->file, sec->opts[o].line, sec->name, name, hint);
                free(hint);
            }
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
                strncmp(ld.sections[s].name, "fcgi-program:", 13) == 0) {
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
    return config_load_for_verb_strict(given, what, false);
}

struct config *config_load_for_verb_strict(const char *given, const char *what, bool strict)
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
    d.strict = strict;
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
