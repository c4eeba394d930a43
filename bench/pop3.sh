#!/usr/bin/env bash
# POP3 side by side: Dovecot and Mailroom, the same 5,000 messages, ../shared/bench/pop3_bench.py
# (LIST, UIDL, RETR all, DELE all, QUIT) against both. Prints both results.
# usage: bench/pop3.sh [COUNT]
set -euo pipefail
source "$(dirname "$0")/common.sh"
count=${1:-5000}

echo "== Dovecot"
"$shared/peers/dovecot-up" "$work/dovecot" 21143 21110 21024 2 >/dev/null
trap 'dovecot -c "$work/dovecot/dovecot.conf" stop 2>/dev/null || true; [ -n "$mr_pid" ] && kill "$mr_pid" 2>/dev/null; true' EXIT
python3 "$shared/bench/lmtp_deliver.py" --port 21024 --rcpt user1 --mbox "$mbox" --count "$count" | grep "^delivered"
python3 "$shared/bench/pop3_bench.py" --port 21110 --user user1 --pass pass

echo "== Mailroom"
cat > "$work/mailroom.toml" <<CONF
data_dir = "$work/mailroom"
[pop3]
listen = ["127.0.0.1:22110"]
CONF
"$bin" --config "$work/mailroom.toml" domain add example.test >/dev/null
echo pass | "$bin" --config "$work/mailroom.toml" account add user1@example.test --password-stdin >/dev/null
python3 "$here/load_mbox.py" "$bin" "$work/mailroom.toml" user1@example.test "$mbox" --count "$count"
MAILROOM_LOG=warn "$bin" --config "$work/mailroom.toml" serve & mr_pid=$!
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/22110) 2>/dev/null && break; sleep 0.1; done
python3 "$shared/bench/pop3_bench.py" --port 22110 --user user1@example.test --pass pass
