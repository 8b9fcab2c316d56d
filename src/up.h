/* up.h - `tend up`: the supervisor's front door. */
#ifndef TEND_UP_H
#define TEND_UP_H

/* argv[0] is "up"; config is -c FILE or NULL. Returns tend's exit status. */
int up_main(const char *config, int argc, char **argv);

#endif
