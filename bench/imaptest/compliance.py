#!/usr/bin/env python3
"""Run imaptest's scripted compliance tests one group at a time and give a verdict per group.

A group is one file in imaptest's src/tests (imaptest commit 924f619, github dovecot/imaptest),
run with its own GROUP.mbox or with default.mbox, alone in a temporary directory, so that
imaptest's summary speaks for that group only.

Verdicts:
  pass  imaptest ran the group's commands and none failed
  fail  imaptest reported the group failed (a command's reply, untagged replies, set-up), or
        it crashed or timed out
  skip  the group ran no command: imaptest logs in, sees that a capability in the group's
        "capabilities:" header is missing (or user2 is needed and not given) and logs out.
        imaptest's own "N skipped due to missing capabilities" count is not reliable (in 924f619
        a skipped group is never counted), so a group counts as skipped when it did not fail
        and both summary counters ran zero commands ("base protocol: 0/0", "extensions: 0/0").
        The runner logs in itself to list the capabilities the server lacks.

usage:
  compliance.py --imaptest BIN --tests SRC/src/tests --host H --port P --user U --user2 U2 --pass PW
                [--only GROUP ...] [--skip GROUP ...] [--json OUT] [--log FILE] [--label NAME]
                [--timeout SECS] [--set key=value ...]
  compliance.py --table A.json B.json [...]       side by side, one column per result file
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SUMMARY_RE = re.compile(r"^(\d+) test groups: (\d+) failed, (\d+) skipped", re.M)
BASE_RE = re.compile(r"^base protocol: (\d+)/(\d+) individual commands failed", re.M)
EXT_RE = re.compile(r"^extensions: (\d+)/(\d+) individual commands failed", re.M)


def list_groups(tests_dir):
    groups = []
    for name in sorted(os.listdir(tests_dir)):
        path = os.path.join(tests_dir, name)
        if name.endswith(".mbox") or name.startswith(".") or not os.path.isfile(path):
            continue
        groups.append(name)
    return groups


def group_header(path):
    """The group's header keys (capabilities, connections, messages, state, ...)."""
    head = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                break
            if line.startswith("#"):
                continue
            m = re.match(r"^([a-z_0-9]+):\s*(.*)$", line)
            if not m:
                break
            head[m.group(1)] = m.group(2).strip()
    return head


def group_needs(tests_dir, group):
    head = group_header(os.path.join(tests_dir, group))
    caps = head.get("capabilities", "").split()
    with open(os.path.join(tests_dir, group), encoding="utf-8", errors="replace") as f:
        needs_user2 = bool(re.search(r"\$\{?user2\}?", f.read()))
    return caps, needs_user2


def server_capabilities(host, port, user, password, timeout=10):
    """CAPABILITY after LOGIN (what imaptest compares a group's header with), upper-cased."""
    def q(s):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            f = s.makefile("rwb", buffering=0)
            greeting = f.readline()
            if not greeting:
                return None
            f.write(f"a LOGIN {q(user)} {q(password)}\r\nb CAPABILITY\r\nc LOGOUT\r\n".encode())
            caps = None
            while True:
                line = f.readline()
                if not line:
                    break
                text = line.decode("utf-8", "replace").rstrip("\r\n")
                m = re.match(r"^\* CAPABILITY (.*)$", text, re.I)
                if m:
                    caps = m.group(1).upper().split()
                m = re.match(r"^a (OK|NO|BAD)(?: \[CAPABILITY ([^\]]*)\])?", text, re.I)
                if m and m.group(1).upper() != "OK":
                    return None
                if text.lower().startswith("c "):
                    break
            return caps
    except OSError:
        return None


def run_group(a, group, caps):
    src = os.path.join(a.tests, group)
    mbox = os.path.join(a.tests, group + ".mbox")
    if not os.path.exists(mbox):
        mbox = os.path.join(a.tests, "default.mbox")
    tmp = tempfile.mkdtemp(prefix=f"imaptest-{group}-")
    try:
        shutil.copy(src, os.path.join(tmp, group))
        # imaptest takes GROUP.mbox when it exists, else default.mbox in the same directory
        shutil.copy(mbox, os.path.join(tmp, os.path.basename(mbox)))
        cmd = [a.imaptest, f"host={a.host}", f"port={a.port}", f"user={a.user}",
               f"pass={a.password}", f"test={tmp}"]
        if a.user2:
            cmd.append(f"user2={a.user2}")
        cmd += a.set
        t0 = time.monotonic()
        timed_out = False
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=a.timeout, stdin=subprocess.DEVNULL)
            out, err, rc = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), p.returncode
        except subprocess.TimeoutExpired as e:
            timed_out = True
            out = (e.stdout or b"").decode("utf-8", "replace")
            err = (e.stderr or b"").decode("utf-8", "replace")
            rc = None
        secs = time.monotonic() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    res = {"secs": round(secs, 2), "rc": rc}
    summ, base, ext = SUMMARY_RE.search(out), BASE_RE.search(out), EXT_RE.search(out)
    if base:
        res["base"] = [int(base.group(1)), int(base.group(2))]
    if ext:
        res["ext"] = [int(ext.group(1)), int(ext.group(2))]
    ran = (res.get("base", [0, 0])[1] + res.get("ext", [0, 0])[1])
    failed_cmds = (res.get("base", [0, 0])[0] + res.get("ext", [0, 0])[0])
    if timed_out:
        res["status"], res["why"] = "fail", f"timed out after {a.timeout}s"
    elif not summ:
        res["status"], res["why"] = "fail", f"no summary from imaptest (exit {rc})"
    elif int(summ.group(2)) > 0 or failed_cmds > 0 or "***" in err:
        res["status"] = "fail"
        res["why"] = f"{failed_cmds}/{ran} commands failed" if ran else "failed before its first command"
    elif ran == 0:
        res["status"] = "skip"
        need, need_user2 = group_needs(a.tests, group)
        missing = [c for c in need if caps is not None and c.upper() not in caps]
        if need_user2 and not a.user2:
            missing.append("user2")
        res["missing"] = missing if caps is not None else need
        res["why"] = "needs " + (" ".join(res["missing"]) or " ".join(need) or "?")
    else:
        res["status"], res["why"] = "pass", f"{ran} commands"
    if res["status"] == "fail":
        res["output"] = shorten((err + ("\n" if err and out else "") + out).strip())
    return res


def shorten(text, width=2000):
    """Very long lines (a 30 KB ID command echoed back) cut to `width` characters."""
    lines = []
    for line in text.splitlines():
        if len(line) > width:
            line = line[:width] + f"... [{len(line) - width} more characters]"
        lines.append(line)
    return "\n".join(lines)


def cmd_run(a):
    groups = list_groups(a.tests)
    if a.only:
        unknown = [g for g in a.only if g not in groups]
        if unknown:
            sys.exit(f"compliance.py: no such group(s): {' '.join(unknown)}")
        groups = [g for g in groups if g in a.only]
    groups = [g for g in groups if g not in a.skip]
    caps = server_capabilities(a.host, a.port, a.user, a.password)
    if caps is None:
        print(f"compliance.py: warning: could not log in as {a.user} to read CAPABILITY", file=sys.stderr)
    result = {"label": a.label or f"{a.host}:{a.port}", "server": f"{a.host}:{a.port}",
              "user": a.user, "capabilities": caps, "groups": {}}
    log = open(a.log, "w") if a.log else None
    counts = {"pass": 0, "fail": 0, "skip": 0}
    width = max(len(g) for g in groups) if groups else 10
    for g in groups:
        r = run_group(a, g, caps)
        counts[r["status"]] += 1
        print(f"{r['status']:<5} {g:<{width}}  {r['why']}", flush=True)
        if r["status"] == "fail" and log:
            log.write(f"===== {g}: {r['why']}\n{r['output']}\n\n")
            log.flush()
        if not a.keep_output:
            r.pop("output", None)
        result["groups"][g] = r
    result["totals"] = counts
    print(f"{len(groups)} groups: {counts['pass']} pass, {counts['fail']} fail, {counts['skip']} skip")
    if log:
        log.close()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0 if counts["fail"] == 0 else 1


def cmd_table(files):
    results = []
    for path in files:
        with open(path) as f:
            results.append(json.load(f))
    names = []
    for r in results:
        for g in r["groups"]:
            if g not in names:
                names.append(g)
    names.sort()
    labels = [r.get("label") or os.path.basename(p) for r, p in zip(results, files)]

    def cell(r, g):
        x = r["groups"].get(g)
        if x is None:
            return "-"
        if x["status"] == "fail" and "base" in x:
            f = x["base"][0] + x.get("ext", [0, 0])[0]
            t = x["base"][1] + x.get("ext", [0, 0])[1]
            return f"FAIL {f}/{t}" if t else "FAIL"
        if x["status"] == "fail":
            return "FAIL"
        if x["status"] == "skip":
            return "skip (" + " ".join(x.get("missing") or []) + ")" if x.get("missing") else "skip"
        return "pass"

    cols = [[cell(r, g) for g in names] for r in results]
    tot = []
    for r in results:
        c = {"pass": 0, "fail": 0, "skip": 0}
        for x in r["groups"].values():
            c[x["status"]] += 1
        tot.append(f"{c['pass']} pass / {c['fail']} fail / {c['skip']} skip")
    w0 = max([len("group")] + [len(n) for n in names])
    ws = [max([len(l), len(t)] + [len(c) for c in col]) for l, t, col in zip(labels, tot, cols)]
    print("| " + "group".ljust(w0) + " | " + " | ".join(l.ljust(w) for l, w in zip(labels, ws)) + " |")
    print("|" + "-" * (w0 + 2) + "|" + "|".join("-" * (w + 2) for w in ws) + "|")
    for i, n in enumerate(names):
        print("| " + n.ljust(w0) + " | " + " | ".join(col[i].ljust(w) for col, w in zip(cols, ws)) + " |")
    print("| " + "total".ljust(w0) + " | " + " | ".join(t.ljust(w) for t, w in zip(tot, ws)) + " |")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--table", nargs="+", metavar="RESULT.json", help="print result files side by side")
    ap.add_argument("--imaptest", help="the imaptest binary")
    ap.add_argument("--tests", help="imaptest's src/tests directory")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=143)
    ap.add_argument("--user")
    ap.add_argument("--user2")
    ap.add_argument("--pass", dest="password", default="pass")
    ap.add_argument("--only", nargs="+", default=[], metavar="GROUP")
    ap.add_argument("--skip", nargs="+", default=[], metavar="GROUP")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--log", help="write the imaptest output of failed groups here")
    ap.add_argument("--label", help="column name in --table (default host:port)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per group (default 120)")
    ap.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="more imaptest settings")
    ap.add_argument("--keep-output", action="store_true", help="keep failure output in the JSON too")
    a = ap.parse_args()
    if a.table:
        return cmd_table(a.table)
    for need in ("imaptest", "tests", "user"):
        if not getattr(a, need):
            ap.error(f"--{need} is required (or use --table)")
    return cmd_run(a)


if __name__ == "__main__":
    sys.exit(main())
