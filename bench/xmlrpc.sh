#!/usr/bin/env bash
# xmlrpc.sh - supervisor.getAllProcessInfo, the call of `supervisorctl status`, of the
# Prometheus exporters and of cesi, against supervisord and tend running the same
# supervisord.conf with 100 and 2,000 programs (`sleep 1000`, all RUNNING). The client
# (xmlrpc_client.py) speaks HTTP/1.1 over the unix socket as supervisorctl does, one kept-alive
# connection, CALLS calls in a row timed one by one; median and p99 in ms.
# Results: xmlrpc getAllProcessInfo N=<n> <tool> <ms> (and p99). BENCH_XMLRPC_TOOLS=tend
# measures only tend, BENCH_XMLRPC_SIZES="100" only 100 programs.
. "$(dirname "$0")/lib.sh"

SIZES=${BENCH_XMLRPC_SIZES:-100 2000}
CALLS=${BENCH_XMLRPC_CALLS:-$([ -n "$QUICK" ] && echo 10 || echo 30)}
CLIENT=$BENCH/xmlrpc_client.py

for n in $SIZES; do
    new_sleep
    dir=$WORK/xmlrpc-$n
    gen_supervisord "$dir" "$n" "$SLEEP" 1000
    for tool in ${BENCH_XMLRPC_TOOLS:-supervisord tend}; do
        rm -f "$dir/supervisor.sock" "$dir/supervisord.pid"
        if [ "$tool" = tend ]; then
            cmd="$TEND -c $dir/supervisord.conf up"
        else
            cmd="supervisord -n -c $dir/supervisord.conf"
        fi
        # shellcheck disable=SC2086
        out=$(FLOOR_LOG=$dir/$tool.log FLOOR_PIDFILE=$WORK/started "$FLOOR" launch "$SNAME" "$n" 600 $cmd)
        spid=${out#* }
        if [ "${out% *}" = -1 ]; then
            log "xmlrpc: $tool did not start $n programs in 600 s"
            stop_tree "$spid" "$SNAME"
            continue
        fi
        # every program RUNNING (startsecs = 1) before the clock starts
        for _ in $(seq 1 600); do
            "$PYTHON" "$CLIENT" "$dir/supervisor.sock" --wait 2>/dev/null && break
            sleep 0.5
        done
        read -r med p99 < <("$PYTHON" "$CLIENT" "$dir/supervisor.sock" "$CALLS")
        record "xmlrpc getAllProcessInfo N=$n" "$tool" "$med"
        record "xmlrpc getAllProcessInfo p99 N=$n" "$tool" "$p99"
        stop_tree "$spid" "$SNAME"
    done
done
