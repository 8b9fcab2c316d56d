/* logtail.h - the end of a log (a file or a ring copy) for `tend logs`; used by control.c. */
#ifndef TEND_LOGTAIL_H
#define TEND_LOGTAIL_H

#include <stddef.h>

/* The offset in buf where its last `lines` lines start (a final newline ends the last one). */
size_t logtail_offset(const char *buf, size_t n, long lines);
/* The last max bytes of the file at path (NULL when it cannot be read); *n gets the length. */
char *logtail_read(const char *path, size_t max, size_t *n);

#endif
