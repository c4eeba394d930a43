#!/usr/bin/env python3
"""Clients that ask for a whole mailbox and then stop reading (issue 11, "bounded output and
write deadlines"): how much memory the server holds for them, and whether its write deadline
closes them.

usage: stalled_readers.py --port P (--pid PID | --pidfile FILE) [--sessions 1000]
                          [--users 1-1] [--user-template user%d] [--pass pass]
                          [--host 127.0.0.1] [--mailbox INBOX] [--rcvbuf 4096]
                          [--openers 16] [--write-timeout 10] [--slack 10] [--max-wait S]
                          [--after 10] [--every 0.05] [--ss-every 0.25] [--settle-max 120]
                          [--probe [--probe-user U] [--probe-command C] [--probe-pause 0.2]]

PID (or the pid in FILE) is the server's top process; RSS is summed over its tree.

1. once the server is quiet (below 5 % of a core for a second, at most --settle-max seconds:
   a fresh Mailroom first indexes the mail `mailroom deliver` stored), its RSS and PSS
   ("before");
2. open --sessions connections (--openers at a time), each with SO_RCVBUF = --rcvbuf set
   before connecting (the kernel then buffers little for the client), LOGIN as the next user
   of --users (round-robin), SELECT --mailbox;
3. send FETCH 1:* BODY.PEEK[] on every session, one after the other, and never read again;
4. every --every seconds the server's RSS, every --ss-every seconds the number of its
   established connections on --port (`ss -Htn state established '( sport = :PORT )'`, the
   server's side of each session: it leaves ESTABLISHED when the server closes it) and the
   bytes queued in those sockets (Send-Q: kernel memory, not in RSS), and how many clients
   have received anything yet (Recv-Q > 0 on their side: the session is writing), until none
   is left or --max-wait seconds (default 3 x --write-timeout + 60) have passed;
5. RSS --after seconds after the last one closed ("after"), the server's sockets on the port
   by TCP state, then the clients hang up and RSS once more ("after hang-up").
With --probe, one more session (--probe-user, normal buffers, logged in before step 1) runs
--probe-command (default FETCH 1:* (RFC822.SIZE), work Mailroom does on its CPU pool) every
--probe-pause seconds from step 3 until the stalled sessions are gone: its latency shows
whether a client that stopped reading holds up the others.
Time to close counts from the first FETCH sent; the expectation is all closed within
--write-timeout (what the server was configured with; only reported here) + --slack. A
session's deadline starts only when its writes stall, so the time until the last client got
its first bytes is reported too (a server that serves the FETCHes one after another starts
some late).

Output: a human summary and a JSON: line.
"""
import argparse
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailproto import (MIB, ImapClient, ProtocolError, emit_json, measure,  # noqa: E402
                       percentile, process_tree, rss_bytes, server_pid, wait_quiet)


def ss(args):
    """Lines of `ss -H ARGS` (no header)."""
    out = subprocess.run(["ss", "-H"] + args, capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if line.strip()]


def server_established(port):
    """(number of the server's ESTABLISHED sockets on port, bytes in their send queues)."""
    lines = ss(["-tn", "state", "established", f"( sport = :{port} )"])
    queued = 0
    for line in lines:
        cols = line.split()
        # Recv-Q Send-Q Local Peer (no State column with a state filter)
        try:
            queued += int(cols[1])
        except (IndexError, ValueError):
            pass
    return len(lines), queued


def client_queued(port, skip=""):
    """(clients that have received something, bytes waiting in their receive queues): the
    clients' side of each session; nothing is read, so whatever arrived is still there. skip:
    a client's local address (host:port) to leave out (the probe)."""
    started, total = 0, 0
    for line in ss(["-tn", "state", "established", f"( dport = :{port} )"]):
        cols = line.split()
        try:
            q = int(cols[0])
        except (IndexError, ValueError):
            continue
        if skip and cols[2:3] == [skip]:
            continue
        started += q > 0
        total += q
    return started, total


def server_states(port):
    """The server's sockets on port (listener included) by TCP state."""
    return dict(Counter(line.split()[0] for line in ss(["-tan", f"( sport = :{port} )"])))


class Probe(threading.Thread):
    """A client that reads: one session running COMMAND again and again (--probe-pause apart)
    while the stalled sessions are open; latency of each run."""

    def __init__(self, a, user):
        super().__init__(daemon=True)
        self.command = a.probe_command
        self.pause = a.probe_pause
        self.imap = ImapClient(a.host, a.port, timeout=600)
        self.imap.login(user, a.password)
        self.imap.select(a.mailbox)
        host, port = self.imap.wire.sock.getsockname()[:2]
        self.local = f"{host}:{port}"
        self.stop = threading.Event()
        self.t0 = time.perf_counter()
        self.runs = []  # (started, seconds since t0; latency; status)
        self.error = None

    def once(self):
        t = time.perf_counter()
        status, _, _ = self.imap.command(self.command)
        return t - self.t0, time.perf_counter() - t, status

    def run(self):
        try:
            while not self.stop.is_set():
                self.runs.append(self.once())
                self.stop.wait(self.pause)
        except (OSError, ProtocolError) as e:
            self.error = f"{type(e).__name__}: {e}"

    def summary(self, baseline):
        lat = sorted(r[1] for r in self.runs)
        worst = max(self.runs, key=lambda r: r[1]) if self.runs else None
        return {"command": self.command, "baseline_ms": round(baseline * 1000, 1),
                "runs": len(lat), "p50_ms": round(percentile(lat, 50) * 1000, 1),
                "max_ms": round(lat[-1] * 1000, 1) if lat else None,
                "worst_started_s": round(worst[0], 2) if worst else None,
                "not_ok": sum(1 for r in self.runs if r[2] != "OK"), "error": self.error,
                "slow_runs": [(round(r[0], 2), round(r[1], 2)) for r in self.runs
                              if r[1] > 1.0][:20]}


def tree_rss(root):
    return sum(rss_bytes(p) for p in process_tree(root))


def mib(n):
    return round(n / MIB, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--pidfile")
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--users", default="1-1", help="range of user numbers, e.g. 1-10")
    ap.add_argument("--user-template", default="user%d")
    ap.add_argument("--pass", dest="password", default="pass")
    ap.add_argument("--mailbox", default="INBOX")
    ap.add_argument("--rcvbuf", type=int, default=4096)
    ap.add_argument("--openers", type=int, default=16, help="sessions opened in parallel")
    ap.add_argument("--write-timeout", type=float, default=10.0,
                    help="the server's write deadline (for the report)")
    ap.add_argument("--slack", type=float, default=10.0)
    ap.add_argument("--max-wait", type=float)
    ap.add_argument("--after", type=float, default=10.0)
    ap.add_argument("--every", type=float, default=0.05)
    ap.add_argument("--ss-every", type=float, default=0.25)
    ap.add_argument("--settle-max", type=float, default=120.0)
    ap.add_argument("--probe", action="store_true",
                    help="also time a reading client's --probe-command meanwhile")
    ap.add_argument("--probe-user", help="default: the first user of --users")
    ap.add_argument("--probe-command", default="FETCH 1:* (RFC822.SIZE)")
    ap.add_argument("--probe-pause", type=float, default=0.2)
    a = ap.parse_args()
    root = server_pid(a.pid, a.pidfile)
    max_wait = a.max_wait if a.max_wait is not None else 3 * a.write_timeout + 60
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.sessions + 64
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
        except (ValueError, OSError):
            pass
    first, _, last = a.users.partition("-")
    numbers = list(range(int(first), int(last or first) + 1))
    users = [a.user_template % numbers[k % len(numbers)] for k in range(a.sessions)]

    quiet = wait_quiet(root, timeout=a.settle_max)
    if quiet is None:
        print(f"  note: the server still used CPU after {a.settle_max:g}s; measuring anyway")
    probe, probe_base = None, None
    if a.probe:
        probe = Probe(a, a.probe_user or a.user_template % numbers[0])
        probe.once()  # the first run fills the server's caches
        probe_base = min(probe.once()[1] for _ in range(3))
    time.sleep(1.0)
    before = measure(root)
    # Sockets already there (the probe's) are not stalled sessions.
    established_before, _ = server_established(a.port)

    opened, failures, lock = [], [], threading.Lock()
    todo = iter(range(a.sessions))

    def opener():
        while True:
            with lock:
                k = next(todo, None)
            if k is None:
                return
            try:
                imap = ImapClient(a.host, a.port, timeout=120, rcvbuf=a.rcvbuf)
            except OSError as e:
                with lock:
                    failures.append(f"connect: {type(e).__name__}: {e}")
                continue
            try:
                imap.login(users[k], a.password)
                imap.select(a.mailbox)
            except (OSError, ProtocolError) as e:
                imap.wire.close()
                with lock:
                    failures.append(f"{type(e).__name__}: {e}")
                continue
            with lock:
                opened.append(imap)

    t_open = time.perf_counter()
    threads = [threading.Thread(target=opener) for _ in range(max(1, a.openers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    open_s = time.perf_counter() - t_open
    n = len(opened)
    # Linux doubles what was asked for (bookkeeping overhead) and has a floor.
    rcvbuf_actual = (opened[0].wire.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
                     if n else None)
    logged_in = measure(root)
    print(f"{n}/{a.sessions} sessions logged in and selected {a.mailbox} on {a.host}:{a.port} "
          f"in {open_s:.1f}s; failures {len(failures)}"
          + (f" (first: {failures[0]})" if failures else "")
          + f"; client SO_RCVBUF {a.rcvbuf} (kernel: {rcvbuf_actual})", flush=True)
    print(f"  RSS before {mib(before['rss'])} MiB (server quiet after {quiet}s), with the "
          f"sessions logged in {mib(logged_in['rss'])} MiB", flush=True)
    if not n:
        emit_json({"server": f"{a.host}:{a.port}", "sessions": a.sessions, "opened": 0,
                   "failed": len(failures), "failures": failures[:5]})
        sys.exit(1)

    # The FETCH on every session; from here on nothing is read.
    t0 = time.perf_counter()
    send_errors = 0
    for imap in opened:
        try:
            imap.wire.send(b"s1 FETCH 1:* BODY.PEEK[]\r\n")
        except OSError:
            send_errors += 1
    sent_s = time.perf_counter() - t0
    if probe is not None:
        probe.t0 = t0
        probe.start()

    peak_rss, peak_at = logged_in["rss"], 0.0
    peak_sendq, peak_clientq = 0, 0
    # (seconds, sessions still open, sessions that got data, rss MiB) at every ss sample
    timeline = []
    first_closed = half_closed = all_closed = all_started = None
    started = 0
    next_ss = 0.0
    remaining = n
    while True:
        now = time.perf_counter() - t0
        rss = tree_rss(root)
        if rss > peak_rss:
            peak_rss, peak_at = rss, now
        if now >= next_ss:
            established, sendq = server_established(a.port)
            remaining = max(0, established - established_before)
            if all_started is None:
                started, clientq = client_queued(a.port, probe.local if probe else "")
                peak_clientq = max(peak_clientq, clientq)
                if started >= n:
                    all_started = now
            peak_sendq = max(peak_sendq, sendq)
            timeline.append((round(now, 2), remaining, started, mib(rss)))
            if first_closed is None and remaining < n:
                first_closed = now
            if half_closed is None and remaining <= n // 2:
                half_closed = now
            if remaining == 0:
                all_closed = now
                break
            next_ss = now + a.ss_every
        if now > max_wait:
            break
        time.sleep(max(0.0, a.every - (time.perf_counter() - t0 - now)))

    probed = None
    if probe is not None:
        probe.stop.set()
        probe.join()
        probed = probe.summary(probe_base)
        probe.imap.logout()
    # Memory once they are gone (or at the give-up point).
    end_wait = time.perf_counter() + a.after
    while time.perf_counter() < end_wait:
        rss = tree_rss(root)
        if rss > peak_rss:
            peak_rss, peak_at = rss, time.perf_counter() - t0
        time.sleep(a.every)
    after = measure(root)
    states = server_states(a.port)
    for imap in opened:
        imap.wire.close()
    time.sleep(2.0)
    hung_up = measure(root)
    states_hung_up = server_states(a.port)

    closed = n - remaining
    deadline = a.write_timeout + a.slack
    within = all_closed is not None and all_closed <= deadline
    res = {"server": f"{a.host}:{a.port}", "quiet_after_s": quiet,
           "sessions": a.sessions, "opened": n,
           "failed": len(failures), "failures": failures[:5], "open_s": round(open_s, 1),
           "rcvbuf": a.rcvbuf, "rcvbuf_kernel": rcvbuf_actual,
           "fetch_sent_s": round(sent_s, 3), "send_errors": send_errors,
           "write_timeout_s": a.write_timeout, "slack_s": a.slack,
           "closed": closed, "not_closed": remaining,
           "first_closed_s": round(first_closed, 2) if first_closed is not None else None,
           "half_closed_s": round(half_closed, 2) if half_closed is not None else None,
           "all_closed_s": round(all_closed, 2) if all_closed is not None else None,
           # When the last client had received its first bytes (its session was writing);
           # None: some never got any before they were closed.
           "all_started_s": round(all_started, 2) if all_started is not None else None,
           "close_after_all_started_s": (round(all_closed - all_started, 2)
                                         if all_closed is not None and all_started is not None
                                         else None),
           "within_deadline_plus_slack": within,
           "rss_before_mib": mib(before["rss"]), "rss_logged_in_mib": mib(logged_in["rss"]),
           "rss_peak_mib": mib(peak_rss), "rss_peak_at_s": round(peak_at, 2),
           "rss_growth_mib": mib(peak_rss - before["rss"]),
           "rss_peak_per_session_kib": round((peak_rss - before["rss"]) / 1024 / n, 1),
           "rss_after_mib": mib(after["rss"]), "after_s": a.after,
           "rss_after_hangup_mib": mib(hung_up["rss"]),
           "pss_before_mib": mib(before["pss"]), "pss_after_mib": mib(after["pss"]),
           "server_cpu_s": round(after["cpu_s"] - before["cpu_s"], 2),
           "server_sendq_peak_mib": mib(peak_sendq), "client_recvq_peak_mib": mib(peak_clientq),
           "server_socket_states_after": states, "server_socket_states_after_hangup":
           states_hung_up, "probe": probed, "timeline": timeline}
    print(f"  FETCH sent on {n} sessions in {sent_s * 1000:.0f} ms (send errors {send_errors}); "
          f"server write deadline {a.write_timeout:g}s")
    marks = sorted({0.5, 1, 2, 5, 8, 12} | set(range(5, int(max_wait) + 5, 5))
                   | {a.write_timeout})
    shown = []
    for m in marks:
        pts = [p for p in timeline if p[0] <= m]
        if pts and (not shown or pts[-1] != shown[-1]):
            shown.append(pts[-1])
    if timeline and timeline[-1] not in shown:
        shown.append(timeline[-1])
    print("  sessions open (server side ESTABLISHED) / having received data, and server RSS, "
          "over time:\n    "
          + ", ".join(f"{t}s {left}/{got} {r} MiB" for t, left, got, r in shown))
    print(f"  closed {closed}/{n}: first after {res['first_closed_s']}s, half after "
          f"{res['half_closed_s']}s, all after {res['all_closed_s']}s "
          f"(expected within {a.write_timeout:g}+{a.slack:g}s: "
          f"{'yes' if within else 'NO'}); every client had received data after "
          f"{res['all_started_s']}s, so the last close came "
          f"{res['close_after_all_started_s']}s after the last session started writing")
    print(f"  server RSS before {res['rss_before_mib']} MiB, logged in "
          f"{res['rss_logged_in_mib']} MiB, peak {res['rss_peak_mib']} MiB at "
          f"{res['rss_peak_at_s']}s (+{res['rss_growth_mib']} MiB, "
          f"{res['rss_peak_per_session_kib']} KiB per session), {a.after:g}s after the last "
          f"close {res['rss_after_mib']} MiB, after the clients hung up "
          f"{res['rss_after_hangup_mib']} MiB; server CPU {res['server_cpu_s']}s")
    print(f"  kernel buffers: server Send-Q peak {res['server_sendq_peak_mib']} MiB, client "
          f"Recv-Q peak {res['client_recvq_peak_mib']} MiB; server sockets on the port after: "
          f"{states}, after the clients hung up: {states_hung_up}")
    if probed:
        print(f"  probe ({probed['command']}, a session that reads): alone "
              f"{probed['baseline_ms']} ms; with the stalled sessions {probed['runs']} runs, "
              f"p50 {probed['p50_ms']} ms, max {probed['max_ms']} ms (started at "
              f"{probed['worst_started_s']}s); not OK {probed['not_ok']}"
              + (f"; error {probed['error']}" if probed["error"] else "")
              + (f"; runs over 1 s (start, seconds): {probed['slow_runs']}"
                 if probed["slow_runs"] else ""))
    emit_json(res)
    sys.exit(0 if remaining == 0 else 1)


if __name__ == "__main__":
    main()
