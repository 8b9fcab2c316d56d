#!/usr/bin/env bats
# Readiness has its own deadline, ready_timeout (default 90 s), independent of startsecs: a
# program that takes longer than startsecs to become ready is waited for, its dependents start
# once, after it, and one that never becomes ready is stopped as a failed start when
# ready_timeout runs out.

load helpers

setup() {
    use_tend_fixture
    T="$BATS_TEST_TMPDIR"
    TEND_CLIENT_TIMEOUT=30
}

teardown() {
    teardown_tend
}

@test "a probe that turns true after 3 s (longer than startsecs) gates its dependent, which starts once, after it" {
    # only ready = : startsecs keeps its default of 1 s, ready_timeout its default of 90 s
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:db]
command = sh -c '$SLEEP 3; touch "$T/db.ready"; exec $SLEEP 1000'
ready = exec:test -f $T/db.ready
[program:app]
depends_on = db
command = sh -c 'if [ -e "$T/db.ready" ]; then echo after >>"$T/app.starts"; else echo before >>"$T/app.starts"; fi; exec $SLEEP 1001'
EOF2
)
    start_tend "$CFG"
    wait_log "db (pid" 20
    db_pid=$(field db pid)
    wait_for 30 state_is app RUNNING
    # db was waited for, not killed at startsecs: the same process, never restarted
    [ "$(field db state)" = RUNNING ]
    [ "$(field db pid)" = "$db_pid" ]
    [ "$(field db restarts)" = 0 ]
    run ! log_has "not ready within"
    run ! log_has "restart 1/"
    # app started exactly once, after db was ready
    [ "$(cat "$T/app.starts")" = after ]
    [ "$(line_of 'db (pid')" -lt "$(line_of "db (pid $db_pid) is ready (probe command exited 0)")" ]
    [ "$(line_of 'is ready (probe command exited 0)')" -lt "$(line_of 'app (pid')" ]
    [ "$(grep -c 'app (pid [0-9]*) spawned' "$BATS_TEST_TMPDIR/tend.err")" -eq 1 ]
}

@test "ready = notify: READY=1 sent after 2 s gates the dependent" {
    command -v python3 >/dev/null || skip "python3 needed for the sd_notify client"
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:api]
command = python3 -c 'import os, socket, time; time.sleep(2); s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); open("$T/api.ready", "w").close(); s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"]); time.sleep(1000)' $T
ready = notify
[program:web]
depends_on = api
command = sh -c 'if [ -e "$T/api.ready" ]; then echo after >>"$T/web.starts"; else echo before >>"$T/web.starts"; fi; exec $SLEEP 1002'
EOF2
)
    start_tend "$CFG"
    wait_log "api (pid" 20
    api_pid=$(field api pid)
    wait_for 30 state_is web RUNNING
    [ "$(field api pid)" = "$api_pid" ]
    [ "$(field api restarts)" = 0 ]
    [ "$(field api ready)" = true ]
    run ! log_has "not ready within"
    [ "$(line_of "api (pid $api_pid) is ready (READY=1)")" -lt "$(line_of 'web (pid')" ]
    # api.ready exists before READY=1 is sent: a web started before it would not see it
    [ "$(cat "$T/web.starts")" = after ]
    [ "$(grep -c 'web (pid [0-9]*) spawned' "$BATS_TEST_TMPDIR/tend.err")" -eq 1 ]
}

@test "while it waits for readiness: STARTING, 'waiting for readiness N s' in status, and tend check prints the timeout" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:slow]
command = $SLEEP 1003
ready = exec:test -f $T/go
[program:patient]
command = $SLEEP 1004
ready = exec:test -f $T/go
ready_timeout = 0
EOF2
)
    run "$TEND" -c "$CFG" check
    assert_status 0
    # the default (90 s, printed as 1m30s) and the explicit "no limit"
    [ "$(grep -A 40 '^\[program:slow\]' <<<"$output" | grep -m1 '^ready_timeout = ')" = "ready_timeout = 1m30s" ]
    [ "$(grep -A 40 '^\[program:patient\]' <<<"$output" | grep -m1 '^ready_timeout = ')" = "ready_timeout = 0" ]
    run "$TEND" -c "$CFG" check --json
    [ "$(jq -r '.processes[] | select(.name == "slow") | .ready_timeout' <<<"$output")" = 90 ]

    start_tend "$CFG"
    wait_log "patient (pid" 20
    # past the old limit (startsecs, 1 s): still waiting, with the seconds counted
    wait_for 30 eval 'tend_ status patient | grep -Eq "STARTING .*waiting for readiness [2-9] s \(no timeout\)"'
    run tend_ status slow
    [[ "$output" =~ STARTING\ .*waiting\ for\ readiness\ [0-9]+\ s\ \(timeout\ 90s\) ]]
    run tend_ status --json
    [ "$(jq -r '.[] | select(.name == "slow") | .state' <<<"$output")" = STARTING ]
    [ "$(jq -r '.[] | select(.name == "patient") | .ready_wait_s >= 2' <<<"$output")" = true ]
    [ "$(jq -r '.[] | select(.name == "slow") | .ready_timeout_s' <<<"$output")" = 90 ]
    [ "$(jq -r '.[] | select(.name == "patient") | .ready_timeout_s' <<<"$output")" = 0 ]
    [[ "$(jq -r '.[] | select(.name == "slow") | .description' <<<"$output")" == "waiting for readiness "* ]]
    touch "$T/go"
    wait_for 30 state_is slow RUNNING
    wait_for 30 state_is patient RUNNING
    [ "$(field slow ready_wait_s)" = null ]
    [ "$(field slow restarts)" = 0 ]
}

@test "a probe that never passes: stopped after ready_timeout with a clear log line, a failed start, then FATAL" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:never]
command = sh -c 'date +%%s%%N >>$T/starts; trap "date +%%s%%N >>$T/terms; exit 0" TERM; while :; do $SLEEP 0.1; done'
ready = exec:false
ready_timeout = 3s
startretries = 1
backoff_base = 100ms
[program:needs]
depends_on = never
command = $SLEEP 1005
EOF2
)
    start_tend "$CFG"
    wait_log "(FATAL)" 40
    # two attempts (startretries = 1), each stopped with its stopsignal after 3 s
    [ "$(grep -c 'never: not ready within 3s; stopping pid [0-9]* with TERM (a failed start)' "$BATS_TEST_TMPDIR/tend.err")" -eq 2 ]
    log_has "restart 1/1 in 0.1s"
    log_has "giving up after 2 attempts (FATAL)"
    starts=($(cut -c1-13 "$T/starts"))
    terms=($(cut -c1-13 "$T/terms"))
    [ "${#starts[@]}" -eq 2 ]
    [ "${#terms[@]}" -eq 2 ]
    for i in 0 1; do
        # measured from the child's own first `date`, which a loaded machine delays: the bound
        # keeps 1.5 s of slack and still proves the wait was ready_timeout, not startsecs (1 s)
        waited=$((terms[i] - starts[i]))
        [ "$waited" -ge 1500 ] || { echo "attempt $i stopped after $waited ms"; return 1; }
    done
    [ "$(field never state)" = FATAL ]
    [ "$(field never error)" = "not ready within 3s" ]
    # what depends on it does not start
    wait_log "needs: not started: dependency never is FATAL"
    [ "$(field needs state)" = STOPPED ]
}

@test "a process that ignores its stopsignal after ready_timeout is killed after stopwaitsecs" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:stubborn]
command = sh -c 'trap "" TERM; while :; do $SLEEP 0.1; done'
ready = exec:false
ready_timeout = 1s
stopwaitsecs = 1s
startretries = 0
EOF2
)
    start_tend "$CFG"
    wait_log "(FATAL)" 30
    log_has "stubborn: not ready within 1s; stopping pid"
    log_has "did not stop within 1s; sending KILL"
    log_has "killed by signal KILL"
    wait_for 10 eval '! pgrep -f -- "$SLEEP 0.1" >/dev/null'
}
