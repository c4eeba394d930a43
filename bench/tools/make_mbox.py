#!/usr/bin/env python3
"""Writes the benchmark mailbox: a deterministic mbox of ordinary-looking mail.

usage: make_mbox.py OUT [--count 5000] [--seed 42] [--marker quokka]

With the defaults: 5,000 messages, about 190 MB. The same count and seed always give the
same bytes (the generator uses only its own seeded random source). OUT is replaced, not
appended to. The format is mboxrd with LF line ends; no body line starts with "From " or
">From ", so every mbox reader splits and unescapes it the same way.

What is in it (shares of messages, roughly):
  48%  text/plain (7bit, or quoted-printable/8bit/base64 when the text is not ASCII)
  20%  multipart/alternative: text/plain + text/html
   3%  multipart/alternative with multipart/related: HTML with an inline image (cid:)
  24%  multipart/mixed: text + 1-4 attachments (base64 PDF, PNG, JPEG, ZIP, DOCX, XLSX; CSV, ICS),
       log-normal sizes from 1 KB to 600 KB
 1.3%  multipart/mixed with one large attachment (0.3-1.2 MB)
 2.5%  forwards: multipart/mixed with an earlier message as message/rfc822
 1.2%  multipart/signed (text + application/pgp-signature)
Across these: about a third are replies (Re:, In-Reply-To, References, a quoted part of the
parent; References holds up to 12 ancestors); ~13% have an RFC 2047 subject (UTF-8, B or Q encoding,
some folded over several encoded-words), many have encoded display names; ~5% carry long
lines (one paragraph per line, up to ~990 characters); some are from mailing lists
(List-Id, List-Unsubscribe). Every Message-ID is unique (imaptest needs that).

The marker word (default "quokka") is in the body text of exactly count/100 messages and
only in the Subject of count/500 others, so with the defaults SEARCH BODY finds 50 messages
and SEARCH TEXT 60. It appears nowhere else (not even by chance inside base64).

Prints the number of messages, their total size and the marker counts.
"""
import argparse
import base64
import math
import os
import quopri
import random
import sys
import time
from email.header import Header

# --- vocabulary ------------------------------------------------------------------------------

FILLER = """
we you they it this that there here now then soon later today tomorrow yesterday again also
just still only even really quite rather almost already perhaps maybe probably certainly
and but or so because although while since unless until after before when if than though
have has had will would could should might must can may do does did make made take took
get got give gave send sent see saw look looked think thought know knew want need needed
keep kept try tried ask asked tell told call called find found leave left feel felt put
come came go went move moved bring brought start started finish finished check checked
about around over under between through during without within against across toward into
time week month year morning evening afternoon night day moment minute hour weekend
people team group everyone somebody nobody colleague friend manager client customer user
thing part place point case fact idea question answer problem issue reason result plan
good better best bad worse new old big small long short early late easy hard clear simple
first last next other same different important possible likely certain ready happy sorry
the the the the a a a an of of of to to to in in in for for on on with with at by as is
is is are are was were be been not not all some any each every more most many much few
""".split()

TOPICS = {
    "project": """release milestone roadmap backlog sprint estimate deadline scope design review
        prototype feedback requirements stakeholder deliverable timeline priority blocker
        dependency handover demo kickoff retrospective ticket branch merge rollout""".split(),
    "ops": """server cluster database replica failover backup restore outage incident alert
        latency throughput capacity disk memory kernel upgrade patch certificate firewall
        network switch router monitoring dashboard logs metrics deployment rollback""".split(),
    "finance": """invoice payment budget forecast quarter expense receipt reimbursement audit
        ledger account balance vendor contract purchase order approval signature tax
        revenue margin spreadsheet figures statement transfer""".split(),
    "travel": """flight hotel booking itinerary train airport luggage passport visa conference
        venue taxi reservation schedule delay gate boarding checkout lobby dinner
        restaurant agenda workshop keynote badge""".split(),
    "family": """garden kitchen birthday holiday picnic weather recipe bicycle school teacher
        homework piano neighbours cousin grandmother photos album beach mountains camping
        weekend party cake presents""".split(),
    "software": """compiler parser allocator borrow checker thread mutex channel async runtime
        crate module trait generic closure iterator benchmark profile regression fuzzing
        protocol mailbox parser encoding charset header literal""".split(),
}

FIRST_NAMES = """Amelia Bruno Chiara Dmitri Elena Farid Greta Hugo Ingrid Jonas Keiko Lars Maya
    Nikolai Odile Pavel Quinn Rosa Stefan Tamsin Umar Vera Wendell Ximena Yusuf Zara Anton
    Beatrix Casimir Delphine Emil Fiona Gideon Hanna Ivo Jasmin Kofi Leonie Marek Nadia""".split()
LAST_NAMES = """Abbott Bergström Castillo Dubois Eriksen Fischer Gallagher Horvath Iqbal Jansen
    Kowalski Lindqvist Moreau Novak Okafor Petrov Quintero Rasmussen Schneider Takahashi
    Ueda Varga Whitfield Xu Yilmaz Zimmermann Achebe Brennan Costa Dalton""".split()
# Names that need RFC 2047 in a From/To header.
INTL_NAMES = ["José Núñez", "Zoë Ångström", "Łukasz Wąsik", "Søren Kierkegård",
              "Ана Петрова", "田中 花子", "Björn Ölund", "François Lefèvre", "Çağla Öztürk",
              "Μαρία Παππά", "Renée Dufour", "Jürgen Weiß"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.edu", "corp.example",
           "lists.example.org", "shop.example", "agency.example.co.uk"]

INTL_SUBJECTS = [
    "Grüße aus Köln und ein paar Fragen",
    "Compte rendu de la réunion du jeudi",
    "Обновление расписания на следующую неделю",
    "来週の会議について",
    "Presupuesto revisado — versión final",
    "Ευχαριστώ για τη βοήθεια",
    "Zażółć gęślą jaźń: test polskich znaków",
    "Smörgåsbord på fredag?",
    "Café ☕ after the demo?",
    "Ünïcödé everywhere: naïve résumé façade",
    "Проверка связи 🙂",
    "Çok teşekkürler, dosyalar ektedir",
]
INTL_PHRASES = ["Viele Grüße", "À bientôt", "С уважением", "よろしくお願いします",
                "Saludos cordiales", "Με εκτίμηση", "Pozdrawiam serdecznie", "Hälsningar"]

MAILERS = [("X-Mailer", "Microsoft Outlook 16.0"), ("User-Agent", "Mozilla Thunderbird 115.6"),
           ("X-Mailer", "Apple Mail (2.3774)"), ("User-Agent", "Mutt/2.2.12 (2023-09-09)"),
           ("User-Agent", "Roundcube Webmail/1.6.5"), ("X-Mailer", "iPhone Mail (21C66)"),
           ("User-Agent", "K-9 Mail for Android"), ("User-Agent", "Evolution 3.50.2")]

LISTS = [("dev", "Developer discussion"), ("announce", "Release announcements"),
         ("users", "User questions and answers"), ("ops-alerts", "Operations alerts")]

# (content type, extension, magic bytes at the start of the fake file)
BINARY_KINDS = [
    ("application/pdf", "pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
    ("image/png", "png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    ("image/jpeg", "jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
    ("application/zip", "zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx",
     b"PK\x03\x04\x14\x00\x06\x00\x08\x00"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx",
     b"PK\x03\x04\x14\x00\x06\x00\x08\x00"),
    ("application/octet-stream", "bin", b""),
]
FILE_STEMS = ["report", "scan", "photo", "invoice", "minutes", "draft", "slides", "export",
              "diagram", "contract", "screenshot", "budget", "notes", "archive"]
INTL_FILE_STEMS = ["Übersicht", "réunion", "отчёт", "資料", "presupuesto"]

# Message structures and their shares of the mailbox (plain takes what is left).
KIND_SHARES = [("plain", 0.48), ("alternative", 0.20), ("related", 0.03),
               ("attachments", 0.24), ("large", 0.013), ("forward", 0.025), ("signed", 0.012)]

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
ZONES = [0, 60, 60, 120, -300, -300, -240, -420, 330, 540, 600, -180]

EPOCH = 1672531200  # 2023-01-01 00:00:00 UTC
SPAN = 2 * 365 * 86400


# --- helpers ---------------------------------------------------------------------------------

def rfc5322_date(ts, offset_minutes):
    t = time.gmtime(ts + offset_minutes * 60)
    sign = "+" if offset_minutes >= 0 else "-"
    off = abs(offset_minutes)
    return "%s, %d %s %d %02d:%02d:%02d %s%02d%02d" % (
        WEEKDAYS[t.tm_wday], t.tm_mday, MONTHS[t.tm_mon - 1], t.tm_year,
        t.tm_hour, t.tm_min, t.tm_sec, sign, off // 60, off % 60)


def mbox_date(ts):
    t = time.gmtime(ts)
    return "%s %s %2d %02d:%02d:%02d %d" % (WEEKDAYS[t.tm_wday], MONTHS[t.tm_mon - 1],
                                            t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_year)


def is_ascii(s):
    return all(ord(c) < 128 for c in s)


def encode_words(text, rng):
    """RFC 2047 encoded-words for a UTF-8 phrase: B or Q, folded when long."""
    if is_ascii(text):
        return text
    h = Header(text, "utf-8", maxlinelen=76, header_name="Subject")
    encoded = h.encode(linesep="\n")
    if rng.random() < 0.4:
        # Q encoding instead of B (Header picks B for UTF-8); built by hand, one word per
        # ~40 input bytes so long subjects fold over several encoded-words.
        words, chunk = [], ""
        for ch in text:
            if len((chunk + ch).encode()) > 40:
                words.append(chunk)
                chunk = ""
            chunk += ch
        if chunk:
            words.append(chunk)
        out = []
        for w in words:
            q = "".join(c if (c.isascii() and c.isalnum()) else
                        ("_" if c == " " else "".join("=%02X" % b for b in c.encode()))
                        for c in w)
            out.append("=?UTF-8?Q?" + q + "?=")
        encoded = "\n ".join(out)
    return encoded


class Person:
    __slots__ = ("name", "addr")

    def __init__(self, name, addr):
        self.name, self.addr = name, addr

    def header(self, rng):
        if not self.name:
            return self.addr
        if is_ascii(self.name):
            return f'"{self.name}" <{self.addr}>' if rng.random() < 0.3 else f"{self.name} <{self.addr}>"
        return f"{encode_words(self.name, rng)} <{self.addr}>"


def ascii_slug(name):
    table = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "å": "aa", "ø": "oe", "é": "e",
             "è": "e", "ë": "e", "ç": "c", "ğ": "g", "ł": "l", "ą": "a", "ú": "u", "ñ": "n"}
    out = []
    for c in name.lower():
        c = table.get(c, c)
        out.append(c if (c.isascii() and (c.isalnum() or c == " ")) else "")
    slug = ".".join("".join(out).split())
    return slug or "user"


# --- the generator ---------------------------------------------------------------------------

class Corpus:
    def __init__(self, count, seed, marker):
        self.count = count
        self.rng = random.Random(seed)
        self.seed = seed
        self.marker = marker
        rng = self.rng
        self.people = []
        for i in range(140):
            if i % 10 == 7:
                name = INTL_NAMES[(i // 10) % len(INTL_NAMES)]
                local = ascii_slug(name) if ascii_slug(name) != "user" else f"user{i}"
            else:
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                local = ascii_slug(name)
            if rng.random() < 0.05:
                name = ""  # a bare address
            self.people.append(Person(name, f"{local}{i % 7 or ''}@{rng.choice(DOMAINS)}"))
        self.owner = Person("Bench User", "user@example.test")
        # Each message's structure is dealt from a shuffled deck with exact shares, so the
        # mix (and with it the total size) does not drift with the seed.
        deck = []
        for kind, share in KIND_SHARES[1:]:
            deck += [kind] * round(share * count)
        deck += [KIND_SHARES[0][0]] * (count - len(deck))
        rng.shuffle(deck)
        self.kinds = deck
        # The marker goes to shuffled positions, too.
        positions = list(range(count))
        rng.shuffle(positions)
        n_body, n_subject = count // 100, count // 500
        self.body_marked = set(positions[:n_body])
        self.subject_marked = set(positions[n_body:n_body + n_subject])
        self.threads = []  # recent messages that can be replied to or forwarded
        self.uniq = rng.getrandbits(32)

    # -- text --

    def sentence(self, topic):
        rng = self.rng
        n = rng.randint(5, 17)
        words = [rng.choice(TOPICS[topic]) if rng.random() < 0.22 else rng.choice(FILLER)
                 for _ in range(n)]
        words[0] = words[0].capitalize()
        if words[0] == "From":
            words[0] = "Apart from"  # no line may start with "From "
        end = rng.choice([".", ".", ".", ".", "?", "!", "..."])
        return " ".join(words) + end

    def paragraphs(self, topic, target_bytes):
        rng, out, size = self.rng, [], 0
        while size < target_bytes:
            para = " ".join(self.sentence(topic) for _ in range(rng.randint(1, 6)))
            out.append(para)
            size += len(para) + 2
        return out

    @staticmethod
    def wrap(paragraphs, width=72, long_lines=False):
        lines = []
        for para in paragraphs:
            if long_lines:
                # One paragraph per line (what many webmail clients send), capped below the
                # 998-octet line limit of RFC 5322.
                while len(para) > 990:
                    cut = para.rfind(" ", 0, 990)
                    lines.append(para[:cut])
                    para = para[cut + 1:]
                lines.append(para)
            else:
                cur = ""
                for w in para.split(" "):
                    if cur and len(cur) + 1 + len(w) > width:
                        lines.append(cur)
                        cur = w
                    else:
                        cur = f"{cur} {w}" if cur else w
                if cur:
                    lines.append(cur)
            lines.append("")
        return lines[:-1] if lines else lines

    def body_text(self, topic, sender, parent, intl, marked, long_lines):
        """Plain text of a message: greeting, paragraphs, marker, quote, signature.
        Returns (text, quotable) where quotable is the part a reply may quote (without the
        marker)."""
        rng = self.rng
        size = int(min(60_000, max(150, 1100 * math.exp(rng.gauss(0, 0.95)))))
        paras = self.paragraphs(topic, size)
        greeting = rng.choice(["Hi all,", "Hello,", "Hi,", "Dear team,", "Morning,", ""])
        lines = ([greeting, ""] if greeting else []) + self.wrap(paras, long_lines=long_lines)
        quotable = list(lines[:20])
        if intl:
            lines += ["", rng.choice(INTL_PHRASES)]
        if marked:
            where = rng.randrange(len(lines) + 1)
            lines[where:where] = [rng.choice([
                f"PS: the {self.marker} pictures from the zoo are in the shared folder.",
                f"Did anybody else spot the {self.marker} on the slide about capacity?",
                f"Codename for the next phase: {self.marker}.",
                f"({self.marker} sightings so far: {rng.randint(2, 40)})",
            ])]
        if parent is not None:
            lines += ["", f"On {parent['date']}, {parent['who']} wrote:"]
            lines += [("> " + l) if l else ">" for l in parent["quotable"][:rng.randint(3, 20)]]
        signame = sender.name or sender.addr.split("@")[0]
        if rng.random() < 0.6:
            lines += ["", "-- ", signame]
            if rng.random() < 0.5:
                lines.append(f"{rng.choice(TOPICS[topic]).capitalize()} desk, "
                             f"+{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}")
        else:
            lines += ["", rng.choice(["Thanks,", "Best,", "Cheers,", "Regards,"]), signame]
        return "\n".join(lines) + "\n", quotable

    # -- MIME pieces (each returns a list of lines, headers included) --

    def text_part(self, text, subtype="plain", force=None):
        rng = self.rng
        data = text.encode("utf-8")
        if force is None:
            longest = max(len(line) for line in data.split(b"\n"))
            if is_ascii(text):
                force = "7bit" if longest <= 998 else "quoted-printable"
            elif longest <= 998:
                force = rng.choice(["quoted-printable", "quoted-printable", "8bit", "base64"])
            else:
                force = rng.choice(["quoted-printable", "base64"])
        charset = "us-ascii" if is_ascii(text) else "utf-8"
        if subtype == "html" or rng.random() < 0.5:
            charset = "utf-8"
        head = [f'Content-Type: text/{subtype}; charset="{charset}"'
                if rng.random() < 0.5 else f"Content-Type: text/{subtype}; charset={charset}"]
        if subtype == "plain" and rng.random() < 0.15:
            head[0] += "; format=flowed"
        head.append(f"Content-Transfer-Encoding: {force}")
        if force == "quoted-printable":
            body = quopri.encodestring(data).decode("ascii")
        elif force == "base64":
            body = base64.encodebytes(data).decode("ascii")
        else:
            body = text
        return head + [""] + body.rstrip("\n").split("\n")

    def html_of(self, text):
        out = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\"></head>",
               "<body style=\"font-family: sans-serif\">"]
        for para in text.split("\n\n"):
            if not para.strip():
                continue
            safe = para.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            if safe.startswith("&gt;"):
                out.append("<blockquote>" + safe.replace("\n", "<br>\n") + "</blockquote>")
            else:
                out.append("<p>" + safe.replace("\n", " ") + "</p>")
        out.append("</body></html>")
        return "\n".join(out) + "\n"

    def fake_file(self, size, magic):
        data = magic + self.rng.randbytes(max(0, size - len(magic)))
        return data[:size] if size >= len(magic) else data

    def filename(self, stem_pool, i, ext):
        rng = self.rng
        stem = rng.choice(stem_pool)
        return f"{stem}-{i}.{ext}" if rng.random() < 0.5 else f"{stem}_{rng.randint(1, 999):03d}.{ext}"

    def attachment(self, size, index):
        rng = self.rng
        roll = rng.random()
        if roll < 0.1:
            # A CSV or calendar file: text, not base64.
            if rng.random() < 0.5:
                rows = ["date,item,amount,status"]
                have = len(rows[0])
                while have < size:
                    rows.append(f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},"
                                f"{rng.choice(TOPICS['finance'])},{rng.randint(1, 99999) / 100:.2f},"
                                f"{rng.choice(['open', 'paid', 'late'])}")
                    have += len(rows[-1]) + 1
                name = self.filename(FILE_STEMS, index, "csv")
                head = [f'Content-Type: text/csv; charset=us-ascii; name="{name}"',
                        "Content-Transfer-Encoding: 7bit",
                        f'Content-Disposition: attachment; filename="{name}"']
                return head + [""] + rows
            start = EPOCH + rng.randrange(SPAN)
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(start))
            ics = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Bench//Generator//EN",
                   "METHOD:REQUEST", "BEGIN:VEVENT",
                   f"UID:{rng.getrandbits(64):016x}@bench.example", f"DTSTAMP:{stamp}",
                   f"DTSTART:{stamp}", f"SUMMARY:{self.sentence('project')[:60]}",
                   "END:VEVENT", "END:VCALENDAR"]
            return ['Content-Type: text/calendar; charset="utf-8"; method=REQUEST',
                    "Content-Transfer-Encoding: 7bit"] + [""] + ics
        ctype, ext, magic = rng.choice(BINARY_KINDS)
        if rng.random() < 0.08:
            stem = rng.choice(INTL_FILE_STEMS)
            name = f"{stem}-{index}.{ext}"
            enc = "".join(c if (c.isascii() and c.isalnum()) or c in ".-_" else
                          "".join("%%%02X" % b for b in c.encode()) for c in name)
            disp = f"Content-Disposition: attachment;\n filename*=utf-8''{enc}"
            ctl = f"Content-Type: {ctype};\n name*=utf-8''{enc}"
        else:
            name = self.filename(FILE_STEMS, index, ext)
            disp = f'Content-Disposition: attachment; filename="{name}"'
            if rng.random() < 0.3:
                disp += f"; size={size}"
            ctl = f'Content-Type: {ctype}; name="{name}"'
        data = self.fake_file(size, magic)
        body = base64.encodebytes(data).decode("ascii").rstrip("\n").split("\n")
        return [ctl, "Content-Transfer-Encoding: base64", disp] + [""] + body

    def inline_image(self, cid):
        size = int(min(120_000, max(800, 9000 * math.exp(self.rng.gauss(0, 0.8)))))
        data = self.fake_file(size, BINARY_KINDS[1][2])
        body = base64.encodebytes(data).decode("ascii").rstrip("\n").split("\n")
        return ["Content-Type: image/png", "Content-Transfer-Encoding: base64",
                f"Content-ID: <{cid}>", 'Content-Disposition: inline; filename="logo.png"',
                ""] + body

    def boundary(self, n):
        return f"=_bench_{self.rng.getrandbits(48):012x}_{n}"

    @staticmethod
    def multipart(subtype, boundary, parts, params="", preamble=True):
        out = [f'Content-Type: multipart/{subtype};{params}\n boundary="{boundary}"', ""]
        if preamble:
            out.append("This is a multi-part message in MIME format.")
            out.append("")
        for p in parts:
            out.append(f"--{boundary}")
            out.extend(p)
        out.append(f"--{boundary}--")
        return out

    def attachment_size(self, large=False):
        rng = self.rng
        if large:
            return rng.randint(300_000, 1_200_000)
        return int(min(600_000, max(1_000, 19_000 * math.exp(rng.gauss(0, 1.15)))))

    # -- whole messages --

    def message(self, i, ts):
        """The lines of message i (header + body) and facts about it."""
        rng = self.rng
        kind = self.kinds[i]
        forward = parent = None
        if kind == "forward":
            candidates = [t for t in self.threads[-300:] if t["raw_small"] is not None]
            forward = rng.choice(candidates) if candidates else None
            if forward is None:
                kind = "plain"  # nothing to forward yet
        elif self.threads and rng.random() < 0.33:
            parent = rng.choice(self.threads[-150:])
        sender = rng.choice(self.people)
        incoming = rng.random() < 0.8
        if not incoming:
            sender = self.owner
        mlist = LISTS[rng.randrange(len(LISTS))] if (incoming and rng.random() < 0.12) else None
        if parent is not None:
            topic, intl = parent["topic"], parent["intl"]
            subject = parent["subject"]
            if not subject.lower().startswith(("re:", "aw:", "sv:")):
                subject = rng.choice(["Re: "] * 8 + ["RE: ", "AW: "]) + subject
            if mlist is None:
                mlist = parent["list"]
        elif forward is not None:
            topic, intl = forward["topic"], forward["intl"]
            subject = "Fwd: " + forward["subject"]
        else:
            topic = rng.choice(sorted(TOPICS))
            intl = rng.random() < 0.12
            if intl:
                subject = rng.choice(INTL_SUBJECTS)
                if rng.random() < 0.5:
                    subject += f" ({rng.randint(2, 300)})"
            else:
                words = self.sentence(topic).rstrip(".?!").split(" ")
                subject = " ".join(words[:rng.randint(2, 9)])
                if rng.random() < 0.1:
                    subject = rng.choice(["[URGENT] ", "Fwd: ", "Question: ", "FYI: ",
                                          "Reminder: "]) + subject
        if i in self.subject_marked:
            subject = f"{subject} - {self.marker} edition"
        if mlist and not subject.startswith(f"[{mlist[0]}]") and rng.random() < 0.7:
            subject = f"[{mlist[0]}] {subject}"

        domain = sender.addr.split("@")[1]
        msgid = f"<{ts:x}.{i:05d}.{self.uniq:08x}.{self.seed}@{domain}>"
        zone = rng.choice(ZONES)
        date = rfc5322_date(ts, zone)
        if incoming:
            to = [self.owner] + ([rng.choice(self.people) for _ in range(rng.choice([0, 0, 0, 1, 2]))])
        else:
            to = [rng.choice(self.people) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        cc = [rng.choice(self.people) for _ in range(rng.randint(1, 4))] if rng.random() < 0.22 else []

        long_lines = rng.random() < 0.05
        marked = i in self.body_marked
        text, quotable = self.body_text(topic, sender, parent, intl, marked, long_lines)

        if kind == "plain":
            body = self.text_part(text)
        elif kind == "alternative":
            body = self.multipart("alternative", self.boundary(1),
                                  [self.text_part(text), self.text_part(self.html_of(text), "html")])
        elif kind == "related":
            cid = f"img{i}.{rng.getrandbits(32):08x}@bench"
            html = self.html_of(text).replace(
                "<body style=\"font-family: sans-serif\">",
                f"<body style=\"font-family: sans-serif\">\n<img src=\"cid:{cid}\" alt=\"logo\">")
            related = self.multipart("related", self.boundary(2),
                                     [self.text_part(html, "html"), self.inline_image(cid)],
                                     params=' type="text/html";', preamble=False)
            body = self.multipart("alternative", self.boundary(1), [self.text_part(text), related])
        elif kind == "attachments":
            n = rng.choice([1, 1, 1, 1, 2, 2, 3, 4])
            parts = [self.text_part(text)]
            if rng.random() < 0.25:
                parts = [self.multipart("alternative", self.boundary(3),
                                        [self.text_part(text),
                                         self.text_part(self.html_of(text), "html")],
                                        preamble=False)]
            parts += [self.attachment(self.attachment_size(), k + 1) for k in range(n)]
            body = self.multipart("mixed", self.boundary(1), parts)
        elif kind == "large":
            parts = [self.text_part(text), self.attachment(self.attachment_size(True), 1)]
            body = self.multipart("mixed", self.boundary(1), parts)
        elif kind == "forward":
            inner = ["Content-Type: message/rfc822",
                     'Content-Disposition: inline; filename="forwarded.eml"', ""] + forward["raw_small"]
            body = self.multipart("mixed", self.boundary(1), [self.text_part(text), inner])
        else:  # signed
            sig = base64.encodebytes(self.fake_file(566, b"\x89\x02\x33\x04\x00\x01\x0a")).decode()
            sig_part = ['Content-Type: application/pgp-signature; name="signature.asc"',
                        'Content-Description: OpenPGP digital signature', "",
                        "-----BEGIN PGP SIGNATURE-----", ""] + sig.rstrip("\n").split("\n") + \
                       ["-----END PGP SIGNATURE-----"]
            body = self.multipart("signed", self.boundary(1),
                                  [self.text_part(text, force="quoted-printable"), sig_part],
                                  params=' micalg=pgp-sha256;\n protocol="application/pgp-signature";',
                                  preamble=False)

        head = []
        hops = rng.randint(1, 3) if incoming else 0
        for h in range(hops):
            hop_ts = ts + 5 * (hops - h)
            head.append(f"Received: from mx{h + 1}.{domain} (mx{h + 1}.{domain} "
                        f"[192.0.2.{rng.randint(1, 254)}])\n\tby mail.example.test with ESMTPS id "
                        f"{rng.getrandbits(40):010X}\n\tfor <user@example.test>; "
                        f"{rfc5322_date(hop_ts, 0)}")
        head.insert(0, f"Return-Path: <{sender.addr}>")
        head.append(f"From: {sender.header(rng)}")
        head.append("To: " + ",\n    ".join(p.header(rng) for p in to))
        if cc:
            head.append("Cc: " + ",\n    ".join(p.header(rng) for p in cc))
        if rng.random() < 0.05:
            head.append(f"Reply-To: {rng.choice(self.people).header(rng)}")
        head.append(f"Subject: {encode_words(subject, rng)}")
        head.append(f"Date: {date}" + (" (UTC)" if zone == 0 and rng.random() < 0.5 else ""))
        head.append(f"Message-ID: {msgid}")
        if parent is not None:
            refs = (parent["refs"] + [parent["msgid"]])[-12:]
            head.append(f"In-Reply-To: {parent['msgid']}")
            head.append("References: " + "\n ".join(refs))
        else:
            refs = []
        if mlist:
            head.append(f"List-Id: {mlist[1]} <{mlist[0]}.lists.example.org>")
            head.append(f"List-Unsubscribe: <mailto:{mlist[0]}-leave@lists.example.org>")
            head.append("Precedence: list")
        if rng.random() < 0.7:
            head.append("%s: %s" % rng.choice(MAILERS))
        if rng.random() < 0.2:
            head.append(rng.choice(["Content-Language: en-US", "Content-Language: de-DE",
                                    "Importance: High", "X-Priority: 3", "Thread-Topic: " +
                                    (subject if is_ascii(subject) else "update")]))
        head.append("MIME-Version: 1.0")
        lines = head + body

        facts = {"msgid": msgid, "subject": subject, "refs": refs, "topic": topic, "intl": intl,
                 "list": mlist, "date": date, "quotable": quotable, "kind": kind,
                 "who": sender.name or sender.addr, "raw_small": None}
        return lines, facts

    def generate(self):
        """Yields (mbox envelope sender, timestamp, message bytes, kind) in order."""
        step = SPAN / max(1, self.count)
        marker = self.marker.lower().encode()
        for i in range(self.count):
            ts = int(EPOCH + i * step + self.rng.randint(0, int(step)))
            while True:
                lines, facts = self.message(i, ts)
                raw = ("\n".join(lines) + "\n").encode("utf-8")
                split = raw.find(b"\n\n")
                low = raw.lower()
                # The marker must appear exactly where it was put: nowhere for unmarked
                # messages, not in the body of subject-marked ones. A chance hit (inside
                # base64, say) makes the message be drawn again.
                if i in self.body_marked:
                    break
                if i in self.subject_marked:
                    if marker not in low[split:]:
                        break
                elif marker not in low:
                    break
            if i not in self.body_marked and i not in self.subject_marked:
                # Unmarked messages may be replied to; small ones may be forwarded.
                if len(raw) < 20_000:
                    facts["raw_small"] = raw.decode("utf-8").rstrip("\n").split("\n")
                self.threads.append(facts)
                if len(self.threads) > 400:
                    del self.threads[:100]
            addr = lines[0][len("Return-Path: <"):-1]
            yield addr, ts, raw, facts["kind"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--marker", default="quokka", help="the rare word for SEARCH BODY")
    a = ap.parse_args()
    if not a.marker.isalpha() or any(a.marker.lower() in w.lower() for w in FILLER):
        raise SystemExit("--marker must be a word of letters that is not in the vocabulary")
    corpus = Corpus(a.count, a.seed, a.marker)
    tmp = a.out + ".partial"
    total = crlf_total = 0
    kinds = {}
    escaped = 0
    with open(tmp, "wb") as f:
        for sender, ts, raw, kind in corpus.generate():
            total += len(raw)
            crlf_total += len(raw) + raw.count(b"\n")
            kinds[kind] = kinds.get(kind, 0) + 1
            f.write(f"From {sender} {mbox_date(ts)}\n".encode())
            if b"\nFrom " in raw or b"\n>From " in raw:
                # mboxrd quoting; the generator avoids such lines, this is a safety net.
                out = []
                for line in raw.split(b"\n"):
                    if line.lstrip(b">").startswith(b"From "):
                        line = b">" + line
                        escaped += 1
                    out.append(line)
                raw = b"\n".join(out)
            f.write(raw)
            f.write(b"\n")
    os.replace(tmp, a.out)
    mix = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
    print(f"wrote {a.count} messages to {a.out}: {total / 1e6:.1f} MB "
          f"({crlf_total / 1e6:.1f} MB with CRLF line ends, as delivered); {mix}")
    print(f"marker '{a.marker}': in the body of {len(corpus.body_marked)} messages, "
          f"in the subject only of {len(corpus.subject_marked)} more "
          f"(SEARCH BODY {len(corpus.body_marked)}, SEARCH TEXT "
          f"{len(corpus.body_marked) + len(corpus.subject_marked)})")
    if escaped:
        print(f"note: {escaped} body line(s) needed '>From ' quoting", file=sys.stderr)


if __name__ == "__main__":
    main()
