/* config_int.h - what the files of the configuration share (config.c, loader.c, validate.c,
 * options.c); not for the rest of tend, which uses config.h. */
#ifndef TEND_CONFIG_INT_H
#define TEND_CONFIG_INT_H

#include <sys/types.h>

#include "config.h"

/* ---- options.c: the value types of options.def ---- */

/* Parses text into the field of base described by opt. The field must be unset (zeroed).
 * -1 with *err (a message without file:line) when the text is not a valid value. */
int option_parse(const struct option_def *opt, const char *text, void *base, char **err);
/* Frees what the field owns and leaves it unset. */
void option_free(const struct option_def *opt, void *base);
const struct option_def *find_option(const struct option_def *table, size_t n, const char *name);
/* " (did you mean X?)" for a misspelled option name, or "" when nothing is close. */
char *option_suggestion(const struct option_def *table, size_t n, const char *name);

/* ---- loader.c, validate.c, config.c: what a load shares ---- */

struct raw_option {
    char *name; /* lower-cased */
    char *value;
    int line;
};

struct raw_section {
    char *name;
    char *file;
    char *here;
    int line;
    struct raw_option *opts;
    size_t nopts;
    size_t order;
};

struct loader {
    struct diag *diag;
    struct raw_section *sections;
    size_t nsections;
    struct strv files; /* every file read */
    struct strv stack; /* include chain, for cycle messages */
    /* state of the file being read */
    int fd;
    char *buf;         /* a window on the file (LOADER_WINDOW bytes, kept across files) */
    size_t start, end; /* buf[start, end) is read and not consumed yet */
    off_t offset;      /* the file offset of buf[0] */
    off_t uncounted;   /* a skip began here and its lines are not counted yet; -1: none */
    bool eof;
    bool seekable; /* a regular file: a skip's lines can be counted later, with pread */
    const char *file;
    char *here;
    int lineno;
    char *peek; /* a physical line read ahead while looking for continuation lines */
    int peek_lineno;
    long current;     /* index of the section being filled, -1 before the first header */
    bool global_only; /* keep only [tend]-like sections and [include] */
    char *key;        /* the option the reader just assembled, consumed by the handler */
    char *value;
    int key_line;
};

/* config.c */
void diag_add(struct strv *list, char *msg);
/* config.c */
char *suggestion_among(const char *const *names, size_t n, const char *name);
/* config.c */
void report_unknown_option(struct loader *ld, const char *file, int line, const char *section,
                           const char *name, const char *hint);
/* config.c */
const struct raw_option *section_get(const struct raw_section *sec, const char *name);
/* loader.c */
void loader_error(struct loader *ld, const char *file, int line, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
/* loader.c */
void loader_warning(struct loader *ld, const char *file, int line, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
/* loader.c */
char *dir_of(const char *path);
/* loader.c */
void loader_read_file(struct loader *ld, const char *path, const char *from_file, int from_line);
/* loader.c */
void loader_free(struct loader *ld);
/* validate.c */
void validate(struct loader *ld, struct config *cfg);
/* validate.c */
void check_sections(struct loader *ld);

#endif
