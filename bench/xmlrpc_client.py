# xmlrpc_client.py SOCKET CALLS - for bench/xmlrpc.sh: CALLS timed supervisor.getAllProcessInfo
# calls on one kept-alive HTTP/1.1 connection over the unix socket, as supervisorctl's
# SupervisorTransport makes them: request written, whole answer read. The client's XML parsing
# is left out of the time (Python's parser takes ~100 ms for 2,000 processes, more than tend);
# the last answer is parsed and every process checked RUNNING. Prints "median p99" in ms.
# With --wait: exits 0 once every process is RUNNING, 1 otherwise (one call, parsed).
import socket
import sys
import time
import xmlrpc.client

sock = sys.argv[1]
body = xmlrpc.client.dumps((), "supervisor.getAllProcessInfo").encode()
req = (b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
       b"Content-Length: %d\r\n\r\n" % len(body)) + body
c = socket.socket(socket.AF_UNIX)
c.connect(sock)


def call():
    c.sendall(req)
    buf = b""
    while b"\r\n\r\n" not in buf:
        more = c.recv(65536)
        if not more:
            raise EOFError("connection closed")
        buf += more
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = [int(h.split(b":")[1]) for h in head.split(b"\r\n")
              if h.lower().startswith(b"content-length:")][0]
    body = bytearray(length)
    view = memoryview(body)
    view[:len(rest)] = rest
    got = len(rest)
    while got < length:
        n = c.recv_into(view[got:])
        if not n:
            raise EOFError("connection closed")
        got += n
    return bytes(body)


def all_running(answer):
    info = xmlrpc.client.loads(answer)[0][0]
    return all(i["statename"] == "RUNNING" for i in info)


if sys.argv[2] == "--wait":
    sys.exit(0 if all_running(call()) else 1)
calls = int(sys.argv[2])
call()  # warm up
t = []
for _ in range(calls):
    a = time.perf_counter()
    last = call()
    t.append((time.perf_counter() - a) * 1000)
assert all_running(last), "not every process is RUNNING"
t.sort()
print("%.3f %.3f" % (t[len(t) // 2], t[min(len(t) - 1, int(0.99 * (len(t) - 1) + 0.5))]))
