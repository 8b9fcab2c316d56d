/* options.c - the value types of options.def: one row per OT_* type (parse, print, free), so
 * loading, `tend check` and reload's comparison read every value the same way; and lookups in
 * the option tables. Calls values and util. */
#include "config_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "values.h"

static const char *const autorestart_names[] = {"false", "true", "unexpected"};
static const char *const proc_type_names[] = {"simple", "forking", "oneshot"};
static const char *const loglevel_names[] = {"critical", "error", "warn",
                                             "info",     "debug", "trace"};

const char *
autorestart_name(enum autorestart a)
{
    return autorestart_names[a];
}

const char *
proc_type_name(enum proc_type t)
{
    return proc_type_names[t];
}

const char *
loglevel_name(enum loglevel l)
{
    return loglevel_names[l];
}

/* ---- parsing helpers ---- */

static int
parse_choice(const char *s, const char *const *names, size_t n, int *out, char **err)
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

/* tcp:[HOST:]PORT, HOST in brackets when it has colons itself. */
static int
parse_tcp(const char *s, struct probe *pr, char **err)
{
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

/* A readiness probe (allow_ready: notify and fd:N too) or a health check. */
static int
parse_probe(const char *s, bool allow_ready, struct probe *pr, char **err)
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
        return parse_tcp(s, pr, err);
    }
    *err = xasprintf("invalid value '%s' (use %s)", s,
                     allow_ready ? "notify, tcp:[HOST:]PORT, exec:CMD or fd:N"
                                 : "exec:CMD or tcp:[HOST:]PORT");
    return -1;
}

/* ---- one parser per type: text -> the field (which is zeroed) ---- */

typedef int (*option_parse_fn)(const struct option_def *opt, const char *text, void *field,
                               char **err);

static int
parse_string(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    (void)err;
    *(char **)field = *text ? xstrdup(text) : NULL;
    return 0;
}

static int
parse_command(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    return value_split_command(text, field, err);
}

static int
parse_bool(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    return value_parse_bool(text, field, err);
}

static int
parse_int(const struct option_def *opt, const char *text, void *field, char **err)
{
    return value_parse_int(text, opt->min, opt->max, field, err);
}

static int
parse_retries(const struct option_def *opt, const char *text, void *field, char **err)
{
    if (strcasecmp(text, "forever") == 0 || strcasecmp(text, "infinite") == 0) {
        *(long *)field = RETRIES_FOREVER;
        return 0;
    }
    return value_parse_int(text, opt->min, opt->max, field, err);
}

static int
parse_duration(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    return value_parse_duration(text, field, err);
}

static int
parse_size(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    return value_parse_size(text, field, err);
}

static int
parse_signal(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    return value_parse_signal(text, field, err);
}

static int
parse_exitcodes(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    return value_parse_exitcodes(text, field, err);
}

static int
parse_autorestart(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
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

static int
parse_umask(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    if (!*text) {
        *(int *)field = -1;
        return 0;
    }
    return value_parse_octal(text, field, err);
}

static int
parse_environment(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    return value_parse_environment(text, field, err);
}

static int
parse_list(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    (void)err;
    value_split_list(text, field);
    return 0;
}

static int
parse_stdin(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
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

static int
parse_targets(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    struct strv items;
    value_split_list(text, &items);
    strv_init(field);
    bool have_file = false;
    for (size_t i = 0; i < items.n; i++) {
        const char *it = items.v[i];
        bool prog = strncasecmp(it, "program:", 8) == 0 && it[8];
        bool file = strncasecmp(it, "file:", 5) == 0 && it[5];
        char *msg = NULL;
        if (!prog && !file) {
            msg = xasprintf("invalid target '%s' (use program:NAME or file:PATH)", it);
        } else if (file && have_file) {
            /* one log file per stream: a second would silently get nothing */
            msg = xasprintf("a second file target '%s': a stream has one file: target", it);
        }
        if (msg) {
            *err = msg;
            strv_free(&items);
            strv_free(field);
            return -1;
        }
        have_file |= file;
        char *norm = prog ? xasprintf("program:%s", it + 8) : xasprintf("file:%s", it + 5);
        strv_push_owned(field, norm);
    }
    strv_free(&items);
    return 0;
}

static int
parse_ready(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    return parse_probe(text, true, field, err);
}

static int
parse_healthcheck(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    return parse_probe(text, false, field, err);
}

static int
parse_ptype(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    int v;
    if (parse_choice(text, proc_type_names, ARRAY_SIZE(proc_type_names), &v, err) < 0) {
        return -1;
    }
    *(enum proc_type *)field = (enum proc_type)v;
    return 0;
}

static int
parse_float(const struct option_def *opt, const char *text, void *field, char **err)
{
    char *end;
    errno = 0;
    double d = strtod(text, &end);
    if (errno || end == text || *end || d != d || d < (double)opt->min || d > (double)opt->max) {
        *err = xasprintf("invalid number '%s' (from %ld to %ld)", text, opt->min, opt->max);
        return -1;
    }
    *(double *)field = d;
    return 0;
}

static int
parse_rlimit(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
    if (!*text) {
        *(int64_t *)field = RLIMIT_UNSET;
        return 0;
    }
    if (strcasecmp(text, "unlimited") == 0 || strcasecmp(text, "infinity") == 0) {
        *(int64_t *)field = RLIMIT_UNLIMITED;
        return 0;
    }
    return value_parse_size(text, field, err);
}

static int
parse_loglevel(const struct option_def *opt, const char *text, void *field, char **err)
{
    (void)opt;
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

/* ---- one printer per type: the field -> text that parses back to it ---- */

typedef char *(*option_format_fn)(const struct option_def *opt, const void *field);

static char *
format_string(const struct option_def *opt, const void *field)
{
    (void)opt;
    const char *s = *(char *const *)field;
    return xstrdup(s ? s : "");
}

static char *
format_command(const struct option_def *opt, const void *field)
{
    (void)opt;
    return value_join_command(field);
}

static char *
format_bool(const struct option_def *opt, const void *field)
{
    (void)opt;
    return xstrdup(*(const bool *)field ? "true" : "false");
}

static char *
format_int(const struct option_def *opt, const void *field)
{
    (void)opt;
    return xasprintf("%ld", *(const long *)field);
}

static char *
format_retries(const struct option_def *opt, const void *field)
{
    (void)opt;
    return *(const long *)field == RETRIES_FOREVER ? xstrdup("forever")
                                                   : xasprintf("%ld", *(const long *)field);
}

static char *
format_duration(const struct option_def *opt, const void *field)
{
    (void)opt;
    return value_format_duration(*(const int64_t *)field);
}

static char *
format_size(const struct option_def *opt, const void *field)
{
    (void)opt;
    return value_format_size(*(const int64_t *)field);
}

static char *
format_signal(const struct option_def *opt, const void *field)
{
    (void)opt;
    return xstrdup(signal_name(*(const int *)field));
}

static char *
format_exitcodes(const struct option_def *opt, const void *field)
{
    (void)opt;
    return value_format_exitcodes(field);
}

static char *
format_autorestart(const struct option_def *opt, const void *field)
{
    (void)opt;
    return xstrdup(autorestart_name(*(const enum autorestart *)field));
}

static char *
format_umask(const struct option_def *opt, const void *field)
{
    (void)opt;
    int m = *(const int *)field;
    return m < 0 ? xstrdup("") : xasprintf("%04o", (unsigned)m);
}

static char *
format_environment(const struct option_def *opt, const void *field)
{
    (void)opt;
    const struct strv *env = field;
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

/* A list or a list of targets: comma and blank between items. */
static char *
format_list(const struct option_def *opt, const void *field)
{
    (void)opt;
    const struct strv *l = field;
    struct strbuf sb;
    strbuf_init(&sb);
    for (size_t i = 0; i < l->n; i++) {
        strbuf_addf(&sb, "%s%s", i ? ", " : "", l->v[i]);
    }
    return strbuf_detach(&sb);
}

static char *
format_stdin(const struct option_def *opt, const void *field)
{
    (void)opt;
    const struct stdin_spec *in = field;
    return in->kind == STDIN_FILE   ? xasprintf("file:%s", in->path)
           : in->kind == STDIN_PIPE ? xstrdup("pipe")
                                    : xstrdup("null");
}

static char *
format_probe(const struct option_def *opt, const void *field)
{
    (void)opt;
    const struct probe *pr = field;
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

static char *
format_ptype(const struct option_def *opt, const void *field)
{
    (void)opt;
    return xstrdup(proc_type_name(*(const enum proc_type *)field));
}

static char *
format_loglevel(const struct option_def *opt, const void *field)
{
    (void)opt;
    return xstrdup(loglevel_name(*(const enum loglevel *)field));
}

static char *
format_float(const struct option_def *opt, const void *field)
{
    (void)opt;
    return xasprintf("%g", *(const double *)field);
}

static char *
format_rlimit(const struct option_def *opt, const void *field)
{
    (void)opt;
    int64_t v = *(const int64_t *)field;
    return v == RLIMIT_UNSET       ? xstrdup("")
           : v == RLIMIT_UNLIMITED ? xstrdup("unlimited")
                                   : xasprintf("%lld", (long long)v);
}

/* ---- what a type owns on the heap ---- */

typedef void (*option_free_fn)(void *field);

static void
free_string(void *field)
{
    free(*(char **)field);
    *(char **)field = NULL;
}

static void
free_strv(void *field)
{
    strv_free(field);
}

static void
free_stdin(void *field)
{
    free(((struct stdin_spec *)field)->path);
    ((struct stdin_spec *)field)->path = NULL;
}

static void
free_probe(void *field)
{
    struct probe *pr = field;
    free(pr->host);
    pr->host = NULL;
    strv_free(&pr->argv);
}

/* ---- the type table ---- */

struct option_type {
    option_parse_fn parse;
    option_format_fn format;
    option_free_fn free; /* NULL: nothing on the heap */
};

static const struct option_type option_types[] = {
    [OT_STRING] = {parse_string, format_string, free_string},
    [OT_COMMAND] = {parse_command, format_command, free_strv},
    [OT_BOOL] = {parse_bool, format_bool, NULL},
    [OT_INT] = {parse_int, format_int, NULL},
    [OT_RETRIES] = {parse_retries, format_retries, NULL},
    [OT_DURATION] = {parse_duration, format_duration, NULL},
    [OT_SIZE] = {parse_size, format_size, NULL},
    [OT_SIGNAL] = {parse_signal, format_signal, NULL},
    [OT_EXITCODES] = {parse_exitcodes, format_exitcodes, NULL},
    [OT_AUTORESTART] = {parse_autorestart, format_autorestart, NULL},
    [OT_UMASK] = {parse_umask, format_umask, NULL},
    [OT_ENVIRONMENT] = {parse_environment, format_environment, free_strv},
    [OT_LIST] = {parse_list, format_list, free_strv},
    [OT_STDIN] = {parse_stdin, format_stdin, free_stdin},
    [OT_READY] = {parse_ready, format_probe, free_probe},
    [OT_PROBE] = {parse_healthcheck, format_probe, free_probe},
    [OT_PTYPE] = {parse_ptype, format_ptype, NULL},
    [OT_LOGLEVEL] = {parse_loglevel, format_loglevel, NULL},
    [OT_FLOAT] = {parse_float, format_float, NULL},
    [OT_RLIMIT] = {parse_rlimit, format_rlimit, NULL},
    [OT_TARGETS] = {parse_targets, format_list, free_strv},
};

static const struct option_type *
option_type_of(const struct option_def *opt)
{
    if ((size_t)opt->type >= ARRAY_SIZE(option_types) || !option_types[opt->type].parse) {
        return NULL;
    }
    return &option_types[opt->type];
}

int
option_parse(const struct option_def *opt, const char *text, void *base, char **err)
{
    const struct option_type *t = option_type_of(opt);
    *err = NULL;
    if (!t) {
        *err = xstrdup("internal error: unknown option type");
        return -1;
    }
    return t->parse(opt, text, (char *)base + opt->offset, err);
}

void
option_free(const struct option_def *opt, void *base)
{
    const struct option_type *t = option_type_of(opt);
    if (t && t->free) {
        t->free((char *)base + opt->offset);
    }
}

char *
config_format_value(const struct option_def *opt, const void *base)
{
    const struct option_type *t = option_type_of(opt);
    return t ? t->format(opt, (const char *)base + opt->offset) : xstrdup("");
}

/* ---- lookups ---- */

const struct option_def *
find_option(const struct option_def *table, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i].name, name) == 0) {
            return &table[i];
        }
    }
    return NULL;
}

const struct option_def *
config_find_program_option(const char *name)
{
    return find_option(program_options, program_options_count, name);
}

char *
option_suggestion(const struct option_def *table, size_t n, const char *name)
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
