/* batch_report.c - what `tend run -c FILE` prints: the table of jobs on stderr or a JSON array
 * on stdout, and the prefix of each job's output lines. Calls exitstatus, json and util. */
#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitstatus.h"
#include "json.h"

const char *const job_state_names[] = {"waiting", "running", "ok", "failed", "skipped"};

static double
batch_job_duration(const struct batch_job *j)
{
    return j->ran ? j->child.ended - j->child.started : 0.0;
}

void
batch_print_json(const struct batch *b)
{
    struct strbuf sb;
    struct json jw;
    strbuf_init(&sb);
    json_init(&jw, &sb, false);
    json_array_begin(&jw);
    for (size_t i = 0; i < b->njobs; i++) {
        const struct batch_job *j = &b->jobs[i];
        struct exit_info x = exit_decode(j->child.status);
        bool ran = j->ran && j->child.exited;
        json_object_begin(&jw);
        json_key(&jw, "name");
        json_string(&jw, j->pc->name);
        json_key(&jw, "program");
        json_string(&jw, j->pc->program);
        json_key(&jw, "group");
        json_string(&jw, j->pc->group);
        json_key(&jw, "status");
        json_string(&jw, job_state_names[j->state]);
        json_key(&jw, "exit_code");
        if (ran && x.code >= 0) {
            json_int(&jw, x.code);
        } else {
            json_null(&jw);
        }
        json_key(&jw, "signal");
        json_string(&jw, ran && x.signal ? signal_name(x.signal) : NULL);
        json_key(&jw, "core_dumped");
        json_bool(&jw, ran && x.core_dumped);
        json_key(&jw, "duration_s");
        if (ran) {
            json_double(&jw, run_round_us(batch_job_duration(j)));
        } else {
            json_null(&jw);
        }
        json_key(&jw, "pid");
        if (j->ran) {
            json_int(&jw, j->child.pid);
        } else {
            json_null(&jw);
        }
        json_key(&jw, "detail");
        json_string(&jw, j->detail);
        json_key(&jw, "error");
        json_string(&jw, j->error);
        json_object_end(&jw);
    }
    json_array_end(&jw);
    strbuf_addc(&sb, '\n');
    child_write_all(1, sb.buf, sb.len);
    strbuf_free(&sb);
}

void
batch_print_table(const struct batch *b, int width)
{
    if (width < 4) {
        width = 4;
    }
    struct strbuf sb;
    strbuf_init(&sb);
    strbuf_addf(&sb, "%-*s  %-7s  %9s  %s\n", width, "NAME", "STATUS", "DURATION", "RESULT");
    for (size_t i = 0; i < b->njobs; i++) {
        const struct batch_job *j = &b->jobs[i];
        char dur[32] = "-";
        if (j->ran && j->child.exited) {
            snprintf(dur, sizeof(dur), "%.2fs", batch_job_duration(j));
        }
        strbuf_addf(&sb, "%-*s  %-7s  %9s  %s\n", width, j->pc->name, job_state_names[j->state],
                    dur, j->detail ? j->detail : "");
    }
    child_write_all(2, sb.buf, sb.len);
    strbuf_free(&sb);
}

char *
batch_prefix(const char *name, int width, size_t index, bool colour)
{
    static const char *const palette[] = {"36", "33", "32", "35", "34",
                                          "96", "93", "92", "95", "94"};
    if (!colour) {
        return xasprintf("%-*s | ", width, name);
    }
    return xasprintf("\033[%sm%-*s |\033[0m ", palette[index % ARRAY_SIZE(palette)], width, name);
}
