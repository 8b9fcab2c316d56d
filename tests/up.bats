#!/usr/bin/env bats
# `tend up` in the foreground: spawning, reaping, restart policy, stopping, logging — with real
# processes. Every program runs a `sleep` through a symlink inside BATS_TEST_TMPDIR, so its
# command line is unique to the test and teardown can find whatever is left.

load helpers

setup() {
    use_tend_fixture
}

teardown() {
    teardown_tend
}

# children_of PID: pids whose parent is PID
children_of() {
    pgrep -P "$1" || true
}

count_children() {
    [ "$(children_of "$TEND_PID" | wc -l)" -eq "$1" ]
}

@test "up starts autostart programs in priority order and stops them in reverse" {
    cfg=$(write_config <<EOF2
[program:late]
command = $SLEEP 1000
priority = 30
startsecs = 0
[program:early]
command = $SLEEP 1000
priority = 10
startsecs = 0
[program:middle]
command = $SLEEP 1000
priority = 20
startsecs = 0
[program:manual]
command = $SLEEP 1000
autostart = false
EOF2
)
    start_tend "$cfg"
    wait_for 20 count_children 3
    wait_log "late (pid"
    run grep -o '[a-z]* (pid [0-9]*) spawned' "$BATS_TEST_TMPDIR/tend.err"
    [ "${lines[0]%% *}" = early ]
    [ "${lines[1]%% *}" = middle ]
    [ "${lines[2]%% *}" = late ]
    [ "${#lines[@]}" -eq 3 ]
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
    run grep -o '[a-z]* (pid [0-9]*) stopping' "$BATS_TEST_TMPDIR/tend.err"
    [ "${lines[0]%% *}" = late ]
    [ "${lines[1]%% *}" = middle ]
    [ "${lines[2]%% *}" = early ]
}

@test "SIGTERM to tend stops every child and exits 0; no process is left" {
    cfg=$(write_config <<EOF2
[program:a]
command = $SLEEP 1000
startsecs = 0
[program:b]
command = sh -c '$SLEEP 1000 & $SLEEP 1001; wait'
startsecs = 0
EOF2
)
    start_tend "$cfg"
    # a, the shell of b and its two sleeps
    wait_for 20 eval '[ "$(pgrep -f "$SLEEP" | wc -l)" -eq 4 ]'
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
    run pgrep -f "$SLEEP"
    [ "$status" -eq 1 ]
    grep -q "every program is stopped; exiting" "$BATS_TEST_TMPDIR/tend.err"
}

@test "SIGINT to tend also stops everything and exits 0" {
    cfg=$(write_config <<EOF2
[program:a]
command = $SLEEP 1000
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 20 count_children 1
    kill -INT "$TEND_PID"
    TEND_STATUS=0
    wait "$TEND_PID" || TEND_STATUS=$?
    TEND_PID=
    [ "$TEND_STATUS" -eq 0 ]
    run pgrep -f "$SLEEP"
    [ "$status" -eq 1 ]
}

@test "a program that exits too quickly backs off 1s, 2s, then goes FATAL after startretries" {
    cfg=$(write_config <<EOF2
[program:crashy]
command = sh -c 'echo boom >&2; exit 1'
startsecs = 1
startretries = 2
EOF2
)
    start_tend "$cfg"
    wait_log "(FATAL)" 30
    log_has "crashy (pid"
    log_has "exited with status 1 after"
    log_has "; restart 1/2 in 1s"
    log_has "; restart 2/2 in 2s"
    log_has "giving up after 3 attempts (FATAL)"
    [ "$(grep -c 'crashy (pid [0-9]*) spawned' "$BATS_TEST_TMPDIR/tend.err")" -eq 3 ]
    # the delays grow: spawn times are at least 1 s, then 2 s apart
    mapfile -t t < <(grep 'crashy (pid [0-9]*) spawned' "$BATS_TEST_TMPDIR/tend.err" |
        awk '{split($2, a, "[:,]"); print a[1] * 3600000 + a[2] * 60000 + a[3] * 1000 + a[4]}')
    [ $((t[1] - t[0])) -ge 1000 ]
    [ $((t[2] - t[1])) -ge 2000 ]
    # FATAL stays FATAL: no further spawn, tend still alive and still stops cleanly
    kill -0 "$TEND_PID"
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
}

@test "startretries = 0 goes FATAL on the first failure" {
    cfg=$(write_config <<EOF2
[program:once]
command = sh -c 'exit 2'
startsecs = 5
startretries = 0
EOF2
)
    start_tend "$cfg"
    wait_log "once (pid"
    wait_log "giving up after 1 attempt (FATAL)"
}

@test "autorestart = unexpected restarts on an exit code outside exitcodes only" {
    cfg=$(write_config <<EOF2
[program:expected]
command = sh -c 'exit 3'
startsecs = 0
exitcodes = 0,3
[program:unexpected]
command = sh -c 'if [ -e "$BATS_TEST_TMPDIR/again" ]; then exec $SLEEP 1000; fi; touch "$BATS_TEST_TMPDIR/again"; exit 4'
startsecs = 0
exitcodes = 0,3
EOF2
)
    start_tend "$cfg"
    wait_log "expected (pid"
    wait_log "exited with status 3 after"
    wait_log "exited with status 4 after"
    wait_for 20 eval 'pgrep -f "^$SLEEP" >/dev/null'
    grep -q "expected (pid [0-9]*) exited with status 3 after .* (expected)$" "$BATS_TEST_TMPDIR/tend.err"
    grep -q "unexpected (pid [0-9]*) exited with status 4 after .* (not expected); restarting" "$BATS_TEST_TMPDIR/tend.err"
    [ "$(grep -c '^.* expected (pid [0-9]*) spawned' "$BATS_TEST_TMPDIR/tend.err")" -eq 1 ]
    [ "$(grep -c 'unexpected (pid [0-9]*) spawned' "$BATS_TEST_TMPDIR/tend.err")" -eq 2 ]
}

@test "autorestart = true restarts even an expected exit; false never restarts" {
    cfg=$(write_config <<EOF2
[program:always]
command = sh -c 'if [ -e "$BATS_TEST_TMPDIR/again" ]; then exec $SLEEP 1000; fi; touch "$BATS_TEST_TMPDIR/again"; exit 0'
startsecs = 0
autorestart = true
[program:never]
command = sh -c 'exit 9'
startsecs = 0
autorestart = false
EOF2
)
    start_tend "$cfg"
    wait_for 20 eval 'pgrep -f "^$SLEEP" >/dev/null'
    wait_log "never (pid"
    wait_log "exited with status 9"
    [ "$(grep -c 'always (pid [0-9]*) spawned' "$BATS_TEST_TMPDIR/tend.err")" -eq 2 ]
    [ "$(grep -c 'never (pid [0-9]*) spawned' "$BATS_TEST_TMPDIR/tend.err")" -eq 1 ]
}

@test "a killed program is restarted with a new pid" {
    cfg=$(write_config <<EOF2
[program:victim]
command = $SLEEP 1000
startsecs = 0
autorestart = true
EOF2
)
    start_tend "$cfg"
    wait_for 20 eval 'pgrep -f "$SLEEP" >/dev/null'
    old=$(pid_of "$SLEEP")
    kill -KILL "$old"
    wait_log "victim (pid $old) killed by signal KILL"
    wait_for 20 eval '[ -n "$(pid_of "$SLEEP")" ] && [ "$(pid_of "$SLEEP")" != "$old" ]'
}

@test "a program ignoring SIGTERM is killed after stopwaitsecs" {
    cfg=$(write_config <<EOF2
[program:stubborn]
command = sh -c 'trap "" TERM; echo ready; while :; do $SLEEP 0.2; done'
startsecs = 0
stopwaitsecs = 1
EOF2
)
    start_tend "$cfg"
    wait_for 20 out_has "ready"
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
    log_has "stubborn (pid"
    log_has "did not stop within 1s; sending KILL"
    log_has "killed by signal KILL"
    run pgrep -f "$SLEEP"
    [ "$status" -eq 1 ]
}

@test "a stop leaves no grandchild, even one that ignores SIGTERM" {
    cfg=$(write_config <<EOF2
[program:family]
command = sh -c '(trap "" TERM; exec $SLEEP 1002) & exec $SLEEP 1003'
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 20 eval '[ "$(pgrep -f "$SLEEP" | wc -l)" -eq 2 ]'
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
    run pgrep -f "$SLEEP"
    [ "$status" -eq 1 ]
}

@test "orphaned grandchildren are re-parented to tend and reaped: no zombie" {
    cfg=$(write_config <<EOF2
[program:parent]
command = sh -c 'for i in 1 2 3 4 5; do ($SLEEP 0.2 &); done; ($SLEEP 1004 &); exec $SLEEP 1000'
startsecs = 0
EOF2
)
    start_tend "$cfg"
    # anchored: the shell's own command line contains the same text until it execs
    wait_for 20 eval 'pgrep -f "^$SLEEP 1004" >/dev/null'
    orphan=$(pgrep -f "^$SLEEP 1004" | head -n 1)
    # tend is a child subreaper: the orphan's parent is tend, not init
    [ "$(awk '/^PPid:/ {print $2}' /proc/"$orphan"/status)" = "$TEND_PID" ]
    # the short-lived orphans are gone and none is left as a zombie
    wait_for 20 eval '! pgrep -f "$SLEEP 0.2" >/dev/null'
    kill -TERM "$orphan"
    wait_for 20 eval '! kill -0 "$orphan" 2>/dev/null'
    # a child can be seen as a zombie for the instant between its exit and tend's reaping;
    # none may stay one
    wait_for 20 eval '[ "$(ps -o stat= --ppid $TEND_PID | grep -c Z)" = 0 ]'
}

@test "a child's open fds are exactly 0, 1 and 2; stdin is /dev/null" {
    cfg=$(write_config <<EOF2
[program:fds]
command = $SLEEP 1000
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 20 eval 'pgrep -f "$SLEEP" >/dev/null'
    pid=$(pid_of "$SLEEP")
    run ls /proc/"$pid"/fd
    [ "$output" = "$(printf '0\n1\n2')" ]
    [ "$(readlink /proc/"$pid"/fd/0)" = /dev/null ]
    [[ "$(readlink /proc/"$pid"/fd/1)" == pipe:* ]]
    # its own process group, with no signal blocked or ignored
    [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ]
    grep -q '^SigBlk:[[:space:]]*0*$' /proc/"$pid"/status
    grep -q '^SigIgn:[[:space:]]*0*$' /proc/"$pid"/status
}

@test "tend keeps only its read end of each child's pipe, however many programs it spawned" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:many]
command = $SLEEP 1000
numprocs = 6
process_name = many_%(process_num)d
startsecs = 0
[program:joined]
command = $SLEEP 1001
redirect_stderr = true
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_for 20 eval '[ "$(pgrep -f "^$SLEEP 100[01]" | wc -l)" -eq 7 ]'
    for pid in $(pgrep -f "^$SLEEP 100[01]"); do
        run ls /proc/"$pid"/fd
        [ "$output" = "$(printf '0\n1\n2')" ]
        for fd in 1 2; do
            pipe=$(readlink /proc/"$pid"/fd/$fd)
            [[ "$pipe" == pipe:* ]]
            # in tend: the one read end, never a write end that would hide the child's EOF
            held=$(for f in /proc/"$TEND_PID"/fd/*; do if [ "$(readlink "$f")" = "$pipe" ]; then echo "${f##*/}"; fi; done)
            [ "$(echo "$held" | wc -w)" -eq 1 ]
            [ $((0$(awk '/^flags:/ {print $2}' /proc/"$TEND_PID"/fdinfo/"$held") & 3)) -eq 0 ]
        done
    done
    joined=$(pid_of "$SLEEP 1001")
    [ "$(readlink /proc/"$joined"/fd/1)" = "$(readlink /proc/"$joined"/fd/2)" ]
    # the ends are really gone from tend: a child's exit is seen as EOF, and it restarts
    old=$(field many_3 pid)
    kill -TERM "$old"
    wait_for 20 eval '[ "$(field many_3 pid)" != "$old" ] && [ "$(field many_3 state)" = RUNNING ]'
}

@test "environment, env_file, directory, umask and stdin = file: reach the child" {
    mkdir -p "$BATS_TEST_TMPDIR/work"
    printf '# secrets\nFROM_FILE=file value\nexport QUOTED="q v"\n' >"$BATS_TEST_TMPDIR/env"
    printf 'line from stdin\n' >"$BATS_TEST_TMPDIR/input"
    cfg=$(write_config <<EOF2
[tend]
environment = GLOBAL_VAR="g"
[program:envy]
command = sh -c 'echo "\$GLOBAL_VAR|\$FROM_FILE|\$QUOTED|\$PROG_VAR|\$TEND_PROCESS_NAME|\$(pwd)|\$(umask)"; read l; echo "got \$l"; exec $SLEEP 1000'
environment = PROG_VAR="p,v"
env_file = $BATS_TEST_TMPDIR/env
directory = $BATS_TEST_TMPDIR/work
umask = 027
stdin = file:$BATS_TEST_TMPDIR/input
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 20 out_has "got line from stdin"
    out_has "envy | g|file value|q v|p,v|envy|$BATS_TEST_TMPDIR/work|0027"
}

@test "an exec failure is reported with the command and errno, then FATAL" {
    cfg=$(write_config <<EOF2
[program:web]
command = /usr/bin/nod-does-not-exist server.js
startretries = 1
[program:notexec]
command = $BATS_TEST_TMPDIR/plain-file
startretries = 0
EOF2
)
    : >"$BATS_TEST_TMPDIR/plain-file"
    start_tend "$cfg"
    wait_log "web: cannot execute /usr/bin/nod-does-not-exist: No such file or directory"
    wait_log "notexec: cannot execute $BATS_TEST_TMPDIR/plain-file: Permission denied"
    wait_log "web: cannot execute /usr/bin/nod-does-not-exist: No such file or directory; giving up after 2 attempts (FATAL)" 30
    kill -0 "$TEND_PID"
}

@test "foreground output is prefixed with the padded process name" {
    cfg=$(write_config <<EOF2
[program:alpha]
command = sh -c 'echo hello from alpha; printf "partial"; $SLEEP 0.1; printf " line\n"; exec $SLEEP 1000'
startsecs = 0
[program:b]
command = sh -c 'echo hi >&2; exec $SLEEP 1000'
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 20 out_has "alpha | partial line"
    wait_for 20 out_has "b     | hi"
    out_has "alpha | hello from alpha"
    # no colour codes when stdout is not a terminal
    ! grep -q $'\033' "$BATS_TEST_TMPDIR/tend.out"
}

@test "log files are written, rotated to file, .1, .2 and no .3, and reopened on SIGUSR2" {
    log="$BATS_TEST_TMPDIR/logs/chatty.log"
    mkdir -p "$BATS_TEST_TMPDIR/logs"
    cfg=$(write_config <<EOF2
[program:chatty]
command = sh -c 'i=0; while [ \$i -lt 200 ]; do echo "line \$i of chatty output"; i=\$((i+1)); done; echo done; trap "echo ping" USR1; while :; do $SLEEP 0.1; done'
stdout_logfile = $log
stdout_logfile_maxbytes = 1KB
stdout_logfile_backups = 2
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 20 grep -q '^done$' "$log"
    [ -f "$log.1" ]
    [ -f "$log.2" ]
    [ ! -e "$log.3" ]
    [ "$(stat -c %s "$log.1")" -eq 1024 ]
    [ "$(stat -c %s "$log.2")" -eq 1024 ]
    # nothing went to the console: the program has a log file
    ! out_has "line 1 of chatty"
    # logrotate-style: move the file away, SIGUSR2, new lines land in a new file
    mv "$log" "$log.moved"
    kill -USR2 "$TEND_PID"
    wait_log "reopening log files"
    pkill -USR1 -f "sh -c i=0" || pkill -USR1 -f "chatty output"
    wait_for 20 grep -q '^ping$' "$log"
    ! grep -q ping "$log.moved"
}

@test "redirect_stderr sends stderr into the stdout log; AUTO logs land in childlogdir" {
    mkdir -p "$BATS_TEST_TMPDIR/children"
    cfg=$(write_config <<EOF2
[tend]
childlogdir = $BATS_TEST_TMPDIR/children
[program:mixed]
command = sh -c 'echo out; echo err >&2; exec $SLEEP 1000'
redirect_stderr = true
startsecs = 0
[program:split]
command = sh -c 'echo out; echo err >&2; exec $SLEEP 1000'
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 20 grep -q err "$BATS_TEST_TMPDIR/children/mixed-stdout.log"
    grep -q out "$BATS_TEST_TMPDIR/children/mixed-stdout.log"
    [ ! -e "$BATS_TEST_TMPDIR/children/mixed-stderr.log" ]
    wait_for 20 grep -q err "$BATS_TEST_TMPDIR/children/split-stderr.log"
    wait_for 20 grep -q out "$BATS_TEST_TMPDIR/children/split-stdout.log"
    ! grep -q err "$BATS_TEST_TMPDIR/children/split-stdout.log"
}

@test "numprocs starts one process per instance with expanded names" {
    cfg=$(write_config <<EOF2
[program:worker]
command = sh -c 'echo "I am %(process_num)d"; exec $SLEEP 1000'
process_name = %(program_name)s_%(process_num)02d
numprocs = 3
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 20 count_children 3
    wait_for 20 out_has "worker_02 | I am 2"
    out_has "worker_00 | I am 0"
}

@test "user = nobody runs the child as nobody (root only); non-root tend refuses another user" {
    if [ "$(id -u)" -ne 0 ]; then
        cfg=$(write_config <<EOF2
[program:asroot]
command = $SLEEP 1000
user = root
startretries = 0
EOF2
)
        start_tend "$cfg"
        wait_log "cannot run as user root: tend is not running as root"
        return 0
    fi
    # nobody cannot reach BATS_TEST_TMPDIR: run the real sleep with a duration unique to the test
    mark="1000.$$$BATS_TEST_NUMBER"
    cfg=$(write_config <<EOF2
[program:nob]
command = $(command -v sleep) $mark
user = nobody
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 20 eval 'pgrep -f "sleep $mark" >/dev/null'
    pid=$(pid_of "sleep $mark")
    nobody_uid=$(id -u nobody)
    nobody_gid=$(id -g nobody)
    grep -q "^Uid:[[:space:]]*$nobody_uid[[:space:]]*$nobody_uid[[:space:]]*$nobody_uid" /proc/"$pid"/status
    grep -q "^Gid:[[:space:]]*$nobody_gid[[:space:]]*$nobody_gid" /proc/"$pid"/status
    tr '\0' '\n' </proc/"$pid"/environ | grep -qx "USER=nobody"
}

@test "1,000 programs in one file start, run and stop" {
    {
        for i in $(seq 1 1000); do
            printf '[program:p%d]\ncommand = %s 1000\nstartsecs = 0\n' "$i" "$SLEEP"
        done
    } >"$BATS_TEST_TMPDIR/many.ini"
    start_tend "$BATS_TEST_TMPDIR/many.ini"
    wait_for 120 count_children 1000
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
    run pgrep -f "$SLEEP"
    [ "$status" -eq 1 ]
}

@test "SIGHUP is logged and changes nothing; tend keeps running" {
    cfg=$(write_config <<EOF2
[program:a]
command = $SLEEP 1000
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 20 count_children 1
    pid=$(pid_of "$SLEEP")
    kill -HUP "$TEND_PID"
    wait_log "received SIGHUP"
    [ "$(pid_of "$SLEEP")" = "$pid" ]
}

@test "a bad configuration stops up before anything starts (78)" {
    cfg=$(write_config <<'EOF2'
[program:a]
command = /bin/true
startsecs = never
EOF2
)
    run "$TEND" -c "$cfg" up
    [ "$status" -eq 78 ]
    [[ "$output" == *"startsecs: invalid duration"* ]]
}
