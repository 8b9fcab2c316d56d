#!/usr/bin/env bats
# Fault tests of the supervisor, with real processes: a crash loop of a thousand restarts, fd
# exhaustion (EMFILE), a full and a vanished log directory, SIGKILL of tend itself, a soak of
# short-lived children, and a storm of signals. Each test waits for conditions with a deadline,
# never for a fixed time, and leaves no process, mount or file behind. What they prove is listed
# under RELIABILITY in tend(1).

load helpers

setup() {
    use_tend_fixture
    # every client call has a deadline: a supervisor that stops answering fails the test,
    # never hangs it
    TEND_CLIENT_TIMEOUT=30
    MOUNTED=
    ORPHANS=
}

teardown() {
    teardown_tend
    for p in $ORPHANS; do
        kill -KILL "$p" 2>/dev/null || true
    done
    if [ -n "$MOUNTED" ]; then
        umount -l "$MOUNTED" 2>/dev/null || true
    fi
}

rss_kb() {
    awk '/^VmRSS:/ {print $2}' /proc/"$1"/status
}

state_is() {
    [ "$(field "$1" state)" = "$2" ]
}

# zombies PID: the number of zombie children of PID
zombies() {
    zombie_pids "$1" | wc -l
}

# zombie_pids PID: the pids of PID's children that are zombies, one per line
zombie_pids() {
    ps --ppid "$1" -o stat=,pid= | awk '$1 ~ /^Z/ {print $2}'
}

# settled: no process of $CFG is STARTING or BACKOFF any more
settled() {
    [ "$(tend_ status --json | jq '[.[] | select(.state == "STARTING" or .state == "BACKOFF")] | length')" -eq 0 ]
}

# an ASan build holds freed memory in quarantine: its RSS says nothing about leaks (LSan does)
asan_build() {
    ldd "$TEND" 2>/dev/null | grep -q libasan
}

@test "a thousand crashes in a row: tend's fds and memory are the same at the end as at the start" {
    start_with_config <<EOF2
[tend]
socket = $SOCK
loglevel = warn
[program:crashy]
; dies of SIGSEGV at once, every time (without a core file)
command = sh -c 'kill -SEGV \$\$'
autostart = false
startsecs = 0
autorestart = true
backoff_base = 0
restart_delay = 0
rlimit_core = 0
EOF2
    fds0=$(fd_count "$TEND_PID")
    rss0=$(rss_kb "$TEND_PID")
    tend_ start --no-wait crashy
    wait_for 120 restarts_at_least crashy 1000
    wait_for 10 eval '[ "$(field crashy signal)" = SEGV ]'
    run tend_ stop crashy
    assert_status 0
    wait_for 20 state_is crashy STOPPED
    fds1=$(fd_count "$TEND_PID")
    rss1=$(rss_kb "$TEND_PID")
    echo "restarts $(field crashy restarts); fds $fds0 -> $fds1; RSS ${rss0} kB -> ${rss1} kB"
    [ "$fds1" -eq "$fds0" ]
    if ! asan_build; then
        [ "$rss1" -le $((rss0 + 256)) ]
    fi
    [ "$(zombies "$TEND_PID")" -eq 0 ]
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
}

@test "fds exhausted (EMFILE): a clear error, BACKOFF then FATAL, and a start succeeds once fds are free" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
EOF2
)
    for i in 1 2 3 4 5 6; do
        printf '[program:p%d]\ncommand = %s 100%d\nstartsecs = 0\nstartretries = 2\nbackoff_base = 100ms\n' \
            "$i" "$SLEEP" "$i" >>"$CFG"
    done
    # 16 fds: tend's own, and the pipes of two or three programs at most
    bash -c 'ulimit -n 16 && exec "$0" -c "$1" up' "$TEND" "$CFG" \
        >"$BATS_TEST_TMPDIR/tend.out" 2>"$BATS_TEST_TMPDIR/tend.err" 3>&- &
    TEND_PID=$!
    wait_log "Too many open files"
    wait_for 30 settled
    # the message names the program, what failed and why; the retries are visible; then FATAL
    log_has "cannot start $SLEEP: Too many open files; restart 1/2 in 0.1s"
    wait_log "Too many open files; giving up after 3 attempts (FATAL)"
    run tend_ status --json
    fatal=$(jq -r '[.[] | select(.state == "FATAL")][0].name' <<<"$output")
    [ "$fatal" != null ]
    [[ "$(jq -r "[.[] | select(.name == \"$fatal\")][0].error" <<<"$output")" == *"Too many open files"* ]]
    running=$(jq -r '.[] | select(.state == "RUNNING") | .name' <<<"$output")
    # free fds by stopping what runs; then the failed program starts
    if [ -n "$running" ]; then
        run tend_ stop $running
        assert_status 0
    fi
    run tend_ start "$fatal"
    assert_status 0
    [ "$(field "$fatal" state)" = RUNNING ]
    kill -0 "$(field "$fatal" pid)"
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
}

@test "a full filesystem under a log file: the program runs on, tend answers, one error in the log" {
    [ "$(id -u)" -eq 0 ] || skip "needs root to mount a tmpfs"
    logs="$BATS_TEST_TMPDIR/logs"
    mkdir -p "$logs"
    mount -t tmpfs -o size=256k tmpfs "$logs" 2>/dev/null || skip "cannot mount a tmpfs here"
    MOUNTED=$logs
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:chatty]
command = sh -c 'while :; do echo "a line of about sixty bytes, written again and again"; done'
startsecs = 0
stdout_logfile = $logs/chatty.log
stdout_logfile_maxbytes = 0
EOF2
)
    # full before the program starts: its log file can be created, but not written
    dd if=/dev/zero of="$logs/fill" bs=4k >/dev/null 2>&1 || true
    [ "$(df --output=avail "$logs" | tail -n 1)" -eq 0 ]
    start_tend "$CFG"
    wait_for 20 state_is chatty RUNNING
    pid=$(field chatty pid)
    wait_log "chatty: cannot write stdout log $logs/chatty.log: No space left on device"
    # tend goes on reading the pipe (the bytes are counted, then dropped): never blocked
    b0=$(field chatty stdout_bytes)
    wait_for 30 eval '[ "$(field chatty stdout_bytes)" -gt $((b0 + 1000000)) ]'
    [ "$(field chatty state)" = RUNNING ]
    [ "$(field chatty pid)" = "$pid" ]
    kill -0 "$pid"
    [ "$(grep -c 'cannot write stdout log' "$BATS_TEST_TMPDIR/tend.err")" -eq 1 ]
    # space again: writing resumes (measured before the space is freed: the chatty program
    # may fill it again at once)
    s0=$(stat -c %s "$logs/chatty.log")
    rm -f "$logs/fill"
    wait_for 20 eval '[ "$(stat -c %s "$logs/chatty.log")" -gt "$s0" ]'
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
}

@test "the log directory removed under a running program: it is never blocked and finishes" {
    logs="$BATS_TEST_TMPDIR/logs"
    mkdir -p "$logs"
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:writer]
command = sh -c 'echo started; while [ ! -e "$BATS_TEST_TMPDIR/go" ]; do $SLEEP 0.05; done; seq 1 300000'
startsecs = 0
autorestart = false
stdout_logfile = $logs/writer.log
stdout_logfile_maxbytes = 64KB
stdout_logfile_backups = 2
EOF2
)
    start_tend "$CFG"
    wait_for 20 eval 'grep -q started "$logs/writer.log" 2>/dev/null'
    rm -rf "$logs"
    touch "$BATS_TEST_TMPDIR/go"
    # 1988895 bytes (seq 1 300000) through a log that must rotate into a directory that is gone
    wait_for 30 state_is writer EXITED
    [ "$(field writer exit_code)" -eq 0 ]
    [ "$(field writer stdout_bytes)" -eq $((8 + 1988895)) ]
    answers
    # reported, but not once per write
    grep -q "writer: cannot .* log $logs/writer.log" "$BATS_TEST_TMPDIR/tend.err"
    [ "$(grep -c "$logs/writer.log" "$BATS_TEST_TMPDIR/tend.err")" -le 3 ]
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
}

@test "SIGKILL of tend: the orphans run on under another parent; the next up -d takes over and starts new copies" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
pidfile = $PIDFILE
[program:a]
command = $SLEEP 1001
startsecs = 0
[program:b]
command = $SLEEP 1002
startsecs = 0
EOF2
)
    run tend_ up -d
    assert_status 0
    old=$(cat "$PIDFILE")
    olda=$(tend_ pid a)
    oldb=$(tend_ pid b)
    ORPHANS="$olda $oldb"
    kill -KILL "$old"
    wait_for 10 eval '! kill -0 "$old" 2>/dev/null'
    # nothing cleaned up: the pid file and the socket are stale
    [ -e "$PIDFILE" ]
    [ -S "$SOCK" ]
    run tend_ status
    assert_status 3
    # SIGKILL gives tend no chance to stop its children: they are re-parented to init (or the
    # nearest subreaper) and keep running, unsupervised
    kill -0 "$olda"
    kill -0 "$oldb"
    [ "$(awk '/^PPid:/ {print $2}' /proc/"$olda"/status)" != "$old" ]
    # the next tend finds the stale pid file and socket, takes them over and starts new copies:
    # it cannot adopt processes it did not start
    run tend_ up -d
    assert_status 0
    [ "$(cat "$PIDFILE")" != "$old" ]
    newa=$(tend_ pid a)
    [ "$newa" != "$olda" ]
    [ "$(pgrep -fc -- "$SLEEP 1001")" -eq 2 ]
    [ "$(pgrep -fc -- "$SLEEP 1002")" -eq 2 ]
    kill -0 "$olda"
    # cleaning up: the orphans by hand, the new copies with tend
    kill -KILL $ORPHANS
    run tend_ down
    assert_status 0
    wait_for 10 eval '! pgrep -f -- "$SLEEP 100" >/dev/null'
}

@test "soak: 50 programs exiting at once, restarted at full speed: no zombie, flat memory and fds" {
    seconds=${TEND_SOAK_SECONDS:-20}
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
loglevel = warn
EOF2
)
    for i in $(seq 1 50); do
        printf '[program:s%d]\ncommand = /bin/true\nautostart = false\nstartsecs = 0\nautorestart = true\nbackoff_base = 0\nrestart_delay = 0\n' \
            "$i" >>"$CFG"
    done
    start_tend "$CFG"
    wait_for 20 answers
    fds0=$(fd_count "$TEND_PID")
    rss0=$(rss_kb "$TEND_PID")
    run tend_ start --no-wait all
    assert_status 0
    # a count of restarts, not a rate: the loop ends at $want restarts (halfway, RSS is sampled)
    # or at a generous deadline, which fails the test
    want=2000
    maxz=0
    rss_mid=
    total=0
    deadline=$((SECONDS + 10 * seconds))
    while ((total < want)); do
        ((SECONDS < deadline)) || break
        z=$(zombies "$TEND_PID")
        ((z > maxz)) && maxz=$z
        total=$(tend_ status --json | jq '[.[].restarts] | add')
        if [ -z "$rss_mid" ] && ((total >= want / 2)); then
            rss_mid=$(rss_kb "$TEND_PID")
        fi
        sleep 0.2
    done
    rss_end=$(rss_kb "$TEND_PID")
    total=$(tend_ status --json | jq '[.[].restarts] | add')
    run tend_ stop all
    assert_status 0
    echo "restarts $total (wanted $want); at most $maxz zombies at once; fds $fds0 -> $(fd_count "$TEND_PID"); RSS $rss0 -> $rss_mid -> $rss_end kB"
    [ "$total" -ge "$want" ]
    [ -n "$rss_mid" ]
    # an exited child is a zombie only until tend's next loop iteration: never one per restart
    ((maxz <= 50))
    [ "$(zombies "$TEND_PID")" -eq 0 ]
    [ "$(fd_count "$TEND_PID")" -eq "$fds0" ]
    if ! asan_build; then
        [ "$rss_end" -le $((rss_mid + 512)) ]
        [ "$(rss_kb "$TEND_PID")" -le $((rss0 + 1024)) ]
    fi
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
}

@test "soak: orphaned grandchildren at a high rate are reaped by tend (the subreaper): no zombie" {
    seconds=$((${TEND_SOAK_SECONDS:-20} / 2))
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:forker]
; each inner shell starts a background subshell and exits at once: the subshell is orphaned,
; re-parented to tend, and exits
command = sh -c 'while :; do sh -c "true & exit 0"; done'
startsecs = 0
EOF2
)
    start_tend "$CFG"
    wait_for 20 state_is forker RUNNING
    forker=$(field forker pid)
    fds0=$(fd_count "$TEND_PID")
    # zombies come and go at this rate (each exists until tend's next turn of the loop reaps
    # it); one seen again five samples (a second or more) later is one tend left behind
    maxz=0 lingering=0
    seen=() # per sample, the zombies' pids between spaces
    rss_mid=
    end=$((SECONDS + seconds))
    for ((sample = 0; SECONDS < end; sample++)); do
        seen[sample]=" $(zombie_pids "$TEND_PID" | tr '\n' ' ')"
        z=0
        for zp in ${seen[sample]}; do
            z=$((z + 1))
            ((sample < 5)) || [[ ${seen[sample - 5]} != *" $zp "* ]] || lingering=$((lingering + 1))
        done
        ((z > maxz)) && maxz=$z
        if [ -z "$rss_mid" ] && ((SECONDS >= end - seconds / 2)); then
            rss_mid=$(rss_kb "$TEND_PID")
        fi
        sleep 0.2
    done
    rss_end=$(rss_kb "$TEND_PID")
    echo "at most $maxz zombies at once, $lingering seen a second later; RSS $rss_mid -> $rss_end kB"
    [ "$(field forker pid)" = "$forker" ]
    run tend_ stop forker
    assert_status 0
    ((lingering == 0))
    wait_for 10 eval '[ "$(zombies "$TEND_PID")" -eq 0 ]'
    [ "$(fd_count "$TEND_PID")" -le "$fds0" ]
    if ! asan_build; then
        [ "$rss_end" -le $((rss_mid + 512)) ]
    fi
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
}

@test "a storm of HUP, USR2 and CHLD while programs start and stop: tend runs on and answers" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:steady]
command = $SLEEP 1001
startsecs = 0
[program:crashy]
command = /bin/false
startsecs = 0
autorestart = true
backoff_base = 0
restart_delay = 10ms
[program:toggled]
command = $SLEEP 1002
autostart = false
startsecs = 0
stopwaitsecs = 2
EOF2
)
    start_tend "$CFG"
    wait_for 20 state_is steady RUNNING
    steady=$(field steady pid)
    (
        end=$((SECONDS + 4))
        while ((SECONDS < end)); do
            kill -HUP "$TEND_PID" && kill -USR2 "$TEND_PID" && kill -CHLD "$TEND_PID" || exit 1
        done
    ) 3>&- &
    storm=$!
    answered=0
    while kill -0 "$storm" 2>/dev/null; do
        tend_ start toggled >/dev/null
        tend_ stop toggled >/dev/null
        tend_ status >/dev/null || [ $? -eq 1 ]
        answered=$((answered + 1))
    done
    wait "$storm"
    kill -0 "$TEND_PID"
    echo "answered $answered rounds during the storm"
    [ "$answered" -ge 1 ]
    run tend_ status steady
    assert_status 0
    # reloads of an unchanged file leave a running program alone
    [ "$(field steady pid)" = "$steady" ]
    run tend_ stop crashy
    assert_status 0
    wait_for 10 eval '[ "$(zombies "$TEND_PID")" -eq 0 ]'
    stop_tend
    [ "$TEND_STATUS" -eq 0 ]
}
