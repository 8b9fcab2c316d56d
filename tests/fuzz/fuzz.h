/* fuzz.h - what every fuzz harness of tests/fuzz shares. Each harness defines libFuzzer's entry
 * point; `make fuzz` links it with libFuzzer (clang -fsanitize=fuzzer), and replay.c turns it
 * into a unit test that runs the corpus kept in the repository, so every input that once made
 * tend crash stays a regression test of `make check`. */
#ifndef TEND_FUZZ_H
#define TEND_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise found by a harness: says which, then aborts, which the fuzzer reports as a
 * crash and saves the input. */
#define FUZZ_ASSERT(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: %s:%d: broken: %s: ", __FILE__, __LINE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
