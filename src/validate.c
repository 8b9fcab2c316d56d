/* validate.c - the checks that need the whole configuration: programs named by depends_on,
 * pipes and groups exist, no dependency cycle, no two processes with one name, sections that
 * say nothing. Calls loader (messages) and util. */
#include "config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* supervisord sections that tend reads without running them: one warning each says why, and
 * their options are checked against supervisord's names so that a typo is still reported.
 * [inet_http_server] and [eventlistener:x] are read by config.c. */
static const char *const supervisorctl_keys[] = {"serverurl", "username", "password", "prompt",
                                                 "history_file"};

static const struct {
    const char *prefix; /* a section name, or a prefix when it ends with ':' */
    const char *why;    /* NULL: no warning, only the key check */
    const char *const *keys; /* NULL: any option (a Python factory's own arguments) */
    size_t nkeys;
    bool program_keys; /* [program:x]'s options are valid too */
} ignored_sections[] = {
    /* the client's own section: supervisorctl reads it, tend has no use for it */
    {"supervisorctl", NULL, supervisorctl_keys, ARRAY_SIZE(supervisorctl_keys), false},
    {"rpcinterface:", "a Python RPC interface factory; tend runs no Python; ignored", NULL, 0,
     false},
    {"ctlplugin:", "a Python supervisorctl plugin; tend runs no Python; ignored", NULL, 0, false},
};

static const struct raw_section *
find_program_section(struct loader *ld, const char *program)
{
    for (size_t s = 0; s < ld->nsections; s++) {
        const char *n = ld->sections[s].name;
        if ((strncmp(n, "program:", 8) == 0 && strcmp(n + 8, program) == 0) ||
            (strncmp(n, "fcgi-program:", 13) == 0 && strcmp(n + 13, program) == 0) ||
            (strncmp(n, "eventlistener:", 14) == 0 && strcmp(n + 14, program) == 0)) {
            return &ld->sections[s];
        }
    }
    return NULL;
}

/* Depth-first search over depends_on; on a back edge the path from it is the cycle. */
static bool
find_cycle(struct loader *ld, struct config *cfg, const char *program, struct strv *path,
           int *state_of, struct strv *names)
{
    size_t idx = 0;
    while (idx < names->n && strcmp(names->v[idx], program) != 0) {
        idx++;
    }
    if (idx == names->n) {
        return false;
    }
    if (state_of[idx] == 2) {
        return false;
    }
    strv_push(path, program);
    if (state_of[idx] == 1) {
        return true;
    }
    state_of[idx] = 1;
    const struct proc_config *pc = NULL;
    for (size_t i = 0; i < cfg->nprocs && !pc; i++) {
        if (strcmp(cfg->procs[i]->program, program) == 0) {
            pc = cfg->procs[i];
        }
    }
    for (size_t d = 0; pc && d < pc->depends_on.n; d++) {
        if (find_cycle(ld, cfg, pc->depends_on.v[d], path, state_of, names)) {
            return true;
        }
    }
    /* a pipeline is a dependency too: the writer needs its reader */
    const struct strv *targets[] = {pc ? &pc->stdout : NULL, pc ? &pc->stderr : NULL};
    for (size_t t = 0; t < 2 && pc; t++) {
        for (size_t d = 0; d < targets[t]->n; d++) {
            if (strncmp(targets[t]->v[d], "program:", 8) == 0 &&
                find_cycle(ld, cfg, targets[t]->v[d] + 8, path, state_of, names)) {
                return true;
            }
        }
    }
    state_of[idx] = 2;
    free(path->v[--path->n]);
    path->v[path->n] = NULL;
    return false;
}

/* Two programs may not give a process the same name. */
static void
validate_unique_names(struct loader *ld, struct config *cfg, struct strv *names)
{
    (void)names;
    for (size_t i = 0; i < cfg->nprocs; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->procs[i]->name, cfg->procs[j]->name) == 0 &&
                strcmp(cfg->procs[i]->program, cfg->procs[j]->program) != 0) {
                loader_error(ld, cfg->procs[i]->file, cfg->procs[i]->line,
                             "[program:%s]: process name '%s' is already used by "
                             "[program:%s] at %s:%d",
                             cfg->procs[i]->program, cfg->procs[i]->name, cfg->procs[j]->program,
                             cfg->procs[j]->file, cfg->procs[j]->line);
            }
        }
    }
}

/* Groups name existing programs, each program in one group at most. */
static void
validate_groups(struct loader *ld, struct config *cfg, struct strv *names)
{
    (void)names;
    for (size_t g = 0; g < cfg->ngroups; g++) {
        struct group_config *grp = &cfg->groups[g];
        for (size_t p = 0; p < grp->programs.n; p++) {
            if (!find_program_section(ld, grp->programs.v[p])) {
                loader_error(ld, grp->file, grp->line, "[group:%s] programs: no [program:%s]",
                             grp->name, grp->programs.v[p]);
            }
            for (size_t h = 0; h < g; h++) {
                if (strv_contains(&cfg->groups[h].programs, grp->programs.v[p])) {
                    loader_error(ld, grp->file, grp->line,
                                 "[group:%s] programs: %s is already in [group:%s]", grp->name,
                                 grp->programs.v[p], cfg->groups[h].name);
                }
            }
        }
    }
}

/* depends_on names programs that exist, and not the program itself. */
static void
validate_depends_on(struct loader *ld, struct config *cfg, struct strv *names)
{
    for (size_t i = 0; i < cfg->nprocs; i++) {
        const struct proc_config *pc = cfg->procs[i];
        const struct raw_section *sec = find_program_section(ld, pc->program);
        const struct raw_option *raw = sec ? section_get(sec, "depends_on") : NULL;
        for (size_t d = 0; d < pc->depends_on.n; d++) {
            if (!strv_contains(names, pc->depends_on.v[d])) {
                loader_error(ld, pc->file, raw ? raw->line : pc->line,
                             "[program:%s] depends_on: no [program:%s]", pc->program,
                             pc->depends_on.v[d]);
            } else if (strcmp(pc->depends_on.v[d], pc->program) == 0) {
                loader_error(ld, pc->file, raw ? raw->line : pc->line,
                             "[program:%s] depends_on: a program cannot depend on itself",
                             pc->program);
            }
        }
    }
}

/* stdout/stderr = program:NAME name programs whose stdin tend can feed. */
static void
validate_pipes(struct loader *ld, struct config *cfg, struct strv *names)
{
    (void)names;
    for (size_t i = 0; i < cfg->nprocs; i++) {
        const struct proc_config *pc = cfg->procs[i];
        const struct raw_section *sec = find_program_section(ld, pc->program);
        const char *opts[] = {"stdout", "stderr"};
        const struct strv *lists[] = {&pc->stdout, &pc->stderr};
        for (size_t t = 0; t < 2; t++) {
            const struct raw_option *raw = sec ? section_get(sec, opts[t]) : NULL;
            for (size_t d = 0; d < lists[t]->n; d++) {
                const char *target = lists[t]->v[d];
                if (strncmp(target, "program:", 8) != 0) {
                    continue;
                }
                const struct proc_config *reader = NULL;
                for (size_t k = 0; k < cfg->nprocs && !reader; k++) {
                    if (strcmp(cfg->procs[k]->program, target + 8) == 0) {
                        reader = cfg->procs[k];
                    }
                }
                if (!reader) {
                    loader_error(ld, pc->file, raw ? raw->line : pc->line,
                                 "[program:%s] %s: no [program:%s]", pc->program, opts[t],
                                 target + 8);
                } else if (reader->fcgi) {
                    loader_error(ld, pc->file, raw ? raw->line : pc->line,
                                 "[program:%s] %s: [fcgi-program:%s] reads its socket, not a pipe",
                                 pc->program, opts[t], target + 8);
                } else if (reader->stdin.kind == STDIN_FILE) {
                    loader_error(ld, pc->file, raw ? raw->line : pc->line,
                                 "[program:%s] %s: [program:%s] reads its stdin from a file",
                                 pc->program, opts[t], target + 8);
                } else if (strcmp(reader->program, pc->program) == 0) {
                    loader_error(ld, pc->file, raw ? raw->line : pc->line,
                                 "[program:%s] %s: a program cannot read its own output",
                                 pc->program, opts[t]);
                }
            }
        }
    }
}

/* No dependency cycle: the first one found is reported with its path. */
static void
validate_no_cycle(struct loader *ld, struct config *cfg, struct strv *names)
{
    int *state_of = xcalloc(names->n, sizeof(int));
    for (size_t n = 0; n < names->n; n++) {
        struct strv path;
        strv_init(&path);
        if (state_of[n] == 0 && find_cycle(ld, cfg, names->v[n], &path, state_of, names)) {
            /* path ends with the repeated name; print from its first occurrence */
            const char *again = path.v[path.n - 1];
            size_t from = 0;
            while (strcmp(path.v[from], again) != 0) {
                from++;
            }
            struct strbuf sb;
            strbuf_init(&sb);
            for (size_t k = from; k < path.n; k++) {
                strbuf_addf(&sb, "%s%s", k > from ? " -> " : "", path.v[k]);
            }
            const struct raw_section *sec = find_program_section(ld, again);
            const struct raw_option *raw = sec ? section_get(sec, "depends_on") : NULL;
            loader_error(ld, sec ? sec->file : cfg->global.file,
                         raw ? raw->line : (sec ? sec->line : 0),
                         "[program:%s] depends_on: dependency cycle: %s", again, sb.buf);
            strbuf_free(&sb);
            strv_free(&path);
            break;
        }
        strv_free(&path);
    }
    free(state_of);
}

/* [tend] exit_with names a program. */
static void
validate_exit_with(struct loader *ld, struct config *cfg, struct strv *names)
{
    if (cfg->global.exit_with && !strv_contains(names, cfg->global.exit_with)) {
        loader_error(ld, cfg->global.file, 0, "[tend] exit_with: no [program:%s]",
                     cfg->global.exit_with);
    }
}

/* The checks that need the whole configuration, in order; each reports through loader_error. */
static void (*const validate_steps[])(struct loader *, struct config *, struct strv *) = {
    validate_unique_names, validate_groups,   validate_depends_on,
    validate_pipes,        validate_no_cycle, validate_exit_with,
};

void
validate(struct loader *ld, struct config *cfg)
{
    /* the program names, once each */
    struct strv names;
    strv_init(&names);
    for (size_t i = 0; i < cfg->nprocs; i++) {
        if (!strv_contains(&names, cfg->procs[i]->program)) {
            strv_push(&names, cfg->procs[i]->program);
        }
    }
    for (size_t k = 0; k < ARRAY_SIZE(validate_steps); k++) {
        validate_steps[k](ld, cfg, &names);
    }
    strv_free(&names);
}

void
check_sections(struct loader *ld)
{
    static const char *const known[] = {"tend", "supervisord", "unix_http_server",
                                        "inet_http_server", "include"};
    for (size_t s = 0; s < ld->nsections; s++) {
        const struct raw_section *sec = &ld->sections[s];
        bool ok = strncmp(sec->name, "program:", 8) == 0 || strncmp(sec->name, "group:", 6) == 0 ||
                  strncmp(sec->name, "fcgi-program:", 13) == 0 ||
                  strncmp(sec->name, "eventlistener:", 14) == 0;
        for (size_t k = 0; k < ARRAY_SIZE(known) && !ok; k++) {
            ok = strcmp(sec->name, known[k]) == 0;
        }
        if (ok) {
            continue;
        }
        size_t ign = ARRAY_SIZE(ignored_sections);
        for (size_t k = 0; k < ARRAY_SIZE(ignored_sections) && ign == ARRAY_SIZE(ignored_sections);
             k++) {
            const char *prefix = ignored_sections[k].prefix;
            size_t n = strlen(prefix);
            if (prefix[n - 1] == ':' ? strncmp(sec->name, prefix, n) == 0
                                     : strcmp(sec->name, prefix) == 0) {
                ign = k;
            }
        }
        if (ign == ARRAY_SIZE(ignored_sections)) {
            /* supervisord skips sections it does not know; so does tend, unless --strict */
            if (ld->diag->strict) {
                loader_error(ld, sec->file, sec->line,
                             "[%s]: unknown section (tend reads [tend], [program:NAME], "
                             "[fcgi-program:NAME], [eventlistener:NAME], [group:NAME], "
                             "[inet_http_server], [include])",
                             sec->name);
            } else {
                loader_warning(ld, sec->file, sec->line, "[%s]: unknown section, ignored",
                               sec->name);
            }
            continue;
        }
        if (ignored_sections[ign].why) {
            loader_warning(ld, sec->file, sec->line, "[%s]: %s", sec->name,
                           ignored_sections[ign].why);
        }
        if (!ignored_sections[ign].keys) {
            continue;
        }
        for (size_t o = 0; o < sec->nopts; o++) {
            const char *name = sec->opts[o].name;
            const struct option_def *opt =
                find_option(program_options, program_options_count, name);
            bool known_key = ignored_sections[ign].program_keys && opt && !(opt->flags & OF_FCGI);
            for (size_t k = 0; k < ignored_sections[ign].nkeys && !known_key; k++) {
                known_key = strcmp(ignored_sections[ign].keys[k], name) == 0;
            }
            if (!known_key) {
                char *hint =
                    suggestion_among(ignored_sections[ign].keys, ignored_sections[ign].nkeys, name);
                report_unknown_option(ld, sec->file, sec->opts[o].line, sec->name, name, hint);
                free(hint);
            }
        }
    }
}
