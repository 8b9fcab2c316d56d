#!/usr/bin/env bats
# stdout_syslog / stderr_syslog (supervisord 4.2): every line of the program goes to syslog as
# one message tagged with the process name. The test points tend at a syslog socket of its own
# ($TEND_SYSLOG_SOCKET) and reads the datagrams back.

load helpers

setup() {
    SLEEP="$BATS_TEST_TMPDIR/sleep"
    ln -s "$(command -v sleep)" "$SLEEP"
    LOGSOCK="$BATS_TEST_TMPDIR/log.sock"
    RECEIVED="$BATS_TEST_TMPDIR/received"
    export TEND_SYSLOG_SOCKET="$LOGSOCK"
}

teardown() {
    kill_tend_and_marked "$BATS_TEST_TMPDIR"
    if [ -n "${SYSLOGD_PID:-}" ]; then
        kill "$SYSLOGD_PID" 2>/dev/null || true
        wait "$SYSLOGD_PID" 2>/dev/null || true
    fi
}

# a syslog daemon stand-in: every datagram on $LOGSOCK becomes one line of $RECEIVED
start_syslogd() {
    python3 - "$LOGSOCK" "$RECEIVED" "$BATS_TEST_TMPDIR" <<'PYEOF' 3>&- &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).replace(b"\n", b"\\n") + b"\n")
PYEOF
    SYSLOGD_PID=$!
    wait_for 20 test -S "$LOGSOCK"
}

received() {
    grep -qE -- "$1" "$RECEIVED" 2>/dev/null
}

@test "stdout_syslog and stderr_syslog send each line, tagged with the process name" {
    start_syslogd
    cfg=$(write_config <<EOF2
[program:web]
command = sh -c 'echo first line; echo oops >&2; printf "two\nthree\n"; printf partial; exec $SLEEP 1000'
stdout_syslog = true
stderr_syslog = true
startsecs = 0
[program:quiet]
command = sh -c 'echo not for syslog; exec $SLEEP 1001'
startsecs = 0
EOF2
)
    start_tend "$cfg"
    stamp='<14>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}'
    wait_for 20 received "^$stamp web: first line\$"
    wait_for 20 received "^$stamp web: oops\$"
    wait_for 20 received "^$stamp web: two\$"
    wait_for 20 received "^$stamp web: three\$"
    # the console still has the lines
    wait_for 20 out_has "first line"
    # a partial last line is sent when the process ends
    ! received "partial"
    "$TEND" -c "$cfg" stop web >/dev/null 2>&1 || kill -TERM "$(pid_of "$SLEEP 1000")"
    wait_for 20 received "^$stamp web: partial\$"
    ! received "not for syslog"
}

@test "supervisord's deprecated stdout_logfile = syslog means stdout_syslog = true" {
    start_syslogd
    cfg=$(write_config <<EOF2
[program:old]
command = sh -c 'echo the old way; exec $SLEEP 1000'
stdout_logfile = syslog
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_for 20 received " old: the old way\$"
    [ ! -e "$BATS_TEST_TMPDIR/syslog" ]
}

@test "no syslog daemon: the lines are dropped, one warning, the program keeps running" {
    cfg=$(write_config <<EOF2
[program:chatty]
command = sh -c 'while :; do echo tick; $SLEEP 0.1; done'
stdout_syslog = true
startsecs = 0
EOF2
)
    start_tend "$cfg"
    wait_log "chatty: cannot send output to syslog at $LOGSOCK"
    wait_for 20 out_has "tick"
    [ "$(grep -c 'cannot send output to syslog' "$BATS_TEST_TMPDIR/tend.err")" -eq 1 ]
    # a daemon that appears later gets the lines from then on
    start_syslogd
    wait_for 30 received " chatty: tick\$"
}
