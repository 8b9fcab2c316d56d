/* log.c - tend's own log lines ("2026-11-24 00:01:02,123 INFO message") to stderr or the
 * [tend] logfile, one write(2) per line so lines never interleave. Calls nothing of tend. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum loglevel log_level = LOG_INFO;
static int log_fd = 2;
static char *log_path;
static int64_t log_maxbytes; /* 0: never rotate */
static int log_backups;
static int64_t log_size; /* of the open log file, while it is a regular file */
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
    struct stat st;
    log_size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : 0;
    if (path != log_path) {
        free(log_path);
        log_path = xstrdup(path);
    }
    return 0;
}

void log_set_rotation(int64_t maxbytes, int backups)
{
    log_maxbytes = maxbytes > 0 ? maxbytes : 0;
    log_backups = backups > 0 ? backups : 0;
}

/* supervisord's scheme, as for the programs' logs: file.N goes, file.i becomes file.(i+1),
 * file becomes file.1 (or is truncated when no backups are kept). */
static void log_rotate(void)
{
    struct stat st;
    if (lstat(log_path, &st) < 0 || !S_ISREG(st.st_mode)) {
        log_maxbytes = 0; /* a device, a FIFO, a symlink such as /dev/stdout: never renamed */
        return;
    }
    if (log_backups > 0) {
        char *dst = xasprintf("%s.%d", log_path, log_backups);
        for (int i = log_backups - 1; i >= 1; i--) {
            char *src = xasprintf("%s.%d", log_path, i);
            rename(src, dst);
            free(dst);
            dst = src;
        }
        rename(log_path, dst);
        free(dst);
    } else if (truncate(log_path, 0) < 0) {
        return;
    }
    log_open_file(log_path);
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
    if (w > 0 && log_path && log_maxbytes > 0 && (log_size += w) >= log_maxbytes) {
        log_rotate();
    }
    if (log_tap) {
        log_tap(log_tap_arg, line, (size_t)n);
    }
    errno = saved;
}
