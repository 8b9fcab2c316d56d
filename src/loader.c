/* loader.c - reading the files: tend's own line reader under inih (exact file:line, long lines
 * refused, continuations), sections and options as raw text, [include] globs and cycles, and the
 * messages of a load. Calls inih, values and util; config.c turns its sections into a config. */
#include "config_int.h"

#include <errno.h>
#include <glob.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "values.h"

#define CONFIG_MAX_LINE 4096
#define CONFIG_MAX_INCLUDE_DEPTH 16

PRINTF_LIKE(4, 5)
void
loader_error(struct loader *ld, const char *file, int line, const char *fmt, ...)
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
void
loader_warning(struct loader *ld, const char *file, int line, const char *fmt, ...)
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

static char *
trim(char *s)
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
static void
strip_inline_comment(char *s)
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
static char *
loader_physical_line(struct loader *ld, int *lineno)
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

static bool
is_blank_or_comment(const char *l)
{
    while (*l == ' ' || *l == '\t') {
        l++;
    }
    return *l == '\0' || *l == ';' || *l == '#';
}

/* The sections a client looking for the socket (global_only) needs. */
static bool
loader_global_section(const char *name)
{
    return strcmp(name, "tend") == 0 || strcmp(name, "supervisord") == 0 ||
           strcmp(name, "unix_http_server") == 0 || strcmp(name, "include") == 0;
}

static void
loader_begin_section(struct loader *ld, const char *name, int line)
{
    /* a client looking for the socket needs only the global sections (and includes) */
    if (ld->global_only && !loader_global_section(name)) {
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

/* True when the header line after a '[' (its rest, with the newline) names a section the
 * client drops: anything else (a needed section, a malformed header) is read as usual. */
static bool
loader_header_skipped(const char *rest)
{
    const char *close = strchr(rest, ']');
    if (!close || close == rest) {
        return false;
    }
    if (close[1] && !strchr(" \t\r\n", close[1])) {
        return false; /* text right after ']' */
    }
    const char *after = close + 1 + strspn(close + 1, " \t\r\n");
    if (*after && *after != ';' && *after != '#') {
        return false;
    }
    const char *name = rest + strspn(rest, " \t");
    const char *end = close;
    while (end > name && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    char buf[32]; /* longer than every needed section's name */
    size_t len = (size_t)(end - name);
    if (len >= sizeof(buf)) {
        return true;
    }
    memcpy(buf, name, len);
    buf[len] = '\0';
    return !loader_global_section(buf);
}

/* A client looking for the socket (global_only) passes over the sections it drops without
 * reading them line by line: from '[' to '[' at the start of a line, counting the lines on the
 * way, so a 10,000-program file costs it little more than a memchr. A header it needs is put
 * back as the next physical line (ld->peek). */
static void
loader_skip_section(struct loader *ld)
{
    bool line_start = true; /* the reader stops right after a header line */
    for (;;) {
        ssize_t n = getdelim(&ld->skipped, &ld->skipped_cap, '[', ld->fp);
        if (n <= 0) {
            return;
        }
        for (const char *p = ld->skipped, *end = p + n; (p = memchr(p, '\n', (size_t)(end - p)));
             p++) {
            ld->lineno++;
        }
        if (ld->skipped[n - 1] != '[') {
            return; /* the end of the file */
        }
        if (!(n == 1 ? line_start : ld->skipped[n - 2] == '\n')) {
            line_start = false;
            continue;
        }
        n = getline(&ld->skipped, &ld->skipped_cap, ld->fp);
        if (n < 0) {
            ld->skipped[0] = '\0';
        }
        ld->lineno++;
        if (n > 0 && loader_header_skipped(ld->skipped)) {
            line_start = true;
            continue;
        }
        char *line = xasprintf("[%s", ld->skipped);
        line[strcspn(line, "\r\n")] = '\0';
        ld->peek = line;
        ld->peek_lineno = ld->lineno;
        return;
    }
}

/* The inih reader: turns the file into logical lines. It does the parts Debian's inih build
 * gets wrong for supervisord files (long lines, section names over 50 bytes, " #" comments,
 * exact line numbers, keyless sections) and hands inih a short placeholder per option, whose
 * real name and value wait in the loader for the handler. */
static char *
loader_reader(char *str, int num, void *stream)
{
    struct loader *ld = stream;
    int lineno;
    (void)num;
    for (;;) {
        if (ld->global_only && ld->current == -2 && !ld->peek) {
            loader_skip_section(ld);
        }
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
static int
loader_handler(void *user, const char *section, const char *name, const char *value)
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
            loader_error(ld, ld->file, ld->key_line, "[%s] %s: set twice (first at line %d)",
                         sec->name, ld->key, sec->opts[i].line);
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

char *
dir_of(const char *path)
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
static char *
absolute_path(const char *path)
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
static bool
loader_file_trusted(struct loader *ld, const char *abs, int fd)
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

static void
loader_follow_includes(struct loader *ld, size_t first, size_t end)
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
                        loader_warning(ld, file, line, "[include] files: %s does not exist", pat);
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

void
loader_read_file(struct loader *ld, const char *path, const char *from_file, int from_line)
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
    if (fp) {
        setvbuf(fp, NULL, _IOFBF, 64 * 1024); /* a big file in few reads */
    }
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

void
loader_free(struct loader *ld)
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
    free(ld->skipped);
    strv_free(&ld->files);
    strv_free(&ld->stack);
}
