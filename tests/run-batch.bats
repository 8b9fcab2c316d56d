#!/usr/bin/env bats
# `tend run -c FILE [-j N] [NAME...]`: the programs of a config file as one-shot jobs, at most N
# at once, in priority order, after their dependencies; prefixed output, a summary, --json.

load helpers

setup() {
    LOG="$BATS_TEST_TMPDIR/log"
    : >"$LOG"
    PIDS_TO_KILL=()
}

teardown() {
    local pid
    for pid in "${PIDS_TO_KILL[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
}

# job NAME [SECONDS]: a command that logs "start NAME <ns>" and "end NAME <ns>" around a sleep
job() {
    printf "sh -c 'echo start %s \$(date +%%%%s%%%%N) >>%s; sleep %s; echo end %s \$(date +%%%%s%%%%N) >>%s'" \
        "$1" "$LOG" "${2:-0}" "$1" "$LOG"
}

# max_concurrency: the most jobs between their start and end lines at any one time
max_concurrency() {
    sort -k3,3n "$LOG" | awk '$1 == "start" { n++; if (n > max) max = n } $1 == "end" { n-- }
        END { print max + 0 }'
}

# started_order: names in the order they started
started_order() {
    sort -k3,3n "$LOG" | awk '$1 == "start" { printf "%s ", $2 }'
}

@test "every job succeeds: exit 0, a summary table on stderr" {
    cfg=$(write_config <<EOF
[program:one]
command = $(job one)
[program:two]
command = $(job two)
EOF
)
    run --separate-stderr "$TEND" run -c "$cfg"
    assert_status 0
    [[ "$stderr" =~ NAME\ +STATUS\ +DURATION ]]
    [[ "$stderr" =~ one\ +ok\ +[0-9]+\.[0-9]{2}s\ +exited\ with\ status\ 0 ]]
    [[ "$stderr" =~ two\ +ok\ +[0-9]+\.[0-9]{2}s ]]
    [ "$(grep -c '^start' "$LOG")" -eq 2 ]
}

@test "the global -c before the verb works too" {
    cfg=$(write_config <<EOF
[program:one]
command = $(job one)
EOF
)
    run "$TEND" -c "$cfg" run
    assert_status 0
    [ "$(grep -c '^end one' "$LOG")" -eq 1 ]
}

@test "-j N: never more than N jobs at once, and N do run together" {
    {
        for i in 1 2 3 4 5 6; do
            printf '[program:j%s]\ncommand = %s\n' "$i" "$(job "j$i" 0.3)"
        done
    } | write_config >/dev/null
    run "$TEND" run -c "$BATS_TEST_TMPDIR/tend.ini" -j 2
    assert_status 0
    [ "$(grep -c '^end' "$LOG")" -eq 6 ]
    [ "$(max_concurrency)" -eq 2 ]
    : >"$LOG"
    run "$TEND" run -c "$BATS_TEST_TMPDIR/tend.ini" -j 1
    assert_status 0
    [ "$(max_concurrency)" -eq 1 ]
    : >"$LOG"
    run "$TEND" run -c "$BATS_TEST_TMPDIR/tend.ini" --jobs 6
    assert_status 0
    [ "$(max_concurrency)" -gt 2 ]
}

@test "-j 1 starts jobs in priority order, then file order" {
    cfg=$(write_config <<EOF
[program:late]
command = $(job late)
priority = 30
[program:first]
command = $(job first)
priority = 10
[program:middle_a]
command = $(job middle_a)
priority = 20
[program:middle_b]
command = $(job middle_b)
priority = 20
EOF
)
    run "$TEND" run -c "$cfg" -j 1
    assert_status 0
    [ "$(started_order)" = "first middle_a middle_b late " ]
}

@test "depends_on: a job starts only after its dependencies finished successfully" {
    cfg=$(write_config <<EOF
[program:app]
command = $(job app)
depends_on = db, cache
priority = 1
[program:db]
command = $(job db 0.3)
priority = 50
[program:cache]
command = $(job cache 0.1)
numprocs = 2
process_name = cache_%(process_num)d
priority = 60
EOF
)
    run "$TEND" run -c "$cfg" -j 8
    assert_status 0
    app_start=$(awk '$1 == "start" && $2 == "app" { print $3 }' "$LOG")
    for dep in db cache; do
        while read -r t; do
            [ "$t" -lt "$app_start" ]
        done < <(awk -v d="$dep" '$1 == "end" && $2 == d { print $3 }' "$LOG")
    done
    [ "$(grep -c '^end cache' "$LOG")" -eq 2 ]
}

@test "a job whose dependency failed is skipped, not started" {
    cfg=$(write_config <<EOF
[program:build]
command = sh -c 'exit 2'
[program:deploy]
command = $(job deploy)
depends_on = build
[program:notify]
command = $(job notify)
depends_on = deploy
EOF
)
    run --separate-stderr "$TEND" run -c "$cfg" --keep-going
    assert_status 1
    [ ! -s "$LOG" ]
    [[ "$stderr" =~ build\ +failed\ .*exited\ with\ status\ 2 ]]
    [[ "$stderr" =~ deploy\ +skipped\ .*dependency\ build ]]
    [[ "$stderr" =~ notify\ +skipped\ .*dependency\ deploy ]]
}

@test "exitcodes decide success; exit 0 only when every job succeeded" {
    cfg=$(write_config <<'EOF'
[program:three]
command = sh -c 'exit 3'
exitcodes = 0,3
EOF
)
    run "$TEND" run -c "$cfg"
    assert_status 0
    cfg=$(write_config <<'EOF'
[program:three]
command = sh -c 'exit 3'
[program:fine]
command = true
EOF
)
    run "$TEND" run -c "$cfg" --keep-going
    assert_status 1
    cfg=$(write_config <<'EOF'
[program:killed]
command = sh -c 'kill -KILL $$'
exitcodes = 0,137
EOF
)
    run --separate-stderr "$TEND" run -c "$cfg"
    assert_status 1
    [[ "$stderr" =~ killed\ +failed\ .*killed\ by\ signal\ KILL ]]
}

@test "stop at the first failure like make; --keep-going starts the rest" {
    cfg=$(write_config <<EOF
[program:bad]
command = sh -c 'exit 1'
priority = 1
[program:good]
command = $(job good)
priority = 2
EOF
)
    run --separate-stderr "$TEND" run -c "$cfg" -j 1
    assert_status 1
    [ ! -s "$LOG" ]
    [[ "$stderr" == *"bad exited with status 1; no new job starts"* ]]
    [[ "$stderr" =~ good\ +skipped ]]
    run --separate-stderr "$TEND" run -c "$cfg" -j 1 --keep-going
    assert_status 1
    [ "$(grep -c '^end good' "$LOG")" -eq 1 ]
    [[ "$stderr" =~ good\ +ok ]]
}

@test "after a failure the running jobs are left to finish" {
    cfg=$(write_config <<EOF
[program:slow]
command = $(job slow 0.5)
priority = 1
[program:bad]
command = sh -c 'sleep 0.1; exit 1'
priority = 2
[program:never]
command = $(job never)
priority = 3
EOF
)
    run --separate-stderr "$TEND" run -c "$cfg" -j 2
    assert_status 1
    [ "$(grep -c '^end slow' "$LOG")" -eq 1 ]
    ! grep -q never "$LOG"
}

@test "--json: an array with name, status, exit_code, signal and duration of each job" {
    command -v jq >/dev/null || skip "jq not installed"
    cfg=$(write_config <<'EOF'
[program:ok]
command = sh -c 'echo fine'
priority = 1
[program:bad]
command = sh -c 'exit 4'
priority = 2
[program:sig]
command = sh -c 'kill -TERM $$'
priority = 3
[program:after]
command = true
depends_on = bad
[program:missing]
command = /nonexistent/program
priority = 4
EOF
)
    run --separate-stderr "$TEND" run -c "$cfg" --json --keep-going -j 1
    assert_status 1
    jq -e . <<<"$output" >/dev/null
    [ "$(jq length <<<"$output")" -eq 5 ]
    [ "$(jq -r '.[] | select(.name == "ok") | .status' <<<"$output")" = ok ]
    [ "$(jq -r '.[] | select(.name == "ok") | .exit_code' <<<"$output")" = 0 ]
    jq -e '.[] | select(.name == "ok") | .duration_s | type == "number"' <<<"$output" >/dev/null
    [ "$(jq -r '.[] | select(.name == "bad") | .status' <<<"$output")" = failed ]
    [ "$(jq -r '.[] | select(.name == "bad") | .exit_code' <<<"$output")" = 4 ]
    [ "$(jq -r '.[] | select(.name == "sig") | .signal' <<<"$output")" = TERM ]
    [ "$(jq -r '.[] | select(.name == "sig") | .exit_code' <<<"$output")" = null ]
    [ "$(jq -r '.[] | select(.name == "after") | .status' <<<"$output")" = skipped ]
    [ "$(jq -r '.[] | select(.name == "after") | .duration_s' <<<"$output")" = null ]
    [ "$(jq -r '.[] | select(.name == "missing") | .status' <<<"$output")" = failed ]
    [[ "$(jq -r '.[] | select(.name == "missing") | .error' <<<"$output")" == "cannot execute /nonexistent/program"* ]]
    # the jobs' output went to stderr, prefixed, so stdout is only JSON
    [[ "$stderr" == *"ok      | fine"* ]]
}

@test "output: every line behind its job's name, padded; no line is ever split" {
    cfg=$(write_config <<'EOF'
[program:a]
command = sh -c 'i=0; while [ $i -lt 2000 ]; do echo "a-line $i"; i=$((i+1)); done'
[program:longer_b]
command = sh -c 'i=0; while [ $i -lt 2000 ]; do echo "b-line $i"; i=$((i+1)); done; printf "no newline"'
[program:err]
command = sh -c 'echo to-stderr >&2'
EOF
)
    run --separate-stderr "$TEND" run -c "$cfg" -j 3
    assert_status 0
    [ "$(grep -c '^a        | a-line [0-9]*$' <<<"$output")" -eq 2000 ]
    [ "$(grep -c '^longer_b | b-line [0-9]*$' <<<"$output")" -eq 2000 ]
    [ "$(grep -c '' <<<"$output")" -eq 4001 ]
    [[ "$output" == *$'\nlonger_b | no newline'* ]]
    [[ "$stderr" == *"err      | to-stderr"* ]]
    [[ "$output" != *$'\033'* ]]
}

@test "colour only on a terminal, and never with NO_COLOR" {
    cfg=$(write_config <<'EOF'
[program:hello]
command = echo hi
EOF
)
    python3 - "$TEND" "$cfg" <<'EOF'
import os, subprocess, sys
def run(env):
    master, slave = os.openpty()
    p = subprocess.run([sys.argv[1], "run", "-c", sys.argv[2]], stdout=slave,
                       stderr=subprocess.DEVNULL, env=env, timeout=20)
    os.close(slave)
    data = os.read(master, 65536)
    os.close(master)
    assert p.returncode == 0
    return data
env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
assert b"\x1b[" in run(env) and b"hi" in run(env), run(env)
env["NO_COLOR"] = "1"
out = run(env)
assert b"\x1b[" not in out and b"hello | hi" in out, out
EOF
}

@test "NAME selects by process, program, GROUP:* and pulls in dependencies" {
    local wcmd
    wcmd=$(job 'w_%(process_num)d')
    cfg=$(write_config <<EOF
[group:web]
programs = front, back
[program:front]
command = $(job front)
[program:back]
command = $(job back)
depends_on = db
[program:db]
command = $(job db)
[program:w]
numprocs = 2
process_name = w_%(process_num)d
command = $wcmd
[program:other]
command = $(job other)
EOF
)
    run "$TEND" run -c "$cfg" w_1
    assert_status 0
    [ "$(started_order)" = "w_1 " ]
    : >"$LOG"
    run "$TEND" run -c "$cfg" w -j 1
    [ "$(started_order)" = "w_0 w_1 " ]
    : >"$LOG"
    run "$TEND" run -c "$cfg" 'web:*' -j 1
    assert_status 0
    [ "$(started_order | tr ' ' '\n' | sort | tr '\n' ' ')" = "back db front " ]
    : >"$LOG"
    run "$TEND" run -c "$cfg" web:front
    [ "$(started_order)" = "front " ]
    run "$TEND" run -c "$cfg" nosuch
    assert_status 2
    assert_output_contains "no process, program or group named 'nosuch'"
}

@test "autostart = false: not run unless named" {
    cfg=$(write_config <<EOF
[program:auto]
command = $(job auto)
[program:manual]
command = $(job manual)
autostart = false
EOF
)
    run "$TEND" run -c "$cfg"
    assert_status 0
    [ "$(started_order)" = "auto " ]
    : >"$LOG"
    run "$TEND" run -c "$cfg" manual
    [ "$(started_order)" = "manual " ]
}

@test "each job gets its environment, directory, umask, limits and stdin" {
    mkdir -p "$BATS_TEST_TMPDIR/work"
    printf 'from the file\n' >"$BATS_TEST_TMPDIR/input"
    cat >"$BATS_TEST_TMPDIR/env" <<'EOF'
# a comment
FROM_FILE=file
export EXPORTED=yes
QUOTED="a b"
BOTH=from-file
EOF
    cfg=$(write_config <<EOF
[tend]
environment = GLOBAL="g",BOTH="global"
[program:env]
command = sh -c 'echo "\$GLOBAL \$FROM_FILE \$EXPORTED \$QUOTED \$BOTH \$TEND_PROCESS_NAME \$INHERITED"'
environment = BOTH="program"
env_file = $BATS_TEST_TMPDIR/env
[program:where]
command = sh -c 'pwd; umask; echo "nofile \$(ulimit -n)"'
directory = $BATS_TEST_TMPDIR/work
umask = 027
rlimit_nofile = 300
[program:reads]
command = cat
stdin = file:$BATS_TEST_TMPDIR/input
[program:nostdin]
command = cat
EOF
)
    INHERITED=inh run --separate-stderr "$TEND" run -c "$cfg" </dev/zero
    assert_status 0
    assert_output_contains "env     | g file yes a b program env inh"
    assert_output_contains "where   | $BATS_TEST_TMPDIR/work"
    assert_output_contains "where   | 0027"
    assert_output_contains "where   | nofile 300"
    assert_output_contains "reads   | from the file"
    [[ "$output" != *"nostdin |"* ]]
}

@test "redirect_stderr sends stderr into the stdout stream" {
    cfg=$(write_config <<'EOF'
[program:merged]
command = sh -c 'echo out; echo err >&2'
redirect_stderr = true
EOF
)
    run --separate-stderr "$TEND" run -c "$cfg"
    assert_output_contains "merged | out"
    assert_output_contains "merged | err"
}

@test "a job that cannot start fails with a message; an unreadable env_file too" {
    cfg=$(write_config <<'EOF'
[program:ghost]
command = /nonexistent/ghost
[program:noenv]
command = true
env_file = /nonexistent/env
EOF
)
    run --separate-stderr "$TEND" run -c "$cfg" --keep-going
    assert_status 1
    [[ "$stderr" == *"tend: ghost: cannot execute /nonexistent/ghost: No such file or directory"* ]]
    [[ "$stderr" == *"cannot read env_file /nonexistent/env"* ]]
}

@test "user runs the job as that user (root only)" {
    [ "$(id -u)" -eq 0 ] || skip "needs root"
    id nobody >/dev/null 2>&1 || skip "no user nobody"
    cfg=$(write_config <<'EOF'
[program:who]
command = id -un
user = nobody
EOF
)
    run --separate-stderr "$TEND" run -c "$cfg"
    assert_status 0
    assert_output_contains "who | nobody"
}

@test "a config error prints diagnostics and exits 78" {
    cfg=$(write_config bad.ini <<'EOF'
[program:a]
command = true
startsecs = soon
EOF
)
    run --separate-stderr "$TEND" run -c "$cfg"
    assert_status 78
    [[ "$stderr" == *"bad.ini:3: [program:a] startsecs: invalid duration"* ]]
    run "$TEND" run -c "$BATS_TEST_TMPDIR/none.ini"
    assert_status 78
}

@test "options for one command are refused with -c" {
    cfg=$(write_config <<'EOF'
[program:a]
command = true
EOF
)
    run "$TEND" run -c "$cfg" --timeout 1
    assert_status 2
    assert_output_contains "--timeout is for one command"
    run "$TEND" run -c "$cfg" -j 0
    assert_status 2
}

@test "nothing a job started outlives it" {
    local marker="303.$$$RANDOM"
    cfg=$(write_config <<EOF
[program:leaver]
command = sh -c 'sleep $marker & echo bye'
EOF
)
    run "$TEND" run -c "$cfg"
    assert_status 0
    ! pgrep -f "sleep $marker"
}

@test "TERM to tend reaches the running jobs and starts nothing new" {
    cfg=$(write_config <<EOF
[program:waiter]
command = sh -c 'trap "echo got-term >>$LOG; exit 0" TERM; echo ready >$BATS_TEST_TMPDIR/ready; while :; do sleep 0.05; done'
priority = 1
[program:later]
command = $(job later)
priority = 2
EOF
)
    "$TEND" run -c "$cfg" -j 1 3>&- 2>"$BATS_TEST_TMPDIR/stderr" &
    local pid=$!
    PIDS_TO_KILL+=("$pid")
    wait_for 10 test -s "$BATS_TEST_TMPDIR/ready"
    kill -TERM "$pid"
    local st=0
    wait "$pid" || st=$?
    [ "$st" -eq 1 ]
    grep -q got-term "$LOG"
    ! grep -q later "$LOG"
    grep -q "interrupted" "$BATS_TEST_TMPDIR/stderr"
}

@test "many jobs under a low fd limit: no fd leaks" {
    {
        for i in $(seq 1 80); do
            printf '[program:n%s]\ncommand = true\n' "$i"
        done
    } | write_config >/dev/null
    run bash -c "ulimit -n 40; '$TEND' run -c '$BATS_TEST_TMPDIR/tend.ini' -j 4"
    assert_status 0
}

# ---- pipelines: stdout = program:NAME between jobs ----

@test "pipeline: producer | filter | consumer, each stage with its own row" {
    cfg=$(write_config <<EOF
[program:producer]
command = seq 1 1000
stdout = program:filter
[program:filter]
command = grep 7
stdout = program:consumer
[program:consumer]
command = sh -c 'wc -l >"$BATS_TEST_TMPDIR/count"'
EOF
)
    run --separate-stderr timeout 60 "$TEND" run -c "$cfg"
    assert_status 0
    [ "$(tr -d ' ' <"$BATS_TEST_TMPDIR/count")" -eq "$(seq 1 1000 | grep -c 7)" ]
    [[ "$stderr" =~ producer\ +ok\ +[0-9]+\.[0-9]{2}s\ +exited\ with\ status\ 0 ]]
    [[ "$stderr" =~ filter\ +ok\ +[0-9]+\.[0-9]{2}s\ +exited\ with\ status\ 0 ]]
    [[ "$stderr" =~ consumer\ +ok\ +[0-9]+\.[0-9]{2}s\ +exited\ with\ status\ 0 ]]
    # a piped stream goes to its reader only, not to tend's output
    [ -z "$output" ]
}

@test "pipeline: pipefail; a failing middle stage fails the batch, each status on its own" {
    cfg=$(write_config <<'EOF'
[program:producer]
command = seq 1 1000000
stdout = program:filter
[program:filter]
command = sh -c 'read x; exit 3'
stdout = program:consumer
[program:consumer]
command = wc -l
EOF
)
    run --separate-stderr timeout 60 "$TEND" run -c "$cfg"
    [ "$status" -ne 0 ]
    [ "$status" -ne 124 ]
    [[ "$stderr" =~ filter\ +failed\ .*exited\ with\ status\ 3 ]]
    # the producer wrote into a pipe nobody reads any more: SIGPIPE, unless it was done first
    [[ "$stderr" =~ producer\ +(failed\ .*killed\ by\ signal\ PIPE|ok\ .*exited\ with\ status\ 0) ]]
    [[ "$stderr" =~ consumer\ +ok\ .*exited\ with\ status\ 0 ]]
    assert_output_contains "consumer | 0"
}

@test "pipeline: a reader that exits early gets its writer SIGPIPE, reported as its status" {
    command -v jq >/dev/null || skip "jq not installed"
    cfg=$(write_config <<'EOF'
[program:yes]
command = yes
stdout = program:first
[program:first]
command = head -n 1
EOF
)
    run --separate-stderr timeout 60 "$TEND" run -c "$cfg" --json
    assert_status 1
    [ "$(jq -r '.[] | select(.name == "yes") | .signal' <<<"$output")" = PIPE ]
    [ "$(jq -r '.[] | select(.name == "yes") | .status' <<<"$output")" = failed ]
    [ "$(jq -r '.[] | select(.name == "first") | .exit_code' <<<"$output")" = 0 ]
    [[ "$stderr" == *"first | y"* ]]
}

@test "pipeline: -j 1 runs all stages of a pipeline together, as one slot" {
    {
        printf '[program:producer]\ncommand = seq 1 300000\nstdout = program:filter\n'
        printf '[program:filter]\ncommand = grep 7\nstdout = program:consumer\n'
        printf '[program:consumer]\ncommand = sh -c '\''wc -l >"%s"'\''\n' "$BATS_TEST_TMPDIR/count"
        printf '[program:alone_a]\ncommand = %s\n' "$(job alone_a 0.2)"
        printf '[program:alone_b]\ncommand = %s\n' "$(job alone_b 0.2)"
    } | write_config >/dev/null
    # far more than a pipe holds: the stages must run at the same time or they never end
    run --separate-stderr timeout 60 "$TEND" run -c "$BATS_TEST_TMPDIR/tend.ini" -j 1
    assert_status 0
    [ "$(tr -d ' ' <"$BATS_TEST_TMPDIR/count")" -eq "$(seq 1 300000 | grep -c 7)" ]
    # the jobs alone still go one at a time
    [ "$(max_concurrency)" -eq 1 ]
    [ "$(grep -c '^end' "$LOG")" -eq 2 ]
}

@test "pipeline: --json has one object per stage with its own exit status" {
    command -v jq >/dev/null || skip "jq not installed"
    cfg=$(write_config <<'EOF'
[program:producer]
command = sh -c 'echo one; echo two; exit 5'
stdout = program:filter
exitcodes = 0,5
[program:filter]
command = sh -c 'cat; exit 4'
stdout = program:consumer
[program:consumer]
command = cat
EOF
)
    run --separate-stderr timeout 60 "$TEND" run -c "$cfg" --json
    assert_status 1
    [ "$(jq length <<<"$output")" -eq 3 ]
    [ "$(jq -r '.[] | select(.name == "producer") | "\(.status) \(.exit_code)"' <<<"$output")" = "ok 5" ]
    [ "$(jq -r '.[] | select(.name == "filter") | "\(.status) \(.exit_code)"' <<<"$output")" = "failed 4" ]
    [ "$(jq -r '.[] | select(.name == "consumer") | "\(.status) \(.exit_code)"' <<<"$output")" = "ok 0" ]
    jq -e 'all(.[]; .pid | type == "number")' <<<"$output" >/dev/null
    [[ "$stderr" == *"consumer | one"* && "$stderr" == *"consumer | two"* ]]
}

@test "pipeline: tee and fan-out (program:x, program:y, file:PATH) deliver identical bytes" {
    head -c 300000 /dev/urandom | base64 >"$BATS_TEST_TMPDIR/data"
    cfg=$(write_config <<EOF
[program:source]
command = cat "$BATS_TEST_TMPDIR/data"
stdout = program:left, file:$BATS_TEST_TMPDIR/tee.out
[program:left]
command = sh -c 'cat >"$BATS_TEST_TMPDIR/left.out"'
[program:fan]
command = cat "$BATS_TEST_TMPDIR/data"
stdout = program:slow, program:fast
[program:slow]
command = sh -c 'sleep 0.3; cat >"$BATS_TEST_TMPDIR/slow.out"'
[program:fast]
command = sh -c 'cat >"$BATS_TEST_TMPDIR/fast.out"'
[program:errs]
command = sh -c 'echo visible; echo hidden >&2'
stderr = file:$BATS_TEST_TMPDIR/errs.out
EOF
)
    run --separate-stderr timeout 60 "$TEND" run -c "$cfg"
    assert_status 0
    for f in tee left slow fast; do
        cmp "$BATS_TEST_TMPDIR/data" "$BATS_TEST_TMPDIR/$f.out"
    done
    [ "$(cat "$BATS_TEST_TMPDIR/errs.out")" = hidden ]
    assert_output_contains "errs   | visible"
    [[ "$stderr" != *hidden* ]]
}

@test "pipeline: naming one stage runs the whole pipeline; depends_on waits for the stage" {
    cfg=$(write_config <<EOF
[program:producer]
command = sh -c 'echo start producer \$(date +%%s%%N) >>$LOG; echo data'
stdout = program:consumer
autostart = false
[program:consumer]
command = sh -c 'cat >"$BATS_TEST_TMPDIR/got"; echo end consumer \$(date +%%s%%N) >>$LOG'
autostart = false
[program:after]
command = $(job after)
depends_on = consumer
autostart = false
[program:unrelated]
command = $(job unrelated)
EOF
)
    run timeout 60 "$TEND" run -c "$cfg" consumer
    assert_status 0
    [ "$(cat "$BATS_TEST_TMPDIR/got")" = data ]
    [ "$(started_order)" = "producer " ]
    : >"$LOG"
    run timeout 60 "$TEND" run -c "$cfg" after -j 4
    assert_status 0
    [ "$(started_order)" = "producer after " ]
    consumer_end=$(awk '$1 == "end" && $2 == "consumer" { print $3 }' "$LOG")
    after_start=$(awk '$1 == "start" && $2 == "after" { print $3 }' "$LOG")
    [ "$consumer_end" -lt "$after_start" ]
}

@test "pipeline: stages get only fds 0-2, readers see EOF; a stage that cannot start fails alone" {
    cfg=$(write_config <<'EOF'
[program:writer]
command = sh -c 'echo x; echo y >&2'
stdout = program:reader, file:/dev/null
stderr = program:reader
[program:reader]
command = sh -c 'cat >/dev/null; for fd in 3 4 5 6 7 8 9; do if { true >&$fd; } 2>/dev/null; then echo "fd $fd is open"; fi; done; echo eof'
[program:ghost_writer]
command = /nonexistent/ghost
stdout = program:lonely
[program:lonely]
command = wc -c
EOF
)
    run --separate-stderr timeout 60 "$TEND" run -c "$cfg" --keep-going
    assert_status 1
    assert_output_contains "reader       | eof"
    [[ "$output" != *"is open"* ]]
    assert_output_contains "lonely       | 0"
    [[ "$stderr" =~ ghost_writer\ +failed\ .*cannot\ execute ]]
    [[ "$stderr" =~ lonely\ +ok ]]
}
