/* test_values.c - unit tests for values.c (every parser and printer, round trips) and json.c
 * (comma handling, pretty printing, escaping of control bytes and invalid UTF-8). */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"
#include "values.h"

/* ---- helpers: each checks one value and counts as one TAP test ---- */

/* A printable copy of s for a TAP description: a raw newline would end the TAP line and '#'
 * could read as a directive. Eight rotating buffers, so one printf can show several values. */
static const char *
test_show(const char *s)
{
    static char bufs[8][160];
    static unsigned next;
    char *out = bufs[next++ % 8];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n < 150; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '#') {
            n += (size_t)snprintf(out + n, 160 - n, "\\x%02x", *p);
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n] = '\0';
    return out;
}

/* An error must be set, non-empty, without a trailing period or newline. */
static bool
test_good_message(const char *err)
{
    size_t len = err ? strlen(err) : 0;
    return len > 0 && err[len - 1] != '.' && err[len - 1] != '\n';
}

static void
duration_ok(const char *s, int64_t want)
{
    int64_t got = -1;
    char *err = NULL;
    int r = value_parse_duration(s, &got, &err);
    TAP_OK(r == 0 && got == want, "duration '%s' = %" PRId64 " ms (got %" PRId64 ", %s)",
           test_show(s), want, got, err ? err : "no error");
    free(err);
}

static void
duration_bad(const char *s, const char *want_err)
{
    int64_t got = 12345;
    char *err = NULL;
    int r = value_parse_duration(s, &got, &err);
    bool ok = r == -1 && test_good_message(err) && got == 12345;
    if (want_err) {
        ok = ok && strcmp(err, want_err) == 0;
    }
    TAP_OK(ok, "duration '%s' rejected: %s", test_show(s), err ? err : "(no error)");
    free(err);
}

static void
size_ok(const char *s, int64_t want)
{
    int64_t got = -1;
    char *err = NULL;
    int r = value_parse_size(s, &got, &err);
    TAP_OK(r == 0 && got == want, "size '%s' = %" PRId64 " (got %" PRId64 ", %s)", test_show(s),
           want, got, err ? err : "no error");
    free(err);
}

static void
size_bad(const char *s)
{
    int64_t got = 12345;
    char *err = NULL;
    int r = value_parse_size(s, &got, &err);
    TAP_OK(r == -1 && test_good_message(err) && got == 12345, "size '%s' rejected: %s",
           test_show(s), err ? err : "(no error)");
    free(err);
}

static void
bool_ok(const char *s, bool want)
{
    bool got = !want;
    char *err = NULL;
    int r = value_parse_bool(s, &got, &err);
    TAP_OK(r == 0 && got == want, "bool '%s' = %d", test_show(s), want);
    free(err);
}

static void
bool_bad(const char *s)
{
    bool got = false;
    char *err = NULL;
    int r = value_parse_bool(s, &got, &err);
    TAP_OK(r == -1 && test_good_message(err), "bool '%s' rejected: %s", test_show(s),
           err ? err : "(none)");
    free(err);
}

static void
int_ok(const char *s, long min, long max, long want)
{
    long got = ~want;
    char *err = NULL;
    int r = value_parse_int(s, min, max, &got, &err);
    TAP_OK(r == 0 && got == want, "int '%s' in %ld..%ld = %ld (got %ld)", test_show(s), min, max,
           want, got);
    free(err);
}

static void
int_bad(const char *s, long min, long max, const char *want_err)
{
    long got = 777;
    char *err = NULL;
    int r = value_parse_int(s, min, max, &got, &err);
    bool ok = r == -1 && test_good_message(err) && got == 777;
    if (want_err) {
        ok = ok && strcmp(err, want_err) == 0;
    }
    TAP_OK(ok, "int '%s' in %ld..%ld rejected: %s", test_show(s), min, max, err ? err : "(none)");
    free(err);
}

static void
octal_ok(const char *s, int want)
{
    int got = -1;
    char *err = NULL;
    int r = value_parse_octal(s, &got, &err);
    TAP_OK(r == 0 && got == want, "octal '%s' = 0%o (got 0%o)", test_show(s), (unsigned)want,
           (unsigned)got);
    free(err);
}

static void
octal_bad(const char *s)
{
    int got = 7;
    char *err = NULL;
    int r = value_parse_octal(s, &got, &err);
    TAP_OK(r == -1 && test_good_message(err) && got == 7, "octal '%s' rejected: %s", test_show(s),
           err ? err : "(none)");
    free(err);
}

static void
signal_ok(const char *s, int want)
{
    int got = -1;
    char *err = NULL;
    int r = value_parse_signal(s, &got, &err);
    TAP_OK(r == 0 && got == want, "signal '%s' = %d (got %d)", test_show(s), want, got);
    free(err);
}

static void
signal_bad(const char *s, const char *want_err)
{
    int got = -1;
    char *err = NULL;
    int r = value_parse_signal(s, &got, &err);
    bool ok = r == -1 && test_good_message(err) && got == -1;
    if (want_err) {
        ok = ok && strcmp(err, want_err) == 0;
    }
    TAP_OK(ok, "signal '%s' rejected: %s", test_show(s), err ? err : "(none)");
    free(err);
}

static void
exitcodes_ok(const char *s, const char *want_text)
{
    struct exitcodes e;
    char *err = NULL;
    int r = value_parse_exitcodes(s, &e, &err);
    char *text = r == 0 ? value_format_exitcodes(&e) : NULL;
    TAP_OK(r == 0 && text && strcmp(text, want_text) == 0, "exitcodes '%s' -> '%s' (got '%s')",
           test_show(s), want_text, text ? text : err);
    free(text);
    free(err);
}

static void
exitcodes_bad(const char *s)
{
    struct exitcodes e;
    char *err = NULL;
    int r = value_parse_exitcodes(s, &e, &err);
    TAP_OK(r == -1 && test_good_message(err), "exitcodes '%s' rejected: %s", test_show(s),
           err ? err : "(none)");
    free(err);
}

/* Joins argv with '|' so a mismatch shows word boundaries in the TAP output. */
static char *
test_show_words(const struct strv *sv)
{
    struct strbuf sb;
    strbuf_init(&sb);
    for (size_t i = 0; i < sv->n; i++) {
        strbuf_addf(&sb, "%s[%s]", i ? "|" : "", sv->v[i]);
    }
    return strbuf_detach(&sb);
}

static bool
test_words_equal(const struct strv *sv, const char *const *want)
{
    size_t n = 0;
    while (want[n]) {
        n++;
    }
    if (sv->n != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(sv->v[i], want[i]) != 0) {
            return false;
        }
    }
    return sv->v[n] == NULL;
}

#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void
split_ok(const char *s, const char *const *want)
{
    struct strv argv;
    char *err = NULL;
    int r = value_split_command(s, &argv, &err);
    char *shown = r == 0 ? test_show_words(&argv) : NULL;
    TAP_OK(r == 0 && test_words_equal(&argv, want), "split '%s' -> %s", test_show(s),
           test_show(shown ? shown : err));
    free(shown);
    free(err);
    strv_free(&argv);
}

static void
split_bad(const char *s, const char *want_err)
{
    struct strv argv;
    char *err = NULL;
    int r = value_split_command(s, &argv, &err);
    bool ok = r == -1 && test_good_message(err) && argv.v == NULL && argv.n == 0;
    if (want_err) {
        ok = ok && strcmp(err, want_err) == 0;
    }
    TAP_OK(ok, "split '%s' rejected: %s", test_show(s), err ? err : "(none)");
    free(err);
    strv_free(&argv); /* documented as harmless after an error */
}

static void
join_ok(const char *const *words, const char *want)
{
    struct strv argv;
    strv_init(&argv);
    for (size_t i = 0; words[i]; i++) {
        strv_push(&argv, words[i]);
    }
    char *got = value_join_command(&argv);
    TAP_STREQ(got, want, "join -> %s", test_show(want));
    free(got);
    strv_free(&argv);
}

static void
env_ok(const char *s, const char *const *want)
{
    struct strv env;
    char *err = NULL;
    int r = value_parse_environment(s, &env, &err);
    char *shown = r == 0 ? test_show_words(&env) : NULL;
    TAP_OK(r == 0 && test_words_equal(&env, want), "environment '%s' -> %s", test_show(s),
           test_show(shown ? shown : err));
    free(shown);
    free(err);
    strv_free(&env);
}

static void
env_bad(const char *s)
{
    struct strv env;
    char *err = NULL;
    int r = value_parse_environment(s, &env, &err);
    TAP_OK(r == -1 && test_good_message(err) && env.v == NULL, "environment '%s' rejected: %s",
           test_show(s), err ? err : "(none)");
    free(err);
    strv_free(&env);
}

static void
list_ok(const char *s, const char *const *want)
{
    struct strv out;
    value_split_list(s, &out);
    char *shown = test_show_words(&out);
    TAP_OK(test_words_equal(&out, want), "list '%s' -> %s", test_show(s), test_show(shown));
    free(shown);
    strv_free(&out);
}

static void
escape_ok(const char *s, size_t n, const char *want, const char *what)
{
    struct strbuf sb;
    strbuf_init(&sb);
    json_escape(&sb, s, n);
    TAP_STREQ(sb.buf, want, "json_escape: %s", what);
    strbuf_free(&sb);
}

/* A deterministic generator so a failing round trip can be reproduced. */
static uint64_t test_rng = 0x9e3779b97f4a7c15u;

static uint32_t
test_random(void)
{
    test_rng ^= test_rng << 13;
    test_rng ^= test_rng >> 7;
    test_rng ^= test_rng << 17;
    return (uint32_t)(test_rng >> 16);
}

/* True when s is well-formed UTF-8 with no raw control bytes: what JSON output must be. */
static bool
test_is_clean_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x20 || *p == 0x7f) {
            return false;
        }
        /* Decode independently of json.c: lead byte gives the length, then check the value. */
        size_t len;
        uint32_t cp;
        if (*p < 0x80) {
            len = 1;
            cp = *p;
        } else if (*p >= 0xc0 && *p < 0xe0) {
            len = 2;
            cp = *p & 0x1fu;
        } else if (*p >= 0xe0 && *p < 0xf0) {
            len = 3;
            cp = *p & 0x0fu;
        } else if (*p >= 0xf0 && *p < 0xf8) {
            len = 4;
            cp = *p & 0x07u;
        } else {
            return false;
        }
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[i] & 0x3fu);
        }
        static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        p += len;
    }
    return true;
}

/* ---- the tests ---- */

static void
test_durations(void)
{
    duration_ok("0", 0);
    duration_ok("10", 10000);
    duration_ok("  10\t\n", 10000);
    duration_ok("1.5", 1500);
    duration_ok("0.25s", 250);
    duration_ok("0.001", 1);
    duration_ok("1.500000000000", 1500);
    duration_ok("500ms", 500);
    duration_ok("500MS", 500);
    duration_ok("2s", 2000);
    duration_ok("2S", 2000);
    duration_ok("1m", 60000);
    duration_ok("1M", 60000);
    duration_ok("1.5m", 90000);
    duration_ok("1h", 3600000);
    duration_ok("1H", 3600000);
    duration_ok("1m30s", 90000);
    duration_ok("1h30m", 5400000);
    duration_ok("1h1m1s", 3661000);
    duration_ok("1h 1m 1s 1ms", 3661001);
    duration_ok("10 s", 10000);
    duration_ok("0ms", 0);
    duration_ok("0.5h", 1800000);
    duration_ok("9223372036854775807ms", INT64_MAX);
    duration_ok("9223372036854775s", INT64_C(9223372036854775000));
    duration_ok("2562047788015h", INT64_C(2562047788015) * 3600000);

    duration_bad("", "invalid duration '' (use e.g. 10, 500ms, 2s, 1m)");
    duration_bad("   ", NULL);
    duration_bad("abc", "invalid duration 'abc' (use e.g. 10, 500ms, 2s, 1m)");
    duration_bad("-5", "duration '-5' must not be negative");
    duration_bad("-1s", NULL);
    duration_bad("+5", NULL);
    duration_bad("10x", NULL);
    duration_bad("10sec", NULL);
    duration_bad("s", NULL);
    duration_bad("1.", NULL);
    duration_bad(".5", NULL);
    duration_bad("1..5", NULL);
    duration_bad("1m30", NULL);
    duration_bad("30s1m", NULL);
    duration_bad("1s1s", NULL);
    duration_bad("1ms500", NULL);
    duration_bad("1 2", NULL);
    duration_bad("0x10", NULL);
    duration_bad("0.0001", "duration '0.0001' is finer than a millisecond");
    duration_bad("1.5ms", NULL);
    duration_bad("0.1234567891s", NULL);
    duration_bad("9223372036854775808ms", "duration '9223372036854775808ms' is too large");
    duration_bad("9223372036854776s", NULL);
    duration_bad("99999999999999999999999", NULL);
    duration_bad("2562047788016h", NULL);
    duration_bad("2562047788015h1h", NULL);
    duration_bad("2562047788015h59m", NULL);

    static const struct {
        int64_t ms;
        const char *text;
    } formats[] = {
        {0, "0"},          {1, "1ms"},         {500, "500ms"},
        {999, "999ms"},    {1000, "1s"},       {1500, "1500ms"},
        {2000, "2s"},      {59000, "59s"},     {60000, "1m"},
        {61000, "1m1s"},   {90000, "1m30s"},   {3600000, "1h"},
        {3601000, "1h1s"}, {5400000, "1h30m"}, {3661000, "1h1m1s"},
        {86400000, "24h"}, {90500, "90500ms"}, {INT64_MAX, "9223372036854775807ms"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
        char *text = value_format_duration(formats[i].ms);
        TAP_STREQ(text, formats[i].text, "format duration %" PRId64, formats[i].ms);
        free(text);
    }

    /* parse(format(x)) == x over small values, unit boundaries and large random ones. */
    int failures = 0;
    for (int i = 0; i < 4000; i++) {
        int64_t ms;
        if (i < 1000) {
            ms = i * 997;
        } else if (i < 2000) {
            ms = (int64_t)(i - 1000) * 60000 + (i % 3 == 0 ? 1000 : 0);
        } else if (i < 3000) {
            ms = (int64_t)(((uint64_t)test_random() << 31 | test_random()) % (INT64_MAX / 2));
        } else {
            ms = INT64_MAX - (i - 3000) * (i % 2 ? 1 : 1000) - (INT64_MAX % 1000);
        }
        char *text = value_format_duration(ms);
        int64_t back = -1;
        char *err = NULL;
        if (value_parse_duration(text, &back, &err) != 0 || back != ms) {
            if (failures++ < 5) {
                printf("# duration round trip: %" PRId64 " -> '%s' -> %" PRId64 " %s\n", ms, text,
                       back, err ? err : "");
            }
        }
        free(err);
        free(text);
    }
    TAP_OK(failures == 0, "duration round trip over 4000 values (%d failures)", failures);
}

static void
test_sizes(void)
{
    size_ok("0", 0);
    size_ok("1024", 1024);
    size_ok(" 1024 ", 1024);
    size_ok("1B", 1);
    size_ok("10KB", 10240);
    size_ok("10kb", 10240);
    size_ok("10K", 10240);
    size_ok("10k", 10240);
    size_ok("10KiB", 10240);
    size_ok("10kib", 10240);
    size_ok("10 KB", 10240);
    size_ok("10\tMB", 10 * 1048576);
    size_ok("50MB", 52428800);
    size_ok("50M", 52428800);
    size_ok("50MiB", 52428800);
    size_ok("1GB", 1073741824);
    size_ok("1g", 1073741824);
    size_ok("1GiB", 1073741824);
    size_ok("2TB", INT64_C(2) << 40);
    size_ok("2T", INT64_C(2) << 40);
    size_ok("2tib", INT64_C(2) << 40);
    size_ok("9223372036854775807", INT64_MAX);
    size_ok("8388607TB", INT64_C(8388607) << 40);

    size_bad("");
    size_bad("MB");
    size_bad("-1");
    size_bad("-1MB");
    size_bad("+1");
    size_bad("1.5MB");
    size_bad("10XB");
    size_bad("10 K B");
    size_bad("10KBs");
    size_bad("1PB");
    size_bad("9223372036854775808");
    size_bad("8388608TB");
    size_bad("9007199254740992KB");

    char *err = NULL;
    int64_t got = 0;
    value_parse_size("-1", &got, &err);
    TAP_STREQ(err, "size '-1' must not be negative", "negative size message");
    free(err);
    err = NULL;
    value_parse_size("abc", &got, &err);
    TAP_STREQ(err, "invalid size 'abc' (use e.g. 1024, 10KB, 50MB, 1GB)", "invalid size message");
    free(err);

    static const struct {
        int64_t bytes;
        const char *text;
    } formats[] = {
        {0, "0"},
        {1, "1"},
        {1000, "1000"},
        {1023, "1023"},
        {1024, "1KB"},
        {1536, "1536"},
        {10240, "10KB"},
        {52428800, "50MB"},
        {1048576, "1MB"},
        {1073741824, "1GB"},
        {INT64_C(3) << 40, "3TB"},
        {(INT64_C(1) << 40) + 1024, "1073741825KB"},
        {INT64_MAX, "9223372036854775807"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
        char *text = value_format_size(formats[i].bytes);
        TAP_STREQ(text, formats[i].text, "format size %" PRId64, formats[i].bytes);
        free(text);
    }

    int failures = 0;
    for (int i = 0; i < 3000; i++) {
        int64_t bytes;
        if (i < 1000) {
            bytes = (int64_t)i * 512;
        } else if (i < 2000) {
            bytes = (int64_t)(((uint64_t)test_random() << 31 | test_random()) % (INT64_MAX / 4));
        } else {
            bytes = (int64_t)((uint64_t)test_random() << (i % 31));
        }
        char *text = value_format_size(bytes);
        int64_t back = -1;
        char *e = NULL;
        if (value_parse_size(text, &back, &e) != 0 || back != bytes) {
            if (failures++ < 5) {
                printf("# size round trip: %" PRId64 " -> '%s' -> %" PRId64 "\n", bytes, text,
                       back);
            }
        }
        free(e);
        free(text);
    }
    TAP_OK(failures == 0, "size round trip over 3000 values (%d failures)", failures);
}

static void
test_bools(void)
{
    const char *truths[] = {"true", "TRUE", "True", "yes", "YES", "on", "On", "1", " true\n"};
    const char *lies[] = {"false", "FALSE", "no", "No", "off", "OFF", "0", "\tno "};
    for (size_t i = 0; i < ARRAY_SIZE(truths); i++) {
        bool_ok(truths[i], true);
    }
    for (size_t i = 0; i < ARRAY_SIZE(lies); i++) {
        bool_ok(lies[i], false);
    }
    bool_bad("");
    bool_bad("maybe");
    bool_bad("2");
    bool_bad("yess");
    bool_bad("t");
    bool_bad("true false");
    char *err = NULL;
    bool b;
    value_parse_bool("maybe", &b, &err);
    TAP_STREQ(err, "invalid boolean 'maybe' (use true/false, yes/no, on/off or 1/0)",
              "invalid boolean message");
    free(err);
}

static void
test_ints(void)
{
    int_ok("0", 0, 10, 0);
    int_ok("10", 0, 10, 10);
    int_ok(" 7 ", 0, 10, 7);
    int_ok("+7", 0, 10, 7);
    int_ok("-3", -5, 5, -3);
    int_ok("-5", -5, 5, -5);
    int_ok("007", 0, 10, 7);
    int_ok("9223372036854775807", 0, LONG_MAX, LONG_MAX);
    int_ok("-9223372036854775808", LONG_MIN, 0, LONG_MIN);

    int_bad("11", 0, 10, "11 is out of range (0..10)");
    int_bad("-1", 0, 10, "-1 is out of range (0..10)");
    int_bad("-6", -5, 5, NULL);
    int_bad("9223372036854775808", 0, LONG_MAX, NULL);
    int_bad("99999999999999999999", 0, 10, "99999999999999999999 is out of range (0..10)");
    int_bad("", 0, 10, NULL);
    int_bad("abc", 0, 10, "invalid integer 'abc'");
    int_bad("10abc", 0, 100, NULL);
    int_bad("1 0", 0, 100, NULL);
    int_bad("0x10", 0, 100, NULL);
    int_bad("1.0", 0, 100, NULL);
    int_bad("+", 0, 100, NULL);
    int_bad("-", 0, 100, NULL);
    int_bad("+-1", -10, 100, NULL);
    int_bad("- 1", -10, 100, NULL);
}

static void
test_octals(void)
{
    octal_ok("022", 022);
    octal_ok("0022", 022);
    octal_ok("0o022", 022);
    octal_ok("0O22", 022);
    octal_ok("22", 022);
    octal_ok("0", 0);
    octal_ok("000", 0);
    octal_ok("777", 0777);
    octal_ok("0777", 0777);
    octal_ok(" 077\n", 077);
    octal_ok("00000000000000000000000022", 022);

    octal_bad("");
    octal_bad("0o");
    octal_bad("8");
    octal_bad("029");
    octal_bad("1000");
    octal_bad("7777");
    octal_bad("77777777777777777777777777");
    octal_bad("-022");
    octal_bad("0x22");
    octal_bad("22a");
    octal_bad("0o0o22");
}

static void
test_signals(void)
{
    signal_ok("TERM", SIGTERM);
    signal_ok("SIGTERM", SIGTERM);
    signal_ok("term", SIGTERM);
    signal_ok("sigterm", SIGTERM);
    signal_ok("SigTerm", SIGTERM);
    signal_ok(" HUP ", SIGHUP);
    signal_ok("15", 15);
    signal_ok("1", 1);
    signal_ok("64", 64);
    signal_ok("KILL", 9);
    signal_ok("USR1", SIGUSR1);
    signal_ok("usr2", SIGUSR2);
    signal_ok("IOT", SIGABRT);
    signal_ok("POLL", SIGIO);
    signal_ok("IO", SIGIO);
    signal_ok("STKFLT", 16);
    signal_ok("PWR", 30);
    signal_ok("SYS", 31);
    signal_ok("WINCH", SIGWINCH);
    signal_ok("RTMIN", SIGRTMIN);
    signal_ok("SIGRTMIN", SIGRTMIN);
    signal_ok("rtmin+3", SIGRTMIN + 3);
    signal_ok("RTMAX", SIGRTMAX);
    signal_ok("RTMAX-2", SIGRTMAX - 2);
    char top[32];
    snprintf(top, sizeof(top), "RTMIN+%d", SIGRTMAX - SIGRTMIN);
    signal_ok(top, SIGRTMAX);

    signal_bad("", NULL);
    signal_bad("0", "signal 0 is out of range (1..64)");
    signal_bad("65", NULL);
    signal_bad("99999999999999999999999", NULL);
    signal_bad("-1", NULL);
    signal_bad("15x", NULL);
    signal_bad("TREM", "unknown signal 'TREM' (did you mean TERM?)");
    signal_bad("SIGKIL", "unknown signal 'SIGKIL' (did you mean KILL?)");
    signal_bad("usr3", "unknown signal 'usr3' (did you mean USR1?)");
    signal_bad("FOOBAR", "unknown signal 'FOOBAR'");
    signal_bad("X", "unknown signal 'X'");
    signal_bad("SIG", NULL);
    signal_bad("SIG TERM", NULL);
    signal_bad("RTMIN-1", NULL);
    signal_bad("RTMAX+1", NULL);
    signal_bad("RTMIN+", NULL);
    signal_bad("RTMIN+99", NULL);
    signal_bad("RTMAX-99", NULL);
    signal_bad("RTMIN+1x", NULL);

    TAP_STREQ(signal_name(SIGTERM), "TERM", "signal_name(15)");
    TAP_STREQ(signal_name(SIGKILL), "KILL", "signal_name(9)");
    TAP_STREQ(signal_name(SIGABRT), "ABRT", "signal_name(ABRT) is not IOT");
    TAP_STREQ(signal_name(SIGIO), "IO", "signal_name(IO) is not POLL");
    TAP_STREQ(signal_name(SIGRTMIN), "RTMIN", "signal_name(RTMIN)");
    TAP_STREQ(signal_name(SIGRTMIN + 3), "RTMIN+3", "signal_name(RTMIN+3)");
    TAP_STREQ(signal_name(SIGRTMAX), "RTMAX", "signal_name(RTMAX)");
    TAP_STREQ(signal_name(0), "0", "signal_name(0) as a number");
    TAP_STREQ(signal_name(200), "200", "signal_name(200) as a number");
    TAP_STREQ(signal_name(-3), "-3", "signal_name(-3) as a number");

    /* Every signal's name parses back to it (32 and 33 are glibc's, printed as numbers). */
    int failures = 0;
    for (int sig = 1; sig <= SIGRTMAX; sig++) {
        char name[32];
        snprintf(name, sizeof(name), "%s", signal_name(sig));
        int back = -1;
        char *err = NULL;
        if (value_parse_signal(name, &back, &err) != 0 || back != sig) {
            failures++;
            printf("# signal %d -> '%s' -> %d %s\n", sig, name, back, err ? err : "");
        }
        free(err);
    }
    TAP_OK(failures == 0, "signal_name round trip 1..%d (%d failures)", SIGRTMAX, failures);
}

static void
test_exitcodes(void)
{
    exitcodes_ok("0", "0");
    exitcodes_ok("0,2", "0,2");
    exitcodes_ok("2,0", "0,2");
    exitcodes_ok(" 2 , 0 ", "0,2");
    exitcodes_ok("1,1,1", "1");
    exitcodes_ok("255", "255");
    exitcodes_ok("0,1,2,3,4,5,6,7,8,9,128,255", "0,1,2,3,4,5,6,7,8,9,128,255");
    exitcodes_ok("007", "7");

    exitcodes_bad("");
    exitcodes_bad("   ");
    exitcodes_bad(",");
    exitcodes_bad("0,");
    exitcodes_bad(",0");
    exitcodes_bad("0,,2");
    exitcodes_bad("256");
    exitcodes_bad("-1");
    exitcodes_bad("0 2");
    exitcodes_bad("a");
    exitcodes_bad("0;2");
    exitcodes_bad("99999999999999999999999");

    struct exitcodes e;
    char *err = NULL;
    value_parse_exitcodes("256", &e, &err);
    TAP_STREQ(err, "exit code 256 is out of range (0..255)", "exit code range message");
    free(err);

    err = NULL;
    int r = value_parse_exitcodes("0,2,255", &e, &err);
    TAP_OK(r == 0 && exitcodes_has(&e, 0) && exitcodes_has(&e, 2) && exitcodes_has(&e, 255) &&
               !exitcodes_has(&e, 1) && !exitcodes_has(&e, 254) && !exitcodes_has(&e, -1) &&
               !exitcodes_has(&e, 256) && !exitcodes_has(&e, 512),
           "exitcodes_has");
    free(err);

    /* All 256 codes at once, and format then parse for sets of random codes. */
    struct strbuf sb;
    strbuf_init(&sb);
    for (int i = 255; i >= 0; i--) {
        strbuf_addf(&sb, "%d%s", i, i ? ", " : "");
    }
    err = NULL;
    r = value_parse_exitcodes(sb.buf, &e, &err);
    int count = 0;
    for (int i = 0; i < 256; i++) {
        count += exitcodes_has(&e, i);
    }
    TAP_OK(r == 0 && count == 256, "all 256 exit codes");
    strbuf_free(&sb);
    free(err);

    int failures = 0;
    for (int round = 0; round < 200; round++) {
        struct exitcodes want;
        memset(&want, 0, sizeof(want));
        int n = 1 + (int)(test_random() % 20);
        for (int k = 0; k < n; k++) {
            int code = (int)(test_random() % 256);
            want.bits[code / 8] |= (uint8_t)(1u << (code % 8));
        }
        char *text = value_format_exitcodes(&want);
        struct exitcodes back;
        char *e2 = NULL;
        if (value_parse_exitcodes(text, &back, &e2) != 0 || memcmp(&back, &want, sizeof(want))) {
            failures++;
        }
        free(e2);
        free(text);
    }
    TAP_OK(failures == 0, "exitcodes round trip (%d failures)", failures);
}

static void
test_split_command(void)
{
    split_ok("ls", WORDS("ls"));
    split_ok("ls -l /tmp", WORDS("ls", "-l", "/tmp"));
    split_ok("  ls \t -l\n/tmp  ", WORDS("ls", "-l", "/tmp"));
    split_ok("echo 'a b'", WORDS("echo", "a b"));
    split_ok("echo \"a b\"", WORDS("echo", "a b"));
    split_ok("echo 'a \"b\" c'", WORDS("echo", "a \"b\" c"));
    split_ok("echo \"it's\"", WORDS("echo", "it's"));
    split_ok("echo 'a\\nb'", WORDS("echo", "a\\nb"));
    split_ok("echo '$HOME' \"$HOME\" $HOME", WORDS("echo", "$HOME", "$HOME", "$HOME"));
    split_ok("echo * ? [a] ~ | ; && > <",
             WORDS("echo", "*", "?", "[a]", "~", "|", ";", "&&", ">", "<"));
    split_ok("\"a\"'b'c", WORDS("abc"));
    split_ok("a\"b c\"d", WORDS("ab cd"));
    split_ok("echo \"\"", WORDS("echo", ""));
    split_ok("echo ''", WORDS("echo", ""));
    split_ok("echo '' x", WORDS("echo", "", "x"));
    split_ok("\"\"", WORDS(""));
    split_ok("''\"\"", WORDS(""));
    split_ok("echo a\\ b", WORDS("echo", "a b"));
    split_ok("echo \\'x\\'", WORDS("echo", "'x'"));
    split_ok("echo \\\"", WORDS("echo", "\""));
    split_ok("echo \\\\", WORDS("echo", "\\"));
    split_ok("echo \\a", WORDS("echo", "a"));
    split_ok("echo a\\\nb", WORDS("echo", "ab"));
    split_ok("echo a \\\n b", WORDS("echo", "a", "b"));
    split_ok("echo \\\n", WORDS("echo"));
    split_ok("echo \"a\\\"b\"", WORDS("echo", "a\"b"));
    split_ok("echo \"a\\\\b\"", WORDS("echo", "a\\b"));
    split_ok("echo \"\\$x \\`y\\`\"", WORDS("echo", "$x `y`"));
    split_ok("echo \"a\\nb\"", WORDS("echo", "a\\nb"));
    split_ok("echo \"a\\'b\"", WORDS("echo", "a\\'b"));
    split_ok("echo \"a\\\nb\"", WORDS("echo", "ab"));
    split_ok("echo \"a\nb\"", WORDS("echo", "a\nb"));
    split_ok("echo 'a\nb'", WORDS("echo", "a\nb"));
    split_ok("echo 'a\\'", WORDS("echo", "a\\"));
    split_ok("sh -c 'echo \"hi there\"; exit 3'", WORDS("sh", "-c", "echo \"hi there\"; exit 3"));
    split_ok("caf\xc3\xa9 \xe2\x82\xac", WORDS("caf\xc3\xa9", "\xe2\x82\xac"));

    split_bad("", "empty command");
    split_bad("   \t\n ", "empty command");
    split_bad("\\\n", "empty command");
    split_bad("echo 'abc", "unterminated single quote in command");
    split_bad("echo \"abc", "unterminated double quote in command");
    split_bad("echo \"abc\\\"", NULL);
    split_bad("echo \"abc\\", NULL);
    split_bad("echo abc\\", "trailing backslash in command");
    split_bad("'", NULL);
    split_bad("\"", NULL);
    split_bad("a 'b' \"c", NULL);

    /* value_join_command: safe words as is, others single-quoted. */
    join_ok(WORDS("ls", "-l", "/tmp"), "ls -l /tmp");
    join_ok(WORDS("a_b@c%d+e=f:g,h.i/j-k", "ABC019"), "a_b@c%d+e=f:g,h.i/j-k ABC019");
    join_ok(WORDS("echo", "a b"), "echo 'a b'");
    join_ok(WORDS("echo", ""), "echo ''");
    join_ok(WORDS("echo", "it's"), "echo 'it'\\''s'");
    join_ok(WORDS("echo", "'"), "echo ''\\'''");
    join_ok(WORDS("echo", "$HOME", "*", "a\\b", "x\ny"), "echo '$HOME' '*' 'a\\b' 'x\ny'");
    join_ok(WORDS("\"q\""), "'\"q\"'");

    /* join then split gives the words back, for hand-picked and random words. */
    static const char *const hard[] = {
        "",     " ",   "'",           "''",       "\"",     "\\",        "\\\\",  "\n",
        "\\\n", "a b", "$x",          "`id`",     "'\"'\"", "-",         "--",    "=",
        "#",    "~",   "caf\xc3\xa9", "\xff\xfe", "\t",     "a'b\"c\\d", "end\\",
    };
    struct strv argv;
    strv_init(&argv);
    for (size_t i = 0; i < ARRAY_SIZE(hard); i++) {
        strv_push(&argv, hard[i]);
    }
    char *joined = value_join_command(&argv);
    struct strv back;
    char *err = NULL;
    int r = value_split_command(joined, &back, &err);
    TAP_OK(r == 0 && strv_equal(&argv, &back), "join then split of awkward words: %s",
           test_show(joined));
    free(joined);
    free(err);
    strv_free(&back);
    strv_free(&argv);

    int failures = 0;
    for (int round = 0; round < 500; round++) {
        strv_init(&argv);
        int nwords = 1 + (int)(test_random() % 6);
        for (int w = 0; w < nwords; w++) {
            char word[16];
            int len = (int)(test_random() % 12);
            for (int k = 0; k < len; k++) {
                word[k] = (char)(1 + test_random() % 255);
            }
            word[len] = '\0';
            strv_push(&argv, word);
        }
        joined = value_join_command(&argv);
        err = NULL;
        if (value_split_command(joined, &back, &err) != 0 || !strv_equal(&argv, &back)) {
            failures++;
        }
        free(joined);
        free(err);
        strv_free(&back);
        strv_free(&argv);
    }
    TAP_OK(failures == 0, "join then split of 500 random argv (%d failures)", failures);

    /* Random shell-ish text: any outcome is fine, but it must be consistent and leak-free. */
    failures = 0;
    for (int round = 0; round < 2000; round++) {
        static const char alphabet[] = "ab \t\n'\"\\$`";
        char text[24];
        int len = (int)(test_random() % 23);
        for (int k = 0; k < len; k++) {
            text[k] = alphabet[test_random() % (sizeof(alphabet) - 1)];
        }
        text[len] = '\0';
        err = NULL;
        r = value_split_command(text, &argv, &err);
        if ((r == 0) != (err == NULL) || (r == 0 && argv.n == 0) || (r != 0 && argv.v)) {
            failures++;
        }
        free(err);
        strv_free(&argv);
    }
    TAP_OK(failures == 0, "2000 random command lines: result and error agree (%d failures)",
           failures);
}

static void
test_environment(void)
{
    env_ok("", (const char *const[]){NULL});
    env_ok("  \n ", (const char *const[]){NULL});
    env_ok("A=1", WORDS("A=1"));
    env_ok("A=\"value\",B=value2", WORDS("A=value", "B=value2"));
    env_ok("KEY=\"value\",KEY2=value2,KEY3='x,y'", WORDS("KEY=value", "KEY2=value2", "KEY3=x,y"));
    env_ok(" A = 1 , B = \"two words\" ", WORDS("A=1", "B=two words"));
    env_ok("A=1,\n  B=2,\n  C=3", WORDS("A=1", "B=2", "C=3"));
    env_ok("A=1,\n", WORDS("A=1"));
    env_ok("A=1,,B=2", WORDS("A=1", "B=2"));
    env_ok("A=", WORDS("A="));
    env_ok("A=,B=\"\"", WORDS("A=", "B="));
    env_ok("A=''", WORDS("A="));
    env_ok("A=1,A=2", WORDS("A=2"));
    env_ok("A=1,B=2,A=3", WORDS("A=3", "B=2"));
    env_ok("PATH=/usr/bin:/bin", WORDS("PATH=/usr/bin:/bin"));
    env_ok("X=a=b", WORDS("X=a=b"));
    env_ok("X=it's", WORDS("X=it's"));
    env_ok("X=say \"hi\"", WORDS("X=say \"hi\""));
    env_ok("X=\"it's\"", WORDS("X=it's"));
    env_ok("X='say \"hi\"'", WORDS("X=say \"hi\""));
    env_ok("X=\"a\\nb\"", WORDS("X=a\\nb"));
    env_ok("X=\"line1\nline2\"", WORDS("X=line1\nline2"));
    env_ok("_x9=1,__=2", WORDS("_x9=1", "__=2"));
    env_ok("X= spaced value  ", WORDS("X=spaced value"));

    env_bad("A");
    env_bad("A,B=1");
    env_bad("=1");
    env_bad("1A=1");
    env_bad("A-B=1");
    env_bad("A B=1");
    env_bad("A.B=1");
    env_bad("\"A\"=1");
    env_bad("A=\"abc");
    env_bad("A='abc");
    env_bad("A=\"abc',B=1");
    env_bad("A=\"x\"y");
    env_bad("A=1,B");

    struct strv env;
    char *err = NULL;
    value_parse_environment("A=1,B", &env, &err);
    TAP_STREQ(err, "missing '=' after 'B' in environment", "missing '=' message");
    free(err);
    strv_free(&env);
    err = NULL;
    value_parse_environment("A-B=1", &env, &err);
    TAP_STREQ(err, "invalid environment variable name 'A-B'", "bad key message");
    free(err);
    strv_free(&env);
    err = NULL;
    value_parse_environment("A=\"abc", &env, &err);
    TAP_STREQ(err, "unterminated double quote in the value of A", "unterminated quote message");
    free(err);
    strv_free(&env);
}

static void
test_lists(void)
{
    list_ok("", (const char *const[]){NULL});
    list_ok(" , ,\n", (const char *const[]){NULL});
    list_ok("a", WORDS("a"));
    list_ok("a, b c", WORDS("a", "b", "c"));
    list_ok("a,b,,c,", WORDS("a", "b", "c"));
    list_ok("  web\tdb\nworker ", WORDS("web", "db", "worker"));
    list_ok("a,a", WORDS("a", "a"));
}

static void
test_json_writer(void)
{
    struct strbuf sb;
    struct json j;

    strbuf_init(&sb);
    json_init(&j, &sb, false);
    json_object_begin(&j);
    json_key(&j, "name");
    json_string(&j, "web");
    json_key(&j, "pid");
    json_int(&j, 1234);
    json_key(&j, "up");
    json_bool(&j, true);
    json_key(&j, "down");
    json_bool(&j, false);
    json_key(&j, "cwd");
    json_string(&j, NULL);
    json_key(&j, "exit");
    json_null(&j);
    json_key(&j, "load");
    json_double(&j, 0.03);
    json_key(&j, "args");
    json_array_begin(&j);
    json_string(&j, "a");
    json_int(&j, -1);
    json_array_begin(&j);
    json_array_end(&j);
    json_object_begin(&j);
    json_object_end(&j);
    json_array_begin(&j);
    json_int(&j, 1);
    json_int(&j, 2);
    json_array_end(&j);
    json_array_end(&j);
    json_key(&j, "nested");
    json_object_begin(&j);
    json_key(&j, "x");
    json_object_begin(&j);
    json_key(&j, "y");
    json_array_begin(&j);
    json_object_begin(&j);
    json_key(&j, "z:");
    json_string(&j, "v:");
    json_object_end(&j);
    json_array_end(&j);
    json_object_end(&j);
    json_key(&j, "empty");
    json_object_begin(&j);
    json_object_end(&j);
    json_object_end(&j);
    json_object_end(&j);
    TAP_STREQ(sb.buf,
              "{\"name\":\"web\",\"pid\":1234,\"up\":true,\"down\":false,\"cwd\":null,"
              "\"exit\":null,\"load\":0.03,\"args\":[\"a\",-1,[],{},[1,2]],"
              "\"nested\":{\"x\":{\"y\":[{\"z:\":\"v:\"}]},\"empty\":{}}}",
              "compact nested document");
    TAP_OK(j.depth == 0, "depth back to 0");
    strbuf_free(&sb);

    strbuf_init(&sb);
    json_init(&j, &sb, true);
    json_object_begin(&j);
    json_key(&j, "a");
    json_int(&j, 1);
    json_key(&j, "list");
    json_array_begin(&j);
    json_int(&j, 1);
    json_object_begin(&j);
    json_key(&j, "k");
    json_string(&j, "v");
    json_object_end(&j);
    json_array_end(&j);
    json_key(&j, "none");
    json_array_begin(&j);
    json_array_end(&j);
    json_key(&j, "obj");
    json_object_begin(&j);
    json_object_end(&j);
    json_object_end(&j);
    TAP_STREQ(sb.buf,
              "{\n  \"a\": 1,\n  \"list\": [\n    1,\n    {\n      \"k\": \"v\"\n    }\n  ],\n"
              "  \"none\": [],\n  \"obj\": {}\n}",
              "pretty nested document");
    strbuf_free(&sb);

    /* Top-level scalars and an array of strings. */
    strbuf_init(&sb);
    json_init(&j, &sb, false);
    json_string_n(&j, "a\0b", 3);
    TAP_STREQ(sb.buf, "\"a\\u0000b\"", "json_string_n with a NUL byte");
    strbuf_free(&sb);

    strbuf_init(&sb);
    json_init(&j, &sb, true);
    json_array_begin(&j);
    json_string(&j, "x");
    json_string(&j, "y");
    json_array_end(&j);
    TAP_STREQ(sb.buf, "[\n  \"x\",\n  \"y\"\n]", "pretty array");
    strbuf_free(&sb);

    strbuf_init(&sb);
    json_init(&j, &sb, false);
    json_array_begin(&j);
    json_int(&j, INT64_MAX);
    json_int(&j, INT64_MIN);
    json_int(&j, 0);
    json_double(&j, 12.5);
    json_double(&j, 0.03);
    json_double(&j, 0);
    json_double(&j, -1.5);
    json_double(&j, 1e20);
    json_double(&j, 1.0 / 3.0);
    json_double(&j, 1700000000.123);
    json_double(&j, INFINITY);
    json_double(&j, -INFINITY);
    json_double(&j, NAN);
    json_double(&j, 2.5e-7);
    json_array_end(&j);
    TAP_STREQ(sb.buf,
              "[9223372036854775807,-9223372036854775808,0,12.5,0.03,0,-1.5,1e+20,"
              "0.333333333333333,1700000000.123,null,null,null,2.5e-07]",
              "numbers, with null for inf and nan");
    strbuf_free(&sb);
}

static void
test_json_escape(void)
{
    escape_ok("", 0, "\"\"", "empty string");
    escape_ok("plain text", 10, "\"plain text\"", "plain ASCII");
    escape_ok("\"\\/", 3, "\"\\\"\\\\/\"", "quote and backslash escaped, slash kept");
    escape_ok("\n\t\r\b\f", 5, "\"\\n\\t\\r\\b\\f\"", "short escapes");
    escape_ok("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"", "control chars and DEL");
    escape_ok("a\0b", 3, "\"a\\u0000b\"", "NUL byte");
    escape_ok("caf\xc3\xa9", 5, "\"caf\xc3\xa9\"", "2-byte UTF-8 kept");
    escape_ok("\xe2\x82\xac", 3, "\"\xe2\x82\xac\"", "3-byte UTF-8 kept");
    escape_ok("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"", "4-byte UTF-8 kept");
    escape_ok("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"", "U+10FFFF kept");
    escape_ok("\xef\xbf\xbf", 3, "\"\xef\xbf\xbf\"", "U+FFFF kept");
    escape_ok("\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\"", "U+D7FF kept");
    escape_ok("\xee\x80\x80", 3, "\"\xee\x80\x80\"", "U+E000 kept");
    escape_ok("\xff", 1, "\"\\u00ff\"", "lone 0xff");
    escape_ok("\x80", 1, "\"\\u0080\"", "lone continuation byte");
    escape_ok("a\376\377b", 4, "\"a\\u00fe\\u00ffb\"", "invalid bytes between ASCII");
    escape_ok("\xc0\xaf", 2, "\"\\u00c0\\u00af\"", "overlong '/'");
    escape_ok("\xc1\xbf", 2, "\"\\u00c1\\u00bf\"", "overlong 2-byte");
    escape_ok("\xe0\x80\xaf", 3, "\"\\u00e0\\u0080\\u00af\"", "overlong 3-byte");
    escape_ok("\xf0\x80\x80\xaf", 4, "\"\\u00f0\\u0080\\u0080\\u00af\"", "overlong 4-byte");
    escape_ok("\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\"", "UTF-16 surrogate");
    escape_ok("\xed\xbf\xbf", 3, "\"\\u00ed\\u00bf\\u00bf\"", "last surrogate");
    escape_ok("\xf4\x90\x80\x80", 4, "\"\\u00f4\\u0090\\u0080\\u0080\"", "above U+10FFFF");
    escape_ok("\xf5\x80\x80\x80", 4, "\"\\u00f5\\u0080\\u0080\\u0080\"", "0xf5 lead byte");
    escape_ok("\xe2\x82", 2, "\"\\u00e2\\u0082\"", "truncated at the end");
    escape_ok("\xe2\x82x", 3, "\"\\u00e2\\u0082x\"", "truncated before ASCII");
    escape_ok("\xe2\x82\xe2\x82\xac", 5, "\"\\u00e2\\u0082\xe2\x82\xac\"", "truncated then valid");
    escape_ok("\xc3\xa9\xc3", 3, "\"\xc3\xa9\\u00c3\"", "valid then truncated");
    escape_ok("\xf0\x9f\x98", 3, "\"\\u00f0\\u009f\\u0098\"", "truncated 4-byte");

    /* Random bytes: the output is always clean UTF-8 with no raw control characters. */
    int failures = 0;
    for (int round = 0; round < 2000; round++) {
        unsigned char bytes[32];
        size_t len = test_random() % sizeof(bytes);
        for (size_t k = 0; k < len; k++) {
            bytes[k] = (unsigned char)test_random();
        }
        struct strbuf sb;
        strbuf_init(&sb);
        json_escape(&sb, (const char *)bytes, len);
        if (!test_is_clean_utf8(sb.buf) || sb.len < 2 || sb.buf[0] != '"' ||
            sb.buf[sb.len - 1] != '"' || strlen(sb.buf) != sb.len) {
            failures++;
        }
        strbuf_free(&sb);
    }
    TAP_OK(failures == 0, "2000 random byte strings escape to clean UTF-8 (%d failures)", failures);

    /* Random valid code points of every length pass through untouched. */
    failures = 0;
    for (int round = 0; round < 2000; round++) {
        struct strbuf in, out;
        strbuf_init(&in);
        strbuf_init(&out);
        for (int k = 0; k < 8; k++) {
            uint32_t cp = 0x20 + test_random() % (0x110000 - 0x20);
            if ((cp >= 0xd800 && cp <= 0xdfff) || cp == '"' || cp == '\\' || cp == 0x7f) {
                continue;
            }
            if (cp < 0x80) {
                strbuf_addc(&in, (char)cp);
            } else if (cp < 0x800) {
                strbuf_addc(&in, (char)(0xc0 | cp >> 6));
                strbuf_addc(&in, (char)(0x80 | (cp & 0x3f)));
            } else if (cp < 0x10000) {
                strbuf_addc(&in, (char)(0xe0 | cp >> 12));
                strbuf_addc(&in, (char)(0x80 | (cp >> 6 & 0x3f)));
                strbuf_addc(&in, (char)(0x80 | (cp & 0x3f)));
            } else {
                strbuf_addc(&in, (char)(0xf0 | cp >> 18));
                strbuf_addc(&in, (char)(0x80 | (cp >> 12 & 0x3f)));
                strbuf_addc(&in, (char)(0x80 | (cp >> 6 & 0x3f)));
                strbuf_addc(&in, (char)(0x80 | (cp & 0x3f)));
            }
        }
        json_escape(&out, in.buf ? in.buf : "", in.len);
        if (out.len != in.len + 2 || (in.len && memcmp(out.buf + 1, in.buf, in.len) != 0)) {
            failures++;
        }
        strbuf_free(&in);
        strbuf_free(&out);
    }
    TAP_OK(failures == 0, "2000 strings of valid code points copied as is (%d failures)", failures);

    struct strbuf sb;
    struct json j;
    strbuf_init(&sb);
    json_init(&j, &sb, false);
    json_object_begin(&j);
    json_key(&j, "k\"\xff");
    json_string(&j, "line\n\xc3(");
    json_object_end(&j);
    TAP_STREQ(sb.buf, "{\"k\\\"\\u00ff\":\"line\\n\\u00c3(\"}", "keys are escaped too");
    strbuf_free(&sb);
}

int
main(void)
{
    test_durations();
    test_sizes();
    test_bools();
    test_ints();
    test_octals();
    test_signals();
    test_exitcodes();
    test_split_command();
    test_environment();
    test_lists();
    test_json_writer();
    test_json_escape();
    return tap_done();
}
