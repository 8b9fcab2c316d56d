/* webpage.h - the status page at GET /: every process with its state, uptime, pid and last
 * log lines, and start/stop/restart buttons that POST (a GET never changes anything). Plain
 * HTML and CSS, no script; readable on a phone. */
#ifndef TEND_WEBPAGE_H
#define TEND_WEBPAGE_H

#include <stddef.h>

#include "supervise.h"
#include "util.h"

/* The page; token goes into every form and must come back with the POST. */
void webpage_write(struct strbuf *out, const struct supervisor *sv, const char *token,
                   const char *message, double now);

/* A POSTed form (application/x-www-form-urlencoded): the value of key, decoded, or NULL. */
char *webpage_form_value(const char *body, size_t len, const char *key);

/* Carries out action ("start", "stop", "restart") on the process name; returns a message for
 * the page (the caller frees it). */
char *webpage_act(struct supervisor *sv, const char *action, const char *name);

#endif
