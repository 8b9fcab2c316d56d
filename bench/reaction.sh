#!/usr/bin/env bash
# reaction.sh - how fast a supervisor restarts a program that exits: the delay from one exit to
# the next start, median and p99.
#
# How: the program is `floor stamp FILE`, which appends its start time and, just before it
# exits, its end time (CLOCK_MONOTONIC ns) to FILE. The delay of restart i is
# start[i+1] - end[i]: the exit, the supervisor noticing it (SIGCHLD), the reap, its
# bookkeeping, the fork and the exec up to the program's main(). Configurations:
#   tend         startsecs = 0, autorestart = true, startretries = forever, backoff_base = 0
#                (no backoff delay; backoff_base only when this tend knows it)
#   supervisord  the same options (it restarts from its 1 s poll loop, so ~1 s)
#   runit, s6    a run script that execs the stamp (both wait 1 s between fast restarts)
#   floor        `floor respawn`: fork+exec+waitpid of the stamp in a loop, nothing else
# 100 restarts for floor and tend, 20 (10 quick) for the peers whose delay is ~1 s.
# Results: reaction median/p99 <tool> <ms>.
. "$(dirname "$0")/lib.sh"

TOOLS=${BENCH_TOOLS:-$TOOLS_ALL}
FAST=${BENCH_REACTION_COUNT:-100}
SLOW=${BENCH_REACTION_SLOW:-$([ -n "$QUICK" ] && echo 10 || echo 20)}
export TEND_OPTS='startsecs = 0\nautorestart = true\nstartretries = forever'
# tend waits backoff_base before restarting a program that flaps (dies within 1 s): none here
printf '[program:x]\ncommand = /bin/true\nbackoff_base = 0\n' >"$WORK/probe.ini"
if "$TEND" -c "$WORK/probe.ini" check >/dev/null 2>&1; then
    TEND_OPTS="$TEND_OPTS\\nbackoff_base = 0"
fi
export SUPERVISORD_OPTS='startsecs = 0\nautorestart = true\nstartretries = 1000000'

# gaps FILE: "median p99" in ms of start[i+1] - end[i], skipping the first start
gaps() {
    local g
    g=$(awk 'NR > 1 { printf "%.4f\n", ($1 - end) / 1e6 } { end = $2 }' "$1")
    # shellcheck disable=SC2086
    echo "$(median $g) $(p99 $g)"
}

# measure TOOL COUNT: sets GAPS to "median p99"
measure() {
    local tool=$1 count=$2 dir=$WORK/reaction-$1-$RANDOM
    local stamps=$dir/stamps
    mkdir -p "$dir"
    : >"$stamps"
    gen "$tool" "$dir" 1 "$FLOOR" stamp "$stamps"
    if [ "$tool" = floor ]; then
        launch_wait floor "$dir" 0 none 1
        stop_tree "$SPID"
        "$FLOOR" respawn $((count + 1)) "$FLOOR" stamp "$stamps"
    else
        launch_wait "$tool" "$dir" 0 none 1
        local deadline=$(($(date +%s) + count * 3 + 20))
        while [ "$(wc -l <"$stamps")" -le "$count" ] && [ "$(date +%s)" -lt "$deadline" ]; do
            sleep 0.05
        done
        stop_tree "$SPID"
    fi
    head -n $((count + 1)) "$stamps" >"$stamps.n"
    GAPS=$(gaps "$stamps.n")
    log "reaction $tool: $(wc -l <"$stamps.n") starts; median p99 = $GAPS ms"
    rm -rf "$dir"
}

declare -A med=() tail=()
for ((r = 0; r < REPS; r++)); do
    for tool in $(rotate "$r" $TOOLS); do
        count=$FAST
        case $tool in supervisord | runit | s6) count=$SLOW ;; esac
        # the slow peers once only: their delay is a sleep of their own
        case $tool in supervisord | runit | s6) [ "$r" -gt 0 ] && continue ;; esac
        measure "$tool" "$count"
        med[$tool]="${med[$tool]:-} ${GAPS% *}"
        tail[$tool]="${tail[$tool]:-} ${GAPS#* }"
    done
done
for tool in $TOOLS; do
    # shellcheck disable=SC2086
    record "reaction median ms" "$tool" "$(median ${med[$tool]:-})"
    # shellcheck disable=SC2086
    record "reaction p99 ms" "$tool" "$(median ${tail[$tool]:-})"
done
