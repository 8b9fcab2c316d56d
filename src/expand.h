/* expand.h - supervisord-style string expansions: %(name)s, %(process_num)02d, %(ENV_X)s,
 * %(ENV_X:-fallback)s and %% for a literal percent sign (Python %-formatting with names). */
#ifndef TEND_EXPAND_H
#define TEND_EXPAND_H

/* Returns the value of a variable, or NULL when it is not defined. Names beginning with ENV_
 * are looked up by expand_string() itself in the process environment. */
typedef const char *(*expand_lookup_fn)(void *ctx, const char *name);

/* On success *out is a new string. On error (-1) *err says what is wrong, e.g.
 * "undefined variable %(ENV_HOME2)s" or "bad format '%(x)q'". */
int expand_string(const char *s, expand_lookup_fn lookup, void *ctx, char **out, char **err);

/* True when s references %(name) with any format (used to check process_name with numprocs). */
int expand_references(const char *s, const char *name);

#endif
