/* expand.c - %(name)s expansions as supervisord does them with Python's %-formatting, plus
 * %(ENV_X:-fallback)s; only the conversions that make sense for names. Calls util only. */
#include "expand.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define EXPAND_MAX_WIDTH 4096

/* Looks a name up; ENV_X comes from the environment, "NAME:-fallback" applies the fallback
 * when the variable is unset or empty. Returns NULL when undefined. */
static const char *expand_lookup(const char *name, expand_lookup_fn lookup, void *ctx)
{
    const char *fallback = strstr(name, ":-");
    char *bare = fallback ? xstrndup(name, (size_t)(fallback - name)) : xstrdup(name);
    const char *value;
    if (strncmp(bare, "ENV_", 4) == 0) {
        value = getenv(bare + 4);
    } else {
        value = lookup ? lookup(ctx, bare) : NULL;
    }
    free(bare);
    if (fallback && (!value || !*value)) {
        return fallback + 2;
    }
    return value;
}

int expand_string(const char *s, expand_lookup_fn lookup, void *ctx, char **out, char **err)
{
    struct strbuf sb;
    strbuf_init(&sb);
    *out = NULL;
    *err = NULL;
    for (const char *p = s; *p;) {
        if (*p != '%') {
            strbuf_addc(&sb, *p++);
            continue;
        }
        if (p[1] == '%') {
            strbuf_addc(&sb, '%');
            p += 2;
            continue;
        }
        if (p[1] != '(') {
            *err = xasprintf("a lone '%%' must be written %%%% (at \"%.20s\")", p);
            goto fail;
        }
        const char *close = strchr(p + 2, ')');
        if (!close) {
            *err = xasprintf("unterminated %%( in \"%.30s\"", p);
            goto fail;
        }
        char *name = xstrndup(p + 2, (size_t)(close - p - 2));
        /* The format spec after ')': flags, width, precision, one conversion letter. */
        const char *spec = close + 1;
        const char *q = spec;
        while (*q && strchr("-+ #0", *q)) {
            q++;
        }
        /* width and precision are bounded: "%(x)2147483640s" must not ask for 2 GB */
        long width = 0, precision = 0;
        while (*q >= '0' && *q <= '9') {
            width = width > EXPAND_MAX_WIDTH ? width : width * 10 + (*q - '0');
            q++;
        }
        if (*q == '.') {
            q++;
            while (*q >= '0' && *q <= '9') {
                precision = precision > EXPAND_MAX_WIDTH ? precision : precision * 10 + (*q - '0');
                q++;
            }
        }
        char conv = *q;
        if (!conv || !strchr("srdiuxXo", conv)) {
            *err = xasprintf("bad format '%%(%s)%.*s' (use s or d)", name,
                             conv ? (int)(q - spec + 1) : (int)(q - spec), spec);
            free(name);
            goto fail;
        }
        if (width > EXPAND_MAX_WIDTH || precision > EXPAND_MAX_WIDTH) {
            *err = xasprintf("bad format '%%(%s)%.*s' (width and precision are at most %d)", name,
                             (int)(q - spec + 1), spec, EXPAND_MAX_WIDTH);
            free(name);
            goto fail;
        }
        const char *value = expand_lookup(name, lookup, ctx);
        if (!value) {
            *err = xasprintf("undefined variable %%(%s)%c", name, conv);
            free(name);
            goto fail;
        }
        /* Python's flags and widths mean the same as printf's for s and d. */
        char *fmt;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        if (conv == 's' || conv == 'r') {
            fmt = xasprintf("%%%.*ss", (int)(q - spec), spec);
            strbuf_addf(&sb, fmt, value);
        } else {
            char *end;
            errno = 0;
            long long num = strtoll(value, &end, 10);
            if (errno || end == value || *end) {
                *err = xasprintf("%%(%s)%c needs a number, but it is '%s'", name, conv, value);
                free(name);
                goto fail;
            }
            fmt = xasprintf("%%%.*sll%c", (int)(q - spec), spec, conv == 'u' ? 'd' : conv);
            strbuf_addf(&sb, fmt, num);
        }
#pragma GCC diagnostic pop
        free(fmt);
        free(name);
        p = q + 1;
    }
    *out = strbuf_detach(&sb);
    return 0;
fail:
    strbuf_free(&sb);
    return -1;
}

int expand_references(const char *s, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(s, "%("); p; p = strstr(p + 1, "%(")) {
        if (strncmp(p + 2, name, n) == 0 && p[2 + n] == ')') {
            return 1;
        }
    }
    return 0;
}
