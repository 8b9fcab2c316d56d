/* log.h - tend's own messages: a timestamp, a level and one line, to stderr or to the
 * [tend] logfile. Levels below the configured one are dropped. */
#ifndef TEND_LOG_H
#define TEND_LOG_H

#include "config.h"
#include "util.h"

void log_set_level(enum loglevel level);
/* Sends messages to path (appending) instead of stderr; -1 with errno when it cannot open. */
int log_open_file(const char *path);
/* Reopens the log file (SIGUSR2). */
void log_reopen(void);
/* [tend] logfile_maxbytes and logfile_backups: the log file is rotated as program logs are
 * (file.1 ... file.N) when it reaches maxbytes; 0 never. Only a regular file, never a symlink
 * such as /dev/stdout, is rotated. */
void log_set_rotation(int64_t maxbytes, int backups);
void log_close(void);

/* One observer of every line written (supervisorctl maintail -f); fn NULL removes it. */
void log_set_tap(void (*fn)(void *arg, const char *line, size_t n), void *arg);

void log_msg(enum loglevel level, const char *fmt, ...) PRINTF_LIKE(2, 3);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
