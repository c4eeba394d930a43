#!/usr/bin/env python3
"""Fairness under heavy IMAP commands (issue 17, "one client's command stalls everyone"): how
a light client and mail delivery fare while other sessions run the most expensive commands
the server accepts.

usage: heavy_load.py --imap-port P --lmtp-port L [--smtp-port S] --heavy-user U
                     --probe-user U3 --rcpt U2 [--pass pass] [--host 127.0.0.1]
                     [--server NAME] [--sessions 2*nproc] [--seconds 15] [--warmup 3]
                     [--probe-msgs 10] [--probe-pause 0.02] [--pid N | --pidfile F]
                     [--search-groups 46] [--search-per-group 20] [--body-words 60]
                     [--save FILE]
       heavy_load.py --report FILE           (side-by-side table of the runs saved in FILE)

Steps, on one server:
  set-up   --probe-msgs small messages to the probe user over LMTP (its FETCH 1 needs one),
           then every heavy command once on the probe user's small INBOX: each must answer OK.
           A SEARCH answered NO [LIMIT] (or BAD) is made smaller (4 groups and 4 BODY words
           less a time) until it is accepted; the program used is in the JSON.
  idle     the probe for --seconds: a new connection, LOGIN probe-user, SELECT INBOX,
           FETCH 1 (FLAGS), LOGOUT, again after --probe-pause; latency of LOGIN..FETCH
           (connect+greeting reported apart). Then deliveries of small (~1 KB) messages to
           --rcpt over one LMTP connection for --seconds (and over SMTP with --smtp-port).
  load     --sessions "heavy" sessions (processes of their own, so the probe's clock does
           not wait for their parsing) log in as --heavy-user, SELECT INBOX and loop over
             SEARCH <program>    ~1,900 keys: groups of NOT (OR k1 OR k2 ... kN), leaves
                                 FROM/TO/CC/SUBJECT/HEADER strings that match nothing and
                                 --body-words distinct BODY words (none matches either, so
                                 every key is evaluated on every message), one line
             SORT (SUBJECT) UTF-8 ALL
             THREAD REFERENCES UTF-8 ALL
             FETCH 1:* BODYSTRUCTURE
           session i starting at command i mod 4 (--commands SEARCH,SORT,... loops over a
           subset instead, to see which command does the harm). After all are in and --warmup seconds, the
           probe and the deliveries of "idle" run again. Heavy commands completed per second
           count the completions inside that window.

Output: a human summary and one JSON: line per measurement ("phase" idle/load/setup,
"measure" probe/delivery/heavy/search_program/summary); --save FILE also appends those
objects to FILE (one per line) for --report.
"""
import argparse
import json
import multiprocessing
import os
import socket
import sys
import time
from collections import Counter

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailproto import (ImapClient, MailTransfer, ProtocolError, Wire, emit_json,  # noqa: E402
                       machine_busy_seconds, measure, percentile)

# --- the heavy commands ----------------------------------------------------------------------


def search_program(groups, per_group, body_words):
    """(program text, Mailroom-style key count, distinct BODY words). Every node counts as a
    key the way Mailroom counts them (leaves, OR, NOT, parenthesised lists)."""
    leaves_total = groups * per_group
    body_words = min(body_words, leaves_total)
    # Spread the BODY leaves evenly over the program.
    body_at = set()
    if body_words:
        step = leaves_total / body_words
        body_at = {int(i * step) for i in range(body_words)}
    kinds = ["FROM", "TO", "SUBJECT", "CC", "HEADER"]
    leaves, nbody, other = [], 0, 0
    for j in range(leaves_total):
        if j in body_at:
            leaves.append(f"BODY qzw{nbody}vbj")
            nbody += 1
            continue
        kind = kinds[other % len(kinds)]
        other += 1
        if kind == "HEADER":
            leaves.append(f"HEADER X-Bench-Fair zq{j}xh")
        else:
            leaves.append(f"{kind} zq{j}x{kind[0].lower()}")
    parts = []
    for g in range(groups):
        mine = leaves[g * per_group:(g + 1) * per_group]
        chain = mine[-1]
        for leaf in reversed(mine[:-1]):
            chain = f"OR {leaf} {chain}"
        parts.append(f"NOT ({chain})")
    keys = groups * (2 * per_group + 1)
    return " ".join(parts), keys, nbody


HEAVY = ("SEARCH", "SORT", "THREAD", "BODYSTRUCTURE")


def heavy_commands(program, only=HEAVY):
    every = [("SEARCH", "SEARCH " + program),
             ("SORT", "SORT (SUBJECT) UTF-8 ALL"),
             ("THREAD", "THREAD REFERENCES UTF-8 ALL"),
             ("BODYSTRUCTURE", "FETCH 1:* BODYSTRUCTURE")]
    return [c for c in every if c[0] in only]


class Stopped(Exception):
    pass


class StoppableWire(Wire):
    """A Wire whose reads give up (Stopped) soon after stop is set, even mid-response."""

    def __init__(self, host, port, stop, timeout=600.0):
        super().__init__(host, port, timeout)
        self.stop = stop
        self.sock.settimeout(0.5)

    def _more(self):
        while True:
            try:
                return super()._more()
            except socket.timeout:
                if self.stop.is_set():
                    raise Stopped() from None

    def send(self, data):
        self.sock.settimeout(60.0)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.settimeout(0.5)


class StoppableImap(ImapClient):
    def __init__(self, host, port, stop):  # noqa: super().__init__ would make a plain Wire
        self.wire = StoppableWire(host, port, stop)
        self.seq = 0
        self.greeting = self.wire.line()
        if not self.greeting.startswith(b"* OK"):
            raise ProtocolError(f"IMAP greeting: {self.greeting!r}")


def heavy_worker(i, a, program, stop, ready, results):
    """One heavy session: records every command as (name, start, end, status, bytes, note)
    with time.monotonic() times (the same clock in every process)."""
    commands = heavy_commands(program, a.commands)
    done, errors, in_flight = [], [], None
    k = i % len(commands)
    client = None
    announced = False
    try:
        while not stop.is_set():
            try:
                if client is None:
                    client = StoppableImap(a.host, a.imap_port, stop)
                    client.login(a.heavy_user, a.password)
                    client.select("INBOX")
                    if not announced:
                        ready.put(i)
                        announced = True
                name, text = commands[k]
                k = (k + 1) % len(commands)
                before = client.wire.received
                t0 = time.monotonic()
                in_flight = (name, t0)
                status, line, _ = client.command(text)
                t1 = time.monotonic()
                in_flight = None
                note = "" if status == "OK" else line.decode("utf-8", "replace").strip()[:200]
                done.append((name, t0, t1, status, client.wire.received - before, note))
            except Stopped:
                break
            except (OSError, ProtocolError) as e:
                if stop.is_set():
                    break
                errors.append((time.monotonic(), f"{type(e).__name__}: {e}"[:200]))
                in_flight = None
                if client is not None:
                    client.wire.close()
                client = None
                time.sleep(0.5)
    finally:
        if not announced:
            ready.put(i)
        now = time.monotonic()
        t = os.times()
        results.put({"session": i, "done": done, "errors": errors, "cpu_s": t.user + t.system,
                     "in_flight": None if in_flight is None else
                     (in_flight[0], in_flight[1], now)})
        if client is not None:
            client.wire.close()


# --- probe and delivery ----------------------------------------------------------------------


def ms(x):
    return round(x * 1000, 1)


def lat_stats(values, prefix=""):
    v = sorted(values)
    return {f"{prefix}p50_ms": ms(percentile(v, 50)), f"{prefix}p95_ms": ms(percentile(v, 95)),
            f"{prefix}p99_ms": ms(percentile(v, 99)), f"{prefix}max_ms": ms(v[-1] if v else 0)}


def probe(a, seconds):
    """LOGIN + SELECT + FETCH 1 (FLAGS) + LOGOUT on a new connection each time."""
    total, greet, login, select, fetch = [], [], [], [], []
    errors = Counter()
    examples = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        c = None
        try:
            t0 = time.perf_counter()
            c = ImapClient(a.host, a.imap_port, timeout=120.0)
            t1 = time.perf_counter()
            c.login(a.probe_user, a.password)
            t2 = time.perf_counter()
            if c.select("INBOX") < 1:
                raise ProtocolError("probe INBOX is empty")
            t3 = time.perf_counter()
            if c.must("FETCH 1 (FLAGS)") < 1:
                raise ProtocolError("FETCH 1 (FLAGS) returned no FETCH response")
            t4 = time.perf_counter()
            c.logout()
            c = None
            greet.append(t1 - t0)
            login.append(t2 - t1)
            select.append(t3 - t2)
            fetch.append(t4 - t3)
            total.append(t4 - t1)
        except (OSError, ProtocolError) as e:
            kind = type(e).__name__
            errors[kind] += 1
            examples.setdefault(kind, str(e)[:200])
            if c is not None:
                c.wire.close()
            time.sleep(0.2)
        time.sleep(a.probe_pause)
    res = {"measure": "probe", "samples": len(total), "errors": sum(errors.values())}
    res.update(lat_stats(total))
    res.update(lat_stats(greet, "greeting_"))
    res.update({"login_p99_ms": ms(percentile(sorted(login), 99)),
                "select_p99_ms": ms(percentile(sorted(select), 99)),
                "fetch_p99_ms": ms(percentile(sorted(fetch), 99))})
    if errors:
        res["error_kinds"] = dict(errors)
        res["error_examples"] = examples
    return res


def small_message(n, rcpt):
    body = ("This is fairness benchmark message %d. It is short, plain text and has nothing "
            "in it that a filter would look at twice.\r\n" % n) * 6
    return ("Return-Path: <bench@example.org>\r\n"
            "From: Bench Sender <bench@example.org>\r\n"
            f"To: <{rcpt}>\r\n"
            f"Subject: fairness delivery {n}\r\n"
            f"Message-ID: <heavy.{os.getpid()}.{n}.{time.time_ns()}@bench.example.org>\r\n"
            f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "\r\n" + body).encode()


_counter = [0]


def deliver(a, port, smtp, rcpt, seconds=None, count=None):
    """Small messages to rcpt over one connection, for seconds (or count messages)."""
    lat, errors, examples = [], Counter(), {}
    session = None
    start = time.perf_counter()
    deadline = start + (seconds if seconds is not None else 1e9)
    sent = 0
    while time.perf_counter() < deadline and (count is None or sent < count):
        _counter[0] += 1
        msg = small_message(_counter[0], rcpt)
        try:
            if session is None:
                session = MailTransfer(a.host, port, lmtp=not smtp)
            t = time.perf_counter()
            refused = session.send_message("bench@example.org", [rcpt], msg)
            dt = time.perf_counter() - t
            if refused:
                errors["refused"] += 1
                examples.setdefault("refused", str(refused[0])[:200])
            else:
                lat.append(dt)
        except (OSError, ProtocolError) as e:
            kind = type(e).__name__
            errors[kind] += 1
            examples.setdefault(kind, str(e)[:200])
            if session is not None:
                session.wire.close()
            session = None
            time.sleep(0.2)
        sent += 1
    wall = time.perf_counter() - start
    if session is not None:
        session.quit()
    res = {"measure": "delivery", "protocol": "SMTP" if smtp else "LMTP", "port": port,
           "rcpt": rcpt, "delivered": len(lat), "errors": sum(errors.values()),
           "secs": round(wall, 2), "msg_per_s": round(len(lat) / wall, 1) if wall else 0}
    lat.sort()
    res.update({"p50_ms": ms(percentile(lat, 50)), "p99_ms": ms(percentile(lat, 99)),
                "max_ms": ms(lat[-1] if lat else 0)})
    if errors:
        res["error_kinds"] = dict(errors)
        res["error_examples"] = examples
    return res


# --- set-up checks ---------------------------------------------------------------------------


def check_commands(a, program_args):
    """Runs each heavy command once on the probe user's small INBOX. Returns (program,
    description, {command: answer}); shrinks the SEARCH while it is refused."""
    groups, per_group, body = program_args
    answers = {}
    c = ImapClient(a.host, a.imap_port, timeout=120.0)
    c.login(a.probe_user, a.password)
    c.select("INBOX")
    shrunk = 0
    while True:
        program, keys, nbody = search_program(groups, per_group, body)
        status, line, _ = c.command("SEARCH " + program)
        answer = line.decode("utf-8", "replace").strip()
        if status == "OK":
            break
        print(f"  SEARCH of {keys} keys, {nbody} BODY words, {len(program) + 9} bytes: {answer[:160]}")
        if shrunk >= 15 or groups <= 4:
            raise SystemExit("the server refuses every SEARCH program tried")
        groups -= 4
        body = max(4, body - 4)
        shrunk += 1
    answers["SEARCH"] = answer.split(" ", 1)[1][:120]
    for name, text in heavy_commands(program)[1:]:
        status, line, _ = c.command(text)
        answers[name] = line.decode("utf-8", "replace").strip().split(" ", 1)[1][:120]
        if status != "OK":
            print(f"  {name}: {answers[name]}")
    c.logout()
    desc = {"measure": "search_program", "phase": "setup", "keys": keys, "body_words": nbody,
            "groups": groups, "per_group": per_group, "bytes": len("SEARCH " + program) + 2,
            "shrunk": shrunk, "answers": answers}
    return program, desc


# --- the run ---------------------------------------------------------------------------------


def own_cpu():
    t = os.times()
    return t.user + t.system


def cpu_now(root):
    return measure(root, with_pss=False)["cpu_s"] if root else None


def settle(root, quiet=0.05, limit=120.0):
    """Waits (at most limit seconds) until the server's process tree uses less than quiet
    cores over a second: background work after loading (indexing) must not count as idle."""
    t0 = time.monotonic()
    while True:
        c0 = cpu_now(root)
        time.sleep(1.0)
        cores = round(cpu_now(root) - c0, 2)
        if cores < quiet or time.monotonic() - t0 > limit:
            return time.monotonic() - t0, cores


def phase_cpu(res, root, start):
    """Adds the cores the server used (with a pid), the whole machine used, and the rest:
    the machine minus the server and this process (the heavy sessions' own CPU, reported
    with them, is small), which is load from something else when it is large."""
    t0, cpu0, busy0, own0 = start
    wall = time.monotonic() - t0
    machine = (machine_busy_seconds() - busy0) / wall
    res["machine_cores"] = round(machine, 2)
    other = machine - (own_cpu() - own0) / wall
    if root:
        res["server_cores"] = round((cpu_now(root) - cpu0) / wall, 2)
        other -= res["server_cores"]
    res["other_cores"] = round(max(0.0, other), 2)
    return res


def phase_start(root):
    return time.monotonic(), cpu_now(root), machine_busy_seconds(), own_cpu()


def run_phase(a, label, root, out):
    """The probe, then each delivery target, each for --seconds."""
    start = phase_start(root)
    res = phase_cpu(probe(a, a.seconds), root, start)
    res["phase"] = label
    out.append(res)
    say_probe(res)
    for port, smtp in a.targets:
        start = phase_start(root)
        res = phase_cpu(deliver(a, port, smtp, a.rcpt, seconds=a.seconds), root, start)
        res["phase"] = label
        out.append(res)
        say_delivery(res)


def cores_text(r):
    server = f"server {r['server_cores']}, " if "server_cores" in r else ""
    return f"; cores: {server}machine {r['machine_cores']}, other {r['other_cores']}"


def say_probe(r):
    extra = f", errors {r['errors']} {r.get('error_kinds', '')}" if r["errors"] else ""
    cores = cores_text(r)
    print(f"  [{r['phase']}] probe: {r['samples']} LOGIN..FETCH, p50 {r['p50_ms']} p95 {r['p95_ms']} "
          f"p99 {r['p99_ms']} max {r['max_ms']} ms (greeting p99 {r['greeting_p99_ms']} max "
          f"{r['greeting_max_ms']}; LOGIN p99 {r['login_p99_ms']}, SELECT {r['select_p99_ms']}, "
          f"FETCH {r['fetch_p99_ms']}){extra}{cores}", flush=True)
    for k, v in r.get("error_examples", {}).items():
        print(f"      {k}: {v}")


def say_delivery(r):
    pct = f" ({r['pct_of_idle']}% of idle)" if "pct_of_idle" in r else ""
    extra = f", errors {r['errors']} {r.get('error_kinds', '')}" if r["errors"] else ""
    cores = cores_text(r)
    print(f"  [{r['phase']}] {r['protocol']} :{r['port']}: {r['delivered']} msgs in {r['secs']}s = "
          f"{r['msg_per_s']} msg/s{pct}, p50 {r['p50_ms']} p99 {r['p99_ms']} max {r['max_ms']} ms"
          f"{extra}{cores}", flush=True)
    for k, v in r.get("error_examples", {}).items():
        print(f"      {k}: {v}")


def heavy_summary(reports, window, sessions):
    w0, w1 = window
    per = {}
    errors = []
    in_flight = []
    for rep in reports:
        errors.extend(e for _, e in rep["errors"])
        for name, t0, t1, status, nbytes, note in rep["done"]:
            d = per.setdefault(name, {"completed": 0, "in_window": 0, "statuses": Counter(),
                                      "lat": [], "bytes": 0, "notes": []})
            d["completed"] += 1
            d["statuses"][status] += 1
            d["lat"].append(t1 - t0)
            d["bytes"] += nbytes
            if w0 <= t1 <= w1:
                d["in_window"] += 1
            if note and len(d["notes"]) < 3:
                d["notes"].append(note)
        if rep["in_flight"]:
            name, t0, now = rep["in_flight"]
            in_flight.append({"session": rep["session"], "command": name,
                              "running_s": round(now - t0, 1)})
    commands = {}
    for name, d in per.items():
        lat = sorted(d["lat"])
        commands[name] = {"completed": d["completed"], "in_window": d["in_window"],
                          "statuses": dict(d["statuses"]),
                          "p50_s": round(percentile(lat, 50), 3),
                          "max_s": round(lat[-1], 3) if lat else 0,
                          "mean_s": round(sum(lat) / len(lat), 3) if lat else 0,
                          "mb_per_answer": round(d["bytes"] / len(lat) / 1e6, 2) if lat else 0}
        if d["notes"]:
            commands[name]["not_ok"] = d["notes"]
    for f in in_flight:
        commands.setdefault(f["command"], {"completed": 0, "in_window": 0, "statuses": {}})
    in_window = sum(c["in_window"] for c in commands.values())
    secs = w1 - w0
    return {"measure": "heavy", "phase": "load", "sessions": sessions,
            "window_s": round(secs, 1), "completed_in_window": in_window,
            "per_s": round(in_window / secs, 3) if secs else 0,
            "commands": commands, "in_flight_at_end": in_flight,
            "errors": len(errors), "error_examples": errors[:5]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--imap-port", type=int)
    ap.add_argument("--lmtp-port", type=int)
    ap.add_argument("--smtp-port", type=int)
    ap.add_argument("--heavy-user")
    ap.add_argument("--probe-user")
    ap.add_argument("--rcpt")
    ap.add_argument("--pass", dest="password", default="pass")
    ap.add_argument("--server", default="", help="name in the output (dovecot, mailroom)")
    ap.add_argument("--sessions", type=int, default=2 * (os.cpu_count() or 1))
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--probe-msgs", type=int, default=10)
    ap.add_argument("--probe-pause", type=float, default=0.02)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--pidfile")
    ap.add_argument("--search-groups", type=int, default=46)
    ap.add_argument("--search-per-group", type=int, default=20)
    ap.add_argument("--body-words", type=int, default=60)
    ap.add_argument("--commands", default=",".join(HEAVY),
                    help="the heavy commands to loop over (a subset isolates one)")
    ap.add_argument("--save")
    ap.add_argument("--report", metavar="FILE")
    a = ap.parse_args()
    if a.report:
        report(a.report)
        return
    for need in ("imap_port", "lmtp_port", "heavy_user", "probe_user", "rcpt"):
        if getattr(a, need) is None:
            ap.error(f"--{need.replace('_', '-')} is required")
    a.commands = [c.strip().upper() for c in a.commands.split(",") if c.strip()]
    if not a.commands or set(a.commands) - set(HEAVY):
        ap.error(f"--commands: a subset of {','.join(HEAVY)}")
    root = None
    if a.pid or a.pidfile:
        root = a.pid or int(open(a.pidfile).read().split()[0])
    a.targets = [(a.lmtp_port, False)] + ([(a.smtp_port, True)] if a.smtp_port else [])
    out = []

    print(f"{a.server or a.host}: set-up: {a.probe_msgs} messages to {a.probe_user}; "
          "each heavy command once on its INBOX", flush=True)
    r = deliver(a, a.lmtp_port, False, a.probe_user, count=a.probe_msgs)
    if r["delivered"] < 1:
        raise SystemExit(f"could not deliver to {a.probe_user}: {r}")
    program, desc = check_commands(a, (a.search_groups, a.search_per_group, a.body_words))
    out.append(desc)
    print(f"  SEARCH program: {desc['keys']} keys, {desc['body_words']} distinct BODY words, "
          f"{desc['bytes']} bytes on one line (shrunk {desc['shrunk']} times)")
    for name, ans in desc["answers"].items():
        print(f"  {name}: {ans}")

    if root:
        waited, cores = settle(root)
        print(f"  server settled after {waited:.1f}s ({cores} cores over the last second)")
    print(f"idle ({a.seconds:g}s each)", flush=True)
    run_phase(a, "idle", root, out)

    ctx = multiprocessing.get_context("fork")
    stop, ready, results = ctx.Event(), ctx.Queue(), ctx.Queue()
    workers = [ctx.Process(target=heavy_worker, args=(i, a, program, stop, ready, results),
                           daemon=True) for i in range(a.sessions)]
    print(f"load: {a.sessions} heavy sessions as {a.heavy_user}", flush=True)
    t_start = time.monotonic()
    for w in workers:
        w.start()
    reports = []
    try:
        for _ in workers:
            ready.get(timeout=300)
        print(f"  all in after {time.monotonic() - t_start:.1f}s; warm-up {a.warmup:g}s", flush=True)
        time.sleep(a.warmup)
        w0, c0, b0, m0 = time.monotonic(), cpu_now(root), machine_busy_seconds(), own_cpu()
        run_phase(a, "load", root, out)
        w1 = time.monotonic()
        load_cores = round((cpu_now(root) - c0) / (w1 - w0), 2) if root else None
        machine = {"machine_cores_busy": round((machine_busy_seconds() - b0) / (w1 - w0), 2),
                   "probe_client_cores": round((own_cpu() - m0) / (w1 - w0), 2)}
    finally:
        t_stop = time.monotonic()
        stop.set()
        for _ in workers:
            try:
                reports.append(results.get(timeout=30))
            except Exception:  # queue.Empty: a worker that never answered
                pass
        for w in workers:
            w.join(timeout=5)
            if w.is_alive():
                w.terminate()
                w.join()
    heavy = heavy_summary(reports, (w0, w1), a.sessions)
    heavy["command_set"] = a.commands
    if load_cores is not None:
        heavy["server_cores"] = load_cores
    heavy.update(machine)
    # The heavy sessions' own CPU, over their whole life (they share the machine's cores).
    heavy["heavy_client_cores"] = round(sum(r["cpu_s"] for r in reports) / (t_stop - t_start), 2)
    heavy["other_cores"] = round(max(0.0, heavy["machine_cores_busy"] - heavy.get("server_cores", 0)
                                     - heavy["probe_client_cores"] - heavy["heavy_client_cores"]), 2)
    if len(reports) < a.sessions:
        heavy["sessions_without_report"] = a.sessions - len(reports)
    out.append(heavy)
    say_heavy(heavy)

    # Load against idle, and the project's targets.
    idle = {(r["measure"], r.get("protocol")): r for r in out if r.get("phase") == "idle"}
    summary = {"measure": "summary", "phase": "load", "sessions": a.sessions,
               "heavy_per_s": heavy["per_s"]}
    for r in out:
        if r.get("phase") != "load":
            continue
        base = idle.get((r["measure"], r.get("protocol")))
        if r["measure"] == "delivery" and base and base["msg_per_s"]:
            r["pct_of_idle"] = round(100.0 * r["msg_per_s"] / base["msg_per_s"], 1)
            summary[f"{r['protocol'].lower()}_pct_of_idle"] = r["pct_of_idle"]
            summary[f"{r['protocol'].lower()}_idle_msg_per_s"] = base["msg_per_s"]
            summary[f"{r['protocol'].lower()}_load_msg_per_s"] = r["msg_per_s"]
        if r["measure"] == "probe":
            summary["probe_idle_p99_ms"] = base["p99_ms"] if base else None
            summary["probe_load_p99_ms"] = r["p99_ms"]
            summary["probe_load_max_ms"] = r["max_ms"]
    summary["target_probe_p99_lt_200ms"] = summary.get("probe_load_p99_ms", 1e9) < 200
    pcts = [v for k, v in summary.items() if k.endswith("_pct_of_idle")]
    summary["target_delivery_ge_80pct"] = bool(pcts) and min(pcts) >= 80
    out.append(summary)
    print(f"summary: heavy {heavy['per_s']} commands/s; probe p99 idle "
          f"{summary.get('probe_idle_p99_ms')} ms, under load {summary.get('probe_load_p99_ms')} ms; "
          + ", ".join(f"{k.split('_')[0].upper()} {v}% of idle" for k, v in summary.items()
                      if k.endswith("_pct_of_idle")))
    for r in out:
        r["server"] = a.server
        emit_json(r)
    if a.save:
        with open(a.save, "a") as f:
            for r in out:
                f.write(json.dumps(r, sort_keys=True) + "\n")


def say_heavy(h):
    print(f"  [load] heavy: {h['completed_in_window']} commands completed in the {h['window_s']}s "
          f"window = {h['per_s']}/s; errors {h['errors']}; cores busy: server "
          f"{h.get('server_cores', '?')}, heavy clients {h['heavy_client_cores']}, probe/delivery "
          f"client {h['probe_client_cores']}, whole machine {h['machine_cores_busy']}, other "
          f"{h['other_cores']}", flush=True)
    for name, c in sorted(h["commands"].items()):
        if "p50_s" not in c:
            print(f"      {name:<14} none completed")
            continue
        print(f"      {name:<14} {c['completed']:>4} done ({c['in_window']} in window) "
              f"p50 {c['p50_s']}s mean {c['mean_s']}s max {c['max_s']}s, "
              f"{c['mb_per_answer']} MB/answer, {c['statuses']}")
        for note in c.get("not_ok", []):
            print(f"          not OK: {note}")
    for f in h["in_flight_at_end"]:
        print(f"      session {f['session']}: {f['command']} still running after {f['running_s']}s")
    for e in h["error_examples"]:
        print(f"      error: {e}")


# --- the side-by-side table ------------------------------------------------------------------


def report(path):
    runs = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                runs.setdefault(r["server"], []).append(r)
    names = list(runs)

    def find(server, measure, phase=None, protocol=None):
        for r in runs[server]:
            if r["measure"] == measure and (phase is None or r.get("phase") == phase) \
                    and (protocol is None or r.get("protocol") == protocol):
                return r
        return None

    rows = []

    def row(label, fn):
        cells = []
        for s in names:
            try:
                v = fn(s)
            except (KeyError, TypeError):
                v = None
            cells.append("-" if v is None else str(v))
        rows.append((label, cells))

    row("SEARCH program (keys / BODY words / bytes)",
        lambda s: "%d / %d / %d" % tuple(find(s, "search_program")[k]
                                         for k in ("keys", "body_words", "bytes")))
    row("heavy sessions", lambda s: find(s, "heavy")["sessions"])
    row("heavy commands completed per second", lambda s: find(s, "heavy")["per_s"])
    for cmd in ("SEARCH", "SORT", "THREAD", "BODYSTRUCTURE"):
        def cell(s, cmd=cmd):
            c = find(s, "heavy")["commands"].get(cmd)
            if c is None:
                return None
            if "p50_s" not in c:
                return "0 done"
            return f"{c['in_window']} in window, p50 {c['p50_s']}s max {c['max_s']}s"
        row(f"  {cmd}", cell)
    row("  still running at the end",
        lambda s: ", ".join(f"{f['command']} {f['running_s']}s"
                            for f in find(s, "heavy")["in_flight_at_end"]) or "none")
    for phase in ("idle", "load"):
        row(f"other load on the machine, {phase} (cores, worst)",
            lambda s, p=phase: max([r["other_cores"] for r in runs[s] if r.get("phase") == p
                                    and "other_cores" in r] or [None]))
    row("cores busy under load: server / heavy clients / machine",
        lambda s: "%s / %s / %s" % tuple(find(s, "heavy").get(k) for k in
                                         ("server_cores", "heavy_client_cores", "machine_cores_busy")))
    for phase in ("idle", "load"):
        row(f"probe {phase}: samples", lambda s, p=phase: find(s, "probe", p)["samples"])
        row(f"probe {phase}: p50 / p95 / p99 / max ms",
            lambda s, p=phase: " / ".join(str(find(s, "probe", p)[k])
                                          for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")))
        row(f"probe {phase}: errors", lambda s, p=phase: find(s, "probe", p)["errors"])
    for proto in ("LMTP", "SMTP"):
        row(f"{proto} idle msg/s", lambda s, p=proto: find(s, "delivery", "idle", p)["msg_per_s"])
        row(f"{proto} under load msg/s (% of idle)",
            lambda s, p=proto: "%s (%s%%)" % (find(s, "delivery", "load", p)["msg_per_s"],
                                              find(s, "delivery", "load", p)["pct_of_idle"]))
        row(f"{proto} under load p99 / max ms",
            lambda s, p=proto: "%s / %s" % (find(s, "delivery", "load", p)["p99_ms"],
                                            find(s, "delivery", "load", p)["max_ms"]))
    row("target probe p99 < 200 ms", lambda s: "met" if find(s, "summary")[
        "target_probe_p99_lt_200ms"] else "missed")
    row("target delivery >= 80% of idle", lambda s: "met" if find(s, "summary")[
        "target_delivery_ge_80pct"] else "missed")
    width = max(len(label) for label, _ in rows)
    colw = [max([len(n)] + [len(cells[i]) for _, cells in rows]) for i, n in enumerate(names)]
    print(" " * width + "  " + "  ".join(n.ljust(w) for n, w in zip(names, colw)))
    for label, cells in rows:
        print(label.ljust(width) + "  " + "  ".join(c.ljust(w) for c, w in zip(cells, colw)))
    print("(targets are the project's, for Mailroom: probe p99 under load < 200 ms, delivery "
          "under load >= 80% of idle)")


if __name__ == "__main__":
    main()
