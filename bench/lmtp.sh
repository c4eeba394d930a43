#!/usr/bin/env bash
# Delivery side by side: Dovecot's LMTP, then Mailroom's LMTP and SMTP (its MX listener),
# the same COUNT messages of the benchmark mailbox on 1 and on 4 connections, each into an
# empty account. tools/deliver.py reports msg/s, MB/s and p50/p99 per message; it runs under
# tools/procmon.py (server CPU seconds, RSS/PSS).
# usage: bench/lmtp.sh [COUNT]            (default 5000)
set -euo pipefail
source "$(dirname "$0")/common.sh"
count=${1:-5000}
deliver() {
    local label=$1 spec=$2
    shift 2
    monitor "$label" "$spec" deliver.py --mbox "$mbox" --count "$count" "$@"
}

echo "== Dovecot LMTP"
dovecot_start 21143 21110 21024 4
dc="--pidfile $dc_dir/run/master.pid"
echo "-- 1 connection";  deliver dovecot/lmtp1 "$dc" --port 21024 --rcpt user1 --conns 1
echo "-- 4 connections"; deliver dovecot/lmtp4 "$dc" --port 21024 --rcpt user2 --conns 4
dovecot -c "$dc_dir/dovecot.conf" stop

echo "== Mailroom"
mailroom_config <<CONF
[lmtp]
listen = ["127.0.0.1:22024"]
[smtp]
listen = ["127.0.0.1:22025"]
CONF
mailroom_accounts 4
mailroom_start 22024
wait_port 22025 "$mr_pid"
mr="--pid $mr_pid"
echo "-- LMTP, 1 connection";  deliver mailroom/lmtp1 "$mr" --port 22024 --rcpt user1@example.test --conns 1
echo "-- LMTP, 4 connections"; deliver mailroom/lmtp4 "$mr" --port 22024 --rcpt user2@example.test --conns 4
echo "-- SMTP, 1 connection";  deliver mailroom/smtp1 "$mr" --port 22025 --rcpt user3@example.test --conns 1 --smtp
echo "-- SMTP, 4 connections"; deliver mailroom/smtp4 "$mr" --port 22025 --rcpt user4@example.test --conns 4 --smtp
