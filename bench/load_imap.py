#!/usr/bin/env python3
"""Sustained mixed load on a running Mailroom (or any IMAP server): many concurrent IMAP
sessions doing SELECT/FETCH/SEARCH/STORE/NOOP/IDLE/APPEND, plus LMTP (or SMTP) deliveries at
a steady rate, for a fixed duration. Standard library only (asyncio, raw sockets).

Reports: errors (unexpected NO/BAD/BYE, disconnects, timeouts) by kind, p50/p99/max latency
per command, operations per second, and the server's RSS over time (VmRSS from
/proc/PID/status every 5 s: peak, value at the end of warm-up and at the end).

usage:
  load_imap.py --imap-port 22143 --lmtp-port 22024 --pid SERVER_PID \
      [--sessions 1000] [--duration 300] [--accounts 10] \
      [--user-template 'load%d@example.test'] [--password pass] \
      [--deliver-rate 20] [--preload 50] [--think 2.0] [--smtp] \
      [--steady [--steady-every 2.0]]

--steady: mail keeps arriving (deliveries into INBOX, APPENDs into Drafts), so every
session's view grows with its mailbox and the server's memory grows with it. With --steady
one extra "janitor" connection per account (logged in like the sessions, not counted among
them) wakes every --steady-every seconds, SELECTs INBOX and Drafts, and when a folder holds
more than --preload messages marks the oldest surplus \\Deleted and removes them (UID STORE
+ UID EXPUNGE, RFC 4315 UIDPLUS), so each folder stays near --preload messages and RSS
should go flat. Its commands are reported in their own "janitor" table (not in the main one
or the operation count); its errors count like the others ("janitor ..." kinds). Sessions
then see messages vanish: a NO to a sequence-number FETCH/STORE is not an error when the
NOOP sent right after it reports an EXPUNGE of a message in that command's range (RFC 2180
§4.1/4.2 lets a server refuse those); such answers are counted as "expunge races".

Point it only at a test server on 127.0.0.1: it flags and appends messages. Exit status 1
when any error was counted, so a CI job can gate on it.
"""
import argparse
import asyncio
import json
import random
import resource
import sys
import time
from collections import Counter, defaultdict

# Relative weights of what a session does next.
OPS = {
    "NOOP": 20,
    "FETCH": 30,
    "SEARCH": 10,
    "STORE": 15,
    "IDLE": 15,
    "APPEND": 5,
    "SELECT": 5,
}
# Folders the load adds mail to (deliveries: INBOX; APPEND: Drafts); --steady trims them.
STEADY_FOLDERS = ("INBOX", "Drafts")
WARMUP_EXTRA = 10.0  # seconds after the last session logged in that count as warm-up
RSS_EVERY = 5.0
IO_TIMEOUT = 60.0  # a server silent this long counts as an error ("timeout")


class Stats:
    def __init__(self):
        self.lat = defaultdict(list)  # command -> [seconds]
        self.errors = Counter()  # kind -> count
        self.examples = {}  # kind -> first example text
        self.logged_in = 0
        self.reconnects = 0
        self.janitor_lat = defaultdict(list)  # --steady: janitor command -> [seconds]
        self.janitor_expunged = 0  # messages the janitors removed
        self.races = Counter()  # --steady: NO answers explained by a concurrent EXPUNGE
        self.race_examples = {}

    def record(self, cmd, seconds):
        self.lat[cmd].append(seconds)

    def error(self, kind, text=""):
        self.errors[kind] += 1
        self.examples.setdefault(kind, text[:200])

    def race(self, kind, text=""):
        self.races[kind] += 1
        self.race_examples.setdefault(kind, text[:200])


class ProtocolError(Exception):
    def __init__(self, kind, text):
        super().__init__(f"{kind}: {text}")
        self.kind = kind
        self.text = text


class Imap:
    """One IMAP connection: tagged commands, literals read inline, EXISTS tracked."""

    def __init__(self, reader, writer):
        self.r, self.w = reader, writer
        self.n = 0
        self.exists = 0
        self.expunged = 0  # EXPUNGE responses seen (and UIDs in VANISHED)
        self.logging_out = False

    @classmethod
    async def connect(cls, host, port):
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, limit=1 << 20), IO_TIMEOUT)
        c = cls(reader, writer)
        greeting = await c.response()
        if not greeting.startswith(b"* OK"):
            raise ProtocolError("greeting", greeting.decode("latin-1"))
        return c

    async def line(self):
        data = await asyncio.wait_for(self.r.readuntil(b"\n"), IO_TIMEOUT)
        return data

    async def response(self):
        """One response with its literals inline."""
        out = bytearray()
        while True:
            line = await self.line()
            out += line
            stripped = line.rstrip(b"\r\n")
            if stripped.endswith(b"}") and b"{" in stripped:
                n = stripped[stripped.rfind(b"{") + 1:-1].rstrip(b"+")
                if n.isdigit():
                    out += await asyncio.wait_for(self.r.readexactly(int(n)), IO_TIMEOUT)
                    continue
            return bytes(out)

    def untagged(self, resp):
        if resp.startswith(b"* BYE") and not self.logging_out:
            raise ProtocolError("BYE", resp.decode("latin-1"))
        parts = resp.split(b" ", 3)
        if len(parts) >= 3 and parts[1].isdigit():
            if parts[2].startswith(b"EXISTS"):
                self.exists = int(parts[1])
            elif parts[2].startswith(b"EXPUNGE"):
                self.exists = max(0, self.exists - 1)
                self.expunged += 1

    async def send(self, data):
        self.w.write(data)
        await asyncio.wait_for(self.w.drain(), IO_TIMEOUT)

    async def command(self, text, literal=None):
        """Runs a command; returns (untagged responses, tagged line). NO/BAD raise."""
        self.n += 1
        tag = b"t%d" % self.n
        if literal is None:
            await self.send(tag + b" " + text.encode() + b"\r\n")
        else:
            await self.send(tag + b" " + text.encode() + b" {%d}\r\n" % len(literal))
            while True:
                resp = await self.response()
                if resp.startswith(b"+"):
                    break
                if resp.startswith(tag + b" "):
                    raise ProtocolError(text.split()[0] + " refused", resp.decode("latin-1"))
                self.untagged(resp)
            await self.send(literal + b"\r\n")
        return await self.finish(tag, text)

    async def finish(self, tag, text):
        untagged = []
        while True:
            resp = await self.response()
            if resp.startswith(tag + b" "):
                status = resp[len(tag) + 1:].split(b" ", 1)[0]
                if status != b"OK":
                    kind = text.split()[0].upper() + " " + status.decode("latin-1")
                    raise ProtocolError(kind, resp.decode("latin-1"))
                return untagged, resp
            self.untagged(resp)
            untagged.append(resp)

    async def idle(self, seconds):
        """IDLE for `seconds`; returns (latency to the continuation, latency of DONE→OK)."""
        self.n += 1
        tag = b"t%d" % self.n
        t0 = time.monotonic()
        await self.send(tag + b" IDLE\r\n")
        while True:
            resp = await self.response()
            if resp.startswith(b"+"):
                break
            if resp.startswith(tag + b" "):
                raise ProtocolError("IDLE refused", resp.decode("latin-1"))
            self.untagged(resp)
        started = time.monotonic() - t0
        end = time.monotonic() + seconds
        pending = None
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            if pending is None:
                pending = asyncio.ensure_future(self.response())
            done, _ = await asyncio.wait({pending}, timeout=left)
            if not done:
                break
            self.untagged(pending.result())
            pending = None
        t1 = time.monotonic()
        await self.send(b"DONE\r\n")
        if pending is not None:
            resp = await pending
            if resp.startswith(tag + b" "):
                if not resp[len(tag) + 1:].startswith(b"OK"):
                    raise ProtocolError("DONE " + resp.split(b" ")[1].decode(), resp.decode())
                return started, time.monotonic() - t1
            self.untagged(resp)
        await self.finish(tag, "DONE")
        return started, time.monotonic() - t1

    def close(self):
        try:
            self.w.close()
        except Exception:
            pass


def message(i, who, size=None):
    size = size or random.choice([400, 1500, 4000, 20000])
    body = ("load test line %d %s\r\n" % (i, "x" * 40)) * max(1, size // 60)
    return (
        "From: load@example.org\r\nTo: %s\r\nSubject: load %d %s\r\n"
        "Message-ID: <load-%d-%d@bench.test>\r\n\r\n%s"
        % (who, i, random.choice(["quokka", "report", "invoice", "hello"]), i,
           random.randrange(1 << 30), body)
    ).encode()


async def session(a, n, user, stats, deadline, login_gate, ready):
    """One client: logs in (at most `--login-concurrency` at once), then works until the
    deadline; reconnects after an error so the number of sessions stays up."""
    first = True
    while time.monotonic() < deadline:
        c = None
        try:
            async with login_gate:
                t0 = time.monotonic()
                c = await Imap.connect(a.host, a.imap_port)
                await c.command('LOGIN "%s" "%s"' % (user, a.password))
                stats.record("LOGIN", time.monotonic() - t0)
                t0 = time.monotonic()
                await c.command("SELECT INBOX")
                stats.record("SELECT", time.monotonic() - t0)
            if first:
                stats.logged_in += 1
                first = False
                if stats.logged_in == a.sessions:
                    ready.set()
            await work(a, c, user, stats, deadline)
            c.logging_out = True  # its BYE is expected (RFC 9051 §6.1.3)
            await c.command("LOGOUT")
            return
        except ProtocolError as e:
            stats.error(e.kind, e.text)
        except asyncio.TimeoutError:
            stats.error("timeout", user)
        except (ConnectionError, asyncio.IncompleteReadError, OSError) as e:
            stats.error("disconnect", repr(e))
        finally:
            if c:
                c.close()
        stats.reconnects += 1
        await asyncio.sleep(random.uniform(0.5, 2.0))  # back off before reconnecting


def expunged_positions(before, untagged):
    """Sequence numbers (as they were when `before` messages existed) that the `* n
    EXPUNGE` responses in `untagged` removed; EXISTS growth is tracked on the way."""
    view = list(range(1, before + 1))
    gone = set()
    for resp in untagged:
        parts = resp.split(b" ", 3)
        if len(parts) < 3 or not parts[1].isdigit():
            continue
        n = int(parts[1])
        if parts[2].startswith(b"EXISTS"):
            view.extend([0] * max(0, n - len(view)))  # 0: arrived later, not an original
        elif parts[2].startswith(b"EXPUNGE") and 1 <= n <= len(view):
            gone.add(view.pop(n - 1))
    gone.discard(0)
    return gone


async def tolerant(a, c, stats, text, lo, hi):
    """`c.command(text)` for a sequence-number FETCH/STORE over lo..hi. Under --steady a NO
    is forgiven (counted in stats.races) when the NOOP sent right after it reports the
    EXPUNGE of a message in lo..hi (the janitor removed it meanwhile); anything else still
    raises. Returns True when the command completed OK."""
    try:
        await c.command(text)
        return True
    except ProtocolError as e:
        if not a.steady or not e.kind.endswith(" NO"):
            raise
        before = c.exists
        untagged, _ = await c.command("NOOP")
        gone = expunged_positions(before, untagged)
        if not any(lo <= n <= hi for n in gone):
            raise
        stats.race(e.kind, e.text)
        return False


async def janitor(a, user, stats, deadline, login_gate):
    """--steady: one per account. Every --steady-every seconds SELECTs each folder the load
    adds to and, above --preload messages, removes the oldest surplus (UID STORE \\Deleted +
    UID EXPUNGE). Reconnects after an error like the sessions do."""
    def timed(name, t0):
        stats.janitor_lat["janitor " + name].append(time.monotonic() - t0)

    while time.monotonic() < deadline:
        c = None
        try:
            async with login_gate:
                t0 = time.monotonic()
                c = await Imap.connect(a.host, a.imap_port)
                await c.command('LOGIN "%s" "%s"' % (user, a.password))
                timed("LOGIN", t0)
            untagged, tagged = await c.command("CAPABILITY")
            if b"UIDPLUS" not in b" ".join(untagged + [tagged]).upper():
                raise ProtocolError("no UIDPLUS", "server does not advertise UIDPLUS")
            while True:
                await asyncio.sleep(max(0.0, min(a.steady_every, deadline - time.monotonic())))
                if time.monotonic() >= deadline:
                    break
                for folder in STEADY_FOLDERS:
                    t0 = time.monotonic()
                    try:
                        await c.command("SELECT " + folder)
                    except ProtocolError as e:
                        if folder != "INBOX" and "NONEXISTENT" in e.text.upper():
                            continue  # nothing appended there yet
                        raise
                    timed("SELECT", t0)
                    surplus = c.exists - a.preload
                    if surplus <= 0:
                        continue
                    t0 = time.monotonic()
                    untagged, _ = await c.command("FETCH 1:%d (UID)" % surplus)
                    timed("FETCH UID", t0)
                    uids = []
                    for resp in untagged:
                        up = resp.upper()
                        k = up.find(b"UID ")
                        if b" FETCH " in up and k >= 0:
                            digits = up[k + 4:].split(b")")[0].split(b" ")[0]
                            if digits.isdigit():
                                uids.append(int(digits))
                    if not uids:
                        continue
                    uid_set = ",".join(str(u) for u in sorted(uids))
                    t0 = time.monotonic()
                    await c.command("UID STORE %s +FLAGS.SILENT (\\Deleted)" % uid_set)
                    timed("UID STORE", t0)
                    t0 = time.monotonic()
                    before = c.expunged
                    await c.command("UID EXPUNGE %s" % uid_set)
                    timed("UID EXPUNGE", t0)
                    stats.janitor_expunged += c.expunged - before
            c.logging_out = True
            await c.command("LOGOUT")
            return
        except ProtocolError as e:
            stats.error("janitor " + e.kind, e.text)
        except asyncio.TimeoutError:
            stats.error("janitor timeout", user)
        except (ConnectionError, asyncio.IncompleteReadError, OSError) as e:
            stats.error("janitor disconnect", repr(e))
        finally:
            if c:
                c.close()
        await asyncio.sleep(random.uniform(0.5, 2.0))


async def work(a, c, user, stats, deadline):
    ops, weights = zip(*OPS.items())
    i = 0
    while True:
        pause = random.expovariate(1.0 / a.think)
        await asyncio.sleep(max(0.0, min(pause, deadline - time.monotonic())))
        if time.monotonic() >= deadline:
            return
        op = random.choices(ops, weights)[0]
        i += 1
        t0 = time.monotonic()
        if op == "NOOP" or (op in ("FETCH", "STORE") and c.exists == 0):
            await c.command("NOOP")
            stats.record("NOOP", time.monotonic() - t0)
        elif op == "FETCH":
            if random.random() < 0.5:
                lo = random.randint(1, c.exists)
                hi = min(c.exists, lo + 20)
                if await tolerant(a, c, stats, "FETCH %d:%d (UID FLAGS RFC822.SIZE ENVELOPE)"
                                  % (lo, hi), lo, hi):
                    stats.record("FETCH envelope", time.monotonic() - t0)
            else:
                n = random.randint(1, c.exists)
                if await tolerant(a, c, stats, "FETCH %d BODY.PEEK[]" % n, n, n):
                    stats.record("FETCH body", time.monotonic() - t0)
        elif op == "SEARCH":
            crit = random.choice(["UNSEEN", "FLAGGED", "SUBJECT quokka", "BODY quokka",
                                  "SINCE 1-Jan-2020"])
            await c.command("SEARCH " + crit)
            stats.record("SEARCH " + crit.split()[0], time.monotonic() - t0)
        elif op == "STORE":
            flag = random.choice(["\\Flagged", "\\Seen", "$Label1"])
            sign = random.choice("+-")
            n = random.randint(1, c.exists)
            if await tolerant(a, c, stats, "STORE %d %sFLAGS (%s)" % (n, sign, flag), n, n):
                stats.record("STORE", time.monotonic() - t0)
        elif op == "IDLE":
            seconds = min(random.uniform(1.0, a.idle_max), deadline - time.monotonic())
            started, done = await c.idle(max(0.0, seconds))
            stats.record("IDLE", started)
            stats.record("IDLE DONE", done)
        elif op == "APPEND":
            await c.command("APPEND Drafts (\\Draft)", message(i, user, 1500))
            stats.record("APPEND", time.monotonic() - t0)
        elif op == "SELECT":
            await c.command("SELECT INBOX")
            stats.record("SELECT", time.monotonic() - t0)


async def smtp_reply(reader):
    lines = []
    while True:
        line = await asyncio.wait_for(reader.readuntil(b"\n"), IO_TIMEOUT)
        lines.append(line)
        if line[3:4] != b"-":
            return b"".join(lines)


async def deliver_once(a, conn, users, i, stats):
    reader, writer = conn
    rcpt = random.choice(users)
    data = message(i, rcpt).replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n"
    t0 = time.monotonic()
    writer.write(b"MAIL FROM:<load@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n" % rcpt.encode())
    await writer.drain()
    for want in (b"250", b"250", b"354"):
        reply = await smtp_reply(reader)
        if not reply.startswith(want):
            raise ProtocolError("delivery " + reply[:3].decode("latin-1"),
                                reply.decode("latin-1"))
    writer.write(data)
    await writer.drain()
    reply = await smtp_reply(reader)
    if not reply.startswith(b"250"):
        raise ProtocolError("delivery " + reply[:3].decode("latin-1"), reply.decode("latin-1"))
    stats.record("SMTP delivery" if a.smtp else "LMTP delivery", time.monotonic() - t0)


async def open_delivery(a):
    port = a.smtp_port if a.smtp else a.lmtp_port
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(a.host, port), IO_TIMEOUT)
    if not (await smtp_reply(reader)).startswith(b"220"):
        raise ProtocolError("delivery greeting", "")
    writer.write(b"%s bench.test\r\n" % (b"EHLO" if a.smtp else b"LHLO"))
    await writer.drain()
    if not (await smtp_reply(reader)).startswith(b"250"):
        raise ProtocolError("delivery hello", "")
    return reader, writer


async def deliveries(a, users, stats, deadline, rate, count=None):
    """`rate` messages a second on one connection (reopened after an error), or `count`
    messages as fast as the server takes them."""
    conn, i = None, 0
    next_at = time.monotonic()
    while time.monotonic() < deadline and (count is None or i < count):
        if rate:
            next_at += 1.0 / rate
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        i += 1
        try:
            if conn is None:
                conn = await open_delivery(a)
            await deliver_once(a, conn, users, i, stats)
        except ProtocolError as e:
            stats.error(e.kind, e.text)
            conn = None
        except (asyncio.TimeoutError, ConnectionError, asyncio.IncompleteReadError, OSError) as e:
            stats.error("delivery disconnect", repr(e))
            conn = None
    if conn:
        conn[1].close()


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


async def sample_rss(pid, start, samples, stop):
    while not stop.is_set():
        kib = rss_kib(pid)
        if kib is not None:
            samples.append((time.monotonic() - start, kib))
        try:
            await asyncio.wait_for(stop.wait(), RSS_EVERY)
        except asyncio.TimeoutError:
            pass


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


async def main_async(a):
    users = [a.user_template % i for i in range(1, a.accounts + 1)]
    stats = Stats()
    if a.preload:
        t0 = time.monotonic()
        await deliveries(a, users, stats, time.monotonic() + 3600, 0, a.preload * len(users))
        print("preloaded %d messages in %.1f s" % (a.preload * len(users), time.monotonic() - t0))
        stats.lat.clear()
    start = time.monotonic()
    deadline = start + a.duration
    samples, stop, ready = [], asyncio.Event(), asyncio.Event()
    sampler = asyncio.ensure_future(sample_rss(a.pid, start, samples, stop)) if a.pid else None
    gate = asyncio.Semaphore(a.login_concurrency)
    tasks = [asyncio.ensure_future(session(a, n, users[n % len(users)], stats, deadline, gate, ready))
             for n in range(a.sessions)]
    tasks.append(asyncio.ensure_future(deliveries(a, users, stats, deadline, a.deliver_rate)))
    if a.steady:
        tasks += [asyncio.ensure_future(janitor(a, u, stats, deadline, gate)) for u in users]
    warm = {}

    async def mark_warm():
        await ready.wait()
        warm["at"] = time.monotonic() - start
        await asyncio.sleep(WARMUP_EXTRA)
        warm["rss"] = rss_kib(a.pid) if a.pid else None
        warm["rss_at"] = time.monotonic() - start

    warm_task = asyncio.ensure_future(mark_warm())
    await asyncio.gather(*tasks)
    warm_task.cancel()
    elapsed = time.monotonic() - start
    end_rss = rss_kib(a.pid) if a.pid else None
    stop.set()
    if sampler:
        await sampler
    report(a, stats, elapsed, samples, warm, end_rss)
    return 1 if stats.errors else 0


def report(a, stats, elapsed, samples, warm, end_rss):
    total = sum(len(v) for v in stats.lat.values())
    print("\n== load_imap: %d sessions over %d account(s), %.0f s, think %.1f s, "
          "deliveries %.1f/s" % (a.sessions, a.accounts, elapsed, a.think, a.deliver_rate))
    print("sessions logged in: %d/%d%s; reconnects after errors: %d" % (
        stats.logged_in, a.sessions,
        " (all in by %.1f s)" % warm["at"] if "at" in warm else "", stats.reconnects))
    print("operations: %d (%.0f/s)" % (total, total / max(elapsed, 1e-9)))
    print("%-18s %8s %10s %10s %10s" % ("command", "count", "p50 ms", "p99 ms", "max ms"))
    rows = {}
    for cmd in sorted(stats.lat):
        v = stats.lat[cmd]
        rows[cmd] = {"count": len(v), "p50_ms": pct(v, 50) * 1e3, "p99_ms": pct(v, 99) * 1e3,
                     "max_ms": max(v) * 1e3}
        r = rows[cmd]
        print("%-18s %8d %10.1f %10.1f %10.1f" % (cmd, r["count"], r["p50_ms"], r["p99_ms"],
                                                 r["max_ms"]))
    janitor = {}
    if a.steady:
        print("--steady: janitors kept each folder near %d messages (every %.1f s); "
              "removed %d message(s); not in the table above:" % (
                  a.preload, a.steady_every, stats.janitor_expunged))
        for cmd in sorted(stats.janitor_lat):
            v = stats.janitor_lat[cmd]
            janitor[cmd] = {"count": len(v), "p50_ms": pct(v, 50) * 1e3,
                            "p99_ms": pct(v, 99) * 1e3, "max_ms": max(v) * 1e3}
            r = janitor[cmd]
            print("%-18s %8d %10.1f %10.1f %10.1f" % (cmd, r["count"], r["p50_ms"],
                                                     r["p99_ms"], r["max_ms"]))
        print("expunge races (NO explained by a concurrent EXPUNGE, not errors): %d" %
              sum(stats.races.values()))
        for kind, n in stats.races.most_common():
            print("  %-24s %6d  e.g. %s" % (kind, n, stats.race_examples[kind].strip()))
    if stats.errors:
        print("ERRORS: %d" % sum(stats.errors.values()))
        for kind, n in stats.errors.most_common():
            print("  %-24s %6d  e.g. %s" % (kind, n, stats.examples[kind].strip()))
    else:
        print("errors: 0")
    rss = {}
    if samples:
        peak = max(samples, key=lambda s: s[1])
        rss = {"peak_kib": peak[1], "peak_at_s": peak[0], "warm_kib": warm.get("rss"),
               "warm_at_s": warm.get("rss_at"), "end_kib": end_rss,
               "samples": [[round(t, 1), k] for t, k in samples]}
        print("server RSS: peak %.1f MiB at %.0f s; after warm-up (%s) %s; at the end %s" % (
            peak[1] / 1024, peak[0],
            "%.0f s" % warm["rss_at"] if warm.get("rss_at") else "never reached",
            "%.1f MiB" % (warm["rss"] / 1024) if warm.get("rss") else "-",
            "%.1f MiB" % (end_rss / 1024) if end_rss else "- (server gone?)"))
        print("RSS over time (s: MiB): " + ", ".join(
            "%.0f: %.1f" % (t, k / 1024) for t, k in samples))
    print("JSON: " + json.dumps({"sessions": a.sessions, "duration_s": elapsed,
                                 "operations": total, "commands": rows,
                                 "errors": dict(stats.errors), "rss": rss,
                                 "steady": {"janitor": janitor,
                                            "expunged": stats.janitor_expunged,
                                            "races": dict(stats.races)} if a.steady else None}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--imap-port", type=int, required=True)
    ap.add_argument("--lmtp-port", type=int)
    ap.add_argument("--smtp-port", type=int)
    ap.add_argument("--smtp", action="store_true", help="deliver over SMTP instead of LMTP")
    ap.add_argument("--pid", type=int, help="the server's pid, for RSS")
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=300)
    ap.add_argument("--accounts", type=int, default=10)
    ap.add_argument("--user-template", default="load%d@example.test")
    ap.add_argument("--password", default="pass")
    ap.add_argument("--deliver-rate", type=float, default=20.0, help="messages per second")
    ap.add_argument("--preload", type=int, default=50, help="messages per account before")
    ap.add_argument("--think", type=float, default=2.0, help="mean seconds between commands")
    ap.add_argument("--idle-max", type=float, default=10.0, help="longest IDLE, seconds")
    ap.add_argument("--login-concurrency", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steady", action="store_true",
                    help="one janitor per account keeps INBOX and Drafts near --preload "
                         "messages (UID STORE \\Deleted + UID EXPUNGE), so data stops growing")
    ap.add_argument("--steady-every", type=float, default=2.0,
                    help="seconds between janitor passes (--steady)")
    a = ap.parse_args()
    if (a.smtp and not a.smtp_port) or (not a.smtp and not a.lmtp_port):
        ap.error("give --lmtp-port (or --smtp with --smtp-port)")
    random.seed(a.seed)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, a.sessions * 2 + 100))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < a.sessions + 50:
        sys.exit("open-file limit %d is too low for %d sessions" % (want, a.sessions))
    sys.exit(asyncio.run(main_async(a)))


if __name__ == "__main__":
    main()
