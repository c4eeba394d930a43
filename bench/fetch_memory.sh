#!/usr/bin/env bash
# Memory of one big FETCH side by side (issue 11, "bounded output and write deadlines"):
# Dovecot, then Mailroom, each with the same COUNT messages of the benchmark mailbox in user1's
# INBOX, measured by tools/fetch_memory.py: the server's idle RSS, then one session doing
# LOGIN, SELECT and FETCH 1:* BODY.PEEK[] (read as fast as the client can) while the RSS of
# the server's process tree is sampled every 50 ms; growth = peak - idle (target <= 64 MiB),
# FETCH seconds and MB/s. Ends with a side-by-side table.
# Dovecot gets its messages over LMTP (tools/deliver.py), Mailroom through `mailroom deliver`
# (load_mbox.py), as in imap.sh; neither load is timed.
# usage: bench/fetch_memory.sh [COUNT]                  (default 5000)
# env:   FETCH_ARGS="..." extra fetch_memory.py arguments (e.g. "--repeat 2" for a warm run
#        too, "--every 0.02"); MAILROOM_BIN, KEEP, RESULTS, BENCH_MBOX as in common.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"
count=${1:-5000}
saved=$work/fetch_memory.jsonl
fetch() {
    local label=$1
    shift
    # shellcheck disable=SC2086
    tool "$label" fetch_memory.py --save "$saved" "$@" ${FETCH_ARGS:-}
}

echo "== Dovecot"
dovecot_start 21243 21210 21224 1
tool dovecot/load deliver.py --port 21224 --rcpt user1 --mbox "$mbox" --count "$count" --conns 4
fetch dovecot/fetch_memory --server dovecot --port 21243 --pidfile "$dc_dir/run/master.pid" \
    --user user1 --pass pass
dc_master=$(cat "$dc_dir/run/master.pid")
dovecot -c "$dc_dir/dovecot.conf" stop
for _ in $(seq 100); do kill -0 "$dc_master" 2>/dev/null || break; sleep 0.1; done

echo "== Mailroom"
mailroom_config <<CONF
[imap]
listen = ["127.0.0.1:22243"]
CONF
mailroom_accounts 1
python3 "$here/load_mbox.py" "$bin" "$work/mailroom.toml" user1@example.test "$mbox" --count "$count"
mailroom_start 22243
fetch mailroom/fetch_memory --server mailroom --port 22243 --pid "$mr_pid" \
    --user user1@example.test --pass pass
if ! kill -0 "$mr_pid" 2>/dev/null; then
    died=0; wait "$mr_pid" || died=$?; mr_pid=""
    echo "MAILROOM DIED during the run (exit status $died; 128+N: signal N); last log lines:"
    tail -n 20 "$work/mailroom.log"
fi

echo "== Side by side"
python3 "$tools/fetch_memory.py" --report "$saved"
