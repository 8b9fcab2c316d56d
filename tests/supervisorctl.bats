#!/usr/bin/env bats
# Debian's real supervisorctl against tend, on a supervisord file: every command that Ansible,
# Salt and people type. The expected outputs were recorded from supervisord 4.2.5 running the
# same file (pids, uptimes and dates masked).

load helpers

setup() {
    command -v supervisorctl >/dev/null || skip "supervisorctl (Debian's supervisor) not installed"
    M=$(marker)
    SLEEP="$BATS_TEST_TMPDIR/$M-sleep"
    ln -s "$(command -v sleep)" "$SLEEP"
    D="$BATS_TEST_TMPDIR"
    CFG=$(write_config supervisord.conf <<EOF2
[unix_http_server]
file = $D/sv.sock

[supervisord]
logfile = $D/main.log

[supervisorctl]
serverurl = unix://$D/sv.sock

[program:web]
command = /bin/sh -c 'echo hello from web; trap "echo got usr1" USR1; while :; do $SLEEP 0.1; done'
stdout_logfile = $D/web.log
stderr_logfile = $D/web.err

[program:worker]
command = $SLEEP 1000
numprocs = 2
process_name = %(program_name)s_%(process_num)d
stdout_logfile = NONE

[program:once]
command = /bin/true
autostart = false
startsecs = 0
autorestart = false

[program:crash]
command = /bin/false
autostart = false
startretries = 1

[program:missing]
command = /nonexistent/prog
autostart = false
EOF2
)
}

teardown() {
    kill_tend_and_marked "$M"
}

ctl() {
    timeout 60 supervisorctl -c "$CFG" "$@"
}

crash_is_fatal() {
    ctl status crash | grep -q FATAL
}

# masks what differs from run to run: pids, uptimes, dates
mask() {
    sed -E -e 's/pid [0-9]+, uptime [0-9:]+/pid P, uptime T/' \
        -e 's/[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2} [AP]M/DATE/'
}

up_and_running() {
    start_tend "$CFG"
    wait_for 20 test -S "$D/sv.sock"
    wait_for 20 sh -c "timeout 60 supervisorctl -c '$CFG' status web | grep -q RUNNING"
    wait_for 20 sh -c "timeout 60 supervisorctl -c '$CFG' status worker:worker_1 | grep -q RUNNING"
}

@test "supervisorctl status, start, stop, restart, signal: the outputs and exit codes of supervisord" {
    up_and_running
    run ctl status
    assert_status 3
    [ "$(echo "$output" | mask)" = "$(cat <<'EOF2'
crash                            STOPPED   Not started
missing                          STOPPED   Not started
once                             STOPPED   Not started
web                              RUNNING   pid P, uptime T
worker:worker_0                  RUNNING   pid P, uptime T
worker:worker_1                  RUNNING   pid P, uptime T
EOF2
)" ]
    run ctl stop web
    assert_status 0
    [ "$output" = "web: stopped" ]
    run ctl stop web
    [ "$output" = "web: ERROR (not running)" ]
    run ctl start web
    assert_status 0
    [ "$output" = "web: started" ]
    run ctl start web
    [ "$output" = "web: ERROR (already started)" ]
    run ctl start nosuch
    assert_status 1
    [ "$output" = "nosuch: ERROR (no such process)" ]
    run ctl stop 'worker:*'
    assert_status 0
    [[ "$output" == *"worker:worker_0: stopped"* && "$output" == *"worker:worker_1: stopped"* ]]
    ! pgrep -f -- "$SLEEP 1000"
    run ctl start 'worker:*'
    [ "$output" = "$(printf 'worker:worker_0: started\nworker:worker_1: started')" ]
    [ "$(pgrep -f -- "$SLEEP 1000" | wc -l)" -eq 2 ]
    run ctl start once
    [ "$output" = "once: started" ]
    run ctl start crash
    assert_status 7
    [ "$output" = "crash: ERROR (spawn error)" ]
    run ctl start missing
    assert_status 1
    [ "$output" = "missing: ERROR (no such file)" ]
    # the answer came at the first failure (BACKOFF); FATAL follows after the one retry
    wait_for 30 crash_is_fatal
    run ctl status crash missing once
    assert_status 3
    [ "$(echo "$output" | mask)" = "$(cat <<'EOF2'
crash                            FATAL     Exited too quickly (process log may have details)
missing                          STOPPED   Not started
once                             EXITED    DATE
EOF2
)" ]
    # restart is stop then start: a new pid
    old=$(ctl pid web)
    run ctl restart web
    [ "$output" = "$(printf 'web: stopped\nweb: started')" ]
    new=$(ctl pid web)
    [ "$new" -gt 0 ] && [ "$new" != "$old" ] && kill -0 "$new"
    # signal reaches the program
    run ctl signal USR1 web
    assert_status 0
    [ "$output" = "web: signalled" ]
    wait_for 20 grep -q "got usr1" "$D/web.log"
    run ctl signal USR1 once
    assert_status 7
    [ "$output" = "once: ERROR (not running)" ]
    run ctl signal BOGUS web
    assert_status 1
    [ "$output" = "web: ERROR (bad signal name)" ]
    # pid: tend's own, a program's, errors
    run ctl pid
    [ "$output" = "$TEND_PID" ]
    run ctl pid nosuch
    assert_status 1
    [ "$output" = "No such process nosuch" ]
    run ctl stop nosuch
    [ "$output" = "nosuch: ERROR (no such process)" ]
    # tend's own control socket keeps working beside it, on the same path
    run "$TEND" -c "$CFG" pid web
    assert_status 0
    [ "$output" = "$new" ]
}

@test "supervisorctl tail, tail -f, clear, maintail and avail" {
    up_and_running
    run ctl tail web
    assert_status 0
    [[ "$output" == "hello from web"* ]]
    run ctl tail web stderr
    assert_status 0
    [ -z "$output" ]
    run ctl tail worker:worker_0
    assert_status 1
    [ "$output" = "worker:worker_0: ERROR (no log file)" ]
    # tail -f streams what the program writes from now on
    timeout 60 supervisorctl -c "$CFG" tail -f web >"$D/follow.out" 2>&1 3>&- &
    follower=$!
    wait_for 20 grep -q "hello from web" "$D/follow.out"
    ctl signal USR1 web
    wait_for 20 grep -q "got usr1" "$D/follow.out"
    kill "$follower"
    wait "$follower" || true
    # maintail -f streams tend's own log
    timeout 60 supervisorctl -c "$CFG" maintail -f >"$D/mainfollow.out" 2>&1 3>&- &
    follower=$!
    wait_for 20 grep -q "==> Press Ctrl-C to exit <==" "$D/mainfollow.out"
    ctl stop worker:worker_0
    wait_for 20 grep -q "worker_0 (pid [0-9]*) stopping" "$D/mainfollow.out"
    kill "$follower"
    wait "$follower" || true
    run ctl maintail
    assert_output_contains "stopping with TERM"
    run ctl clear web
    [ "$output" = "web: cleared" ]
    [ ! -s "$D/web.log" ] || ! grep -q "hello from web" "$D/web.log"
    run ctl avail
    [ "$output" = "$(cat <<'EOF2'
crash                            in use    manual    999:999
missing                          in use    manual    999:999
once                             in use    manual    999:999
web                              in use    auto      999:999
worker:worker_0                  in use    auto      999:999
worker:worker_1                  in use    auto      999:999
EOF2
)" ]
}

@test "supervisorctl reread and update add, change and remove groups" {
    up_and_running
    run ctl reread
    [ "$output" = "No config updates to processes" ]
    ctl start once
    old_web=$(ctl pid web)
    sed -i -e 's/^\[program:once\]/[program:newprog]/' -e "s|^command = /bin/true|command = $SLEEP 500|" \
        -e "s|$SLEEP 1000|$SLEEP 1001|" "$CFG"
    run ctl reread
    [ "$output" = "$(printf 'newprog: available\nonce: disappeared\nworker: changed')" ]
    run ctl avail
    [[ "$output" == *"newprog                          avail     manual    999:999"* ]]
    run ctl update
    assert_status 0
    [ "$output" = "$(cat <<'EOF2'
once: stopped
once: removed process group
worker: stopped
worker: updated process group
newprog: added process group
EOF2
)" ]
    run ctl status once
    assert_output_contains "no such process"
    [ "$(ctl pid web)" = "$old_web" ]
    wait_for 20 sh -c "[ \$(pgrep -f -- '$SLEEP 100[1]' | wc -l) -eq 2 ]"
    ! pgrep -f -- "$SLEEP 1000"
    run ctl update
    assert_status 0
    [ -z "$output" ]
}

@test "supervisorctl shutdown stops every program and tend exits" {
    up_and_running
    web=$(ctl pid web)
    run ctl shutdown
    assert_status 0
    [ "$output" = "Shut down" ]
    wait_for 30 sh -c "! kill -0 $TEND_PID 2>/dev/null"
    ! kill -0 "$web" 2>/dev/null
    ! pgrep -f -- "$SLEEP"
    run ctl status
    assert_status 4
    [ "$output" = "unix://$D/sv.sock no such file" ]
}
