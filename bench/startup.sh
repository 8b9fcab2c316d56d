#!/usr/bin/env bash
# startup.sh - start-up time: from the launch of the supervisor until every one of N programs
# runs, for N = 10, 100, 1,000 (and 10,000 unless BENCH_QUICK=1).
#
# How: each program is `sleep 1000` run through a symlink with a name of its own for this run
# (bs<run><seq>), so that "running" means "a process with that comm exists": the comm changes
# at execve. `floor launch` notes the monotonic time, forks and execs the supervisor in a new
# session, then scans /proc (every 0.2 ms for small N, 1 ms otherwise) until N such processes
# exist. The floor is `floor spawn N sleep`: fork+exec N children in a loop and nothing else.
# tend, supervisord (nodaemon, a unix socket in the temp dir, stdout/stderr_logfile = NONE),
# runsvdir and s6-svscan (one service dir per program whose run script execs the sleep) are
# measured in turn, in a rotating order, REPS times (5, 3 quick); the median is kept.
# Each supervisor is then frozen and killed with everything under it.
# With 10,000 programs, once per tool (the first rep that started them all), the idle cost is
# read as idle.sh reads it with 100: after SETTLE s, the wakeups in a WINDOW s in which
# nothing happens, then RSS, PSS and private memory, also per program (PSS / N).
# Results: startup N=<n> <tool> <seconds>; idle wakeups/10s N=10000, PSS KiB N=10000,
# private KiB N=10000, PSS B/program N=10000 <tool> <value>.
. "$(dirname "$0")/lib.sh"

NS=${BENCH_STARTUP_NS:-$([ -n "$QUICK" ] && echo "10 100 1000" || echo "10 100 1000 10000")}
TOOLS=${BENCH_TOOLS:-$TOOLS_ALL}
TIMEOUT=${BENCH_STARTUP_TIMEOUT:-180}
# sleep prints nothing: one pipe per program (the fd limit may be 20,000 for 10,000 programs)
export TEND_OPTS="redirect_stderr = true" SUPERVISORD_OPTS="redirect_stderr = true"
WINDOW=${BENCH_IDLE_WINDOW:-10}
SETTLE=${BENCH_IDLE_SETTLE:-3}

# idle_big TOOL N: the idle figures of a supervisor running N settled programs
idle_big() {
    sleep "$SETTLE"
    read -r _ c0 _ _ _ _ < <(pstat "$SPID" "$SNAME")
    sleep "$WINDOW"
    read -r np c1 _ kr kp kv < <(pstat "$SPID" "$SNAME")
    log "idle N=$2 $1: $np processes, $((c1 - c0)) wakeups in ${WINDOW}s, rss $kr KiB, pss $kp KiB, private $kv KiB"
    record "idle wakeups/${WINDOW}s N=$2" "$1" $((c1 - c0))
    record "RSS KiB N=$2" "$1" "$kr"
    record "PSS KiB N=$2" "$1" "$kp"
    record "private KiB N=$2" "$1" "$kv"
    record "PSS B/program N=$2" "$1" "$(awk -v k="$kp" -v n="$2" 'BEGIN{printf "%.0f", k*1024/n}')"
}

for n in $NS; do
    reps=$REPS
    [ "$n" -ge 10000 ] && reps=${BENCH_REPS_10K:-3}
    declare -A times=() idled=()
    for ((r = 0; r < reps; r++)); do
        for tool in $(rotate "$r" $TOOLS); do
            # a tool that timed out once is not tried again at this N
            [ "${times[$tool]:-}" = timeout ] && continue
            # supervisord keeps 2 pipe ends per program (stdin, stdout): past the fd limit it
            # cannot start them all, and would only wait for the timeout
            if [ "$tool" = supervisord ] && [ $((2 * n + 64)) -gt "$FDMAX" ]; then
                times[$tool]="fdlimit"
                continue
            fi
            new_sleep
            dir=$WORK/startup-$tool-$n-$r
            gen "$tool" "$dir" "$n" "$SLEEP" 1000
            sync
            launch_wait "$tool" "$dir" "$n" "$SNAME" "$TIMEOUT" "$SLEEP" 1000
            if [ "$LAUNCH_NS" -lt 0 ]; then
                log "startup N=$n $tool: not every program ran within ${TIMEOUT}s ($("$FLOOR" count "$SNAME") of $n)"
                times[$tool]=timeout
            else
                log "startup N=$n $tool rep $r: $(awk -v t="$LAUNCH_NS" 'BEGIN{printf "%.4f", t/1e9}') s"
                times[$tool]="${times[$tool]:-} $LAUNCH_NS"
                if [ "$n" -ge 10000 ] && [ -z "${idled[$tool]:-}" ]; then
                    idled[$tool]=1
                    idle_big "$tool" "$n"
                fi
            fi
            stop_tree "$SPID" "$SNAME"
            rm -rf "$dir"
        done
    done
    for tool in $TOOLS; do
        v=${times[$tool]:-}
        if [ "$v" = fdlimit ]; then
            record "startup N=$n" "$tool" "n/a(fds>$FDMAX)"
        elif [ "$v" = timeout ]; then
            record "startup N=$n" "$tool" "timeout>${TIMEOUT}s"
        else
            # shellcheck disable=SC2086
            record "startup N=$n" "$tool" "$(awk -v t="$(median $v)" 'BEGIN{printf "%.4f", t/1e9}')"
        fi
    done
    unset times idled
done
