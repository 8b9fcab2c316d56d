#!/bin/sh
# run.sh - `make fuzz`: builds every harness tests/fuzz/fuzz_NAME.c with clang's libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer, linked with tend's library sources, and runs
# each for FUZZ_SECONDS on its corpus tests/fuzz/NAME/ (seeds and past crashes, all replayed
# first). New inputs go to fuzz-build/corpus-NAME/, never into the repository. A crash, a leak,
# a timeout or a broken promise fails the harness and leaves the input in fuzz-build/; turn it
# into a regression test by copying it into tests/fuzz/NAME/ (replayed by `make check` too).
# Prints one line per harness, "fuzz: NAME: passed (N runs in S s)" or "fuzz: NAME: FAILED ...",
# and exits non-zero when any failed.
#
# Usage: run.sh [NAME...]   (default: every harness)
# Environment (set by Makefile.am): srcdir, builddir, FUZZ_CC (clang), FUZZ_SECONDS (30),
# FUZZ_SOURCES (the library's sources), FUZZ_CFLAGS, FUZZ_LIBS, FUZZ_VERSION.
set -u
srcdir=${srcdir:-.}
builddir=${builddir:-.}
cc=${FUZZ_CC:-clang}
seconds=${FUZZ_SECONDS:-30}
out="$builddir/fuzz-build"

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: $cc not found: install clang (apt-get install clang) or set FUZZ_CC" >&2
    exit 77
fi
mkdir -p "$out/obj" || exit 1

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
warn="-Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Wwrite-strings"
cflags="-g -O1 -std=gnu11 $warn -D_GNU_SOURCE -DSYSCONFDIR=\"/etc\" -DPACKAGE_VERSION=\"${FUZZ_VERSION:-fuzz}\" -I$srcdir/src -I$srcdir/tests/fuzz ${FUZZ_CFLAGS:-}"

# the library, compiled once with coverage instrumentation (again when a source or header changed)
newest_header=$(ls -t "$srcdir"/src/*.h "$srcdir"/src/*.def "$srcdir"/tests/fuzz/*.h 2>/dev/null | head -n 1)
objs=
pending=
for f in ${FUZZ_SOURCES:-$(cd "$srcdir" && ls src/*.c | grep -v '^src/main\.c$')}; do
    case $f in *.c) ;; *) continue ;; esac
    o="$out/obj/$(basename "$f" .c).o"
    objs="$objs $o"
    if [ ! -e "$o" ] || [ "$srcdir/$f" -nt "$o" ] || [ "$newest_header" -nt "$o" ]; then
        pending="$pending $srcdir/$f"
    fi
done
if [ -n "$pending" ]; then
    echo "fuzz: compiling$pending"
    pids=
    for f in $pending; do
        # shellcheck disable=SC2086
        $cc $cflags $san -fsanitize=fuzzer-no-link -c "$f" -o "$out/obj/$(basename "$f" .c).o" &
        pids="$pids $!"
    done
    for p in $pids; do
        wait "$p" || { echo "fuzz: the library does not compile with $cc"; exit 1; }
    done
fi

if [ $# -eq 0 ]; then
    set -- $(cd "$srcdir/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi

status=0
for name in "$@"; do
    bin="$out/fuzz_$name"
    # shellcheck disable=SC2086
    if ! $cc $cflags $san -fsanitize=fuzzer "$srcdir/tests/fuzz/fuzz_$name.c" $objs \
        ${FUZZ_LIBS:-} -o "$bin"; then
        echo "fuzz: $name: FAILED (does not build)"
        status=1
        continue
    fi
    mkdir -p "$out/corpus-$name"
    log="$out/fuzz_$name.log"
    echo "fuzz: $name: running for ${seconds}s (log: $log)"
    # the first directory receives new inputs; the repository's corpus is only read
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/$name-" "$out/corpus-$name" "$srcdir/tests/fuzz/$name" \
        >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        echo "fuzz: $name: passed (${runs:-?} runs, ${secs:-?}/s, corpus $(ls "$out/corpus-$name" | wc -l) new inputs)"
    else
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "fuzz: $name: FAILED (exit $rc; input: ${artifact:-none saved})"
        grep -E 'ERROR|SUMMARY|fuzz: .*broken|==[0-9]+==' "$log" | head -n 20
        tail -n 30 "$log"
        status=1
    fi
done
exit $status
