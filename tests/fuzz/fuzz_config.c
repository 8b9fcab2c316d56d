/* fuzz_config.c - the configuration loader (src/config.c with values.c and expand.c) on whole
 * files, and `tend check`'s printers (src/check.c) on whatever it accepts. The input is written
 * to a file in a private temporary directory and loaded with config_load(). Includes are
 * disabled: every "include" in the input is changed to "inclxde", so no file outside the
 * directory is ever read (an absolute pattern would reach the whole filesystem, /dev/zero
 * included). Besides memory errors and leaks the harness checks that a load that fails says
 * why, and that one that succeeds has processes with names and commands.
 *
 * With FUZZ_ROUNDTRIP=1 in the environment it also checks that the INI text `tend check`
 * prints loads again (check.h: "INI text tend can read back"). That is off by default because
 * of two known bugs of check.c's INI printer: a literal '%' is printed unescaped (so `tend
 * check` of etc/tend.ini does not load again), and a [group:x] or depends_on naming a program
 * with numprocs > 1 names a section that the printer split into one per process. The replay
 * test turns it on for corpus files named roundtrip-*. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "fuzz.h"
#include "util.h"

static char dir[] = "/tmp/tend-fuzz-config-XXXXXX";
static char *path;

static void cleanup(void)
{
    if (path) {
        unlink(path);
        free(path);
        path = NULL;
        rmdir(dir);
    }
}

static void write_file(const char *data, size_t size)
{
    FILE *f = fopen(path, "w");
    FUZZ_ASSERT(f != NULL, "cannot write %s", path);
    FUZZ_ASSERT(fwrite(data, 1, size, f) == size && fclose(f) == 0, "cannot write %s", path);
}

/* The output of `tend check` for cfg; env_file is dropped, since check reads the file. */
static char *print_ini(struct config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    FUZZ_ASSERT(out != NULL, "open_memstream");
    for (size_t i = 0; i < cfg->nprocs; i++) {
        free(cfg->procs[i]->env_file);
        cfg->procs[i]->env_file = NULL;
    }
    check_print_ini(cfg, out, false);
    fclose(out);
    return buf;
}

static void print_json(struct config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    FUZZ_ASSERT(out != NULL, "open_memstream");
    check_print_json(cfg, out, false);
    fclose(out);
    free(buf);
}

static void roundtrip(const char *ini)
{
    struct diag d;
    diag_init(&d);
    write_file(ini, strlen(ini));
    struct config *again = config_load(path, &d);
    if (!again) {
        fprintf(stderr, "--- check printed:\n%s--- which loads with:\n", ini);
        diag_print(&d, stderr);
    }
    FUZZ_ASSERT(again != NULL, "the output of tend check does not load");
    config_free(again);
    diag_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384) {
        return 0;
    }
    if (!path) {
        FUZZ_ASSERT(mkdtemp(dir) != NULL, "mkdtemp");
        path = xasprintf("%s/tend.ini", dir);
        atexit(cleanup);
    }
    char *text = xmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    for (size_t i = 0; i + 7 <= size; i++) {
        if (strncasecmp(text + i, "include", 7) == 0) {
            text[i + 4] = 'x';
        }
    }
    write_file(text, size);
    free(text);

    struct diag d;
    diag_init(&d);
    struct config *cfg = config_load(path, &d);
    if (!cfg) {
        FUZZ_ASSERT(d.errors.n > 0, "a failed load without an error");
        diag_free(&d);
        return 0;
    }
    FUZZ_ASSERT(d.errors.n == 0, "errors, yet a configuration");
    for (size_t i = 0; i < cfg->nprocs; i++) {
        const struct proc_config *pc = cfg->procs[i];
        FUZZ_ASSERT(pc->name && pc->name[0], "a process without a name");
        FUZZ_ASSERT(pc->command.n > 0, "process %s without a command", pc->name);
    }
    char *ini = print_ini(cfg);
    print_json(cfg);
    config_free(cfg);
    diag_free(&d);
    const char *rt = getenv("FUZZ_ROUNDTRIP");
    if (rt && strcmp(rt, "1") == 0) {
        roundtrip(ini);
    }
    free(ini);
    return 0;
}
