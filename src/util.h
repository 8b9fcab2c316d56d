/* util.h - allocation wrappers that never return NULL, growable strings and string vectors.
 * Shared by every module; nothing here knows about processes or configuration. */
#ifndef TEND_UTIL_H
#define TEND_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn))
#else
#define PRINTF_LIKE(f, a)
#define NORETURN
#endif

/* Out of memory is the one failure tend does not try to survive: it logs and exits 125. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
NORETURN void fatal(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* A growable, always NUL-terminated byte string. */
struct strbuf {
    char *buf;
    size_t len;
    size_t cap;
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
/* Makes room for extra more bytes at once (a big answer grows without copies). */
void strbuf_reserve(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addc(struct strbuf *sb, char c);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) PRINTF_LIKE(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);
/* Hands the buffer to the caller (never NULL) and leaves sb empty. */
char *strbuf_detach(struct strbuf *sb);

/* A NULL-terminated vector of owned strings, usable directly as argv or envp. */
struct strv {
    char **v;
    size_t n;
};

void strv_init(struct strv *sv);
void strv_free(struct strv *sv);
void strv_push(struct strv *sv, const char *s);   /* copies s */
void strv_push_owned(struct strv *sv, char *s);   /* takes s */
void strv_copy(struct strv *dst, const struct strv *src);
bool strv_contains(const struct strv *sv, const char *s);
bool strv_equal(const struct strv *a, const struct strv *b);
/* Sets or replaces NAME=... in an environment vector; entry is "NAME=VALUE". */
void strv_setenv(struct strv *env, const char *entry);

/* A hash from borrowed strings (they must outlive the map) to indexes: name lookups over
 * thousands of programs in constant time. The first value put for a key stays. */
struct strmap {
    struct strmap_slot {
        const char *key; /* NULL: empty */
        size_t value;
    } *slots;
    size_t cap, n; /* cap is 0 or a power of two */
};

void strmap_init(struct strmap *m);
void strmap_free(struct strmap *m);
/* Stores key -> value unless key is there; returns false when it was (the old value stays). */
bool strmap_put(struct strmap *m, const char *key, size_t value);
/* True when key is there, with its value in *value (when value is not NULL). */
bool strmap_get(const struct strmap *m, const char *key, size_t *value);

/* Creates the missing directories above path (the last one with mode; those above it 0755).
 * -1 with errno when the last one cannot be created. */
int mkdir_parents(const char *path, int mode);

/* Edit distance, for "did you mean" suggestions. */
size_t levenshtein(const char *a, const char *b);

#endif
