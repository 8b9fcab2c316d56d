/* run.h - `tend run`: one command as Python's communicate(input, timeout), or the programs of
 * a config file as a pool of one-shot jobs. */
#ifndef TEND_RUN_H
#define TEND_RUN_H

/* argv[0] is "run". config is the global -c FILE (or NULL); run also takes its own -c.
 * Returns tend's exit status. */
int run_main(const char *config, int argc, char **argv);

#endif
