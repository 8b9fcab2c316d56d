/* check.c - prints the effective configuration (after includes, expansions and defaults),
 * as INI text or JSON, for `tend check`. Walks the option tables; calls config, json, spawn. */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "json.h"
#include "spawn.h"

/* Reads a process's env_file into env for `tend check`. A file that cannot be read is only a
 * warning here (the start fails later, and the file may exist only on the target machine):
 * returns false after printing it. */
static bool read_env_file(const struct proc_config *pc, struct strv *env)
{
    char *err = NULL;
    strv_init(env);
    if (spawn_read_env_file(pc->env_file, env, &err) == 0) {
        return true;
    }
    fprintf(stderr, "%s:%d: warning: [program:%s] env_file: %s\n", pc->file, pc->line,
            pc->program, err);
    free(err);
    strv_free(env);
    return false;
}

/* The names of an env_file's variables as a comment, and with show_env their values: values
 * are often secrets, so they are shown only on request. */
static void print_ini_env_file(const struct proc_config *pc, FILE *out, bool show_env)
{
    struct strv env;
    if (!read_env_file(pc, &env)) {
        fprintf(out, "; env_file variables: (unreadable)\n");
        return;
    }
    fprintf(out, "; env_file variables:");
    for (size_t i = 0; i < env.n; i++) {
        fprintf(out, "%s %.*s", i ? "," : "", (int)strcspn(env.v[i], "="), env.v[i]);
    }
    fprintf(out, "\n");
    for (size_t i = 0; show_env && i < env.n; i++) {
        fprintf(out, ";   %s\n", env.v[i]);
    }
    strv_free(&env);
}

static void json_env_file(struct json *j, const struct proc_config *pc, bool show_env)
{
    struct strv env;
    bool ok = read_env_file(pc, &env);
    json_key(j, "env_file_vars");
    if (!ok) {
        json_null(j);
        return;
    }
    json_array_begin(j);
    for (size_t i = 0; i < env.n; i++) {
        json_string_n(j, env.v[i], strcspn(env.v[i], "="));
    }
    json_array_end(j);
    if (show_env) {
        json_key(j, "env_file_values");
        json_object_begin(j);
        for (size_t i = 0; i < env.n; i++) {
            size_t klen = strcspn(env.v[i], "=");
            char *k = xstrndup(env.v[i], klen);
            json_key(j, k);
            json_string(j, env.v[i] + klen + 1);
            free(k);
        }
        json_object_end(j);
    }
    strv_free(&env);
}

static void print_ini_section(FILE *out, const struct option_def *table, size_t n,
                              const void *base)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].flags & OF_IGNORED) {
            continue;
        }
        char *v = config_format_value(&table[i], base);
        /* multi-line values never come out of the formatters, but keep the file readable */
        for (char *p = v; *p; p++) {
            if (*p == '\n') {
                *p = ' ';
            }
        }
        fprintf(out, "%s = %s\n", table[i].name, v);
        free(v);
    }
}

void check_print_ini(const struct config *cfg, FILE *out, bool show_env)
{
    fprintf(out, "; effective configuration of %s\n", cfg->global.file);
    for (size_t i = 1; i < cfg->files.n; i++) {
        fprintf(out, "; included %s\n", cfg->files.v[i]);
    }
    fprintf(out, "\n[tend]\n");
    print_ini_section(out, global_options, global_options_count, &cfg->global);
    for (size_t g = 0; g < cfg->ngroups; g++) {
        const struct group_config *grp = &cfg->groups[g];
        fprintf(out, "\n[group:%s]\nprograms = ", grp->name);
        for (size_t p = 0; p < grp->programs.n; p++) {
            fprintf(out, "%s%s", p ? ", " : "", grp->programs.v[p]);
        }
        fprintf(out, "\npriority = %ld\n", grp->priority);
    }
    for (size_t i = 0; i < cfg->nprocs; i++) {
        const struct proc_config *pc = cfg->procs[i];
        fprintf(out, "\n; process %s (program %s, group %s, process_num %d) from %s:%d\n",
                pc->name, pc->program, pc->group, pc->process_num, pc->file, pc->line);
        fprintf(out, "[%s:%s]\n",
                pc->listener ? "eventlistener" : pc->fcgi ? "fcgi-program" : "program", pc->name);
        if (pc->listener) {
            struct strbuf ev;
            strbuf_init(&ev);
            event_mask_format(pc->listener_events, &ev);
            fprintf(out, "events = %s\nbuffer_size = %ld\n", ev.buf ? ev.buf : "", pc->buffer_size);
            strbuf_free(&ev);
        }
        for (size_t o = 0; o < program_options_count; o++) {
            const struct option_def *opt = &program_options[o];
            if ((opt->flags & OF_IGNORED) || ((opt->flags & OF_FCGI) && !pc->fcgi)) {
                continue;
            }
            /* each block stands for one process: the expansion is already done */
            if (strcmp(opt->name, "numprocs") == 0) {
                fprintf(out, "numprocs = 1\n");
                continue;
            }
            if (strcmp(opt->name, "numprocs_start") == 0) {
                fprintf(out, "numprocs_start = %d\n", pc->process_num);
                continue;
            }
            char *v = config_format_value(opt, pc);
            fprintf(out, "%s = %s\n", opt->name, v);
            free(v);
        }
        if (pc->env_file) {
            print_ini_env_file(pc, out, show_env);
        }
    }
}

/* Writes one option value with its natural JSON type. */
static void json_option(struct json *j, const struct option_def *opt, const void *base)
{
    const void *field = (const char *)base + opt->offset;
    json_key(j, opt->name);
    switch (opt->type) {
    case OT_BOOL:
        json_bool(j, *(const bool *)field);
        return;
    case OT_INT:
        json_int(j, *(const long *)field);
        return;
    case OT_RETRIES:
        if (*(const long *)field == RETRIES_FOREVER) {
            json_string(j, "forever");
        } else {
            json_int(j, *(const long *)field);
        }
        return;
    case OT_SIZE:
        json_int(j, *(const int64_t *)field);
        return;
    case OT_FLOAT:
        json_double(j, *(const double *)field);
        return;
    case OT_RLIMIT: {
        int64_t v = *(const int64_t *)field;
        if (v == RLIMIT_UNSET) {
            json_null(j);
        } else if (v == RLIMIT_UNLIMITED) {
            json_string(j, "unlimited");
        } else {
            json_int(j, v);
        }
        return;
    }
    case OT_DURATION:
        json_double(j, (double)*(const int64_t *)field / 1000.0);
        return;
    case OT_STRING:
        json_string(j, *(char *const *)field);
        return;
    case OT_COMMAND:
    case OT_LIST:
    case OT_TARGETS: {
        const struct strv *sv = field;
        json_array_begin(j);
        for (size_t i = 0; i < sv->n; i++) {
            json_string(j, sv->v[i]);
        }
        json_array_end(j);
        return;
    }
    case OT_ENVIRONMENT: {
        const struct strv *sv = field;
        json_object_begin(j);
        for (size_t i = 0; i < sv->n; i++) {
            const char *eq = strchr(sv->v[i], '=');
            char *k = xstrndup(sv->v[i], (size_t)(eq - sv->v[i]));
            json_key(j, k);
            json_string(j, eq + 1);
            free(k);
        }
        json_object_end(j);
        return;
    }
    case OT_EXITCODES: {
        const struct exitcodes *e = field;
        json_array_begin(j);
        for (int c = 0; c < 256; c++) {
            if (exitcodes_has(e, c)) {
                json_int(j, c);
            }
        }
        json_array_end(j);
        return;
    }
    case OT_UMASK:
        if (*(const int *)field < 0) {
            json_null(j);
            return;
        }
        break;
    case OT_READY:
    case OT_PROBE:
        if (((const struct probe *)field)->kind == PROBE_NONE) {
            json_null(j);
            return;
        }
        break;
    default:
        break;
    }
    char *v = config_format_value(opt, base);
    json_string(j, v);
    free(v);
}

void check_print_json(const struct config *cfg, FILE *out, bool show_env)
{
    struct strbuf sb;
    struct json j;
    strbuf_init(&sb);
    json_init(&j, &sb, true);
    json_object_begin(&j);
    json_key(&j, "file");
    json_string(&j, cfg->global.file);
    json_key(&j, "files");
    json_array_begin(&j);
    for (size_t i = 0; i < cfg->files.n; i++) {
        json_string(&j, cfg->files.v[i]);
    }
    json_array_end(&j);
    json_key(&j, "global");
    json_object_begin(&j);
    for (size_t i = 0; i < global_options_count; i++) {
        if (!(global_options[i].flags & OF_IGNORED)) {
            json_option(&j, &global_options[i], &cfg->global);
        }
    }
    json_object_end(&j);
    json_key(&j, "groups");
    json_array_begin(&j);
    for (size_t g = 0; g < cfg->ngroups; g++) {
        json_object_begin(&j);
        json_key(&j, "name");
        json_string(&j, cfg->groups[g].name);
        json_key(&j, "programs");
        json_array_begin(&j);
        for (size_t p = 0; p < cfg->groups[g].programs.n; p++) {
            json_string(&j, cfg->groups[g].programs.v[p]);
        }
        json_array_end(&j);
        json_key(&j, "priority");
        json_int(&j, cfg->groups[g].priority);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_key(&j, "processes");
    json_array_begin(&j);
    for (size_t i = 0; i < cfg->nprocs; i++) {
        const struct proc_config *pc = cfg->procs[i];
        json_object_begin(&j);
        json_key(&j, "name");
        json_string(&j, pc->name);
        json_key(&j, "program");
        json_string(&j, pc->program);
        json_key(&j, "group");
        json_string(&j, pc->group);
        json_key(&j, "process_num");
        json_int(&j, pc->process_num);
        json_key(&j, "kind");
        json_string(&j, pc->listener ? "eventlistener" : pc->fcgi ? "fcgi-program" : "program");
        if (pc->listener) {
            struct strbuf ev;
            strbuf_init(&ev);
            event_mask_format(pc->listener_events, &ev);
            json_key(&j, "events");
            json_string(&j, ev.buf ? ev.buf : "");
            json_key(&j, "buffer_size");
            json_int(&j, pc->buffer_size);
            strbuf_free(&ev);
        }
        json_key(&j, "file");
        json_string(&j, pc->file);
        json_key(&j, "line");
        json_int(&j, pc->line);
        for (size_t o = 0; o < program_options_count; o++) {
            int flags = program_options[o].flags;
            if (!(flags & OF_IGNORED) && (!(flags & OF_FCGI) || pc->fcgi)) {
                json_option(&j, &program_options[o], pc);
            }
        }
        if (pc->env_file) {
            json_env_file(&j, pc, show_env);
        }
        json_object_end(&j);
    }
    json_array_end(&j);
    json_object_end(&j);
    strbuf_addc(&sb, '\n');
    fwrite(sb.buf, 1, sb.len, out);
    strbuf_free(&sb);
}
