/* fuzz_xmlrpc.c - the HTTP/XML-RPC request parsers of tend's own: a request body through
 * xmlrpc_parse_call() (src/xmlrpc.c, expat underneath) and the status page's form decoding
 * (src/webpage.c). HTTP itself is parsed by libmicrohttpd. The harness checks:
 *   - parsing any bytes is memory-safe and leak-free, and a refusal always says why;
 *   - a parsed call written back as XML (xmlrpc_write_value) parses again to the same values;
 *   - a fault document for any message is well-formed (it parses as XML);
 *   - form values decode without reading past the body. */
#include <expat.h>
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"
#include "webpage.h"
#include "xmlrpc.h"

static bool same(const struct xv *a, const struct xv *b)
{
    if (a->type != b->type || a->n != b->n) {
        return false;
    }
    switch (a->type) {
    case XV_INT:
    case XV_BOOL:
        return a->i == b->i;
    case XV_DOUBLE:
        return a->d == b->d || (isnan(a->d) && isnan(b->d));
    case XV_STRING:
    case XV_BASE64:
    case XV_DATETIME:
        return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    case XV_ARRAY:
    case XV_STRUCT:
        for (size_t i = 0; i < a->n; i++) {
            if ((a->type == XV_STRUCT && strcmp(a->keys[i], b->keys[i]) != 0) ||
                !same(a->items[i], b->items[i])) {
                return false;
            }
        }
        return true;
    default:
        return true;
    }
}

static bool well_formed(const char *xml, size_t n)
{
    XML_Parser p = XML_ParserCreate("UTF-8");
    bool ok = XML_Parse(p, xml, (int)n, 1) == XML_STATUS_OK;
    XML_ParserFree(p);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    struct xmlrpc_call call;
    char *err = NULL;
    if (xmlrpc_parse_call(body, size, &call, &err) < 0) {
        FUZZ_ASSERT(err && *err, "a refusal without a reason");
        struct strbuf fault;
        strbuf_init(&fault);
        xmlrpc_write_fault(&fault, 1, err);
        FUZZ_ASSERT(well_formed(fault.buf, fault.len), "fault not well-formed: %s", fault.buf);
        strbuf_free(&fault);
        free(err);
    } else {
        struct strbuf again;
        strbuf_init(&again);
        strbuf_adds(&again, "<?xml version='1.0'?><methodCall><methodName>");
        xmlrpc_escape(&again, call.method, strlen(call.method));
        strbuf_adds(&again, "</methodName><params>");
        for (size_t i = 0; i < call.params->n; i++) {
            strbuf_adds(&again, "<param>");
            xmlrpc_write_value(&again, call.params->items[i]);
            strbuf_adds(&again, "</param>");
        }
        strbuf_adds(&again, "</params></methodCall>");
        struct xmlrpc_call call2;
        char *err2 = NULL;
        int rc = xmlrpc_parse_call(again.buf, again.len, &call2, &err2);
        FUZZ_ASSERT(rc == 0, "written back, it does not parse: %s\n%s", err2, again.buf);
        FUZZ_ASSERT(strlen(call.method) == strlen(call2.method) || strchr(call.method, '\r'),
                    "method name changed");
        FUZZ_ASSERT(same(call.params, call2.params), "values changed:\n%s", again.buf);
        xmlrpc_call_free(&call2);
        strbuf_free(&again);
        xmlrpc_call_free(&call);
    }
    const char *keys[] = {"token", "name", "action"};
    for (size_t k = 0; k < 3; k++) {
        char *v = webpage_form_value(body, size, keys[k]);
        FUZZ_ASSERT(!v || strlen(v) <= size, "a form value longer than the body");
        free(v);
    }
    return 0;
}
