/* xmlrpc.h - XML-RPC values: a methodCall parsed by expat into a small value tree, and
 * methodResponse / fault documents written from one. Nothing here knows what a method does. */
#ifndef TEND_XMLRPC_H
#define TEND_XMLRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* XV_RAW: an answer's value already written as XML (<value>...</value>), for big answers
 * that would otherwise be thousands of small nodes; the parser never makes one. */
enum xv_type { XV_NIL, XV_INT, XV_BOOL, XV_DOUBLE, XV_STRING, XV_BASE64, XV_DATETIME,
               XV_ARRAY, XV_STRUCT, XV_RAW };

struct xv {
    enum xv_type type;
    int64_t i;        /* XV_INT, XV_BOOL */
    double d;         /* XV_DOUBLE */
    char *s;          /* XV_STRING, XV_BASE64 (as sent), XV_DATETIME; NUL-terminated */
    size_t len;       /* length of s */
    struct xv **items; /* XV_ARRAY, XV_STRUCT (values) */
    char **keys;       /* XV_STRUCT */
    size_t n, cap;
};

struct xv *xv_nil(void);
struct xv *xv_int(int64_t i);
struct xv *xv_bool(bool b);
struct xv *xv_double(double d);
struct xv *xv_string(const char *s);
struct xv *xv_string_n(const char *s, size_t n);
struct xv *xv_array(void);
/* Takes xml, a <value> element written with the functions below. */
struct xv *xv_raw(char *xml, size_t len);
struct xv *xv_struct(void);
/* Appends v (taking it) to an array; returns arr. */
struct xv *xv_push(struct xv *arr, struct xv *v);
/* Adds key = v (taking v) to a struct; returns st. */
struct xv *xv_set(struct xv *st, const char *key, struct xv *v);
/* The member of a struct, or NULL. */
const struct xv *xv_get(const struct xv *st, const char *key);
void xv_free(struct xv *v);

/* A parsed methodCall: the method's name and its parameters as an array. */
struct xmlrpc_call {
    char *method;
    struct xv *params; /* XV_ARRAY */
};

/* Parses a methodCall document. Returns -1 with *err (a message for a fault) when it is not
 * well-formed XML or not a methodCall; nesting deeper than 64 levels is refused. */
int xmlrpc_parse_call(const char *body, size_t len, struct xmlrpc_call *call, char **err);
void xmlrpc_call_free(struct xmlrpc_call *call);

/* Writes a methodResponse with one value, or a fault, as XML. */
void xmlrpc_write_response(struct strbuf *out, const struct xv *v);
void xmlrpc_write_fault(struct strbuf *out, int code, const char *msg);
/* One value (<value>...</value>), for a response or a multicall. */
void xmlrpc_write_value(struct strbuf *out, const struct xv *v);
/* One member of a struct being written straight into out (between <struct> and </struct>). */
void xmlrpc_write_member_string(struct strbuf *out, const char *key, const char *s);
void xmlrpc_write_member_int(struct strbuf *out, const char *key, int64_t i);
/* Text as XML character data: & < > escaped, bytes XML cannot carry (control characters,
 * invalid UTF-8) replaced so that every client's parser accepts it. */
void xmlrpc_escape(struct strbuf *out, const char *s, size_t n);

#endif
