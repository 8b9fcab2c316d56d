#!/usr/bin/env bats
# Service manager features: depends_on with readiness (tcp, exec, sd_notify, fd), forking
# daemons through their pid file, one-shots gating dependents, health checks, tend as PID 1.

load helpers

setup() {
    use_tend_fixture
}

teardown() {
    teardown_tend
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

@test "a chain starts in order, each only after the one before is ready (tcp, exec, notify, fd)" {
    command -v python3 >/dev/null || skip "python3 needed for the tcp server and the notify client"
    port=$(free_port)
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:db]
; listens only after a while: ready when a connection is accepted
command = python3 -c 'import socket, time; time.sleep(0.5); s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", $port)); s.listen(); time.sleep(1000)' $BATS_TEST_TMPDIR
ready = tcp:127.0.0.1:$port
startsecs = 20
[program:cache]
depends_on = db
command = sh -c '$SLEEP 0.3; touch "$BATS_TEST_TMPDIR/cache-up"; exec $SLEEP 1001'
ready = exec:test -e $BATS_TEST_TMPDIR/cache-up
startsecs = 20
[program:api]
depends_on = cache
; the systemd protocol: READY=1 to \$NOTIFY_SOCKET
command = python3 -c 'import os, socket, time; time.sleep(0.3); s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"STATUS=serving\nREADY=1", os.environ["NOTIFY_SOCKET"]); time.sleep(1000)' $BATS_TEST_TMPDIR
ready = notify
startsecs = 20
[program:web]
depends_on = api
; the s6 convention: a newline on fd 3
command = sh -c '$SLEEP 0.3; echo >&3; exec $SLEEP 1002'
ready = fd:3
startsecs = 20
EOF2
)
    start_tend "$CFG"
    wait_log "web (pid" 30
    wait_for 30 log_has "is ready (notification fd)"
    [ "$(line_of 'db (pid')" -lt "$(line_of 'is ready (tcp connection accepted)')" ]
    [ "$(line_of 'is ready (tcp connection accepted)')" -lt "$(line_of 'cache (pid')" ]
    [ "$(line_of 'cache (pid')" -lt "$(line_of 'is ready (probe command exited 0)')" ]
    [ "$(line_of 'is ready (probe command exited 0)')" -lt "$(line_of 'api (pid')" ]
    [ "$(line_of 'api (pid')" -lt "$(line_of 'is ready (READY=1)')" ]
    [ "$(line_of 'is ready (READY=1)')" -lt "$(line_of 'web (pid')" ]
    run tend_ status --json
    [ "$(jq -r '.[] | select(.name == "api") | .status_text' <<<"$output")" = serving ]
    [ "$(jq -r '.[] | select(.name == "web") | .ready' <<<"$output")" = true ]
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
    # stopped in reverse: web, api, cache, db
    [ "$(grep -n 'stopping with' "$BATS_TEST_TMPDIR/tend.err" | cut -d' ' -f4 | tr '\n' ' ')" = "web api cache db " ]
}

@test "a program waits for its dependency and starts once it is RUNNING (startsecs)" {
    CFG=$(write_config <<EOF2
[program:base]
command = $SLEEP 1000
startsecs = 1
[program:top]
command = $SLEEP 1001
depends_on = base
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_log "top (pid" 20
    log_has "top waits for its dependencies"
    [ "$(grep -n 'base (pid [0-9]*) is RUNNING' "$BATS_TEST_TMPDIR/tend.err" | cut -d: -f1)" -lt "$(line_of 'top (pid')" ]
}

@test "a dependency that goes FATAL blocks its dependents, and status says why" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:broken]
command = sh -c 'exit 1'
startsecs = 1
startretries = 0
[program:needs]
command = $SLEEP 1000
depends_on = broken
[program:needsneeds]
command = $SLEEP 1001
depends_on = needs
EOF2
)
    start_tend "$CFG"
    wait_log "needs: not started: dependency broken is FATAL"
    wait_log "needsneeds: not started: dependency needs is blocked"
    run tend_ status needs
    assert_status 1
    assert_output_contains "blocked: dependency broken is FATAL"
    [ "$(tend_ status --json | jq -r '.[] | select(.name == "needs") | .error')" = "blocked: dependency broken is FATAL" ]
    run tend_ start needs
    assert_status 1
    assert_output_contains "dependency broken is FATAL"
    ! pgrep -f "$SLEEP 100" >/dev/null
}

@test "tend start NAME starts its missing dependencies first" {
    start_with_config <<EOF2
[tend]
socket = $SOCK
[program:lib]
command = $SLEEP 1000
autostart = false
startsecs = 0
[program:app]
command = $SLEEP 1001
depends_on = lib
autostart = false
startsecs = 0
EOF2
    run tend_ start app
    assert_status 0
    assert_output_contains "app: RUNNING"
    state_is lib RUNNING
}

@test "a oneshot gates its dependents: they start after it exits 0" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:migrate]
type = oneshot
command = sh -c '$SLEEP 0.5; touch "$BATS_TEST_TMPDIR/migrated"'
[program:app]
command = sh -c 'test -e "$BATS_TEST_TMPDIR/migrated" && exec $SLEEP 1000; exit 9'
depends_on = migrate
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_log "app (pid" 20
    wait_for 10 eval 'pgrep -f "$SLEEP 1000" >/dev/null'
    log_has "migrate (pid"
    log_has "finished"
    state_is migrate EXITED
    [ "$(tend_ status --json | jq -r '.[] | select(.name == "migrate") | .exit_code')" = 0 ]
    ! log_has "exited with status 9"
}

@test "a self-daemonizing program (type = forking) is supervised, restarted and stopped through its pid file" {
    pf="$BATS_TEST_TMPDIR/daemon.pid"
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:daemon]
type = forking
pidfile = $pf
; the classic recipe: fork, setsid in the child, write the pid file, the parent exits 0
command = sh -c 'setsid sh -c "echo \\\$\\\$ > $pf; exec $SLEEP 1000" </dev/null >/dev/null 2>&1 & exit 0'
startsecs = 1
autorestart = true
EOF2
)
    start_tend "$CFG"
    wait_log "daemon found in $pf" 20
    wait_state daemon RUNNING
    pid=$(cat "$pf")
    [ "$(tend_ pid daemon)" = "$pid" ]
    # it was re-parented to tend, the subreaper
    [ "$(awk '/^PPid:/ {print $2}' /proc/"$pid"/status)" = "$TEND_PID" ]
    # killed behind tend's back: restarted with a new pid from a new pid file
    kill -KILL "$pid"
    wait_log "daemon (pid $pid) killed by signal KILL"
    wait_for 20 eval '[ "$(tend_ pid daemon 2>/dev/null)" != "$pid" ] && [ "$(tend_ pid daemon 2>/dev/null)" -gt 0 ] 2>/dev/null'
    new=$(tend_ pid daemon)
    kill -0 "$new"
    run tend_ stop daemon
    assert_status 0
    ! kill -0 "$new" 2>/dev/null
}

@test "a pid file that is a symbolic link is refused" {
    ln -s /etc/hostname "$BATS_TEST_TMPDIR/link.pid"
    CFG=$(write_config <<EOF2
[program:sneaky]
type = forking
pidfile = $BATS_TEST_TMPDIR/link.pid
command = sh -c 'exit 0'
startretries = 0
EOF2
)
    start_tend "$CFG"
    wait_log "symbolic link; refused" 20
    wait_log "(FATAL)"
}

@test "a failing health check restarts its program" {
    touch "$BATS_TEST_TMPDIR/healthy"
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:svc]
command = $SLEEP 1000
startsecs = 0
healthcheck = exec:test -e $BATS_TEST_TMPDIR/healthy
healthcheck_interval = 200ms
healthcheck_timeout = 1s
healthcheck_retries = 2
EOF2
)
    start_tend "$CFG"
    wait_log "svc is healthy" 20
    [ "$(tend_ status --json | jq -r '.[0].health')" = healthy ]
    old=$(tend_ pid svc)
    rm "$BATS_TEST_TMPDIR/healthy"
    wait_log "svc: health check failed (1/2)"
    wait_log "is unhealthy after 2 failed checks; restarting"
    wait_for 20 eval '[ "$(tend_ pid svc 2>/dev/null)" != "$old" ] && [ "$(tend_ pid svc 2>/dev/null)" -gt 0 ] 2>/dev/null'
}

@test "a readiness probe and a health check run with their program's umask and rlimit_nofile" {
    # each check passes only with the program's settings, which tend itself does not have
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:svc]
command = $SLEEP 1000
umask = 027
rlimit_nofile = 512
ready = exec:sh -c "[ \$(umask) = 0027 ] && [ \$(ulimit -n) = 512 ]"
ready_timeout = 60s
healthcheck = exec:sh -c "[ \$(umask) = 0027 ] && [ \$(ulimit -n) = 512 ]"
healthcheck_interval = 200ms
healthcheck_retries = 1000
EOF2
)
    [ "$(umask)" != 0027 ] && [ "$(ulimit -n)" != 512 ]
    start_tend "$CFG"
    wait_state svc RUNNING 60
    wait_log "svc is healthy" 60
}

@test "a tcp health check; without health checks an idle tend arms no timer" {
    port=$(free_port)
    CFG=$(write_config <<EOF2
[program:listener]
command = python3 -c 'import socket, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", $port)); s.listen(); time.sleep(1000)' $BATS_TEST_TMPDIR
startsecs = 0
healthcheck = tcp:127.0.0.1:$port
healthcheck_interval = 200ms
; python3 may take seconds to start on a loaded machine: 100 failures in a row before a restart
healthcheck_retries = 100
EOF2
)
    start_tend "$CFG"
    wait_log "listener is healthy" 20
}

@test "tend as PID 1 in a new PID namespace reaps 1,000 orphans and shuts down cleanly" {
    [ "$(id -u)" -eq 0 ] || skip "needs root for unshare --pid"
    unshare --pid --fork --mount-proc true 2>/dev/null || skip "unshare --pid not permitted here"
    CFG=$(write_config <<EOF2
[program:spawner]
command = sh -c 'i=0; while [ \$i -lt 1000 ]; do ($SLEEP 0.01 &); i=\$((i+1)); done; echo spawned; exec $SLEEP 1000'
startsecs = 0
EOF2
)
    unshare --pid --fork --mount-proc "$TEND" -c "$CFG" up >"$BATS_TEST_TMPDIR/tend.out" 2>"$BATS_TEST_TMPDIR/tend.err" 3>&- &
    ushare=$!
    wait_for 20 eval 'pgrep -P $ushare >/dev/null'
    TEND_PID=$(pgrep -P "$ushare")
    wait_for 120 grep -q "spawner | spawned" "$BATS_TEST_TMPDIR/tend.out"
    # all short-lived orphans gone, none left as a zombie under PID 1
    wait_for 60 eval '[ "$(pgrep -c -f "$SLEEP 0.01")" -eq 0 ]'
    wait_for 30 eval '[ "$(ps -o stat= --ppid "$TEND_PID" | grep -c Z)" -eq 0 ]'
    kill -TERM "$TEND_PID"
    rc=0
    wait "$ushare" || rc=$?
    TEND_PID=
    [ "$rc" -eq 0 ]
    ! pgrep -f "$SLEEP 1000" >/dev/null
}
