#!/usr/bin/env bash
# logthroughput.sh - log capture: one program writes 1 GiB (256 MiB with BENCH_QUICK=1) to its
# stdout; the supervisor captures it into a log file. Two writers, each a pass of its own:
#   floor  64-byte text lines in 64 KiB writes from one hot buffer (`floor write`): the
#          fastest writer there is, so the capture itself is what is measured
#   head   `head -c BYTES /dev/zero`, and the floor `head -c BYTES /dev/zero > FILE`: the
#          floor as issue 17 words it (coreutils writes 4 KiB at a time, so it is slower)
# Measured: MB/s from the launch until the log holds every byte (`floor waitsize`, polling
# every 2 ms), and the CPU seconds (utime + stime) of the supervisor and its helpers, per GB;
# for the floor, the writer's own CPU writing straight into the file (the kernel's cost of the
# page-cache copy, which a capturing supervisor pays once more). Log settings, with no rotation
# where the tool allows it:
#   tend         stdout_logfile = FILE, stdout_logfile_maxbytes = 0
#   tend-rotate  the same with stdout_logfile_maxbytes = 50MB (exact rotation, 100 backups)
#   tend-direct  the same as tend with stdout_logfile_direct = true: the program gets the file
#   supervisord  the same
#   runit        log/run: svlogd DIR with "s0" (no rotation; its default 1 KiB read buffer)
#   s6           log/run: s6-log n1000 s16777215 DIR (rotates at 16 MiB; the files are summed)
#   floor        the writer straight into the file (no pipe, no supervisor)
#   relay        `floor relay`: the writer on a pipe relayed into the file by a C loop of
#                poll + read + write of 64 KiB: the bare work of any capturing supervisor
#                (first pass only: its writer is built in)
# The files are on tmpfs (/dev/shm) when it has room, so that the disk's writeback throttling
# (which starts after a few GB of dirty pages) does not decide who wins; BENCH_LOG_DIR
# chooses another directory.
# Each REPS times (1 with BENCH_QUICK=1) in a rotating order; medians.
# Results: log MB/s <tool>, log cpu s/GB <tool>; log head MB/s <tool>, log head cpu s/GB <tool>;
# log huge head MB/s <tool>, log huge head cpu s/GB <tool> (floor and tend, large folios: the end).
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
    SHMROOT=$LOGROOT
fi
HUGE=$WORK/huge-tmpfs # the last pass's tmpfs (see the end); -l: a writer left behind keeps it busy
log_cleanup() {
    local rc=$?
    mountpoint -q "$HUGE" && umount -l "$HUGE"
    [ -n "${SHMROOT:-}" ] && rm -rf "$SHMROOT"
    (exit "$rc") # cleanup reports the script's own status
    cleanup
}
trap log_cleanup EXIT
LOGROOT=${LOGROOT:-$WORK}
log "log files in $LOGROOT"
# tend once more with size rotation on, and once handing the program its file, where tend is
# measured
case " $TOOLS " in *" tend "*) TOOLS="$TOOLS tend-rotate tend-direct" ;; esac

# pass WRITER KEY TOOLS...: every tool REPS times with that writer; results under "log KEY..."
pass() {
    local writer=$1 key=$2
    shift 2
    local wcmd TIMEFORMAT='%3U %3S'
    if [ "$writer" = head ]; then
        wcmd="head -c $BYTES /dev/zero"
    else
        wcmd="$FLOOR write $BYTES"
    fi
    local -A rate=() cpu=()
    for ((r = 0; r < reps; r++)); do
        for tool in $(rotate "$r" "$@"); do
            dir=$WORK/log-$writer-$tool-$r
            mkdir -p "$dir"
            new_sleep
            target=$LOGROOT/out-$tool-$r.log
            case $tool in
            floor | relay)
                t0=$("$FLOOR" now)
                if [ $tool = relay ]; then
                    "$FLOOR" relay "$BYTES" "$target"
                else
                    # shellcheck disable=SC2086
                    { time $wcmd >"$target"; } 2>"$dir/time" # the floor's CPU (see the top)
                fi
                t1=$("$FLOOR" now)
                rate[$tool]="${rate[$tool]:-} $(awk -v b="$BYTES" -v t=$((t1 - t0)) 'BEGIN{printf "%.0f", b/1e6/(t/1e9)}')"
                if [ $tool = floor ]; then
                    cpu[$tool]="${cpu[$tool]:-} $(awk -v b="$BYTES" 'NF == 2 {c = $1 + $2} END {if (c != "") printf "%.2f", c/(b/1e9)}' "$dir/time")"
                fi
                rm -rf "$dir" "$target"
                continue
                ;;
            tend)
                # shellcheck disable=SC2086
                TEND_OPTS="stdout_logfile = $target\\nstdout_logfile_maxbytes = 0\\nredirect_stderr = true\\nautorestart = false\\nstartsecs = 0" \
                    gen tend "$dir" 1 $wcmd
                ;;
            tend-direct)
                # shellcheck disable=SC2086
                TEND_OPTS="stdout_logfile = $target\\nstdout_logfile_maxbytes = 0\\nstdout_logfile_direct = true\\nredirect_stderr = true\\nautorestart = false\\nstartsecs = 0" \
                    gen tend "$dir" 1 $wcmd
                ;;
            tend-rotate)
                # rotation on: 50 MB files, enough backups to keep all of them; the bytes are summed
                target=$LOGROOT/rot-$r
                mkdir -p "$target"
                # shellcheck disable=SC2086
                TEND_OPTS="stdout_logfile = $target/out.log\\nstdout_logfile_maxbytes = 50MB\\nstdout_logfile_backups = 100\\nredirect_stderr = true\\nautorestart = false\\nstartsecs = 0" \
                    gen tend "$dir" 1 $wcmd
                ;;
            supervisord)
                # shellcheck disable=SC2086
                SUPERVISORD_LOGS="stdout_logfile = $target\\nstdout_logfile_maxbytes = 0\\nredirect_stderr = true" \
                    SUPERVISORD_OPTS="autorestart = false\\nstartsecs = 0" \
                    gen supervisord "$dir" 1 $wcmd
                ;;
            runit | s6)
                mkdir -p "$dir/sv/p1/log" "$LOGROOT/logdir-$tool-$r"
                printf '#!/bin/sh\n%s\nexec %s 1000\n' "$wcmd" "$SLEEP" >"$dir/sv/p1/run"
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
            launch_wait "${tool%%-*}" "$dir" 0 none 1
            t1=$("$FLOOR" waitsize "$target" "$BYTES" "$TIMEOUT")
            sleep 0.3 # the writer exits; its own CPU is not the supervisor's
            read -r np _ ticks _ _ _ < <(pstat "$SPID" "$SNAME")
            stop_tree "$SPID"
            if [ "$t1" -lt 0 ]; then
                log "log $writer $tool: only $(size_of "$target") of $BYTES bytes within ${TIMEOUT}s"
                rate[$tool]="${rate[$tool]:-} 0"
            else
                mbs=$(awk -v b="$BYTES" -v t=$((t1 - t0)) 'BEGIN{printf "%.0f", b/1e6/(t/1e9)}')
                cps=$(awk -v k="$ticks" -v h="$TCK" -v b="$BYTES" 'BEGIN{printf "%.2f", k/h/(b/1e9)}')
                log "log $writer $tool rep $r: $mbs MB/s, $cps CPU s/GB over $np processes"
                rate[$tool]="${rate[$tool]:-} $mbs"
                cpu[$tool]="${cpu[$tool]:-} $cps"
            fi
            rm -rf "$dir" "$target"
        done
    done
    for tool in "$@"; do
        # shellcheck disable=SC2086
        record "log ${key}MB/s" "$tool" "$(median ${rate[$tool]:-})"
        # shellcheck disable=SC2086
        record "log ${key}cpu s/GB" "$tool" "$(median ${cpu[$tool]:-})"
    done
}

# shellcheck disable=SC2086
pass floor "" $TOOLS relay
# shellcheck disable=SC2086
pass head "head " $TOOLS

# The `head` pass once more, for the floor and tend only, on a tmpfs mounted here with
# huge=within_size: its page cache takes large folios, as ext4's can on recent kernels, where
# /dev/shm's takes 4 KiB pages. The page-cache copy the floor and tend both pay then costs less
# per byte, which shows how much of tend's CPU is that copy. Root only; skipped where the
# kernel refuses the option, or where BENCH_LOG_DIR chose the directory.
huge_tools=()
for tool in $TOOLS; do
    case $tool in floor | tend | tend-rotate) huge_tools+=("$tool") ;; esac
done
if [ -z "${BENCH_LOG_DIR:-}" ] && [ "$(id -u)" = 0 ] && [ ${#huge_tools[@]} -gt 0 ]; then
    mkdir -p "$HUGE"
    if mount -t tmpfs -o "huge=within_size,size=$((BYTES * 3 / 1048576))m" tend-bench "$HUGE"; then
        LOGROOT=$HUGE
        log "log files in $LOGROOT (tmpfs, huge=within_size)"
        pass head "huge head " "${huge_tools[@]}"
        umount "$HUGE"
    else
        log "no tmpfs with huge=within_size here: the large-folio pass is skipped"
    fi
fi
