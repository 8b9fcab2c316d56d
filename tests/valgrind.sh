#!/bin/sh
# valgrind.sh - `make check-valgrind`: valgrind's memcheck over the C unit tests (the fuzz
# corpus replays included) and over a representative set of real tend invocations: check (INI,
# JSON, a configuration with errors), run (plain, --json with a non-zero status, a timeout, a
# command not found, a batch with -c) and a short supervision (up, status, SIGTERM). Any memory
# error or definite leak fails (--error-exitcode=1 --leak-check=full). Every case states the
# exit status it expects, so a status of 1 from valgrind can never pass for the program's own.
# Forked children are not checked (--child-silent-after-fork): they exit or exec at once.
# Arguments: the unit test programs. Environment: TEND (the binary), TEND_SRCDIR.
set -u
: "${TEND:=./tend}" "${TEND_SRCDIR:=.}"
export TEND_SRCDIR
VALGRIND=${VALGRIND:-valgrind}
if ! command -v "$VALGRIND" >/dev/null 2>&1; then
    echo "check-valgrind: valgrind not found (apt-get install valgrind)" >&2
    exit 1
fi
vg="$VALGRIND --tool=memcheck --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect --track-origins=yes --child-silent-after-fork=yes --quiet"
tmp=$(mktemp -d /tmp/tend-valgrind.XXXXXX) || exit 1
cleanup() {
    [ -n "${uppid:-}" ] && kill -KILL "$uppid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
passed=0
failed=0

# expect STATUS NAME CMD...: runs CMD under memcheck and wants exit status STATUS
expect() {
    want=$1 name=$2
    shift 2
    # shellcheck disable=SC2086
    $vg --log-file="$tmp/vg.log" "$@" >"$tmp/out" 2>&1 </dev/null
    got=$?
    if [ "$got" -eq "$want" ] && [ ! -s "$tmp/vg.log" ]; then
        echo "valgrind: ok: $name"
        passed=$((passed + 1))
    else
        echo "valgrind: FAILED: $name (status $got, expected $want)"
        cat "$tmp/vg.log"
        tail -n 20 "$tmp/out"
        failed=$((failed + 1))
    fi
}

for t in "$@"; do
    expect 0 "$t" "./$t"
done

cat >"$tmp/good.ini" <<EOF2
[tend]
socket = $tmp/tend.sock
pidfile = $tmp/tend.pid
environment = GLOBAL="1"
[group:pair]
programs = a, b
[program:a]
command = sh -c 'echo "a says %(program_name)s"; exec sleep 1000'
startsecs = 0
numprocs = 2
process_name = %(program_name)s_%(process_num)d
env_file = $tmp/env
[program:b]
command = sleep 1000
startsecs = 0
stopsignal = INT
EOF2
printf 'A=1\nexport B="two"\n' >"$tmp/env"
cat >"$tmp/bad.ini" <<EOF2
[program:x]
commnd = /bin/true
stopsignal = TREM
[program:y]
command = 'unterminated
EOF2
cat >"$tmp/batch.ini" <<EOF2
[program:one]
command = sh -c 'echo one'
[program:two]
command = sh -c 'echo two; exit 0'
depends_on = one
EOF2

expect 0 "check etc/tend.ini" "$TEND" -c "$TEND_SRCDIR/etc/tend.ini" check
expect 0 "check --json --show-env" "$TEND" -c "$tmp/good.ini" check --json --show-env
expect 0 "check a supervisord file" "$TEND" -c "$TEND_SRCDIR/etc/supervisord-example.conf" check
expect 78 "check with errors" "$TEND" -c "$tmp/bad.ini" check
expect 0 "run -- echo" "$TEND" run -- echo hello
expect 3 "run --json, status 3" "$TEND" run --json -- sh -c 'echo out; echo err >&2; exit 3'
expect 124 "run with a timeout" "$TEND" run -t 300ms -- sleep 10
expect 127 "run a command not found" "$TEND" run -- /nonexistent/command
expect 0 "run -c FILE (a batch)" "$TEND" -c "$tmp/batch.ini" run -j 2

# a short supervision: up in the foreground under memcheck, status from a client, SIGTERM
$vg --log-file="$tmp/vg-up.log" "$TEND" -c "$tmp/good.ini" up >"$tmp/up.out" 2>&1 </dev/null &
uppid=$!
i=0
until "$TEND" -c "$tmp/good.ini" status b >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 600 ]; then
        break
    fi
    sleep 0.1
done
expect 0 "status (client)" "$TEND" -c "$tmp/good.ini" status --json
kill -TERM "$uppid"
wait "$uppid"
got=$?
uppid=
if [ "$got" -eq 0 ] && [ ! -s "$tmp/vg-up.log" ]; then
    echo "valgrind: ok: up, then SIGTERM"
    passed=$((passed + 1))
else
    echo "valgrind: FAILED: up, then SIGTERM (status $got)"
    cat "$tmp/vg-up.log"
    tail -n 20 "$tmp/up.out"
    failed=$((failed + 1))
fi

echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
