/* exitstatus.c - a wait status decoded once into code, signal and core flag, and the words and
 * shell status every front end prints for it. Calls values and util. */
#include "exitstatus.h"

#include <sys/wait.h>

#include "util.h"
#include "values.h"

struct exit_info
exit_decode(int wait_status)
{
    struct exit_info x = {.code = -1, .signal = 0, .core_dumped = false};
    if (WIFEXITED(wait_status)) {
        x.code = WEXITSTATUS(wait_status);
    } else if (WIFSIGNALED(wait_status)) {
        x.signal = WTERMSIG(wait_status);
#ifdef WCOREDUMP
        x.core_dumped = WCOREDUMP(wait_status) != 0;
#endif
    } else if (WIFSTOPPED(wait_status)) {
        /* not an end: callers only pass statuses of processes that are gone, but a stopped
         * one must not read as "exited with status 0" */
        x.code = -1;
    }
    return x;
}

char *
exit_describe(const struct exit_info *x)
{
    if (x->signal > 0) {
        return xasprintf("killed by signal %s%s", signal_name(x->signal),
                         x->core_dumped ? " (core dumped)" : "");
    }
    if (x->code >= 0) {
        return xasprintf("exited with status %d", x->code);
    }
    return xstrdup("ended in an unknown way");
}

int
exit_shell_code(const struct exit_info *x)
{
    if (x->signal > 0) {
        return 128 + x->signal;
    }
    if (x->code >= 0) {
        return x->code;
    }
    return 125;
}
