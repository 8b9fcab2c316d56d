# helpers.bash - shared by every bats file: where tend is, temp configs, waiting for conditions.
# Tests keep everything in BATS_TEST_TMPDIR and never sleep-and-hope: they wait for a condition
# up to a generous deadline.

: "${TEND:=$BATS_TEST_DIRNAME/../tend}"
: "${TEND_SRCDIR:=$BATS_TEST_DIRNAME/..}"
export TEND TEND_SRCDIR
unset TEND_CONFIG NO_COLOR

bats_require_minimum_version 1.5.0

# write_config [NAME]: stdin becomes $BATS_TEST_TMPDIR/NAME (default tend.ini); prints the path
write_config() {
    local path="$BATS_TEST_TMPDIR/${1:-tend.ini}"
    mkdir -p "$(dirname "$path")"
    cat >"$path"
    printf '%s\n' "$path"
}

# wait_for SECONDS CMD...: retries CMD every 50 ms until it succeeds or the deadline passes
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        if ((SECONDS >= deadline)); then
            echo "wait_for: timed out waiting for: $*" >&2
            return 1
        fi
        sleep 0.05
    done
}

# assert_output_contains TEXT: $output has TEXT (prints both on failure)
assert_output_contains() {
    if [[ "$output" != *"$1"* ]]; then
        printf 'expected output to contain: %s\n--- output:\n%s\n' "$1" "$output" >&2
        return 1
    fi
}

# assert_status N: $status is N
assert_status() {
    if [ "$status" -ne "$1" ]; then
        printf 'expected status %s, got %s\n--- output:\n%s\n' "$1" "$status" "$output" >&2
        return 1
    fi
}

# start_tend CONFIG [ARGS...]: runs `tend up` in the background; stdout and stderr go to
# $BATS_TEST_TMPDIR/tend.out and tend.err; TEND_PID is its pid. fd 3 is closed for the
# background process, or bats would wait for it.
start_tend() {
    local cfg=$1
    shift
    "$TEND" -c "$cfg" up "$@" >"$BATS_TEST_TMPDIR/tend.out" 2>"$BATS_TEST_TMPDIR/tend.err" 3>&- &
    TEND_PID=$!
}

# stop_tend: SIGTERM to tend, wait for it; TEND_STATUS is its exit status
stop_tend() {
    [ -n "${TEND_PID:-}" ] || return 0
    kill -TERM "$TEND_PID" 2>/dev/null || true
    TEND_STATUS=0
    wait "$TEND_PID" || TEND_STATUS=$?
    TEND_PID=
}

# kill_tend_and_marked MARKER: teardown that leaves nothing behind whatever the test did
kill_tend_and_marked() {
    if [ -n "${TEND_PID:-}" ]; then
        kill -TERM "$TEND_PID" 2>/dev/null || true
        local deadline=$((SECONDS + 20))
        while kill -0 "$TEND_PID" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
        kill -KILL "$TEND_PID" 2>/dev/null || true
        wait "$TEND_PID" 2>/dev/null || true
        TEND_PID=
    fi
    if [ -n "${1:-}" ]; then
        end_tends "$1"
        pkill -KILL -f -- "$1" 2>/dev/null || true
    fi
}

# tend_pids MARKER: the pids of tend processes (this build's binary) whose command line
# contains MARKER: daemons, clients, `tend run` wrappers
tend_pids() {
    local exe p
    exe=$(readlink -f "$TEND")
    for p in $(pgrep -f -- "$1"); do
        [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$exe" ] && echo "$p"
    done
}

# gone PID...: none of PIDS runs any more (gone, or a zombie waiting for its parent)
gone() {
    local p state
    for p in "$@"; do
        # the state follows the command name in parentheses, which may hold spaces
        state=$(sed -n 's/.*) \([A-Za-z]\).*/\1/p' "/proc/$p/stat" 2>/dev/null) || continue
        [ -z "$state" ] || [ "$state" = Z ] || return 1
    done
}

# end_tends MARKER: TERM to every tend process with MARKER, then waits (20 s at most) until
# they have exited. KILL comes only after: a tend that is exiting may still be writing its
# logs, and a sanitizer build is checking for leaks then, which a KILL would cut short.
end_tends() {
    local pids
    pids=$(tend_pids "$1")
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086 # one word per pid
    kill -TERM $pids 2>/dev/null || true
    # shellcheck disable=SC2086
    wait_for 20 gone $pids 2>/dev/null || true
}

# log_has TEXT: tend's own log (stderr) contains TEXT
log_has() {
    grep -qF -- "$1" "$BATS_TEST_TMPDIR/tend.err"
}

# out_has TEXT: tend's stdout (prefixed program output) contains TEXT
out_has() {
    grep -qF -- "$1" "$BATS_TEST_TMPDIR/tend.out"
}

# wait_log TEXT [SECONDS]: waits until tend's log contains TEXT (default 20 s)
wait_log() {
    wait_for "${2:-20}" log_has "$1" || {
        echo "--- tend log:" >&2
        cat "$BATS_TEST_TMPDIR/tend.err" >&2
        return 1
    }
}

# pid_of MARKER: the pid of the one process whose command line contains MARKER
pid_of() {
    pgrep -f -- "$1" | head -n 1
}

# a marker unique to this test, to find and clean up its processes
marker() {
    printf 'tendtest-%s-%s' "$$" "$BATS_TEST_NUMBER"
}

# ---- fixtures of the files that start a supervisor ----

# use_tend_fixture: the usual setup. SLEEP is a link to sleep(1) inside BATS_TEST_TMPDIR, so
# every process a test starts carries that directory in its command line and teardown_tend
# finds it; SOCK and PIDFILE are paths under $BATS_TEST_TMPDIR/run for the config; CFG is empty.
use_tend_fixture() {
    SLEEP="$BATS_TEST_TMPDIR/sleep"
    ln -s "$(command -v sleep)" "$SLEEP"
    SOCK="$BATS_TEST_TMPDIR/run/tend.sock"
    PIDFILE="$BATS_TEST_TMPDIR/run/tend.pid"
    CFG=
}

# teardown_tend [MARKER]: leaves nothing behind: `tend down` for a daemon started from $CFG
# (when no foreground tend runs), then kill_tend_and_marked MARKER (default: the test's
# directory), then the pid in $PIDFILE.
teardown_tend() {
    if [ -n "${CFG:-}" ] && [ -z "${TEND_PID:-}" ]; then
        local daemon=
        [ -f "${PIDFILE:-}" ] && daemon=$(cat "$PIDFILE" 2>/dev/null)
        "$TEND" -c "$CFG" down >/dev/null 2>&1 || true
        # `down` returns once the daemon has stopped everything; its exit comes just after
        [ -z "$daemon" ] || wait_for 20 gone "$daemon" 2>/dev/null || true
    fi
    kill_tend_and_marked "${1:-$BATS_TEST_TMPDIR}"
    if [ -n "${PIDFILE:-}" ] && [ -f "$PIDFILE" ]; then
        kill -KILL "$(cat "$PIDFILE")" 2>/dev/null || true
    fi
}

# tend_ ARGS...: the client on $CFG; bounded by TEND_CLIENT_TIMEOUT seconds when it is set
tend_() {
    if [ -n "${TEND_CLIENT_TIMEOUT:-}" ]; then
        timeout "$TEND_CLIENT_TIMEOUT" "$TEND" -c "$CFG" "$@"
    else
        "$TEND" -c "$CFG" "$@"
    fi
}

# answers [NAME...]: the supervisor of $CFG answers `status` (for NAME)
answers() {
    tend_ status "$@" >/dev/null 2>&1
}

# wait_answers [SECONDS] [NAME...]: waits until the supervisor answers (default 10 s)
wait_answers() {
    local secs=${1:-10}
    shift || true
    wait_for "$secs" answers "$@"
}

# field NAME KEY: one field of `tend status --json NAME`
field() {
    tend_ status --json "$1" | jq -r ".[0].$2"
}

# restarts_at_least NAME N: NAME was restarted N times or more
restarts_at_least() {
    [ "$(field "$1" restarts)" -ge "$2" ]
}

# fd_count PID: how many fds PID has open
fd_count() {
    ls /proc/"$1"/fd | wc -l
}

# line_of TEXT: the line number of TEXT's first appearance in tend's log
line_of() {
    grep -nF -- "$1" "$BATS_TEST_TMPDIR/tend.err" | head -n 1 | cut -d: -f1
}

# state_of NAME: the state `tend status --json` gives process NAME (empty when unknown)
state_of() {
    tend_ status --json 2>/dev/null | jq -r --arg n "$1" '.[] | select(.name == $n) | .state'
}

# state_is NAME STATE: process NAME is in STATE now
state_is() {
    [ "$(state_of "$1")" = "$2" ]
}

# wait_state NAME STATE [SECONDS]: waits until process NAME is in STATE (default 10 s)
wait_state() {
    wait_for "${3:-10}" state_is "$1" "$2" || {
        tend_ status >&2 || true
        return 1
    }
}

# start_with_config [ARGS...]: stdin becomes $CFG, `tend up ARGS...` starts in the background
# (start_tend) and this returns once its control socket answers.
start_with_config() {
    CFG=$(write_config)
    start_tend "$CFG" "$@"
    wait_answers 20 || {
        echo "--- tend log:" >&2
        cat "$BATS_TEST_TMPDIR/tend.err" >&2
        return 1
    }
}

# start_daemon [ARGS...]: `tend up -d ARGS...` on $CFG; it returns once the daemon is up and
# its socket answers (or fails the test with tend's own message)
start_daemon() {
    tend_ up -d "$@"
}
