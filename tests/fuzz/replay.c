/* replay.c - runs one fuzz harness over its corpus in the repository (tests/fuzz/NAME/, the
 * seeds and every input that once found a bug), as a TAP unit test of `make check`: without
 * clang or libFuzzer, and under the sanitizer build of CI too. FUZZ_NAME is set by Makefile.am;
 * the directory is found through $TEND_SRCDIR (set by the test harness), else the current
 * directory. A harness that finds a broken promise aborts, which fails the test. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    const char *src = getenv("TEND_SRCDIR");
    char *dirpath = xasprintf("%s/tests/fuzz/%s", src && *src ? src : ".", FUZZ_NAME);
    DIR *d = opendir(dirpath);
    if (!d) {
        printf("1..0 # SKIP no corpus at %s\n", dirpath);
        free(dirpath);
        return 0;
    }
    struct strv names;
    strv_init(&names);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] != '.') {
            strv_push(&names, e->d_name);
        }
    }
    closedir(d);
    qsort(names.v, names.n, sizeof(*names.v), by_name);
    printf("1..%zu\n", names.n);
    int failed = 0;
    for (size_t i = 0; i < names.n; i++) {
        char *file = xasprintf("%s/%s", dirpath, names.v[i]);
        FILE *f = fopen(file, "rb");
        struct strbuf sb;
        strbuf_init(&sb);
        char buf[4096];
        size_t n;
        while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
            strbuf_add(&sb, buf, n);
        }
        if (!f || ferror(f)) {
            printf("not ok %zu - %s/%s: cannot read it\n", i + 1, FUZZ_NAME, names.v[i]);
            failed = 1;
        } else {
            fflush(stdout);
            /* a file named roundtrip-* is also a regression test of the harness's optional
             * round-trip check (see fuzz_config.c) */
            bool roundtrip = strncmp(names.v[i], "roundtrip-", 10) == 0;
            if (roundtrip) {
                setenv("FUZZ_ROUNDTRIP", "1", 1);
            }
            LLVMFuzzerTestOneInput((const uint8_t *)(sb.buf ? sb.buf : ""), sb.len);
            if (roundtrip) {
                unsetenv("FUZZ_ROUNDTRIP");
            }
            printf("ok %zu - %s/%s (%zu bytes)\n", i + 1, FUZZ_NAME, names.v[i], sb.len);
        }
        if (f) {
            fclose(f);
        }
        strbuf_free(&sb);
        free(file);
    }
    strv_free(&names);
    free(dirpath);
    return failed;
}
