/* metrics.c - GET /metrics: per process up, state, restarts, start time, exit status and log
 * bytes; tend's own open fds and memory. Prometheus' text format, one family at a time. */
#include "metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

#include "rpc.h"

/* A label value: backslash, double quote and newline escaped. */
static void label_value(struct strbuf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') {
            strbuf_addc(out, '\\');
            strbuf_addc(out, *s);
        } else if (*s == '\n') {
            strbuf_adds(out, "\\n");
        } else {
            strbuf_addc(out, *s);
        }
    }
}

static void family(struct strbuf *out, const char *name, const char *type, const char *help)
{
    strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void proc_labels(struct strbuf *out, const char *metric, const struct proc *p)
{
    strbuf_addf(out, "%s{name=\"", metric);
    label_value(out, p->cfg->name);
    strbuf_adds(out, "\",group=\"");
    label_value(out, p->cfg->group);
    strbuf_adds(out, "\"");
}

static long count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    long n = 0;
    if (!d) {
        return -1;
    }
    for (struct dirent *e; (e = readdir(d));) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n - 1; /* the directory stream's own fd */
}

static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "re");
    long size = 0, resident = -1;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2) {
            resident = -1;
        }
        fclose(f);
    }
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

void metrics_write(struct strbuf *out, const struct supervisor *sv, double now)
{
    (void)now;
    family(out, "tend_process_up", "gauge", "1 when the process is running, else 0.");
    for (size_t i = 0; i < sv->nprocs; i++) {
        proc_labels(out, "tend_process_up", sv->procs[i]);
        strbuf_addf(out, "} %d\n", proc_is_alive(sv->procs[i]) ? 1 : 0);
    }
    family(out, "tend_process_state", "gauge",
           "supervisord's state code: 0 STOPPED, 10 STARTING, 20 RUNNING, 30 BACKOFF, "
           "40 STOPPING, 100 EXITED, 200 FATAL.");
    for (size_t i = 0; i < sv->nprocs; i++) {
        const struct proc *p = sv->procs[i];
        proc_labels(out, "tend_process_state", p);
        strbuf_addf(out, ",state=\"%s\"} %d\n", proc_state_name(p->state),
                    rpc_state_code(p->state));
    }
    family(out, "tend_process_restarts_total", "counter",
           "Automatic restarts since tend started.");
    for (size_t i = 0; i < sv->nprocs; i++) {
        proc_labels(out, "tend_process_restarts_total", sv->procs[i]);
        strbuf_addf(out, "} %u\n", sv->procs[i]->restarts);
    }
    family(out, "tend_process_start_time_seconds", "gauge",
           "Unix time of the last start; 0 when never started.");
    for (size_t i = 0; i < sv->nprocs; i++) {
        proc_labels(out, "tend_process_start_time_seconds", sv->procs[i]);
        strbuf_addf(out, "} %.3f\n", sv->procs[i]->started_at > 0 ? sv->procs[i]->started_at : 0);
    }
    family(out, "tend_process_exit_status", "gauge",
           "Exit status of the last exit; 128+N when killed by signal N; -1 before any exit.");
    for (size_t i = 0; i < sv->nprocs; i++) {
        const struct proc *p = sv->procs[i];
        int status = !p->has_exited ? -1
                     : p->last_exit.signal ? 128 + p->last_exit.signal
                                           : p->last_exit.code;
        proc_labels(out, "tend_process_exit_status", p);
        strbuf_addf(out, "} %d\n", status);
    }
    family(out, "tend_process_log_bytes_total", "counter",
           "Bytes the process wrote to its stdout or stderr.");
    for (size_t i = 0; i < sv->nprocs; i++) {
        const struct proc *p = sv->procs[i];
        const struct output_sink *sinks[] = {p->out, p->err};
        const char *names[] = {"stdout", "stderr"};
        for (size_t s = 0; s < 2; s++) {
            if (sinks[s]) {
                proc_labels(out, "tend_process_log_bytes_total", p);
                strbuf_addf(out, ",stream=\"%s\"} %llu\n", names[s],
                            (unsigned long long)output_sink_bytes(sinks[s]));
            }
        }
    }
    family(out, "tend_processes", "gauge", "Configured processes.");
    strbuf_addf(out, "tend_processes %zu\n", sv->nprocs);
    family(out, "tend_orphans_reaped_total", "counter", "Adopted orphans tend has reaped.");
    strbuf_addf(out, "tend_orphans_reaped_total %lu\n", sv->orphans_reaped);
    family(out, "tend_open_fds", "gauge", "File descriptors tend has open.");
    strbuf_addf(out, "tend_open_fds %ld\n", count_open_fds());
    family(out, "tend_resident_memory_bytes", "gauge", "tend's resident memory.");
    strbuf_addf(out, "tend_resident_memory_bytes %ld\n", resident_bytes());
}
