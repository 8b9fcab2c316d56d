/* exitstatus.h - decoding a wait status once, for the supervisor's log lines, `tend run` and
 * the control protocol alike. */
#ifndef TEND_EXITSTATUS_H
#define TEND_EXITSTATUS_H

#include <stdbool.h>

struct exit_info {
    int code;   /* exit status 0-255, or -1 when killed by a signal */
    int signal; /* signal number, or 0 */
    bool core_dumped;
};

struct exit_info exit_decode(int wait_status);
/* "exited with status 1", "killed by signal KILL", "killed by signal SEGV (core dumped)" */
char *exit_describe(const struct exit_info *x);
/* The status a shell would report: the code, or 128 + signal. */
int exit_shell_code(const struct exit_info *x);

#endif
