#!/usr/bin/env bats
# Log capture is byte-exact: what a program writes to stdout or stderr lands in its log files
# unchanged, in order, split at exactly stdout_logfile_maxbytes when rotation is on, whichever
# path the bytes take inside tend (read/write, splice). The data are 64 MiB of text lines of
# every length mixed with binary runs (NULs, lone CRs, 0xff, newlines inside), generated from a
# fixed seed so a failure can be reproduced.

load helpers

setup() {
    use_tend_fixture
}

teardown() {
    teardown_tend
}

# mixed_data FILE MIB SEED: MIB mebibytes of lines and binary runs into FILE
mixed_data() {
    python3 - "$1" "$2" "$3" <<'EOF'
import random, sys
path, size, seed = sys.argv[1], int(sys.argv[2]) << 20, int(sys.argv[3])
rng = random.Random(seed)
out = bytearray()
words = [b"alpha", b"beta", b"\xc3\xa9t\xc3\xa9", b"\t", b"  ", b"\x1b[31mred\x1b[0m", b"42"]
while len(out) < size:
    kind = rng.random()
    if kind < 0.6:    # a text line, often short, sometimes empty
        n = rng.choice((0, 1, 5, 20, 80, 200))
        out += b" ".join(rng.choice(words) for _ in range(n // 4)) + b"\n"
    elif kind < 0.9:  # a binary run of any bytes
        out += rng.randbytes(rng.choice((1, 7, 100, 4096, 65536, 300000)))
    else:             # a line longer than the console's line limit, with a CR inside
        out += b"x" * rng.randrange(8000, 70000) + b"\r" + b"y" * 10 + b"\n"
with open(path, "wb") as f:
    f.write(out[:size])
EOF
}

# concatenated LOG BACKUPS: LOG.BACKUPS ... LOG.1 LOG, oldest first, on stdout
concatenated() {
    local i
    for ((i = $2; i >= 1; i--)); do
        if [ -e "$1.$i" ]; then
            cat "$1.$i"
        fi
    done
    cat "$1"
}

# rotated_sizes_are LOG BACKUPS SIZE: every backup that exists holds exactly SIZE bytes
rotated_sizes_are() {
    local i
    for ((i = 1; i <= $2; i++)); do
        if [ -e "$1.$i" ] && [ "$(stat -c %s "$1.$i")" -ne "$3" ]; then
            echo "$1.$i has $(stat -c %s "$1.$i") bytes, not $3" >&2
            return 1
        fi
    done
}

@test "64 MiB of mixed lines and binary data: the rotated files, concatenated, are the input" {
    data=$BATS_TEST_TMPDIR/data
    log=$BATS_TEST_TMPDIR/logs/out.log
    mkdir -p "$BATS_TEST_TMPDIR/logs"
    mixed_data "$data" 64 17
    # an odd maxbytes, so that the splits fall inside writes and reads; 68 files in all
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:writer]
command = cat $data
startsecs = 0
autorestart = false
stdout_logfile = $log
stdout_logfile_maxbytes = 1000003
stdout_logfile_backups = 80
EOF2
    wait_state writer EXITED 120
    [ "$(field writer exit_code)" -eq 0 ]
    [ "$(field writer stdout_bytes)" -eq $((64 << 20)) ]
    [ -e "$log.67" ]
    [ ! -e "$log.68" ]
    rotated_sizes_are "$log" 80 1000003
    concatenated "$log" 80 | cmp - "$data"
}

@test "64 MiB of mixed data with rotation off: the log file is the input" {
    data=$BATS_TEST_TMPDIR/data
    log=$BATS_TEST_TMPDIR/out.log
    mixed_data "$data" 64 18
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:writer]
command = cat $data
startsecs = 0
autorestart = false
stdout_logfile = $log
stdout_logfile_maxbytes = 0
EOF2
    wait_state writer EXITED 120
    [ "$(field writer exit_code)" -eq 0 ]
    [ ! -e "$log.1" ]
    cmp "$log" "$data"
}

@test "stdout and stderr written at once stay apart, each byte-exact and rotated" {
    out=$BATS_TEST_TMPDIR/out
    err=$BATS_TEST_TMPDIR/err
    mixed_data "$out" 32 19
    mixed_data "$err" 16 20
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:both]
command = sh -c 'cat $out & cat $err >&2; wait'
startsecs = 0
autorestart = false
stdout_logfile = $BATS_TEST_TMPDIR/both.out.log
stdout_logfile_maxbytes = 3MB
stdout_logfile_backups = 20
stderr_logfile = $BATS_TEST_TMPDIR/both.err.log
stderr_logfile_maxbytes = 999999
stderr_logfile_backups = 20
EOF2
    wait_state both EXITED 120
    [ "$(field both exit_code)" -eq 0 ]
    rotated_sizes_are "$BATS_TEST_TMPDIR/both.out.log" 20 $((3 << 20))
    rotated_sizes_are "$BATS_TEST_TMPDIR/both.err.log" 20 999999
    concatenated "$BATS_TEST_TMPDIR/both.out.log" 20 | cmp - "$out"
    concatenated "$BATS_TEST_TMPDIR/both.err.log" 20 | cmp - "$err"
}

@test "a follower (tend logs -f) and the rotated log file both get every byte" {
    data=$BATS_TEST_TMPDIR/data
    log=$BATS_TEST_TMPDIR/f.log
    # less than a follower may fall behind (4 MiB), so it is never dropped
    mixed_data "$data" 2 21
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:writer]
command = sh -c 'echo ready; while [ ! -e "$BATS_TEST_TMPDIR/go" ]; do $SLEEP 0.05; done; cat $data; exec $SLEEP 1000'
startsecs = 0
stdout_logfile = $log
stdout_logfile_maxbytes = 100000
stdout_logfile_backups = 40
EOF2
    wait_for 20 grep -q ready "$log"
    # -n 1 prints "ready" at once: then the follower is attached
    tend_ logs writer -f -n 1 >"$BATS_TEST_TMPDIR/follow.out" 3>&- &
    follower=$!
    wait_for 20 grep -q ready "$BATS_TEST_TMPDIR/follow.out"
    touch "$BATS_TEST_TMPDIR/go"
    printf 'ready\n' | cat - "$data" >"$BATS_TEST_TMPDIR/expected"
    size=$(stat -c %s "$BATS_TEST_TMPDIR/expected")
    wait_for 60 eval "[ \"\$(stat -c %s '$BATS_TEST_TMPDIR/follow.out')\" -ge $size ]"
    kill "$follower"
    wait "$follower" || true
    cmp "$BATS_TEST_TMPDIR/follow.out" "$BATS_TEST_TMPDIR/expected"
    concatenated "$log" 40 | cmp - "$BATS_TEST_TMPDIR/expected"
}

@test "followers (tend logs -f and GET /logtail) go on across reloads that change the log file or restart the program" {
    old=$BATS_TEST_TMPDIR/old.log
    new=$BATS_TEST_TMPDIR/new.log
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:ticker]
command = sh -c 'i=0; while :; do i=\$((i+1)); echo "\$PHASE tick \$i"; $SLEEP 0.1; done'
environment = PHASE="one"
stdout_logfile = $old
EOF2
    wait_for 20 grep -q "one tick 2" "$old"
    "$TEND" -c "$CFG" logs -f -n 0 ticker >"$BATS_TEST_TMPDIR/follow.out" 2>&1 3>&- &
    follower=$!
    # the control socket answers HTTP too
    curl -sN --unix-socket "$SOCK" http://localhost/logtail/ticker \
        >"$BATS_TEST_TMPDIR/http.out" 2>&1 3>&- &
    streamer=$!
    wait_for 20 grep -q "one tick" "$BATS_TEST_TMPDIR/follow.out"
    wait_for 20 grep -q "one tick" "$BATS_TEST_TMPDIR/http.out"
    # a logging change: new sinks, no restart
    sed -i "s|^stdout_logfile = .*|stdout_logfile = $new|" "$CFG"
    run tend_ reload
    assert_status 0
    assert_output_contains "no restart"
    wait_for 20 grep -q "one tick" "$new"
    first=$(head -n 1 "$new")
    wait_for 20 grep -qxF "$first" "$BATS_TEST_TMPDIR/follow.out"
    wait_for 20 grep -qxF "$first" "$BATS_TEST_TMPDIR/http.out"
    # a change that restarts it
    sed -i 's|^environment = .*|environment = PHASE="two"|' "$CFG"
    run tend_ reload
    assert_status 0
    wait_for 20 grep -q "two tick 2" "$BATS_TEST_TMPDIR/follow.out"
    wait_for 20 grep -q "two tick 2" "$BATS_TEST_TMPDIR/http.out"
    kill "$follower" "$streamer"
    wait "$follower" "$streamer" || true
    # tend lived through the followers leaving
    kill -0 "$TEND_PID"
    wait_state ticker RUNNING 20
}
