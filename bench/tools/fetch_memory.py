#!/usr/bin/env python3
"""What one big FETCH costs the server in memory (issue 11, "bounded output and write
deadlines"): RSS of the server's process tree while a single session downloads a whole
mailbox with FETCH 1:* BODY.PEEK[] as fast as it can read.

usage: fetch_memory.py --port P (--pid PID | --pidfile FILE) --user USER [--pass pass]
                       [--host 127.0.0.1] [--mailbox INBOX] [--server NAME] [--every 0.05]
                       [--pss-every 10] [--repeat 1] [--settle 1] [--settle-max 120]
                       [--after 2] [--target-mib 64] [--save FILE]
       fetch_memory.py --report FILE          (side-by-side table of the runs saved in FILE)

PID (or the pid in FILE) is the server's top process: Dovecot's master (DIR/run/master.pid)
or Mailroom's single process; the whole tree under it is measured, as by procmon.py.

1. once the server is quiet (below 5 % of a core for a second, at most --settle-max seconds:
   a fresh Mailroom first indexes the mail `mailroom deliver` stored) and --settle seconds
   more, the idle server: RSS and PSS (nothing connected);
2. LOGIN, SELECT --mailbox;
3. FETCH 1:* BODY.PEEK[] (--repeat times; the first run is cold), the literals read and
   dropped as fast as they come, while a thread samples the tree's RSS every --every
   seconds (PSS every --pss-every samples, it costs more; both also after SELECT and after
   each FETCH);
4. LOGOUT, and after --after seconds the server once more.
Growth = peak RSS while the session ran - idle RSS; the issue's target is <= --target-mib.
MB/s counts every byte the FETCH answer took on the wire (MB = 10^6 bytes, as imap_bench.py).

Output: a human summary and a JSON: line; --save FILE also appends the JSON object to FILE
(one per line) for --report.
"""
import argparse
import json
import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailproto import (MIB, ImapClient, ProtocolError, emit_json, measure,  # noqa: E402
                       server_pid, wait_quiet)


class Sampler(threading.Thread):
    """RSS (and now and then PSS) of the server's tree every `every` seconds until stopped;
    the peak and when it happened (a perf_counter time)."""

    def __init__(self, root, every, pss_every):
        super().__init__(daemon=True)
        self.root, self.every, self.pss_every = root, every, max(1, pss_every)
        self.stop = threading.Event()
        self.samples = 0
        self.peak_rss, self.peak_pss = 0, 0
        self.peak_t = None
        self.series = []  # (perf_counter time, rss)
        self.lock = threading.Lock()

    def run(self):
        next_at = time.perf_counter()
        while not self.stop.is_set():
            self.samples += 1
            s = measure(self.root, with_pss=(self.samples % self.pss_every == 0))
            now = time.perf_counter()
            self.series.append((now, s["rss"]))
            with self.lock:
                if s["rss"] > self.peak_rss:
                    self.peak_rss, self.peak_t = s["rss"], now
                self.peak_pss = max(self.peak_pss, s.get("pss", 0))
            next_at += self.every
            self.stop.wait(max(0.0, next_at - time.perf_counter()))

    def finish(self):
        self.stop.set()
        self.join()


def mib(n):
    return round(n / MIB, 1)


def report(path):
    runs = [json.loads(line) for line in open(path) if line.strip()]
    cols = [("server", "server", "{}"), ("messages", "messages", "{}"),
            ("idle RSS MiB", "idle_rss_mib", "{}"), ("peak RSS MiB", "peak_rss_mib", "{}"),
            ("growth MiB", "growth_rss_mib", "{}"), ("PSS growth", "growth_pss_mib", "{}"),
            ("FETCH s", "fetch_s", "{}"), ("MB", "fetch_mb", "{}"), ("MB/s", "mb_per_s", "{}"),
            ("after MiB", "after_rss_mib", "{}"), ("<= target", "within_target", "{}")]
    print("  ".join(f"{h:>12}" for h, _, _ in cols))
    for r in runs:
        print("  ".join(f"{f.format(r.get(k, '-')):>12}" for _, k, f in cols))
    if runs:
        print(f"(growth = peak RSS of the server's process tree during LOGIN..FETCH..LOGOUT "
              f"minus its idle RSS; target <= {runs[0].get('target_mib')} MiB)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--pidfile")
    ap.add_argument("--user")
    ap.add_argument("--pass", dest="password", default="pass")
    ap.add_argument("--mailbox", default="INBOX")
    ap.add_argument("--server", default="", help="name in the output (dovecot, mailroom)")
    ap.add_argument("--every", type=float, default=0.05, help="seconds between RSS samples")
    ap.add_argument("--pss-every", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--settle", type=float, default=1.0)
    ap.add_argument("--settle-max", type=float, default=120.0)
    ap.add_argument("--after", type=float, default=2.0)
    ap.add_argument("--target-mib", type=float, default=64.0)
    ap.add_argument("--save")
    ap.add_argument("--report", metavar="FILE")
    a = ap.parse_args()
    if a.report:
        report(a.report)
        return
    if a.port is None or a.user is None:
        ap.error("--port and --user are required")
    root = server_pid(a.pid, a.pidfile)

    quiet = wait_quiet(root, timeout=a.settle_max)
    if quiet is None:
        print(f"  note: the server still used CPU after {a.settle_max:g}s; measuring anyway")
    time.sleep(a.settle)
    idle = measure(root)
    sampler = Sampler(root, a.every, a.pss_every)
    sampler.start()
    imap = ImapClient(a.host, a.port)
    imap.login(a.user, a.password)
    messages = imap.select(a.mailbox)
    if not messages:
        sampler.finish()
        raise SystemExit(f"{a.mailbox} is empty: deliver the benchmark mailbox first")
    # Snapshots with PSS in the main thread too: after SELECT and after each FETCH (a short
    # session could otherwise fall between two samples).
    selected = measure(root)
    snaps = [(time.perf_counter(), selected)]
    runs = []
    fetch_t0 = None
    for run in range(1, a.repeat + 1):
        responses = [0]

        def seen(line, _lit):
            if b" FETCH " in line[:32].upper():
                responses[0] += 1
        before = imap.wire.received
        t0 = time.perf_counter()
        fetch_t0 = fetch_t0 or t0
        status, tagged, _ = imap.command("FETCH 1:* BODY.PEEK[]", seen)
        dt = time.perf_counter() - t0
        if status != "OK":
            sampler.finish()
            raise ProtocolError(f"FETCH: {tagged!r}")
        got = imap.wire.received - before
        snaps.append((time.perf_counter(), measure(root)))
        runs.append({"run": run, "fetch_s": round(dt, 3), "fetch_mb": round(got / 1e6, 1),
                     "mb_per_s": round(got / 1e6 / dt, 1) if dt else 0,
                     "responses": responses[0]})
        print(f"  FETCH 1:* BODY.PEEK[] run {run} ({'cold' if run == 1 else 'warm'}): "
              f"{dt:.3f}s {got / 1e6:.1f} MB {runs[-1]['mb_per_s']} MB/s, "
              f"{responses[0]} responses", flush=True)
    imap.logout()
    # The peak of the whole session; the sampler goes on until the session's process (Dovecot)
    # or its buffers (Mailroom) had the chance to go away.
    time.sleep(0.2)
    sampler.finish()
    time.sleep(max(0.0, a.after - 0.2))
    after = measure(root)

    peak_rss, peak_t = sampler.peak_rss, sampler.peak_t
    for t, x in snaps:
        if x["rss"] > peak_rss:
            peak_rss, peak_t = x["rss"], t
    peak_rss = max(peak_rss, idle["rss"])
    peak_pss = max([sampler.peak_pss, idle["pss"]] + [x["pss"] for _, x in snaps])
    growth = peak_rss - idle["rss"]
    first = runs[0]
    # RSS over the session: times relative to the first FETCH, about a dozen points.
    series = [(round(t - fetch_t0, 2), mib(r)) for t, r in sampler.series]
    step = max(1, len(series) // 12)
    curve = series[::step] + ([series[-1]] if series and (len(series) - 1) % step else [])
    res = {"server": a.server or f"{a.host}:{a.port}", "user": a.user, "messages": messages,
           "quiet_after_s": quiet,
           "idle_rss_mib": mib(idle["rss"]), "idle_pss_mib": mib(idle["pss"]),
           "idle_procs": idle["procs"], "selected_rss_mib": mib(selected["rss"]),
           "selected_procs": selected["procs"],
           "peak_rss_mib": mib(peak_rss), "peak_pss_mib": mib(peak_pss),
           "growth_rss_mib": mib(growth), "growth_pss_mib": mib(peak_pss - idle["pss"]),
           # Seconds after the (first) FETCH was sent; negative: before it (LOGIN, SELECT).
           "peak_at_s": round(peak_t - fetch_t0, 2) if peak_t else None,
           "after_rss_mib": mib(after["rss"]), "after_pss_mib": mib(after["pss"]),
           "fetch_s": first["fetch_s"], "fetch_mb": first["fetch_mb"],
           "mb_per_s": first["mb_per_s"], "responses": first["responses"], "runs": runs,
           "samples": sampler.samples, "every_s": a.every, "rss_series_mib": series,
           "target_mib": a.target_mib, "within_target": growth <= a.target_mib * MIB}
    print(f"{res['server']}: {messages} messages; idle RSS {res['idle_rss_mib']} MiB "
          f"(PSS {res['idle_pss_mib']}, {idle['procs']} procs), peak RSS "
          f"{res['peak_rss_mib']} MiB (PSS {res['peak_pss_mib']}) {res['peak_at_s']}s after "
          f"the FETCH began; "
          f"growth {res['growth_rss_mib']} MiB (PSS {res['growth_pss_mib']}), target <= "
          f"{a.target_mib:g} MiB: {'met' if res['within_target'] else 'MISSED'}")
    print(f"  FETCH {res['fetch_s']}s, {res['fetch_mb']} MB, {res['mb_per_s']} MB/s; "
          f"{sampler.samples} samples every {a.every * 1000:g} ms; RSS after SELECT "
          f"{res['selected_rss_mib']} MiB ({selected['procs']} procs), {a.after:g}s after "
          f"LOGOUT {res['after_rss_mib']} MiB; the server was quiet after {quiet}s")
    print("  RSS (s after the FETCH began: MiB): "
          + ", ".join(f"{t:g}: {r}" for t, r in curve))
    emit_json(res)
    if a.save:
        with open(a.save, "a") as f:
            f.write(json.dumps(res, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
