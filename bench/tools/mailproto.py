"""Small helpers shared by the benchmark clients in this directory (Python 3 stdlib only).

- Wire: a socket with one big receive buffer. Responses are scanned, not parsed: literals
  and POP3 bodies are skipped by length or by terminator, so the client spends little CPU
  next to the server it measures (both share the same few cores). rcvbuf= sets the
  kernel's SO_RCVBUF before connecting (a client that takes in little).
- ImapClient, Pop3Client, MailTransfer (LMTP and SMTP): the few commands the benchmarks need.
- read_mbox: messages of an mbox file, as CRLF bytes ready to be sent.
- Process-tree accounting from /proc (CPU seconds, RSS, PSS) for the server under test, and
  wait_quiet (until the server stops using CPU).
- percentile, emit_json, drop_page_cache.

Every client takes a host, a port, a user and a password and speaks only standard
protocol, so the same call measures Dovecot and Mailroom.
"""
import json
import os
import re
import socket
import time

CHUNK = 1 << 20


class ProtocolError(Exception):
    pass


class Wire:
    """A TCP connection with a receive buffer; counts the bytes that came in."""

    def __init__(self, host, port, timeout=600.0, rcvbuf=None):
        if rcvbuf is None:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        else:
            # SO_RCVBUF must be set before connect (it fixes the window the peer is offered).
            self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect((host, port))
            except OSError:
                self.sock.close()
                raise
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.start = 0  # first unread byte in buf
        self.received = 0

    def _more(self):
        if self.start and self.start >= len(self.buf) // 2:
            del self.buf[:self.start]
            self.start = 0
        data = self.sock.recv(CHUNK)
        if not data:
            raise ProtocolError("connection closed by the server")
        self.received += len(data)
        self.buf += data

    def line(self):
        """The next line, CRLF included."""
        while True:
            end = self.buf.find(b"\n", self.start)
            if end >= 0:
                out = bytes(self.buf[self.start:end + 1])
                self.start = end + 1
                return out
            self._more()

    def discard(self, n):
        """Consume n bytes without keeping them (an IMAP literal)."""
        while True:
            have = len(self.buf) - self.start
            if have >= n:
                self.start += n
                return
            n -= have
            self.buf.clear()
            self.start = 0
            self._more()

    def discard_through(self, marker):
        """Consume everything up to and including marker; returns the number of bytes."""
        consumed = 0
        keep = len(marker) - 1
        while True:
            at = self.buf.find(marker, self.start)
            if at >= 0:
                consumed += at + len(marker) - self.start
                self.start = at + len(marker)
                return consumed
            # Keep a tail that could be the start of the marker.
            cut = max(self.start, len(self.buf) - keep)
            consumed += cut - self.start
            del self.buf[:cut]
            self.start = 0
            self._more()

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --- IMAP ------------------------------------------------------------------------------------

_LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}\r?\n$")


def imap_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapClient:
    """Tagged commands; untagged responses are handed to a callback with their literal
    sizes (the literals themselves are skipped)."""

    def __init__(self, host, port, timeout=600.0, rcvbuf=None):
        self.wire = Wire(host, port, timeout, rcvbuf)
        self.seq = 0
        self.greeting = self.wire.line()
        if not self.greeting.startswith(b"* OK") and not self.greeting.startswith(b"* PREAUTH"):
            raise ProtocolError(f"IMAP greeting: {self.greeting!r}")

    def response(self):
        """One response, literals skipped: (text of its first line, total literal bytes)."""
        first = line = self.wire.line()
        literal_bytes = 0
        while True:
            m = _LITERAL_AT_END.search(line)
            if m is None:
                return first, literal_bytes
            size = int(m.group(1))
            self.wire.discard(size)
            literal_bytes += size
            line = self.wire.line()

    def command(self, text, untagged=None):
        """Runs one command; returns (status "OK"/"NO"/"BAD", tagged line, untagged count)."""
        self.seq += 1
        tag = b"t%d" % self.seq
        self.wire.send(tag + b" " + text.encode() + b"\r\n")
        count = 0
        prefix = tag + b" "
        while True:
            first, lit = self.response()
            if first.startswith(prefix):
                status = first[len(prefix):].split(b" ", 1)[0].decode().upper()
                return status, first, count
            if first.startswith(b"+"):
                continue
            if first.startswith(b"* BYE"):
                raise ProtocolError(f"{text.split()[0]}: server said {first!r}")
            count += 1
            if untagged is not None:
                untagged(first, lit)

    def must(self, text, untagged=None):
        status, line, count = self.command(text, untagged)
        if status != "OK":
            raise ProtocolError(f"{text!r} answered {line!r}")
        return count

    def login(self, user, password):
        status, line, _ = self.command(f"LOGIN {imap_quote(user)} {imap_quote(password)}")
        if status != "OK":
            raise ProtocolError(f"LOGIN {user}: {line!r}")

    def select(self, mailbox="INBOX"):
        """SELECT; returns the number of messages (the last EXISTS)."""
        exists = [0]

        def seen(line, _lit):
            parts = line.split()
            if len(parts) >= 3 and parts[2].upper() == b"EXISTS":
                exists[0] = int(parts[1])
        self.must(f"SELECT {imap_quote(mailbox)}", seen)
        return exists[0]

    def logout(self):
        try:
            self.command("LOGOUT")
        except (OSError, ProtocolError):
            pass
        self.wire.close()


# --- POP3 ------------------------------------------------------------------------------------

class Pop3Client:
    def __init__(self, host, port, timeout=600.0):
        self.wire = Wire(host, port, timeout)
        self.greeting = self.status()

    def status(self):
        line = self.wire.line()
        if not line.startswith(b"+OK"):
            raise ProtocolError(f"POP3: {line!r}")
        return line

    def simple(self, text):
        self.wire.send(text.encode() + b"\r\n")
        return self.status()

    def multiline(self, text):
        """A command with a dot-terminated answer; returns the bytes of the answer body."""
        self.wire.send(text.encode() + b"\r\n")
        self.status()
        # The status line's CRLF has been read: an empty body is just ".\r\n".
        while len(self.wire.buf) - self.wire.start < 3:
            self.wire._more()
        if self.wire.buf[self.wire.start:self.wire.start + 3] == b".\r\n":
            self.wire.start += 3
            return 0
        return self.wire.discard_through(b"\r\n.\r\n")

    def login(self, user, password):
        self.simple(f"USER {user}")
        self.simple(f"PASS {password}")

    def quit(self):
        """QUIT, then wait for the server to close (deletions are committed by then)."""
        self.simple("QUIT")
        try:
            while self.wire.sock.recv(65536):
                pass
        except OSError:
            pass
        self.wire.close()


# --- LMTP / SMTP -----------------------------------------------------------------------------

def dot_stuff(message):
    """CRLF message -> DATA payload (leading dots doubled, CRLF.CRLF appended)."""
    if message.startswith(b"."):
        message = b"." + message
    message = message.replace(b"\r\n.", b"\r\n..")
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return message + b".\r\n"


class MailTransfer:
    """One LMTP (lmtp=True) or SMTP session that sends messages one after another."""

    def __init__(self, host, port, lmtp=True, helo="bench.localhost", timeout=600.0):
        self.wire = Wire(host, port, timeout)
        self.lmtp = lmtp
        code, text = self.reply()
        if code != 220:
            raise ProtocolError(f"greeting: {code} {text}")
        code, text = self.cmd(("LHLO " if lmtp else "EHLO ") + helo)
        if code != 250:
            raise ProtocolError(f"{'LHLO' if lmtp else 'EHLO'}: {code} {text}")

    def reply(self):
        """A (possibly multi-line) reply: (code, last line's text)."""
        while True:
            line = self.wire.line()
            if len(line) < 4 or not line[:3].isdigit():
                raise ProtocolError(f"bad reply line {line!r}")
            if line[3:4] != b"-":
                return int(line[:3]), line[4:].decode("utf-8", "replace").rstrip()

    def cmd(self, text):
        self.wire.send(text.encode() + b"\r\n")
        return self.reply()

    def send_message(self, sender, recipients, message):
        """Returns a list of (recipient, code, text) for every recipient that was refused
        (at RCPT or, for LMTP, after DATA). Raises ProtocolError when the whole
        transaction fails."""
        code, text = self.cmd(f"MAIL FROM:<{sender}>")
        if code != 250:
            raise ProtocolError(f"MAIL FROM: {code} {text}")
        refused, accepted = [], []
        for rcpt in recipients:
            code, text = self.cmd(f"RCPT TO:<{rcpt}>")
            if code in (250, 251):
                accepted.append(rcpt)
            else:
                refused.append((rcpt, code, text))
        if not accepted:
            self.cmd("RSET")
            raise ProtocolError(f"no recipient accepted: {refused}")
        code, text = self.cmd("DATA")
        if code != 354:
            raise ProtocolError(f"DATA: {code} {text}")
        self.wire.send(dot_stuff(message))
        if self.lmtp:
            # LMTP answers once per accepted recipient.
            for rcpt in accepted:
                code, text = self.reply()
                if code != 250:
                    refused.append((rcpt, code, text))
        else:
            code, text = self.reply()
            if code != 250:
                raise ProtocolError(f"after DATA: {code} {text}")
        return refused

    def quit(self):
        try:
            self.cmd("QUIT")
        except (OSError, ProtocolError):
            pass
        self.wire.close()


# --- mbox ------------------------------------------------------------------------------------

_ESCAPED_FROM = re.compile(rb"^>+From ")


def read_mbox(path, limit=None):
    """Messages of an mbox (mboxrd: one '>' is removed from '>From ' lines), each as bytes
    with CRLF line ends, at most limit of them."""
    out = []
    current = None
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(b"From "):
                if current is not None:
                    out.append(b"".join(current))
                    if limit is not None and len(out) >= limit:
                        return out
                current = []
                continue
            if current is None:
                continue  # junk before the first separator
            if line.endswith(b"\r\n"):
                line = line[:-2]
            elif line.endswith(b"\n"):
                line = line[:-1]
            if line.startswith(b">") and _ESCAPED_FROM.match(line):
                line = line[1:]
            current.append(line + b"\r\n")
    if current is not None and (limit is None or len(out) < limit):
        out.append(b"".join(current))
    return out


# --- process accounting ----------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid):
    """(ppid, cpu ticks of the process and its reaped children) or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    rest = raw[raw.rfind(b")") + 2:].split()
    # rest[0] state, rest[1] ppid, rest[11..14] utime stime cutime cstime
    return int(rest[1]), sum(int(x) for x in rest[11:15])


def process_tree(root):
    """root and all its descendants: {pid: cpu_ticks}."""
    parent, ticks = {}, {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                parent[int(name)], ticks[int(name)] = st
    children = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in ticks and pid not in found:
            found[pid] = ticks[pid]
            todo.extend(children.get(pid, ()))
    return found


def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def pss_bytes(pid):
    """Proportional set size: shared pages divided among the processes sharing them, so a
    sum over a multi-process server is comparable with a single process."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def machine_busy_seconds():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / TICKS


def measure(root, with_pss=True):
    """One snapshot of the server's process tree."""
    tree = process_tree(root)
    snap = {"procs": len(tree), "cpu_s": sum(tree.values()) / TICKS,
            "rss": sum(rss_bytes(p) for p in tree), "busy_s": machine_busy_seconds(),
            "load1": float(open("/proc/loadavg").read().split()[0])}
    if with_pss:
        snap["pss"] = sum(pss_bytes(p) for p in tree)
    return snap


def wait_quiet(root, window=1.0, cores=0.05, timeout=120.0):
    """Waits until the server's tree used less than `cores` of CPU over `window` seconds (a
    freshly started Mailroom first indexes what `mailroom deliver` stored); returns the
    seconds waited, or None when it was still busy after `timeout`."""
    t0 = time.monotonic()
    last = measure(root, with_pss=False)["cpu_s"]
    while time.monotonic() - t0 < timeout:
        time.sleep(window)
        now = measure(root, with_pss=False)["cpu_s"]
        if now - last < cores * window:
            return round(time.monotonic() - t0, 1)
        last = now
    return None


def server_pid(pid=None, pidfile=None):
    if pid:
        return pid
    if pidfile:
        with open(pidfile) as f:
            return int(f.read().split()[0])
    raise SystemExit("give --pid or --pidfile (the server's top process)")


# --- small things ----------------------------------------------------------------------------

def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, int(round(p / 100.0 * (len(sorted_values) - 1))))
    return sorted_values[i]


def emit_json(result):
    """The machine-readable line every tool ends with."""
    print("JSON:" + json.dumps(result, sort_keys=True), flush=True)


def drop_page_cache():
    """Drops the kernel's page cache (root only). True when it worked."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


class Stopwatch:
    def __init__(self):
        self.t = time.perf_counter()

    def lap(self):
        now = time.perf_counter()
        dt, self.t = now - self.t, now
        return dt


MIB = float(1 << 20)
