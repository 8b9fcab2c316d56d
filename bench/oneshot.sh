#!/usr/bin/env bash
# oneshot.sh - `tend run -- cat` as a one-shot runner, against Python and the floor.
#
# Latency: 1 KiB on stdin, the output read through a pipe and dropped, 200 calls in a row
# (`floor timecmd`: fork, exec, read to EOF, waitpid; per-call ns; median and p99), for
#   tend         tend run -- cat
#   python3      python3 -c 'subprocess.run(["cat"], input=stdin, capture_output=True)' (50
#                calls: it is slow), /usr/bin/python3 (not a pyenv shim)
#   floor        `floor runcat`: a C program that does what a runner must (pipes, fork+exec
#                cat, pump stdin in and the output out with poll, waitpid); the main floor
#   bare         `floor pipe1k`: fork+exec+wait of cat with 1 KiB through pipes inside one
#                process (no runner process at all: the lowest possible)
# Throughput: 256 MiB (`floor write`) piped through the runner into `floor drain`, timed
#   end to end, against the shell pipe `floor write | cat | floor drain` (3 samples a round,
#   1 for python3).
# REPS rounds (3 with BENCH_QUICK=1), tools in a rotating order; the medians of the rounds.
# Results: oneshot 1KiB median/p99 ms <tool>, oneshot 256MiB MB/s <tool>.
. "$(dirname "$0")/lib.sh"

CALLS=${BENCH_ONESHOT_CALLS:-200}
PYCALLS=${BENCH_ONESHOT_PYCALLS:-50}
BIG=${BENCH_ONESHOT_BYTES:-$((256 << 20))}
CAT=$(command -v cat)
PYCODE='import subprocess, sys
r = subprocess.run(["cat"], input=sys.stdin.buffer.read(), capture_output=True)
sys.stdout.buffer.write(r.stdout)'
head -c 1023 /dev/urandom | base64 -w 0 | head -c 1023 >"$WORK/in1k"
echo >>"$WORK/in1k"

declare -A med=() tail=() rate=()
TOOLS="bare floor tend python3"
for ((r = 0; r < REPS; r++)); do
    for tool in $(rotate "$r" $TOOLS); do
        case $tool in
        bare) out=$("$FLOOR" pipe1k "$CALLS") ;;
        floor) out=$("$FLOOR" timecmd "$CALLS" "$WORK/in1k" "$FLOOR" runcat) ;;
        tend) out=$("$FLOOR" timecmd "$CALLS" "$WORK/in1k" "$TEND" run -- "$CAT") ;;
        python3) out=$("$FLOOR" timecmd "$PYCALLS" "$WORK/in1k" "$PYTHON" -c "$PYCODE") ;;
        esac
        [ -n "$out" ] || { log "oneshot 1KiB $tool failed"; continue; }
        read -r m p <<<"$out"
        log "oneshot 1KiB $tool round $r: median $((m / 1000)) us, p99 $((p / 1000)) us"
        med[$tool]="${med[$tool]:-} $(awk -v v="$m" 'BEGIN{printf "%.3f", v/1e6}')"
        tail[$tool]="${tail[$tool]:-} $(awk -v v="$p" 'BEGIN{printf "%.3f", v/1e6}')"
    done
    # three samples per round: the pipeline of four processes on two CPUs is noisy
    for tool in $(rotate "$r" shell tend floor python3 shell tend floor shell tend floor); do
        case $tool in
        shell) mid=("$CAT") ;;
        floor) mid=("$FLOOR" runcat) ;;
        tend) mid=("$TEND" run -- "$CAT") ;;
        python3) mid=("$PYTHON" -c "$PYCODE") ;;
        esac
        t0=$("$FLOOR" now)
        got=$("$FLOOR" write "$BIG" | "${mid[@]}" | "$FLOOR" drain 2>&1)
        t1=$("$FLOOR" now)
        [ "$got" = "$BIG" ] || log "oneshot 256MiB $tool: drained $got of $BIG bytes"
        mbs=$(awk -v b="$BIG" -v t=$((t1 - t0)) 'BEGIN{printf "%.0f", b/1e6/(t/1e9)}')
        log "oneshot 256MiB $tool round $r: $mbs MB/s"
        rate[$tool]="${rate[$tool]:-} $mbs"
    done
done
for tool in bare floor tend python3; do
    # shellcheck disable=SC2086
    record "oneshot 1KiB median ms" "$tool" "$(median ${med[$tool]:-})"
    # shellcheck disable=SC2086
    record "oneshot 1KiB p99 ms" "$tool" "$(median ${tail[$tool]:-})"
done
for tool in shell floor tend python3; do
    # shellcheck disable=SC2086
    record "oneshot 256MiB MB/s" "$tool" "$(median ${rate[$tool]:-})"
done
