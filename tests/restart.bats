#!/usr/bin/env bats
# supervisord's restart rules: a process that reached RUNNING (ran for startsecs) and exits is
# started again at once, with its retry count reset; only starts that fail before startsecs
# back off (backoff_base, backoff_factor, backoff_max) and count against startretries.

load helpers

setup() {
    use_tend_fixture
    T="$BATS_TEST_TMPDIR"
    TEND_CLIENT_TIMEOUT=30
}

teardown() {
    teardown_tend
}

answers() {
    tend_ pid >/dev/null 2>&1
}

# anon_kb PID: anonymous memory in kB (heap, stacks): unlike Pss, it does not move when another
# process sharing tend's libraries exits (smaps_rollup: one line, no walk of every mapping)
anon_kb() {
    awk '/^Anonymous:/ {print $2}' /proc/"$1"/smaps_rollup
}

# an ASan build holds freed memory in quarantine: its memory says nothing about leaks (LSan does)
asan_build() {
    ldd "$TEND" 2>/dev/null | grep -q libasan
}

# starts_ms FILE: the start times (ms) a program recorded, one per line
starts_ms() {
    cut -c1-13 "$1"
}

@test "startsecs = 0 and an exit at once: 400 restarts within 60 s, no backoff, fds and anonymous memory flat" {
    [ -r /proc/self/smaps_rollup ] || skip "no /proc/PID/smaps_rollup"
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
loglevel = warn
[program:crashy]
command = sh -c 'exit 1'
autostart = false
startsecs = 0
autorestart = true
startretries = 100000
EOF2
)
    start_tend "$CFG"
    wait_for 20 answers
    # a first round, so that what tend allocates once or up to a bound (buffers, the
    # environment, the ring of the last 200 events for `tend events`) is counted in the baseline
    tend_ start --no-wait crashy
    wait_for 60 restarts_at_least crashy 100
    tend_ stop crashy
    wait_for 20 eval 'state_is crashy STOPPED || state_is crashy EXITED'
    fds0=$(fd_count "$TEND_PID")
    anon0=$(anon_kb "$TEND_PID")
    r0=$(field crashy restarts)

    start=$SECONDS
    tend_ start --no-wait crashy
    wait_for 60 restarts_at_least crashy $((r0 + 400))
    elapsed=$((SECONDS - start))
    tend_ stop crashy
    wait_for 20 eval 'state_is crashy STOPPED || state_is crashy EXITED'
    fds1=$(fd_count "$TEND_PID")
    anon1=$(anon_kb "$TEND_PID")
    echo "400 restarts in ${elapsed}s; fds $fds0 -> $fds1; anonymous ${anon0} kB -> ${anon1} kB"
    [ "$elapsed" -le 60 ]
    [ "$fds1" -eq "$fds0" ]
    if ! asan_build; then
        [ "$anon1" -le $((anon0 + 256)) ]
    fi
    # every restart was immediate: no failed start, no BACKOFF, no delay
    run ! log_has "/100000 in"
    run ! log_has "restarting in"
    run ! log_has "FATAL"
}

@test "an exit from RUNNING restarts at once; restart_delay is the only wait" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:quick]
command = sh -c 'date +%%s%%N >>$T/quick; exit 0'
startsecs = 0
autorestart = true
[program:paced]
command = sh -c 'date +%%s%%N >>$T/paced; exit 0'
startsecs = 0
autorestart = true
restart_delay = 300ms
EOF2
)
    start_tend "$CFG"
    wait_for 30 eval '[ "$(wc -l 2>/dev/null <"$T/quick" || echo 0)" -ge 20 ]'
    wait_for 30 eval '[ "$(wc -l 2>/dev/null <"$T/paced" || echo 0)" -ge 4 ]'
    grep -q "quick (pid [0-9]*) exited with status 0 after [0-9.]*s (expected); restarting$" "$T/tend.err"
    run ! grep -q "quick (pid [0-9]*) .*restarting in" "$T/tend.err"
    grep -q "paced (pid [0-9]*) exited with status 0 after [0-9.]*s (expected); restarting in 0.3s$" "$T/tend.err"
    t=($(starts_ms "$T/paced"))
    for i in 0 1 2; do
        gap=$((t[i + 1] - t[i]))
        [ "$gap" -ge 300 ] || { echo "paced gap $i is $gap ms"; return 1; }
    done
    run ! log_has "FATAL"
}

@test "a program that fails before startsecs still backs off as configured, then goes FATAL" {
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:early]
command = sh -c 'date +%%s%%N >>$T/starts; exit 1'
startsecs = 1
startretries = 3
backoff_base = 300ms
EOF2
)
    start_tend "$CFG"
    wait_log "(FATAL)" 30
    log_has "restart 1/3 in 0.3s"
    log_has "restart 2/3 in 0.6s"
    log_has "restart 3/3 in 0.9s"
    log_has "giving up after 4 attempts (FATAL)"
    t=($(starts_ms "$T/starts"))
    [ "${#t[@]}" -eq 4 ]
    want=(300 600 900)
    for i in 0 1 2; do
        gap=$((t[i + 1] - t[i]))
        [ "$gap" -ge "${want[i]}" ] || { echo "gap $i is $gap ms, want >= ${want[i]}"; return 1; }
    done
    [ "$(field early state)" = FATAL ]
}

@test "reaching RUNNING resets the retry count: failed starts after it count from 1 again" {
    # starts 1 and 2 fail at once, start 3 runs past startsecs and exits, start 4 fails again,
    # start 5 stays up
    CFG=$(write_config <<EOF2
[tend]
socket = $SOCK
[program:mixed]
command = sh -c 'echo x >>$T/n; n=\$(wc -l <$T/n); case \$n in 1|2|4) exit 1;; 3) $SLEEP 1.5; exit 1;; *) exec $SLEEP 1006;; esac'
startsecs = 1
startretries = 2
autorestart = true
backoff_base = 100ms
EOF2
)
    start_tend "$CFG"
    wait_for 40 eval '[ "$(wc -l 2>/dev/null <"$T/n" || echo 0)" -ge 5 ]'
    wait_for 20 state_is mixed RUNNING
    # before RUNNING: 1/2, 2/2; after the exit from RUNNING, an immediate restart, then 1/2 again
    [ "$(grep -c 'restart 1/2 in 0.1s' "$T/tend.err")" -eq 2 ]
    [ "$(grep -c 'restart 2/2 in 0.2s' "$T/tend.err")" -eq 1 ]
    grep -q "mixed (pid [0-9]*) exited with status 1 after 1\.[0-9]*s (not expected); restarting$" "$T/tend.err"
    run ! log_has "FATAL"
}

@test "40 programs killed by one kill(2) call: every exit is seen (SIGCHLD does not queue), all restart, no zombie" {
    {
        printf '[tend]\nsocket = %s\n' "$SOCK"
        for i in $(seq 1 40); do
            printf '[program:w%d]\ncommand = %s 1007\nstartsecs = 0\nautorestart = true\n' "$i" "$SLEEP"
        done
    } >"$T/many.ini"
    CFG=$T/many.ini
    start_tend "$CFG"
    wait_for 30 eval '[ "$(pgrep -c -f "^$SLEEP 1007")" -eq 40 ]'
    wait_for 20 eval '[ "$(tend_ status --json | jq "[.[] | select(.state == \"RUNNING\")] | length")" -eq 40 ]'
    # one signal to the whole set: their exits arrive together and share SIGCHLDs
    old=$(pgrep -f "^$SLEEP 1007" | sort -n | tr '\n' ' ')
    # shellcheck disable=SC2086
    kill -KILL $old
    wait_for 30 eval '[ "$(tend_ status --json | jq "[.[] | select(.state == \"RUNNING\" and .restarts == 1)] | length")" -eq 40 ]'
    new=$(pgrep -f "^$SLEEP 1007" | sort -n | tr '\n' ' ')
    [ "$(echo $new | wc -w)" -eq 40 ]
    for p in $old; do [[ " $new " != *" $p "* ]]; done
    # every killed one was reaped: no zombie child of tend
    [ -z "$(ps -o stat= --ppid "$TEND_PID" | grep Z)" ]
    [ "$(grep -c 'killed by signal KILL' "$T/tend.err")" -eq 40 ]
}
