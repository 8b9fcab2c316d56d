#!/usr/bin/env bash
# scale.sh - does tend slow down with many programs? The same two measures with 10 and with
# 10,000 programs configured and running (1,000 with BENCH_QUICK=1):
#   reaction   program p0 is `floor stamp` with startsecs = 0, autorestart = true and no
#              backoff (see reaction.sh); once every other program (`sleep 1000`) runs, the
#              delay from each of its exits to its next start, median and p99 over 100
#   status     `tend -c FILE status pN` (the last program), 200 calls in a row (`floor
#              timecmd`), median and p99; after p0 is stopped (`tend stop p0`), so nothing
#              else happens. Also with TEND_SOCKET set (the client does not read the file),
#              to tell the client's cost from the supervisor's.
# REPS rounds alternating the two sizes; medians. Results: scale <measure> N=<n> tend <ms>.
. "$(dirname "$0")/lib.sh"

BIG=${BENCH_SCALE_N:-$([ -n "$QUICK" ] && echo 1000 || echo 10000)}
COUNT=100
CALLS=${BENCH_SCALE_CALLS:-200}
reps=$([ -n "$QUICK" ] && echo 2 || echo 3)
printf '[program:x]\ncommand = /bin/true\nbackoff_base = 0\n' >"$WORK/probe.ini"
NOBACKOFF=
"$TEND" -c "$WORK/probe.ini" check >/dev/null 2>&1 && NOBACKOFF='backoff_base = 0'

gaps() {
    local g
    g=$(awk 'NR > 1 { printf "%.4f\n", ($1 - end) / 1e6 } { end = $2 }' "$1")
    # shellcheck disable=SC2086
    echo "$(median $g) $(p99 $g)"
}

declare -A rmed=() rp99=() smed=() sp99=() ssock=()
for ((r = 0; r < reps; r++)); do
    for n in $(rotate "$r" 10 "$BIG"); do
        new_sleep
        dir=$WORK/scale-$n-$r
        stamps=$dir/stamps
        TEND_OPTS="redirect_stderr = true" gen_tend "$dir" $((n - 1)) "$SLEEP" 1000
        printf '\n[program:p0]\ncommand = %s stamp %s\nstartsecs = 0\nautorestart = true\nstartretries = forever\n%s\n' \
            "$FLOOR" "$stamps" "$NOBACKOFF" >>"$dir/tend.ini"
        launch_wait tend "$dir" $((n - 1)) "$SNAME" 120
        if [ "$LAUNCH_NS" -lt 0 ]; then
            log "scale N=$n: tend did not start every program"; stop_tree "$SPID" "$SNAME"; continue
        fi
        sleep 1.5 # startsecs: every sleep is RUNNING
        : >"$stamps"
        deadline=$(($(date +%s) + 60))
        while [ "$(wc -l <"$stamps")" -le $COUNT ] && [ "$(date +%s)" -lt "$deadline" ]; do
            sleep 0.02
        done
        "$TEND" -c "$dir/tend.ini" stop p0 >/dev/null || log "scale N=$n: tend stop p0 failed"
        head -n $((COUNT + 1)) "$stamps" >"$stamps.n"
        read -r gm gp < <(gaps "$stamps.n")
        last=p$((n - 1))
        read -r sm sp < <("$FLOOR" timecmd "$CALLS" /dev/null "$TEND" -c "$dir/tend.ini" status "$last")
        read -r km _ < <(TEND_SOCKET=$dir/tend.sock "$FLOOR" timecmd "$CALLS" /dev/null "$TEND" status "$last")
        log "scale N=$n round $r: reaction median $gm p99 $gp ms; status median $((sm / 1000)) p99 $((sp / 1000)) us; with TEND_SOCKET $((km / 1000)) us"
        rmed[$n]="${rmed[$n]:-} $gm"
        rp99[$n]="${rp99[$n]:-} $gp"
        smed[$n]="${smed[$n]:-} $(awk -v v="$sm" 'BEGIN{printf "%.3f", v/1e6}')"
        sp99[$n]="${sp99[$n]:-} $(awk -v v="$sp" 'BEGIN{printf "%.3f", v/1e6}')"
        ssock[$n]="${ssock[$n]:-} $(awk -v v="$km" 'BEGIN{printf "%.3f", v/1e6}')"
        stop_tree "$SPID" "$SNAME"
        rm -rf "$dir"
    done
done
for n in 10 "$BIG"; do
    # shellcheck disable=SC2086
    {
        record "scale reaction median ms N=$n" tend "$(median ${rmed[$n]:-})"
        record "scale reaction p99 ms N=$n" tend "$(median ${rp99[$n]:-})"
        record "scale status median ms N=$n" tend "$(median ${smed[$n]:-})"
        record "scale status p99 ms N=$n" tend "$(median ${sp99[$n]:-})"
        record "scale status (TEND_SOCKET) median ms N=$n" tend "$(median ${ssock[$n]:-})"
    }
done
