/* xmlrpc.c - XML-RPC values: a methodCall parsed by expat into a small value tree, and
 * methodResponse / fault documents written from one. Nothing here knows what a method does. */
#include "xmlrpc.h"

#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XMLRPC_MAX_DEPTH 64

/* ---- values ---- */

static struct xv *xv_new(enum xv_type t)
{
    struct xv *v = xcalloc(1, sizeof(*v));
    v->type = t;
    return v;
}

struct xv *xv_nil(void)
{
    return xv_new(XV_NIL);
}

struct xv *xv_int(int64_t i)
{
    struct xv *v = xv_new(XV_INT);
    v->i = i;
    return v;
}

struct xv *xv_bool(bool b)
{
    struct xv *v = xv_new(XV_BOOL);
    v->i = b;
    return v;
}

struct xv *xv_double(double d)
{
    struct xv *v = xv_new(XV_DOUBLE);
    v->d = d;
    return v;
}

struct xv *xv_string_n(const char *s, size_t n)
{
    struct xv *v = xv_new(XV_STRING);
    v->s = xstrndup(s ? s : "", s ? n : 0);
    v->len = s ? n : 0;
    return v;
}

struct xv *xv_string(const char *s)
{
    return xv_string_n(s, s ? strlen(s) : 0);
}

struct xv *xv_array(void)
{
    return xv_new(XV_ARRAY);
}

struct xv *xv_raw(char *xml, size_t len)
{
    struct xv *v = xv_new(XV_RAW);
    v->s = xml;
    v->len = len;
    return v;
}

struct xv *xv_struct(void)
{
    return xv_new(XV_STRUCT);
}

static void xv_grow(struct xv *c)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->items = xrealloc(c->items, c->cap * sizeof(*c->items));
        if (c->type == XV_STRUCT) {
            c->keys = xrealloc(c->keys, c->cap * sizeof(*c->keys));
        }
    }
}

struct xv *xv_push(struct xv *arr, struct xv *v)
{
    xv_grow(arr);
    arr->items[arr->n++] = v;
    return arr;
}

struct xv *xv_set(struct xv *st, const char *key, struct xv *v)
{
    xv_grow(st);
    st->keys[st->n] = xstrdup(key);
    st->items[st->n++] = v;
    return st;
}

const struct xv *xv_get(const struct xv *st, const char *key)
{
    if (!st || st->type != XV_STRUCT) {
        return NULL;
    }
    for (size_t i = 0; i < st->n; i++) {
        if (strcmp(st->keys[i], key) == 0) {
            return st->items[i];
        }
    }
    return NULL;
}

void xv_free(struct xv *v)
{
    if (!v) {
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        xv_free(v->items[i]);
        if (v->keys) {
            free(v->keys[i]);
        }
    }
    free(v->items);
    free(v->keys);
    free(v->s);
    free(v);
}

/* ---- parsing ---- */

struct frame {
    struct xv *v;
    char *key; /* a struct member's name, waiting for its value */
};

struct parser {
    XML_Parser xp;
    struct xmlrpc_call *call;
    char *err;
    int depth;
    bool root_seen, in_param;
    struct strbuf text;
    struct frame frames[XMLRPC_MAX_DEPTH];
    int nframes;
};

/* what, then up to 40 bytes of detail (a quoted value or an element name) */
static void parse_fail(struct parser *ps, const char *what, const char *detail)
{
    if (!ps->err) {
        ps->err = xasprintf("%s%.40s", what, detail);
    }
    XML_StopParser(ps->xp, XML_FALSE);
}

static struct xv *scalar_from_text(struct parser *ps, const char *name)
{
    const char *t = ps->text.buf ? ps->text.buf : "";
    if (strcmp(name, "string") == 0) {
        return xv_string_n(t, ps->text.len);
    }
    if (strcmp(name, "int") == 0 || strcmp(name, "i4") == 0 || strcmp(name, "i8") == 0) {
        char *end;
        errno = 0;
        long long i = strtoll(t, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') {
            end++;
        }
        if (errno || end == t || *end) {
            parse_fail(ps, "not an integer: ", t);
            return NULL;
        }
        return xv_int(i);
    }
    if (strcmp(name, "boolean") == 0) {
        if (strcmp(t, "0") != 0 && strcmp(t, "1") != 0) {
            parse_fail(ps, "not a boolean: ", t);
            return NULL;
        }
        return xv_bool(t[0] == '1');
    }
    if (strcmp(name, "double") == 0) {
        char *end;
        double d = strtod(t, &end);
        if (end == t || *end || !isfinite(d)) {
            parse_fail(ps, "not a double: ", t);
            return NULL;
        }
        return xv_double(d);
    }
    struct xv *v = xv_string_n(t, ps->text.len);
    v->type = strcmp(name, "base64") == 0 ? XV_BASE64 : XV_DATETIME;
    return v;
}

static bool is_scalar(const char *name)
{
    static const char *const names[] = {"string", "int",    "i4",     "i8",
                                        "boolean", "double", "base64", "dateTime.iso8601"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (strcmp(name, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* The value being built gets v; a second value for the same <value> is an error. */
static void frame_set(struct parser *ps, struct xv *v)
{
    if (!v) {
        return;
    }
    if (ps->nframes == 0 || ps->frames[ps->nframes - 1].v) {
        xv_free(v);
        parse_fail(ps, "a value outside a <value> or a second value in one", "");
        return;
    }
    ps->frames[ps->nframes - 1].v = v;
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    struct parser *ps = data;
    (void)attrs;
    strbuf_reset(&ps->text);
    if (++ps->depth > XMLRPC_MAX_DEPTH) {
        parse_fail(ps, "nested deeper than 64 levels", "");
        return;
    }
    if (!ps->root_seen) {
        ps->root_seen = true;
        if (strcmp(name, "methodCall") != 0) {
            parse_fail(ps, "not a methodCall: ", name);
        }
        return;
    }
    if (strcmp(name, "value") == 0) {
        if (ps->nframes == 0 && !ps->in_param) {
            parse_fail(ps, "<value> outside a <param>", "");
            return;
        }
        if (ps->nframes == XMLRPC_MAX_DEPTH) {
            parse_fail(ps, "nested deeper than 64 levels", "");
            return;
        }
        ps->frames[ps->nframes++] = (struct frame){0};
    } else if (strcmp(name, "array") == 0) {
        frame_set(ps, xv_array());
    } else if (strcmp(name, "struct") == 0) {
        frame_set(ps, xv_struct());
    } else if (strcmp(name, "param") == 0) {
        ps->in_param = true;
    } else if (strcmp(name, "nil") == 0) {
        frame_set(ps, xv_nil());
    } else if (!is_scalar(name) && strcmp(name, "methodName") != 0 &&
               strcmp(name, "params") != 0 && strcmp(name, "data") != 0 &&
               strcmp(name, "member") != 0 && strcmp(name, "name") != 0) {
        parse_fail(ps, "unknown element ", name);
    }
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
    struct parser *ps = data;
    ps->depth--;
    if (strcmp(name, "methodName") == 0) {
        free(ps->call->method);
        ps->call->method = xstrndup(ps->text.buf ? ps->text.buf : "", ps->text.len);
    } else if (is_scalar(name)) {
        frame_set(ps, scalar_from_text(ps, name));
    } else if (strcmp(name, "name") == 0) {
        struct frame *f = ps->nframes ? &ps->frames[ps->nframes - 1] : NULL;
        if (!f || !f->v || f->v->type != XV_STRUCT) {
            parse_fail(ps, "<name> outside a <struct>", "");
        } else {
            free(f->key);
            f->key = xstrndup(ps->text.buf ? ps->text.buf : "", ps->text.len);
        }
    } else if (strcmp(name, "param") == 0) {
        ps->in_param = false;
    } else if (strcmp(name, "value") == 0 && ps->nframes > 0) {
        struct frame f = ps->frames[--ps->nframes];
        free(f.key);
        if (!f.v) {
            /* a <value> with no type element is a string */
            f.v = xv_string_n(ps->text.buf, ps->text.len);
        }
        if (ps->nframes == 0) {
            xv_push(ps->call->params, f.v);
        } else {
            struct frame *parent = &ps->frames[ps->nframes - 1];
            if (parent->v && parent->v->type == XV_ARRAY) {
                xv_push(parent->v, f.v);
            } else if (parent->v && parent->v->type == XV_STRUCT && parent->key) {
                xv_set(parent->v, parent->key, f.v);
                free(parent->key);
                parent->key = NULL;
            } else {
                xv_free(f.v);
                parse_fail(ps, "a <value> where none belongs", "");
            }
        }
    }
    strbuf_reset(&ps->text);
}

static void XMLCALL on_text(void *data, const XML_Char *s, int len)
{
    struct parser *ps = data;
    strbuf_add(&ps->text, s, (size_t)len);
}

/* No DTDs: no entity tricks, no external fetches. */
static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
    struct parser *ps = data;
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    parse_fail(ps, "document type declarations are refused", "");
}

int xmlrpc_parse_call(const char *body, size_t len, struct xmlrpc_call *call, char **err)
{
    struct parser ps = {0};
    call->method = NULL;
    call->params = xv_array();
    ps.call = call;
    strbuf_init(&ps.text);
    ps.xp = XML_ParserCreate("UTF-8");
    if (!ps.xp) {
        fatal("out of memory");
    }
    XML_SetUserData(ps.xp, &ps);
    XML_SetElementHandler(ps.xp, on_start, on_end);
    XML_SetCharacterDataHandler(ps.xp, on_text);
    XML_SetStartDoctypeDeclHandler(ps.xp, on_doctype);
    int ok = 1;
    /* expat takes an int length: feed big bodies in pieces */
    for (size_t off = 0; ok && off < len;) {
        size_t n = len - off > (1u << 30) ? (1u << 30) : len - off;
        ok = XML_Parse(ps.xp, body + off, (int)n, 0) == XML_STATUS_OK;
        off += n;
    }
    if (ok) {
        ok = XML_Parse(ps.xp, "", 0, 1) == XML_STATUS_OK;
    }
    if (!ok && !ps.err) {
        ps.err = xasprintf("not well-formed XML: %s at line %lu",
                           XML_ErrorString(XML_GetErrorCode(ps.xp)),
                           (unsigned long)XML_GetCurrentLineNumber(ps.xp));
    }
    if (!ps.err && !call->method) {
        ps.err = xstrdup("a methodCall without a methodName");
    }
    for (int i = 0; i < ps.nframes; i++) {
        xv_free(ps.frames[i].v);
        free(ps.frames[i].key);
    }
    XML_ParserFree(ps.xp);
    strbuf_free(&ps.text);
    if (ps.err) {
        xmlrpc_call_free(call);
        *err = ps.err;
        return -1;
    }
    return 0;
}

void xmlrpc_call_free(struct xmlrpc_call *call)
{
    free(call->method);
    xv_free(call->params);
    call->method = NULL;
    call->params = NULL;
}

/* ---- writing ---- */

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not valid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (s[0] < 0x80) {
        return 1;
    } else if ((s[0] & 0xe0) == 0xc0) {
        len = 2, min = 0x80, cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, min = 0x800, cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
        cp == 0xffff) {
        return 0;
    }
    return len;
}

void xmlrpc_escape(struct strbuf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        /* the common case: a run of plain ASCII goes in with one copy */
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '&' && p[run] != '<' &&
               p[run] != '>') {
            run++;
        }
        if (run > i) {
            strbuf_add(out, p + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        if (c == '&') {
            strbuf_adds(out, "&amp;");
        } else if (c == '<') {
            strbuf_adds(out, "&lt;");
        } else if (c == '>') {
            strbuf_adds(out, "&gt;");
        } else if (c == '\r') {
            strbuf_adds(out, "&#13;"); /* a bare CR would be read back as a newline */
        } else if (c < 0x20 && c != '\t' && c != '\n') {
            strbuf_adds(out, "\xef\xbf\xbd"); /* XML 1.0 cannot carry it: U+FFFD */
        } else if (c < 0x80) {
            strbuf_addc(out, (char)c);
        } else {
            size_t len = utf8_len(p + i, n - i);
            if (len == 0) {
                strbuf_adds(out, "\xef\xbf\xbd");
                i++;
                continue;
            }
            strbuf_add(out, p + i, len);
            i += len;
            continue;
        }
        i++;
    }
}

/* A literal with its length known at compile time: the hot path writes many. */
#define ADD_LITERAL(out, lit) strbuf_add((out), (lit), sizeof(lit) - 1)

static void add_int(struct strbuf *out, int64_t v)
{
    char buf[24], *p = buf + sizeof(buf);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        *--p = '-';
    }
    strbuf_add(out, p, (size_t)(buf + sizeof(buf) - p));
}

void xmlrpc_write_member_string(struct strbuf *out, const char *key, const char *s)
{
    ADD_LITERAL(out, "<member><name>");
    xmlrpc_escape(out, key, strlen(key));
    ADD_LITERAL(out, "</name><value><string>");
    xmlrpc_escape(out, s, strlen(s));
    ADD_LITERAL(out, "</string></value></member>\n");
}

void xmlrpc_write_member_int(struct strbuf *out, const char *key, int64_t i)
{
    struct xv v = {.type = XV_INT, .i = i};
    ADD_LITERAL(out, "<member><name>");
    xmlrpc_escape(out, key, strlen(key));
    ADD_LITERAL(out, "</name>");
    xmlrpc_write_value(out, &v);
    ADD_LITERAL(out, "</member>\n");
}

void xmlrpc_write_value(struct strbuf *out, const struct xv *v)
{
    if (v->type == XV_RAW) {
        strbuf_add(out, v->s, v->len);
        return;
    }
    ADD_LITERAL(out, "<value>");
    switch (v->type) {
    case XV_NIL:
        ADD_LITERAL(out, "<nil/>");
        break;
    case XV_INT:
        if (v->i >= INT32_MIN && v->i <= INT32_MAX) {
            ADD_LITERAL(out, "<int>");
            add_int(out, v->i);
            ADD_LITERAL(out, "</int>");
        } else {
            ADD_LITERAL(out, "<i8>");
            add_int(out, v->i);
            ADD_LITERAL(out, "</i8>");
        }
        break;
    case XV_BOOL:
        if (v->i) {
            ADD_LITERAL(out, "<boolean>1</boolean>");
        } else {
            ADD_LITERAL(out, "<boolean>0</boolean>");
        }
        break;
    case XV_DOUBLE:
        strbuf_addf(out, "<double>%.17g</double>", isfinite(v->d) ? v->d : 0.0);
        break;
    case XV_STRING:
        ADD_LITERAL(out, "<string>");
        xmlrpc_escape(out, v->s, v->len);
        ADD_LITERAL(out, "</string>");
        break;
    case XV_BASE64:
    case XV_DATETIME: {
        const char *tag = v->type == XV_BASE64 ? "base64" : "dateTime.iso8601";
        strbuf_addf(out, "<%s>", tag);
        xmlrpc_escape(out, v->s, v->len);
        strbuf_addf(out, "</%s>", tag);
        break;
    }
    case XV_ARRAY:
        ADD_LITERAL(out, "<array><data>\n");
        for (size_t i = 0; i < v->n; i++) {
            xmlrpc_write_value(out, v->items[i]);
            strbuf_addc(out, '\n');
        }
        ADD_LITERAL(out, "</data></array>");
        break;
    case XV_RAW:
        break;
    case XV_STRUCT:
        ADD_LITERAL(out, "<struct>\n");
        for (size_t i = 0; i < v->n; i++) {
            ADD_LITERAL(out, "<member><name>");
            xmlrpc_escape(out, v->keys[i], strlen(v->keys[i]));
            ADD_LITERAL(out, "</name>");
            xmlrpc_write_value(out, v->items[i]);
            ADD_LITERAL(out, "</member>\n");
        }
        ADD_LITERAL(out, "</struct>");
        break;
    }
    ADD_LITERAL(out, "</value>");
}

/* Bytes a value takes as XML, roughly: room is made once, not by doubling copies. */
static size_t xmlrpc_estimate(const struct xv *v)
{
    size_t n = 40 + v->len;
    for (size_t i = 0; i < v->n; i++) {
        n += 40 + (v->keys ? strlen(v->keys[i]) : 0) + xmlrpc_estimate(v->items[i]);
    }
    return n;
}

void xmlrpc_write_response(struct strbuf *out, const struct xv *v)
{
    strbuf_reserve(out, xmlrpc_estimate(v) + 128);
    strbuf_adds(out, "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n");
    xmlrpc_write_value(out, v);
    strbuf_adds(out, "\n</param>\n</params>\n</methodResponse>\n");
}

void xmlrpc_write_fault(struct strbuf *out, int code, const char *msg)
{
    struct xv *st = xv_struct();
    xv_set(st, "faultCode", xv_int(code));
    xv_set(st, "faultString", xv_string(msg));
    strbuf_adds(out, "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n");
    xmlrpc_write_value(out, st);
    strbuf_adds(out, "\n</fault>\n</methodResponse>\n");
    xv_free(st);
}
