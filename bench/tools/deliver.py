#!/usr/bin/env python3
"""Delivery rate over LMTP (or SMTP): sends the first N messages of an mbox to one
recipient over C parallel connections and reports msg/s, MB/s and per-message latency.

usage: deliver.py --port P --rcpt USER [--host 127.0.0.1] [--mbox FILE] [--count 5000]
                  [--conns 1] [--smtp] [--per-conn 0] [--from bench@example.org]

The messages are read (and converted to CRLF) before the clock starts. Connection i takes
messages i, i+C, i+2C, ... in order. --per-conn K opens a new session every K messages
(0: one session per connection for everything). A refused message is counted as an error
and the session is reopened; the run goes on.

Output: "delivered N/M msgs ..." and a JSON: line. Exit status 1 if nothing was delivered.
"""
import argparse
import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailproto import MailTransfer, ProtocolError, emit_json, percentile, read_mbox  # noqa: E402


def sender_loop(a, messages, latencies, errors, lock):
    session = None
    since_connect = 0
    mine = []
    for msg in messages:
        try:
            if session is None:
                session = MailTransfer(a.host, a.port, lmtp=not a.smtp)
                since_connect = 0
            t = time.perf_counter()
            refused = session.send_message(a.sender, [a.rcpt], msg)
            dt = time.perf_counter() - t
            if refused:
                with lock:
                    errors.append(str(refused[0]))
            else:
                mine.append(dt)
            since_connect += 1
            if a.per_conn and since_connect >= a.per_conn:
                session.quit()
                session = None
        except (OSError, ProtocolError) as e:
            with lock:
                errors.append(f"{type(e).__name__}: {e}")
            if session is not None:
                session.wire.close()
            session = None
    if session is not None:
        session.quit()
    with lock:
        latencies.extend(mine)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rcpt", required=True, help="recipient (user1, or user1@example.test)")
    ap.add_argument("--mbox", default="bench.mbox")
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--per-conn", type=int, default=0)
    ap.add_argument("--smtp", action="store_true", help="speak SMTP (EHLO) instead of LMTP")
    ap.add_argument("--from", dest="sender", default="bench@example.org")
    a = ap.parse_args()

    messages = read_mbox(a.mbox, a.count)
    if not messages:
        raise SystemExit(f"no messages in {a.mbox}")
    size = sum(len(m) for m in messages)
    conns = max(1, min(a.conns, len(messages)))
    latencies, errors, lock = [], [], threading.Lock()
    workers = [threading.Thread(target=sender_loop,
                                args=(a, messages[k::conns], latencies, errors, lock))
               for k in range(conns)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - start

    done = len(latencies)
    latencies.sort()
    proto = "SMTP" if a.smtp else "LMTP"
    # Bytes of the messages that went through (all of them unless some failed).
    mb = size / 1e6 * done / len(messages)
    res = {"protocol": proto, "port": a.port, "rcpt": a.rcpt, "conns": conns,
           "count": len(messages), "delivered": done, "errors": len(errors),
           "mb": round(mb, 1), "secs": round(wall, 3),
           "msg_per_s": round(done / wall, 1), "mb_per_s": round(mb / wall, 2),
           "p50_ms": round(percentile(latencies, 50) * 1000, 2),
           "p99_ms": round(percentile(latencies, 99) * 1000, 2),
           "max_ms": round((latencies[-1] if latencies else 0) * 1000, 2)}
    print(f"delivered {done}/{len(messages)} msgs ({mb:.1f} MB) to {a.rcpt} over {proto} "
          f"{a.host}:{a.port} on {conns} connection(s) in {wall:.2f}s: {res['msg_per_s']} msg/s, "
          f"{res['mb_per_s']} MB/s, latency p50 {res['p50_ms']} ms p99 {res['p99_ms']} ms; "
          f"errors {len(errors)}")
    if errors:
        print("first errors: " + "; ".join(errors[:3]))
    emit_json(res)
    sys.exit(0 if done else 1)


if __name__ == "__main__":
    main()
