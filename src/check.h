/* check.h - `tend check`: validate a configuration and print its effective form. */
#ifndef TEND_CHECK_H
#define TEND_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* Prints the effective configuration as INI text tend can read back. The variables of an
 * env_file are listed by name (in a comment), with their values only when show_env is set. */
void check_print_ini(const struct config *cfg, FILE *out, bool show_env);
/* Prints it as one JSON object: file, files, global, groups, processes (env_file_vars, and
 * env_file_values with show_env, for a process with an env_file). */
void check_print_json(const struct config *cfg, FILE *out, bool show_env);

#endif
