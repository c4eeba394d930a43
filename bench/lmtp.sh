#!/usr/bin/env bash
# Delivery side by side: Dovecot's LMTP and Mailroom's LMTP and SMTP (MX), the same messages,
# ../shared/bench/lmtp_deliver.py against each, on 1 and 4 connections. Prints msg/s for each.
# usage: bench/lmtp.sh [COUNT]
set -euo pipefail
source "$(dirname "$0")/common.sh"
count=${1:-5000}
deliver() { python3 "$shared/bench/lmtp_deliver.py" --mbox "$mbox" --count "$count" "$@" | grep "^delivered"; }

echo "== Dovecot LMTP"
"$shared/peers/dovecot-up" "$work/dovecot" 21143 21110 21024 4 >/dev/null
trap 'dovecot -c "$work/dovecot/dovecot.conf" stop 2>/dev/null || true; [ -n "$mr_pid" ] && kill "$mr_pid" 2>/dev/null; true' EXIT
echo -n "1 connection:  "; deliver --port 21024 --rcpt user1 --conns 1
echo -n "4 connections: "; deliver --port 21024 --rcpt user2 --conns 4

echo "== Mailroom"
cat > "$work/mailroom.toml" <<CONF
data_dir = "$work/mailroom"
[lmtp]
listen = ["127.0.0.1:22024"]
[smtp]
listen = ["127.0.0.1:22025"]
# One connection here carries thousands of messages: the abuse limit on commands per second
# would measure itself, not delivery.
[limits]
commands_per_second = 0
CONF
"$bin" --config "$work/mailroom.toml" domain add example.test >/dev/null
for u in user1 user2 user3 user4; do
  echo pass | "$bin" --config "$work/mailroom.toml" account add "$u@example.test" --password-stdin >/dev/null
done
MAILROOM_LOG=warn "$bin" --config "$work/mailroom.toml" serve & mr_pid=$!
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/22024) 2>/dev/null && break; sleep 0.1; done
echo -n "LMTP 1 connection:  "; deliver --port 22024 --rcpt user1@example.test --conns 1
echo -n "LMTP 4 connections: "; deliver --port 22024 --rcpt user2@example.test --conns 4
echo -n "SMTP 1 connection:  "; deliver --port 22025 --rcpt user3@example.test --conns 1 --smtp
echo -n "SMTP 4 connections: "; deliver --port 22025 --rcpt user4@example.test --conns 4 --smtp
