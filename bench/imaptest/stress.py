#!/usr/bin/env python3
"""One imaptest stress run (random commands from many sessions, with state tracking) and a summary:
sessions/s (LOGIN count / secs), commands/s (all commands imaptest counted / secs) and the errors
imaptest reported, grouped by kind (user names, client ids and numbers folded away).

usage: stress.py --imaptest BIN --host H --port P --user 'user%d' --users 1-10 --pass PW --mbox MBOX
                 [--clients 10] [--secs 30] [--seed 123] [--label NAME] [--json OUT] [--log FILE]
                 [--set key=value ...]
The mbox needs unique Message-IDs (imaptest tracks messages by them).
"""
import argparse
import collections
import json
import re
import subprocess
import sys
import time

ERR_RE = re.compile(r"^(Error|Panic|Fatal|Warning): (.*)$")


def error_kind(msg):
    # "user3@example.test[12]: 5.17 FETCH: Message count dropped 3 -> 1: * 4 FETCH (...)"
    msg = re.sub(r"^\S+\[\d+\]: ", "", msg)
    msg = re.sub(r"^Checkpoint: client \d+: ", "Checkpoint: ", msg)
    # keep the reason, drop the server reply imaptest echoes after it ("...: * 5 FETCH (...)")
    msg = re.split(r": (?:\* |\d+\.\d+ )", msg, maxsplit=1)[0][:160]
    msg = re.sub(r"\d+", "N", msg)
    return msg


def parse_totals(out):
    """The last 'Totals:' block: header names and their counts."""
    lines = out.splitlines()
    idx = [i for i, l in enumerate(lines) if l.strip() == "Totals:"]
    if not idx:
        return {}
    i = idx[-1] + 1
    names = lines[i].split()
    # two percentage lines follow (second may be blank-ish), then the counts
    for j in range(i + 1, min(i + 6, len(lines))):
        parts = lines[j].split()
        if len(parts) == len(names) and all(p.isdigit() for p in parts):
            return dict(zip(names, map(int, parts)))
    return {}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--imaptest", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True, help="template, e.g. user%%d or user%%d@example.test")
    ap.add_argument("--users", default="1-10", help="range for the template (default 1-10)")
    ap.add_argument("--pass", dest="password", default="pass")
    ap.add_argument("--mbox", required=True)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--secs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=123)
    ap.add_argument("--label")
    ap.add_argument("--json")
    ap.add_argument("--log", help="write imaptest's full output here")
    ap.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE")
    a = ap.parse_args()

    cmd = [a.imaptest, f"host={a.host}", f"port={a.port}", f"user={a.user}", f"users={a.users}",
           f"pass={a.password}", f"mbox={a.mbox}", f"clients={a.clients}", f"secs={a.secs}",
           f"seed={a.seed}"] + a.set
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           timeout=a.secs + 120)
        out, err, rc = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        err = (e.stderr or b"").decode("utf-8", "replace")
        rc = None
    wall = time.monotonic() - t0
    if a.log:
        with open(a.log, "w") as f:
            f.write("$ " + " ".join(cmd) + "\n" + out + "\n--- stderr\n" + err)

    totals = parse_totals(out)
    kinds = collections.Counter()
    examples = {}
    nerr = 0
    for line in (err + "\n" + out).splitlines():
        m = ERR_RE.match(line.strip())
        if not m:
            continue
        nerr += 1
        k = f"{m.group(1)}: {error_kind(m.group(2))}"
        kinds[k] += 1
        examples.setdefault(k, line.strip()[:400])
    secs = a.secs
    sessions = totals.get("Logi", 0)
    commands = sum(totals.values())
    res = {
        "label": a.label or f"{a.host}:{a.port}", "clients": a.clients, "secs": secs,
        "wall_secs": round(wall, 1), "rc": rc, "totals": totals,
        "sessions": sessions, "commands": commands,
        "sessions_per_sec": round(sessions / secs, 1) if secs else None,
        "commands_per_sec": round(commands / secs, 1) if secs else None,
        "errors": nerr,
        "error_kinds": [{"count": c, "kind": k, "example": examples[k]} for k, c in kinds.most_common()],
    }
    if not totals:
        res["note"] = "no Totals block in imaptest output (crashed, timed out or could not connect)"
    print(f"{res['label']}: clients={a.clients} secs={secs}: {res['sessions_per_sec']} sessions/s, "
          f"{res['commands_per_sec']} commands/s, {nerr} errors" + (f" ({res['note']})" if "note" in res else ""))
    for e in res["error_kinds"][:15]:
        print(f"  {e['count']:6d}  {e['kind']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


def table(files):
    rows = []
    for path in files:
        with open(path) as f:
            rows.append(json.load(f))
    print("| server | clients | secs | sessions/s | commands/s | errors | most frequent error |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        top = r["error_kinds"][0]["kind"] if r["error_kinds"] else ""
        print(f"| {r['label']} | {r['clients']} | {r['secs']} | {r['sessions_per_sec']} | "
              f"{r['commands_per_sec']} | {r['errors']} | {top[:90]} |")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--table":
        table(sys.argv[2:])
        sys.exit(0)
    sys.exit(main())
