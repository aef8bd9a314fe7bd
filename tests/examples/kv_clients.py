#!/usr/bin/env python3
"""kv_clients.py - clients for tests/examples/test_kv.sh that redis-cli
cannot be: malformed and oversized requests next to a client that keeps
working, more clients than --max-clients, writes past --maxmemory, and a
request arriving a byte at a time.  Prints "ok: ..." or "FAIL: ..." per
check; exit status 1 when one failed.

usage: kv_clients.py CHECK HOST PORT [ARGS...]
  malformed                 three bad requests closed with -ERR, a fourth
                            client unaffected
  maxclients N              N clients served, one more refused, then let in
  oom MAXMEMORY_BYTES       100 KB values until -OOM; reads, DEL still work
  pieces                    a request a byte at a time; a 627500-byte value
"""
import socket
import sys
import time

fails = 0


def ok(msg):
    print("ok: " + msg)


def bad(msg):
    global fails
    print("FAIL: " + msg)
    fails += 1


def connect(host, port):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def read_reply(s, buf=b""):
    """One RESP reply (not arrays) from s: (reply bytes, rest)."""
    deadline = time.monotonic() + 10
    while True:
        if b"\r\n" in buf:
            line, rest = buf.split(b"\r\n", 1)
            if line[:1] != b"$" or line == b"$-1":
                return line, rest
            n = int(line[1:])
            if len(rest) >= n + 2:
                return rest[:n], rest[n + 2:]
        if time.monotonic() > deadline:
            raise TimeoutError("no reply")
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed after %r" % buf[:80])
        buf += d


def request(s, *args):
    s.sendall(cmd(*args))
    return read_reply(s)[0]


def closed_after_error(s, what, want):
    """s answers with an error naming want, then closes."""
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except OSError as e:
        bad("%s: %s after %r" % (what, e, data[:80]))
        return
    if data.startswith(b"-ERR") and want in data:
        ok("%s: %s, then closed" % (what, data.strip().decode()))
    else:
        bad("%s: got %r" % (what, data[:120]))


def malformed(host, port):
    a = connect(host, port)
    if request(a, "SET", "survivor", "alive") != b"+OK":
        bad("SET survivor")
    cases = [
        ("a bad bulk length", b"*1\r\n$abc\r\n", b"invalid bulk length"),
        ("a bulk past --max-request",
         b"*2\r\n$3\r\nGET\r\n$999999999\r\n", b"invalid bulk length"),
        ("a multibulk count past the limit", b"*99999999\r\n",
         b"invalid multibulk length"),
        ("binary garbage", b"*1\r\n\x00\xff\xfe\r\n", b"expected '$'"),
    ]
    for what, req, want in cases:
        b = connect(host, port)
        b.sendall(req)
        closed_after_error(b, what, want)
        b.close()
    got = request(a, "GET", "survivor")
    if got == b"alive":
        ok("the other client, connected all along, still gets its value")
    else:
        bad("survivor got %r" % got)
    a.close()


def maxclients(host, port, n):
    conns = []
    for i in range(n):
        c = connect(host, port)
        if request(c, "PING") != b"+PONG":
            bad("client %d of %d not served" % (i + 1, n))
            return
        conns.append(c)
    ok("%d clients connected and served at once" % n)
    extra = connect(host, port)
    closed_after_error(extra, "client %d" % (n + 1),
                       b"max number of clients reached")
    extra.close()
    conns.pop().close()
    # The server notices the close on its next poll: retry briefly.
    deadline = time.monotonic() + 10
    while True:
        c = connect(host, port)
        try:
            if request(c, "PING") == b"+PONG":
                ok("after one left, a new client is served")
                conns.append(c)
                break
        except (ConnectionError, OSError):
            pass
        c.close()
        if time.monotonic() > deadline:
            bad("no client let in after one left")
            break
    for c in conns:
        c.close()


def oom(host, port, maxmem):
    c = connect(host, port)
    val = b"v" * 100000
    tries = maxmem // 100000 + 3
    got = None
    for i in range(tries):
        got = request(c, "SET", "big%d" % i, val)
        if got != b"+OK":
            break
    if got is not None and got.startswith(b"-OOM command not allowed"):
        ok("--maxmemory %d: SET number %d of 100 KB gets %s" %
           (maxmem, i + 1, got.decode()))
    else:
        bad("no -OOM after %d SETs of 100 KB: %r" % (tries, got))
    if request(c, "GET", "big0") == val:
        ok("GET still works over the limit")
    else:
        bad("GET big0 over the limit")
    request(c, "DEL", "big0", "big1")
    if request(c, "SET", "big0", val) == b"+OK":
        ok("after DEL a SET fits again")
    else:
        bad("SET after DEL")
    request(c, "DEL", *["big%d" % j for j in range(tries)])
    c.close()


def pieces(host, port):
    c = connect(host, port)
    val = bytes(range(256)) * 16
    for b in cmd("SET", "piecewise", val):
        c.send(bytes([b]))
    got = read_reply(c)[0]
    if got == b"+OK" and request(c, "GET", "piecewise") == val:
        ok("a 4 KiB SET sent a byte at a time: stored and read back whole")
    else:
        bad("byte-at-a-time SET: %r" % got[:80])
    big = bytes(range(251)) * 2500
    if request(c, "SET", "big", big) == b"+OK" and \
            request(c, "GET", "big") == big:
        ok("a %d-byte value stored and read back whole" % len(big))
    else:
        bad("a %d-byte value not stored or read back whole" % len(big))
    request(c, "DEL", "piecewise", "big")
    c.close()


def main():
    check, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if check == "malformed":
        malformed(host, port)
    elif check == "maxclients":
        maxclients(host, port, int(sys.argv[4]))
    elif check == "oom":
        oom(host, port, int(sys.argv[4]))
    elif check == "pieces":
        pieces(host, port)
    else:
        print("kv_clients.py: %s: unknown check" % check)
        return 2
    return 1 if fails else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError) as e:
        print("FAIL: %s: %s" % (sys.argv[1], e))
        sys.exit(1)
