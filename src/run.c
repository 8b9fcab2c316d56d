/* run.c - `tend run` (stub until the runner lands). */
#include "run.h"

#include <stdio.h>

int run_main(const char *config, int argc, char **argv)
{
    (void)config;
    (void)argc;
    (void)argv;
    fprintf(stderr, "tend: run: not implemented yet\n");
    return 125;
}
