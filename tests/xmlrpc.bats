#!/usr/bin/env bats
# The XML-RPC interface from Python's xmlrpc.client, as supervisord's clients use it: over the
# unix socket with supervisor.xmlrpc.SupervisorTransport, over TCP with Basic auth; struct keys,
# fault codes, limits and malformed requests.

load helpers

setup() {
    # Debian's python3 has the supervisor package; a python3 earlier in PATH may not
    PY=
    for p in /usr/bin/python3 python3; do
        if "$p" -c 'import supervisor.xmlrpc' 2>/dev/null; then PY=$p; break; fi
    done
    [ -n "$PY" ] || skip "python3-supervisor not installed"
    M=$(marker)
    SLEEP="$BATS_TEST_TMPDIR/$M-sleep"
    ln -s "$(command -v sleep)" "$SLEEP"
    D="$BATS_TEST_TMPDIR"
    PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
}

teardown() {
    kill_tend_and_marked "$M"
}

# py CODE: runs CODE with `s` a ServerProxy on the unix socket (or $URL with $AUTH_USER/PASS)
py() {
    timeout 60 "$PY" - "$@" <<EOF2
import sys, xmlrpc.client
from supervisor.xmlrpc import SupervisorTransport
url = "${URL:-unix://$D/sv.sock}"
t = SupervisorTransport("${AUTH_USER:-}" or None, "${AUTH_PASS:-}" or None, url)
s = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=t)
$(cat)
EOF2
}

start_config() {
    CFG=$(write_config supervisord.conf)
    start_tend "$CFG"
    wait_for 20 test -S "$D/sv.sock"
}

basic_config() {
    start_config <<EOF2
[unix_http_server]
file = $D/sv.sock
[supervisord]
logfile = $D/main.log
[program:a]
command = $SLEEP 1000
startsecs = 0
stdout_logfile = $D/a.log
[program:b]
command = $SLEEP 1001
autostart = false
EOF2
    wait_for 20 pgrep -f -- "$SLEEP 1000"
}

@test "getAllProcessInfo has supervisord's 14 keys, state codes and descriptions" {
    basic_config
    run py <<'EOF2'
info = s.supervisor.getAllProcessInfo()
assert [i["name"] for i in info] == ["a", "b"], info
a, b = info
assert sorted(a) == sorted(["name", "group", "description", "start", "stop", "now", "state",
    "statename", "spawnerr", "exitstatus", "logfile", "stdout_logfile", "stderr_logfile",
    "pid"]), sorted(a)
assert a["state"] == 20 and a["statename"] == "RUNNING" and a["pid"] > 0, a
assert a["description"].startswith("pid %d, uptime 0:00:" % a["pid"]), a
assert a["logfile"] == a["stdout_logfile"] and a["logfile"].endswith("/a.log"), a
assert b["state"] == 0 and b["statename"] == "STOPPED" and b["description"] == "Not started", b
assert b["start"] == 0 and b["pid"] == 0 and b["spawnerr"] == "", b
assert s.supervisor.getProcessInfo("a:a")["pid"] == a["pid"]
assert s.supervisor.getAPIVersion() == "3.0" and s.supervisor.getVersion() == "3.0"
assert s.supervisor.getState() == {"statecode": 1, "statename": "RUNNING"}
assert s.supervisor.getPID() > 1
assert "supervisor.startProcess" in s.system.listMethods()
assert s.system.methodSignature("supervisor.startProcess") == [["boolean", "string", "boolean"]]
print("ok", a["pid"])
EOF2
    assert_status 0
    [ "$output" = "ok $(pid_of "$SLEEP 1000")" ]
}

@test "startProcess waits for RUNNING; faults carry supervisord's codes" {
    basic_config
    run py <<'EOF2'
from xmlrpc.client import Fault
def code(f, *a):
    try:
        f(*a)
    except Fault as e:
        return e.faultCode, e.faultString
assert s.supervisor.startProcess("b") is True
assert s.supervisor.getProcessInfo("b")["statename"] == "RUNNING"
assert code(s.supervisor.startProcess, "b") == (60, "ALREADY_STARTED: b")
assert code(s.supervisor.startProcess, "nosuch") == (10, "BAD_NAME: nosuch")
assert code(s.supervisor.stopProcess, "nosuch") == (10, "BAD_NAME: nosuch")
assert code(s.supervisor.signalProcess, "b", "NOPE")[0] == 11
assert code(s.supervisor.nosuchMethod) == (1, "UNKNOWN_METHOD")
assert code(s.supervisor.getProcessInfo)[0] == 2
assert s.supervisor.stopProcess("b") is True
assert code(s.supervisor.stopProcess, "b") == (70, "NOT_RUNNING: b")
r = s.supervisor.startProcessGroup("b")
assert r == [{"name": "b", "group": "b", "status": 80, "description": "OK"}], r
r = s.supervisor.stopAllProcesses()
assert sorted(x["name"] for x in r) == ["a", "b"] and all(x["status"] == 80 for x in r), r
r = s.system.multicall([{"methodName": "supervisor.getAPIVersion", "params": []},
                        {"methodName": "supervisor.nosuch", "params": []}])
assert r[0] == ["3.0"] and r[1]["faultCode"] == 1, r
print("ok")
EOF2
    assert_status 0
    [ "$output" = "ok" ]
    ! pgrep -f -- "$SLEEP"
}

@test "readProcessStdoutLog, tailProcessStdoutLog and readLog follow supervisord's offsets" {
    start_config <<EOF2
[unix_http_server]
file = $D/sv.sock
[supervisord]
logfile = $D/main.log
[program:talk]
command = sh -c 'printf "0123456789"; exec $SLEEP 1000'
startsecs = 0
stdout_logfile = $D/talk.log
EOF2
    wait_for 20 grep -q 0123456789 "$D/talk.log"
    run py <<'EOF2'
sp = s.supervisor
assert sp.readProcessStdoutLog("talk", 0, 0) == "0123456789"
assert sp.readProcessStdoutLog("talk", -4, 0) == "6789"
assert sp.readProcessStdoutLog("talk", 2, 3) == "234"
assert sp.tailProcessStdoutLog("talk", 0, 4) == ["6789", 10, True]
assert sp.tailProcessStdoutLog("talk", 10, 4) == ["", 10, False]
assert "talk" in sp.readLog(0, 0)
assert sp.clearProcessLogs("talk") is True
assert sp.readProcessStdoutLog("talk", 0, 0) == ""
print("ok")
EOF2
    assert_status 0
    [ "$output" = "ok" ]
}

@test "TCP with Basic auth: plain and {SHA} passwords; a wrong password is 401" {
    sha=$(printf secret | sha1sum | cut -d' ' -f1)
    start_config <<EOF2
[unix_http_server]
file = $D/sv.sock
[inet_http_server]
port = 127.0.0.1:$PORT
username = admin
password = {SHA}$sha
[program:a]
command = $SLEEP 1000
startsecs = 0
EOF2
    wait_log "listening on 127.0.0.1:$PORT"
    URL="http://127.0.0.1:$PORT" AUTH_USER=admin AUTH_PASS=secret run py <<'EOF2'
print(s.supervisor.getProcessInfo("a")["statename"])
EOF2
    [ "$output" = "RUNNING" ]
    URL="http://127.0.0.1:$PORT" AUTH_USER=admin AUTH_PASS=wrong run py <<'EOF2'
try:
    s.supervisor.getState()
except xmlrpc.client.ProtocolError as e:
    print(e.errcode)
EOF2
    [ "$output" = "401" ]
    run curl -s -o /dev/null -w '%{http_code} ' "http://127.0.0.1:$PORT/RPC2" -d x
    [ "$output" = "401 " ]
    # the unix socket has no username here: no auth asked
    run py <<'EOF2'
print(s.supervisor.getState()["statename"])
EOF2
    [ "$output" = "RUNNING" ]
    # supervisorctl with -u/-p over TCP
    if command -v supervisorctl >/dev/null; then
        run timeout 60 supervisorctl -s "http://127.0.0.1:$PORT" -u admin -p secret status a
        assert_output_contains "RUNNING"
    fi
}

@test "an inet server without a username refuses a non-loopback address, and says so" {
    CFG=$(write_config <<EOF2
[unix_http_server]
file = $D/sv.sock
[inet_http_server]
port = 0.0.0.0:$PORT
[program:a]
command = $SLEEP 1000
EOF2
)
    run timeout 30 "$TEND" -c "$CFG" up
    assert_status 78
    assert_output_contains "refusing to listen on a non-loopback address without a username"
    ! pgrep -f -- "$SLEEP"
}

@test "malformed XML gets a fault, big bodies 413, GET /RPC2 405; tend survives all of it" {
    basic_config
    u="--unix-socket $D/sv.sock http://localhost"
    run curl -s $u/RPC2 -d '<methodCall><methodName>x'
    assert_output_contains "<name>faultCode</name><value><int>-32700</int>"
    run curl -s $u/RPC2 -d '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><methodCall/>'
    assert_output_contains "PARSE_ERROR: document type declarations are refused"
    run curl -s $u/RPC2 -d '<methodCall><methodName>supervisor.getPID</methodName><params><param><value><int>zz</int></value></param></params></methodCall>'
    assert_output_contains "not an integer"
    head -c 2000000 /dev/zero | tr '\0' a >"$D/big"
    run curl -s -o /dev/null -w '%{http_code}' $u/RPC2 --data-binary @"$D/big"
    [ "$output" = 413 ]
    run curl -s -o /dev/null -w '%{http_code}' $u/RPC2
    [ "$output" = 405 ]
    run curl -s -o /dev/null -w '%{http_code}' $u/logtail/nosuch
    [ "$output" = 404 ]
    run py <<'EOF2'
print(s.supervisor.getProcessInfo("a")["statename"])
EOF2
    [ "$output" = "RUNNING" ]
    run "$TEND" -c "$CFG" status a
    assert_status 0
}

@test "another uid on the unix socket is refused unless chmod opens it" {
    [ "$(id -u)" -eq 0 ] || skip "needs root"
    command -v setpriv >/dev/null || skip "setpriv not installed"
    id nobody >/dev/null 2>&1 || skip "no user nobody"
    basic_config
    d=$D
    while :; do chmod o+x "$d"; [ "$d" = "$BATS_RUN_TMPDIR" ] || [ "$d" = / ] && break; d=$(dirname "$d"); done
    chmod 666 "$D/sv.sock" # even with the file open, tend checks the peer's uid
    run setpriv --reuid nobody --regid "$(id -g nobody)" --clear-groups \
        curl -s --unix-socket "$D/sv.sock" http://localhost/RPC2 \
        -d '<methodCall><methodName>supervisor.stopProcess</methodName><params><param><value>a</value></param></params></methodCall>'
    [[ "$output" != *"<boolean>1</boolean>"* ]]
    run "$TEND" -c "$CFG" status a
    assert_output_contains "RUNNING"
    # [unix_http_server] chmod = 0666 says others may: the file's permissions decide
    stop_tend
    sed -i 's|^file = .*|&\nchmod = 0666|' "$CFG"
    start_tend "$CFG"
    wait_for 20 test -S "$D/sv.sock"
    [ "$(stat -c %a "$D/sv.sock")" = 666 ]
    run setpriv --reuid nobody --regid "$(id -g nobody)" --clear-groups \
        curl -s --unix-socket "$D/sv.sock" http://localhost/RPC2 \
        -d '<methodCall><methodName>supervisor.getState</methodName></methodCall>'
    assert_output_contains "<string>RUNNING</string>"
}
