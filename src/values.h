/* values.h - parsers and printers for the value types of tend's configuration:
 * durations, sizes, booleans, signals, exit-code sets, shell-like words and KEY=VALUE lists.
 * Every parser returns 0 on success or -1 with a human message in err (never NULL on -1). */
#ifndef TEND_VALUES_H
#define TEND_VALUES_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* Durations are kept in milliseconds: "10" (seconds), "1.5", "500ms", "2s", "1m", "1h". */
int value_parse_duration(const char *s, int64_t *ms, char **err);
/* Canonical text that parses back to the same value: "0", "500ms", "2s", "1m", "1h30m"... */
char *value_format_duration(int64_t ms);

/* Sizes in bytes: "1024", "10KB", "50MB", "1GB" (powers of 1024, as supervisord; KiB/K also). */
int value_parse_size(const char *s, int64_t *bytes, char **err);
char *value_format_size(int64_t bytes);

/* true/false, yes/no, on/off, 1/0; case-insensitive. */
int value_parse_bool(const char *s, bool *b, char **err);

/* Integer in [min, max], decimal only. */
int value_parse_int(const char *s, long min, long max, long *out, char **err);

/* Octal file mode creation mask such as "022" or "0o022". */
int value_parse_octal(const char *s, int *out, char **err);

/* Signal by name ("TERM", "SIGTERM", "term") or number ("15"). */
int value_parse_signal(const char *s, int *sig, char **err);
/* "TERM" for 15; a static string; "SIG<n>" style numbers for unnamed ones via a static buffer. */
const char *signal_name(int sig);

/* A set of exit codes 0..255: "0,2" */
struct exitcodes {
    uint8_t bits[32];
};
int value_parse_exitcodes(const char *s, struct exitcodes *out, char **err);
bool exitcodes_has(const struct exitcodes *e, int code);
char *value_format_exitcodes(const struct exitcodes *e);

/* Splits a command into words like a POSIX shell (quotes, backslashes), without running one:
 * no expansion of $, globs or operators. Newlines count as blanks. An empty result is an error. */
int value_split_command(const char *s, struct strv *argv, char **err);
/* Quotes words so value_split_command() gives them back (used by `tend check`). */
char *value_join_command(const struct strv *argv);

/* supervisord's environment syntax: KEY="value",KEY2=value2 -> "KEY=value" entries. */
int value_parse_environment(const char *s, struct strv *env, char **err);

/* Comma- or blank-separated list of names: "a, b c" -> {"a","b","c"}; empty items skipped. */
void value_split_list(const char *s, struct strv *out);

#endif
