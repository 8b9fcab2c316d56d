/* check.h - `tend check`: validate a configuration and print its effective form. */
#ifndef TEND_CHECK_H
#define TEND_CHECK_H

#include <stdio.h>

#include "config.h"

/* Prints the effective configuration as INI text tend can read back. */
void check_print_ini(const struct config *cfg, FILE *out);
/* Prints it as one JSON object: file, files, global, groups, processes. */
void check_print_json(const struct config *cfg, FILE *out);

#endif
