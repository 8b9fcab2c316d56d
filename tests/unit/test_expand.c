/* test_expand.c - %(name)s expansions: formats, widths, ENV lookups, fallbacks and errors. */
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "tap.h"

static const char *lookup(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "program_name") == 0) {
        return "web";
    }
    if (strcmp(name, "process_num") == 0) {
        return "7";
    }
    if (strcmp(name, "here") == 0) {
        return "/etc/tend";
    }
    return NULL;
}

static void expect(const char *in, const char *want)
{
    char *out = NULL, *err = NULL;
    int rc = expand_string(in, lookup, NULL, &out, &err);
    TAP_OK(rc == 0, "expand '%s' succeeds", in);
    TAP_STREQ(out, want, "expand '%s'", in);
    free(out);
    free(err);
}

static void expect_error(const char *in, const char *fragment)
{
    char *out = NULL, *err = NULL;
    int rc = expand_string(in, lookup, NULL, &out, &err);
    TAP_OK(rc == -1 && out == NULL, "expand '%s' fails", in);
    TAP_OK(err && strstr(err, fragment), "error for '%s' mentions '%s' (got '%s')", in, fragment,
           err ? err : "(null)");
    free(out);
    free(err);
}

int main(void)
{
    setenv("TEND_TEST_VAR", "value", 1);
    setenv("TEND_EMPTY", "", 1);
    unsetenv("TEND_UNSET");

    expect("plain text", "plain text");
    expect("", "");
    expect("%(program_name)s", "web");
    expect("%(program_name)s_%(process_num)02d", "web_07");
    expect("%(process_num)d", "7");
    expect("%(process_num)3d|", "  7|");
    expect("%(process_num)-3d|", "7  |");
    expect("%(process_num)x", "7");
    expect("%(program_name)5s|", "  web|");
    expect("%(program_name)-5s|", "web  |");
    expect("%(here)s/logs", "/etc/tend/logs");
    expect("100%%", "100%");
    expect("%%(program_name)s", "%(program_name)s");
    expect("%(ENV_TEND_TEST_VAR)s", "value");
    expect("%(ENV_TEND_UNSET:-fallback)s", "fallback");
    expect("%(ENV_TEND_EMPTY:-fallback)s", "fallback");
    expect("%(ENV_TEND_TEST_VAR:-fallback)s", "value");
    expect("%(ENV_TEND_UNSET:-)s", "");
    expect("a %(program_name)s b %(process_num)d c", "a web b 7 c");

    expect_error("%(ENV_TEND_UNSET)s", "undefined variable %(ENV_TEND_UNSET)s");
    expect_error("%(nosuch)s", "undefined variable %(nosuch)s");
    expect_error("%(program_name)d", "needs a number");
    expect_error("%(program_name)q", "bad format");
    expect_error("%(program_name", "unterminated");
    expect_error("50% off", "lone '%'");
    expect_error("%(program_name)", "bad format");

    TAP_OK(expand_references("x_%(process_num)02d", "process_num"), "references process_num");
    TAP_OK(!expand_references("x_%(program_name)s", "process_num"), "no process_num reference");
    return tap_done();
}
