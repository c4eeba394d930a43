#!/usr/bin/env python3
"""Watch a server while a command runs: its CPU seconds and memory, summed over its
process tree.

usage: procmon.py (--pid PID | --pidfile FILE) [--label L] [--every 1] [--pss-every 5] -- CMD ...
       procmon.py (--pid PID | --pidfile FILE) --seconds 30       (no command: watch 30 s)
       procmon.py (--pid PID | --pidfile FILE) --once              (one snapshot)

PID is the server's top process (Dovecot: DIR/run/master.pid; Mailroom: its own pid); all
its descendants are included. CPU counts user+system time of the processes and of children
they reaped, so a process that comes and goes during the run still counts. Memory is
sampled every --every seconds: RSS each time, PSS (from smaps_rollup, costlier) every
--pss-every samples and at both ends. Also reported: the command's own CPU (the load
generator shares the machine) and what else kept the machine busy meanwhile.

The command's output passes through; the report goes to stderr ("[procmon ...]" and a
JSON: line). Exit status: the command's.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mailproto import MIB, measure, server_pid  # noqa: E402


def mean(xs):
    return sum(xs) / len(xs) if xs else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pid", type=int)
    ap.add_argument("--pidfile")
    ap.add_argument("--label", default="")
    ap.add_argument("--every", type=float, default=1.0, help="seconds between samples")
    ap.add_argument("--pss-every", type=int, default=5)
    ap.add_argument("--seconds", type=float, help="without a command: how long to watch")
    ap.add_argument("--once", action="store_true")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    root = server_pid(a.pid, a.pidfile)
    command = a.command[1:] if a.command[:1] == ["--"] else a.command

    if a.once:
        s = measure(root)
        print(f"procs {s['procs']} RSS {s['rss'] / MIB:.1f} MiB PSS {s['pss'] / MIB:.1f} MiB "
              f"CPU {s['cpu_s']:.2f}s")
        print("JSON:" + json.dumps(s, sort_keys=True))
        return
    if not command and not a.seconds:
        raise SystemExit("give a command after --, or --seconds, or --once")

    start = measure(root)
    t0 = time.monotonic()
    child = subprocess.Popen(command) if command else None
    rss, pss, procs = [start["rss"]], [start["pss"]], [start["procs"]]
    n = 0
    while True:
        deadline = time.monotonic() + a.every
        if child is not None:
            try:
                child.wait(timeout=a.every)
            except subprocess.TimeoutExpired:
                pass
        else:
            time.sleep(max(0.0, deadline - time.monotonic()))
        n += 1
        s = measure(root, with_pss=(n % a.pss_every == 0))
        rss.append(s["rss"])
        procs.append(s["procs"])
        if "pss" in s:
            pss.append(s["pss"])
        if child is not None and child.poll() is not None:
            break
        if child is None and time.monotonic() - t0 >= a.seconds:
            break
    wall = time.monotonic() - t0
    end = measure(root)
    rss.append(end["rss"])
    pss.append(end["pss"])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = usage.ru_utime + usage.ru_stime
    server_cpu = end["cpu_s"] - start["cpu_s"]
    busy = end["busy_s"] - start["busy_s"]
    res = {"label": a.label, "wall_s": round(wall, 2),
           "server_cpu_s": round(server_cpu, 2),
           "server_cores_avg": round(server_cpu / wall, 3) if wall else 0,
           "server_rss_mib_start": round(start["rss"] / MIB, 1),
           "server_rss_mib_mean": round(mean(rss) / MIB, 1),
           "server_rss_mib_peak": round(max(rss) / MIB, 1),
           "server_pss_mib_start": round(start["pss"] / MIB, 1),
           "server_pss_mib_mean": round(mean(pss) / MIB, 1),
           "server_pss_mib_peak": round(max(pss) / MIB, 1),
           "server_procs_peak": max(procs),
           "client_cpu_s": round(client_cpu, 2),
           "client_maxrss_mib": round(usage.ru_maxrss / 1024, 1),
           # Rounding of the kernel's counters can make this slightly negative on a quiet box.
           "other_cores_avg": round(max(0.0, busy - server_cpu - client_cpu) / wall, 2) if wall else 0,
           "load1_start": start["load1"],
           "rc": child.returncode if child is not None else None}
    tag = f"[procmon {a.label}]" if a.label else "[procmon]"
    print(f"{tag} {wall:.1f}s: server CPU {res['server_cpu_s']}s ({res['server_cores_avg']} cores), "
          f"RSS mean/peak {res['server_rss_mib_mean']}/{res['server_rss_mib_peak']} MiB, "
          f"PSS mean/peak {res['server_pss_mib_mean']}/{res['server_pss_mib_peak']} MiB, "
          f"procs peak {res['server_procs_peak']}; client CPU {res['client_cpu_s']}s; "
          f"other load {res['other_cores_avg']} cores", file=sys.stderr)
    print("JSON:" + json.dumps(res, sort_keys=True), file=sys.stderr, flush=True)
    sys.exit(child.returncode if child is not None else 0)


if __name__ == "__main__":
    main()
