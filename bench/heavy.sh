#!/usr/bin/env bash
# Fairness side by side (issue 17, "one client's command stalls everyone"): Dovecot, then
# Mailroom, each with the COUNT messages of the benchmark mailbox in user1's INBOX, measured by
# tools/heavy_load.py (under tools/procmon.py):
#   idle   a probe client (new connection, LOGIN user3, SELECT INBOX, FETCH 1 (FLAGS), LOGOUT,
#          in a loop: p50/p95/p99/max of LOGIN..FETCH) for SECONDS, then small-message
#          deliveries to user2 over one LMTP connection for SECONDS (Mailroom: also over SMTP,
#          its MX listener; Dovecot has none)
#   load   SESSIONS heavy sessions as user1 looping over a ~1,900-key SEARCH with 60 distinct
#          BODY words, SORT (SUBJECT) UTF-8 ALL, THREAD REFERENCES UTF-8 ALL and
#          FETCH 1:* BODYSTRUCTURE, while the probe and the deliveries run again
# then a side-by-side table: heavy commands per second, probe latency idle and under load,
# delivery under load as % of idle, and the project's targets for Mailroom (probe p99 under
# load < 200 ms, delivery under load >= 80 % of idle).
# Dovecot gets its messages over LMTP (tools/deliver.py), Mailroom through `mailroom deliver`
# (load_mbox.py), as in imap.sh; user3 gets 10 small messages over LMTP (its FETCH 1).
# usage: bench/heavy.sh [SECONDS] [SESSIONS]       (defaults 15 and 2 x nproc)
# env:   COUNT (5000) messages for user1; HEAVY_ARGS="..." extra heavy_load.py arguments
#        (e.g. "--search-groups 30 --body-words 40"); MAILROOM_BIN, KEEP, RESULTS as in
#        common.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"
secs=${1:-15}
sessions=${2:-$(( 2 * $(nproc) ))}
count=${COUNT:-5000}
saved=$work/heavy.jsonl
heavy() {
    local label=$1 spec=$2
    shift 2
    # shellcheck disable=SC2086
    monitor "$label" "$spec" heavy_load.py --seconds "$secs" --sessions "$sessions" \
        --save "$saved" $spec "$@" ${HEAVY_ARGS:-}
}

echo "== Dovecot"
dovecot_start 21143 21110 21024 4
tool dovecot/load deliver.py --port 21024 --rcpt user1 --mbox "$mbox" --count "$count" --conns 4
heavy dovecot/heavy "--pidfile $dc_dir/run/master.pid" --server dovecot \
    --imap-port 21143 --lmtp-port 21024 --heavy-user user1 --probe-user user3 --rcpt user2
problems=$(grep -ci "error\|fatal\|panic" "$dc_dir/dovecot.log" || true)
echo "dovecot log: $problems line(s) mentioning error/fatal/panic"
grep -i "error\|fatal\|panic" "$dc_dir/dovecot.log" | head -n 5 || true
dc_master=$(cat "$dc_dir/run/master.pid")
dovecot -c "$dc_dir/dovecot.conf" stop
# Its imap processes (a SEARCH may still be running) go with the master: wait for it.
for _ in $(seq 100); do kill -0 "$dc_master" 2>/dev/null || break; sleep 0.1; done

echo "== Mailroom"
mailroom_config <<CONF
[imap]
listen = ["127.0.0.1:22143"]
max_connections_per_user = 0
[lmtp]
listen = ["127.0.0.1:22024"]
[smtp]
listen = ["127.0.0.1:22025"]
CONF
mailroom_accounts 4
python3 "$here/load_mbox.py" "$bin" "$work/mailroom.toml" user1@example.test "$mbox" --count "$count"
mailroom_start 22143
wait_port 22024 "$mr_pid"
wait_port 22025 "$mr_pid"
heavy mailroom/heavy "--pid $mr_pid" --server mailroom \
    --imap-port 22143 --lmtp-port 22024 --smtp-port 22025 --heavy-user user1@example.test \
    --probe-user user3@example.test --rcpt user2@example.test
if ! kill -0 "$mr_pid" 2>/dev/null; then
    echo "MAILROOM DIED during the run; last log lines:"; tail -n 20 "$work/mailroom.log"
fi
problems=$(grep -ci "error\|panic" "$work/mailroom.log" || true)
echo "mailroom log: $problems line(s) mentioning error/panic"
grep -i "error\|panic" "$work/mailroom.log" | head -n 5 || true

echo "== Side by side"
python3 "$tools/heavy_load.py" --report "$saved"
