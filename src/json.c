/* json.c - a streaming JSON writer into a strbuf, compact or indented; any byte string becomes
 * a valid JSON string. Calls util only. */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void
json_init(struct json *j, struct strbuf *out, bool pretty)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
    j->pretty = pretty;
}

/* Without a field of its own, "a key was just written" is read off the output: inside a
 * container the last byte can only be ':' right after json_key() (values end in '"', a digit,
 * a letter, '}' or ']'; separators are '[', '{' or ','). */
static bool
json_after_key(const struct json *j)
{
    return j->depth > 0 && j->out->len > 0 && j->out->buf[j->out->len - 1] == ':';
}

static void
json_newline(struct json *j, int depth)
{
    strbuf_addc(j->out, '\n');
    for (int i = 0; i < depth; i++) {
        strbuf_adds(j->out, "  ");
    }
}

/* Everything that comes before a value or a key: the comma and, when pretty, the new line. */
static void
json_prefix(struct json *j)
{
    if (json_after_key(j)) {
        if (j->pretty) {
            strbuf_addc(j->out, ' ');
        }
        return;
    }
    if (j->depth == 0) {
        return;
    }
    if (j->need_comma[j->depth]) {
        strbuf_addc(j->out, ',');
    }
    if (j->pretty) {
        json_newline(j, j->depth);
    }
    j->need_comma[j->depth] = true;
}

static void
json_begin(struct json *j, char open)
{
    json_prefix(j);
    /* need_comma has one slot per depth; tend's documents are a few levels deep at most. */
    if (j->depth + 1 >= (int)ARRAY_SIZE(j->need_comma)) {
        fatal("json: nesting deeper than %zu levels", ARRAY_SIZE(j->need_comma) - 1);
    }
    strbuf_addc(j->out, open);
    j->depth++;
    j->need_comma[j->depth] = false;
}

static void
json_end(struct json *j, char close)
{
    if (j->depth == 0) {
        fatal("json: '%c' without a matching open", close);
    }
    bool had_items = j->need_comma[j->depth];
    j->depth--;
    if (j->pretty && had_items) {
        json_newline(j, j->depth);
    }
    strbuf_addc(j->out, close);
}

void
json_object_begin(struct json *j)
{
    json_begin(j, '{');
}

void
json_object_end(struct json *j)
{
    json_end(j, '}');
}

void
json_array_begin(struct json *j)
{
    json_begin(j, '[');
}

void
json_array_end(struct json *j)
{
    json_end(j, ']');
}

void
json_key(struct json *j, const char *key)
{
    json_prefix(j);
    json_escape(j->out, key, strlen(key));
    strbuf_addc(j->out, ':');
}

void
json_string(struct json *j, const char *s)
{
    if (!s) {
        json_null(j);
        return;
    }
    json_string_n(j, s, strlen(s));
}

void
json_string_n(struct json *j, const char *s, size_t n)
{
    json_prefix(j);
    json_escape(j->out, s, n);
}

void
json_int(struct json *j, int64_t v)
{
    json_prefix(j);
    strbuf_addf(j->out, "%lld", (long long)v);
}

void
json_double(struct json *j, double v)
{
    if (!isfinite(v)) {
        json_null(j);
        return;
    }
    json_prefix(j);
    /* 15 significant digits print 0.03 as "0.03" yet keep an epoch time in seconds exact
     * to the millisecond; %g never writes "1." or ".5", which JSON would reject. */
    char buf[64];
    snprintf(buf, sizeof(buf), "%.15g", v);
    /* A locale with a decimal comma must not leak into JSON. */
    for (char *p = buf; *p; p++) {
        if (*p == ',') {
            *p = '.';
        }
    }
    strbuf_adds(j->out, buf);
}

void
json_bool(struct json *j, bool v)
{
    json_prefix(j);
    strbuf_adds(j->out, v ? "true" : "false");
}

void
json_null(struct json *j)
{
    json_prefix(j);
    strbuf_adds(j->out, "null");
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), or 0 when the byte at s does not start one. */
static size_t
json_utf8_length(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80) {
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) {
            lo = 0xa0;
        } else if (c == 0xed) {
            hi = 0x9f;
        }
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) {
            lo = 0x90;
        } else if (c == 0xf4) {
            hi = 0x8f;
        }
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return len;
}

void
json_escape(struct strbuf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    strbuf_addc(out, '"');
    while (i < n) {
        unsigned char c = p[i];
        size_t len = json_utf8_length(p + i, n - i);
        if (len > 1) {
            strbuf_add(out, p + i, len);
            i += len;
            continue;
        }
        i++;
        if (c == '"' || c == '\\') {
            strbuf_addc(out, '\\');
            strbuf_addc(out, (char)c);
        } else if (c == '\n') {
            strbuf_adds(out, "\\n");
        } else if (c == '\t') {
            strbuf_adds(out, "\\t");
        } else if (c == '\r') {
            strbuf_adds(out, "\\r");
        } else if (c == '\b') {
            strbuf_adds(out, "\\b");
        } else if (c == '\f') {
            strbuf_adds(out, "\\f");
        } else if (c < 0x20 || c >= 0x7f) {
            /* Control characters, DEL, and bytes outside any valid sequence (len == 0). */
            strbuf_addf(out, "\\u%04x", c);
        } else {
            strbuf_addc(out, (char)c);
        }
    }
    strbuf_addc(out, '"');
}
