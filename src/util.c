/* util.c - allocation wrappers that never return NULL, strbuf and strv. Calls nothing of tend. */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

void fatal(const char *fmt, ...)
{
    va_list ap;
    fputs("tend: fatal: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    _exit(125);
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        fatal("out of memory (%zu bytes)", size);
    }
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fatal("out of memory (%zu x %zu bytes)", n, size);
    }
    return p;
}

void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size ? size : 1);
    if (!p) {
        fatal("out of memory (%zu bytes)", size);
    }
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    /* exactly as long as the text: many of these strings live as long as their program */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return xstrdup("");
    }
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void strbuf_init(struct strbuf *sb)
{
    sb->buf = NULL;
    sb->len = 0;
    sb->cap = 0;
}

void strbuf_free(struct strbuf *sb)
{
    free(sb->buf);
    strbuf_init(sb);
}

void strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->buf) {
        sb->buf[0] = '\0';
    }
}

static void strbuf_grow(struct strbuf *sb, size_t extra)
{
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap) {
        return;
    }
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need) {
        cap *= 2;
    }
    sb->buf = xrealloc(sb->buf, cap);
    sb->cap = cap;
}

void strbuf_reserve(struct strbuf *sb, size_t extra)
{
    strbuf_grow(sb, extra);
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
    strbuf_grow(sb, len);
    if (len) {
        memcpy(sb->buf + sb->len, data, len);
    }
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void strbuf_addc(struct strbuf *sb, char c)
{
    strbuf_add(sb, &c, 1);
}

void strbuf_adds(struct strbuf *sb, const char *s)
{
    strbuf_add(sb, s, strlen(s));
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) {
        return;
    }
    strbuf_grow(sb, (size_t)n);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_vaddf(sb, fmt, ap);
    va_end(ap);
}

char *strbuf_detach(struct strbuf *sb)
{
    char *s = sb->buf ? sb->buf : xstrdup("");
    strbuf_init(sb);
    return s;
}

/* Every empty vector shares this terminator: a program's many unset lists cost nothing. */
static char *strv_none[1] = {NULL};

void strv_init(struct strv *sv)
{
    sv->v = strv_none;
    sv->n = 0;
}

void strv_free(struct strv *sv)
{
    if (!sv->v) {
        return;
    }
    for (size_t i = 0; i < sv->n; i++) {
        free(sv->v[i]);
    }
    if (sv->v != strv_none) {
        free(sv->v);
    }
    sv->v = NULL;
    sv->n = 0;
}

void strv_push_owned(struct strv *sv, char *s)
{
    if (!sv->v) {
        strv_init(sv);
    }
    sv->v = xrealloc(sv->v == strv_none ? NULL : sv->v, (sv->n + 2) * sizeof(char *));
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
}

void strv_push(struct strv *sv, const char *s)
{
    strv_push_owned(sv, xstrdup(s));
}

void strv_copy(struct strv *dst, const struct strv *src)
{
    strv_init(dst);
    for (size_t i = 0; i < src->n; i++) {
        strv_push(dst, src->v[i]);
    }
}

bool strv_contains(const struct strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++) {
        if (strcmp(sv->v[i], s) == 0) {
            return true;
        }
    }
    return false;
}

bool strv_equal(const struct strv *a, const struct strv *b)
{
    if (a->n != b->n) {
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->v[i], b->v[i]) != 0) {
            return false;
        }
    }
    return true;
}

void strv_setenv(struct strv *env, const char *entry)
{
    const char *eq = strchr(entry, '=');
    size_t klen = eq ? (size_t)(eq - entry) : strlen(entry);
    for (size_t i = 0; i < env->n; i++) {
        if (strncmp(env->v[i], entry, klen) == 0 && env->v[i][klen] == '=') {
            free(env->v[i]);
            env->v[i] = xstrdup(entry);
            return;
        }
    }
    strv_push(env, entry);
}

size_t levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = xmalloc((lb + 1) * sizeof(size_t));
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = (a[i - 1] == b[j - 1]) ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[lb];
    free(row);
    return d;
}

int mkdir_parents(const char *path, int mode)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; *p; p++) {
            if (*p == '/') {
                *p = '\0';
                mkdir(dir, 0755);
                *p = '/';
            }
        }
        if (mkdir(dir, (mode_t)mode) < 0 && errno != EEXIST) {
            rc = -1;
        }
    }
    free(dir);
    return rc;
}

/* ---- strmap: open addressing with linear probing, at most half full ---- */

static size_t strmap_hash(const char *s)
{
    size_t h = 14695981039346656037u; /* FNV-1a */
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    }
    return h;
}

void strmap_init(struct strmap *m)
{
    m->slots = NULL;
    m->cap = m->n = 0;
}

void strmap_free(struct strmap *m)
{
    free(m->slots);
    strmap_init(m);
}

static struct strmap_slot *strmap_slot(const struct strmap *m, const char *key)
{
    size_t i = strmap_hash(key) & (m->cap - 1);
    while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0) {
        i = (i + 1) & (m->cap - 1);
    }
    return &m->slots[i];
}

bool strmap_put(struct strmap *m, const char *key, size_t value)
{
    if (2 * (m->n + 1) > m->cap) {
        struct strmap old = *m;
        m->cap = old.cap ? 2 * old.cap : 16;
        m->slots = xcalloc(m->cap, sizeof(*m->slots));
        for (size_t i = 0; i < old.cap; i++) {
            if (old.slots[i].key) {
                *strmap_slot(m, old.slots[i].key) = old.slots[i];
            }
        }
        free(old.slots);
    }
    struct strmap_slot *slot = strmap_slot(m, key);
    if (slot->key) {
        return false;
    }
    slot->key = key;
    slot->value = value;
    m->n++;
    return true;
}

bool strmap_get(const struct strmap *m, const char *key, size_t *value)
{
    if (m->cap == 0) {
        return false;
    }
    const struct strmap_slot *slot = strmap_slot(m, key);
    if (slot->key && value) {
        *value = slot->value;
    }
    return slot->key != NULL;
}
