/* protocol.h - encoding of the words of a control request (the protocol is described in
 * control.h and tend(1)); used by client.c, main.c and control.c. */
#ifndef TEND_PROTOCOL_H
#define TEND_PROTOCOL_H

#include <stddef.h>

#include "util.h"

/* Percent-encoding of one word of a request. */
void control_encode_word(struct strbuf *out, const char *word);
char *control_decode_word(const char *s, size_t n);
/* The same for arbitrary bytes (NUL included): `tend send -` encodes its data once more. */
void control_encode_bytes(struct strbuf *out, const char *buf, size_t n);
char *control_decode_bytes(const char *s, size_t n, size_t *len);

#endif
