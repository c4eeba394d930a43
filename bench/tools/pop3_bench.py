#!/usr/bin/env python3
"""POP3 download of a whole maildrop, the way a POP3 client empties it.

usage: pop3_bench.py --port P --user USER [--pass pass] [--host 127.0.0.1]
                     [--no-dele] [--drop-caches]

One session: USER/PASS, STAT, LIST, UIDL, RETR 1..n (one command at a time, as mail
clients do), DELE 1..n (skipped with --no-dele), QUIT (where the server commits the
deletions; the time until it closes the connection is included). Each phase is timed.
--drop-caches (root) empties the kernel's page cache before logging in.

Without --no-dele this removes every message of the account: use a test account.
Output: a summary line and a JSON: line.
"""
import argparse
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailproto import Pop3Client, Stopwatch, drop_page_cache, emit_json  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--pass", dest="password", default="pass")
    ap.add_argument("--no-dele", action="store_true", help="keep the messages")
    ap.add_argument("--drop-caches", action="store_true")
    a = ap.parse_args()

    res = {"server": f"{a.host}:{a.port}", "user": a.user}
    if a.drop_caches:
        res["drop_caches"] = drop_page_cache()
    total = Stopwatch()
    clock = Stopwatch()
    pop = Pop3Client(a.host, a.port)
    pop.login(a.user, a.password)
    res["login_s"] = clock.lap()
    parts = pop.simple("STAT").split()
    count, octets = int(parts[1]), int(parts[2])
    res["stat_s"] = clock.lap()
    pop.multiline("LIST")
    res["list_s"] = clock.lap()
    pop.multiline("UIDL")
    res["uidl_s"] = clock.lap()
    retrieved = 0
    for n in range(1, count + 1):
        retrieved += pop.multiline(f"RETR {n}")
    res["retr_all_s"] = clock.lap()
    if not a.no_dele:
        for n in range(1, count + 1):
            pop.simple(f"DELE {n}")
        res["dele_all_s"] = clock.lap()
    pop.quit()
    res["quit_s"] = clock.lap()
    res["total_s"] = total.lap()
    res = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()}
    retr = res["retr_all_s"] or 1e-9
    res.update(messages=count, maildrop_octets=octets, retr_mb=round(retrieved / 1e6, 1),
               retr_msg_per_s=round(count / retr, 1), retr_mb_per_s=round(retrieved / 1e6 / retr, 1))
    dele = f"DELE all {res['dele_all_s']:.3f}s " if "dele_all_s" in res else "(no DELE) "
    print(f"POP3 {a.host}:{a.port} {a.user}: {count} msgs ({octets / 1e6:.1f} MB); "
          f"LIST {res['list_s']:.3f}s UIDL {res['uidl_s']:.3f}s RETR all {res['retr_all_s']:.3f}s "
          f"({res['retr_msg_per_s']} msg/s, {res['retr_mb_per_s']} MB/s) {dele}"
          f"QUIT {res['quit_s']:.3f}s; total {res['total_s']:.3f}s")
    emit_json(res)


if __name__ == "__main__":
    main()
