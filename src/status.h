/* status.h - rendering of `tend status`, for control.c. */
#ifndef TEND_STATUS_H
#define TEND_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "supervise.h"
#include "util.h"

/* A JSON array of one object per process, and a newline. */
void status_render_json(struct strbuf *out, struct proc *const *targets, size_t n, double now);
/* The table, a header line and a line per process; color: ANSI colours for the states. */
void status_render_table(struct strbuf *out, struct proc *const *targets, size_t n, double now,
                         bool color);

#endif
