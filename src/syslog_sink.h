/* syslog_sink.h - stdout_syslog / stderr_syslog: a program's output sent to the system log,
 * one message per line with the process name as tag (user.info, as supervisord sends it).
 * Each sink has a datagram socket of its own to /dev/log ($TEND_SYSLOG_SOCKET overrides):
 * no openlog(3) state shared with tend's own log, and a slow or absent syslog daemon drops
 * lines instead of blocking the supervisor. */
#ifndef TEND_SYSLOG_SINK_H
#define TEND_SYSLOG_SINK_H

#include <stddef.h>
#include <stdint.h>

struct syslog_sink;

struct syslog_sink *syslog_sink_new(const char *tag);
void syslog_sink_free(struct syslog_sink *s);
/* Sends every complete line of buf; a partial line waits for its end (or a flush). */
void syslog_sink_write(struct syslog_sink *s, const char *buf, size_t n);
/* The child is gone: a partial last line is sent as it is. */
void syslog_sink_flush(struct syslog_sink *s);
/* Lines that could not be sent (no syslog daemon, its queue full). */
uint64_t syslog_sink_dropped(const struct syslog_sink *s);

#endif
