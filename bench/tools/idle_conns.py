#!/usr/bin/env python3
"""What an idle IMAP client costs the server: memory per authenticated connection in IDLE.

usage: idle_conns.py --port P (--pid PID | --pidfile FILE) [--host 127.0.0.1]
                     [--count 1000] [--users 1-10] [--user-template user%d] [--pass pass]
                     [--mailbox INBOX] [--hold 5] [--openers 16]

PID (or the pid in FILE) is the server's top process: Dovecot's master (DIR/run/master.pid)
or Mailroom's single process. The whole tree under it is measured: the sum of RSS and the
sum of PSS (from /proc/PID/smaps_rollup; PSS splits shared pages among the processes that
share them, so it is the fair figure for a server with a process per connection).

1. measure the idle server;
2. open COUNT connections (--openers at a time), each LOGIN as the next user of the range
   (round-robin), SELECT, IDLE, and wait for the "+" continuation;
3. hold them --hold seconds, measure again;
4. DONE + LOGOUT on every connection, measure once more after they closed.
Per connection = (step 3 - step 1) / connections that reached IDLE.

Output: a few lines and a JSON: line.
"""
import argparse
import os
import resource
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailproto import (MIB, ImapClient, ProtocolError, emit_json,  # noqa: E402
                       measure, server_pid)


def open_idle(a, user):
    imap = ImapClient(a.host, a.port, timeout=120)
    try:
        imap.login(user, a.password)
        imap.select(a.mailbox)
        imap.seq += 1
        tag = b"t%d" % imap.seq
        imap.wire.send(tag + b" IDLE\r\n")
        while True:
            line, _ = imap.response()
            if line.startswith(b"+"):
                return imap
            if line.startswith(tag + b" ") or line.startswith(b"* BYE"):
                raise ProtocolError(f"IDLE refused: {line!r}")
    except BaseException:
        imap.wire.close()
        raise


def describe(label, snap):
    return (f"{label:<14} procs {snap['procs']:5d}  RSS {snap['rss'] / MIB:9.1f} MiB  "
            f"PSS {snap['pss'] / MIB:9.1f} MiB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--pidfile")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--users", default="1-10", help="range of user numbers, e.g. 1-10")
    ap.add_argument("--user-template", default="user%d")
    ap.add_argument("--pass", dest="password", default="pass")
    ap.add_argument("--mailbox", default="INBOX")
    ap.add_argument("--hold", type=float, default=5.0)
    ap.add_argument("--openers", type=int, default=16, help="connections opened in parallel")
    a = ap.parse_args()

    root = server_pid(a.pid, a.pidfile)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.count + 64
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
        except (ValueError, OSError):
            pass
    first, _, last = a.users.partition("-")
    numbers = list(range(int(first), int(last or first) + 1))
    users = [a.user_template % numbers[k % len(numbers)] for k in range(a.count)]

    time.sleep(1.0)
    base = measure(root)

    opened, failures, lock = [], [], threading.Lock()
    todo = iter(range(a.count))

    def opener():
        while True:
            with lock:
                k = next(todo, None)
            if k is None:
                return
            try:
                conn = open_idle(a, users[k])
            except (OSError, ProtocolError) as e:
                with lock:
                    failures.append(f"{type(e).__name__}: {e}")
                continue
            with lock:
                opened.append(conn)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=opener) for _ in range(max(1, a.openers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    open_s = time.perf_counter() - t0

    time.sleep(a.hold)
    idle = measure(root)
    for conn in opened:
        try:
            conn.wire.send(b"DONE\r\nz LOGOUT\r\n")
        except OSError:
            pass
    for conn in opened:
        conn.wire.close()
    time.sleep(2.0)
    closed = measure(root)

    n = len(opened)
    res = {"server": f"{a.host}:{a.port}", "count": a.count, "idle": n,
           "failed": len(failures), "open_s": round(open_s, 2),
           "open_per_s": round(n / open_s, 1) if open_s else 0,
           "rss_delta_mib": round((idle["rss"] - base["rss"]) / MIB, 1),
           "pss_delta_mib": round((idle["pss"] - base["pss"]) / MIB, 1),
           "rss_per_conn_kib": round((idle["rss"] - base["rss"]) / 1024 / max(1, n), 1),
           "pss_per_conn_kib": round((idle["pss"] - base["pss"]) / 1024 / max(1, n), 1),
           "procs_delta": idle["procs"] - base["procs"],
           "before": base, "idle_snapshot": idle, "after_close": closed}
    print(f"{n}/{a.count} connections in IDLE on {a.host}:{a.port} after {open_s:.1f}s "
          f"({res['open_per_s']}/s); failures {len(failures)}"
          + (f" (first: {failures[0]})" if failures else ""))
    print(describe("server before", base))
    print(describe("with idlers", idle))
    print(describe("after close", closed))
    print(f"per connection: RSS {res['rss_per_conn_kib']} KiB, PSS {res['pss_per_conn_kib']} KiB")
    emit_json(res)
    sys.exit(0 if n else 1)


if __name__ == "__main__":
    main()
