#!/usr/bin/env bats
# stdout_logfile_direct / stderr_logfile_direct: the program gets its log file itself as fd 1
# (or 2), appending, and tend reads none of its output. What tend cannot do then (rotate,
# stamp, copy to syslog or events or another program) is a configuration error; what it still
# does (tend logs, tend logs -f, a new file at the next start) is shown here.

load helpers

setup() {
    use_tend_fixture
    LOG=$BATS_TEST_TMPDIR/logs/out.log
    mkdir -p "$BATS_TEST_TMPDIR/logs"
}

teardown() {
    teardown_tend
}

# an echoer: stdin is a pipe fed by `tend send`, stdout the log file itself
start_echoer() {
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:echo]
command = cat
stdin = pipe
startsecs = 0
stdout_logfile = $LOG
stdout_logfile_maxbytes = 0
stdout_logfile_direct = true
redirect_stderr = true
$*
EOF2
    wait_state echo RUNNING 20
}

# file_has FILE TEXT: FILE exists and holds TEXT
file_has() {
    [ -f "$1" ] && grep -qF -- "$2" "$1"
}

@test "the program's stdout and stderr are the log file itself, and it holds every byte written" {
    data=$BATS_TEST_TMPDIR/data
    head -c 3000000 /dev/urandom >"$data"
    printf 'a last line\n' >>"$data"
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:writer]
command = sh -c 'cat $data; exec $SLEEP 1000'
startsecs = 0
stdout_logfile = $LOG
stdout_logfile_maxbytes = 0
stdout_logfile_direct = true
redirect_stderr = true
EOF2
    wait_state writer RUNNING 20
    pid=$(field writer pid)
    wait_for 20 eval '[ "$(cat /proc/'"$pid"'/comm)" = sleep ]'
    [ "$(readlink /proc/"$pid"/fd/1)" = "$LOG" ]
    [ "$(readlink /proc/"$pid"/fd/2)" = "$LOG" ]
    # appending, so that a copytruncate or a second writer is never overwritten
    flags=$(awk '/^flags:/ {print $2}' /proc/"$pid"/fdinfo/1)
    [ $((8#$flags & 8#2000)) -ne 0 ]
    cmp "$data" "$LOG"
    # tend itself holds neither the file nor a pipe from the program
    run ! sh -c "ls -l /proc/$TEND_PID/fd | grep -qF '$LOG'"
}

@test "tend logs prints the file's tail, and logs -f sees what the program appends later" {
    start_echoer
    tend_ send echo "first line"
    wait_for 20 file_has "$LOG" "first line"
    run tend_ logs echo
    assert_status 0
    assert_output_contains "first line"
    "$TEND" -c "$CFG" logs -f -n 1 echo >"$BATS_TEST_TMPDIR/follow.out" 2>&1 3>&- &
    follower=$!
    wait_for 20 file_has "$BATS_TEST_TMPDIR/follow.out" "first line"
    tend_ send echo "second line"
    tend_ send echo "third line"
    wait_for 20 file_has "$BATS_TEST_TMPDIR/follow.out" "third line"
    kill "$follower"
    wait "$follower" || true
    [ "$(grep -c 'second line' "$BATS_TEST_TMPDIR/follow.out")" -eq 1 ]
}

@test "logs --rotate refuses a direct log (exit 1, the file untouched): renaming it would not move the program" {
    start_echoer
    tend_ send echo "kept"
    wait_for 20 file_has "$LOG" "kept"
    run tend_ logs --rotate echo
    assert_status 1
    assert_output_contains "not rotated $LOG"
    assert_output_contains "stdout_logfile_direct"
    [ ! -e "$LOG.1" ]
    file_has "$LOG" "kept"
}

@test "a log moved away and reopened (USR2): the running program keeps its file, the next start writes the new one" {
    start_echoer
    tend_ send echo "before the move"
    wait_for 20 file_has "$LOG" "before the move"
    mv "$LOG" "$LOG.old"
    kill -USR2 "$TEND_PID"
    wait_for 20 log_has "reopen"
    tend_ send echo "after the move"
    wait_for 20 file_has "$LOG.old" "after the move"
    [ ! -e "$LOG" ]
    tend_ restart echo
    wait_state echo RUNNING 20
    tend_ send echo "after the restart"
    wait_for 20 file_has "$LOG" "after the restart"
    run ! grep -q "after the restart" "$LOG.old"
}

@test "reload: a direct program whose log file changes is restarted onto the new file" {
    start_echoer
    old_pid=$(field echo pid)
    sed -i "s|^stdout_logfile = .*|stdout_logfile = $LOG.new|" "$CFG"
    run tend_ reload
    assert_status 0
    wait_for 20 eval '[ "$(field echo pid)" != "$old_pid" ] && state_is echo RUNNING'
    tend_ send echo "into the new file"
    wait_for 20 file_has "$LOG.new" "into the new file"
}

@test "a log file that cannot be opened is a failed start that names the file" {
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:nolog]
command = $SLEEP 1000
autostart = false
startretries = 0
stdout_logfile = $BATS_TEST_TMPDIR/missing-dir/out.log
stdout_logfile_maxbytes = 0
stdout_logfile_direct = true
EOF2
    run tend_ start nolog
    [ "$status" -ne 0 ]
    assert_output_contains "cannot open log file $BATS_TEST_TMPDIR/missing-dir/out.log"
    wait_state nolog FATAL 20
}

@test "tend check names file:line and what a direct log cannot have" {
    CFG=$(write_config <<EOF2
[program:rotating]
command = $SLEEP 1
stdout_logfile = $LOG
stdout_logfile_direct = true
[program:nofile]
command = $SLEEP 1
stdout_logfile = NONE
stdout_logfile_direct = true
[program:stamped]
command = $SLEEP 1
stderr_logfile = $LOG
stderr_logfile_maxbytes = 0
stderr_timestamps = true
stderr_logfile_direct = true
[program:merged]
command = $SLEEP 1
redirect_stderr = true
stderr_logfile_direct = true
[program:syslogged]
command = $SLEEP 1
stdout_logfile = $LOG
stdout_logfile_maxbytes = 0
stdout_syslog = true
stdout_logfile_direct = true
EOF2
)
    run tend_ check
    [ "$status" -ne 0 ]
    assert_output_contains "$CFG:4: [program:rotating] stdout_logfile_direct: needs stdout_logfile_maxbytes = 0"
    assert_output_contains "$CFG:8: [program:nofile] stdout_logfile_direct: needs a log file"
    assert_output_contains "$CFG:14: [program:stamped] stderr_logfile_direct: needs stderr_timestamps = false"
    assert_output_contains "$CFG:18: [program:merged] stderr_logfile_direct: stderr goes to stdout (redirect_stderr)"
    assert_output_contains "$CFG:24: [program:syslogged] stdout_logfile_direct: needs stdout_syslog = false"
}

@test "stdout_logfile = /dev/stdout with direct: the program writes on tend's own stdout, unprefixed" {
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:app]
command = sh -c 'echo "{\"msg\": \"straight out\"}"; exec $SLEEP 1000'
startsecs = 0
stdout_logfile = /dev/stdout
stdout_logfile_maxbytes = 0
stdout_logfile_direct = true
EOF2
    wait_for 20 grep -qxF '{"msg": "straight out"}' "$BATS_TEST_TMPDIR/tend.out"
}

@test "a follower attached before the first start sees the program's first lines" {
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:later]
command = sh -c 'echo "hello from later"; exec $SLEEP 1000'
autostart = false
startsecs = 0
stdout_logfile = $LOG
stdout_logfile_maxbytes = 0
stdout_logfile_direct = true
EOF2
    [ ! -e "$LOG" ]
    "$TEND" -c "$CFG" logs -f -n 0 later >"$BATS_TEST_TMPDIR/follow.out" 2>&1 3>&- &
    follower=$!
    wait_for 20 test -e "$LOG"
    tend_ start later
    wait_for 20 file_has "$BATS_TEST_TMPDIR/follow.out" "hello from later"
    kill "$follower"
    wait "$follower" || true
}
