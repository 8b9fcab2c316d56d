/* json.h - a small JSON writer into a strbuf; strings that are not valid UTF-8 are escaped
 * byte-wise as \u00XX so the output is always valid JSON. */
#ifndef TEND_JSON_H
#define TEND_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct json {
    struct strbuf *out;
    int depth;
    bool need_comma[32];
    bool pretty;
};

void json_init(struct json *j, struct strbuf *out, bool pretty);
void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
/* Inside an object: writes "key": and the next value call writes the value. */
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);           /* NULL writes null */
void json_string_n(struct json *j, const char *s, size_t n); /* arbitrary bytes */
void json_int(struct json *j, int64_t v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* Appends s as a quoted JSON string (valid UTF-8 kept, every other byte escaped). */
void json_escape(struct strbuf *out, const char *s, size_t n);

#endif
