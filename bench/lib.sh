# lib.sh - helpers shared by the bench scripts; sourced, never run.
#
# What it gives:
#   - paths: BENCH (this directory), TOP (the repository), FLOOR (bench/floor, built on demand),
#     TEND (./tend unless $TEND is set), WORK (a fresh temp dir under /tmp, removed at exit)
#   - BENCH_QUICK=1: fewer repetitions and no N=10,000 (REPS, QUICK)
#   - median / p99 / ratio / now_ns / record (results go to $BENCH_OUT/results.tsv)
#   - config generators for tend, supervisord, runit (runsvdir) and s6 (s6-svscan), all in WORK
#   - launch_wait: starts a supervisor and waits, through /proc, until N children with a given
#     comm run; stop_tree: stops a supervisor and everything under it, whatever it is
#   - a trap on EXIT that stops every supervisor started here and checks nothing is left
# Nothing here touches the machine's own services: no /etc/service, no systemd, no /run/tend.

set -u
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$BENCH/.." && pwd)
FLOOR=$BENCH/floor
TEND=${TEND:-$TOP/tend}
BENCH_OUT=${BENCH_OUT:-$BENCH/out}
QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
REPS=${BENCH_REPS:-$([ -n "$QUICK" ] && echo 3 || echo 5)}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PYTHON" ] || PYTHON=$(command -v python3)
mkdir -p "$BENCH_OUT"

# supervisord keeps 3 fds per process, tend 1 or 2: take as many as allowed (a container
# without CAP_SYS_RESOURCE cannot go past its hard limit; 20,000 on the machines of 2026-11)
ulimit -Hn 200000 2>/dev/null; ulimit -n "$(ulimit -Hn)" 2>/dev/null
FDMAX=$(ulimit -n)

if [ ! -x "$FLOOR" ] || [ "$BENCH/floor.c" -nt "$FLOOR" ]; then
    cc -O2 -Wall -o "$FLOOR" "$BENCH/floor.c" || { echo "bench: cannot build floor" >&2; exit 1; }
fi

WORK=$(mktemp -d /tmp/tend-bench.XXXXXX)
RUNID=$(printf '%04x' $((RANDOM % 65536)))
NAMES=()        # every unique sleep name made here: nothing with one of them may survive
STARTED=()      # every supervisor pid started here (read from $WORK/started at exit)

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

now_ns() { date +%s%N; }

# median of the arguments (numbers); "-" when there are none
median() {
    [ $# -eq 0 ] && { echo -; return; }
    printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}

# the 99th percentile (nearest rank) of the arguments
p99() {
    [ $# -eq 0 ] && { echo -; return; }
    printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {i=int(0.99*(NR-1)+0.5)+1; print v[i]}'
}

# A / B with 2 decimals, or "-" when either is missing or B is 0
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || a == "" || b == "" || b+0 == 0) print "-"; else printf "%.2f\n", a/b }'
}

# record MEASURE TOOL VALUE: one line of results.tsv (the latest value wins in run-all)
record() {
    printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$BENCH_OUT/results.tsv"
    log "result: $1 [$2] = $3"
}

# rotate LIST...: the list, starting at element (rep mod n), so that no tool is always first
rotate() {
    local k=$1; shift
    local a=("$@") n=$#
    for ((i = 0; i < n; i++)); do printf '%s ' "${a[$(((i + k) % n))]}"; done
}

# new_sleep: a symlink to sleep under a name no other process has (comm <= 15 chars);
# sets SLEEP (its path) and SNAME (its comm)
SEQ=0
new_sleep() {
    SEQ=$((SEQ + 1))
    SNAME="bs${RUNID}x$SEQ"
    SLEEP="$WORK/bin/$SNAME"
    mkdir -p "$WORK/bin"
    ln -sf "$(command -v sleep)" "$SLEEP"
    NAMES+=("$SNAME")
}

# ---- configurations: gen_TOOL DIR N CMD... (every program runs CMD) ----
# Extra program options: TEND_OPTS / SUPERVISORD_OPTS ("key = value" lines joined by a literal \n); supervisord's
# programs log nowhere unless SUPERVISORD_LOGS replaces its two "..._logfile = NONE" lines.

gen_tend() {
    local dir=$1 n=$2; shift 2
    mkdir -p "$dir"
    {
        printf '[tend]\nsocket = %s/tend.sock\nminfds = %s\nshutdown_timeout = 5s\n' "$dir" "$FDMAX"
        awk -v n="$n" -v cmd="$*" -v opts="${TEND_OPTS:-}" 'BEGIN {
            for (i = 1; i <= n; i++) {
                printf "\n[program:p%d]\ncommand = %s\n", i, cmd
                if (opts != "") print opts
            }
        }'
    } >"$dir/tend.ini"
}

gen_supervisord() {
    local dir=$1 n=$2; shift 2
    mkdir -p "$dir/logs"
    {
        printf '[supervisord]\nnodaemon = true\nlogfile = %s/supervisord.log\npidfile = %s/supervisord.pid\n' "$dir" "$dir"
        printf 'childlogdir = %s/logs\nminfds = %s\nminprocs = 40000\nloglevel = info\n' "$dir" "$FDMAX"
        printf '\n[unix_http_server]\nfile = %s/supervisor.sock\n' "$dir"
        printf '\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n'
        printf '\n[supervisorctl]\nserverurl = unix://%s/supervisor.sock\n' "$dir"
        awk -v n="$n" -v cmd="$*" -v opts="${SUPERVISORD_OPTS:-}" -v logs="${SUPERVISORD_LOGS-stdout_logfile = NONE\\nstderr_logfile = NONE}" 'BEGIN {
            for (i = 1; i <= n; i++) {
                printf "\n[program:p%d]\ncommand = %s\n", i, cmd
                if (logs != "") print logs
                if (opts != "") print opts
            }
        }'
    } >"$dir/supervisord.conf"
}

# runit and s6 share the layout: DIR/sv/pK/run, a /bin/sh script that execs CMD
gen_svdir() {
    local dir=$1 n=$2; shift 2
    mkdir -p "$dir/sv"
    local i
    for ((i = 1; i <= n; i++)); do
        mkdir "$dir/sv/p$i"
        printf '#!/bin/sh\nexec %s\n' "$*" >"$dir/sv/p$i/run"
        chmod 755 "$dir/sv/p$i/run"
    done
}
gen_runit() { gen_svdir "$@"; }
gen_s6() { gen_svdir "$@"; }

# the command line that runs TOOL on the configuration in DIR, in the foreground
tool_cmd() {
    local tool=$1 dir=$2 n=${3:-1000}
    case $tool in
    tend) echo "$TEND -c $dir/tend.ini up" ;;
    supervisord) echo "supervisord -n -c $dir/supervisord.conf" ;;
    runit) echo "runsvdir $dir/sv" ;;
    s6) echo "s6-svscan -c $((n + 100)) $dir/sv" ;;
    esac
}

# gen TOOL DIR N CMD...: the configuration of TOOL (floor needs none)
gen() {
    local tool=$1; shift
    case $tool in
    floor) mkdir -p "$1" ;;
    *) "gen_$tool" "$@" ;;
    esac
}

# launch_wait TOOL DIR N NAME TIMEOUT_S [FLOOR_CMD...]: start TOOL on DIR; wait until N
# processes named NAME run. Sets LAUNCH_NS (-1 on timeout) and SPID (the supervisor's pid).
launch_wait() {
    local tool=$1 dir=$2 n=$3 name=$4 timeout=$5; shift 5
    local out
    if [ "$tool" = floor ]; then
        out=$(FLOOR_LOG=$dir/out.log FLOOR_PIDFILE=$WORK/started "$FLOOR" launch "$name" "$n" "$timeout" "$FLOOR" spawn "$n" "$@")
    else
        # shellcheck disable=SC2046
        out=$(FLOOR_LOG=$dir/out.log FLOOR_PIDFILE=$WORK/started "$FLOOR" launch "$name" "$n" "$timeout" $(tool_cmd "$tool" "$dir" "$n"))
    fi
    LAUNCH_NS=${out% *}
    SPID=${out#* }
}

# stop_tree PID [NAME]: freeze PID and every descendant (until no new one appears), then KILL
# them all. Whatever a supervisor does on TERM, nothing of it survives, and none restarts.
# With NAME, also waits until no process of that name is left (10,000 take a while to reap),
# so that the next measure does not run beside them.
stop_tree() {
    local root=$1 name=${2:-} all="" pids prev=-1 count=0
    kill -0 "$root" 2>/dev/null || return 0
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        pids=$("$FLOOR" tree "$root" | tr '\n' ' ')
        all="$all $pids"
        # shellcheck disable=SC2086
        kill -STOP $pids 2>/dev/null
        count=$(echo "$pids" | wc -w)
        [ "$count" = "$prev" ] && break
        prev=$count
    done
    # shellcheck disable=SC2086
    kill -KILL $all 2>/dev/null
    # the children of a killed process are reaped by init, or by us for the floor
    for _ in $(seq 1 100); do
        kill -0 "$root" 2>/dev/null || break
        sleep 0.05
    done
    wait "$root" 2>/dev/null
    if [ -n "$name" ]; then
        for _ in $(seq 1 300); do
            [ "$("$FLOOR" count "$name")" = 0 ] && break
            sleep 0.1
        done
    fi
    return 0
}

# kills what is left of every name made here, then says whether anything survived
cleanup() {
    local rc=$? left=0 p n
    # every supervisor `floor launch` started, even one whose launch was interrupted
    [ -f "$WORK/started" ] && mapfile -t STARTED <"$WORK/started"
    for p in "${STARTED[@]}"; do stop_tree "$p"; done
    for n in "${NAMES[@]}"; do
        # shellcheck disable=SC2046
        kill -KILL $("$FLOOR" pids "$n") 2>/dev/null
    done
    # killed processes are reaped by init: give it a moment (count skips zombies anyway)
    for _ in $(seq 1 50); do
        left=0
        for n in "${NAMES[@]}"; do [ "$("$FLOOR" count "$n")" -gt 0 ] && left=1; done
        [ $left = 0 ] && break
        sleep 0.2
    done
    left=0
    for n in "${NAMES[@]}"; do
        p=$("$FLOOR" count "$n")
        [ "$p" -gt 0 ] && { log "LEFT BEHIND: $p processes named $n"; left=1; }
    done
    for p in "${STARTED[@]}"; do
        kill -0 "$p" 2>/dev/null && { log "LEFT BEHIND: supervisor pid $p"; left=1; }
    done
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
    [ $left = 0 ] || rc=1
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for_file_size FILE BYTES TIMEOUT_S: until FILE (or the sum of the files of a directory)
# holds BYTES; prints the monotonic ns at which it did, or -1
size_of() {
    if [ -d "$1" ]; then
        du -sb --apparent-size "$1" 2>/dev/null | cut -f1
    else
        stat -c %s "$1" 2>/dev/null || echo 0
    fi
}

# pstat PID [SKIP]: "PROCS CTXT CPU_TICKS RSS_KB PSS_KB" of PID and its helpers
pstat() { "$FLOOR" pstat "$@"; }

TOOLS_ALL="floor supervisord runit s6 tend"
