/* fuzz_values.c - the value parsers of the configuration (src/values.c), the expansions
 * (src/expand.c) and the JSON string escaper (src/json.c). Every input goes through every
 * parser; besides memory errors the harness checks their promises:
 *   - what a parser accepts, its printer prints as text that parses back to the same value
 *     (durations, sizes, signals, exit codes, commands);
 *   - value_join_command() quotes any list of words so that value_split_command() gives them
 *     back (the words are the input cut at \x01 bytes);
 *   - %-escaping a string and expanding it gives the string back;
 *   - json_escape() always writes one valid JSON string of valid UTF-8. */
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "expand.h"
#include "fuzz.h"
#include "json.h"
#include "util.h"
#include "values.h"

static void check_duration(const char *s)
{
    int64_t ms, again;
    char *err = NULL;
    if (value_parse_duration(s, &ms, &err) < 0) {
        FUZZ_ASSERT(err != NULL, "no message");
        free(err);
        return;
    }
    FUZZ_ASSERT(ms >= 0, "negative duration %lld from '%s'", (long long)ms, s);
    char *text = value_format_duration(ms);
    FUZZ_ASSERT(value_parse_duration(text, &again, &err) == 0,
                "'%s' (from '%s') does not parse: %s", text, s, err);
    FUZZ_ASSERT(again == ms, "'%s' -> %lld -> '%s' -> %lld", s, (long long)ms, text,
                (long long)again);
    free(text);
}

static void check_size(const char *s)
{
    int64_t n, again;
    char *err = NULL;
    if (value_parse_size(s, &n, &err) < 0) {
        FUZZ_ASSERT(err != NULL, "no message");
        free(err);
        return;
    }
    FUZZ_ASSERT(n >= 0, "negative size %lld from '%s'", (long long)n, s);
    char *text = value_format_size(n);
    FUZZ_ASSERT(value_parse_size(text, &again, &err) == 0, "'%s' (from '%s') does not parse: %s",
                text, s, err);
    FUZZ_ASSERT(again == n, "'%s' -> %lld -> '%s' -> %lld", s, (long long)n, text,
                (long long)again);
    free(text);
}

static void check_scalars(const char *s)
{
    bool b;
    long l;
    int i;
    char *err = NULL;
    if (value_parse_bool(s, &b, &err) < 0) {
        free(err);
    }
    if (value_parse_int(s, -100, 100, &l, &err) < 0) {
        free(err);
    } else {
        FUZZ_ASSERT(l >= -100 && l <= 100, "%ld out of bounds", l);
    }
    if (value_parse_int(s, LONG_MIN, LONG_MAX, &l, &err) < 0) {
        free(err);
    }
    if (value_parse_octal(s, &i, &err) < 0) {
        free(err);
    } else {
        FUZZ_ASSERT(i >= 0 && i <= 0777, "mask %o out of range from '%s'", (unsigned)i, s);
    }
}

static void check_signal(const char *s)
{
    int sig, again;
    char *err = NULL;
    if (value_parse_signal(s, &sig, &err) < 0) {
        FUZZ_ASSERT(err != NULL, "no message");
        free(err);
        return;
    }
    FUZZ_ASSERT(sig >= 1 && sig <= SIGRTMAX, "signal %d from '%s'", sig, s);
    const char *name = signal_name(sig);
    FUZZ_ASSERT(value_parse_signal(name, &again, &err) == 0, "'%s' (from '%s') does not parse: %s",
                name, s, err);
    FUZZ_ASSERT(again == sig, "'%s' -> %d -> '%s' -> %d", s, sig, name, again);
}

static void check_exitcodes(const char *s)
{
    struct exitcodes e, again;
    char *err = NULL;
    if (value_parse_exitcodes(s, &e, &err) < 0) {
        FUZZ_ASSERT(err != NULL, "no message");
        free(err);
        return;
    }
    char *text = value_format_exitcodes(&e);
    FUZZ_ASSERT(value_parse_exitcodes(text, &again, &err) == 0,
                "'%s' (from '%s') does not parse: %s", text, s, err);
    FUZZ_ASSERT(memcmp(&e, &again, sizeof(e)) == 0, "'%s' -> '%s' changes the set", s, text);
    free(text);
}

/* join(argv) splits back to argv */
static void check_join(const struct strv *argv, const char *from)
{
    struct strv again;
    char *err = NULL;
    char *text = value_join_command(argv);
    FUZZ_ASSERT(value_split_command(text, &again, &err) == 0,
                "joined '%s' (from '%s') does not split: %s", text, from, err);
    FUZZ_ASSERT(strv_equal(argv, &again), "'%s' -> join '%s' -> different words", from, text);
    strv_free(&again);
    free(text);
}

static void check_command(const char *s, const uint8_t *data, size_t size)
{
    struct strv argv;
    char *err = NULL;
    if (value_split_command(s, &argv, &err) < 0) {
        FUZZ_ASSERT(err != NULL && argv.n == 0, "no message, or words left");
        free(err);
    } else {
        FUZZ_ASSERT(argv.n > 0, "no word from '%s'", s);
        check_join(&argv, s);
        strv_free(&argv);
    }
    /* arbitrary words: the input cut at \x01 (a NUL cannot be in a word) */
    struct strv words;
    strv_init(&words);
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == 1) {
            char *w = xstrndup((const char *)data + start, i - start);
            strv_push_owned(&words, w);
            start = i + 1;
        }
    }
    check_join(&words, s);
    strv_free(&words);
}

static void check_environment(const char *s)
{
    struct strv env;
    char *err = NULL;
    if (value_parse_environment(s, &env, &err) < 0) {
        FUZZ_ASSERT(err != NULL && env.n == 0, "no message, or entries left");
        free(err);
        return;
    }
    for (size_t i = 0; i < env.n; i++) {
        const char *eq = strchr(env.v[i], '=');
        FUZZ_ASSERT(eq && eq > env.v[i], "entry '%s' has no name", env.v[i]);
        for (size_t j = 0; j < i; j++) {
            size_t n = (size_t)(eq - env.v[i]) + 1;
            FUZZ_ASSERT(strncmp(env.v[i], env.v[j], n) != 0, "'%.*s' twice", (int)n, env.v[i]);
        }
    }
    strv_free(&env);

    struct strv list;
    value_split_list(s, &list);
    for (size_t i = 0; i < list.n; i++) {
        FUZZ_ASSERT(list.v[i][0] && !strpbrk(list.v[i], " \t\r\n,"), "bad item '%s'", list.v[i]);
    }
    strv_free(&list);
}

static const char *lookup(void *ctx, const char *name)
{
    static const char *const vars[][2] = {
        {"program_name", "web"}, {"process_num", "3"},  {"group_name", "svc"},
        {"here", "/etc/tend"},   {"negative", "-12"},   {"empty", ""},
        {"big", "9223372036854775807"},
    };
    (void)ctx;
    for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
        if (strcmp(name, vars[i][0]) == 0) {
            return vars[i][1];
        }
    }
    return NULL;
}

static void check_expand(const char *s)
{
    char *out = NULL, *err = NULL;
    if (expand_string(s, lookup, NULL, &out, &err) < 0) {
        FUZZ_ASSERT(err != NULL && out == NULL, "no message");
        free(err);
    } else {
        FUZZ_ASSERT(out != NULL && err == NULL, "no result");
        free(out);
    }
    (void)expand_references(s, "process_num");
    /* a literal string written with %% expands to itself */
    struct strbuf esc;
    strbuf_init(&esc);
    for (const char *p = s; *p; p++) {
        strbuf_adds(&esc, *p == '%' ? "%%" : (char[]){*p, 0});
    }
    strbuf_addc(&esc, '\0');
    FUZZ_ASSERT(expand_string(esc.buf, lookup, NULL, &out, &err) == 0, "'%s' fails: %s", esc.buf,
                err);
    FUZZ_ASSERT(strcmp(out, s) == 0, "'%s' expands to '%s'", esc.buf, out);
    free(out);
    strbuf_free(&esc);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 when there is none. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (p[0] < 0x80) {
        return 1;
    } else if ((p[0] & 0xE0) == 0xC0) {
        len = 2, min = 0x80, cp = p[0] & 0x1Fu;
    } else if ((p[0] & 0xF0) == 0xE0) {
        len = 3, min = 0x800, cp = p[0] & 0x0Fu;
    } else if ((p[0] & 0xF8) == 0xF0) {
        len = 4, min = 0x10000, cp = p[0] & 0x07u;
    } else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = cp << 6 | (p[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return len;
}

static void check_json(const uint8_t *data, size_t size)
{
    struct strbuf sb;
    strbuf_init(&sb);
    json_escape(&sb, (const char *)data, size);
    const unsigned char *o = (const unsigned char *)sb.buf;
    FUZZ_ASSERT(sb.len >= 2 && o[0] == '"' && o[sb.len - 1] == '"', "not a quoted string");
    for (size_t i = 1; i + 1 < sb.len;) {
        FUZZ_ASSERT(o[i] >= 0x20 && o[i] != '"', "raw byte 0x%02x at %zu", o[i], i);
        if (o[i] == '\\') {
            FUZZ_ASSERT(i + 2 < sb.len && strchr("\"\\/bfnrtu", o[i + 1]), "bad escape at %zu", i);
            if (o[i + 1] == 'u') {
                FUZZ_ASSERT(i + 6 < sb.len, "short \\u escape at %zu", i);
                for (size_t k = 2; k < 6; k++) {
                    FUZZ_ASSERT(strchr("0123456789abcdefABCDEF", o[i + k]), "bad \\u at %zu", i);
                }
                i += 6;
            } else {
                i += 2;
            }
            continue;
        }
        size_t n = utf8_len(o + i, sb.len - 1 - i);
        FUZZ_ASSERT(n > 0, "invalid UTF-8 at %zu", i);
        i += n;
    }
    strbuf_free(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) {
        return 0;
    }
    char *s = xstrndup((const char *)data, size); /* up to the first NUL */
    check_duration(s);
    check_size(s);
    check_scalars(s);
    check_signal(s);
    check_exitcodes(s);
    check_command(s, data, size);
    check_environment(s);
    check_expand(s);
    check_json(data, size);
    free(s);
    return 0;
}
