/* test_output.c - unit tests for output.c: log files and their rotation, reopen, write errors,
 * the prefixed console (fd 1 redirected), the ring buffer and the pipe readers on a real loop. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "output.h"
#include "tap.h"

static char test_dir[64];
static char test_log[128];

/* ---- helpers ---- */

static char *
test_path(const char *name)
{
    return xasprintf("%s/%s", test_dir, name);
}

/* The whole file in a new NUL-terminated buffer, or NULL when it cannot be read. */
static char *
test_read(const char *path, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *n = 0;
        return NULL;
    }
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_add(&sb, "", 0);
    char buf[4096];
    ssize_t r;
    while ((r = read(fd, buf, sizeof(buf))) > 0) {
        strbuf_add(&sb, buf, (size_t)r);
    }
    close(fd);
    *n = sb.len;
    return strbuf_detach(&sb);
}

/* The file under test_dir equals want[0..wantlen). */
static bool
test_file_is(const char *name, const char *want, size_t wantlen)
{
    char *path = test_path(name);
    size_t n;
    char *got = test_read(path, &n);
    bool ok = got && n == wantlen && memcmp(got, want, n) == 0;
    free(got);
    free(path);
    return ok;
}

static bool
test_exists(const char *name)
{
    char *path = test_path(name);
    bool ok = access(path, F_OK) == 0;
    free(path);
    return ok;
}

static long
test_size(const char *name)
{
    char *path = test_path(name);
    struct stat st;
    long size = stat(path, &st) == 0 ? (long)st.st_size : -1;
    free(path);
    return size;
}

/* How many times needle appears in tend's log so far. */
static int
test_log_count(const char *needle)
{
    size_t n;
    char *text = test_read(test_log, &n);
    int count = 0;
    for (const char *p = text; p && (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
        count++;
    }
    free(text);
    return count;
}

/* Bytes 'a'..'z' repeating, so that any misplaced byte shows. */
static void
test_pattern(char *buf, size_t n, size_t start)
{
    for (size_t i = 0; i < n; i++) {
        buf[i] = (char)('a' + (start + i) % 26);
    }
}

static struct output_options
test_options(const char *name, const char *path)
{
    struct output_options o = {.name = name, .stream = "stdout", .path = path};
    return o;
}

/* fd 1 goes to a file while the console is under test; TAP output waits until the end. */
static int console_saved = -1;

static void
console_begin(void)
{
    fflush(stdout);
    char *path = test_path("console");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    free(path);
    console_saved = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    close(fd);
}

static char *
console_end(size_t *n)
{
    dup2(console_saved, STDOUT_FILENO);
    close(console_saved);
    console_saved = -1;
    char *path = test_path("console");
    char *text = test_read(path, n);
    free(path);
    return text;
}

static int
test_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static double
test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- log files ---- */

static void
test_write_append(void)
{
    char *path = test_path("plain.log");
    struct output_options o = test_options("plain", path);
    struct output_sink *s = output_sink_new(&o);
    output_sink_write(s, "hello\n", 6);
    output_sink_write(s, "world\n", 6);
    TAP_OK(test_file_is("plain.log", "hello\nworld\n", 12), "lines land in the log file");
    TAP_OK(output_sink_bytes(s) == 12, "12 bytes counted");
    TAP_STREQ(output_sink_path(s), path, "the path is kept");
    struct stat st;
    TAP_OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "created 0644 (umask 022)");
    output_sink_free(s);

    s = output_sink_new(&o);
    output_sink_write(s, "again\n", 6);
    TAP_OK(test_file_is("plain.log", "hello\nworld\nagain\n", 18), "a new sink appends");
    TAP_OK(output_sink_write_errors(s) == 0, "no write errors");
    output_sink_free(s);

    struct output_options none = test_options("none", NULL);
    s = output_sink_new(&none);
    output_sink_write(s, "x", 1);
    TAP_OK(output_sink_path(s) == NULL && output_sink_bytes(s) == 1, "a sink without a file");
    output_sink_free(s);
    free(path);
}

static void
test_rotation(void)
{
    char *path = test_path("rot.log");
    struct output_options o = test_options("rot", path);
    o.maxbytes = 100;
    o.backups = 2;
    struct output_sink *s = output_sink_new(&o);
    char data[450];
    test_pattern(data, sizeof(data), 0);
    static const size_t chunks[] = {7, 13, 29, 31, 1, 97, 3, 61, 11, 45};
    size_t off = 0;
    for (size_t i = 0; off < sizeof(data); i++) {
        size_t n = chunks[i % ARRAY_SIZE(chunks)];
        if (n > sizeof(data) - off) {
            n = sizeof(data) - off;
        }
        output_sink_write(s, data + off, n);
        off += n;
    }
    TAP_OK(test_size("rot.log.1") == 100 && test_size("rot.log.2") == 100,
           "rotated files are exactly maxbytes (%ld, %ld)", test_size("rot.log.1"),
           test_size("rot.log.2"));
    TAP_OK(test_size("rot.log") == 50, "the live file holds the rest (%ld)", test_size("rot.log"));
    TAP_OK(!test_exists("rot.log.3"), "no file.3 with backups=2");
    /* 450 bytes = 4 full files + 50: the three files keep the last 250 bytes */
    TAP_OK(test_file_is("rot.log.2", data + 200, 100) &&
               test_file_is("rot.log.1", data + 300, 100) &&
               test_file_is("rot.log", data + 400, 50),
           "file.2 + file.1 + file = the last 250 bytes, in order");
    TAP_OK(output_sink_bytes(s) == 450 && output_sink_write_errors(s) == 0, "450 bytes, no error");
    output_sink_free(s);
    free(path);

    /* exactly maxbytes does not rotate yet; one chunk larger than several files is split */
    path = test_path("big.log");
    o = test_options("big", path);
    o.maxbytes = 100;
    o.backups = 5;
    s = output_sink_new(&o);
    output_sink_write(s, data, 100);
    TAP_OK(test_size("big.log") == 100 && !test_exists("big.log.1"), "a full file is not rotated");
    output_sink_write(s, data + 100, 250);
    TAP_OK(test_file_is("big.log.3", data, 100) && test_file_is("big.log.2", data + 100, 100) &&
               test_file_is("big.log.1", data + 200, 100) &&
               test_file_is("big.log", data + 300, 50) && !test_exists("big.log.4"),
           "a 250-byte chunk is split across three files");
    output_sink_free(s);
    free(path);

    /* an existing file already over the limit rotates before the first byte */
    path = test_path("over.log");
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    bool made = fd >= 0 && write(fd, data, 150) == 150;
    TAP_OK(made, "a 150-byte file exists");
    close(fd);
    o = test_options("over", path);
    o.maxbytes = 100;
    o.backups = 1;
    s = output_sink_new(&o);
    output_sink_write(s, "new", 3);
    TAP_OK(test_file_is("over.log.1", data, 150) && test_file_is("over.log", "new", 3),
           "the size comes from fstat at open");
    output_sink_free(s);
    free(path);
}

static void
test_truncate(void)
{
    char *path = test_path("trunc.log");
    struct output_options o = test_options("trunc", path);
    o.maxbytes = 100;
    o.backups = 0;
    struct output_sink *s = output_sink_new(&o);
    char data[250];
    test_pattern(data, sizeof(data), 0);
    for (size_t off = 0; off < sizeof(data); off += 25) {
        output_sink_write(s, data + off, 25);
    }
    TAP_OK(test_file_is("trunc.log", data + 200, 50), "backups=0 truncates at maxbytes");
    TAP_OK(!test_exists("trunc.log.1"), "backups=0 keeps no file.1");
    output_sink_free(s);
    free(path);

    path = test_path("never.log");
    o = test_options("never", path);
    o.maxbytes = 0;
    o.backups = 3;
    s = output_sink_new(&o);
    for (size_t off = 0; off < sizeof(data); off += 25) {
        output_sink_write(s, data + off, 25);
    }
    TAP_OK(test_file_is("never.log", data, 250) && !test_exists("never.log.1"),
           "maxbytes=0 never rotates");
    output_sink_free(s);
    free(path);
}

static void
test_reopen_and_rotate_now(void)
{
    char *path = test_path("reopen.log");
    char *moved = test_path("reopen.log.old");
    struct output_options o = test_options("reopen", path);
    struct output_sink *s = output_sink_new(&o);
    output_sink_write(s, "old\n", 4);
    int r = rename(path, moved);
    TAP_OK(r == 0, "logrotate moves the file");
    output_sink_write(s, "mid\n", 4);
    output_sink_reopen(s);
    output_sink_write(s, "new\n", 4);
    TAP_OK(test_file_is("reopen.log.old", "old\nmid\n", 8), "the moved file keeps the old lines");
    TAP_OK(test_file_is("reopen.log", "new\n", 4), "after reopen new lines go to a new file");
    output_sink_free(s);
    free(moved);
    free(path);

    path = test_path("now.log");
    o = test_options("now", path);
    o.backups = 3; /* maxbytes 0: rotation by request only */
    s = output_sink_new(&o);
    output_sink_write(s, "abc", 3);
    output_sink_rotate(s);
    TAP_OK(test_file_is("now.log.1", "abc", 3) && test_file_is("now.log", "", 0),
           "rotate now: file.1 has the bytes, the file is new");
    output_sink_write(s, "def", 3);
    output_sink_rotate(s);
    TAP_OK(test_file_is("now.log.2", "abc", 3) && test_file_is("now.log.1", "def", 3),
           "rotate again shifts the backups");
    output_sink_free(s);
    free(path);
}

static void
test_not_regular(void)
{
    char *path = test_path("fifo");
    int r = mkfifo(path, 0600);
    TAP_OK(r == 0, "mkfifo");
    int reader = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct output_options o = test_options("fifo", path);
    o.maxbytes = 10;
    o.backups = 1;
    struct output_sink *s = output_sink_new(&o);
    char data[100];
    test_pattern(data, sizeof(data), 0);
    output_sink_write(s, data, 60);
    output_sink_write(s, data + 60, 40);
    output_sink_rotate(s);
    char got[200];
    ssize_t n = read(reader, got, sizeof(got));
    TAP_OK(n == 100 && memcmp(got, data, 100) == 0, "a FIFO gets every byte (%zd)", n);
    TAP_OK(!test_exists("fifo.1"), "a FIFO is never rotated");
    TAP_OK(output_sink_write_errors(s) == 0, "no write errors on the FIFO");
    TAP_OK(test_log_count("fifo: stdout log") == 1 && test_log_count("rotation is off") == 1,
           "rotation off is logged once");
    output_sink_free(s);
    close(reader);

    /* no reader: the open must fail at once (ENXIO) instead of hanging tend */
    o.name = "deaffifo";
    s = output_sink_new(&o);
    output_sink_write(s, "x", 1);
    output_sink_write(s, "y", 1);
    TAP_OK(output_sink_write_errors(s) == 2, "a FIFO without reader: writes dropped, counted");
    TAP_OK(test_log_count("deaffifo: cannot open stdout log") == 1, "open failure logged once");
    output_sink_free(s);
    free(path);

    o = test_options("full", "/dev/full");
    s = output_sink_new(&o);
    for (int i = 0; i < 3; i++) {
        output_sink_write(s, "data\n", 5);
    }
    TAP_OK(output_sink_write_errors(s) == 3 && output_sink_bytes(s) == 15,
           "ENOSPC: three errors, bytes still counted");
    TAP_OK(test_log_count("full: cannot write stdout log /dev/full: No space left") == 1,
           "ENOSPC is reported once");
    TAP_OK(test_log_count("full: stdout log /dev/full is not a regular") == 0,
           "maxbytes=0: nothing said about rotation");
    output_sink_free(s);
}

static void
test_write_error(void)
{
    char *dir = test_path("gone");
    char *path = test_path("gone/out.log");
    int r = mkdir(dir, 0755);
    TAP_OK(r == 0, "mkdir gone");
    struct output_options o = test_options("gone", path);
    o.maxbytes = 10;
    o.backups = 1;
    struct output_sink *s = output_sink_new(&o);
    output_sink_write(s, "12345", 5);
    r = unlink(path) == 0 ? rmdir(dir) : -1;
    TAP_OK(r == 0, "the directory is removed");
    output_sink_write(s, "abcdefghijklmnopqrst", 20); /* forces a rotation: its open fails */
    TAP_OK(output_sink_write_errors(s) == 1, "the failed rotation is counted");
    output_sink_write(s, "more", 4);
    output_sink_write(s, "more", 4);
    TAP_OK(output_sink_write_errors(s) == 3, "later writes are dropped and counted");
    TAP_OK(output_sink_bytes(s) == 33, "later writes are still counted in bytes");
    TAP_OK(test_log_count("gone: cannot write stdout log") == 1, "reported once");

    r = mkdir(dir, 0755);
    TAP_OK(r == 0, "the directory is back");
    output_sink_reopen(s);
    output_sink_write(s, "back\n", 5);
    TAP_OK(test_file_is("gone/out.log", "back\n", 5), "reopen recovers");
    TAP_OK(output_sink_write_errors(s) == 3, "no new error after recovery");

    r = unlink(path) == 0 ? rmdir(dir) : -1;
    TAP_OK(r == 0, "the directory is removed again");
    output_sink_write(s, "0123456789", 10);
    TAP_OK(output_sink_write_errors(s) == 4, "the new failure is counted");
    TAP_OK(test_log_count("gone: cannot write stdout log") == 2,
           "a new failure after a success is reported again");
    output_sink_free(s);

    /* a sink whose directory never existed works without its file */
    char *missing = test_path("nodir/x.log");
    o = test_options("nodir", missing);
    s = output_sink_new(&o);
    output_sink_write(s, "a", 1);
    output_sink_rotate(s);
    TAP_OK(output_sink_write_errors(s) == 1 && test_log_count("nodir: cannot open") == 1 &&
               test_log_count("nodir: cannot") == 1,
           "an open failure: reported once, writes counted");
    output_sink_free(s);
    free(missing);
    free(path);
    free(dir);
}

/* ---- console ---- */

static void
test_console(void)
{
    struct output_options o = test_options("web", NULL);
    o.console = true;
    o.prefix_width = 5;
    struct output_options o2 = test_options("db", NULL);
    o2.console = true;
    o2.prefix_width = 5;
    struct output_sink *a = output_sink_new(&o);
    struct output_sink *b = output_sink_new(&o2);
    console_begin();
    output_sink_write(a, "hel", 3);
    output_sink_write(b, "b1\n", 3);
    output_sink_write(a, "lo\nwor", 6);
    output_sink_write(a, "ld\n\n", 4);
    output_sink_write(a, "tail", 4);
    output_sink_flush(a);
    output_sink_flush(a);
    output_sink_flush(b);
    size_t n;
    char *got = console_end(&n);
    TAP_STREQ(got,
              "db    | b1\n"
              "web   | hello\n"
              "web   | world\n"
              "web   | \n"
              "web   | tail\n",
              "partial lines wait for their end; flush adds the newline once");
    free(got);

    /* 2 x 8192 + 100 bytes: three pieces; exactly 8192 and its newline: one line */
    size_t len = 2 * 8192 + 100;
    char *line = xmalloc(len + 1);
    memset(line, 'x', len);
    line[len] = '\n';
    console_begin();
    output_sink_write(a, line, 5000);
    output_sink_write(a, line + 5000, len + 1 - 5000);
    output_sink_write(b, line, 8192);
    output_sink_write(b, "\n", 1);
    got = console_end(&n);
    struct strbuf want;
    strbuf_init(&want);
    for (int i = 0; i < 2; i++) {
        strbuf_adds(&want, "web   | ");
        strbuf_add(&want, line, 8192);
        strbuf_addc(&want, '\n');
    }
    strbuf_adds(&want, "web   | ");
    strbuf_add(&want, line, 100);
    strbuf_addc(&want, '\n');
    strbuf_adds(&want, "db    | ");
    strbuf_add(&want, line, 8192);
    strbuf_addc(&want, '\n');
    TAP_OK(got && n == want.len && memcmp(got, want.buf, n) == 0,
           "long lines come in 8 KiB pieces, each prefixed (%zu bytes, want %zu)", n, want.len);
    free(got);
    free(line);

    /* every byte but the newline passes through unchanged */
    char bin[256];
    size_t nb = 0;
    for (int c = 0; c < 256; c++) {
        if (c != '\n') {
            bin[nb++] = (char)c;
        }
    }
    console_begin();
    output_sink_write(a, bin, 100);
    output_sink_write(a, bin + 100, nb - 100);
    output_sink_write(a, "\n", 1);
    got = console_end(&n);
    strbuf_reset(&want);
    strbuf_adds(&want, "web   | ");
    strbuf_add(&want, bin, nb);
    strbuf_addc(&want, '\n');
    TAP_OK(got && n == want.len && memcmp(got, want.buf, n) == 0, "binary bytes pass through");
    free(got);
    strbuf_free(&want);
    output_sink_free(a);
    output_sink_free(b);

    /* colour around the padded name only; a name longer than the width is not cut */
    o = test_options("ab", NULL);
    o.console = true;
    o.prefix_width = 4;
    o.color = 3;
    a = output_sink_new(&o);
    o2 = test_options("longname", NULL);
    o2.console = true;
    o2.prefix_width = 4;
    o2.color = output_color_for(7);
    b = output_sink_new(&o2);
    console_begin();
    output_sink_write(a, "x\n", 2);
    output_sink_write(b, "y\n", 2);
    got = console_end(&n);
    TAP_STREQ(got, "\033[33mab  \033[0m | x\n\033[32mlongname\033[0m | y\n", "coloured prefixes");
    free(got);
    output_sink_free(a);
    output_sink_free(b);

    /* a closed reader: EPIPE (SIGPIPE is ignored by tend) is counted and reported once */
    int fds[2];
    int r = pipe2(fds, O_CLOEXEC);
    TAP_OK(r == 0, "pipe");
    close(fds[0]);
    o = test_options("epipe", NULL);
    o.console = true;
    a = output_sink_new(&o);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[1]);
    output_sink_write(a, "one\ntwo\n", 8);
    output_sink_write(a, "three\n", 6);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    TAP_OK(output_sink_console_errors(a) == 3 && output_sink_write_errors(a) == 0,
           "console EPIPE: three lines dropped and counted");
    TAP_OK(test_log_count("epipe: cannot write stdout to the console: Broken pipe") == 1,
           "console EPIPE reported once");
    output_sink_free(a);
}

static void
test_colors(void)
{
    TAP_OK(output_color_for(0) == 1 && output_color_for(5) == 6 && output_color_for(6) == 1 &&
               output_color_for(13) == 2,
           "colours cycle 1..6");

    console_begin();
    bool file_color = output_console_use_color();
    size_t n;
    free(console_end(&n));
    TAP_OK(!file_color, "no colour when stdout is a file");

    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
        if (master >= 0) {
            close(master);
        }
        TAP_OK(1, "# SKIP no pty");
        return;
    }
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(slave, STDOUT_FILENO);
    unsetenv("NO_COLOR");
    bool unset = output_console_use_color();
    setenv("NO_COLOR", "", 1);
    bool empty = output_console_use_color();
    setenv("NO_COLOR", "1", 1);
    bool set = output_console_use_color();
    unsetenv("NO_COLOR");
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(slave);
    close(master);
    TAP_OK(unset && empty && !set, "a tty: colour unless NO_COLOR is non-empty (%d %d %d)", unset,
           empty, set);
}

/* ---- strip_ansi ---- */

static void
test_strip_ansi(void)
{
    struct output_options o = test_options("ansi", NULL);
    o.ring_size = 64;
    o.strip_ansi = true;
    struct output_sink *s = output_sink_new(&o);
    /* sequences cut across chunks, an empty chunk after stripping, a two-byte ESC sequence */
    const char *chunks[] = {"a\033[1;3", "1mb\033", "[0m", "c\033[2K\033", "(Bd",
                            "\033]0;title\007\033]2;t2\033\\\n"};
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        output_sink_write(s, chunks[i], strlen(chunks[i]));
    }
    size_t n;
    char *got = output_sink_ring_copy(s, &n);
    TAP_OK(n == 5 && memcmp(got, "abcd\n", 5) == 0,
           "strip_ansi removes CSI, OSC and other ESC sequences, also cut across chunks");
    free(got);
    output_sink_free(s);
}

/* ---- ring ---- */

static void
test_ring(void)
{
    struct output_options o = test_options("ring", NULL);
    o.ring_size = 10;
    struct output_sink *s = output_sink_new(&o);
    size_t n;
    char *got = output_sink_ring_copy(s, &n);
    TAP_OK(n == 0 && got && got[0] == '\0', "an empty ring");
    free(got);

    output_sink_write(s, "abc", 3);
    got = output_sink_ring_copy(s, &n);
    TAP_OK(n == 3 && memcmp(got, "abc", 3) == 0, "ring keeps the first bytes");
    free(got);
    output_sink_write(s, "defghij", 7);
    got = output_sink_ring_copy(s, &n);
    TAP_OK(n == 10 && memcmp(got, "abcdefghij", 10) == 0, "ring exactly full");
    free(got);
    output_sink_write(s, "klm", 3);
    got = output_sink_ring_copy(s, &n);
    TAP_OK(n == 10 && memcmp(got, "defghijklm", 10) == 0, "ring after wrap-around");
    free(got);
    output_sink_write(s, "nopqrst", 7);
    output_sink_write(s, "uv", 2);
    got = output_sink_ring_copy(s, &n);
    TAP_OK(n == 10 && memcmp(got, "mnopqrstuv", 10) == 0, "ring after a second wrap");
    free(got);
    output_sink_write(s, "0123456789ABCDEFGHIJKLMNO", 25);
    got = output_sink_ring_copy(s, &n);
    TAP_OK(n == 10 && memcmp(got, "FGHIJKLMNO", 10) == 0, "a chunk larger than the ring");
    free(got);
    output_sink_free(s);
}

/* ---- pipes on a real loop ---- */

static int test_eofs;

static void
test_eof_cb(struct output_pipe *p, void *data)
{
    (void)p;
    TAP_OK(data == &test_eofs, "the EOF callback gets its data");
    test_eofs++;
}

/* Runs the loop without blocking until cond holds or 5 seconds passed. */
#define TEST_RUN_UNTIL(loop, cond)                                                                 \
    do {                                                                                           \
        double deadline_ = test_now() + 5;                                                         \
        while (!(cond) && test_now() < deadline_) {                                                \
            ev_run((loop), EVRUN_NOWAIT);                                                          \
            usleep(1000);                                                                          \
        }                                                                                          \
    } while (0)

static int
test_nonblocking_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) < 0) {
        return -1;
    }
    return fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
}

static void
test_pipe(void)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    size_t total = 300000;
    struct output_options o = test_options("pipe", NULL);
    o.ring_size = total + 6;
    struct output_sink *s = output_sink_new(&o);
    int fds[2];
    int r = test_nonblocking_pipe(fds);
    TAP_OK(r == 0, "a non-blocking pipe");
    struct output_pipe *p = output_pipe_new(loop, fds[0], s);
    output_pipe_set_eof_cb(p, test_eof_cb, &test_eofs);
    ssize_t w = write(fds[1], "hello\n", 6);
    TAP_OK(w == 6, "the child writes a line");
    TEST_RUN_UNTIL(loop, output_sink_bytes(s) == 6);
    TAP_OK(output_sink_bytes(s) == 6 && !output_pipe_done(p), "the loop delivers it");

    /* more than the pipe holds, from another process, then EOF */
    pid_t pid = fork();
    if (pid == 0) {
        char *data = malloc(total);
        test_pattern(data, total, 0);
        ssize_t put = 0;
        for (size_t off = 0; off < total; off += (size_t)put) {
            put = write(fds[1], data + off, total - off);
            if (put <= 0) {
                _exit(1);
            }
        }
        _exit(0);
    }
    close(fds[1]);
    TEST_RUN_UNTIL(loop, output_pipe_done(p));
    int status;
    waitpid(pid, &status, 0);
    TAP_OK(output_pipe_done(p) && test_eofs == 1, "EOF closes the pipe and calls back once");
    TAP_OK(output_sink_bytes(s) == total + 6, "every byte arrived (%llu)",
           (unsigned long long)output_sink_bytes(s));
    size_t n;
    char *got = output_sink_ring_copy(s, &n);
    char *want = xmalloc(total);
    test_pattern(want, total, 0);
    TAP_OK(n == total + 6 && memcmp(got, "hello\n", 6) == 0 && memcmp(got + 6, want, total) == 0,
           "in order and intact");
    free(want);
    free(got);
    ev_run(loop, EVRUN_NOWAIT);
    TAP_OK(test_eofs == 1, "a closed pipe is not watched any more");
    output_pipe_drain_and_free(p);
    output_sink_free(s);

    /* the child exited before the loop read: drain reads the rest and flushes the last line */
    o = test_options("drain", NULL);
    o.console = true;
    s = output_sink_new(&o);
    r = test_nonblocking_pipe(fds);
    TAP_OK(r == 0, "a second pipe");
    p = output_pipe_new(loop, fds[0], s);
    w = write(fds[1], "abc\ndef", 7);
    TAP_OK(w == 7, "data left in the pipe");
    close(fds[1]);
    console_begin();
    output_pipe_drain_and_free(p);
    got = console_end(&n);
    TAP_STREQ(got, "drain | abc\ndrain | def\n", "drain_and_free reads the rest and flushes");
    free(got);
    TAP_OK(output_sink_bytes(s) == 7, "7 bytes drained");

    /* a grandchild keeps the write end open: drain stops at EAGAIN */
    r = test_nonblocking_pipe(fds);
    TAP_OK(r == 0, "a third pipe");
    p = output_pipe_new(loop, fds[0], s);
    w = write(fds[1], "zz", 2);
    TAP_OK(w == 2, "two bytes, write end kept open");
    console_begin();
    output_pipe_drain_and_free(p);
    free(console_end(&n));
    TAP_OK(output_sink_bytes(s) == 9, "drain returns at EAGAIN with the bytes read");
    close(fds[1]);
    output_sink_free(s);

    /* a writer that never stops cannot hold the drain */
    o = test_options("forever", NULL);
    s = output_sink_new(&o);
    r = test_nonblocking_pipe(fds);
    TAP_OK(r == 0, "a fourth pipe");
    fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
    pid = fork();
    if (pid == 0) {
        char buf[65536];
        memset(buf, 'w', sizeof(buf));
        for (;;) {
            if (write(fds[1], buf, sizeof(buf)) < 0) {
                _exit(0);
            }
        }
    }
    close(fds[1]);
    p = output_pipe_new(loop, fds[0], s);
    struct pollfd ready = {.fd = fds[0], .events = POLLIN};
    poll(&ready, 1, 5000); /* the writer is running */
    double start = test_now();
    output_pipe_drain_and_free(p);
    double took = test_now() - start;
    /* at most the drain's byte bound, overshot by one read at the most */
    TAP_OK(output_sink_bytes(s) > 0 &&
               output_sink_bytes(s) <= OUTPUT_DRAIN_BYTES + CHILD_READ_SIZE && took < 2,
           "drain is bounded (%llu bytes, %.3f s)", (unsigned long long)output_sink_bytes(s), took);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    output_sink_free(s);
    ev_loop_destroy(loop);
}

int
main(void)
{
    umask(022);
    signal(SIGPIPE, SIG_IGN); /* as tend does */
    snprintf(test_dir, sizeof(test_dir), "/tmp/tend-output-XXXXXX");
    if (!mkdtemp(test_dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(test_log, sizeof(test_log), "%s/tend.log", test_dir);
    if (log_open_file(test_log) < 0) {
        perror("log_open_file");
        return 1;
    }
    test_write_append();
    test_rotation();
    test_truncate();
    test_reopen_and_rotate_now();
    test_not_regular();
    test_write_error();
    test_console();
    test_colors();
    test_strip_ansi();
    test_ring();
    test_pipe();
    log_close();
    nftw(test_dir, test_remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return tap_done();
}
