/* status.c - what `tend status` shows: the table (state colours, uptime, pipe counters, INFO)
 * and the JSON object of each process. Reads struct proc; calls output, feed, exitstatus,
 * values, json and util. */
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitstatus.h"
#include "feed.h"
#include "json.h"
#include "output.h"
#include "ready.h"
#include "values.h"

static void format_uptime(struct strbuf *sb, double secs)
{
    long s = (long)secs;
    if (s >= 86400) {
        strbuf_addf(sb, "%ldd %ld:%02ld:%02ld", s / 86400, s % 86400 / 3600, s % 3600 / 60,
                    s % 60);
    } else {
        strbuf_addf(sb, "%ld:%02ld:%02ld", s / 3600, s % 3600 / 60, s % 60);
    }
}

static const char *state_color(enum proc_state s)
{
    switch (s) {
    case PROC_RUNNING:
        return "\033[32m";
    case PROC_STARTING:
    case PROC_BACKOFF:
    case PROC_STOPPING:
        return "\033[33m";
    case PROC_FATAL:
    case PROC_EXITED:
        return "\033[31m";
    default:
        return "";
    }
}

static char *proc_info(const struct proc *p)
{
    if (p->waiting_deps) {
        struct strbuf sb;
        strbuf_init(&sb);
        strbuf_adds(&sb, "waiting for");
        for (size_t i = 0, n = 0; i < p->ndeps; i++) {
            if (!p->deps[i]->ready) {
                strbuf_addf(&sb, "%s %s", n++ ? "," : "", p->deps[i]->cfg->name);
            }
        }
        return strbuf_detach(&sb);
    }
    if (p->state == PROC_STARTING && p->ready_timed_out) {
        return xasprintf("not ready within %gs; stopping", (double)p->cfg->ready_timeout / 1000.0);
    }
    if (p->state == PROC_STARTING && p->ready_wait_since > 0) {
        long waited = (long)(ev_time() - p->ready_wait_since);
        return p->cfg->ready_timeout > 0
                   ? xasprintf("waiting for readiness %ld s (timeout %gs)", waited,
                               (double)p->cfg->ready_timeout / 1000.0)
                   : xasprintf("waiting for readiness %ld s (no timeout)", waited);
    }
    if (p->last_error && (p->state == PROC_FATAL || p->state == PROC_BACKOFF || p->blocked)) {
        return xstrdup(p->last_error);
    }
    if (p->state == PROC_RUNNING && (p->health == HEALTH_FAILING || p->status_text)) {
        return p->status_text && p->health != HEALTH_FAILING
                   ? xstrdup(p->status_text)
                   : xasprintf("unhealthy (%d failed checks)", p->health_failures);
    }
    if (p->has_exited && !proc_is_alive(p)) {
        return exit_describe(&p->last_exit);
    }
    return xstrdup("");
}

static void status_json(struct json *j, const struct proc *p, double now)
{
    json_object_begin(j);
    json_key(j, "name");
    json_string(j, p->cfg->name);
    json_key(j, "group");
    json_string(j, p->cfg->group);
    json_key(j, "program");
    json_string(j, p->cfg->program);
    json_key(j, "state");
    json_string(j, proc_state_name(p->state));
    json_key(j, "pid");
    if (p->pid > 0) {
        json_int(j, p->pid);
    } else {
        json_null(j);
    }
    json_key(j, "exit_code");
    if (p->has_exited && p->last_exit.code >= 0) {
        json_int(j, p->last_exit.code);
    } else {
        json_null(j);
    }
    json_key(j, "signal");
    json_string(j, p->has_exited && p->last_exit.signal ? signal_name(p->last_exit.signal) : NULL);
    json_key(j, "restarts");
    json_int(j, p->restarts);
    json_key(j, "started_at");
    if (p->started_at > 0) {
        json_double(j, p->started_at);
    } else {
        json_null(j);
    }
    json_key(j, "uptime_s");
    if (proc_is_alive(p)) {
        json_double(j, now - p->started_at);
    } else {
        json_null(j);
    }
    json_key(j, "since");
    json_double(j, p->state_since);
    json_key(j, "error");
    json_string(j, p->last_error);
    json_key(j, "ready");
    json_bool(j, p->ready);
    json_key(j, "waiting");
    json_bool(j, p->waiting_deps);
    /* seconds spent so far waiting for the ready probe, null when not waiting */
    json_key(j, "ready_wait_s");
    if (p->state == PROC_STARTING && p->ready_wait_since > 0) {
        json_double(j, now - p->ready_wait_since);
    } else {
        json_null(j);
    }
    json_key(j, "ready_timeout_s"); /* 0: no limit; null: no ready probe */
    if (p->cfg->ready.kind != PROBE_NONE) {
        json_double(j, (double)p->cfg->ready_timeout / 1000.0);
    } else {
        json_null(j);
    }
    json_key(j, "health");
    json_string(j, health_name(p->health));
    json_key(j, "status_text");
    json_string(j, p->status_text);
    json_key(j, "stdin_bytes");
    json_int(j, p->in ? (int64_t)feed_bytes(p->in) : 0);
    json_key(j, "stdout_bytes");
    json_int(j, p->out ? (int64_t)output_sink_bytes(p->out) : 0);
    json_key(j, "stderr_bytes");
    json_int(j, p->err ? (int64_t)output_sink_bytes(p->err) : 0);
    json_key(j, "dropped_bytes");
    json_int(j, p->in ? (int64_t)feed_dropped(p->in) : 0);
    char *info = proc_info(p);
    json_key(j, "description");
    json_string(j, info);
    free(info);
    json_object_end(j);
}

void status_render_json(struct strbuf *out, struct proc *const *targets, size_t n, double now)
{
    struct json j;
    json_init(&j, out, false);
    json_array_begin(&j);
    for (size_t i = 0; i < n; i++) {
        status_json(&j, targets[i], now);
    }
    json_array_end(&j);
    strbuf_addc(out, '\n');
}

void status_render_table(struct strbuf *out, struct proc *const *targets, size_t n, double now,
                         bool color)
{
    int w = 4;
    for (size_t i = 0; i < n; i++) {
        int len = (int)strlen(targets[i]->cfg->name);
        w = len > w ? len : w;
    }
    bool pipes = false;
    for (size_t i = 0; i < n; i++) {
        pipes |= targets[i]->in || targets[i]->nlinks;
    }
    strbuf_addf(out, "%-*s  %-8s  %-7s  %-10s  %-8s  ", w, "NAME", "STATE", "PID", "UPTIME",
                "RESTARTS");
    if (pipes) {
        strbuf_addf(out, "%-10s  %-10s  %-8s  ", "IN", "OUT", "DROPPED");
    }
    strbuf_adds(out, "INFO\n");
    for (size_t i = 0; i < n; i++) {
        const struct proc *p = targets[i];
        struct strbuf up;
        strbuf_init(&up);
        if (proc_is_alive(p)) {
            format_uptime(&up, now - p->started_at);
        } else {
            strbuf_adds(&up, "-");
        }
        char pid[16] = "-";
        if (p->pid > 0) {
            snprintf(pid, sizeof(pid), "%d", (int)p->pid);
        }
        char *info = proc_info(p);
        const char *on = color ? state_color(p->state) : "";
        strbuf_addf(out, "%-*s  %s%-8s%s  %-7s  %-10s  %-8u  ", w, p->cfg->name, on,
                    proc_state_name(p->state), *on ? "\033[0m" : "", pid, up.buf,
                    p->restarts);
        if (pipes) {
            unsigned long long in = p->in ? (unsigned long long)feed_bytes(p->in) : 0;
            unsigned long long out_bytes =
                (p->out ? output_sink_bytes(p->out) : 0) + (p->err ? output_sink_bytes(p->err) : 0);
            strbuf_addf(out, "%-10llu  %-10llu  %-8llu  ", in, out_bytes,
                        p->in ? (unsigned long long)feed_dropped(p->in) : 0ULL);
        }
        strbuf_addf(out, "%s\n", info);
        free(info);
        strbuf_free(&up);
    }
}
