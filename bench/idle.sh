#!/usr/bin/env bash
# idle.sh - the cost of doing nothing: with 100 programs (`sleep 1000`) running and settled,
# 10 s in which nothing happens. Measured from /proc, without touching the supervisor:
#   wakeups  voluntary + nonvoluntary context switches (/proc/PID/status) during the window
#   cpu      utime + stime (/proc/PID/stat) during the window, in ms
#   rss/pss  VmRSS and Pss (/proc/PID/smaps_rollup) after the window, in KiB; and private
#            memory (Private_Clean + Private_Dirty), which does not depend on how many other
#            processes share the same libraries (PSS does: other tend processes on the machine
#            halve tend's share of its own text)
# For runit and s6 every helper process counts (runsvdir + one runsv per program; s6-svscan +
# one s6-supervise per program); for all, the programs themselves do not. The floor is the
# parent of `floor spawn` blocked in wait(). Then the same with 1,000 programs, for memory
# only: growth per program = (memory at 1,000 - memory at 100) / 900, in PSS and in private
# memory (the better measure of what each program costs).
# Results: idle <what> <tool> <value>.
. "$(dirname "$0")/lib.sh"

TOOLS=${BENCH_TOOLS:-$TOOLS_ALL}
WINDOW=${BENCH_IDLE_WINDOW:-10}
SETTLE=${BENCH_IDLE_SETTLE:-3}   # startsecs is 1 s for tend and supervisord
reps=$([ -n "$QUICK" ] && echo 1 || echo 3)
export TEND_OPTS="redirect_stderr = true" SUPERVISORD_OPTS="redirect_stderr = true"

declare -A wake=() cpu=() rss=() pss=() priv=()
for ((r = 0; r < reps; r++)); do
    for tool in $(rotate "$r" $TOOLS); do
        new_sleep
        dir=$WORK/idle-$tool-$r
        gen "$tool" "$dir" 100 "$SLEEP" 1000
        launch_wait "$tool" "$dir" 100 "$SNAME" 60 "$SLEEP" 1000
        if [ "$LAUNCH_NS" -lt 0 ]; then
            log "idle $tool: did not start"; stop_tree "$SPID" "$SNAME"; continue
        fi
        sleep "$SETTLE"
        read -r _ c0 t0 _ _ _ < <(pstat "$SPID" "$SNAME")
        sleep "$WINDOW"
        read -r np c1 t1 kr kp kv < <(pstat "$SPID" "$SNAME")
        log "idle $tool rep $r: $np processes, $((c1 - c0)) wakeups, $(((t1 - t0) * 10)) ms cpu, rss $kr KiB, pss $kp KiB, private $kv KiB"
        wake[$tool]="${wake[$tool]:-} $((c1 - c0))"
        cpu[$tool]="${cpu[$tool]:-} $(((t1 - t0) * 1000 / $(getconf CLK_TCK)))"
        rss[$tool]="${rss[$tool]:-} $kr"
        pss[$tool]="${pss[$tool]:-} $kp"
        priv[$tool]="${priv[$tool]:-} $kv"
        stop_tree "$SPID" "$SNAME"
        rm -rf "$dir"
    done
done
for tool in $TOOLS; do
    # shellcheck disable=SC2086
    {
        record "idle wakeups/${WINDOW}s N=100" "$tool" "$(median ${wake[$tool]:-})"
        record "idle cpu ms/${WINDOW}s N=100" "$tool" "$(median ${cpu[$tool]:-})"
        record "RSS KiB N=100" "$tool" "$(median ${rss[$tool]:-})"
        record "PSS KiB N=100" "$tool" "$(median ${pss[$tool]:-})"
        record "private KiB N=100" "$tool" "$(median ${priv[$tool]:-})"
    }
done

# memory with 1,000 programs: the growth per program
for tool in $TOOLS; do
    new_sleep
    dir=$WORK/idle1000-$tool
    gen "$tool" "$dir" 1000 "$SLEEP" 1000
    launch_wait "$tool" "$dir" 1000 "$SNAME" 120 "$SLEEP" 1000
    if [ "$LAUNCH_NS" -lt 0 ]; then
        log "idle N=1000 $tool: did not start"; stop_tree "$SPID" "$SNAME"; continue
    fi
    sleep "$SETTLE"
    read -r np _ _ kr kp kv < <(pstat "$SPID" "$SNAME")
    log "idle N=1000 $tool: $np processes, rss $kr KiB, pss $kp KiB, private $kv KiB"
    # shellcheck disable=SC2086
    p100=$(median ${pss[$tool]:-})
    # shellcheck disable=SC2086
    v100=$(median ${priv[$tool]:-})
    record "PSS KiB N=1000" "$tool" "$kp"
    record "private KiB N=1000" "$tool" "$kv"
    record "PSS growth B/program 100->1000" "$tool" "$(awk -v a="$kp" -v b="$p100" 'BEGIN{ if (b == "-") print "-"; else printf "%.0f", (a-b)*1024/900 }')"
    record "private growth B/program 100->1000" "$tool" "$(awk -v a="$kv" -v b="$v100" 'BEGIN{ if (b == "-") print "-"; else printf "%.0f", (a-b)*1024/900 }')"
    stop_tree "$SPID" "$SNAME"
    rm -rf "$dir"
done
