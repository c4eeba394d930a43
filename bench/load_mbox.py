#!/usr/bin/env python3
"""Deliver the first N messages of an mbox into a Mailroom account with `mailroom deliver`,
several at a time, so benchmarks start from the same 5,000 messages as Dovecot.

usage: load_mbox.py MAILROOM_BIN CONFIG RCPT MBOX [--count 5000] [--jobs 4]
"""
import argparse
import mailbox
import subprocess
from concurrent.futures import ThreadPoolExecutor


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("config")
    ap.add_argument("rcpt")
    ap.add_argument("mbox")
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=4)
    a = ap.parse_args()
    box = mailbox.mbox(a.mbox)
    msgs = []
    for key in box.iterkeys():
        msgs.append(box.get_bytes(key))
        if len(msgs) >= a.count:
            break

    def deliver(m):
        r = subprocess.run([a.binary, "--config", a.config, "deliver", a.rcpt], input=m,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise SystemExit(f"deliver failed: {r.stderr.decode()}")

    # Keep the mbox order: deliveries in one worker are sequential, and each worker takes a
    # contiguous slice, so UIDs differ from mbox order only across workers.
    with ThreadPoolExecutor(a.jobs) as pool:
        list(pool.map(deliver, msgs))
    print(f"loaded {len(msgs)} messages into {a.rcpt}")


if __name__ == "__main__":
    main()
