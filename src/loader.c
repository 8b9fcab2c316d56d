/* loader.c - reading the files: tend's own line reader under inih (exact file:line, long lines
 * refused, continuations), sections and options as raw text, [include] globs and cycles, and the
 * messages of a load. Calls inih, values and util; config.c turns its sections into a config. */
#include "config_int.h"

#include <errno.h>
#include <fcntl.h>
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
/* the reader's window: a line longer than this is certainly too long */
#define LOADER_WINDOW (64 * 1024)

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

static void
loader_count_lines(struct loader *ld, const char *from, const char *to)
{
    for (const char *p = from; (p = memchr(p, '\n', (size_t)(to - p))); p++) {
        ld->lineno++;
    }
}

/* Reads more of the file behind what is not consumed yet, moving that to the front of the
 * window first. False at the end of the file or on a read error (reported). */
static bool
loader_fill(struct loader *ld)
{
    if (ld->eof) {
        return false;
    }
    if (ld->uncounted >= 0 && !ld->seekable) {
        /* a skip's lines cannot be read again later: count what leaves the window */
        loader_count_lines(ld, ld->buf + (ld->uncounted - ld->offset), ld->buf + ld->start);
        ld->uncounted = ld->offset + (off_t)ld->start;
    }
    memmove(ld->buf, ld->buf + ld->start, ld->end - ld->start);
    ld->offset += (off_t)ld->start;
    ld->end -= ld->start;
    ld->start = 0;
    for (;;) {
        ssize_t r = read(ld->fd, ld->buf + ld->end, LOADER_WINDOW - ld->end);
        if (r > 0) {
            ld->end += (size_t)r;
            return true;
        }
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            loader_error(ld, ld->file, ld->lineno + 1, "cannot read: %s", strerror(errno));
        }
        ld->eof = true;
        return false;
    }
}

/* Brings the line count up to the read position after a skip: the part of the skip that has
 * left the window is read again (pread, from the page cache), the rest counted in place. */
static void
loader_count_skipped(struct loader *ld)
{
    if (ld->uncounted < 0) {
        return;
    }
    char chunk[16 * 1024];
    for (off_t at = ld->uncounted; at < ld->offset;) {
        size_t want =
            (size_t)(ld->offset - at) < sizeof(chunk) ? (size_t)(ld->offset - at) : sizeof(chunk);
        ssize_t r = pread(ld->fd, chunk, want, at);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break; /* the file changed under us: the count is as good as it gets */
        }
        loader_count_lines(ld, chunk, chunk + r);
        at += r;
    }
    const char *from = ld->buf + (ld->uncounted > ld->offset ? ld->uncounted - ld->offset : 0);
    loader_count_lines(ld, from, ld->buf + ld->start);
    ld->uncounted = -1;
}

/* A line longer than the whole window is passed over up to its newline and reported. */
static char *
loader_overlong_line(struct loader *ld, int *lineno)
{
    size_t n = 0;
    char last = '\0';
    for (;;) {
        const char *s = ld->buf + ld->start;
        const char *nl = memchr(s, '\n', ld->end - ld->start);
        const char *stop = nl ? nl : ld->buf + ld->end;
        if (stop > s) {
            n += (size_t)(stop - s);
            last = stop[-1];
        }
        ld->start = (size_t)(stop - ld->buf) + (nl != NULL);
        if (nl || !loader_fill(ld)) {
            break;
        }
    }
    *lineno = ++ld->lineno;
    loader_error(ld, ld->file, *lineno, "line too long (%zu bytes, at most %d)", n - (last == '\r'),
                 CONFIG_MAX_LINE);
    return xstrdup("");
}

/* Reads one physical line into a new string (without its newline); NULL at end of file.
 * Over-long lines are reported and returned empty, so the line count stays exact. */
static char *
loader_physical_line(struct loader *ld, int *lineno)
{
    if (ld->peek) {
        char *l = ld->peek;
        *lineno = ld->peek_lineno;
        ld->peek = NULL;
        return l;
    }
    const char *s;
    size_t n;
    for (;;) {
        s = ld->buf + ld->start;
        size_t avail = ld->end - ld->start;
        const char *nl = memchr(s, '\n', avail);
        if (nl) {
            n = (size_t)(nl - s);
            ld->start += n + 1;
            break;
        }
        if (avail == LOADER_WINDOW) {
            return loader_overlong_line(ld, lineno);
        }
        if (!loader_fill(ld)) {
            if (!avail) {
                return NULL;
            }
            s = ld->buf + ld->start; /* the last line, without a newline */
            n = avail;
            ld->start = ld->end;
            break;
        }
    }
    *lineno = ++ld->lineno;
    if (n > 0 && s[n - 1] == '\r') {
        n--;
    }
    if (memchr(s, '\0', n)) {
        loader_error(ld, ld->file, *lineno, "line contains a NUL byte");
        return xstrdup("");
    }
    if (n > CONFIG_MAX_LINE) {
        loader_error(ld, ld->file, *lineno, "line too long (%zu bytes, at most %d)", n,
                     CONFIG_MAX_LINE);
        return xstrdup("");
    }
    return xstrndup(s, n);
}

static bool
is_blank_or_comment(const char *l)
{
    while (*l == ' ' || *l == '\t') {
        l++;
    }
    return *l == '\0' || *l == ';' || *l == '#';
}

/* The sections a client looking for the socket (global_only) needs: name[0, len). By length
 * first: the client asks this of every header of a 10,000-program file. */
static bool
loader_global_section(const char *name, size_t len)
{
    switch (len) {
    case 4:
        return memcmp(name, "tend", 4) == 0;
    case 7:
        return memcmp(name, "include", 7) == 0;
    case 11:
        return memcmp(name, "supervisord", 11) == 0;
    case 16:
        return memcmp(name, "unix_http_server", 16) == 0;
    default:
        return false;
    }
}

static void
loader_begin_section(struct loader *ld, const char *name, int line)
{
    /* a client looking for the socket needs only the global sections (and includes) */
    if (ld->global_only && !loader_global_section(name, strlen(name))) {
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

/* True when the header line [rest, end) after a '[' names a section the client drops:
 * anything else (a needed section, a malformed header) is read as usual. */
static bool
loader_header_skipped(const char *rest, const char *end)
{
    const char *close = memchr(rest, ']', (size_t)(end - rest));
    if (!close || close == rest) {
        return false;
    }
    const char *after = close + 1;
    if (after < end && *after != ' ' && *after != '\t' && *after != '\r') {
        return false; /* text right after ']' */
    }
    while (after < end && (*after == ' ' || *after == '\t' || *after == '\r')) {
        after++;
    }
    if (after < end && *after != ';' && *after != '#') {
        return false;
    }
    const char *name = rest;
    while (name < close && (*name == ' ' || *name == '\t')) {
        name++;
    }
    const char *name_end = close;
    while (name_end > name && (name_end[-1] == ' ' || name_end[-1] == '\t')) {
        name_end--;
    }
    return !loader_global_section(name, (size_t)(name_end - name));
}

/* A client looking for the socket (global_only) passes over the sections it drops without
 * reading them line by line: from '[' to '[' at the start of a line in the window, so a
 * 10,000-program file costs it about one memchr per section. Lines are counted only when a
 * header it keeps follows (loader_count_skipped); that header is left as the next line. */
static void
loader_skip_section(struct loader *ld)
{
    bool line_start = true; /* the reader stops right after a header line */
    if (ld->uncounted < 0) {
        ld->uncounted = ld->offset + (off_t)ld->start;
    }
    for (;;) {
        const char *s = ld->buf + ld->start, *end = ld->buf + ld->end;
        const char *open = memchr(s, '[', (size_t)(end - s));
        if (!open) {
            line_start = end > s ? end[-1] == '\n' : line_start;
            ld->start = ld->end;
            if (!loader_fill(ld)) {
                return; /* nothing kept below: the line count no longer matters */
            }
            continue;
        }
        bool at_line_start = open > s ? open[-1] == '\n' : line_start;
        ld->start = (size_t)(open - ld->buf);
        if (!at_line_start) {
            ld->start++;
            line_start = false;
            continue;
        }
        const char *eol = memchr(open, '\n', (size_t)(end - open));
        if (!eol && !ld->eof) {
            if (ld->start == 0) {
                break; /* a header longer than the window: the reader reports it */
            }
            loader_fill(ld);
            line_start = true; /* the '[' is now at the front; look again with the rest */
            continue;
        }
        if (!loader_header_skipped(open + 1, eol ? eol : end)) {
            break;
        }
        ld->start = eol ? (size_t)(eol - ld->buf) + 1 : ld->end;
        line_start = true;
    }
    loader_count_skipped(ld);
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

/* "cannot read": in the include that names the file, or on its own for the main file. */
static void
loader_cannot_read(struct loader *ld, const char *abs, const char *from_file, int from_line,
                   const char *why)
{
    if (from_file) {
        loader_error(ld, from_file, from_line, "[include] files: cannot read %s: %s", abs, why);
        return;
    }
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_addf(&sb, "%s: cannot read configuration file: %s", abs, why);
    diag_add(&ld->diag->errors, strbuf_detach(&sb));
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
    int fd = open(abs, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        loader_cannot_read(ld, abs, from_file, from_line, strerror(errno));
        free(abs);
        return;
    }
    struct stat st;
    bool is_file = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    if (!is_file && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        loader_cannot_read(ld, abs, from_file, from_line, strerror(EISDIR));
        close(fd);
        free(abs);
        return;
    }
    if (!loader_file_trusted(ld, abs, fd)) {
        close(fd);
        free(abs);
        return;
    }
    strv_push(&ld->files, abs);
    strv_push(&ld->stack, abs);

    /* Includes are read after this file (loader_follow_includes), so nothing of an including
     * file's reading state needs saving. */
    if (!ld->buf) {
        ld->buf = xmalloc(LOADER_WINDOW);
    }
    ld->fd = fd;
    ld->seekable = is_file;
    ld->offset = 0;
    ld->uncounted = -1;
    ld->start = ld->end = 0;
    ld->eof = false;
    ld->file = ld->files.v[ld->files.n - 1];
    ld->here = dir_of(abs);
    ld->lineno = 0;
    ld->current = -1;
    ld->peek = NULL;
    size_t first = ld->nsections;
    ini_parse_stream(loader_reader, ld, loader_handler, ld);
    free(ld->peek);
    ld->peek = NULL;
    free(ld->key);
    free(ld->value);
    ld->key = ld->value = NULL;
    close(fd);
    ld->fd = -1;
    free(ld->here);
    ld->here = NULL;
    ld->file = NULL;
    size_t end = ld->nsections;

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
    free(ld->buf);
    strv_free(&ld->files);
    strv_free(&ld->stack);
}
