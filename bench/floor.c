/* floor.c - the bare work every benchmark is compared with, and the small tools the bench
 * scripts share. Build: cc -O2 -o bench/floor bench/floor.c
 *
 * The floor (what any supervisor or runner must at least do):
 *   floor spawn N PROG [ARG...]       fork+exec N children, then wait for them (start-up floor)
 *   floor respawn COUNT PROG [ARG...] fork+exec+waitpid PROG COUNT times back to back
 *                                     (reaction floor; PROG is `floor stamp FILE`)
 *   floor forkexec COUNT PROG [ARG...] median ns of one bare fork+exec+waitpid of PROG
 *   floor pipe1k COUNT                median ns of fork+exec+wait of /bin/cat with 1 KiB in
 *                                     and out through pipes, in this process
 *   floor runcat                      a C program doing what `tend run -- cat` does: pipes,
 *                                     fork+exec cat, pump stdin into it and its output to
 *                                     stdout, wait (the one-shot floor as a program)
 *   floor write BYTES                 write BYTES of 64-byte text lines to stdout in 64 KiB
 *                                     writes (straight to a file when stdout is one)
 *   floor relay BYTES FILE            a `floor write` child on a pipe, relayed into FILE with
 *                                     poll + read + write of 64 KiB (the bare work of log capture)
 * Tools:
 *   floor stamp FILE                  append "START_NS END_NS\n" (CLOCK_MONOTONIC) to FILE, exit
 *   floor launch NAME N TIMEOUT_S CMD [ARG...]
 *                                     start CMD in a new session, then poll /proc until N
 *                                     processes have comm NAME; print "NS PID" (NS = launch to
 *                                     the N-th running child; -1 on timeout); CMD keeps running.
 *                                     Scans take at most 1/3 of a CPU (pause = 2 x scan time,
 *                                     at least 0.2 ms). $FLOOR_LOG gets CMD's output,
 *                                     $FLOOR_PIDFILE its pid at once (for cleanup traps)
 *   floor pids NAME                   print the pid of every process whose comm is NAME
 *   floor count NAME                  print how many live (not zombie) processes have comm NAME
 *   floor timecmd COUNT INFILE CMD [ARG...]
 *                                     run CMD COUNT times, stdin from INFILE, stdout read
 *                                     through a pipe and dropped; print median and p99 ns
 *   floor waitsize PATH BYTES TIMEOUT_S
 *                                     poll (2 ms) until PATH, or the files of directory PATH,
 *                                     hold BYTES; print the monotonic ns then (-1: timeout)
 *   floor drain                       read stdin to EOF; print the bytes read to stderr
 *   floor tree PID                    print PID and every descendant, one a line
 *   floor pstat PID [SKIPCOMM]        sum over PID and its descendants (but those named
 *                                     SKIPCOMM): "PROCS CTXT_SWITCHES CPU_TICKS RSS_KB PSS_KB
 *                                     PRIVATE_KB" (Private_Clean + Private_Dirty)
 *   floor now                         print CLOCK_MONOTONIC in ns
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    perror(what);
    exit(125);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void print_stats(int64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp64);
    int p99 = (int)((n - 1) * 0.99 + 0.5);
    printf("%lld %lld\n", (long long)v[n / 2], (long long)v[p99]);
}

static pid_t spawn(char **argv, int in, int out)
{
    pid_t pid = fork();
    if (pid < 0) {
        die("fork");
    }
    if (pid == 0) {
        if (in >= 0 && in != 0) {
            dup2(in, 0);
            close(in);
        }
        if (out >= 0 && out != 1) {
            dup2(out, 1);
            close(out);
        }
        execv(argv[0], argv);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int wait_for(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            die("waitpid");
        }
    }
    return st;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- floor spawn: fork+exec N children, wait ---- */
static int do_spawn(int n, char **argv)
{
    for (int i = 0; i < n; i++) {
        spawn(argv, -1, -1);
    }
    while (wait(NULL) > 0 || errno == EINTR) {
    }
    return 0;
}

static int do_respawn(int n, char **argv)
{
    for (int i = 0; i < n; i++) {
        wait_for(spawn(argv, -1, -1));
    }
    return 0;
}

static int do_forkexec(int n, char **argv)
{
    int64_t *v = calloc((size_t)n, sizeof(*v));
    for (int i = 0; i < n; i++) {
        int64_t t = now_ns();
        wait_for(spawn(argv, -1, -1));
        v[i] = now_ns() - t;
    }
    print_stats(v, n);
    return 0;
}

/* pumps in -> child's stdin and child's stdout -> out with poll, as a runner does */
static void pump(int src, int to_child, int from_child, int dst)
{
    char buf[65536];
    size_t have = 0, off = 0;
    int in_open = src >= 0, cin_open = 1, cout_open = 1;
    if (!in_open) {
        close(to_child);
        cin_open = 0;
    }
    while (cout_open) {
        struct pollfd p[3];
        int np = 0, iin = -1, icin = -1, icout;
        if (in_open && have == 0) {
            p[np].fd = src;
            p[np].events = POLLIN;
            iin = np++;
        }
        if (cin_open && have > 0) {
            p[np].fd = to_child;
            p[np].events = POLLOUT;
            icin = np++;
        }
        p[np].fd = from_child;
        p[np].events = POLLIN;
        icout = np++;
        if (poll(p, (nfds_t)np, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("poll");
        }
        if (iin >= 0 && p[iin].revents) {
            ssize_t r = read(src, buf, sizeof(buf));
            if (r <= 0) {
                in_open = 0;
                close(to_child);
                cin_open = 0;
            } else {
                have = (size_t)r;
                off = 0;
            }
        }
        if (icin >= 0 && p[icin].revents) {
            ssize_t w = write(to_child, buf + off, have);
            if (w < 0) {
                close(to_child);
                cin_open = 0;
                in_open = 0;
                have = 0;
            } else {
                off += (size_t)w;
                have -= (size_t)w;
            }
        }
        if (p[icout].revents) {
            char obuf[65536];
            ssize_t r = read(from_child, obuf, sizeof(obuf));
            if (r <= 0) {
                cout_open = 0;
            } else if (dst >= 0) {
                write_all(dst, obuf, (size_t)r);
            }
        }
    }
    if (cin_open) {
        close(to_child);
    }
}

static int run_cat(int src, int dst)
{
    int pin[2], pout[2];
    if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0) {
        die("pipe");
    }
    char *argv[] = {"/bin/cat", NULL};
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = fork();
    if (pid < 0) {
        die("fork");
    }
    if (pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    pump(src, pin[1], pout[0], dst);
    close(pout[0]);
    int st = wait_for(pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int do_pipe1k(int n)
{
    int64_t *v = calloc((size_t)n, sizeof(*v));
    char data[1024];
    memset(data, 'x', sizeof(data));
    data[sizeof(data) - 1] = '\n';
    int devnull = open("/dev/null", O_WRONLY);
    for (int i = 0; i < n; i++) {
        int src[2];
        if (pipe2(src, O_CLOEXEC) < 0) {
            die("pipe");
        }
        write_all(src[1], data, sizeof(data)); /* fits in the pipe */
        close(src[1]);
        int64_t t = now_ns();
        run_cat(src[0], devnull);
        v[i] = now_ns() - t;
        close(src[0]);
    }
    print_stats(v, n);
    return 0;
}

static int do_write(long long bytes)
{
    static char buf[65536];
    for (size_t i = 0; i < sizeof(buf); i += 64) {
        memset(buf + i, 'a' + (int)((i / 64) % 26), 63);
        buf[i + 63] = '\n';
    }
    while (bytes > 0) {
        size_t n = bytes < (long long)sizeof(buf) ? (size_t)bytes : sizeof(buf);
        if (write_all(1, buf, n) < 0) {
            die("write");
        }
        bytes -= (long long)n;
    }
    return 0;
}

/* the bare work of capturing a program's output into a file: a writer child (`floor write`)
 * on a pipe, and this process relaying it with poll + read(64 KiB) + write, as a supervisor
 * must; prints nothing */
static int do_relay(long long bytes, const char *file)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        die("pipe");
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        _exit(do_write(bytes));
    }
    close(p[1]);
    int out = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) {
        die(file);
    }
    static char buf[65536];
    for (;;) {
        struct pollfd pf = {p[0], POLLIN, 0};
        if (poll(&pf, 1, -1) < 0 && errno != EINTR) {
            die("poll");
        }
        ssize_t n = read(p[0], buf, sizeof(buf));
        if (n == 0) {
            break;
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            die("read");
        }
        if (write_all(out, buf, (size_t)n) < 0) {
            die("write");
        }
    }
    wait_for(pid);
    close(out);
    return 0;
}

static int do_stamp(const char *file)
{
    int64_t start = now_ns();
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) {
        die(file);
    }
    char line[64];
    int64_t end = now_ns();
    int n = snprintf(line, sizeof(line), "%lld %lld\n", (long long)start, (long long)end);
    write_all(fd, line, (size_t)n);
    close(fd);
    return 0;
}

/* processes whose comm is name and that are not zombies (a killed one keeps its comm until
 * it is reaped) */
static int count_comm(const char *name)
{
    DIR *d = opendir("/proc");
    if (!d) {
        die("/proc");
    }
    struct dirent *de;
    int count = 0;
    size_t len = strlen(name);
    char path[300], buf[512];
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9') {
            continue;
        }
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        ssize_t r = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (r <= 0) {
            continue;
        }
        buf[r] = '\0';
        char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
        if (open_paren && close_paren && (size_t)(close_paren - open_paren - 1) == len &&
            memcmp(open_paren + 1, name, len) == 0 && close_paren[2] != 'Z') {
            count++;
        }
    }
    closedir(d);
    return count;
}

/* ---- process trees and their costs, from /proc ---- */
struct pinfo {
    int pid, ppid;
    char comm[32];
};

static struct pinfo *read_procs(int *np)
{
    DIR *d = opendir("/proc");
    if (!d) {
        die("/proc");
    }
    int cap = 4096, n = 0;
    struct pinfo *v = malloc((size_t)cap * sizeof(*v));
    struct dirent *de;
    char path[300], buf[1024];
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9') {
            continue;
        }
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        ssize_t r = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (r <= 0) {
            continue;
        }
        buf[r] = '\0';
        char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
        if (!open_paren || !close_paren) {
            continue;
        }
        if (n == cap) {
            cap *= 2;
            v = realloc(v, (size_t)cap * sizeof(*v));
        }
        v[n].pid = atoi(buf);
        size_t cl = (size_t)(close_paren - open_paren - 1);
        if (cl >= sizeof(v[n].comm)) {
            cl = sizeof(v[n].comm) - 1;
        }
        memcpy(v[n].comm, open_paren + 1, cl);
        v[n].comm[cl] = '\0';
        char state;
        if (sscanf(close_paren + 2, "%c %d", &state, &v[n].ppid) != 2) {
            continue;
        }
        n++;
    }
    closedir(d);
    *np = n;
    return v;
}

static struct pinfo *sort_base;
static int cmp_ppid(const void *a, const void *b)
{
    return sort_base[*(const int *)a].ppid - sort_base[*(const int *)b].ppid;
}

/* indices of root and its descendants, breadth first; *count gets how many */
static int *collect_tree(struct pinfo *v, int n, int root, int *count)
{
    int *byppid = malloc((size_t)(n + 1) * sizeof(int));
    for (int i = 0; i < n; i++) {
        byppid[i] = i;
    }
    sort_base = v;
    qsort(byppid, (size_t)n, sizeof(int), cmp_ppid);
    int *order = malloc((size_t)(n + 1) * sizeof(int));
    int head = 0, tail = 0;
    for (int i = 0; i < n; i++) {
        if (v[i].pid == root) {
            order[tail++] = i;
        }
    }
    while (head < tail) {
        int p = v[order[head++]].pid;
        int lo = 0, hi = n;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (v[byppid[mid]].ppid < p) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        for (int k = lo; k < n && v[byppid[k]].ppid == p; k++) {
            if (tail < n) {
                order[tail++] = byppid[k];
            }
        }
    }
    free(byppid);
    *count = tail;
    return order;
}

static int do_tree(int root)
{
    int n;
    struct pinfo *v = read_procs(&n);
    /* index parents with a sorted copy: 20,000 processes must not cost n^2 */
    int tail;
    int *order = collect_tree(v, n, root, &tail);
    for (int i = 0; i < tail; i++) {
        printf("%d\n", v[order[i]].pid);
    }
    return 0;
}

static long long status_field(int pid, const char *key)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    ssize_t r = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (r <= 0) {
        return 0;
    }
    buf[r] = '\0';
    char *p = strstr(buf, key);
    return p ? atoll(p + strlen(key)) : 0;
}

/* smaps_rollup: Pss, and Private_Clean + Private_Dirty in *priv */
static long long pss_kb(int pid, long long *priv)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    ssize_t r = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (r <= 0) {
        return 0;
    }
    buf[r] = '\0';
    char *c = strstr(buf, "\nPrivate_Clean:"), *d = strstr(buf, "\nPrivate_Dirty:");
    *priv += (c ? atoll(c + 15) : 0) + (d ? atoll(d + 15) : 0);
    char *p = strstr(buf, "\nPss:");
    return p ? atoll(p + 5) : 0;
}

static long long cpu_ticks(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    ssize_t r = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (r <= 0) {
        return 0;
    }
    buf[r] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    /* after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st);
    return (long long)(ut + st);
}

/* floor pstat ROOT [SKIPCOMM]: over ROOT and its descendants except those named SKIPCOMM:
 * "PROCS CTXT CPU_TICKS RSS_KB PSS_KB PRIVATE_KB" */
static int do_pstat(int root, const char *skip)
{
    int n;
    struct pinfo *v = read_procs(&n);
    int tail;
    int *order = collect_tree(v, n, root, &tail);
    long long procs = 0, ctxt = 0, ticks = 0, rss = 0, pss = 0, priv = 0;
    for (int k = 0; k < tail; k++) {
        struct pinfo *p = &v[order[k]];
        if (skip && strcmp(p->comm, skip) == 0) {
            continue;
        }
        procs++;
        ctxt += status_field(p->pid, "voluntary_ctxt_switches:") +
                status_field(p->pid, "nonvoluntary_ctxt_switches:");
        ticks += cpu_ticks(p->pid);
        rss += status_field(p->pid, "VmRSS:");
        pss += pss_kb(p->pid, &priv);
    }
    printf("%lld %lld %lld %lld %lld %lld\n", procs, ctxt, ticks, rss, pss, priv);
    return 0;
}

static int do_launch(const char *name, int n, double timeout, char **argv)
{
    int64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        die("fork");
    }
    if (pid == 0) {
        setsid();
        /* the supervisor's own output goes to $FLOOR_LOG (default /dev/null), never to the
         * pipe of a $(...) that reads our result */
        const char *log = getenv("FLOOR_LOG");
        int fd = open(log && *log ? log : "/dev/null", O_WRONLY | O_APPEND | O_CREAT, 0644);
        int null = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (null >= 0) {
            dup2(null, 0);
            close(null);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    const char *pidfile = getenv("FLOOR_PIDFILE");
    if (pidfile && *pidfile) {
        FILE *f = fopen(pidfile, "a");
        if (f) {
            fprintf(f, "%d\n", (int)pid);
            fclose(f);
        }
    }
    int64_t deadline = t0 + (int64_t)(timeout * 1e9);
    int64_t result = -1;
    for (;;) {
        int64_t scan = now_ns();
        int c = count_comm(name);
        int64_t t = now_ns();
        scan = t - scan;
        if (c >= n) {
            result = t - t0;
            break;
        }
        if (t > deadline) {
            break;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "floor launch: %s exited (status %d) with %d of %d running\n",
                    argv[0], st, c, n);
            break;
        }
        /* poll often, but leave the CPUs to what is measured: at most a third of one CPU goes
         * to scanning /proc (a scan of 20,000 processes takes tens of ms) */
        int64_t pause = scan * 2 > 200000 ? scan * 2 : 200000;
        struct timespec ts = {(time_t)(pause / 1000000000), (long)(pause % 1000000000)};
        nanosleep(&ts, NULL);
    }
    printf("%lld %d\n", (long long)result, (int)pid);
    return 0;
}

static int do_timecmd(int n, const char *infile, char **argv)
{
    int64_t *v = calloc((size_t)n, sizeof(*v));
    char buf[65536];
    for (int i = 0; i < n; i++) {
        int in = open(infile, O_RDONLY | O_CLOEXEC);
        int out[2];
        if (in < 0 || pipe2(out, O_CLOEXEC) < 0) {
            die(infile);
        }
        int64_t t = now_ns();
        pid_t pid = spawn(argv, in, out[1]);
        close(out[1]);
        while (read(out[0], buf, sizeof(buf)) > 0) {
        }
        int st = wait_for(pid);
        v[i] = now_ns() - t;
        close(out[0]);
        close(in);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "floor timecmd: %s failed (status %d)\n", argv[0], st);
            return 1;
        }
    }
    print_stats(v, n);
    return 0;
}

/* total size of PATH, or of the regular files directly in it when it is a directory */
static long long path_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        return (long long)st.st_size;
    }
    long long total = 0;
    DIR *d = opendir(path);
    struct dirent *de;
    char p[4096];
    while (d && (de = readdir(d)) != NULL) {
        snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            total += (long long)st.st_size;
        }
    }
    if (d) {
        closedir(d);
    }
    return total;
}

static int do_waitsize(const char *path, long long bytes, double timeout)
{
    int64_t deadline = now_ns() + (int64_t)(timeout * 1e9);
    for (;;) {
        int64_t t = now_ns();
        if (path_size(path) >= bytes) {
            printf("%lld\n", (long long)t);
            return 0;
        }
        if (t > deadline) {
            printf("-1\n");
            return 1;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

static int do_drain(void)
{
    static char buf[65536];
    long long total = 0;
    ssize_t r;
    while ((r = read(0, buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR)) {
        total += r > 0 ? r : 0;
    }
    fprintf(stderr, "%lld\n", total);
    return 0;
}

static long long parse_size(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    switch (*end) {
    case 'G': return v << 30;
    case 'M': return v << 20;
    case 'K': case 'k': return v << 10;
    default: return v;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: floor MODE ... (see the comment at the top of floor.c)\n");
        return 2;
    }
    const char *m = argv[1];
    if (!strcmp(m, "spawn") && argc >= 4) {
        return do_spawn(atoi(argv[2]), argv + 3);
    }
    if (!strcmp(m, "respawn") && argc >= 4) {
        return do_respawn(atoi(argv[2]), argv + 3);
    }
    if (!strcmp(m, "forkexec") && argc >= 4) {
        return do_forkexec(atoi(argv[2]), argv + 3);
    }
    if (!strcmp(m, "pipe1k") && argc == 3) {
        return do_pipe1k(atoi(argv[2]));
    }
    if (!strcmp(m, "runcat") && argc == 2) {
        return run_cat(0, 1);
    }
    if (!strcmp(m, "write") && argc == 3) {
        return do_write(parse_size(argv[2]));
    }
    if (!strcmp(m, "relay") && argc == 4) {
        return do_relay(parse_size(argv[2]), argv[3]);
    }
    if (!strcmp(m, "stamp") && argc == 3) {
        return do_stamp(argv[2]);
    }
    if (!strcmp(m, "launch") && argc >= 6) {
        return do_launch(argv[2], atoi(argv[3]), atof(argv[4]), argv + 5);
    }
    if (!strcmp(m, "pids") && argc == 3) {
        int n;
        struct pinfo *v = read_procs(&n);
        for (int i = 0; i < n; i++) {
            if (strcmp(v[i].comm, argv[2]) == 0) {
                printf("%d\n", v[i].pid);
            }
        }
        return 0;
    }
    if (!strcmp(m, "count") && argc == 3) {
        printf("%d\n", count_comm(argv[2]));
        return 0;
    }
    if (!strcmp(m, "timecmd") && argc >= 5) {
        return do_timecmd(atoi(argv[2]), argv[3], argv + 4);
    }
    if (!strcmp(m, "waitsize") && argc == 5) {
        return do_waitsize(argv[2], parse_size(argv[3]), atof(argv[4]));
    }
    if (!strcmp(m, "drain") && argc == 2) {
        return do_drain();
    }
    if (!strcmp(m, "tree") && argc == 3) {
        return do_tree(atoi(argv[2]));
    }
    if (!strcmp(m, "pstat") && (argc == 3 || argc == 4)) {
        return do_pstat(atoi(argv[2]), argc == 4 ? argv[3] : NULL);
    }
    if (!strcmp(m, "now") && argc == 2) {
        printf("%lld\n", (long long)now_ns());
        return 0;
    }
    fprintf(stderr, "floor: bad mode or arguments: %s\n", m);
    return 2;
}
