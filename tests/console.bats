#!/usr/bin/env bats
# The foreground console of `tend up`: every complete line a program writes is printed with its
# "name | " prefix as soon as tend reads it (one write(2) per line, no stdio buffer, whether
# stdout is a file, a pipe or a terminal), also on a loaded machine and while the program is
# still STARTING; a last line without a newline is printed when the program exits.

load helpers

setup() {
    use_tend_fixture
    T="$BATS_TEST_TMPDIR"
    TEND_CLIENT_TIMEOUT=30
    BUSY=
}

teardown() {
    for p in $BUSY; do
        kill -KILL "$p" 2>/dev/null || true
    done
    teardown_tend
}

# load_machine N: N busy loops (more than the cores), killed in teardown
load_machine() {
    for _ in $(seq 1 "$1"); do
        sh -c 'while :; do :; done' "$T/busy" 3>&- &
        BUSY="$BUSY $!"
    done
}

@test "under load, a program's first line is on the console at once, prefixed, while it is still STARTING" {
    load_machine $(($(nproc) * 2))
    # startsecs keeps it STARTING for a minute: the line cannot wait for RUNNING
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:web]
command = sh -c 'echo hello-from-web; exec $SLEEP 1000'
startsecs = 60
EOF2
)
    start_tend "$CFG"
    wait_for 30 out_has "web | hello-from-web" || {
        echo "--- stdout:"; cat "$T/tend.out"; echo "--- stderr:"; cat "$T/tend.err"; return 1
    }
    [ "$(field web state)" = STARTING ]
}

@test "stdout a pipe: each line is passed on as it is read, not when a buffer fills" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:talker]
command = sh -c 'echo one; while [ ! -e $T/go ]; do $SLEEP 0.05; done; echo two; exec $SLEEP 1001'
startsecs = 0
EOF2
)
    # tend's stdout is a pipe into cat, which writes every chunk it gets to the file
    "$TEND" -c "$CFG" up > >(cat >"$T/tend.out") 2>"$T/tend.err" 3>&- &
    TEND_PID=$!
    wait_for 30 out_has "talker | one"
    run ! out_has "talker | two"
    touch "$T/go"
    wait_for 30 out_has "talker | two"
}

@test "a last line without a newline is printed, prefixed and completed, when the program exits" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:quitter]
command = sh -c 'echo first; printf "last-words"; exit 0'
startsecs = 0
autorestart = false
[program:joiner]
command = sh -c 'printf "abc"; $SLEEP 0.3; printf "def\\\\n"; printf tail; exec $SLEEP 1002'
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_for 30 out_has "quitter | last-words"
    grep -qx "quitter | first" "$T/tend.out"
    grep -qx "quitter | last-words" "$T/tend.out"
    # pieces of one line make one console line; a partial line waits for its end...
    wait_for 30 out_has "joiner  | abcdef"
    grep -qx "joiner  | abcdef" "$T/tend.out"
    run ! out_has "joiner  | tail"
    # ...or for the program's exit, here by a stop
    tend_ stop joiner
    wait_for 30 out_has "joiner  | tail"
    grep -qx "joiner  | tail" "$T/tend.out"
}
