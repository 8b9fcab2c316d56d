/* config_int.h - what the files of the configuration share (config.c, options.c); not for
 * the rest of tend, which uses config.h. */
#ifndef TEND_CONFIG_INT_H
#define TEND_CONFIG_INT_H

#include "config.h"

/* ---- options.c: the value types of options.def ---- */

/* Parses text into the field of base described by opt. The field must be unset (zeroed).
 * -1 with *err (a message without file:line) when the text is not a valid value. */
int option_parse(const struct option_def *opt, const char *text, void *base, char **err);
/* Frees what the field owns and leaves it unset. */
void option_free(const struct option_def *opt, void *base);
const struct option_def *find_option(const struct option_def *table, size_t n,
                                     const char *name);
/* " (did you mean X?)" for a misspelled option name, or "" when nothing is close. */
char *option_suggestion(const struct option_def *table, size_t n, const char *name);

#endif
