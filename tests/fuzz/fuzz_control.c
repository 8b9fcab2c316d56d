/* fuzz_control.c - the request parser of the control socket (src/control.c). A request is one
 * line, "VERB<TAB>ARG...<LF>", each word percent-encoded; the server cuts the line at tabs and
 * decodes every word with control_decode_word(), exactly as done here. The harness checks:
 *   - decoding any bytes is memory-safe and never grows a word;
 *   - control_encode_word() writes no tab, newline, CR, other control byte or bare '%', and
 *     what it writes decodes back to the word (for every decoded word, and for the raw input);
 *   - a request line built from encoded words splits back into the same words. */
#include <stdbool.h>
#include <string.h>

#include "control.h"
#include "fuzz.h"
#include "util.h"

static bool hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The server's cutting of a request line (src/control.c client_request). */
static void split_request(const char *line, size_t len, struct strv *words)
{
    strv_init(words);
    const char *p = line, *end = line + len;
    while (p <= end) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        const char *stop = tab ? tab : end;
        strv_push_owned(words, control_decode_word(p, (size_t)(stop - p)));
        p = stop + 1;
    }
}

static void check_encoding(const char *word)
{
    struct strbuf enc;
    strbuf_init(&enc);
    control_encode_word(&enc, word);
    strbuf_addc(&enc, '\0');
    for (size_t i = 0; enc.buf[i]; i++) {
        unsigned char c = (unsigned char)enc.buf[i];
        FUZZ_ASSERT(c >= 0x20 && c != 0x7f, "control byte 0x%02x in the encoding of '%s'", c, word);
        if (c == '%') {
            FUZZ_ASSERT(hex(enc.buf[i + 1]) && hex(enc.buf[i + 2]), "bare %% in '%s'", enc.buf);
        }
    }
    size_t n = strlen(enc.buf);
    char *back = control_decode_word(enc.buf, n);
    FUZZ_ASSERT(strcmp(back, word) == 0, "'%s' -> '%s' -> '%s'", word, enc.buf, back);
    free(back);
    strbuf_free(&enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) {
        return 0;
    }
    /* the server handles the bytes before the first newline */
    const char *line = (const char *)data;
    const char *nl = memchr(line, '\n', size);
    size_t len = nl ? (size_t)(nl - line) : size;

    struct strv words;
    split_request(line, len, &words);
    size_t total = 0;
    for (size_t i = 0; i < words.n; i++) {
        total += strlen(words.v[i]);
        check_encoding(words.v[i]);
    }
    FUZZ_ASSERT(total <= len, "decoding grew the request");

    /* a request made of encoded words gives the words back */
    struct strbuf req;
    strbuf_init(&req);
    for (size_t i = 0; i < words.n; i++) {
        if (i) {
            strbuf_addc(&req, '\t');
        }
        control_encode_word(&req, words.v[i]);
    }
    strbuf_addc(&req, '\0');
    FUZZ_ASSERT(!strchr(req.buf, '\n'), "newline in an encoded request");
    struct strv again;
    split_request(req.buf, strlen(req.buf), &again);
    FUZZ_ASSERT(strv_equal(&words, &again), "encoded request splits differently: '%s'", req.buf);
    strv_free(&again);
    strbuf_free(&req);
    strv_free(&words);

    /* the raw input as one word */
    char *raw = xstrndup(line, size);
    check_encoding(raw);
    free(raw);
    return 0;
}
