/* log.c - tend's own log lines: "2026-11-24 00:01:02,123 INFO message", to stderr or to the
 * [tend] logfile. One write(2) per line, so lines never interleave with the programs' output. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum loglevel log_level = LOG_INFO;
static int log_fd = 2;
static char *log_path;
static void (*log_tap)(void *arg, const char *line, size_t n);
static void *log_tap_arg;

void log_set_tap(void (*fn)(void *arg, const char *line, size_t n), void *arg)
{
    log_tap = fn;
    log_tap_arg = arg;
}

static const char *const level_names[] = {"CRIT", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

void log_set_level(enum loglevel level)
{
    log_level = level;
}

int log_open_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -1;
    }
    if (log_fd > 2) {
        close(log_fd);
    }
    log_fd = fd;
    if (path != log_path) {
        free(log_path);
        log_path = xstrdup(path);
    }
    return 0;
}

void log_reopen(void)
{
    if (log_path && log_open_file(log_path) < 0) {
        log_error("cannot reopen log file %s: %s", log_path, strerror(errno));
    }
}

void log_close(void)
{
    if (log_fd > 2) {
        close(log_fd);
    }
    log_fd = 2;
    free(log_path);
    log_path = NULL;
}

void log_msg(enum loglevel level, const char *fmt, ...)
{
    if (level > log_level) {
        return;
    }
    int saved = errno;
    char line[4096];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    int n = (int)strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
    n += snprintf(line + n, sizeof(line) - (size_t)n, ",%03ld %s ", (long)(tv.tv_usec / 1000),
                  level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0) {
        m = 0;
    }
    n += m;
    if (n > (int)sizeof(line) - 2) {
        n = (int)sizeof(line) - 2;
    }
    line[n++] = '\n';
    /* a full disk or a closed stderr must not stop tend: the line is lost, nothing more */
    ssize_t w = write(log_fd, line, (size_t)n);
    (void)w;
    if (log_tap) {
        log_tap(log_tap_arg, line, (size_t)n);
    }
    errno = saved;
}
