/* tap.h - a minimal TAP producer for the C unit tests (automake's tap-driver reads it). */
#ifndef TEND_TAP_H
#define TEND_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

#define TAP_OK(cond, ...)                                                                          \
    do {                                                                                           \
        int tap_ok_ = (cond) ? 1 : 0;                                                              \
        tap_count++;                                                                               \
        if (tap_ok_) {                                                                             \
            printf("ok %d - ", tap_count);                                                         \
        } else {                                                                                   \
            tap_failed++;                                                                          \
            printf("not ok %d - ", tap_count);                                                     \
        }                                                                                          \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        if (!tap_ok_) {                                                                            \
            printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);                        \
        }                                                                                          \
    } while (0)

#define TAP_STREQ(got, want, ...)                                                                  \
    do {                                                                                           \
        const char *tap_g_ = (got), *tap_w_ = (want);                                              \
        int tap_eq_ = (tap_g_ && tap_w_) ? strcmp(tap_g_, tap_w_) == 0 : tap_g_ == tap_w_;        \
        TAP_OK(tap_eq_, __VA_ARGS__);                                                              \
        if (!tap_eq_) {                                                                            \
            printf("#   got:  '%s'\n#   want: '%s'\n", tap_g_ ? tap_g_ : "(null)",                 \
                   tap_w_ ? tap_w_ : "(null)");                                                    \
        }                                                                                          \
    } while (0)

static inline int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

#endif
