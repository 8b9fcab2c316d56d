#!/usr/bin/env bats
# Event listeners ([eventlistener:x]) with supervisord's protocol, written as supervisord's
# users write them (supervisor.childutils), and `tend events`. tests/event-listener.py notes
# every event it gets in a file; the tests wait for lines in those files.

load helpers

setup() {
    PY=
    for p in /usr/bin/python3 python3; do
        if "$p" -c 'import supervisor.childutils' 2>/dev/null; then PY=$p; break; fi
    done
    [ -n "$PY" ] || skip "python3-supervisor not installed"
    M=$(marker)
    D="$BATS_TEST_TMPDIR"
    # the marker in every command line, so teardown finds whatever is left
    LISTENER="$PY $TEND_SRCDIR/tests/event-listener.py"
    SLEEP="$D/$M-sleep"
    ln -s "$(command -v sleep)" "$SLEEP"
}

teardown() {
    kill_tend_and_marked "$M"
}

# has FILE TEXT: FILE exists and contains TEXT
has() {
    [ -f "$1" ] && grep -qF -- "$2" "$1"
}

# count FILE REGEX: the number of lines of FILE matching REGEX (0 when it does not exist)
count() {
    cat "$1" 2>/dev/null | grep -cE -- "$2" || true
}

# count_is FILE REGEX OP N: count FILE REGEX compared with N (-eq, -ge), for wait_for
count_is() {
    [ "$(count "$1" "$2")" "$3" "$4" ]
}

# wait_has FILE TEXT [SECONDS]
wait_has() {
    wait_for "${3:-30}" has "$1" "$2" || {
        echo "--- $1:" >&2
        cat "$1" >&2 2>/dev/null
        echo "--- tend log:" >&2
        cat "$D/tend.err" >&2
        return 1
    }
}

@test "a childutils listener gets PROCESS_STATE_EXITED with supervisord's header and payload" {
    CFG=$(write_config <<EOF
[unix_http_server]
file = $D/sv.sock
[program:quick]
command = /bin/sh -c "$SLEEP 1.5; exit 3"
startsecs = 1
autorestart = false
[eventlistener:rec]
command = $LISTENER $D/rec.txt $M
events = PROCESS_STATE_EXITED
environment = RAW="1"
EOF
)
    start_tend "$CFG"
    wait_has "$D/rec.txt" "PROCESS_STATE_EXITED"
    pid=$(sed -n 's/.*quick (pid \([0-9]*\)) spawned.*/\1/p' "$D/tend.err" | head -n 1)
    [ -n "$pid" ]
    payload="processname:quick groupname:quick from_state:RUNNING expected:0 pid:$pid"
    # exactly the bytes supervisord would send: the header, then len bytes of payload
    run grep '^raw ' "$D/rec.txt"
    [[ "$output" =~ ^raw\ ver:3\.0\ server:tend\ serial:[0-9]+\ pool:rec\ poolserial:0\ eventname:PROCESS_STATE_EXITED\ len:${#payload}$ ]]
    has "$D/rec.txt" "PROCESS_STATE_EXITED serial:" 
    has "$D/rec.txt" "pool:rec $payload"
    # the listener knows where tend's XML-RPC server is
    has "$D/rec.txt" "url:unix://$D/sv.sock"
    # stdout is the protocol channel, not logged; nothing was sent but what was subscribed
    [ "$(count "$D/rec.txt" '^PROCESS_STATE_')" -eq 1 ]
}

@test "TICK_5 arrives every five seconds; an event group subscribes to all its types" {
    CFG=$(write_config <<EOF
[program:p]
command = $SLEEP 1000
startsecs = 0
[eventlistener:ticks]
command = $LISTENER $D/ticks.txt $M
events = TICK_5, PROCESS_STATE
EOF
)
    start_tend "$CFG"
    wait_has "$D/ticks.txt" "TICK_5" 20
    run grep -m1 TICK_5 "$D/ticks.txt"
    when=${output##*when:}
    [ $((when % 5)) -eq 0 ]
    wait_for 20 count_is "$D/ticks.txt" '^TICK_5' -ge 2
    # PROCESS_STATE covers STARTING and RUNNING of p
    has "$D/ticks.txt" "PROCESS_STATE_STARTING"
    has "$D/ticks.txt" "PROCESS_STATE_RUNNING serial:"
    ! grep -q TICK_60 "$D/ticks.txt"
}

@test "RESULT FAIL makes the same event come again; OK does not" {
    CFG=$(write_config <<EOF
[program:quick]
command = /bin/sh -c "$SLEEP 1.2; exit 0"
startsecs = 1
autorestart = false
[eventlistener:picky]
command = $LISTENER $D/picky.txt $M
events = PROCESS_STATE_EXITED
environment = FAIL_ONCE="PROCESS_STATE_EXITED"
EOF
)
    start_tend "$CFG"
    wait_has "$D/picky.txt" "fail "
    serial=$(sed -n 's/^fail //p' "$D/picky.txt")
    wait_for 20 count_is "$D/picky.txt" "^PROCESS_STATE_EXITED serial:$serial " -eq 2
    wait_log "picky: event was rejected"
    # accepted the second time: it is not sent a third time
    run "$TEND" -c "$CFG" start quick
    wait_for 30 count_is "$D/picky.txt" '^PROCESS_STATE_EXITED' -ge 3
    [ "$(count "$D/picky.txt" "^PROCESS_STATE_EXITED serial:$serial ")" -eq 2 ]
}

@test "a listener killed while BUSY is restarted and gets the event again; nothing lost for others" {
    CFG=$(write_config <<EOF
[program:quick]
command = /bin/sh -c "$SLEEP 1.2"
startsecs = 1
autorestart = false
[eventlistener:stuck]
command = $LISTENER $D/stuck.txt $M
events = PROCESS_STATE_EXITED
environment = HANG_ON="PROCESS_STATE_EXITED"
[eventlistener:calm]
command = $LISTENER $D/calm.txt $M
events = PROCESS_STATE_EXITED
EOF
)
    start_tend "$CFG"
    wait_has "$D/stuck.txt" "hang "
    serial=$(sed -n 's/^hang //p' "$D/stuck.txt" | head -n 1)
    first=$(sed -n 's/^start pid:\([0-9]*\).*/\1/p' "$D/stuck.txt" | head -n 1)
    kill -KILL "$first"
    wait_log "stuck (pid $first) killed by signal KILL"
    # the new listener gets the very event the dead one was handling
    wait_for 30 count_is "$D/stuck.txt" "^PROCESS_STATE_EXITED serial:$serial " -eq 2
    [ "$(count "$D/stuck.txt" '^start ')" -eq 2 ]
    # the other pool got its copy once, and more events keep flowing to it
    [ "$(count "$D/calm.txt" "^PROCESS_STATE_EXITED serial:$serial ")" -eq 1 ]
    run "$TEND" -c "$CFG" start quick
    wait_for 30 count_is "$D/calm.txt" '^PROCESS_STATE_EXITED .*processname:quick ' -eq 2
}

@test "every process of a numprocs pool shares its buffer; garbage makes a listener UNKNOWN" {
    CFG=$(write_config <<EOF
[program:quick]
command = /bin/sh -c "$SLEEP 1.2"
startsecs = 1
autorestart = false
[eventlistener:bad]
command = /bin/sh -c "echo hello; exec $SLEEP 1000"
events = PROCESS_STATE_EXITED
[eventlistener:pool]
command = $LISTENER $D/pool_%(process_num)d.txt $M
process_name = pool_%(process_num)d
numprocs = 2
events = PROCESS_STATE_EXITED
EOF
)
    start_tend "$CFG"
    wait_log "bad: has entered the UNKNOWN state"
    wait_for 30 eval 'cat $D/pool_*.txt 2>/dev/null | grep -q "^PROCESS_STATE_EXITED"'
    # one of the pool's listeners handled it, not both
    [ "$(cat "$D"/pool_*.txt | grep -c '^PROCESS_STATE_EXITED')" -eq 1 ]
    has "$D/pool_0.txt" "start " && has "$D/pool_1.txt" "start "
}

@test "the 'exit when a program is FATAL' listener shuts tend down over XML-RPC" {
    CFG=$(write_config <<EOF
[unix_http_server]
file = $D/sv.sock
[program:broken]
command = /bin/sh -c "exit 1; : $M"
startretries = 1
backoff_base = 0.1
[eventlistener:fatal]
command = $LISTENER $D/fatal.txt $M
events = PROCESS_STATE_FATAL
environment = SHUTDOWN_ON="PROCESS_STATE_FATAL"
EOF
)
    start_tend "$CFG"
    wait_has "$D/fatal.txt" "PROCESS_STATE_FATAL"
    # tend goes to FATAL from STARTING (supervisord: from BACKOFF); see tend.ini(5)
    has "$D/fatal.txt" "pool:fatal processname:broken groupname:broken from_state:STARTING"
    # tend exits by itself, asked by the listener's supervisor.shutdown()
    wait_for 30 eval '! kill -0 $TEND_PID 2>/dev/null'
    wait "$TEND_PID"
    TEND_PID=
    log_has "down requested; stopping every program"
}

@test "a crashmail-like listener counts unexpected exits (expected:0)" {
    CFG=$(write_config <<EOF
[program:crashy]
command = /bin/sh -c "$SLEEP 1.1; exit 2"
startsecs = 1
autorestart = true
[program:fine]
command = /bin/sh -c "$SLEEP 1.1"
startsecs = 1
autorestart = false
[eventlistener:crashmail]
command = $LISTENER $D/crash.txt $M
events = PROCESS_STATE
EOF
)
    start_tend "$CFG"
    wait_for 40 count_is "$D/crash.txt" '^PROCESS_STATE_EXITED.*processname:crashy .*expected:0' -ge 2
    wait_has "$D/crash.txt" "processname:fine groupname:fine from_state:RUNNING expected:1"
    [ "$(count "$D/crash.txt" '^PROCESS_STATE_EXITED.*processname:fine .*expected:0')" -eq 0 ]
}

@test "tend events --json prints recent events; -f follows new ones" {
    CFG=$(write_config <<EOF
[program:quick]
command = /bin/sh -c "$SLEEP 1.2; exit 4"
startsecs = 1
autorestart = false
EOF
)
    start_tend "$CFG"
    wait_log "quick (pid"
    wait_log "not expected"
    run "$TEND" -c "$CFG" events --json
    assert_status 0
    line=$(printf '%s\n' "$output" | grep '"PROCESS_STATE_EXITED"')
    pid=$(sed -n 's/.*quick (pid \([0-9]*\)) spawned.*/\1/p' "$D/tend.err" | head -n 1)
    [ "$(jq -r .processname <<<"$line")" = quick ]
    [ "$(jq -r .groupname <<<"$line")" = quick ]
    [ "$(jq -r .from_state <<<"$line")" = RUNNING ]
    [ "$(jq -r .expected <<<"$line")" = 0 ]
    [ "$(jq -r .pid <<<"$line")" = "$pid" ]
    jq -e '.serial >= 0 and .time > 0' <<<"$line"
    # SUPERVISOR_STATE_CHANGE_RUNNING came first
    [ "$(printf '%s\n' "$output" | head -n 1 | jq -r .eventname)" = SUPERVISOR_STATE_CHANGE_RUNNING ]
    # the text form
    run "$TEND" -c "$CFG" events
    assert_output_contains "PROCESS_STATE_EXITED processname:quick groupname:quick from_state:RUNNING expected:0 pid:$pid"
    # -f: what happens from now on
    "$TEND" -c "$CFG" events -f --json >"$D/follow.txt" 3>&- &
    FOLLOW=$!
    "$TEND" -c "$CFG" start quick
    wait_for 30 count_is "$D/follow.txt" PROCESS_STATE_EXITED -ge 2
    kill "$FOLLOW"
    wait "$FOLLOW" || true
    jq -e . "$D/follow.txt" >/dev/null
}

@test "stdout_events_enabled sends PROCESS_LOG_STDOUT; SUPERVISOR_STATE_CHANGE_RUNNING first" {
    CFG=$(write_config <<EOF
[program:talker]
command = /bin/sh -c "echo hello-$M; exec $SLEEP 1000"
startsecs = 0
stdout_events_enabled = true
[program:quiet]
command = /bin/sh -c "echo unseen; exec $SLEEP 1001"
startsecs = 0
[eventlistener:logs]
command = $LISTENER $D/logs.txt $M
events = PROCESS_LOG, SUPERVISOR_STATE_CHANGE
EOF
)
    start_tend "$CFG"
    wait_has "$D/logs.txt" "PROCESS_LOG_STDOUT"
    pid=$(sed -n 's/.*talker (pid \([0-9]*\)) spawned.*/\1/p' "$D/tend.err" | head -n 1)
    has "$D/logs.txt" "pool:logs processname:talker groupname:talker pid:$pid channel:stdout"
    ! grep -q 'processname:quiet' "$D/logs.txt"
    # the chunk itself is the payload after the first line
    run "$TEND" -c "$CFG" events --json
    line=$(printf '%s\n' "$output" | grep '"PROCESS_LOG_STDOUT"')
    [ "$(jq -r .data <<<"$line")" = "hello-$M" ]
    run grep -m1 -E '^(SUPERVISOR|PROCESS)' "$D/logs.txt"
    [[ "$output" == "SUPERVISOR_STATE_CHANGE_RUNNING serial:0 poolserial:0 pool:logs "* ]]
}

@test "a full pool buffer drops its oldest event with supervisord's log line" {
    CFG=$(write_config <<EOF
[program:a]
command = /bin/sh -c "exit 0; : $M-a"
startsecs = 0
autorestart = false
[program:b]
command = /bin/sh -c "exit 0; : $M-b"
startsecs = 0
autorestart = false
[program:c]
command = /bin/sh -c "exit 0; : $M-c"
startsecs = 0
autorestart = false
[eventlistener:late]
command = $LISTENER $D/late.txt $M
events = PROCESS_STATE_EXITED
buffer_size = 1
startsecs = 3
EOF
)
    start_tend "$CFG"
    wait_log "pool late event buffer overflowed, discarding event"
    # the listener, RUNNING only after startsecs, gets the one event the buffer kept
    wait_has "$D/late.txt" "PROCESS_STATE_EXITED"
    [ "$(count "$D/late.txt" '^PROCESS_STATE_EXITED')" -eq 1 ]
}

@test "tend check shows a listener's section, events and buffer_size, and re-reads its output" {
    CFG=$(write_config <<EOF
[eventlistener:mon]
command = /bin/cat
events = tick, PROCESS_STATE_FATAL
buffer_size = 4
EOF
)
    run --separate-stderr "$TEND" -c "$CFG" check
    assert_status 0
    assert_output_contains "[eventlistener:mon]"
    assert_output_contains "events = PROCESS_STATE_FATAL, TICK_5, TICK_60, TICK_3600"
    assert_output_contains "buffer_size = 4"
    assert_output_contains "priority = -1"
    printf '%s\n' "$output" >"$D/again.ini"
    run "$TEND" -c "$D/again.ini" check
    assert_status 0
    run "$TEND" -c "$CFG" check --json
    [ "$(jq -r '.. | objects | select(.name? == "mon") | .buffer_size' <<<"$output")" = 4 ]
    write_config bad.ini <<EOF >/dev/null
[eventlistener:mon]
command = /bin/cat
events = PROCESS_STATE, NO_SUCH_EVENT
EOF
    run "$TEND" -c "$D/bad.ini" check
    assert_status 78
    assert_output_contains "bad.ini:3: [eventlistener:mon] events: unknown event type NO_SUCH_EVENT"
}

@test "reload: a changed events= applies to the running pool; a new pool starts and gets events" {
    cat >"$D/tend.ini" <<EOF
[program:quick]
command = /bin/sh -c "$SLEEP 1.2"
startsecs = 1
autorestart = false
autostart = false
[eventlistener:one]
command = $LISTENER $D/one.txt $M
events = PROCESS_STATE_EXITED
EOF
    CFG="$D/tend.ini"
    start_tend "$CFG"
    wait_has "$D/one.txt" "start pid:"
    first=$(sed -n 's/^start pid:\([0-9]*\).*/\1/p' "$D/one.txt")
    sed -i 's/^events = PROCESS_STATE_EXITED$/events = PROCESS_STATE_EXITED, PROCESS_STATE_STARTING/' "$CFG"
    cat >>"$CFG" <<EOF
[eventlistener:two]
command = $LISTENER $D/two.txt $M
events = PROCESS_STATE_EXITED
EOF
    run "$TEND" -c "$CFG" reload
    assert_status 0
    wait_has "$D/two.txt" "start pid:"
    wait_log "two (pid"
    wait_for 30 eval '"$TEND" -c "$CFG" status two | grep -q RUNNING'
    run "$TEND" -c "$CFG" start quick
    wait_has "$D/one.txt" "PROCESS_STATE_STARTING serial:"
    wait_has "$D/one.txt" "PROCESS_STATE_EXITED serial:"
    wait_has "$D/two.txt" "PROCESS_STATE_EXITED serial:"
    # the first listener kept running through the reload
    [ "$(count "$D/one.txt" '^start ')" -eq 1 ]
    kill -0 "$first"
}
