#!/usr/bin/env python3
# An event listener written the way supervisord's users write them (supervisor.childutils):
# appends "EVENTNAME serial:N poolserial:N PAYLOAD-FIRST-LINE" for each event to the file $1.
#   FAIL_ONCE=EVENTNAME  answer FAIL the first time an event of that type arrives
#   HANG_ON=EVENTNAME    on that event, note "hang SERIAL" and never answer (to be killed BUSY)
#   SHUTDOWN_ON=EVENTNAME  on that event, supervisor.shutdown() over XML-RPC through
#                        childutils.getRPCInterface(os.environ) (the "exit when FATAL" listener)
#   RAW=1                read the protocol by hand and note the header line exactly as sent
import os
import sys
import time

from supervisor import childutils

out = sys.argv[1]
fail_once = os.environ.get("FAIL_ONCE")
hang_on = os.environ.get("HANG_ON")
shutdown_on = os.environ.get("SHUTDOWN_ON")
raw = os.environ.get("RAW") == "1"
failed = set()


def note(line):
    with open(out, "a") as f:
        f.write(line + "\n")


note("start pid:%d url:%s" % (os.getpid(), os.environ.get("SUPERVISOR_SERVER_URL", "")))
while True:
    if raw:
        sys.stdout.write("READY\n")
        sys.stdout.flush()
        line = sys.stdin.readline()
        headers = childutils.get_headers(line)
        payload = sys.stdin.read(int(headers["len"]))
        note("raw %s" % line.rstrip("\n"))
    else:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    name = headers["eventname"]
    first = payload.split("\n", 1)[0]
    note("%s serial:%s poolserial:%s pool:%s %s" % (
        name, headers["serial"], headers["poolserial"], headers["pool"], first))
    if hang_on == name:
        note("hang %s" % headers["serial"])
        while True:
            time.sleep(1000)
    if fail_once == name and headers["serial"] not in failed:
        failed.add(headers["serial"])
        note("fail %s" % headers["serial"])
        childutils.listener.fail(sys.stdout)
        continue
    if shutdown_on == name:
        rpc = childutils.getRPCInterface(os.environ)
        note("shutdown %s" % rpc.supervisor.shutdown())
    childutils.listener.ok(sys.stdout)
