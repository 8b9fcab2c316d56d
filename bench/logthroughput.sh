#!/usr/bin/env bash
# logthroughput.sh - log capture: one program writes 1 GiB (256 MiB with BENCH_QUICK=1) of
# 64-byte text lines to its stdout in 64 KiB writes (`floor write`); the supervisor captures
# it into a log file. Measured: MB/s from the launch until the log holds every byte
# (`floor waitsize`, polling every 2 ms), and the CPU seconds (utime + stime) of the supervisor
# and its helpers, per GB. Log settings, with no rotation where the tool allows it:
#   tend         stdout_logfile = FILE, stdout_logfile_maxbytes = 0
#   tend-rotate  the same with stdout_logfile_maxbytes = 50MB (exact rotation, 100 backups)
#   supervisord  the same
#   runit        log/run: svlogd DIR with "s0" (no rotation; its default 1 KiB read buffer)
#   s6           log/run: s6-log n1000 s16777215 DIR (rotates at 16 MiB; the files are summed)
#   floor        `floor write` straight into the file (no pipe, no supervisor)
#   relay        `floor relay`: the writer on a pipe relayed into the file by a C loop of
#                poll + read + write of 64 KiB: the bare work of any capturing supervisor
# The files are on tmpfs (/dev/shm) when it has room, so that the disk's writeback throttling
# (which starts after a few GB of dirty pages) does not decide who wins; BENCH_LOG_DIR
# chooses another directory.
# Each REPS times (1 with BENCH_QUICK=1) in a rotating order; medians.
# Results: log MB/s <tool>, log cpu s/GB <tool>.
. "$(dirname "$0")/lib.sh"

TOOLS=${BENCH_TOOLS:-$TOOLS_ALL}
BYTES=${BENCH_LOG_BYTES:-$([ -n "$QUICK" ] && echo $((256 << 20)) || echo $((1 << 30)))}
reps=$([ -n "$QUICK" ] && echo 1 || echo 3)
TIMEOUT=${BENCH_LOG_TIMEOUT:-300}
TCK=$(getconf CLK_TCK)
LOGROOT=${BENCH_LOG_DIR:-}
if [ -z "$LOGROOT" ] && [ -d /dev/shm ] &&
    [ "$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')" -gt $((BYTES / 1024 * 3)) ]; then
    LOGROOT=$(mktemp -d /dev/shm/tend-bench-log.XXXXXX)
    trap 'rm -rf "$LOGROOT"; cleanup' EXIT
fi
LOGROOT=${LOGROOT:-$WORK}
log "log files in $LOGROOT"
TOOLS="$TOOLS relay"
# tend once more with size rotation on, where tend is measured
case " $TOOLS " in *" tend "*) TOOLS="$TOOLS tend-rotate" ;; esac

declare -A rate=() cpu=()
for ((r = 0; r < reps; r++)); do
    for tool in $(rotate "$r" $TOOLS); do
        dir=$WORK/log-$tool-$r
        mkdir -p "$dir"
        new_sleep
        target=$LOGROOT/out-$tool-$r.log
        case $tool in
        floor | relay)
            t0=$("$FLOOR" now)
            if [ $tool = floor ]; then
                "$FLOOR" write "$BYTES" >"$target"
            else
                "$FLOOR" relay "$BYTES" "$target"
            fi
            t1=$("$FLOOR" now)
            rate[$tool]="${rate[$tool]:-} $(awk -v b="$BYTES" -v t=$((t1 - t0)) 'BEGIN{printf "%.0f", b/1e6/(t/1e9)}')"
            cpu[$tool]="${cpu[$tool]:-} -"
            rm -rf "$dir" "$target"
            continue
            ;;
        tend)
            TEND_OPTS="stdout_logfile = $target\\nstdout_logfile_maxbytes = 0\\nredirect_stderr = true\\nautorestart = false\\nstartsecs = 0" \
                gen tend "$dir" 1 "$FLOOR" write "$BYTES"
            ;;
        tend-rotate)
            # rotation on: 50 MB files, enough backups to keep all of them; the bytes are summed
            target=$LOGROOT/rot-$r
            mkdir -p "$target"
            TEND_OPTS="stdout_logfile = $target/out.log\\nstdout_logfile_maxbytes = 50MB\\nstdout_logfile_backups = 100\\nredirect_stderr = true\\nautorestart = false\\nstartsecs = 0" \
                gen tend "$dir" 1 "$FLOOR" write "$BYTES"
            ;;
        supervisord)
            SUPERVISORD_LOGS="stdout_logfile = $target\\nstdout_logfile_maxbytes = 0\\nredirect_stderr = true" \
                SUPERVISORD_OPTS="autorestart = false\\nstartsecs = 0" \
                gen supervisord "$dir" 1 "$FLOOR" write "$BYTES"
            ;;
        runit | s6)
            mkdir -p "$dir/sv/p1/log" "$LOGROOT/logdir-$tool-$r"
            printf '#!/bin/sh\n%s write %s\nexec %s 1000\n' "$FLOOR" "$BYTES" "$SLEEP" >"$dir/sv/p1/run"
            if [ "$tool" = runit ]; then
                echo s0 >"$LOGROOT/logdir-$tool-$r/config"
                printf '#!/bin/sh\nexec svlogd %s\n' "$LOGROOT/logdir-$tool-$r" >"$dir/sv/p1/log/run"
            else
                printf '#!/bin/sh\nexec s6-log n1000 s16777215 %s\n' "$LOGROOT/logdir-$tool-$r" >"$dir/sv/p1/log/run"
            fi
            chmod 755 "$dir/sv/p1/run" "$dir/sv/p1/log/run"
            target=$LOGROOT/logdir-$tool-$r
            ;;
        esac
        sync
        t0=$("$FLOOR" now)
        launch_wait "${tool%-rotate}" "$dir" 0 none 1
        t1=$("$FLOOR" waitsize "$target" "$BYTES" "$TIMEOUT")
        sleep 0.3 # the writer exits; its own CPU is not the supervisor's
        read -r np _ ticks _ _ _ < <(pstat "$SPID" "$SNAME")
        stop_tree "$SPID"
        if [ "$t1" -lt 0 ]; then
            log "log $tool: only $(size_of "$target") of $BYTES bytes within ${TIMEOUT}s"
            rate[$tool]="${rate[$tool]:-} 0"
        else
            mbs=$(awk -v b="$BYTES" -v t=$((t1 - t0)) 'BEGIN{printf "%.0f", b/1e6/(t/1e9)}')
            cps=$(awk -v k="$ticks" -v h="$TCK" -v b="$BYTES" 'BEGIN{printf "%.2f", k/h/(b/1e9)}')
            log "log $tool rep $r: $mbs MB/s, $cps CPU s/GB over $np processes"
            rate[$tool]="${rate[$tool]:-} $mbs"
            cpu[$tool]="${cpu[$tool]:-} $cps"
        fi
        rm -rf "$dir" "$target"
    done
done
for tool in $TOOLS; do
    # shellcheck disable=SC2086
    record "log MB/s" "$tool" "$(median ${rate[$tool]:-})"
    # shellcheck disable=SC2086
    record "log cpu s/GB" "$tool" "$(median ${cpu[$tool]:-})"
done
