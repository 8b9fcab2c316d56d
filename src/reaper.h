/* reaper.h - SIGCHLD from a signalfd, each known pid reaped by itself (reaper.c). */
#ifndef TEND_REAPER_H
#define TEND_REAPER_H

#include <stdbool.h>

struct supervisor;

/* Blocks SIGCHLD and reads it from a signalfd in the loop; every exit goes to
 * supervisor_reaped. False (nothing changed) when there is no signalfd. */
bool reaper_init(struct supervisor *sv);
void reaper_free(struct supervisor *sv);

#endif
