/* values.c - parsers and printers of configuration values: durations, sizes, booleans, integers,
 * octal masks, signals, exit codes, command words, environments, lists. Calls util only. */
#include "values.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Blanks around values; \r too, so a file saved with CRLF line ends still parses. */
static bool
value_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
value_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const char *
value_skip_blanks(const char *p)
{
    while (value_is_blank(*p)) {
        p++;
    }
    return p;
}

/* A copy of s without surrounding blanks; every parser quotes this copy in its messages. */
static char *
value_trim(const char *s)
{
    const char *start = value_skip_blanks(s);
    size_t len = strlen(start);
    while (len > 0 && value_is_blank(start[len - 1])) {
        len--;
    }
    return xstrndup(start, len);
}

/* Reads a run of decimal digits into *out; returns the number of digits, or -1 on overflow. */
static int
value_read_digits(const char **pp, int64_t *out)
{
    const char *p = *pp;
    int64_t n = 0;
    int count = 0;
    while (value_is_digit(*p)) {
        int d = *p - '0';
        if (n > (INT64_MAX - d) / 10) {
            return -1;
        }
        n = n * 10 + d;
        p++;
        count++;
    }
    *pp = p;
    *out = n;
    return count;
}

/* ---- durations ---- */

struct value_unit {
    const char *name;
    int64_t factor;
};

/* Longest names first so "ms" is not read as "m" followed by junk. */
static const struct value_unit value_duration_units[] = {
    {"ms", 1},
    {"h", 3600000},
    {"m", 60000},
    {"s", 1000},
};

/* Finds the unit at *pp, advancing past it; NULL when there is none. */
static const struct value_unit *
value_duration_unit(const char **pp)
{
    for (size_t i = 0; i < ARRAY_SIZE(value_duration_units); i++) {
        const struct value_unit *u = &value_duration_units[i];
        size_t len = strlen(u->name);
        if (strncasecmp(*pp, u->name, len) == 0) {
            *pp += len;
            return u;
        }
    }
    return NULL;
}

enum value_duration_error {
    VALUE_DURATION_OK,
    VALUE_DURATION_INVALID,
    VALUE_DURATION_OVERFLOW,
    VALUE_DURATION_PRECISION,
};

/* One or more "<number><unit>" parts from the largest unit down ("1h30m"), or a bare number
 * of seconds on its own. Fractions are exact: "1.5s" is 1500 ms, "0.0001" is an error. */
static enum value_duration_error
value_duration_scan(const char *t, int64_t *ms)
{
    const char *p = t;
    int64_t total = 0;
    int64_t last_factor = INT64_MAX;
    bool first = true;
    while (*p) {
        int64_t whole = 0, frac = 0, den = 1;
        int digits = value_read_digits(&p, &whole);
        if (digits < 0) {
            return VALUE_DURATION_OVERFLOW;
        }
        if (digits == 0) {
            return VALUE_DURATION_INVALID;
        }
        if (*p == '.') {
            p++;
            if (!value_is_digit(*p)) {
                return VALUE_DURATION_INVALID;
            }
            /* Trailing zeros do not count; more than 9 significant fraction digits can never
             * be a whole number of milliseconds, as the largest unit is 3.6e6 ms. */
            const char *f = p;
            while (value_is_digit(*p)) {
                p++;
            }
            const char *end = p;
            while (end > f && end[-1] == '0') {
                end--;
            }
            if (end - f > 9) {
                return VALUE_DURATION_PRECISION;
            }
            for (const char *q = f; q < end; q++) {
                frac = frac * 10 + (*q - '0');
                den *= 10;
            }
        }
        p = value_skip_blanks(p);
        const struct value_unit *u = value_duration_unit(&p);
        if (!u) {
            /* A bare number means seconds, but only as the whole value: "1m30" is ambiguous. */
            if (!first || *p) {
                return VALUE_DURATION_INVALID;
            }
            u = &value_duration_units[3];
        }
        if (u->factor >= last_factor) {
            return VALUE_DURATION_INVALID;
        }
        last_factor = u->factor;
        if (whole > INT64_MAX / u->factor) {
            return VALUE_DURATION_OVERFLOW;
        }
        int64_t part = whole * u->factor;
        if ((frac * u->factor) % den != 0) {
            return VALUE_DURATION_PRECISION;
        }
        int64_t frac_ms = frac * u->factor / den;
        if (part > INT64_MAX - frac_ms || total > INT64_MAX - part - frac_ms) {
            return VALUE_DURATION_OVERFLOW;
        }
        total += part + frac_ms;
        first = false;
        p = value_skip_blanks(p);
    }
    if (first) {
        return VALUE_DURATION_INVALID;
    }
    *ms = total;
    return VALUE_DURATION_OK;
}

int
value_parse_duration(const char *s, int64_t *ms, char **err)
{
    char *t = value_trim(s);
    enum value_duration_error e = value_duration_scan(t, ms);
    if (e == VALUE_DURATION_OK) {
        free(t);
        return 0;
    }
    if (t[0] == '-') {
        *err = xasprintf("duration '%s' must not be negative", t);
    } else if (e == VALUE_DURATION_OVERFLOW) {
        *err = xasprintf("duration '%s' is too large", t);
    } else if (e == VALUE_DURATION_PRECISION) {
        *err = xasprintf("duration '%s' is finer than a millisecond", t);
    } else {
        *err = xasprintf("invalid duration '%s' (use e.g. 10, 500ms, 2s, 1m)", t);
    }
    free(t);
    return -1;
}

char *
value_format_duration(int64_t ms)
{
    if (ms == 0) {
        return xstrdup("0");
    }
    /* Anything that is not whole seconds reads best as plain milliseconds: "1500ms". A negative
     * value is no valid duration; it is still printed, as "-5ms", for diagnostics. */
    if (ms < 0 || ms % 1000 != 0) {
        return xasprintf("%" PRId64 "ms", ms);
    }
    int64_t secs = ms / 1000;
    struct strbuf sb;
    strbuf_init(&sb);
    if (secs >= 3600) {
        strbuf_addf(&sb, "%" PRId64 "h", secs / 3600);
    }
    if (secs % 3600 >= 60) {
        strbuf_addf(&sb, "%" PRId64 "m", secs % 3600 / 60);
    }
    if (secs % 60 != 0) {
        strbuf_addf(&sb, "%" PRId64 "s", secs % 60);
    }
    return strbuf_detach(&sb);
}

/* ---- sizes ---- */

static const struct value_unit value_size_units[] = {
    {"", 1},
    {"B", 1},
    {"K", INT64_C(1) << 10},
    {"KB", INT64_C(1) << 10},
    {"KiB", INT64_C(1) << 10},
    {"M", INT64_C(1) << 20},
    {"MB", INT64_C(1) << 20},
    {"MiB", INT64_C(1) << 20},
    {"G", INT64_C(1) << 30},
    {"GB", INT64_C(1) << 30},
    {"GiB", INT64_C(1) << 30},
    {"T", INT64_C(1) << 40},
    {"TB", INT64_C(1) << 40},
    {"TiB", INT64_C(1) << 40},
};

int
value_parse_size(const char *s, int64_t *bytes, char **err)
{
    char *t = value_trim(s);
    const char *p = t;
    int64_t n = 0;
    int digits = value_read_digits(&p, &n);
    const struct value_unit *unit = NULL;
    if (digits > 0) {
        p = value_skip_blanks(p);
        for (size_t i = 0; i < ARRAY_SIZE(value_size_units); i++) {
            if (strcasecmp(p, value_size_units[i].name) == 0) {
                unit = &value_size_units[i];
                break;
            }
        }
    }
    if (digits < 0 || (unit && n > INT64_MAX / unit->factor)) {
        *err = xasprintf("size '%s' is too large", t);
    } else if (t[0] == '-') {
        *err = xasprintf("size '%s' must not be negative", t);
    } else if (!unit) {
        *err = xasprintf("invalid size '%s' (use e.g. 1024, 10KB, 50MB, 1GB)", t);
    } else {
        *bytes = n * unit->factor;
        free(t);
        return 0;
    }
    free(t);
    return -1;
}

char *
value_format_size(int64_t bytes)
{
    static const struct value_unit units[] = {
        {"TB", INT64_C(1) << 40},
        {"GB", INT64_C(1) << 30},
        {"MB", INT64_C(1) << 20},
        {"KB", INT64_C(1) << 10},
    };
    for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
        if (bytes > 0 && bytes % units[i].factor == 0) {
            return xasprintf("%" PRId64 "%s", bytes / units[i].factor, units[i].name);
        }
    }
    return xasprintf("%" PRId64, bytes);
}

/* ---- booleans, integers, octal ---- */

int
value_parse_bool(const char *s, bool *b, char **err)
{
    static const char *const truths[] = {"true", "yes", "on", "1"};
    static const char *const lies[] = {"false", "no", "off", "0"};
    char *t = value_trim(s);
    for (size_t i = 0; i < ARRAY_SIZE(truths); i++) {
        if (strcasecmp(t, truths[i]) == 0 || strcasecmp(t, lies[i]) == 0) {
            *b = strcasecmp(t, truths[i]) == 0;
            free(t);
            return 0;
        }
    }
    *err = xasprintf("invalid boolean '%s' (use true/false, yes/no, on/off or 1/0)", t);
    free(t);
    return -1;
}

/* Strict decimal: optional sign, digits, nothing else. Returns 0, -1 (not a number) or
 * -2 (does not fit in a long). */
static int
value_read_long(const char *t, long *out)
{
    const char *digits = (t[0] == '+' || t[0] == '-') ? t + 1 : t;
    if (!value_is_digit(digits[0])) {
        return -1;
    }
    char *end;
    errno = 0;
    long v = strtol(t, &end, 10);
    if (*end != '\0') {
        return -1;
    }
    if (errno == ERANGE) {
        return -2;
    }
    *out = v;
    return 0;
}

int
value_parse_int(const char *s, long min, long max, long *out, char **err)
{
    char *t = value_trim(s);
    long v = 0;
    int r = value_read_long(t, &v);
    if (r == -1) {
        *err = xasprintf("invalid integer '%s'", t);
    } else if (r == -2 || v < min || v > max) {
        *err = xasprintf("%s is out of range (%ld..%ld)", t, min, max);
    } else {
        *out = v;
        free(t);
        return 0;
    }
    free(t);
    return -1;
}

int
value_parse_octal(const char *s, int *out, char **err)
{
    char *t = value_trim(s);
    const char *p = t;
    if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
        p += 2;
    }
    int v = 0;
    bool big = false;
    const char *q = p;
    while (*q >= '0' && *q <= '7') {
        /* Stop accumulating once too big, so long inputs cannot overflow. */
        if (!big) {
            v = v * 8 + (*q - '0');
            big = v > 0777;
        }
        q++;
    }
    if (q == p || *q != '\0') {
        *err = xasprintf("invalid octal mask '%s' (use e.g. 022)", t);
    } else if (big) {
        *err = xasprintf("octal mask '%s' is out of range (0..0777)", t);
    } else {
        *out = v;
        free(t);
        return 0;
    }
    free(t);
    return -1;
}

/* ---- signals ---- */

struct value_signal {
    const char *name;
    int number;
};

/* Linux numbering; aliases come after the name they stand for so signal_name() prints that. */
static const struct value_signal value_signals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},       {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},     {"BUS", SIGBUS},   {"FPE", SIGFPE},
    {"KILL", SIGKILL},     {"USR1", SIGUSR1},     {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},     {"TERM", SIGTERM},
#ifdef SIGSTKFLT
    {"STKFLT", SIGSTKFLT},
#endif
    {"CHLD", SIGCHLD},     {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},
#ifdef SIGPWR
    {"PWR", SIGPWR},
#endif
    {"SYS", SIGSYS},       {"IOT", SIGABRT},      {"POLL", SIGIO},
};

/* "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N"; 0 when name is none of them or out of range. */
static int
value_realtime_signal(const char *name)
{
    int base, sign;
    if (strncasecmp(name, "RTMIN", 5) == 0) {
        base = SIGRTMIN;
        sign = 1;
    } else if (strncasecmp(name, "RTMAX", 5) == 0) {
        base = SIGRTMAX;
        sign = -1;
    } else {
        return 0;
    }
    const char *p = name + 5;
    if (*p == '\0') {
        return base;
    }
    if (*p != (sign > 0 ? '+' : '-') || !value_is_digit(p[1])) {
        return 0;
    }
    p++;
    int64_t n;
    if (value_read_digits(&p, &n) < 0 || *p != '\0' || n > SIGRTMAX - SIGRTMIN) {
        return 0;
    }
    return base + sign * (int)n;
}

/* True when b is a with one pair of neighbouring letters swapped ("TREM", "TERM"): plain
 * Levenshtein counts that as two edits and would tie with "TRAP". */
static bool
value_is_transposition(const char *a, const char *b)
{
    size_t len = strlen(a);
    if (len != strlen(b)) {
        return false;
    }
    size_t i = 0;
    while (i < len && a[i] == b[i]) {
        i++;
    }
    return i + 1 < len && a[i] == b[i + 1] && a[i + 1] == b[i] && strcmp(a + i + 2, b + i + 2) == 0;
}

/* The closest known name within two edits, for "did you mean"; NULL if none is close. */
static const char *
value_signal_suggestion(const char *name)
{
    static const char *const realtime[] = {"RTMIN", "RTMAX"};
    const char *best = NULL;
    size_t best_distance = 3;
    for (size_t i = 0; i < ARRAY_SIZE(value_signals) + ARRAY_SIZE(realtime); i++) {
        const char *candidate = i < ARRAY_SIZE(value_signals)
                                    ? value_signals[i].name
                                    : realtime[i - ARRAY_SIZE(value_signals)];
        size_t d = value_is_transposition(name, candidate) ? 1 : levenshtein(name, candidate);
        if (d < best_distance) {
            best = candidate;
            best_distance = d;
        }
    }
    /* Two edits turn any one- or two-letter word into something: suggest only real near-misses. */
    if (best && best_distance >= strlen(name)) {
        return NULL;
    }
    return best;
}

int
value_parse_signal(const char *s, int *sig, char **err)
{
    char *t = value_trim(s);
    const char *name = t;
    if (strncasecmp(name, "SIG", 3) == 0) {
        name += 3;
    }
    if (value_is_digit(name[0])) {
        const char *p = name;
        int64_t n;
        if (value_read_digits(&p, &n) >= 0 && *p == '\0' && n >= 1 && n <= SIGRTMAX) {
            *sig = (int)n;
            free(t);
            return 0;
        }
        if (*p == '\0') {
            *err = xasprintf("signal %s is out of range (1..%d)", t, SIGRTMAX);
        } else {
            *err = xasprintf("unknown signal '%s'", t);
        }
        free(t);
        return -1;
    }
    for (size_t i = 0; i < ARRAY_SIZE(value_signals); i++) {
        if (strcasecmp(name, value_signals[i].name) == 0) {
            *sig = value_signals[i].number;
            free(t);
            return 0;
        }
    }
    int rt = value_realtime_signal(name);
    if (rt > 0) {
        *sig = rt;
        free(t);
        return 0;
    }
    char *upper = xstrdup(name);
    for (char *p = upper; *p; p++) {
        if (*p >= 'a' && *p <= 'z') {
            *p = (char)(*p - 'a' + 'A');
        }
    }
    const char *hint = name[0] ? value_signal_suggestion(upper) : NULL;
    if (hint) {
        *err = xasprintf("unknown signal '%s' (did you mean %s?)", t, hint);
    } else {
        *err = xasprintf("unknown signal '%s'", t);
    }
    free(upper);
    free(t);
    return -1;
}

const char *
signal_name(int sig)
{
    /* Shared by the two cases that need formatting; the next call overwrites it. */
    static char buf[32];
    for (size_t i = 0; i < ARRAY_SIZE(value_signals); i++) {
        if (value_signals[i].number == sig) {
            return value_signals[i].name;
        }
    }
    if (sig == SIGRTMIN) {
        return "RTMIN";
    }
    if (sig == SIGRTMAX) {
        return "RTMAX";
    }
    if (sig > SIGRTMIN && sig < SIGRTMAX) {
        snprintf(buf, sizeof(buf), "RTMIN+%d", sig - SIGRTMIN);
    } else {
        snprintf(buf, sizeof(buf), "%d", sig);
    }
    return buf;
}

/* ---- exit codes ---- */

int
value_parse_exitcodes(const char *s, struct exitcodes *out, char **err)
{
    char *t = value_trim(s);
    memset(out, 0, sizeof(*out));
    if (t[0] == '\0') {
        *err = xstrdup("empty exit code list (use e.g. 0 or 0,2)");
        free(t);
        return -1;
    }
    const char *p = t;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *raw = xstrndup(p, len);
        char *item = value_trim(raw);
        free(raw);
        long v = 0;
        int r = value_read_long(item, &v);
        if (item[0] == '\0') {
            *err = xasprintf("empty item in exit code list '%s'", t);
        } else if (r == -1) {
            *err = xasprintf("invalid exit code '%s' (use e.g. 0 or 0,2)", item);
        } else if (r == -2 || v < 0 || v > 255) {
            *err = xasprintf("exit code %s is out of range (0..255)", item);
        } else {
            out->bits[v / 8] |= (uint8_t)(1u << (v % 8));
        }
        free(item);
        if (r != 0 || v < 0 || v > 255) {
            memset(out, 0, sizeof(*out));
            free(t);
            return -1;
        }
        if (!comma) {
            break;
        }
        p = comma + 1;
    }
    free(t);
    return 0;
}

bool
exitcodes_has(const struct exitcodes *e, int code)
{
    if (code < 0 || code > 255) {
        return false;
    }
    return (e->bits[code / 8] >> (code % 8)) & 1;
}

char *
value_format_exitcodes(const struct exitcodes *e)
{
    struct strbuf sb;
    strbuf_init(&sb);
    for (int code = 0; code <= 255; code++) {
        if (exitcodes_has(e, code)) {
            strbuf_addf(&sb, "%s%d", sb.len ? "," : "", code);
        }
    }
    return strbuf_detach(&sb);
}

/* ---- commands ---- */

static bool
value_is_word_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

/* On error argv is freed (argv->v == NULL, n == 0), so a later strv_free() is harmless. */
int
value_split_command(const char *s, struct strv *argv, char **err)
{
    struct strbuf word;
    bool in_word = false;
    const char *p = s;
    strv_init(argv);
    strbuf_init(&word);
    while (*p) {
        char c = *p;
        if (value_is_word_blank(c)) {
            if (in_word) {
                /* an exact copy: the command lives as long as its program */
                strv_push(argv, word.buf ? word.buf : "");
                strbuf_reset(&word);
                in_word = false;
            }
            p++;
        } else if (c == '\\') {
            if (p[1] == '\0') {
                *err = xstrdup("trailing backslash in command");
                goto fail;
            }
            /* Backslash-newline continues the line and disappears, as in sh. */
            if (p[1] != '\n') {
                strbuf_addc(&word, p[1]);
                in_word = true;
            }
            p += 2;
        } else if (c == '\'') {
            const char *close = strchr(p + 1, '\'');
            if (!close) {
                *err = xstrdup("unterminated single quote in command");
                goto fail;
            }
            strbuf_add(&word, p + 1, (size_t)(close - p - 1));
            in_word = true;
            p = close + 1;
        } else if (c == '"') {
            p++;
            while (*p != '"') {
                if (*p == '\0') {
                    *err = xstrdup("unterminated double quote in command");
                    goto fail;
                }
                /* Inside double quotes a backslash escapes only \ " $ ` and newline. */
                if (*p == '\\' && p[1] && strchr("\\\"$`\n", p[1])) {
                    if (p[1] != '\n') {
                        strbuf_addc(&word, p[1]);
                    }
                    p += 2;
                } else {
                    strbuf_addc(&word, *p++);
                }
            }
            in_word = true;
            p++;
        } else {
            strbuf_addc(&word, c);
            in_word = true;
            p++;
        }
    }
    if (in_word) {
        strv_push(argv, word.buf ? word.buf : "");
    }
    strbuf_free(&word);
    if (argv->n == 0) {
        *err = xstrdup("empty command");
        goto fail;
    }
    return 0;
fail:
    strbuf_free(&word);
    strv_free(argv);
    return -1;
}

static bool
value_is_safe_word(const char *w)
{
    if (w[0] == '\0') {
        return false;
    }
    for (const char *p = w; *p; p++) {
        char c = *p;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || value_is_digit(c);
        if (!alnum && !strchr("_@%+=:,./-", c)) {
            return false;
        }
    }
    return true;
}

char *
value_join_command(const struct strv *argv)
{
    struct strbuf sb;
    strbuf_init(&sb);
    for (size_t i = 0; i < argv->n; i++) {
        const char *w = argv->v[i];
        if (i > 0) {
            strbuf_addc(&sb, ' ');
        }
        if (value_is_safe_word(w)) {
            strbuf_adds(&sb, w);
            continue;
        }
        strbuf_addc(&sb, '\'');
        for (const char *p = w; *p; p++) {
            if (*p == '\'') {
                strbuf_adds(&sb, "'\\''");
            } else {
                strbuf_addc(&sb, *p);
            }
        }
        strbuf_addc(&sb, '\'');
    }
    return strbuf_detach(&sb);
}

/* ---- environment ---- */

static bool
value_is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Validates a variable name of len bytes. */
static bool
value_is_env_name(const char *name, size_t len)
{
    if (len == 0 || !value_is_name_start(name[0])) {
        return false;
    }
    for (size_t i = 1; i < len; i++) {
        if (!value_is_name_start(name[i]) && !value_is_digit(name[i])) {
            return false;
        }
    }
    return true;
}

/* On error env is freed (env->v == NULL, n == 0), so a later strv_free() is harmless. */
int
value_parse_environment(const char *s, struct strv *env, char **err)
{
    const char *p = s;
    strv_init(env);
    for (;;) {
        /* Empty items (",," or a trailing comma) are skipped. */
        while (value_is_blank(*p) || *p == ',') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        const char *key = p;
        while (*p && *p != '=' && *p != ',') {
            p++;
        }
        size_t klen = (size_t)(p - key);
        while (klen > 0 && value_is_blank(key[klen - 1])) {
            klen--;
        }
        if (*p != '=') {
            *err = xasprintf("missing '=' after '%.*s' in environment", (int)klen, key);
            goto fail;
        }
        if (!value_is_env_name(key, klen)) {
            if (klen == 0) {
                *err = xstrdup("missing variable name before '=' in environment");
            } else {
                *err = xasprintf("invalid environment variable name '%.*s'", (int)klen, key);
            }
            goto fail;
        }
        p = value_skip_blanks(p + 1);
        const char *value;
        size_t vlen;
        if (*p == '"' || *p == '\'') {
            const char *close = strchr(p + 1, *p);
            if (!close) {
                *err = xasprintf("unterminated %s quote in the value of %.*s",
                                 *p == '"' ? "double" : "single", (int)klen, key);
                goto fail;
            }
            value = p + 1;
            vlen = (size_t)(close - value);
            p = value_skip_blanks(close + 1);
            if (*p != ',' && *p != '\0') {
                *err = xasprintf("unexpected text after the quoted value of %.*s", (int)klen, key);
                goto fail;
            }
        } else {
            value = p;
            while (*p && *p != ',') {
                p++;
            }
            vlen = (size_t)(p - value);
            while (vlen > 0 && value_is_blank(value[vlen - 1])) {
                vlen--;
            }
        }
        char *entry = xasprintf("%.*s=%.*s", (int)klen, key, (int)vlen, value);
        strv_setenv(env, entry);
        free(entry);
    }
    return 0;
fail:
    strv_free(env);
    return -1;
}

void
value_split_list(const char *s, struct strv *out)
{
    strv_init(out);
    const char *p = s;
    while (*p) {
        if (value_is_blank(*p) || *p == ',') {
            p++;
            continue;
        }
        const char *start = p;
        while (*p && !value_is_blank(*p) && *p != ',') {
            p++;
        }
        strv_push_owned(out, xstrndup(start, (size_t)(p - start)));
    }
}
