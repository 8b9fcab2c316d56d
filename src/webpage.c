/* webpage.c - the status page at GET /: every process with its state, uptime, pid and last
 * log lines, and start/stop/restart buttons in POST forms. Plain HTML and CSS, no script. */
#include "webpage.h"

#include <stdlib.h>
#include <string.h>

#include "rpc.h"

#define WEBPAGE_LOG_BYTES 400 /* the tail of each log shown on the page */

static void html(struct strbuf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            strbuf_adds(out, "&amp;");
            break;
        case '<':
            strbuf_adds(out, "&lt;");
            break;
        case '>':
            strbuf_adds(out, "&gt;");
            break;
        case '"':
            strbuf_adds(out, "&quot;");
            break;
        case '\'':
            strbuf_adds(out, "&#39;");
            break;
        default:
            if ((unsigned char)s[i] >= 0x20 || s[i] == '\n' || s[i] == '\t') {
                strbuf_addc(out, s[i]);
            }
        }
    }
}

static void htmls(struct strbuf *out, const char *s)
{
    html(out, s, strlen(s));
}

static const char *state_class(enum proc_state s)
{
    switch (s) {
    case PROC_RUNNING:
        return "ok";
    case PROC_STARTING:
    case PROC_STOPPING:
    case PROC_BACKOFF:
        return "busy";
    case PROC_FATAL:
    case PROC_EXITED:
        return "bad";
    default:
        return "off";
    }
}

static void log_tail(struct strbuf *out, const struct proc *p)
{
    const struct output_sink *sinks[] = {p->out, p->err};
    for (size_t i = 0; i < 2; i++) {
        if (!sinks[i]) {
            continue;
        }
        size_t n;
        char *ring = output_sink_ring_copy(sinks[i], &n);
        size_t start = n > WEBPAGE_LOG_BYTES ? n - WEBPAGE_LOG_BYTES : 0;
        /* begin at a line boundary when cutting */
        while (start > 0 && start < n && ring[start - 1] != '\n') {
            start++;
        }
        if (n > start) {
            strbuf_addf(out, "<pre class=log title=\"%s\">", i ? "stderr" : "stdout");
            html(out, ring + start, n - start);
            strbuf_adds(out, "</pre>");
        }
        free(ring);
    }
}

static void button(struct strbuf *out, const char *token, const char *name, const char *action,
                   bool enabled)
{
    strbuf_adds(out, "<form method=post action=\"/action\"><input type=hidden name=token value=\"");
    htmls(out, token);
    strbuf_adds(out, "\"><input type=hidden name=name value=\"");
    htmls(out, name);
    strbuf_addf(out, "\"><button name=action value=%s%s>%s</button></form>", action,
                enabled ? "" : " disabled", action);
}

void webpage_write(struct strbuf *out, const struct supervisor *sv, const char *token,
                   const char *message, double now)
{
    const char *id = sv->cfg->global.identifier ? sv->cfg->global.identifier : "tend";
    strbuf_adds(out, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
                     "<meta name=viewport content=\"width=device-width, initial-scale=1\">"
                     "<title>");
    htmls(out, id);
    strbuf_adds(out,
                "</title><style>"
                "body{font-family:system-ui,sans-serif;margin:0;padding:1em;background:#f6f7f9;"
                "color:#222}h1{font-size:1.3em;margin:0 0 .6em}"
                ".msg{background:#fff3c4;padding:.5em;border-radius:4px}"
                ".proc{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em;"
                "margin:.5em 0}.head{display:flex;flex-wrap:wrap;gap:.4em .8em;"
                "align-items:center}.name{font-weight:600;font-size:1.1em}"
                ".state{padding:.1em .5em;border-radius:3px;color:#fff;font-size:.9em}"
                ".ok{background:#2e7d32}.busy{background:#b26a00}.bad{background:#c62828}"
                ".off{background:#757575}.desc{color:#555}.btns{margin-left:auto;display:flex;"
                "gap:.3em}form{margin:0}button{font-size:1em;padding:.3em .8em}"
                "pre.log{background:#111;color:#ddd;padding:.4em;overflow-x:auto;"
                "font-size:.8em;margin:.5em 0 0;white-space:pre-wrap;word-break:break-all}"
                "</style></head><body><h1>");
    htmls(out, id);
    strbuf_addf(out, " &middot; %zu process%s</h1>\n", sv->nprocs, sv->nprocs == 1 ? "" : "es");
    if (message && *message) {
        strbuf_adds(out, "<p class=msg>");
        htmls(out, message);
        strbuf_adds(out, "</p>\n");
    }
    for (size_t i = 0; i < sv->nprocs; i++) {
        const struct proc *p = sv->procs[i];
        char *desc = rpc_describe(p, now);
        bool alive = proc_is_alive(p) || p->state == PROC_STARTING || p->state == PROC_BACKOFF;
        strbuf_adds(out, "<div class=proc id=\"proc-");
        htmls(out, p->cfg->name);
        strbuf_adds(out, "\"><div class=head><span class=name>");
        htmls(out, p->cfg->name);
        strbuf_addf(out, "</span><span class=\"state %s\">%s</span><span class=desc>",
                    state_class(p->state), proc_state_name(p->state));
        htmls(out, desc);
        strbuf_adds(out, "</span><span class=btns>");
        button(out, token, p->cfg->name, "start", !alive);
        button(out, token, p->cfg->name, "stop", alive);
        button(out, token, p->cfg->name, "restart", true);
        strbuf_adds(out, "</span></div>");
        log_tail(out, p);
        strbuf_adds(out, "</div>\n");
        free(desc);
    }
    strbuf_adds(out, "</body></html>\n");
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static char *form_decode(const char *s, size_t n)
{
    struct strbuf sb;
    strbuf_init(&sb);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            strbuf_addc(&sb, ' ');
        } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
                   hexval(s[i + 2]) >= 0) {
            strbuf_addc(&sb, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
            i += 2;
        } else {
            strbuf_addc(&sb, s[i]);
        }
    }
    return strbuf_detach(&sb);
}

char *webpage_form_value(const char *body, size_t len, const char *key)
{
    size_t klen = strlen(key);
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq && (size_t)(eq - p) == klen && memcmp(p, key, klen) == 0) {
            return form_decode(eq + 1, (size_t)(stop - eq - 1));
        }
        p = stop + 1;
    }
    return NULL;
}

char *webpage_act(struct supervisor *sv, const char *action, const char *name)
{
    struct proc *p = name ? supervisor_find(sv, name) : NULL;
    if (!p) {
        return xasprintf("no such process: %s", name ? name : "(none)");
    }
    if (!action) {
        return xstrdup("no action");
    }
    if (strcmp(action, "start") == 0) {
        return proc_start(p) == 0 ? xasprintf("%s: starting", name)
                                  : xasprintf("%s: already started", name);
    }
    if (strcmp(action, "stop") == 0) {
        proc_stop(p);
        return xasprintf("%s: %s", name, proc_is_alive(p) ? "stopping" : "stopped");
    }
    if (strcmp(action, "restart") == 0) {
        if (proc_is_alive(p)) {
            proc_restart(p);
        } else {
            proc_start(p);
        }
        return xasprintf("%s: restarting", name);
    }
    return xasprintf("unknown action: %s", action);
}
