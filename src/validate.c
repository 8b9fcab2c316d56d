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

/* [rpcinterface:supervisor] as every supervisord.conf has it: the interface tend implements. */
static bool supervisors_own_rpcinterface(const struct raw_section *sec)
{
    const struct raw_option *o = section_get(sec, "supervisor.rpcinterface_factory");
    return strncmp(sec->name, "rpcinterface:", 13) == 0 && o &&
           strcmp(o->value, "supervisor.rpcinterface:make_main_rpcinterface") == 0;
}

/* What every check looks names up in, hashed once: with 10,000 programs a linear search per
 * name made `tend check` quadratic. */
struct validate_index {
    struct strv names;                 /* the program names, once each, in config order */
    struct strmap name_at;             /* program name -> its index in names */
    const struct proc_config **first;  /* per name: its first process */
    struct strmap section_at;          /* program name -> index of its section */
};

static const struct raw_section *
find_program_section(struct loader *ld, const struct validate_index *ix, const char *program)
{
    size_t s;
    return strmap_get(&ix->section_at, program, &s) ? &ld->sections[s] : NULL;
}

static const struct proc_config *
find_program(const struct validate_index *ix, const char *program)
{
    size_t at;
    return strmap_get(&ix->name_at, program, &at) ? ix->first[at] : NULL;
}

/* Depth-first search over depends_on; on a back edge the path from it is the cycle. */
static bool
find_cycle(const struct validate_index *ix, const char *program, struct strv *path, int *state_of)
{
    size_t idx;
    if (!strmap_get(&ix->name_at, program, &idx) || state_of[idx] == 2) {
        return false;
    }
    strv_push(path, program);
    if (state_of[idx] == 1) {
        return true;
    }
    state_of[idx] = 1;
    const struct proc_config *pc = ix->first[idx];
    for (size_t d = 0; d < pc->depends_on.n; d++) {
        if (find_cycle(ix, pc->depends_on.v[d], path, state_of)) {
            return true;
        }
    }
    /* a pipeline is a dependency too: the writer needs its reader */
    const struct strv *targets[] = {&pc->stdout, &pc->stderr};
    for (size_t t = 0; t < 2; t++) {
        for (size_t d = 0; d < targets[t]->n; d++) {
            if (strncmp(targets[t]->v[d], "program:", 8) == 0 &&
                find_cycle(ix, targets[t]->v[d] + 8, path, state_of)) {
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
validate_unique_names(struct loader *ld, struct config *cfg, const struct validate_index *ix)
{
    (void)ix;
    struct strmap first_named;
    strmap_init(&first_named);
    for (size_t i = 0; i < cfg->nprocs; i++) {
        size_t j;
        if (strmap_put(&first_named, cfg->procs[i]->name, i)) {
            continue;
        }
        strmap_get(&first_named, cfg->procs[i]->name, &j);
        if (strcmp(cfg->procs[i]->program, cfg->procs[j]->program) != 0) {
            loader_error(ld, cfg->procs[i]->file, cfg->procs[i]->line,
                         "[program:%s]: process name '%s' is already used by "
                         "[program:%s] at %s:%d",
                         cfg->procs[i]->program, cfg->procs[i]->name, cfg->procs[j]->program,
                         cfg->procs[j]->file, cfg->procs[j]->line);
        }
    }
    strmap_free(&first_named);
}

/* Groups name existing programs, each program in one group at most. */
static void
validate_groups(struct loader *ld, struct config *cfg, const struct validate_index *ix)
{
    struct strmap group_of;
    strmap_init(&group_of);
    for (size_t g = 0; g < cfg->ngroups; g++) {
        struct group_config *grp = &cfg->groups[g];
        for (size_t p = 0; p < grp->programs.n; p++) {
            if (!find_program_section(ld, ix, grp->programs.v[p])) {
                loader_error(ld, grp->file, grp->line, "[group:%s] programs: no [program:%s]",
                             grp->name, grp->programs.v[p]);
            }
            size_t h;
            if (!strmap_put(&group_of, grp->programs.v[p], g) &&
                strmap_get(&group_of, grp->programs.v[p], &h) && h != g) {
                loader_error(ld, grp->file, grp->line,
                             "[group:%s] programs: %s is already in [group:%s]", grp->name,
                             grp->programs.v[p], cfg->groups[h].name);
            }
        }
    }
    strmap_free(&group_of);
}

/* depends_on names programs that exist, and not the program itself. */
static void
validate_depends_on(struct loader *ld, struct config *cfg, const struct validate_index *ix)
{
    for (size_t i = 0; i < cfg->nprocs; i++) {
        const struct proc_config *pc = cfg->procs[i];
        const struct raw_section *sec = find_program_section(ld, ix, pc->program);
        const struct raw_option *raw = sec ? section_get(sec, "depends_on") : NULL;
        for (size_t d = 0; d < pc->depends_on.n; d++) {
            if (!strmap_get(&ix->name_at, pc->depends_on.v[d], NULL)) {
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
validate_pipes(struct loader *ld, struct config *cfg, const struct validate_index *ix)
{
    for (size_t i = 0; i < cfg->nprocs; i++) {
        const struct proc_config *pc = cfg->procs[i];
        const struct raw_section *sec = find_program_section(ld, ix, pc->program);
        const char *opts[] = {"stdout", "stderr"};
        const struct strv *lists[] = {&pc->stdout, &pc->stderr};
        for (size_t t = 0; t < 2; t++) {
            const struct raw_option *raw = sec ? section_get(sec, opts[t]) : NULL;
            for (size_t d = 0; d < lists[t]->n; d++) {
                const char *target = lists[t]->v[d];
                if (strncmp(target, "program:", 8) != 0) {
                    continue;
                }
                const struct proc_config *reader = find_program(ix, target + 8);
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
validate_no_cycle(struct loader *ld, struct config *cfg, const struct validate_index *ix)
{
    const struct strv *names = &ix->names;
    int *state_of = xcalloc(names->n ? names->n : 1, sizeof(int));
    for (size_t n = 0; n < names->n; n++) {
        struct strv path;
        strv_init(&path);
        if (state_of[n] == 0 && find_cycle(ix, names->v[n], &path, state_of)) {
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
            const struct raw_section *sec = find_program_section(ld, ix, again);
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
validate_exit_with(struct loader *ld, struct config *cfg, const struct validate_index *ix)
{
    if (cfg->global.exit_with && !strmap_get(&ix->name_at, cfg->global.exit_with, NULL)) {
        loader_error(ld, cfg->global.file, 0, "[tend] exit_with: no [program:%s]",
                     cfg->global.exit_with);
    }
}

/* The checks that need the whole configuration, in order; each reports through loader_error. */
static void (*const validate_steps[])(struct loader *, struct config *,
                                      const struct validate_index *) = {
    validate_unique_names, validate_groups,   validate_depends_on,
    validate_pipes,        validate_no_cycle, validate_exit_with,
};

void
validate(struct loader *ld, struct config *cfg)
{
    struct validate_index ix;
    strv_init(&ix.names);
    strmap_init(&ix.name_at);
    strmap_init(&ix.section_at);
    ix.first = xcalloc(cfg->nprocs ? cfg->nprocs : 1, sizeof(*ix.first));
    for (size_t i = 0; i < cfg->nprocs; i++) {
        /* keys borrowed from the configuration, which outlives the index */
        if (strmap_put(&ix.name_at, cfg->procs[i]->program, ix.names.n)) {
            ix.first[ix.names.n] = cfg->procs[i];
            strv_push(&ix.names, cfg->procs[i]->program);
        }
    }
    for (size_t s = 0; s < ld->nsections; s++) {
        const char *n = ld->sections[s].name;
        if (strncmp(n, "program:", 8) == 0) {
            strmap_put(&ix.section_at, n + 8, s);
        } else if (strncmp(n, "fcgi-program:", 13) == 0) {
            strmap_put(&ix.section_at, n + 13, s);
        } else if (strncmp(n, "eventlistener:", 14) == 0) {
            strmap_put(&ix.section_at, n + 14, s);
        }
    }
    for (size_t k = 0; k < ARRAY_SIZE(validate_steps); k++) {
        validate_steps[k](ld, cfg, &ix);
    }
    free(ix.first);
    strmap_free(&ix.section_at);
    strmap_free(&ix.name_at);
    strv_free(&ix.names);
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
        if (supervisors_own_rpcinterface(sec)) {
            continue; /* tend serves that interface itself (supervisor.*, at /RPC2) */
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
