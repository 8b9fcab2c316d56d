/* protocol.c - the words of a control request: percent-encoding (%XX for '%', tab, newline, CR
 * and other control bytes) and decoding, shared by the client and the server. Calls util only. */
#include "protocol.h"

void
control_encode_word(struct strbuf *out, const char *word)
{
    for (const unsigned char *p = (const unsigned char *)word; *p; p++) {
        if (*p == '%' || *p < 0x20 || *p == 0x7f) {
            strbuf_addf(out, "%%%02X", *p);
        } else {
            strbuf_addc(out, (char)*p);
        }
    }
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

void
control_encode_bytes(struct strbuf *out, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)buf[i];
        if (b == '%' || b < 0x20 || b == 0x7f) {
            strbuf_addf(out, "%%%02X", b);
        } else {
            strbuf_addc(out, (char)b);
        }
    }
}

char *
control_decode_bytes(const char *s, size_t n, size_t *len)
{
    struct strbuf sb;
    strbuf_init(&sb);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            strbuf_addc(&sb, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
            i += 2;
        } else {
            strbuf_addc(&sb, s[i]);
        }
    }
    *len = sb.len;
    return strbuf_detach(&sb);
}

char *
control_decode_word(const char *s, size_t n)
{
    size_t len;
    return control_decode_bytes(s, n, &len);
}
