#!/usr/bin/env bats
# `tend up -d`, the control socket and the CLI verbs: status, start, stop, restart, signal, pid,
# wait, logs, reload, down — against a real daemon, with real processes.

load helpers

setup() {
    use_tend_fixture
}

teardown() {
    teardown_tend
}

# demo_config: three programs, two in a group, and a manual one
demo_config() {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
pidfile = $PIDFILE
[group:svc]
programs = api, worker
[program:api]
command = sh -c 'echo api says hello; exec $SLEEP 1001'
startsecs = 0
[program:worker]
command = $SLEEP 1002
startsecs = 0
[program:solo]
command = sh -c 'trap "echo got usr1" USR1; echo solo ready; while :; do $SLEEP 0.1; done'
startsecs = 0
[program:manual]
command = $SLEEP 1003
autostart = false
startsecs = 0
[program:quitter]
command = sh -c 'exit 3'
autostart = false
startsecs = 1
startretries = 0
EOF2
)
}

daemon_pid() {
    cat "$PIDFILE"
}

@test "up -d returns once the socket answers; status works at once" {
    demo_config
    run tend_ up -d
    assert_status 0
    [ -S "$SOCK" ]
    run tend_ status
    assert_status 0
    assert_output_contains "api"
    assert_output_contains "manual"
}

@test "the daemon is detached: not the launcher's child, not a session leader, fds 0-2 on /dev/null" {
    demo_config
    start_daemon
    pid=$(daemon_pid)
    [ "$(tend_ pid)" = "$pid" ]
    ppid=$(awk '/^PPid:/ {print $2}' /proc/"$pid"/status)
    [ "$ppid" != "$$" ]
    sid=$(ps -o sid= -p "$pid" | tr -d ' ')
    [ "$sid" != "$pid" ]
    for fd in 0 1 2; do
        [ "$(readlink /proc/"$pid"/fd/$fd)" = /dev/null ]
    done
    [ "$(readlink /proc/"$pid"/cwd)" = / ]
    # no controlling terminal
    [ "$(ps -o tty= -p "$pid" | tr -d ' ')" = "?" ]
}

@test "the pid file holds the daemon's pid and is removed on exit; the socket too" {
    demo_config
    start_daemon
    pid=$(daemon_pid)
    kill -0 "$pid"
    run tend_ down
    assert_status 0
    ! kill -0 "$pid" 2>/dev/null
    [ ! -e "$PIDFILE" ]
    [ ! -e "$SOCK" ]
    run pgrep -f "$SLEEP"
    [ "$status" -eq 1 ]
}

@test "a second instance is refused with 'already running (pid N)' and exit 1" {
    demo_config
    start_daemon
    pid=$(daemon_pid)
    run tend_ up -d
    assert_status 1
    assert_output_contains "already running (pid $pid)"
    run tend_ up
    assert_status 1
    assert_output_contains "already running (pid $pid)"
}

@test "a stale pid file and socket of a killed tend are taken over" {
    demo_config
    start_daemon
    old=$(daemon_pid)
    kill -KILL "$old"
    wait_for 10 eval '! kill -0 "$old" 2>/dev/null'
    [ -e "$PIDFILE" ]
    [ -e "$SOCK" ]
    pkill -KILL -f -- "$SLEEP" || true
    run tend_ up -d
    assert_status 0
    [ "$(daemon_pid)" != "$old" ]
    run tend_ status api
    assert_status 0
}

@test "status --json has the documented fields" {
    demo_config
    start_daemon
    run --separate-stderr tend_ status --json
    assert_status 0
    jq -e . <<<"$output" >/dev/null
    for f in name group state pid exit_code signal restarts started_at uptime_s; do
        jq -e "all(.[]; has(\"$f\"))" <<<"$output" >/dev/null
    done
    [ "$(jq -r '.[] | select(.name == "api") | .group' <<<"$output")" = svc ]
    [ "$(jq -r '.[] | select(.name == "api") | .state' <<<"$output")" = RUNNING ]
    [ "$(jq -r '.[] | select(.name == "manual") | .state' <<<"$output")" = STOPPED ]
    [ "$(jq -r '.[] | select(.name == "manual") | .pid' <<<"$output")" = null ]
    apipid=$(jq -r '.[] | select(.name == "api") | .pid' <<<"$output")
    [ "$apipid" = "$(tend_ pid api)" ]
}

@test "status NAME exits 0 only when every named process is RUNNING; unknown names exit 1" {
    demo_config
    start_daemon
    run tend_ status api worker
    assert_status 0
    run tend_ status api manual
    assert_status 1
    run --separate-stderr tend_ status nosuch
    assert_status 1
    [ -z "$output" ] # no table header for a table of nothing
    [ "$stderr" = "tend: no such process: nosuch" ]
    run --separate-stderr tend_ status api nosuch
    assert_status 1
    [[ "$output" == NAME*api* ]]
    [ "$stderr" = "tend: no such process: nosuch" ]
    run tend_ status 'svc:*'
    assert_status 0
    assert_output_contains "api"
    assert_output_contains "worker"
    [[ "$output" != *"solo"* ]]
}

@test "start and stop wait for the state and report it; all and GROUP:* work" {
    demo_config
    start_daemon
    run tend_ start manual
    assert_status 0
    assert_output_contains "manual: RUNNING"
    pgrep -f "$SLEEP 1003" >/dev/null
    run tend_ stop 'svc:*'
    assert_status 0
    assert_output_contains "api: stopped"
    assert_output_contains "worker: stopped"
    ! pgrep -f "$SLEEP 1002" >/dev/null
    state_is worker STOPPED
    run tend_ start all
    assert_status 1
    assert_output_contains "quitter"
    state_is worker RUNNING
    run tend_ stop all
    assert_status 0
    run pgrep -f "$SLEEP"
    [ "$status" -eq 1 ]
}

@test "start of a program that exits too quickly fails with the reason" {
    demo_config
    start_daemon
    run tend_ start quitter
    assert_status 1
    assert_output_contains "quitter: not started: exited too quickly: exited with status 3"
    state_is quitter FATAL
}

@test "start --no-wait returns at once; stop of a stopped process is fine" {
    demo_config
    start_daemon
    run tend_ start --no-wait manual
    assert_status 0
    wait_state manual RUNNING
    tend_ stop manual
    run tend_ stop manual
    assert_status 0
}

@test "restart gives a new pid" {
    demo_config
    start_daemon
    old=$(tend_ pid worker)
    run tend_ restart worker
    assert_status 0
    new=$(tend_ pid worker)
    [ "$new" != "$old" ]
    ! kill -0 "$old" 2>/dev/null
}

@test "signal delivers to the process; a stopped one is an error" {
    demo_config
    start_daemon
    wait_for 10 eval 'tend_ logs solo | grep -q "solo ready"'
    run tend_ signal USR1 solo
    assert_status 0
    wait_for 10 eval 'tend_ logs solo | grep -q "got usr1"'
    run tend_ signal TERM manual
    assert_status 1
    run tend_ signal NOSUCHSIG solo
    assert_status 2
}

@test "pid prints tend's pid, or a process's" {
    demo_config
    start_daemon
    [ "$(tend_ pid)" = "$(daemon_pid)" ]
    [ "$(tend_ pid worker)" = "$(pgrep -f "$SLEEP 1002")" ]
    run tend_ pid manual
    assert_status 1
}

@test "wait blocks until the process exits and exits with its status" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
pidfile = $PIDFILE
[program:job]
command = sh -c 'while [ ! -e "$BATS_TEST_TMPDIR/go" ]; do $SLEEP 0.05; done; exit 7'
startsecs = 0
autorestart = false
EOF2
)
    start_daemon
    tend_ wait job >"$BATS_TEST_TMPDIR/wait.out" 2>&1 3>&- &
    waiter=$!
    # still waiting while the job runs
    ! wait_for 1 eval '! kill -0 $waiter 2>/dev/null' 2>/dev/null
    touch "$BATS_TEST_TMPDIR/go"
    rc=0
    wait "$waiter" || rc=$?
    [ "$rc" -eq 7 ]
    grep -q "job: exited with status 7" "$BATS_TEST_TMPDIR/wait.out"
    # the exit is remembered
    run tend_ wait job
    assert_status 7
}

@test "logs prints recent output; -n limits it; --stderr; -f follows" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
pidfile = $PIDFILE
[program:talker]
command = sh -c 'for i in 1 2 3 4 5; do echo "line \$i"; done; echo oops >&2; while [ ! -e "$BATS_TEST_TMPDIR/more" ]; do $SLEEP 0.05; done; echo "later line"; exec $SLEEP 1000'
startsecs = 0
EOF2
)
    start_daemon
    wait_for 10 eval 'tend_ logs talker | grep -q "line 5"'
    run tend_ logs talker -n 2
    assert_status 0
    [ "$output" = "$(printf 'line 4\nline 5')" ]
    run tend_ logs talker --stderr
    [ "$output" = oops ]
    tend_ logs talker -f -n 1 >"$BATS_TEST_TMPDIR/follow.out" 3>&- &
    follower=$!
    wait_for 10 grep -q "line 5" "$BATS_TEST_TMPDIR/follow.out"
    touch "$BATS_TEST_TMPDIR/more"
    wait_for 10 grep -q "later line" "$BATS_TEST_TMPDIR/follow.out"
    kill "$follower"
    wait "$follower" || true
    run tend_ logs nosuch
    assert_status 1
}

@test "logs of a program with a log file read the file" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
pidfile = $PIDFILE
[program:filed]
command = sh -c 'echo into the file; exec $SLEEP 1000'
stdout_logfile = $BATS_TEST_TMPDIR/filed.log
startsecs = 0
EOF2
)
    start_daemon
    wait_for 10 grep -q "into the file" "$BATS_TEST_TMPDIR/filed.log"
    run tend_ logs filed
    assert_status 0
    [ "$output" = "into the file" ]
}

@test "reload applies the three-way difference; unchanged pids are kept" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
pidfile = $PIDFILE
[program:keep]
command = $SLEEP 1001
startsecs = 0
[program:change]
command = $SLEEP 1002
startsecs = 0
[program:remove]
command = $SLEEP 1003
startsecs = 0
EOF2
)
    start_daemon
    keep=$(tend_ pid keep)
    change=$(tend_ pid change)
    cat >"$CFG" <<EOF2
[tend]
socket = $SOCK
pidfile = $PIDFILE
[program:keep]
command = $SLEEP 1001
startsecs = 0
[program:change]
command = $SLEEP 1012
startsecs = 0
[program:add]
command = $SLEEP 1004
startsecs = 0
EOF2
    run tend_ reload --dry-run
    assert_status 0
    assert_output_contains "dry run"
    assert_output_contains "+ add"
    [ "$(tend_ pid change)" = "$change" ]
    ! pgrep -f "$SLEEP 1004" >/dev/null
    run tend_ reload
    assert_status 0
    assert_output_contains "1 added, 1 changed, 1 removed, 1 unchanged"
    assert_output_contains "= keep"
    assert_output_contains "~ change: changed (command)"
    assert_output_contains "- remove"
    [ "$(tend_ pid keep)" = "$keep" ]
    wait_for 10 eval 'pgrep -f "$SLEEP 1012" >/dev/null'
    wait_for 10 eval 'pgrep -f "$SLEEP 1004" >/dev/null'
    wait_for 10 eval '! pgrep -f "$SLEEP 1003" >/dev/null'
    ! pgrep -f "$SLEEP 1002" >/dev/null
    run tend_ status remove
    assert_status 1
    run tend_ status keep change add
    assert_status 0
}

@test "a broken file is rejected whole by reload: nothing changes" {
    demo_config
    start_daemon
    api=$(tend_ pid api)
    cp "$CFG" "$CFG.good"
    printf '[program:api]\ncommand = /bin/true\n[program:extra]\ncommand = /bin/true\nstartsecs = soon\n' >>"$CFG"
    run tend_ reload
    [ "$status" -ne 0 ]
    assert_output_contains "startsecs: invalid duration"
    assert_output_contains "nothing changed"
    [ "$(tend_ pid api)" = "$api" ]
    run tend_ status extra
    assert_status 1
}

@test "SIGHUP reloads like the reload verb" {
    demo_config
    start_daemon
    printf '[program:hupadded]\ncommand = %s 1009\nstartsecs = 0\n' "$SLEEP" >>"$CFG"
    kill -HUP "$(daemon_pid)"
    wait_for 10 eval 'pgrep -f "$SLEEP 1009" >/dev/null'
}

@test "exit status 3 names the socket when no supervisor answers; 2 on misuse" {
    demo_config
    run tend_ status
    assert_status 3
    assert_output_contains "$SOCK"
    run tend_ start
    assert_status 2
    run tend_ wait a b
    assert_status 2
    run tend_ logs x --bogus
    assert_status 2
}

@test "a client finds the socket past 3,000 programs, brackets in their values and includes, and names exact lines" {
    {
        for i in $(seq 1 3000); do
            printf '[program:p%d]\ncommand = echo [x] %d\n  [indented continuation\nenvironment = A="[not a header"\nautostart = false\n' "$i" "$i"
        done
        printf '[program:last] ; a comment\ncommand = true\n[include]\nfiles = more.ini\n'
    } >"$BATS_TEST_TMPDIR/big.ini"
    printf '[program:more]\ncommand = true\n[tend]\nsocket = %s\n' "$SOCK" >"$BATS_TEST_TMPDIR/more.ini"
    CFG=$BATS_TEST_TMPDIR/big.ini
    # the [tend] of the included file names the socket: nobody answers there yet (exit 3)
    run tend_ status p1
    assert_status 3
    assert_output_contains "$SOCK"
    # an error in a needed section still names its file and exact line
    printf '[program:bad]\ncommand = true\n[tend]\nsocket = %s\nnot_an_option = 1\n' "$SOCK" >>"$BATS_TEST_TMPDIR/big.ini"
    line=$(grep -n '^not_an_option' "$BATS_TEST_TMPDIR/big.ini" | cut -d: -f1)
    run tend_ status p1
    assert_output_contains "big.ini:$line: [tend] not_an_option: unknown option"
    run tend_ check
    assert_output_contains "big.ini:$line: [tend] not_an_option: unknown option"
    # and the supervisor reached that way answers for the last program
    sed -i '$d' "$BATS_TEST_TMPDIR/big.ini"
    "$TEND" -c "$CFG" up -d
    wait_for 60 eval 'tend_ pid >/dev/null'
    run tend_ status p3000
    assert_output_contains "p3000"
    assert_output_contains "STOPPED"
}

@test "a malformed header among the sections a client skips is still an error at its line" {
    {
        for i in $(seq 1 200); do printf '[program:p%d]\ncommand = true\n' "$i"; done
        printf '[program:broken\ncommand = true\n[tend]\nsocket = %s\n' "$SOCK"
    } >"$BATS_TEST_TMPDIR/bad.ini"
    CFG=$BATS_TEST_TMPDIR/bad.ini
    line=$(grep -n '^\[program:broken$' "$CFG" | cut -d: -f1)
    run tend_ status
    assert_status 78
    assert_output_contains "bad.ini:$line: section header must be [name]"
    run tend_ check
    assert_output_contains "bad.ini:$line: section header must be [name]"
}

@test "garbage, half requests, huge lines and a flood of clients leave tend answering" {
    demo_config
    start_daemon
    python3 - "$SOCK" <<'PY'
import socket, sys
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s
# garbage: an error reply, not a crash
s = conn(); s.sendall(b"\x00\xff\xfe garbage\n"); data = s.recv(4096); s.close()
assert data.startswith(b"2 "), data
# unknown verb
s = conn(); s.sendall(b"frobnicate\tx\n"); assert s.recv(4096).startswith(b"2 "); s.close()
# a huge line without newline: an error reply and a closed connection
s = conn()
try:
    s.sendall(b"x" * (70 * 1024))
except OSError:
    pass
data = s.recv(4096); s.close()
assert data.startswith(b"2 "), data
# half a request left hanging, and hundreds of idle clients at once
idle = [conn() for _ in range(300)]
for c in idle[:100]:
    c.sendall(b"stat")
# tend still answers a real request meanwhile
s = conn(); s.sendall(b"status\n"); reply = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    reply += chunk
assert reply.startswith(b"0 0\n"), reply[:100]
assert b"api" in reply
for c in idle:
    c.close()
PY
    run tend_ status api
    assert_status 0
}

@test "the control socket is owner-only and refuses another uid" {
    [ "$(id -u)" -eq 0 ] || skip "needs root to run a client as nobody"
    command -v setpriv >/dev/null || skip "setpriv not installed"
    demo_config
    start_daemon
    [ "$(stat -c %a "$SOCK")" = 600 ]
    # even with the directory opened up, another uid cannot talk to it
    chmod 755 "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR/run" "$(dirname "$BATS_TEST_TMPDIR")" || true
    chmod 666 "$SOCK"
    run setpriv --reuid nobody --regid nogroup --clear-groups env TEND_SOCKET="$SOCK" "$TEND" status
    [ "$status" -ne 0 ]
    [[ "$output" == *"permission denied"* || "$output" == *"Permission denied"* ]]
    run tend_ status api
    assert_status 0
}

@test "down stops every process, returns when tend has exited" {
    demo_config
    start_daemon
    pid=$(daemon_pid)
    run tend_ down
    assert_status 0
    ! kill -0 "$pid" 2>/dev/null
    run pgrep -f "$SLEEP"
    [ "$status" -eq 1 ]
}

@test "a foreground tend up answers the control verbs too" {
    demo_config
    start_tend "$CFG"
    wait_answers 10 api
    run tend_ status api
    assert_status 0
    run tend_ down
    assert_status 0
    wait "$TEND_PID"
    TEND_PID=
}
