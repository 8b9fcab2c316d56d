#!/usr/bin/env bats
# Pipes into and between programs: stdin = pipe with `tend send`, pipelines with
# stdout = program:NAME that survive restarts on either side, fan-out and tee.

load helpers

setup() {
    use_tend_fixture
}

teardown() {
    teardown_tend
}

@test "tend send reaches a cat-like program; --eof makes it exit 0" {
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:echoer]
command = sh -c 'cat; echo "end of input"; exit 0' $BATS_TEST_TMPDIR
stdin = pipe
stdout_logfile = $BATS_TEST_TMPDIR/echoer.log
startsecs = 0
EOF2
    run tend_ send echoer hello "two words"
    assert_status 0
    printf 'line from stdin\nand a second\n' | tend_ send echoer -
    wait_for 10 grep -q "and a second" "$BATS_TEST_TMPDIR/echoer.log"
    grep -qx "hello two words" "$BATS_TEST_TMPDIR/echoer.log"
    run tend_ send --eof echoer
    assert_status 0
    wait_for 10 grep -q "end of input" "$BATS_TEST_TMPDIR/echoer.log"
    wait_state echoer EXITED
    [ "$(tend_ status --json | jq -r '.[0].exit_code')" = 0 ]
    [ "$(tend_ status --json | jq -r '.[0].stdin_bytes')" -eq 45 ]
}

@test "send to a program whose stdin is not a pipe, or that is gone, is a clear error" {
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:plain]
command = $SLEEP 1000
startsecs = 0
[program:piped]
command = $SLEEP 1001
stdin = pipe
autostart = false
EOF2
    run tend_ send plain hi
    assert_status 1
    assert_output_contains "stdin is not a pipe"
    run tend_ send piped hi
    assert_status 1
    assert_output_contains "piped: not running"
    run tend_ send nosuch hi
    assert_status 1
}

@test "a full stdin buffer gives an error, not a hang" {
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:deaf]
command = $SLEEP 1000
stdin = pipe
startsecs = 0
EOF2
    # 64 KiB fit in the pipe, 256 KiB in tend's buffer: 1 MiB cannot
    run timeout 60 bash -c "head -c 1048576 /dev/zero | '$TEND' -c '$CFG' send deaf -"
    assert_status 1
    assert_output_contains "stdin buffer is full"
    # tend is still answering
    run tend_ status deaf
    assert_status 0
}

# a consumer that never loses a line it has read: TERM only sets a flag
consumer='import signal, sys
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
with open(sys.argv[1], "a") as out:
    for line in sys.stdin:
        out.write(line)
        out.flush()
        if stop:
            break'

@test "a pipeline survives a restart of the consumer with no line lost, and of the producer" {
    command -v python3 >/dev/null || skip "python3 needed"
    printf '%s\n' "$consumer" >"$BATS_TEST_TMPDIR/consumer.py"
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:producer]
command = sh -c 'i=0; while [ \$i -lt 400 ]; do echo "seq \$i"; i=\$((i+1)); $SLEEP 0.01; done; exec $SLEEP 1000'
stdout = program:consumer
startsecs = 0
[program:consumer]
command = python3 $BATS_TEST_TMPDIR/consumer.py $BATS_TEST_TMPDIR/received
startsecs = 0
autorestart = true
EOF2
)
    out="$BATS_TEST_TMPDIR/received"
    start_tend "$CFG"
    wait_for 20 eval '[ "$(wc -l <"$out" 2>/dev/null || echo 0)" -ge 50 ]'
    consumer_pid=$(tend_ pid consumer)
    run tend_ restart consumer
    assert_status 0
    [ "$(tend_ pid consumer)" != "$consumer_pid" ]
    wait_for 60 grep -qx "seq 399" "$out"
    # every sequence number exactly once, in order
    diff <(seq 0 399 | sed 's/^/seq /') "$out"
    # a restart of the producer leaves the consumer alone, and its lines still arrive
    consumer_pid=$(tend_ pid consumer)
    run tend_ restart producer
    assert_status 0
    wait_for 60 eval '[ "$(grep -c "^seq 0$" "$out")" -eq 2 ]'
    [ "$(tend_ pid consumer)" = "$consumer_pid" ]
    # the reader started first
    grep -n "spawned" "$BATS_TEST_TMPDIR/tend.err" | head -n 1 | grep -q consumer
}

@test "fan-out and tee deliver identical bytes; status counts bytes in and out" {
    head -c 200000 /dev/urandom | base64 >"$BATS_TEST_TMPDIR/data"
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:source]
command = sh -c 'cat "$BATS_TEST_TMPDIR/data"; exec $SLEEP 1000'
stdout = program:left, program:right, file:$BATS_TEST_TMPDIR/tee.out
startsecs = 0
[program:left]
command = sh -c 'cat > "$BATS_TEST_TMPDIR/left.out"'
startsecs = 0
[program:right]
command = sh -c 'cat > "$BATS_TEST_TMPDIR/right.out"'
startsecs = 0
EOF2
)
    size=$(stat -c %s "$BATS_TEST_TMPDIR/data")
    start_tend "$CFG"
    for f in left right tee; do
        wait_for 30 eval '[ "$(stat -c %s "$BATS_TEST_TMPDIR/$f.out" 2>/dev/null || echo 0)" -eq $size ]'
        cmp "$BATS_TEST_TMPDIR/data" "$BATS_TEST_TMPDIR/$f.out"
    done
    run tend_ status --json
    [ "$(jq -r '.[] | select(.name == "source") | .stdout_bytes' <<<"$output")" -eq "$size" ]
    [ "$(jq -r '.[] | select(.name == "left") | .stdin_bytes' <<<"$output")" -eq "$size" ]
    [ "$(jq -r '.[] | select(.name == "left") | .dropped_bytes' <<<"$output")" -eq 0 ]
    run tend_ status
    assert_output_contains "DROPPED"
}

@test "bad pipe targets are configuration errors" {
    CFG=$(write_config <<EOF2
[program:a]
command = /bin/true
stdout = program:nosuch
EOF2
)
    run "$TEND" -c "$CFG" check
    assert_status 78
    assert_output_contains "[program:a] stdout: no [program:nosuch]"
    CFG=$(write_config b.ini <<EOF2
[program:a]
command = /bin/true
stdout = program:b
[program:b]
command = /bin/true
stdout = program:a
EOF2
)
    run "$TEND" -c "$CFG" check
    assert_status 78
    assert_output_contains "dependency cycle"
    CFG=$(write_config c.ini <<EOF2
[program:a]
command = /bin/true
stdout = somewhere
EOF2
)
    run "$TEND" -c "$CFG" check
    assert_status 78
    assert_output_contains "invalid target 'somewhere'"
}

@test "a second file: target in one stream is a config error at its file:line, not ignored" {
    CFG=$(write_config <<EOF2
[program:a]
command = /bin/true
stdout = program:b, file:$BATS_TEST_TMPDIR/one.log,
    file:$BATS_TEST_TMPDIR/two.log
[program:b]
command = cat
EOF2
)
    run "$TEND" -c "$CFG" check
    assert_status 78
    assert_output_contains "$CFG:3: [program:a] stdout: a second file target 'file:$BATS_TEST_TMPDIR/two.log'"
    [ ! -e "$BATS_TEST_TMPDIR/one.log" ] && [ ! -e "$BATS_TEST_TMPDIR/two.log" ]
}
