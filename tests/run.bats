#!/usr/bin/env bats
# `tend run -- CMD`: exit statuses, timeouts, pumping stdin/stdout/stderr at once without
# deadlock, --json against the real outcome and against Python's subprocess, signal forwarding,
# and what the child inherits (fds, signal mask, environment, directory, user).

load helpers

setup() {
    PIDS_TO_KILL=()
}

teardown() {
    local pid
    for pid in "${PIDS_TO_KILL[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    for f in "$BATS_TEST_TMPDIR"/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    done
}

# no_process_with MARKER: no process has MARKER in its command line
no_process_with() {
    ! pgrep -f -- "$1" >/dev/null
}

@test "run is listed in --help" {
    run "$TEND" --help
    assert_output_contains "run [OPTIONS] -- CMD"
}

@test "run --help documents every option" {
    run "$TEND" run --help
    assert_status 0
    for opt in --input --input-text --stdout --stderr --capture --timeout --signal \
        --kill-after --env --cwd --user --shell --report --json --jobs --keep-going; do
        assert_output_contains "$opt"
    done
}

@test "exit statuses 0 and 7 pass through" {
    run "$TEND" run -- true
    assert_status 0
    run "$TEND" run -- sh -c 'exit 7'
    assert_status 7
}

@test "every exit status of a sample passes through, with and without a shell" {
    for code in 0 1 2 3 42 100 123 124 125 126 127 128 200 254 255; do
        run -"$code" "$TEND" run -- sh -c "exit $code"
        run -"$code" "$TEND" run --shell -- exit "$code"
    done
}

@test "death by KILL is 128+9" {
    run "$TEND" run -- sh -c 'kill -9 $$'
    assert_status 137
}

@test "death by each signal is 128+N, and --json names the signal" {
    command -v jq >/dev/null || skip "jq not installed"
    for sig in HUP INT QUIT ILL ABRT FPE KILL USR1 SEGV USR2 PIPE ALRM TERM; do
        num=$(kill -l "$sig")
        run "$TEND" run -- sh -c "kill -$sig \$\$"
        assert_status $((128 + num))
        run --separate-stderr "$TEND" run --json -- sh -c "kill -$sig \$\$"
        assert_status $((128 + num))
        [ "$(jq -r .signal <<<"$output")" = "$sig" ]
        [ "$(jq -r .exit_code <<<"$output")" = null ]
    done
}

@test "timeout: TERM to the group, exit 124, a message, long before the command would end" {
    local start=$SECONDS
    run --separate-stderr "$TEND" run --timeout 1 -- sleep 30
    assert_status 124
    [ $((SECONDS - start)) -lt 15 ]
    [[ "$stderr" == *"tend: sleep timed out after 1s"* ]]
}

@test "timeout: a child that ignores the signal gets KILL after --kill-after" {
    command -v jq >/dev/null || skip "jq not installed"
    local start=$SECONDS
    run --separate-stderr "$TEND" run --json --timeout 500ms --kill-after 500ms -- \
        sh -c 'trap "" TERM; sleep 30 & wait; wait'
    assert_status 124
    [ $((SECONDS - start)) -lt 15 ]
    [ "$(jq -r .timed_out <<<"$output")" = true ]
    [ "$(jq -r .signal <<<"$output")" = KILL ]
}

@test "timeout: --signal chooses the signal" {
    command -v jq >/dev/null || skip "jq not installed"
    run --separate-stderr "$TEND" run --json --timeout 200ms --signal INT -- sleep 30
    assert_status 124
    [ "$(jq -r .signal <<<"$output")" = INT ]
}

@test "timeout: a shell and its children are all gone afterwards" {
    local marker="300.$$$RANDOM"
    run "$TEND" run --timeout 1 -- sh -c "sleep $marker & sleep $marker"
    assert_status 124
    no_process_with "sleep $marker"
}

@test "timeout: a grandchild holding the pipes does not keep tend waiting" {
    local start=$SECONDS
    run "$TEND" run --timeout 1 -- sh -c "sleep 30 & sleep 30"
    assert_status 124
    [ $((SECONDS - start)) -lt 15 ]
}

@test "after the command exits, what it left in its process group is killed" {
    local marker="301.$$$RANDOM"
    local start=$SECONDS
    run "$TEND" run -- sh -c "sleep $marker & echo started"
    assert_status 0
    assert_output_contains started
    [ $((SECONDS - start)) -lt 15 ]
    no_process_with "sleep $marker"
}

# escape_cmd PIDFILE: a command whose shell starts a process that leaves its group (its pid in
# PIDFILE, so that teardown kills it) and holds stdout and stderr, prints hi and exits
escape_cmd() {
    echo "setsid sh -c 'echo \$\$ > $1; exec sleep 302' & while [ ! -s $1 ]; do sleep 0.01; done; echo hi"
}

@test "a process that left the group and holds the pipe: tend stops waiting after a bound" {
    command -v setsid >/dev/null || skip "setsid not available"
    # tend's pipes between (--capture): it reads them for RUN_DRAIN_SECONDS after the exit,
    # then reports; without that bound it would wait for the sleep, past timeout's deadline
    run timeout 60 "$TEND" run --capture -- sh -c "$(escape_cmd "$BATS_TEST_TMPDIR/capture.pid")"
    assert_status 0
    assert_output_contains hi
    kill -0 "$(cat "$BATS_TEST_TMPDIR/capture.pid")" # it did escape, and is still there
    # straight through (tend's own stdout, a file here, is the command's): tend only waits for
    # the command, so it ends with it while the escaped process goes on writing to the file
    timeout 60 "$TEND" run -- sh -c "$(escape_cmd "$BATS_TEST_TMPDIR/straight.pid")" \
        >"$BATS_TEST_TMPDIR/out" 2>&1
    grep -qx hi "$BATS_TEST_TMPDIR/out"
    kill -0 "$(cat "$BATS_TEST_TMPDIR/straight.pid")"
}

@test "not found: 127, naming the command" {
    run -127 --separate-stderr "$TEND" run -- nosuchcmd-tend-test arg
    [[ "$stderr" == *"tend: cannot execute nosuchcmd-tend-test: No such file or directory"* ]]
    run -127 --separate-stderr "$TEND" run -- "$BATS_TEST_TMPDIR/missing/prog"
}

@test "found but not executable: 126, naming the file" {
    printf '#!/bin/sh\necho no\n' >"$BATS_TEST_TMPDIR/noexec"
    chmod 644 "$BATS_TEST_TMPDIR/noexec"
    run --separate-stderr "$TEND" run -- "$BATS_TEST_TMPDIR/noexec"
    assert_status 126
    [[ "$stderr" == *"cannot execute $BATS_TEST_TMPDIR/noexec: Permission denied"* ]]
    # in PATH but not executable: found, so 126 too
    PATH="$BATS_TEST_TMPDIR:$PATH" run --separate-stderr "$TEND" run -- noexec
    assert_status 126
    # a directory is not a program
    run "$TEND" run -- "$BATS_TEST_TMPDIR"
    assert_status 126
}

@test "a directory that does not exist or a bad user: 125 and a message" {
    run --separate-stderr "$TEND" run --cwd "$BATS_TEST_TMPDIR/nope" -- true
    assert_status 125
    [[ "$stderr" == *"cannot change directory to $BATS_TEST_TMPDIR/nope"* ]]
    run --separate-stderr "$TEND" run --user no-such-user-tend -- true
    assert_status 125
    [[ "$stderr" == *"no such user 'no-such-user-tend'"* ]]
}

@test "usage errors exit 2" {
    run "$TEND" run
    assert_status 2
    run "$TEND" run --bogus -- true
    assert_status 2
    assert_output_contains "unknown option '--bogus'"
    run "$TEND" run --timeout soon -- true
    assert_status 2
    assert_output_contains "invalid duration"
    run "$TEND" run --signal NOPE --timeout 1 -- true
    assert_status 2
    run "$TEND" run --env NOEQUALS -- true
    assert_status 2
    run "$TEND" run -j 2 -- true
    assert_status 2
    run "$TEND" run --input-text a --input /dev/null -- true
    assert_status 2
    run "$TEND" run --timeout
    assert_status 2
}

@test "64 MiB through cat byte-exact while megabytes go to stderr at the same time" {
    head -c 64M /dev/urandom >"$BATS_TEST_TMPDIR/in"
    # through a pipe that tend pumps, while the command writes stderr at the same time ...
    cat "$BATS_TEST_TMPDIR/in" | "$TEND" run -- sh -c 'head -c 8M /dev/zero >&2 & cat; wait' \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
    cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
    [ "$(wc -c <"$BATS_TEST_TMPDIR/err")" -eq $((8 * 1024 * 1024)) ]
    # ... from --input FILE (handed over), stderr after stdout ...
    "$TEND" run --input "$BATS_TEST_TMPDIR/in" -- sh -c 'cat; head -c 8M /dev/zero >&2' \
        >"$BATS_TEST_TMPDIR/out2" 2>"$BATS_TEST_TMPDIR/err2"
    cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out2"
    [ "$(wc -c <"$BATS_TEST_TMPDIR/err2")" -eq $((8 * 1024 * 1024)) ]
    # ... and captured for --json (4 MiB: the escaped JSON of random bytes is 6 times that)
    command -v jq >/dev/null || return 0
    head -c 4M "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/in4"
    "$TEND" run --json --input "$BATS_TEST_TMPDIR/in4" -- \
        sh -c 'head -c 8M /dev/zero >&2 & cat; wait' >"$BATS_TEST_TMPDIR/json"
    [ "$(jq -c '[.stdout_bytes, .stderr_bytes, .stdin_bytes, .exit_code]' "$BATS_TEST_TMPDIR/json")" = "[4194304,8388608,4194304,0]" ]
}

@test "a child that reads its input only after a delay still gets all of it" {
    head -c 4M /dev/urandom >"$BATS_TEST_TMPDIR/in"
    # cat: a pipe, so tend pumps it (a file would be handed over)
    cat "$BATS_TEST_TMPDIR/in" | "$TEND" run -- sh -c 'sleep 0.3; cat' >"$BATS_TEST_TMPDIR/out"
    cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "a child that never reads its stdin: no hang, no death of tend" {
    local start=$SECONDS
    local st=0
    head -c 32M /dev/zero | "$TEND" run -- sh -c 'sleep 0.2; exit 5' || st=$?
    [ "$st" -eq 5 ]
    head -c 32M /dev/zero | "$TEND" run -- true
    big=$(head -c 100000 /dev/zero | tr '\0' x)
    run "$TEND" run --input-text "$big" -- sh -c 'exit 0'
    assert_status 0
    [ $((SECONDS - start)) -lt 15 ]
}

@test "a child that closes its stdin early: tend stops feeding and goes on" {
    run bash -c "head -c 32M /dev/zero | '$TEND' run -- head -c 1 | wc -c"
    assert_status 0
    [ "$output" -eq 1 ]
    run bash -c "head -c 32M /dev/zero | '$TEND' run -- sh -c 'exec 0<&-; sleep 0.2; echo alive'"
    assert_status 0
    [ "$output" = alive ]
}

@test "a reader of tend's stdout that goes away: the child gets SIGPIPE, as without tend" {
    run bash -c "set -o pipefail; '$TEND' run -- yes | head -n 1"
    [ "$output" = y ]
    assert_status 141
}

@test "--input-text, --input FILE, --input - and stdin passed through" {
    run "$TEND" run --input-text "hello world" -- cat
    [ "$output" = "hello world" ]
    printf 'from file\n' >"$BATS_TEST_TMPDIR/in"
    run "$TEND" run --input "$BATS_TEST_TMPDIR/in" -- cat
    [ "$output" = "from file" ]
    run bash -c "echo from pipe | '$TEND' run --input - -- cat"
    [ "$output" = "from pipe" ]
    run bash -c "echo passed through | '$TEND' run -- cat"
    [ "$output" = "passed through" ]
    run bash -c "'$TEND' run -- cat <'$BATS_TEST_TMPDIR/in'"
    [ "$output" = "from file" ]
    run bash -c "'$TEND' run -- cat </dev/null"
    [ "$output" = "" ]
    run "$TEND" run --input "$BATS_TEST_TMPDIR/missing" -- cat
    assert_status 125
    assert_output_contains "cannot open input $BATS_TEST_TMPDIR/missing"
}

@test "a file as input is handed over: the child sees a file it can seek in" {
    printf '0123456789' >"$BATS_TEST_TMPDIR/in"
    run "$TEND" run --input "$BATS_TEST_TMPDIR/in" -- sh -c 'readlink /proc/self/fd/0'
    [ "$output" = "$BATS_TEST_TMPDIR/in" ]
}

@test "a terminal as stdin is not handed to the command: it reads /dev/null" {
    python3 - "$TEND" <<'EOF'
import os, subprocess, sys
master, slave = os.openpty()
r = subprocess.run([sys.argv[1], "run", "--", "sh", "-c", "readlink /proc/self/fd/0; cat"],
                   stdin=slave, capture_output=True, timeout=20)
assert r.returncode == 0, r
assert r.stdout == b"/dev/null\n", r.stdout
EOF
}

@test "--stdout and --stderr write files; one file for both keeps both" {
    run "$TEND" run --stdout "$BATS_TEST_TMPDIR/o" --stderr "$BATS_TEST_TMPDIR/e" -- \
        sh -c 'echo out; echo err >&2'
    assert_status 0
    [ -z "$output" ]
    [ "$(cat "$BATS_TEST_TMPDIR/o")" = out ]
    [ "$(cat "$BATS_TEST_TMPDIR/e")" = err ]
    run "$TEND" run --stdout "$BATS_TEST_TMPDIR/both" --stderr "$BATS_TEST_TMPDIR/both" -- \
        sh -c 'echo one; echo two >&2; echo three'
    [ "$(sort "$BATS_TEST_TMPDIR/both" | tr '\n' ' ')" = "one three two " ]
    run "$TEND" run --stdout "$BATS_TEST_TMPDIR/nodir/o" -- true
    assert_status 125
}

@test "--capture holds the output back until the command ended" {
    run --separate-stderr "$TEND" run --capture -- sh -c 'echo out; echo err >&2'
    assert_status 0
    [ "$output" = out ]
    [ "$stderr" = err ]
}

@test "--env, --cwd and --shell" {
    run "$TEND" run --env TEND_A=1 --env "TEND_B=two words" -- sh -c 'echo "$TEND_A/$TEND_B"'
    [ "$output" = "1/two words" ]
    TEND_A=old run "$TEND" run --env TEND_A=new -- sh -c 'echo $TEND_A'
    [ "$output" = new ]
    TEND_KEPT=yes run "$TEND" run -- sh -c 'echo $TEND_KEPT'
    [ "$output" = yes ]
    run -127 "$TEND" run --env PATH=/nonexistent -- ls
    run "$TEND" run --cwd "$BATS_TEST_TMPDIR" -- pwd
    [ "$output" = "$BATS_TEST_TMPDIR" ]
    run "$TEND" run --shell -- echo a b '|' tr a-z A-Z
    [ "$output" = "A B" ]
    run "$TEND" run --shell -- 'exit 9'
    assert_status 9
}

@test "--user runs the command as that user (root only)" {
    [ "$(id -u)" -eq 0 ] || skip "needs root"
    id nobody >/dev/null 2>&1 || skip "no user nobody"
    run "$TEND" run --user nobody -- id -u
    assert_status 0
    [ "$output" = "$(id -u nobody)" ]
    run "$TEND" run --user nobody -- id -g
    [ "$output" = "$(id -g nobody)" ]
    run "$TEND" run --user nobody -- sh -c 'echo $HOME $USER'
    [ "$output" = "$(getent passwd nobody | cut -d: -f6) nobody" ]
    run "$TEND" run --user "$(id -u nobody)" -- id -un
    [ "$output" = nobody ]
}

@test "--report: one line with status, time and sizes" {
    run --separate-stderr "$TEND" run --report --input-text "twelve bytes" -- grep nomatch
    assert_status 1
    [[ "$stderr" =~ ^tend:\ grep\ exited\ with\ status\ 1\ after\ [0-9]+\.[0-9]{2}s\ \(in\ 12\ B,\ out\ 0\ B,\ err\ 0\ B\)$ ]]
    run --separate-stderr "$TEND" run --report -- sh -c 'kill -KILL $$'
    assert_status 137
    [[ "$stderr" =~ ^tend:\ sh\ killed\ by\ signal\ KILL\ after\ [0-9.]+s\ \(in\ 0\ B ]]
    run --separate-stderr "$TEND" run --report --timeout 200ms -- sleep 30
    assert_status 124
    [[ "$stderr" =~ ^tend:\ sleep\ timed\ out\ and\ killed\ by\ signal\ TERM\ after ]]
    run --separate-stderr "$TEND" run --report -- sh -c 'head -c 2048 /dev/zero'
    [[ "$stderr" == *"out 2.0 KiB"* ]]
}

@test "--json: valid, and agrees with what happened" {
    command -v jq >/dev/null || skip "jq not installed"
    run --separate-stderr "$TEND" run --json --input-text abc -- \
        sh -c 'cat; printf "\377\376 ok\n"; echo err >&2; exit 3'
    assert_status 3
    jq -e . <<<"$output" >/dev/null
    [ "$(jq -r .exit_code <<<"$output")" = 3 ]
    [ "$(jq -r .signal <<<"$output")" = null ]
    [ "$(jq -r .timed_out <<<"$output")" = false ]
    [ "$(jq -r .core_dumped <<<"$output")" = false ]
    [ "$(jq -r .stdout_bytes <<<"$output")" = 9 ]
    [ "$(jq -r .stderr_bytes <<<"$output")" = 4 ]
    [ "$(jq -r .stdin_bytes <<<"$output")" = 3 ]
    [ "$(jq -r .stderr <<<"$output")" = err ]
    [ "$(jq -c .argv <<<"$output")" = '["sh","-c","cat; printf \"\\377\\376 ok\\n\"; echo err >&2; exit 3"]' ]
    # bytes that are not UTF-8 are escaped one by one; valid UTF-8 stays as it is
    [[ "$output" == *'"stdout":"abc\u00ff\u00fe ok\n"'* ]]
    pid=$(jq -r .pid <<<"$output")
    [ "$pid" -gt 0 ]
    for f in duration_s user_s sys_s max_rss_kb; do
        jq -e ".$f | type == \"number\"" <<<"$output" >/dev/null
    done
    [ "$(jq -r .error <<<"$output")" = null ]
    run --separate-stderr "$TEND" run --json -- printf 'h\xc3\xa9llo'
    [ "$(jq -r .stdout <<<"$output")" = "héllo" ]
}

@test "--json: a timeout and a death by signal" {
    command -v jq >/dev/null || skip "jq not installed"
    run --separate-stderr "$TEND" run --json --timeout 300ms -- sleep 30
    assert_status 124
    [ "$(jq -r .timed_out <<<"$output")" = true ]
    [ "$(jq -r .signal <<<"$output")" = TERM ]
    [ "$(jq -r .exit_code <<<"$output")" = null ]
    run --separate-stderr "$TEND" run --json -- sh -c 'kill -KILL $$'
    assert_status 137
    [ "$(jq -r .signal <<<"$output")" = KILL ]
    [ "$(jq -r .timed_out <<<"$output")" = false ]
}

@test "--json: a command that cannot run still gives the object, with an error" {
    command -v jq >/dev/null || skip "jq not installed"
    run -127 --separate-stderr "$TEND" run --json -- nosuchcmd-tend-test
    jq -e . <<<"$output" >/dev/null
    [ "$(jq -r .exit_code <<<"$output")" = 127 ]
    [ "$(jq -r .pid <<<"$output")" = null ]
    [ "$(jq -r .error <<<"$output")" = "cannot execute nosuchcmd-tend-test: No such file or directory" ]
    chmod 644 "$BATS_TEST_TMPDIR"
    printf 'x' >"$BATS_TEST_TMPDIR/plain"
    run --separate-stderr "$TEND" run --json -- "$BATS_TEST_TMPDIR/plain"
    assert_status 126
    [ "$(jq -r .exit_code <<<"$output")" = 126 ]
    [[ "$(jq -r .error <<<"$output")" == "cannot execute"* ]]
    chmod 755 "$BATS_TEST_TMPDIR"
}

@test "differential: tend run --json agrees with Python's subprocess" {
    command -v jq >/dev/null || skip "jq not installed"
    python3 - "$TEND" "$BATS_TEST_TMPDIR" <<'EOF'
import json, os, signal, subprocess, sys
tend, tmp = sys.argv[1], sys.argv[2]
cases = [
    (["sh", "-c", "exit 3"], b""),
    (["sh", "-c", "kill -TERM $$"], b""),
    (["sh", "-c", "printf 'a\\000b\\377\\376\\303\\251\\n'; printf 'e\\200' >&2"], b""),
    (["cat"], bytes(range(256)) * 1000),
    (["sh", "-c", "cat; exit 4"], b"stdin echo\n"),
    (["sh", "-c", "head -c 100000 /dev/urandom; kill -KILL $$"], b""),
]
for argv, data in cases:
    py = subprocess.run(argv, input=data, capture_output=True, timeout=60)
    inp = os.path.join(tmp, "input")
    with open(inp, "wb") as f:
        f.write(data)
    out, err = os.path.join(tmp, "out"), os.path.join(tmp, "err")
    t = subprocess.run([tend, "run", "--input", inp, "--stdout", out, "--stderr", err, "--"]
                       + argv, timeout=60)
    j = subprocess.run([tend, "run", "--json", "--input", inp, "--"] + argv,
                       capture_output=True, timeout=60)
    doc = json.loads(j.stdout)
    if py.returncode < 0:
        sig = signal.Signals(-py.returncode).name[3:]
        assert t.returncode == 128 - py.returncode, (argv, t.returncode)
        assert doc["signal"] == sig and doc["exit_code"] is None, (argv, doc)
    else:
        assert t.returncode == py.returncode, (argv, t.returncode, py.returncode)
        assert doc["exit_code"] == py.returncode and doc["signal"] is None, (argv, doc)
    assert j.returncode == t.returncode, (argv, j.returncode)
    if not argv[-1].startswith("head -c 100000 /dev/urandom"):
        assert open(out, "rb").read() == py.stdout, argv
    assert open(err, "rb").read() == py.stderr, argv
    assert doc["stdout_bytes"] == len(py.stdout) or "urandom" in argv[-1], (argv, doc)
    assert doc["stderr_bytes"] == len(py.stderr), (argv, doc)
    # every byte below 0x80 comes back from the JSON as it was
    if all(b < 0x80 for b in py.stdout):
        assert doc["stdout"].encode() == py.stdout, argv
print("ok")
EOF
}

@test "signals sent to tend reach the command" {
    for sig in TERM INT HUP QUIT USR1 USR2; do
        rm -f "$BATS_TEST_TMPDIR/got" "$BATS_TEST_TMPDIR/ready"
        "$TEND" run -- sh -c "trap 'echo $sig >$BATS_TEST_TMPDIR/got; exit 9' $sig
            echo ready >$BATS_TEST_TMPDIR/ready
            while :; do sleep 0.05; done" 3>&- &
        local pid=$!
        PIDS_TO_KILL+=("$pid")
        wait_for 10 test -s "$BATS_TEST_TMPDIR/ready"
        kill -s "$sig" "$pid"
        local st=0
        wait "$pid" || st=$?
        [ "$st" -eq 9 ] || { echo "$sig: status $st"; return 1; }
        [ "$(cat "$BATS_TEST_TMPDIR/got")" = "$sig" ]
    done
}

@test "TERM to tend reaches the children of a shell command too (sent to the group)" {
    # the outer shell outlives its child: once it exits, tend kills what is left of the group
    "$TEND" run -- sh -c "trap : TERM
        sh -c 'trap \"echo child >$BATS_TEST_TMPDIR/got; exit 0\" TERM
        echo ready >$BATS_TEST_TMPDIR/ready; while :; do sleep 0.05; done' & wait; wait" 3>&- &
    local pid=$!
    PIDS_TO_KILL+=("$pid")
    wait_for 10 test -s "$BATS_TEST_TMPDIR/ready"
    kill -TERM "$pid"
    wait "$pid" || true
    wait_for 10 test -s "$BATS_TEST_TMPDIR/got"
}

@test "the command runs in its own process group" {
    run "$TEND" run -- sh -c 'ps -o pid=,pgid= -p $$'
    read -r pid pgid <<<"$output"
    [ "$pid" = "$pgid" ]
}

@test "the command sees only fds 0, 1 and 2" {
    run "$TEND" run -- sh -c 'ls /proc/$$/fd' 5</dev/null 7>"$BATS_TEST_TMPDIR/x"
    assert_status 0
    [ "$(echo $output)" = "0 1 2" ]
}

@test "the command starts with no blocked and no ignored signal" {
    # the calling shell ignores some signals; the command must not inherit that
    run bash -c "trap '' INT QUIT TERM HUP PIPE USR1; '$TEND' run -- cat /proc/self/status"
    assert_status 0
    [[ "$output" == *$'SigBlk:\t0000000000000000'* ]]
    [[ "$output" == *$'SigIgn:\t0000000000000000'* ]]
}

@test "stdout of the command is a pipe (tend's own here: bats reads a pipe), never a terminal" {
    run "$TEND" run -- sh -c 'readlink /proc/self/fd/1; readlink /proc/self/fd/2 >&2'
    [[ "$output" == pipe:* ]]
    command -v script >/dev/null || skip "script(1) not available"
    # on a terminal, the command writes to a pipe of tend's that tend copies to the terminal
    run script -qec "$TEND run -- readlink /proc/self/fd/1" /dev/null
    [[ "$output" == pipe:* ]]
}

@test "nothing needs the bytes: tend's own pipes and files become the command's; --report, --json or --capture put tend's pipes between" {
    run bash -c 'echo x | { readlink /proc/self/fd/0; "$TEND" run -- readlink /proc/self/fd/0; "$TEND" run --report -- readlink /proc/self/fd/0 2>/dev/null; }'
    assert_status 0
    [ "${#lines[@]}" -eq 3 ]
    [[ "${lines[0]}" == pipe:* ]]
    [ "${lines[1]}" = "${lines[0]}" ]
    [[ "${lines[2]}" == pipe:* ]]
    [ "${lines[2]}" != "${lines[0]}" ]
    local f=$BATS_TEST_TMPDIR/own.out
    "$TEND" run -- readlink /proc/self/fd/1 >"$f"
    [ "$(cat "$f")" = "$f" ]
    "$TEND" run --stdout "$f" -- readlink /proc/self/fd/1
    [ "$(cat "$f")" = "$f" ]
    "$TEND" run --capture -- readlink /proc/self/fd/1 >"$f"
    [[ "$(cat "$f")" == pipe:* ]]
    run "$TEND" run --json -- readlink /proc/self/fd/1
    [[ "$(jq -r .stdout <<<"$output")" == pipe:* ]]
    # and the bytes are all there, as through the pump
    head -c 3000000 /dev/urandom >"$BATS_TEST_TMPDIR/in.bin"
    "$TEND" run -- cat <"$BATS_TEST_TMPDIR/in.bin" | cat >"$BATS_TEST_TMPDIR/out.bin"
    cmp "$BATS_TEST_TMPDIR/in.bin" "$BATS_TEST_TMPDIR/out.bin"
    cat "$BATS_TEST_TMPDIR/in.bin" | "$TEND" run -- cat >"$BATS_TEST_TMPDIR/out.bin"
    cmp "$BATS_TEST_TMPDIR/in.bin" "$BATS_TEST_TMPDIR/out.bin"
}

@test "hundreds of runs under a low fd limit: nothing leaks" {
    run bash -c "ulimit -n 32; for i in \$(seq 300); do '$TEND' run --input-text x -- cat >/dev/null || exit 1; done"
    assert_status 0
}
