/* config.c - a configuration from the raw sections loader.c read: defaults and values from the
 * option tables (options.c), %(...)s expansions, programs, groups; config_load. Calls loader,
 * validate, options, expand, values and util. */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_int.h"
#include "events.h"
#include "expand.h"
#include "listen.h"


/* ---- the option tables, generated from options.def ---- */

const struct option_def program_options[] = {
#define PROGRAM_OPTION(name, type, def, min, max, flags, doc)                                      \
    {#name, type, def, min, max, flags, doc, offsetof(struct proc_config, name)},
#include "options.def"
};
const size_t program_options_count = ARRAY_SIZE(program_options);

const struct option_def global_options[] = {
#define GLOBAL_OPTION(name, type, def, min, max, flags, doc)                                       \
    {#name, type, def, min, max, flags, doc, offsetof(struct global_config, name)},
#include "options.def"
};
const size_t global_options_count = ARRAY_SIZE(global_options);

/* ---- diagnostics ---- */

void diag_init(struct diag *d)
{
    strv_init(&d->errors);
    strv_init(&d->warnings);
    d->strict = false;
}

void diag_free(struct diag *d)
{
    strv_free(&d->errors);
    strv_free(&d->warnings);
}

void diag_print(const struct diag *d, FILE *to)
{
    for (size_t i = 0; i < d->warnings.n; i++) {
        fprintf(to, "%s\n", d->warnings.v[i]);
    }
    for (size_t i = 0; i < d->errors.n; i++) {
        fprintf(to, "%s\n", d->errors.v[i]);
    }
}

/* Identical messages (one per process of a numprocs program) are kept once. */
void diag_add(struct strv *list, char *msg)
{
    if (strv_contains(list, msg)) {
        free(msg);
    } else {
        strv_push_owned(list, msg);
    }
}

/* " (did you mean X?)" among plain names, or "". */
char *suggestion_among(const char *const *names, size_t n, const char *name)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t d = levenshtein(name, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    size_t limit = strlen(name) < 5 ? 1 : (strlen(name) < 10 ? 2 : 3);
    if (best && best_d <= limit) {
        return xasprintf(" (did you mean %s?)", best);
    }
    return xstrdup("");
}

/* An option a section does not know. supervisord ignores those, so a supervisord file must
 * still run: a warning, except in tend's own [tend] and with check --strict. */
void report_unknown_option(struct loader *ld, const char *file, int line,
                                  const char *section, const char *name, const char *hint)
{
    if (ld->diag->strict || strcmp(section, "tend") == 0) {
        loader_error(ld, file, line, "[%s] %s: unknown option%s", section, name, hint);
    } else {
        loader_warning(ld, file, line, "[%s] %s: unknown option, ignored%s", section, name,
                       hint);
    }
}

/* ---- building the config ---- */

struct expand_ctx {
    const char *here;
    const char *program_name;
    const char *group_name;
    const char *host_node_name;
    char process_num[32];
    char numprocs[32];
};

static const char *expand_ctx_lookup(void *ctx, const char *name)
{
    struct expand_ctx *e = ctx;
    if (strcmp(name, "here") == 0) {
        return e->here;
    }
    if (strcmp(name, "host_node_name") == 0) {
        return e->host_node_name;
    }
    if (e->program_name && strcmp(name, "program_name") == 0) {
        return e->program_name;
    }
    if (e->group_name && strcmp(name, "group_name") == 0) {
        return e->group_name;
    }
    if (e->process_num[0] && strcmp(name, "process_num") == 0) {
        return e->process_num;
    }
    if (e->numprocs[0] && strcmp(name, "numprocs") == 0) {
        return e->numprocs;
    }
    return NULL;
}

const struct raw_option *section_get(const struct raw_section *sec, const char *name)
{
    for (size_t i = 0; i < sec->nopts; i++) {
        if (strcmp(sec->opts[i].name, name) == 0) {
            return &sec->opts[i];
        }
    }
    return NULL;
}

/* Expands and parses one option into base; the default applies when the section lacks it. */
static void apply_option(struct loader *ld, const struct raw_section *sec,
                         const struct option_def *opt, const struct raw_option *raw,
                         struct expand_ctx *ectx, void *base)
{
    const char *text = raw ? raw->value : (opt->def ? opt->def : "");
    int line = raw ? raw->line : sec->line;
    char *expanded = NULL, *err = NULL;
    if (expand_string(text, expand_ctx_lookup, ectx, &expanded, &err) < 0) {
        loader_error(ld, sec->file, line, "[%s] %s: %s", sec->name, opt->name, err);
        free(err);
        /* leave the default in place so the rest of the checks can go on */
        expand_string(opt->def ? opt->def : "", expand_ctx_lookup, ectx, &expanded, &err);
        free(err);
        err = NULL;
        if (!expanded) {
            expanded = xstrdup("");
        }
    }
    if (option_parse(opt, expanded, base, &err) < 0) {
        loader_error(ld, sec->file, line, "[%s] %s: %s", sec->name, opt->name,
                     err ? err : "invalid value");
        free(err);
        err = NULL;
        option_free(opt, base);
        if (option_parse(opt, opt->def ? opt->def : "", base, &err) < 0) {
            free(err);
            option_free(opt, base);
        }
    }
    free(expanded);
}

/* Reports options a section has that its table does not know. */
static void check_unknown_options(struct loader *ld, const struct raw_section *sec,
                                  const struct option_def *table, size_t n,
                                  const char *const *extra, size_t nextra)
{
    for (size_t i = 0; i < sec->nopts; i++) {
        const struct raw_option *o = &sec->opts[i];
        const struct option_def *opt = find_option(table, n, o->name);
        bool known_extra = false;
        for (size_t e = 0; e < nextra; e++) {
            known_extra |= strcmp(extra[e], o->name) == 0;
        }
        if (known_extra) {
            continue;
        }
        if (opt && (opt->flags & OF_FCGI) && strncmp(sec->name, "fcgi-program:", 13) != 0) {
            opt = NULL; /* socket options belong to [fcgi-program:x] only */
        }
        if (!opt) {
            char *hint = option_suggestion(table, n, o->name);
            report_unknown_option(ld, sec->file, o->line, sec->name, o->name, hint);
            free(hint);
        } else if (opt->flags & OF_IGNORED) {
            loader_warning(ld, sec->file, o->line,
                           "[%s] %s: supervisord option not implemented by tend; ignored",
                           sec->name, o->name);
        }
    }
}

/* [unix_http_server] and [inet_http_server] options: supervisord's name, tend's [tend] name. */
static const char *const unix_http_keys[][2] = {{"file", "socket"},
                                                {"chmod", "socket_mode"},
                                                {"chown", "socket_owner"},
                                                {"username", "socket_username"},
                                                {"password", "socket_password"}};
static const char *const inet_http_keys[][2] = {
    {"port", "http_port"}, {"username", "http_username"}, {"password", "http_password"}};

/* The key of a [tend] option in an HTTP section (NULL if it has none there). */
static const char *http_section_key(const char *section, const char *option)
{
    bool is_unix = strcmp(section, "unix_http_server") == 0;
    const char *const(*keys)[2] = is_unix ? unix_http_keys : inet_http_keys;
    size_t n = is_unix ? ARRAY_SIZE(unix_http_keys) : ARRAY_SIZE(inet_http_keys);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(keys[i][1], option) == 0) {
            return keys[i][0];
        }
    }
    return NULL;
}

/* Unknown options of an HTTP section: [unix_http_server] warns like any section (an error
 * with --strict); [inet_http_server] opens a port, so a typo there is an error. */
static void check_http_section(struct loader *ld, const struct raw_section *sec)
{
    bool is_unix = strcmp(sec->name, "unix_http_server") == 0;
    const char *const(*keys)[2] = is_unix ? unix_http_keys : inet_http_keys;
    size_t nkeys = is_unix ? ARRAY_SIZE(unix_http_keys) : ARRAY_SIZE(inet_http_keys);
    const char *names[ARRAY_SIZE(unix_http_keys)];
    for (size_t k = 0; k < nkeys; k++) {
        names[k] = keys[k][0];
    }
    for (size_t o = 0; o < sec->nopts; o++) {
        const char *n = sec->opts[o].name;
        bool known = false;
        for (size_t k = 0; k < nkeys; k++) {
            known |= strcmp(names[k], n) == 0;
        }
        if (known) {
            continue;
        }
        char *hint = suggestion_among(names, nkeys, n);
        if (is_unix) {
            report_unknown_option(ld, sec->file, sec->opts[o].line, sec->name, n, hint);
        } else {
            loader_error(ld, sec->file, sec->opts[o].line,
                         "[%s] %s: unknown option (tend reads port, username and password)%s",
                         sec->name, n, hint);
        }
        free(hint);
    }
}

static void build_global(struct loader *ld, struct config *cfg, char hostname[])
{
    struct global_config *g = &cfg->global;
    struct expand_ctx ectx = {.here = g->here, .host_node_name = hostname};
    /* merged view of [tend], [supervisord] and the HTTP sections: the first setting wins */
    for (size_t i = 0; i < global_options_count; i++) {
        const struct option_def *opt = &global_options[i];
        const struct raw_section *from = NULL;
        const struct raw_option *raw = NULL;
        for (size_t s = 0; s < ld->nsections && !raw; s++) {
            const struct raw_section *sec = &ld->sections[s];
            const char *key = opt->name;
            if (strcmp(sec->name, "unix_http_server") == 0 ||
                strcmp(sec->name, "inet_http_server") == 0) {
                key = http_section_key(sec->name, opt->name);
            } else if (strcmp(sec->name, "tend") != 0 && strcmp(sec->name, "supervisord") != 0) {
                continue;
            }
            if (key && (raw = section_get(sec, key))) {
                from = sec;
            }
        }
        const struct raw_section fallback = {.name = (char *)"tend",
                                             .file = g->file,
                                             .line = 0};
        ectx.here = from ? from->here : g->here;
        apply_option(ld, from ? from : &fallback, opt, raw, &ectx, g);
    }
    for (size_t s = 0; s < ld->nsections; s++) {
        const struct raw_section *sec = &ld->sections[s];
        if (strcmp(sec->name, "tend") == 0 || strcmp(sec->name, "supervisord") == 0) {
            check_unknown_options(ld, sec, global_options, global_options_count, NULL, 0);
        } else if (strcmp(sec->name, "unix_http_server") == 0 ||
                   strcmp(sec->name, "inet_http_server") == 0) {
            check_http_section(ld, sec);
        }
    }
}

static bool valid_name(const char *name)
{
    if (!*name) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (*p == ':' || *p == '/' || *p == ' ' || *p == '\t' || *p == '*' || *p == ',' ||
            (unsigned char)*p < 0x20) {
            return false;
        }
    }
    return true;
}

static void build_groups(struct loader *ld, struct config *cfg)
{
    static const struct option_def group_options[] = {
        {"programs", OT_LIST, NULL, 0, 0, 0, "members", offsetof(struct group_config, programs)},
        {"priority", OT_INT, "999", -1000000, 1000000, 0, "order",
         offsetof(struct group_config, priority)},
    };
    for (size_t s = 0; s < ld->nsections; s++) {
        const struct raw_section *sec = &ld->sections[s];
        if (strncmp(sec->name, "group:", 6) != 0) {
            continue;
        }
        const char *name = sec->name + 6;
        if (!valid_name(name)) {
            loader_error(ld, sec->file, sec->line, "[%s]: invalid group name", sec->name);
            continue;
        }
        for (size_t i = 0; i < cfg->ngroups; i++) {
            if (strcmp(cfg->groups[i].name, name) == 0) {
                loader_error(ld, sec->file, sec->line, "[%s]: group defined twice (first at %s:%d)",
                             sec->name, cfg->groups[i].file, cfg->groups[i].line);
            }
        }
        cfg->groups = xrealloc(cfg->groups, (cfg->ngroups + 1) * sizeof(*cfg->groups));
        struct group_config *grp = &cfg->groups[cfg->ngroups++];
        memset(grp, 0, sizeof(*grp));
        grp->name = xstrdup(name);
        grp->file = xstrdup(sec->file);
        grp->line = sec->line;
        check_unknown_options(ld, sec, group_options, ARRAY_SIZE(group_options), NULL, 0);
        struct expand_ctx ectx = {.here = sec->here, .host_node_name = "", .group_name = name};
        for (size_t i = 0; i < ARRAY_SIZE(group_options); i++) {
            apply_option(ld, sec, &group_options[i], section_get(sec, group_options[i].name),
                         &ectx, grp);
        }
        if (!grp->programs.n) {
            loader_error(ld, sec->file, sec->line, "[%s]: programs is required", sec->name);
        }
    }
}

/* Names looked up while programs are built, hashed: thousands of programs stay linear. */
struct build_index {
    struct strmap program_at; /* program name -> index in cfg->procs of its first process */
    struct strmap group_at;   /* program name -> index of the first group listing it */
    struct strmap file_at;    /* a file read -> its index in cfg->files */
};

static const char *group_of(const struct build_index *bx, struct config *cfg, const char *program)
{
    size_t g;
    return strmap_get(&bx->group_at, program, &g) ? cfg->groups[g].name : NULL;
}

static void proc_config_free(struct proc_config *pc)
{
    for (size_t i = 0; i < program_options_count; i++) {
        option_free(&program_options[i], pc);
    }
    if (pc->group != pc->name && pc->group != pc->program) {
        free(pc->group);
    }
    if (pc->program != pc->name) {
        free(pc->program);
    }
    free(pc->name);
    free(pc);
}

/* [fcgi-program:x]: a socket that tend can create, and a stdin that is free for it. */
static void validate_fcgi(struct loader *ld, const struct raw_section *sec,
                          const struct proc_config *pc)
{
    const struct raw_option *raw = section_get(sec, "socket");
    int line = raw ? raw->line : sec->line;
    struct listen_spec spec;
    char *err = NULL;
    if (!pc->socket) {
        loader_error(ld, sec->file, sec->line, "[%s]: socket is required", sec->name);
        return;
    }
    if (listen_spec_parse(pc->socket, &spec, &err) < 0) {
        loader_error(ld, sec->file, line, "[%s] socket: %s", sec->name, err);
        free(err);
        return;
    }
    if (spec.kind == LISTEN_TCP && (pc->socket_owner || pc->socket_mode >= 0)) {
        loader_error(ld, sec->file, line,
                     "[%s] socket: socket_owner and socket_mode apply to unix sockets only",
                     sec->name);
    }
    listen_spec_free(&spec);
    uid_t uid;
    gid_t gid;
    if (pc->socket_owner && listen_parse_owner(pc->socket_owner, &uid, &gid, &err) < 0) {
        raw = section_get(sec, "socket_owner");
        loader_error(ld, sec->file, raw ? raw->line : sec->line, "[%s] socket_owner: %s",
                     sec->name, err);
        free(err);
    }
    if (pc->stdin.kind != STDIN_NULL) {
        raw = section_get(sec, "stdin");
        loader_error(ld, sec->file, raw ? raw->line : sec->line,
                     "[%s] stdin: the stdin of an fcgi-program is its socket", sec->name);
    }
}

/* What an [eventlistener:x] section has besides the [program:x] options. */
static const char *const listener_keys[] = {"events", "buffer_size", "result_handler"};

/* events= (required, a list of event types or groups), buffer_size, result_handler. */
static void listener_options(struct loader *ld, const struct raw_section *sec, uint32_t *mask,
                             long *buffer_size)
{
    const struct raw_option *o = section_get(sec, "events");
    if (!o || !*o->value) {
        loader_error(ld, sec->file, sec->line, "[%s]: events is required", sec->name);
    } else {
        char *list = xstrdup(o->value);
        char *save = NULL;
        for (char *w = strtok_r(list, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save)) {
            uint32_t m = event_mask_for_name(w);
            if (!m) {
                loader_error(ld, sec->file, o->line, "[%s] events: unknown event type %s",
                             sec->name, w);
            }
            *mask |= m;
        }
        free(list);
    }
    o = section_get(sec, "buffer_size");
    if (o) {
        char *end;
        long v = strtol(o->value, &end, 10);
        if (end == o->value || *end || v < 1 || v > 1000000) {
            loader_error(ld, sec->file, o->line,
                         "[%s] buffer_size: '%s' is not a number from 1 to 1000000", sec->name,
                         o->value);
        } else {
            *buffer_size = v;
        }
    }
    o = section_get(sec, "result_handler");
    if (o && strcmp(o->value, "supervisor.dispatchers:default_handler") != 0) {
        loader_warning(ld, sec->file, o->line,
                       "[%s] result_handler: a Python function; tend cannot call it and uses "
                       "supervisord's default (OK accepts, anything else rejects)",
                       sec->name);
    }
}

/* The listener's stdin and stdout are the protocol: nothing else may use them. */
static void listener_check(struct loader *ld, const struct raw_section *sec,
                           const struct proc_config *pc)
{
    static const char *const taken[] = {"redirect_stderr", "stdin", "stdout"};
    bool bad[] = {pc->redirect_stderr, pc->stdin.kind != STDIN_NULL, pc->stdout.n > 0};
    for (size_t i = 0; i < ARRAY_SIZE(taken); i++) {
        if (bad[i]) {
            const struct raw_option *o = section_get(sec, taken[i]);
            loader_error(ld, sec->file, o ? o->line : sec->line,
                         "[%s] %s: not allowed for an event listener (its stdin and stdout "
                         "speak the listener protocol)",
                         sec->name, taken[i]);
        }
    }
    if (pc->type != PTYPE_SIMPLE) {
        const struct raw_option *o = section_get(sec, "type");
        loader_error(ld, sec->file, o ? o->line : sec->line,
                     "[%s] type: an event listener is a simple program", sec->name);
    }
}

/* stdout/stderr_logfile_direct: the program writes the file itself, so tend has no bytes to
 * rotate, stamp, mirror or hand on; each of those asked for together is an error at its line. */
static void direct_log_check(struct loader *ld, const struct raw_section *sec,
                             const struct proc_config *pc, const struct global_config *g)
{
    for (int k = 0; k < 2; k++) {
        bool err_stream = k == 1;
        const char *stream = err_stream ? "stderr" : "stdout";
        if (!(err_stream ? pc->stderr_logfile_direct : pc->stdout_logfile_direct)) {
            continue;
        }
        char opt[32];
        snprintf(opt, sizeof(opt), "%s_logfile_direct", stream);
        const struct raw_option *o = section_get(sec, opt);
        int line = o ? o->line : sec->line;
        if (err_stream && pc->redirect_stderr) {
            loader_error(ld, sec->file, line,
                         "[%s] %s: stderr goes to stdout (redirect_stderr); set "
                         "stdout_logfile_direct instead",
                         sec->name, opt);
            continue;
        }
        const struct strv *targets = err_stream ? &pc->stderr : &pc->stdout;
        bool file_target = false, program_target = false;
        for (size_t i = 0; i < targets->n; i++) {
            file_target |= strncmp(targets->v[i], "file:", 5) == 0;
            program_target |= strncmp(targets->v[i], "program:", 8) == 0;
        }
        const char *logfile = err_stream ? pc->stderr_logfile : pc->stdout_logfile;
        bool has_file = file_target ||
                        (logfile && strcasecmp(logfile, "NONE") != 0 &&
                         strcasecmp(logfile, "syslog") != 0 &&
                         (strcasecmp(logfile, "AUTO") != 0 || g->childlogdir));
        /* what the option needs, in the stream's own option names */
        char needs[160] = "";
        if (!has_file) {
            snprintf(needs, sizeof(needs),
                     "a log file (%s_logfile is NONE, syslog, or AUTO without childlogdir)",
                     stream);
        } else if ((err_stream ? pc->stderr_logfile_maxbytes : pc->stdout_logfile_maxbytes) != 0) {
            snprintf(needs, sizeof(needs),
                     "%s_logfile_maxbytes = 0: tend cannot rotate a file it does not write",
                     stream);
        } else if (program_target) {
            snprintf(needs, sizeof(needs),
                     "no program:NAME in %s =: tend does not see the bytes to pass on", stream);
        } else if (err_stream ? pc->stderr_syslog : pc->stdout_syslog) {
            snprintf(needs, sizeof(needs), "%s_syslog = false: tend does not see the bytes",
                     stream);
        } else if (err_stream ? pc->stderr_events_enabled : pc->stdout_events_enabled) {
            snprintf(needs, sizeof(needs),
                     "%s_events_enabled = false: tend does not see the bytes", stream);
        } else if (err_stream ? pc->stderr_timestamps : pc->stdout_timestamps) {
            snprintf(needs, sizeof(needs), "%s_timestamps = false: tend does not see the bytes",
                     stream);
        } else if (pc->listener && !err_stream) {
            snprintf(needs, sizeof(needs),
                     "a program, not an event listener (its stdout speaks the listener protocol)");
        }
        if (needs[0]) {
            loader_error(ld, sec->file, line, "[%s] %s: needs %s", sec->name, opt, needs);
        }
    }
}

/* One option of one instance; a listener's priority defaults to -1: supervisord starts
 * listeners first and stops them last. */
static void apply_program_option(struct loader *ld, const struct raw_section *sec,
                                 const struct option_def *opt, struct expand_ctx *ectx,
                                 struct proc_config *pc, bool listener)
{
    const struct raw_option *raw = section_get(sec, opt->name);
    if (!raw && strcmp(opt->name, "command") == 0) {
        return; /* reported once by build_program */
    }
    if (!raw && listener && strcmp(opt->name, "priority") == 0) {
        char key[] = "priority", value[] = "-1";
        struct raw_option first = {.name = key, .value = value, .line = sec->line};
        apply_option(ld, sec, opt, &first, ectx, pc);
        return;
    }
    apply_option(ld, sec, opt, raw, ectx, pc);
}

/* The copy of path in cfg->files (every file read is there): one string for all the programs
 * of a file, not one each (10,000 programs from one file spent 70 bytes each on it). Found
 * through a hash: 10,000 programs may also come from 10,000 included files. */
static const char *config_file_ref(struct build_index *bx, struct config *cfg, const char *path)
{
    size_t i;
    if (!strmap_get(&bx->file_at, path, &i)) {
        strv_push(&cfg->files, path); /* not expected: the loader lists every file it reads */
        i = cfg->files.n - 1;
        strmap_put(&bx->file_at, cfg->files.v[i], i);
    }
    return cfg->files.v[i];
}

static void build_program(struct loader *ld, struct config *cfg, struct build_index *bx,
                          const struct raw_section *sec, const char *hostname)
{
    bool fcgi = strncmp(sec->name, "fcgi-program:", 13) == 0;
    bool listener = strncmp(sec->name, "eventlistener:", 14) == 0;
    const char *name = sec->name + (fcgi ? 13 : listener ? 14 : 8);
    if (!valid_name(name)) {
        loader_error(ld, sec->file, sec->line,
                     "[%s]: invalid program name (no blanks, ':', '/', ',' or '*')", sec->name);
        return;
    }
    size_t first;
    if (strmap_get(&bx->program_at, name, &first)) {
        loader_error(ld, sec->file, sec->line, "[%s]: program defined twice (first at %s:%d)",
                     sec->name, cfg->procs[first]->file, cfg->procs[first]->line);
        return;
    }
    check_unknown_options(ld, sec, program_options, program_options_count, listener_keys,
                          listener ? ARRAY_SIZE(listener_keys) : 0);
    uint32_t listen_mask = 0;
    long buffer_size = 10;
    if (listener) {
        listener_options(ld, sec, &listen_mask, &buffer_size);
    }
    const char *group = listener ? NULL : group_of(bx, cfg, name);
    struct expand_ctx ectx = {
        .here = sec->here, .program_name = name, .group_name = group ? group : name,
        .host_node_name = hostname};

    /* numprocs and numprocs_start first: they decide how many instances to build */
    struct proc_config probe;
    memset(&probe, 0, sizeof(probe));
    const struct option_def *o_n = config_find_program_option("numprocs");
    const struct option_def *o_s = config_find_program_option("numprocs_start");
    apply_option(ld, sec, o_n, section_get(sec, "numprocs"), &ectx, &probe);
    apply_option(ld, sec, o_s, section_get(sec, "numprocs_start"), &ectx, &probe);
    long numprocs = probe.numprocs, start = probe.numprocs_start;
    snprintf(ectx.numprocs, sizeof(ectx.numprocs), "%ld", numprocs);

    const struct raw_option *pname = section_get(sec, "process_name");
    if (numprocs > 1 && (!pname || !expand_references(pname->value, "process_num"))) {
        loader_error(ld, sec->file, pname ? pname->line : sec->line,
                     "[%s] process_name: numprocs is %ld, so process_name must contain "
                     "%%(process_num)d to give each process its own name",
                     sec->name, numprocs);
        numprocs = 1;
    }
    if (!section_get(sec, "command")) {
        loader_error(ld, sec->file, sec->line, "[%s]: command is required", sec->name);
    }

    for (long i = 0; i < numprocs; i++) {
        struct proc_config *pc = xcalloc(1, sizeof(*pc));
        snprintf(ectx.process_num, sizeof(ectx.process_num), "%ld", start + i);
        for (size_t o = 0; o < program_options_count; o++) {
            apply_program_option(ld, sec, &program_options[o], &ectx, pc, listener);
        }
        /* name, program and group are mostly the same word: one copy for all of them */
        pc->name = xstrdup(pc->process_name ? pc->process_name : name);
        pc->program = strcmp(pc->name, name) == 0 ? pc->name : xstrdup(name);
        if (i == 0) {
            strmap_put(&bx->program_at, pc->program, cfg->nprocs); /* pc->program lives on */
        }
        pc->fcgi = fcgi;
        if (fcgi && i == 0) {
            validate_fcgi(ld, sec, pc);
        }
        pc->listener = listener;
        pc->listener_events = listen_mask;
        pc->buffer_size = buffer_size;
        if (listener && i == 0) {
            listener_check(ld, sec, pc);
        }
        pc->group = strcmp(ectx.group_name, pc->program) == 0 ? pc->program
                    : strcmp(ectx.group_name, pc->name) == 0    ? pc->name
                                                                : xstrdup(ectx.group_name);
        pc->process_num = (int)(start + i);
        pc->file = config_file_ref(bx, cfg, sec->file);
        pc->line = sec->line;
        pc->order = sec->order * 100000 + (size_t)i;
        if (!valid_name(pc->name)) {
            loader_error(ld, sec->file, pname ? pname->line : sec->line,
                         "[%s] process_name: '%s' is not a valid name", sec->name, pc->name);
        }
        direct_log_check(ld, sec, pc, &cfg->global);
        if (pc->type == PTYPE_FORKING && !pc->pidfile) {
            loader_error(ld, sec->file, sec->line, "[%s] pidfile: type = forking needs a pidfile",
                         sec->name);
        }
        cfg->procs = xrealloc(cfg->procs, (cfg->nprocs + 1) * sizeof(*cfg->procs));
        cfg->procs[cfg->nprocs++] = pc;
    }
}

static int proc_order_cmp(const void *a, const void *b)
{
    const struct proc_config *x = *(struct proc_config *const *)a;
    const struct proc_config *y = *(struct proc_config *const *)b;
    if (x->priority != y->priority) {
        return x->priority < y->priority ? -1 : 1;
    }
    return x->order < y->order ? -1 : (x->order > y->order);
}

/* The default control socket: one per configuration file, so instances run side by side;
 * root's lives under /run, a user's under $XDG_RUNTIME_DIR or /tmp/tend-UID. */
char *config_default_socket(const char *config_file)
{
    const char *base = strrchr(config_file, '/');
    base = base ? base + 1 : config_file;
    size_t stem = strcspn(base, ".");
    uint32_t hash = 2166136261u; /* FNV-1a of the absolute path */
    for (const char *p = config_file; *p; p++) {
        hash = (hash ^ (unsigned char)*p) * 16777619u;
    }
    char *name = strcmp(config_file, "/etc/tend.ini") == 0
                     ? xstrdup("tend")
                     : xasprintf("%.*s-%08x", (int)(stem ? stem : 4), stem ? base : "tend",
                                 (unsigned)hash);
    char *path;
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    if (geteuid() == 0) {
        path = xasprintf("/run/tend/%s.sock", name);
    } else if (runtime && runtime[0] == '/') {
        path = xasprintf("%s/tend/%s.sock", runtime, name);
    } else {
        path = xasprintf("/tmp/tend-%u/%s.sock", (unsigned)geteuid(), name);
    }
    free(name);
    return path;
}

static struct config *config_read(const char *path, struct diag *d, bool global_only)
{
    struct loader ld;
    memset(&ld, 0, sizeof(ld));
    ld.diag = d;
    ld.current = -1;
    ld.global_only = global_only;
    strv_init(&ld.files);
    strv_init(&ld.stack);
    loader_read_file(&ld, path, NULL, 0);
    if (d->errors.n) {
        loader_free(&ld);
        return NULL;
    }

    struct config *cfg = xcalloc(1, sizeof(*cfg));
    strv_copy(&cfg->files, &ld.files);
    cfg->global.file = xstrdup(ld.files.v[0]);
    cfg->global.here = dir_of(cfg->global.file);
    char hostname[256] = "localhost";
    gethostname(hostname, sizeof(hostname) - 1);
    hostname[sizeof(hostname) - 1] = '\0';

    if (!global_only) {
        check_sections(&ld);
    }
    build_global(&ld, cfg, hostname);
    if (!cfg->global.socket) {
        cfg->global.socket = config_default_socket(cfg->global.file);
    } else if (strncmp(cfg->global.socket, "unix://", 7) == 0) {
        memmove(cfg->global.socket, cfg->global.socket + 7, strlen(cfg->global.socket + 7) + 1);
    }
    if (!global_only) {
        build_groups(&ld, cfg);
        struct build_index bx;
        strmap_init(&bx.program_at);
        strmap_init(&bx.group_at);
        strmap_init(&bx.file_at);
        for (size_t f = 0; f < cfg->files.n; f++) {
            strmap_put(&bx.file_at, cfg->files.v[f], f);
        }
        for (size_t g = 0; g < cfg->ngroups; g++) {
            for (size_t k = 0; k < cfg->groups[g].programs.n; k++) {
                strmap_put(&bx.group_at, cfg->groups[g].programs.v[k], g);
            }
        }
        for (size_t s = 0; s < ld.nsections; s++) {
            if (strncmp(ld.sections[s].name, "program:", 8) == 0 ||
                strncmp(ld.sections[s].name, "fcgi-program:", 13) == 0 ||
                strncmp(ld.sections[s].name, "eventlistener:", 14) == 0) {
                build_program(&ld, cfg, &bx, &ld.sections[s], hostname);
            }
        }
        strmap_free(&bx.file_at);
        strmap_free(&bx.group_at);
        strmap_free(&bx.program_at);
        validate(&ld, cfg);
        if (cfg->nprocs > 1) {
            qsort(cfg->procs, cfg->nprocs, sizeof(*cfg->procs), proc_order_cmp);
        }
    }
    loader_free(&ld);
    if (d->errors.n) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

struct config *config_load(const char *path, struct diag *d)
{
    return config_read(path, d, false);
}

struct config *config_load_for_verb(const char *given, const char *what)
{
    return config_load_for_verb_strict(given, what, false);
}

struct config *config_load_for_verb_strict(const char *given, const char *what, bool strict)
{
    char *tried = NULL;
    const char *path = config_find(given, &tried);
    if (!path) {
        fprintf(stderr, "tend: no configuration file found (looked for %s)\n", tried);
        free(tried);
        return NULL;
    }
    struct diag d;
    diag_init(&d);
    d.strict = strict;
    struct config *cfg = config_load(path, &d);
    diag_print(&d, stderr);
    if (!cfg && what) {
        fprintf(stderr, "tend: %zu error%s in the configuration; nothing %s\n", d.errors.n,
                d.errors.n == 1 ? "" : "s", what);
    }
    diag_free(&d);
    return cfg;
}

struct config *config_load_global(const char *path, struct diag *d)
{
    return config_read(path, d, true);
}

void config_free(struct config *cfg)
{
    if (!cfg) {
        return;
    }
    for (size_t i = 0; i < cfg->nprocs; i++) {
        proc_config_free(cfg->procs[i]);
    }
    free(cfg->procs);
    for (size_t i = 0; i < cfg->ngroups; i++) {
        free(cfg->groups[i].name);
        free(cfg->groups[i].file);
        strv_free(&cfg->groups[i].programs);
    }
    free(cfg->groups);
    for (size_t i = 0; i < global_options_count; i++) {
        option_free(&global_options[i], &cfg->global);
    }
    free(cfg->global.file);
    free(cfg->global.here);
    strv_free(&cfg->files);
    free(cfg);
}

const char *config_find(const char *given, char **tried)
{
    *tried = NULL;
    if (given) {
        return given;
    }
    const char *env = getenv("TEND_CONFIG");
    if (env && *env) {
        return env;
    }
    if (access("tend.ini", F_OK) == 0) {
        return "tend.ini";
    }
    if (access(SYSCONFDIR "/tend.ini", F_OK) == 0) {
        return SYSCONFDIR "/tend.ini";
    }
    if (strcmp(SYSCONFDIR, "/etc") != 0 && access("/etc/tend.ini", F_OK) == 0) {
        return "/etc/tend.ini";
    }
    *tried = xstrdup("-c FILE, $TEND_CONFIG, ./tend.ini, " SYSCONFDIR "/tend.ini");
    return NULL;
}
