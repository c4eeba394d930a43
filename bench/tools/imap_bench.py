#!/usr/bin/env python3
"""IMAP timings on one session over a big mailbox (the mailbox is only read).

usage: imap_bench.py --port P --user USER [--pass pass] [--host 127.0.0.1]
                     [--mailbox INBOX] [--word quokka] [--repeat 3] [--drop-caches]

Steps, each timed on its own:
  LOGIN, SELECT
  UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)    --repeat times
  SEARCH BODY "word"                                          --repeat times
  SEARCH TEXT "word"                                          twice
  FETCH 1:* BODY.PEEK[]                                       twice
The first run of a step is "cold" (the first time this session, and for a freshly loaded
mailbox the first time ever, that the server does the work); the later runs are "warm"
(whatever the server and the kernel cached is hot). --drop-caches (root) also empties the
kernel's page cache before each first run, so cold includes reading from disk.

Output: one line per run and a JSON: line.
"""
import argparse
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailproto import (ImapClient, ProtocolError, Stopwatch, drop_page_cache,  # noqa: E402
                       emit_json, imap_quote)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--pass", dest="password", default="pass")
    ap.add_argument("--mailbox", default="INBOX")
    ap.add_argument("--word", default="quokka")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--drop-caches", action="store_true")
    a = ap.parse_args()

    res = {"server": f"{a.host}:{a.port}", "user": a.user}
    clock = Stopwatch()
    imap = ImapClient(a.host, a.port)
    imap.login(a.user, a.password)
    res["login_s"] = round(clock.lap(), 4)
    res["messages"] = imap.select(a.mailbox)
    res["select_s"] = round(clock.lap(), 4)
    print(f"{a.host}:{a.port} {a.user}: {res['messages']} messages in {a.mailbox}; "
          f"LOGIN {res['login_s']:.3f}s SELECT {res['select_s']:.3f}s")
    if not res["messages"]:
        raise SystemExit(f"{a.mailbox} is empty: deliver the benchmark mailbox first")
    if a.drop_caches:
        res["drop_caches"] = None

    def fetch_count(responses):
        return {"responses": sum(1 for line, _ in responses if b" FETCH " in line[:32].upper())}

    def search_count(responses):
        hits = 0
        for line, _ in responses:
            if line[:9].upper() == b"* SEARCH " or line.rstrip() == b"* SEARCH":
                hits += len(line.split()) - 2
        return {"hits": hits}

    def step(name, command, runs, summarize):
        for run in range(1, runs + 1):
            if run == 1 and a.drop_caches:
                res["drop_caches"] = drop_page_cache()
            seen = []
            before = imap.wire.received
            clock.lap()
            status, tagged, _ = imap.command(command, lambda line, lit: seen.append((line, lit)))
            dt = clock.lap()
            if status != "OK":
                raise ProtocolError(f"{command}: {tagged!r}")
            got = imap.wire.received - before
            facts = summarize(seen)
            label = "cold" if run == 1 else "warm"
            res[f"{name}_{label}_s" if run <= 2 else f"{name}_warm{run - 1}_s"] = round(dt, 4)
            res[f"{name}_bytes"] = got
            for k, v in facts.items():
                res[f"{name}_{k}"] = v
            detail = " ".join(f"{k} {v}" for k, v in facts.items())
            print(f"  {name:<12} run {run} ({label}): {dt:8.3f}s  {got / 1e6:7.1f} MB  {detail}")

    step("fetch_meta", "UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)", a.repeat,
         fetch_count)
    step("search_body", f"SEARCH BODY {imap_quote(a.word)}", a.repeat, search_count)
    step("search_text", f"SEARCH TEXT {imap_quote(a.word)}", 2, search_count)
    step("fetch_body", "FETCH 1:* BODY.PEEK[]", 2, fetch_count)
    imap.logout()
    emit_json(res)


if __name__ == "__main__":
    main()
