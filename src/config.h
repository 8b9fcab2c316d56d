/* config.h - the configuration model: what tend.ini (or a supervisord file) says, validated,
 * expanded and with every default filled in. One proc_config per process instance. */
#ifndef TEND_CONFIG_H
#define TEND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"
#include "values.h"

enum opt_type {
    OT_STRING,      /* char *, NULL when unset */
    OT_COMMAND,     /* struct strv argv */
    OT_BOOL,        /* bool */
    OT_INT,         /* long, bounded by min/max */
    OT_RETRIES,     /* long; RETRIES_FOREVER for "forever" */
    OT_DURATION,    /* int64_t milliseconds */
    OT_SIZE,        /* int64_t bytes */
    OT_SIGNAL,      /* int */
    OT_EXITCODES,   /* struct exitcodes */
    OT_AUTORESTART, /* enum autorestart */
    OT_UMASK,       /* int, -1 when unset */
    OT_ENVIRONMENT, /* struct strv of "KEY=VALUE" */
    OT_LIST,        /* struct strv of names */
    OT_STDIN,       /* struct stdin_spec */
    OT_READY,       /* struct probe (none, notify, tcp, exec, fd) */
    OT_PROBE,       /* struct probe (none, exec, tcp) */
    OT_PTYPE,       /* enum proc_type */
    OT_LOGLEVEL,    /* enum loglevel */
    OT_FLOAT,       /* double, bounded by min/max */
    OT_RLIMIT,      /* int64_t; RLIMIT_UNSET, RLIMIT_UNLIMITED or a value */
    OT_TARGETS,     /* struct strv of "program:NAME" and "file:PATH" */
};

#define RLIMIT_UNSET (-1)
#define RLIMIT_UNLIMITED (-2)

enum { OF_TEND = 1, OF_IGNORED = 2, OF_FCGI = 4 };

#define RETRIES_FOREVER (-1L)

enum autorestart { AUTORESTART_FALSE, AUTORESTART_TRUE, AUTORESTART_UNEXPECTED };
enum proc_type { PTYPE_SIMPLE, PTYPE_FORKING, PTYPE_ONESHOT };
enum loglevel { LOG_CRIT, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

enum stdin_kind { STDIN_NULL, STDIN_FILE, STDIN_PIPE };
struct stdin_spec {
    enum stdin_kind kind;
    char *path; /* STDIN_FILE */
};

enum probe_kind { PROBE_NONE, PROBE_NOTIFY, PROBE_TCP, PROBE_EXEC, PROBE_FD };
struct probe {
    enum probe_kind kind;
    int port;         /* PROBE_TCP */
    char *host;       /* PROBE_TCP; "127.0.0.1" unless given */
    struct strv argv; /* PROBE_EXEC */
    int fd;           /* PROBE_FD */
};

/* C types of the option table's value types (used by the X-macros below). */
#define OPT_CTYPE_OT_STRING char *
#define OPT_CTYPE_OT_COMMAND struct strv
#define OPT_CTYPE_OT_BOOL bool
#define OPT_CTYPE_OT_INT long
#define OPT_CTYPE_OT_RETRIES long
#define OPT_CTYPE_OT_DURATION int64_t
#define OPT_CTYPE_OT_SIZE int64_t
#define OPT_CTYPE_OT_SIGNAL int
#define OPT_CTYPE_OT_EXITCODES struct exitcodes
#define OPT_CTYPE_OT_AUTORESTART enum autorestart
#define OPT_CTYPE_OT_UMASK int
#define OPT_CTYPE_OT_ENVIRONMENT struct strv
#define OPT_CTYPE_OT_LIST struct strv
#define OPT_CTYPE_OT_STDIN struct stdin_spec
#define OPT_CTYPE_OT_READY struct probe
#define OPT_CTYPE_OT_PROBE struct probe
#define OPT_CTYPE_OT_PTYPE enum proc_type
#define OPT_CTYPE_OT_LOGLEVEL enum loglevel
#define OPT_CTYPE_OT_FLOAT double
#define OPT_CTYPE_OT_RLIMIT int64_t
#define OPT_CTYPE_OT_TARGETS struct strv

/* How wide each type's field is: the option fields are laid out widest first (three passes
 * over options.def), so that 10,000 programs carry no padding between them. */
#define OPT_ALIGN_OT_STRING 8
#define OPT_ALIGN_OT_COMMAND 8
#define OPT_ALIGN_OT_BOOL 1
#define OPT_ALIGN_OT_INT 8
#define OPT_ALIGN_OT_RETRIES 8
#define OPT_ALIGN_OT_DURATION 8
#define OPT_ALIGN_OT_SIZE 8
#define OPT_ALIGN_OT_SIGNAL 4
#define OPT_ALIGN_OT_EXITCODES 8
#define OPT_ALIGN_OT_AUTORESTART 4
#define OPT_ALIGN_OT_UMASK 4
#define OPT_ALIGN_OT_ENVIRONMENT 8
#define OPT_ALIGN_OT_LIST 8
#define OPT_ALIGN_OT_STDIN 8
#define OPT_ALIGN_OT_READY 8
#define OPT_ALIGN_OT_PROBE 8
#define OPT_ALIGN_OT_PTYPE 4
#define OPT_ALIGN_OT_LOGLEVEL 4
#define OPT_ALIGN_OT_FLOAT 8
#define OPT_ALIGN_OT_RLIMIT 8
#define OPT_ALIGN_OT_TARGETS 8
/* OPT_SEL(PASS, TYPE, NAME): the field when TYPE is PASS bytes wide, nothing otherwise */
#define OPT_SEL(pass, type, name) OPT_SEL_(pass, OPT_ALIGN_##type, type, name)
#define OPT_SEL_(pass, width, type, name) OPT_SEL__(pass, width, type, name)
#define OPT_SEL__(pass, width, type, name) OPT_SEL_##pass##_##width(type, name)
#define OPT_SEL_8_8(type, name) OPT_CTYPE_##type name;
#define OPT_SEL_8_4(type, name)
#define OPT_SEL_8_1(type, name)
#define OPT_SEL_4_8(type, name)
#define OPT_SEL_4_4(type, name) OPT_CTYPE_##type name;
#define OPT_SEL_4_1(type, name)
#define OPT_SEL_1_8(type, name)
#define OPT_SEL_1_4(type, name)
#define OPT_SEL_1_1(type, name) OPT_CTYPE_##type name;

/* One process instance of a [program:x] section (numprocs makes several). */
struct proc_config {
    char *name;    /* the expanded process_name */
    char *program; /* NAME of [program:NAME] (may be the same string as name) */
    char *group;   /* NAME of the [group:NAME] it belongs to, or the program name (likewise) */
    int process_num;
    int line;
    const char *file; /* where the [program:x] header is: one of its config's files */
    size_t order; /* position in the file(s), to keep the order stable for equal priorities */
    long buffer_size;         /* [eventlistener:x]: events kept while no listener is READY */
    uint32_t listener_events; /* events= as a mask of enum event_type bits */
    bool listener;            /* [eventlistener:NAME]: NAME is the pool (and program) name */
    bool fcgi;  /* from [fcgi-program:NAME]: its stdin is the program's listening socket */
#define PROGRAM_OPTION(name, type, def, min, max, flags, doc) OPT_SEL(8, type, name)
#include "options.def"
#define PROGRAM_OPTION(name, type, def, min, max, flags, doc) OPT_SEL(4, type, name)
#include "options.def"
#define PROGRAM_OPTION(name, type, def, min, max, flags, doc) OPT_SEL(1, type, name)
#include "options.def"
};

struct global_config {
    char *file; /* main configuration file (absolute) */
    char *here; /* its directory */
#define GLOBAL_OPTION(name, type, def, min, max, flags, doc) OPT_CTYPE_##type name;
#include "options.def"
};

struct group_config {
    char *name;
    struct strv programs;
    long priority;
    char *file;
    int line;
};

struct config {
    struct global_config global;
    struct proc_config **procs; /* sorted by priority, then file order */
    size_t nprocs;
    struct group_config *groups;
    size_t ngroups;
    struct strv files; /* every file read, the main file first */
};

/* An entry of the option table, for code that walks every option. */
struct option_def {
    const char *name;
    enum opt_type type;
    const char *def;
    long min, max;
    int flags;
    const char *doc;
    size_t offset;
};

extern const struct option_def program_options[];
extern const size_t program_options_count;
extern const struct option_def global_options[];
extern const size_t global_options_count;

/* Diagnostics collected while loading: errors make the load fail; warnings do not. */
struct diag {
    struct strv errors;
    struct strv warnings;
    bool strict; /* set before loading: unknown options are errors everywhere (check --strict) */
};
void diag_init(struct diag *d);
void diag_free(struct diag *d);
void diag_print(const struct diag *d, FILE *to);

/* Reads path (and its includes), expands, fills defaults and validates. Returns the config, or
 * NULL when there is any error; diag holds "FILE:LINE: [section] option: message" lines. */
struct config *config_load(const char *path, struct diag *d);
void config_free(struct config *cfg);
/* What every verb that needs the programs does: config_find, config_load, every diagnostic on
 * stderr, and on errors "tend: N errors in the configuration; nothing WHAT" (no summary line
 * when what is NULL). NULL means: exit EXIT_CONFIG. */
struct config *config_load_for_verb(const char *given, const char *what);
/* The same, with strict set: an unknown option in any section is an error (tend check
 * --strict); otherwise only [tend] has that rule and supervisord's sections warn. */
struct config *config_load_for_verb_strict(const char *given, const char *what, bool strict);

/* Only [tend] (with its aliases): what a client needs to find the supervisor's socket even
 * while the programs' part of the file has errors. */
struct config *config_load_global(const char *path, struct diag *d);

/* -c FILE, then $TEND_CONFIG, then ./tend.ini, then /etc/tend.ini. Returns a static or given
 * string, or NULL when none exists (then *tried says what was looked for). */
const char *config_find(const char *given, char **tried);

/* The control socket tend uses for config_file when [tend] socket is not set. */
char *config_default_socket(const char *config_file);

/* Formats one option value of a loaded struct as the text `tend check` prints. */
char *config_format_value(const struct option_def *opt, const void *base);
const struct option_def *config_find_program_option(const char *name);

/* Text of enum values, for printing. */
const char *autorestart_name(enum autorestart a);
const char *proc_type_name(enum proc_type t);
const char *loglevel_name(enum loglevel l);

#define EXIT_CONFIG 78

#endif
