#!/usr/bin/env python3
"""Clients for tests/examples: each subcommand plays one kind of client
against examples/echo or examples/httpd at 127.0.0.1:PORT (EX_HOST to
change; EX_SERVER=krank when the server runs on KRANK's stack), checks what
it sees against a deadline, prints "ok: ..." or "FAIL: ..." lines and exits
1 on any failure.  Run inside the test's network namespace."""
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time

HOST = os.environ.get("EX_HOST", "127.0.0.1")
# The server's sockets are Linux's (ss can see them), not KRANK's.
LINUX_SERVER = os.environ.get("EX_SERVER", "linux") == "linux"
failed = False


def ok(msg):
    print("ok: " + msg, flush=True)


def bad(msg):
    global failed
    failed = True
    print("FAIL: " + msg, flush=True)


def connect(port, timeout=5.0):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def closed_within(s, limit):
    """Seconds until the peer closes s (EOF or reset), reading and
    discarding; None when it stays open past limit."""
    t0 = time.monotonic()
    s.settimeout(0.2)
    while time.monotonic() - t0 < limit:
        try:
            if s.recv(65536) == b"":
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - t0
    return None


def refused_at_once(s, limit=2.0):
    """True when the peer closes s without sending anything, within
    limit seconds."""
    s.settimeout(limit)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


# ---- echo ----

def echo_roundtrip(port, data, timeout=10.0):
    """Send data while reading the echo; True when it all comes back."""
    s = connect(port, timeout)
    got = bytearray()

    def sender():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    t = threading.Thread(target=sender)
    t.start()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    t.join(timeout)
    s.close()
    return bytes(got) == data


def echo_many(port, n):
    results = [False] * n

    def one(i):
        data = os.urandom(65536 + i * 977)
        results[i] = echo_roundtrip(port, data)
    th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in th:
        t.start()
    for t in th:
        t.join(30)
    dt = time.monotonic() - t0
    good = sum(results)
    if good == n:
        ok("%d TCP clients at once, 64-113 KiB each, all echoed intact "
           "(%.2f s)" % (n, dt))
    else:
        bad("%d of %d concurrent TCP clients got their bytes back" % (good, n))

    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    got = 0
    for i in range(100):
        d = os.urandom(1 + i * 13)
        u.sendto(d, (HOST, port))
        try:
            r, _ = u.recvfrom(65536)
            got += r == d
        except socket.timeout:
            pass
    # Loopback does not lose datagrams; the server may (counted) only when
    # its socket is full, which one client waiting for each answer is not.
    if got == 100:
        ok("UDP on the same port: 100 datagrams (1..1288 B) echoed intact")
    else:
        bad("UDP: %d of 100 datagrams echoed intact" % got)


def echo_bulk(port):
    data = os.urandom(1 << 20)
    s = connect(port, 20)
    got = hashlib.sha256()
    n = 0

    def sender():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=sender)
    t.start()
    while True:
        b = s.recv(65536)
        if not b:
            break
        got.update(b)
        n += len(b)
    t.join(20)
    s.close()
    if n == len(data) and got.digest() == hashlib.sha256(data).digest():
        ok("1 MiB echoed with the same SHA-256, then closed after the "
           "client's shutdown")
    else:
        bad("1 MiB echo: %d bytes back, SHA-256 %s" %
            (n, "differs" if n == len(data) else "-"))


def echo_noread(port):
    # A client that sends without ever reading: the server's buffer for
    # it fills, it stops reading it, and the socket buffers fill up.
    hog = connect(port)
    hog.setblocking(False)
    sent = 0
    chunk = b"x" * 65536
    t0 = time.monotonic()
    while time.monotonic() - t0 < 5:
        try:
            sent += hog.send(chunk)
        except BlockingIOError:
            break
    stalled = time.monotonic() - t0 < 5
    worst = 0.0
    for i in range(20):
        t = time.monotonic()
        good = echo_roundtrip(port, os.urandom(4096), 2)
        dt = time.monotonic() - t
        worst = max(worst, dt)
        if not good:
            bad("with a non-reading client, round trip %d failed" % i)
            break
    else:
        if stalled and worst < 1.0:
            ok("a client that sends %d KiB and never reads stalls only "
               "itself: 20 others echoed, slowest %.3f s" %
               (sent // 1024, worst))
        else:
            bad("non-reading client: stalled %s, slowest other %.3f s" %
                (stalled, worst))
    hog.close()


def echo_maxconn(port, maxconn):
    held = []
    try:
        for i in range(maxconn):
            s = connect(port)
            s.sendall(b"ping")
            if s.recv(4) != b"ping":
                bad("connection %d of %d not served" % (i + 1, maxconn))
                return
            held.append(s)
        extra = connect(port)
        if refused_at_once(extra):
            ok("with --max-conn %d connections open, connection %d is "
               "accepted and closed at once" % (maxconn, maxconn + 1))
        else:
            bad("connection %d over --max-conn was not closed" %
                (maxconn + 1))
        extra.close()
        held.pop().close()
        # The slot frees when the server sees the close: poll for it.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            s = connect(port)
            s.settimeout(0.5)
            try:
                s.sendall(b"pong")
                if s.recv(4) == b"pong":
                    ok("after one closes, a new connection is served")
                    s.close()
                    break
            except OSError:
                pass
            s.close()
        else:
            bad("a freed slot was never reused")
    finally:
        for s in held:
            s.close()


def echo_idle(port, timeout):
    s = connect(port)
    s.sendall(b"hello")
    if s.recv(5) != b"hello":
        bad("idle: no echo")
        return
    dt = closed_within(s, timeout + 5)
    if dt is not None and timeout - 0.3 <= dt <= timeout + 2:
        ok("an idle connection is closed after %.2f s (--idle-timeout "
           "%g s)" % (dt, timeout))
    else:
        bad("idle connection closed after %s s, timeout %g" % (dt, timeout))
    s.close()


# ---- httpd ----

def http_get(port, path, timeout=5.0, extra=b""):
    """(status, headers dict, body) of one GET on a new connection."""
    s = connect(port, timeout)
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" +
              extra + b"Connection: close\r\n\r\n")
    buf = bytearray()
    while True:
        b = s.recv(65536)
        if not b:
            break
        buf += b
    s.close()
    head, _, body = bytes(buf).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0] else 0
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        hdrs[k.strip().lower().decode()] = v.strip().decode()
    return status, hdrs, body


def timed_fetches(port, path, want, stop, results):
    """Fetch path again and again until stop is set; record the slowest
    fetch and whether every one was complete."""
    worst, n, good = 0.0, 0, True
    while not stop.is_set():
        t = time.monotonic()
        try:
            st, _, body = http_get(port, path, 5)
        except OSError:
            st, body = 0, b""
        worst = max(worst, time.monotonic() - t)
        n += 1
        good = good and st == 200 and hashlib.sha256(body).digest() == want
        time.sleep(0.05)	# pacing the load, not synchronisation
    results.extend([worst, n, good])


def httpd_slow(port, header_timeout, path, fpath):
    want = hashlib.sha256(open(fpath, "rb").read()).digest()
    stop = threading.Event()
    res = []
    t = threading.Thread(target=timed_fetches, args=(port, path, want,
                                                     stop, res))
    t.start()
    s = connect(port)
    req = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\nX-Slow: " + \
        b"a" * 100
    t0 = time.monotonic()
    cut = None
    s.settimeout(0)
    for i, ch in enumerate(req):
        try:
            s.send(bytes([ch]))
        except OSError:
            cut = time.monotonic() - t0
            break
        # One byte a second; meanwhile watch for the server's close.
        dt = closed_within(s, 1.0)
        if dt is not None:
            cut = time.monotonic() - t0
            break
        if time.monotonic() - t0 > header_timeout + 5:
            break
    stop.set()
    t.join(10)
    s.close()
    if cut is not None and header_timeout - 0.5 <= cut <= header_timeout + 2:
        ok("a client sending a byte a second is cut after %.1f s (header "
           "timeout %g s)" % (cut, header_timeout))
    else:
        bad("slow client: cut after %s s, header timeout %g" %
            (cut, header_timeout))
    worst, n, good = res
    if good and worst < 1.0:
        ok("meanwhile %d normal fetches of %s, all intact, slowest "
           "%.3f s" % (n, path, worst))
    else:
        bad("meanwhile: %d fetches, intact %s, slowest %.3f s" %
            (n, good, worst))


def httpd_noread(port, idle_timeout, big, bigpath, path, fpath):
    want = hashlib.sha256(open(fpath, "rb").read()).digest()
    size = os.path.getsize(bigpath)
    hog = connect(port)
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    hog.sendall(b"GET " + big.encode() + b" HTTP/1.1\r\nHost: t\r\n\r\n")
    stop = threading.Event()
    res = []
    t = threading.Thread(target=timed_fetches, args=(port, path, want,
                                                     stop, res))
    t.start()
    # Others fetch while the server's sends to the hog block (a second
    # fetcher here), for less than the idle timeout that ends the hog.
    res2 = []
    stop2 = threading.Event()
    t2 = threading.Thread(target=timed_fetches, args=(port, path, want,
                                                      stop2, res2))
    t2.start()
    stop2.wait(max(1.0, idle_timeout * 0.7))	# the test's duration
    stop.set()
    stop2.set()
    t.join(10)
    t2.join(10)
    worst, n, good = max(res[0], res2[0]), res[1] + res2[1], \
        res[2] and res2[2]
    if good and worst < 1.0:
        ok("a client that never reads %s (%d MiB) stalls no one: %d "
           "other fetches intact, slowest %.3f s" %
           (big, size >> 20, n, worst))
    else:
        bad("beside a non-reader: %d fetches, intact %s, slowest %.3f s" %
            (n, good, worst))
    # The hog itself is cut once it takes nothing for the idle timeout.
    # Reading would be progress, and the kernel still delivers what the
    # server had queued, so look at the server's side instead: poll until
    # no process owns that socket any more.
    if not LINUX_SERVER:
        hog.close()
        return
    hport = hog.getsockname()[1]
    t0 = time.monotonic()
    dt = None
    while time.monotonic() - t0 < idle_timeout + 5:
        out = subprocess.run(["ss", "-Htnp", "state", "all", "sport = :%d "
                              "and dport = :%d" % (port, hport)],
                             capture_output=True, text=True).stdout
        if "users:" not in out:
            dt = time.monotonic() - t0
            break
        time.sleep(0.1)	# polling interval of a condition with a deadline
    if dt is not None:
        ok("the non-reader's connection was closed by the server %.1f s "
           "after the others were done" % dt)
    else:
        bad("the server still holds the non-reader's connection")
    hog.close()


def httpd_idle_keepalive(port, n, path):
    held = []
    for i in range(n):
        s = connect(port)
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n\r\n")
        held.append(s)
    # Read each answer fully (Content-Length), keep the connection.
    for s in held:
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += s.recv(4096)
        head, _, body = buf.partition(b"\r\n\r\n")
        clen = int([ln.split(b":")[1] for ln in head.split(b"\r\n")
                    if ln.lower().startswith(b"content-length")][0])
        while len(body) < clen:
            body += s.recv(65536)
    t = time.monotonic()
    st, _, _ = http_get(port, path, 5)
    dt = time.monotonic() - t
    if st == 200 and dt < 1.0:
        ok("%d idle keep-alive connections (at --max-conn) do not lock out "
           "a new client: 200 in %.3f s" % (n, dt))
    else:
        bad("with %d idle keep-alive connections a new client got %d "
            "after %.3f s" % (n, st, dt))
    for s in held:
        s.close()


def httpd_overload(port, n):
    held = []
    for i in range(n):
        s = connect(port)
        s.sendall(b"GET / HTTP/1.1\r\nHost")	# busy: mid-header
        held.append(s)
    # The server has them once it answers something on a later one; the
    # 503 itself shows it.
    st, hdrs, body = http_get(port, "/", 5)
    if st == 503 and b"503" in body and "retry-after" in hdrs:
        ok("over --max-conn %d busy connections: 503 with Retry-After and "
           "a body" % n)
    else:
        bad("over --max-conn: status %d, body %r" % (st, body[:60]))
    for s in held:
        s.close()


def httpd_raw(port, raw, want):
    s = connect(port)
    s.sendall(raw)
    buf = b""
    s.settimeout(5)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            buf += b
    except OSError:
        pass
    s.close()
    st = buf.split(b" ", 2)[1] if buf.startswith(b"HTTP/1.1 ") else b"-"
    return st.decode() == want, st.decode()


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    a = sys.argv[3:]
    if cmd == "echo-many":
        echo_many(port, int(a[0]))
    elif cmd == "echo-bulk":
        echo_bulk(port)
    elif cmd == "echo-noread":
        echo_noread(port)
    elif cmd == "echo-maxconn":
        echo_maxconn(port, int(a[0]))
    elif cmd == "echo-idle":
        echo_idle(port, float(a[0]))
    elif cmd == "httpd-slow":
        httpd_slow(port, float(a[0]), a[1], a[2])
    elif cmd == "httpd-noread":
        httpd_noread(port, float(a[0]), a[1], a[2], a[3], a[4])
    elif cmd == "httpd-idle":
        httpd_idle_keepalive(port, int(a[0]), a[1])
    elif cmd == "httpd-overload":
        httpd_overload(port, int(a[0]))
    elif cmd == "httpd-raw":
        good, st = httpd_raw(port, a[0].encode("latin-1").decode(
            "unicode_escape").encode("latin-1"), a[1])
        (ok if good else bad)("%s: %s (want %s)" % (a[2], st, a[1]))
    else:
        print("ex_clients.py: %s: unknown command" % cmd, file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
