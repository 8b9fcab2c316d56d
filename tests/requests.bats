#!/usr/bin/env bats
# What supervisord's users have asked for for years: configurable backoff, restart_delay,
# critical programs, timestamps, log rotation on demand, /dev/stdout logging, rlimits, HOME and
# USER for user =, and reloads that only reopen logs when only logging changed.

load helpers

setup() {
    use_tend_fixture
}

teardown() {
    teardown_tend
}

# starts_ms FILE: the start times (ms) a program recorded, one per line
starts_ms() {
    cut -c1-13 "$1"
}

@test "exponential backoff: delays double from backoff_base, capped by backoff_max; CPU stays near zero" {
    CFG=$(write_config <<EOF2
[program:flappy]
command = sh -c 'date +%%s%%N >> "$BATS_TEST_TMPDIR/starts"; exit 1'
startsecs = 1
startretries = 5
backoff_base = 200ms
backoff_factor = 2
backoff_max = 1s
EOF2
)
    start_tend "$CFG"
    wait_log "(FATAL)" 30
    t=($(starts_ms "$BATS_TEST_TMPDIR/starts"))
    [ "${#t[@]}" -eq 6 ]
    # gaps: 0.2s, 0.4s, 0.8s, then capped at 1s, 1s
    want=(200 400 800 1000 1000)
    for i in 0 1 2 3 4; do
        gap=$((t[i + 1] - t[i]))
        [ "$gap" -ge "${want[i]}" ] || { echo "gap $i is $gap ms, want >= ${want[i]}"; return 1; }
    done
    log_has "restart 3/5 in 0.8s"
    log_has "restart 4/5 in 1s"
    # tend itself slept through the waits: user + system time in clock ticks
    ticks=$(awk '{print $14 + $15}' /proc/"$TEND_PID"/stat)
    [ "$ticks" -lt 50 ]
}

@test "startretries = forever never gives up" {
    CFG=$(write_config <<EOF2
[program:stubborn]
command = sh -c 'exit 1'
startsecs = 1
startretries = forever
backoff_base = 100ms
backoff_max = 100ms
EOF2
)
    start_tend "$CFG"
    wait_log "restart 6 in 0.1s" 30
    ! log_has "FATAL"
}

@test "restart_delay waits before restarting a program that was RUNNING" {
    CFG=$(write_config <<EOF2
[program:steady]
command = sh -c 'date +%%s%%N >> "$BATS_TEST_TMPDIR/starts"; $SLEEP 1.2; exit 2'
startsecs = 0
autorestart = true
restart_delay = 1500ms
EOF2
)
    start_tend "$CFG"
    wait_for 30 eval '[ "$(wc -l <"$BATS_TEST_TMPDIR/starts" 2>/dev/null || echo 0)" -ge 2 ]'
    t=($(starts_ms "$BATS_TEST_TMPDIR/starts"))
    # 1.2 s of running plus 1.5 s of delay
    [ $((t[1] - t[0])) -ge 2700 ]
    log_has "restarting in 1.5s"
}

@test "a critical program's exit stops everything and becomes tend's exit status" {
    CFG=$(write_config <<EOF2
[program:app]
command = sh -c 'while [ ! -e "$BATS_TEST_TMPDIR/quit" ]; do $SLEEP 0.05; done; exit 3'
startsecs = 0
critical = true
[program:sidecar]
command = $SLEEP 1000
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_for 20 eval 'pgrep -f "$SLEEP 1000" >/dev/null'
    touch "$BATS_TEST_TMPDIR/quit"
    rc=0
    wait "$TEND_PID" || rc=$?
    TEND_PID=
    [ "$rc" -eq 3 ]
    run pgrep -f "$SLEEP 1000"
    [ "$status" -eq 1 ]
    grep -q "app is critical and exited" "$BATS_TEST_TMPDIR/tend.err"
}

@test "[tend] exit_with follows one program; a critical program that goes FATAL ends tend too" {
    CFG=$(write_config <<EOF2
[tend]
exit_with = main
[program:main]
command = sh -c 'kill -TERM \$\$'
startsecs = 0
autorestart = false
EOF2
)
    start_tend "$CFG"
    rc=0
    wait "$TEND_PID" || rc=$?
    TEND_PID=
    [ "$rc" -eq 143 ]

    CFG=$(write_config fatal.ini <<EOF2
[program:missing]
command = /nonexistent/program
critical = true
startretries = 0
EOF2
)
    start_tend "$CFG"
    rc=0
    wait "$TEND_PID" || rc=$?
    TEND_PID=
    [ "$rc" -eq 127 ]
}

@test "stdout_timestamps prefixes every line with a parseable ISO-8601 time" {
    CFG=$(write_config <<EOF2
[program:stamped]
command = sh -c 'echo first; printf "second "; $SLEEP 0.1; echo half; exec $SLEEP 1000'
stdout_logfile = $BATS_TEST_TMPDIR/stamped.log
stdout_timestamps = true
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_for 20 grep -q "half" "$BATS_TEST_TMPDIR/stamped.log"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/stamped.log")" -eq 2 ]
    while read -r ts rest; do
        [[ "$ts" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2}$ ]]
        date -d "$ts" +%s >/dev/null
    done <"$BATS_TEST_TMPDIR/stamped.log"
    grep -q " first$" "$BATS_TEST_TMPDIR/stamped.log"
    grep -q " second half$" "$BATS_TEST_TMPDIR/stamped.log"
}

@test "logs --rotate rotates now; /dev/stdout works as a log file with rotation off" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:rot]
command = sh -c 'echo before; while [ ! -e "$BATS_TEST_TMPDIR/next" ]; do $SLEEP 0.05; done; echo after; exec $SLEEP 1000'
stdout_logfile = $BATS_TEST_TMPDIR/rot.log
startsecs = 0
[program:tostdout]
command = sh -c 'echo to the real stdout; exec $SLEEP 1000'
stdout_logfile = /dev/stdout
stdout_logfile_maxbytes = 1KB
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_for 20 grep -q before "$BATS_TEST_TMPDIR/rot.log"
    run tend_ logs --rotate rot
    assert_status 0
    assert_output_contains "rot: rotated"
    grep -q before "$BATS_TEST_TMPDIR/rot.log.1"
    touch "$BATS_TEST_TMPDIR/next"
    wait_for 20 grep -q after "$BATS_TEST_TMPDIR/rot.log"
    ! grep -q before "$BATS_TEST_TMPDIR/rot.log"
    wait_for 20 out_has "to the real stdout"
    ! grep -qi "error" "$BATS_TEST_TMPDIR/tend.err"
}

@test "rlimit_* are applied in the child (visible in /proc/PID/limits)" {
    CFG=$(write_config <<EOF2
[program:limited]
command = $SLEEP 1000
rlimit_nofile = 123
rlimit_core = unlimited
rlimit_as = 1GB
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_for 20 eval 'pgrep -f "$SLEEP 1000" >/dev/null'
    pid=$(pid_of "$SLEEP 1000")
    grep -Eq '^Max open files +123 +123 ' /proc/"$pid"/limits
    grep -Eq '^Max core file size +unlimited +unlimited ' /proc/"$pid"/limits
    grep -Eq '^Max address space +1073741824 +1073741824 ' /proc/"$pid"/limits
}

@test "user = nobody sets HOME, USER, LOGNAME and SHELL from the password database" {
    [ "$(id -u)" -eq 0 ] || skip "needs root"
    mark="1000.$$$BATS_TEST_NUMBER"
    CFG=$(write_config <<EOF2
[program:nob]
command = $(command -v sleep) $mark
user = nobody
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_for 20 eval 'pgrep -f "sleep $mark" >/dev/null'
    pid=$(pid_of "sleep $mark")
    env=$(tr '\0' '\n' </proc/"$pid"/environ)
    IFS=: read -r _ _ _ _ _ home shell < <(getent passwd nobody)
    grep -qx "HOME=$home" <<<"$env"
    grep -qx "USER=nobody" <<<"$env"
    grep -qx "LOGNAME=nobody" <<<"$env"
    grep -qx "SHELL=$shell" <<<"$env"
    groups=$(awk '/^Groups:/ {$1=""; print}' /proc/"$pid"/status | xargs)
    [ "$groups" = "$(id -G nobody | tr ' ' '\n' | grep -vx "$(id -g nobody)" | xargs)" ] || [ "$groups" = "$(id -G nobody | xargs)" ]
}

@test "%(ENV_X:-fallback)s works in a running program" {
    unset TEND_TEST_NOPE
    CFG=$(write_config <<EOF2
[program:envdef]
command = sh -c 'echo "value=%(ENV_TEND_TEST_NOPE:-fallback)s"; exec $SLEEP 1000'
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_for 20 out_has "value=fallback"
}

@test "reload of logging options only reopens the logs: same pid, new file" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:chat]
command = sh -c 'echo one; while [ ! -e "$BATS_TEST_TMPDIR/next" ]; do $SLEEP 0.05; done; echo two; exec $SLEEP 1000'
stdout_logfile = $BATS_TEST_TMPDIR/a.log
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_for 20 grep -q one "$BATS_TEST_TMPDIR/a.log"
    pid=$(tend_ pid chat)
    sed -i "s|a.log|b.log|" "$CFG"
    run tend_ reload --dry-run
    assert_output_contains "logging changed (stdout_logfile); reopen logs, no restart"
    run tend_ reload
    assert_status 0
    touch "$BATS_TEST_TMPDIR/next"
    wait_for 20 grep -q two "$BATS_TEST_TMPDIR/b.log"
    [ "$(tend_ pid chat)" = "$pid" ]
    ! grep -q two "$BATS_TEST_TMPDIR/a.log"
}

@test "tend's own log stays off stdout: stdout carries only the programs' lines" {
    CFG=$(write_config <<EOF2
[program:talker]
command = sh -c 'echo program line; exec $SLEEP 1000'
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_for 20 out_has "talker | program line"
    wait_log "talker (pid"
    # every line on stdout is a program's, none is tend's own
    ! grep -v '^talker | ' "$BATS_TEST_TMPDIR/tend.out"
    ! grep -q "spawned" "$BATS_TEST_TMPDIR/tend.out"
    # and with [tend] logfile, tend's log goes to the file
    CFG=$(write_config logged.ini <<EOF2
[tend]
logfile = $BATS_TEST_TMPDIR/tend-own.log
[program:quiet]
command = $SLEEP 1001
startsecs = 0
EOF2
)
    stop_tend
    start_tend "$CFG"
    wait_for 20 grep -q "quiet (pid" "$BATS_TEST_TMPDIR/tend-own.log"
    ! grep -q "quiet (pid" "$BATS_TEST_TMPDIR/tend.err"
}
