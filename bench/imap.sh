#!/usr/bin/env bash
# IMAP side by side: Dovecot and Mailroom, the same 5,000 messages in user1's INBOX,
# ../shared/bench/imap_bench.py (ENVELOPE fetch, SEARCH BODY/TEXT, all bodies) and
# idle_conns.py (memory per idle IDLE connection, 1,000 connections over 10 users).
# usage: bench/imap.sh [COUNT] [IDLE_CONNECTIONS]
set -euo pipefail
source "$(dirname "$0")/common.sh"
count=${1:-5000}
idle=${2:-1000}
ulimit -n 65536 2>/dev/null || true

echo "== Dovecot"
"$shared/peers/dovecot-up" "$work/dovecot" 21143 21110 21024 10 >/dev/null 2>&1
trap 'dovecot -c "$work/dovecot/dovecot.conf" stop 2>/dev/null || true; [ -n "$mr_pid" ] && kill "$mr_pid" 2>/dev/null; true' EXIT
python3 "$shared/bench/lmtp_deliver.py" --port 21024 --rcpt user1 --mbox "$mbox" --count "$count" | grep "^delivered"
python3 "$shared/bench/imap_bench.py" --port 21143 --user user1 --pass pass | grep -v "^JSON"
python3 "$shared/bench/idle_conns.py" --port 21143 --pidfile "$work/dovecot/run/master.pid" --count "$idle" --users 1-10 | grep -v "^JSON"

echo "== Mailroom"
cat > "$work/mailroom.toml" <<CONF
data_dir = "$work/mailroom"
[imap]
listen = ["127.0.0.1:22143"]
max_connections_per_user = 0
CONF
"$bin" --config "$work/mailroom.toml" domain add example.test >/dev/null
for i in $(seq 1 10); do
    echo pass | "$bin" --config "$work/mailroom.toml" account add "user$i@example.test" --password-stdin >/dev/null
done
python3 "$here/load_mbox.py" "$bin" "$work/mailroom.toml" user1@example.test "$mbox" --count "$count"
MAILROOM_LOG=warn "$bin" --config "$work/mailroom.toml" serve & mr_pid=$!
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/22143) 2>/dev/null && break; sleep 0.1; done
python3 "$shared/bench/imap_bench.py" --port 22143 --user user1@example.test --pass pass | grep -v "^JSON"
python3 "$shared/bench/idle_conns.py" --port 22143 --pid "$mr_pid" --count "$idle" --users 1-10 \
    --user-template "user%d@example.test" | grep -v "^JSON"
