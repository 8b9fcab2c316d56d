/* logtail.c - the end of a log for `tend logs`: where the last N lines of a buffer start, and
 * the last bytes of a file. Calls util only. */
#include "logtail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* The last `lines` lines of buf[0..n). */
size_t
logtail_offset(const char *buf, size_t n, long lines)
{
    size_t i = n;
    if (i > 0 && buf[i - 1] == '\n') {
        i--;
    }
    long seen = 0;
    while (i > 0) {
        if (buf[i - 1] == '\n' && ++seen == lines) {
            return i;
        }
        i--;
    }
    return 0;
}

char *
logtail_read(const char *path, size_t max, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *n = 0;
    if (fd < 0) {
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return NULL;
    }
    off_t start = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
    size_t want = (size_t)(st.st_size - start);
    char *buf = xmalloc(want + 1);
    ssize_t got = pread(fd, buf, want, start);
    close(fd);
    *n = got > 0 ? (size_t)got : 0;
    return buf;
}
