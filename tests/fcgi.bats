#!/usr/bin/env bats
# [fcgi-program:x] as supervisord runs it: tend creates the listening socket once, every one of
# the numprocs processes gets it as fd 0 and accepts on it, the socket stays open while they
# restart (a client connecting in a loop is never refused), and it is closed on stop.

load helpers

setup() {
    PY=$(command -v python3)
    SOCK="$BATS_TEST_TMPDIR/tend.sock"
    # the FastCGI stand-in: accepts on fd 0 and answers each connection with its pid
    SERVER="$BATS_TEST_TMPDIR/pidserver.py"
    cat >"$SERVER" <<'PYEOF'
import os, socket, sys
listener = socket.socket(fileno=0)
print("accepting on fd 0 (%s)" % listener.family.name, flush=True)
while True:
    conn, _ = listener.accept()
    conn.sendall(b"%d\n" % os.getpid())
    conn.close()
PYEOF
    # the client: connects in a loop until STOPFILE exists; prints "refused N", the pids seen
    CLIENT="$BATS_TEST_TMPDIR/client.py"
    cat >"$CLIENT" <<'PYEOF'
import os, socket, sys
addr, stopfile = sys.argv[1], sys.argv[2]
refused, pids, n = 0, set(), 0
while not os.path.exists(stopfile):
    if addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX)
        target = addr
    else:
        s = socket.socket(socket.AF_INET)
        host, port = addr.rsplit(":", 1)
        target = (host, int(port))
    s.settimeout(60)
    try:
        s.connect(target)
        pids.add(s.makefile().readline().strip())
        n += 1
    except (ConnectionRefusedError, FileNotFoundError) as e:
        refused += 1
    finally:
        s.close()
print("connections %d refused %d pids %s" % (n, refused, " ".join(sorted(pids))), flush=True)
PYEOF
}

teardown() {
    kill_tend_and_marked "$BATS_TEST_TMPDIR"
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# fcgi_config SOCKET: three processes of the pid server on SOCKET
fcgi_config() {
    write_config <<EOF2
[unix_http_server]
file = $SOCK
[fcgi-program:pool]
command = $PY $SERVER
socket = $1
numprocs = 3
process_name = %(program_name)s_%(process_num)02d
startsecs = 0
stopwaitsecs = 5
EOF2
}

running_count() {
    [ "$("$TEND" -c "$CFG" status pool:\* | grep -c RUNNING)" -eq "$1" ]
}

# ask ADDR: one connection's answer
ask() {
    "$PY" - "$1" <<'PYEOF'
import socket, sys
addr = sys.argv[1]
if addr.startswith("/"):
    s = socket.socket(socket.AF_UNIX); s.connect(addr)
else:
    host, port = addr.rsplit(":", 1)
    s = socket.socket(); s.connect((host, int(port)))
print(s.makefile().readline().strip())
PYEOF
}

# restart_under_load ADDR: the three are restarted while a client connects in a loop
restart_under_load() {
    local addr=$1 before after
    wait_for 30 running_count 3
    before=$("$TEND" -c "$CFG" pid pool:\* | sort)
    rm -f "$BATS_TEST_TMPDIR/stop"
    "$PY" "$CLIENT" "$addr" "$BATS_TEST_TMPDIR/stop" >"$BATS_TEST_TMPDIR/client.out" 3>&- &
    local client=$!
    # the client is connecting before the restart begins
    wait_for 30 test -n "$(ask "$addr")"
    run "$TEND" -c "$CFG" restart pool:\*
    assert_status 0
    wait_for 30 running_count 3
    after=$("$TEND" -c "$CFG" pid pool:\* | sort)
    touch "$BATS_TEST_TMPDIR/stop"
    wait "$client"
    cat "$BATS_TEST_TMPDIR/client.out"
    grep -q "refused 0 " "$BATS_TEST_TMPDIR/client.out"
    ! grep -q "connections 0 " "$BATS_TEST_TMPDIR/client.out"
    # every process is new, and the new ones answer on the same socket
    for pid in $before; do
        ! grep -qx "$pid" <<<"$after"
    done
    answered=$(ask "$addr")
    grep -qx "$answered" <<<"$after"
}

@test "fcgi-program over TCP: one socket, fd 0 of three processes, open across a restart" {
    port=$(free_port)
    CFG=$(fcgi_config "tcp://127.0.0.1:$port")
    start_tend "$CFG"
    wait_for 30 running_count 3
    wait_log "pool: listening on tcp://127.0.0.1:$port"
    # fd 0 of each process is the one listening socket tend made
    for pid in $("$TEND" -c "$CFG" pid pool:\*); do
        [[ "$(readlink "/proc/$pid/fd/0")" == socket:* ]]
    done
    inodes=$(for pid in $("$TEND" -c "$CFG" pid pool:\*); do readlink "/proc/$pid/fd/0"; done | sort -u | wc -l)
    [ "$inodes" -eq 1 ]
    # tend's own copy is close-on-exec: nothing else inherits it
    tend_fd=$(for fd in /proc/$TEND_PID/fd/*; do
        [ "$(readlink "$fd")" = "$(readlink "/proc/$("$TEND" -c "$CFG" pid pool_00)/fd/0")" ] && basename "$fd"
    done | head -n 1)
    [ -n "$tend_fd" ]
    [ $(( 0$(awk '/^flags:/ {print $2}' "/proc/$TEND_PID/fdinfo/$tend_fd") & 02000000 )) -ne 0 ]
    # every process answers on the shared socket
    restart_under_load "127.0.0.1:$port"
}

@test "fcgi-program over a unix socket: mode, restart under load, closed and removed on stop" {
    path="$BATS_TEST_TMPDIR/pool.sock"
    CFG=$(fcgi_config "unix://$path")
    printf 'socket_mode = 0660\n' >>"$CFG"
    start_tend "$CFG"
    wait_for 30 running_count 3
    [ -S "$path" ]
    [ "$(stat -c %a "$path")" = 660 ]
    restart_under_load "$path"
    # a stop of every process closes the socket (and removes its file)
    run "$TEND" -c "$CFG" stop pool:\*
    assert_status 0
    wait_log "pool: closing unix://$path"
    [ ! -e "$path" ]
    # a start makes it again
    run "$TEND" -c "$CFG" start pool:\*
    assert_status 0
    wait_for 30 running_count 3
    [ -S "$path" ]
    [ -n "$(ask "$path")" ]
}

@test "fcgi-program config errors: no socket, a bad address, owner on TCP, a stdin of its own" {
    cfg=$(write_config <<'EOF2'
[fcgi-program:a]
command = /bin/true
[fcgi-program:b]
command = /bin/true
socket = udp://1.2.3.4:5
[fcgi-program:c]
command = /bin/true
socket = tcp://127.0.0.1:9000
socket_mode = 0600
[fcgi-program:d]
command = /bin/true
socket = unix://relative.sock
[fcgi-program:e]
command = /bin/true
socket = tcp://127.0.0.1:9001
stdin = pipe
[program:f]
command = /bin/true
socket = tcp://127.0.0.1:9002
EOF2
)
    run --separate-stderr "$TEND" -c "$cfg" check
    assert_status 78
    [[ "$stderr" == *"tend.ini:1: [fcgi-program:a]: socket is required"* ]]
    [[ "$stderr" == *"tend.ini:5: [fcgi-program:b] socket: invalid socket 'udp://1.2.3.4:5'"* ]]
    [[ "$stderr" == *"tend.ini:8: [fcgi-program:c] socket: socket_owner and socket_mode apply to unix sockets only"* ]]
    [[ "$stderr" == *"tend.ini:12: [fcgi-program:d] socket: unix socket path 'relative.sock' is not absolute"* ]]
    [[ "$stderr" == *"tend.ini:16: [fcgi-program:e] stdin: the stdin of an fcgi-program is its socket"* ]]
    # socket in a [program:x] is only a warning, as supervisord ignores it
    [[ "$stderr" == *"tend.ini:19: warning: [program:f] socket: unknown option, ignored"* ]]
}

@test "a port in use: the start fails with the reason, tend keeps running" {
    port=$(free_port)
    "$PY" -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
print("held", flush=True); time.sleep(600)' "$port" "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/holder.out" 3>&- &
    holder=$!
    wait_for 20 grep -q held "$BATS_TEST_TMPDIR/holder.out"
    CFG=$(fcgi_config "tcp://127.0.0.1:$port")
    sed -i 's/^numprocs = 3/numprocs = 1/; s/^startsecs = 0/startsecs = 0\nstartretries = 0/' "$CFG"
    start_tend "$CFG"
    wait_log "cannot listen on tcp://127.0.0.1:$port: Address already in use"
    run "$TEND" -c "$CFG" status pool_00
    assert_output_contains "FATAL"
    kill "$holder"
    wait "$holder" || true
}

# socket_inode PID: the socket of fd 0 of PID, as socket:[N]
socket_inode() {
    readlink "/proc/$1/fd/0"
}

@test "a killed process is restarted on the same socket; shutdown closes it and removes its file" {
    path="$BATS_TEST_TMPDIR/pool.sock"
    CFG=$(fcgi_config "unix://$path")
    start_tend "$CFG"
    wait_for 30 running_count 3
    first=$("$TEND" -c "$CFG" pid pool_00)
    inode=$(socket_inode "$first")
    kill -KILL "$first"
    wait_for 30 eval '[ "$("$TEND" -c "$CFG" pid pool_00 2>/dev/null)" != "$first" ] && running_count 3'
    [ "$(socket_inode "$("$TEND" -c "$CFG" pid pool_00)")" = "$inode" ]
    [ "$(socket_inode "$("$TEND" -c "$CFG" pid pool_01)")" = "$inode" ]
    [ -S "$path" ]
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
    [ ! -e "$path" ]
}

@test "an fcgi-program in a [group:x]; a reload that removes it closes its socket" {
    port=$(free_port)
    CFG=$(write_config <<EOF2
[unix_http_server]
file = $SOCK
[group:web]
programs = pool, other
[fcgi-program:pool]
command = $PY $SERVER
socket = tcp://127.0.0.1:$port
startsecs = 0
[program:other]
command = $PY -c 'import time; time.sleep(1000)' $BATS_TEST_TMPDIR
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_for 30 eval '"$TEND" -c "$CFG" status web:pool | grep -q RUNNING'
    [ -n "$(ask "127.0.0.1:$port")" ]
    sed -i 's/^programs = pool, other/programs = other/; /^\[fcgi-program:pool\]/,/^startsecs/d' "$CFG"
    run "$TEND" -c "$CFG" reload
    assert_status 0
    wait_log "pool: closing tcp://127.0.0.1:$port"
    run ! "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)' "$port"
}

@test "export systemd says that an fcgi-program's socket needs a .socket unit" {
    CFG=$(fcgi_config "tcp://127.0.0.1:9000")
    run --separate-stderr "$TEND" -c "$CFG" export systemd
    assert_status 0
    assert_output_contains "# socket = tcp://127.0.0.1:9000: not mapped; write a .socket unit"
}

@test "tend run -c refuses an fcgi-program: it has no socket to give it" {
    cfg=$(fcgi_config "tcp://127.0.0.1:9000")
    run --separate-stderr "$TEND" run -c "$cfg"
    assert_status 78
    [[ "$stderr" == *"tend.ini:3: [fcgi-program:pool]: tend run -c has no sockets to serve; run it with tend up"* ]]
}

@test "tcp://*:PORT listens on every address; socket_owner and the default mode on a unix socket" {
    port=$(free_port)
    CFG=$(fcgi_config "tcp://*:$port")
    sed -i 's/^numprocs = 3/numprocs = 1/' "$CFG"
    cat >>"$CFG" <<EOF2
[fcgi-program:owned]
command = $PY $SERVER
socket = unix://$BATS_TEST_TMPDIR/owned.sock
startsecs = 0
EOF2
    if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null && getent group nogroup >/dev/null; then
        printf 'socket_owner = nobody:nogroup\n' >>"$CFG"
        owner=nobody:nogroup
    else
        owner=$(id -un):$(id -gn)
    fi
    start_tend "$CFG"
    wait_for 30 eval '"$TEND" -c "$CFG" status owned | grep -q RUNNING'
    wait_for 30 eval '"$TEND" -c "$CFG" status pool_00 | grep -q RUNNING'
    [ -n "$(ask "127.0.0.1:$port")" ]
    [ "$(stat -c %U:%G "$BATS_TEST_TMPDIR/owned.sock")" = "$owner" ]
    [ "$(stat -c %a "$BATS_TEST_TMPDIR/owned.sock")" = 700 ]
}

@test "a reload that moves the socket: the processes restart on the new address, the old one closes" {
    old=$(free_port)
    CFG=$(fcgi_config "tcp://127.0.0.1:$old")
    start_tend "$CFG"
    wait_for 30 running_count 3
    [ -n "$(ask "127.0.0.1:$old")" ]
    new=$(free_port)
    sed -i "s/:$old\$/:$new/" "$CFG"
    run "$TEND" -c "$CFG" reload
    assert_status 0
    assert_output_contains "~ pool_00: changed (socket); restart"
    wait_log "pool: closing tcp://127.0.0.1:$old"
    wait_for 30 running_count 3
    answered=$(ask "127.0.0.1:$new")
    "$TEND" -c "$CFG" pid pool:\* | grep -qx "$answered"
    run ! "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)' "$old"
}
