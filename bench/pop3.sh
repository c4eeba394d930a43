#!/usr/bin/env bash
# POP3 side by side: Dovecot, then Mailroom, each with the same COUNT messages of the
# benchmark mailbox for user1; tools/pop3_bench.py (STAT, LIST, UIDL, RETR all, DELE all,
# QUIT) against both, under tools/procmon.py (server CPU seconds, RSS/PSS).
# usage: bench/pop3.sh [COUNT]            (default 5000)
set -euo pipefail
source "$(dirname "$0")/common.sh"
count=${1:-5000}

echo "== Dovecot"
dovecot_start 21143 21110 21024 2
tool dovecot/load deliver.py --port 21024 --rcpt user1 --mbox "$mbox" --count "$count" --conns 4
monitor dovecot/pop3 "--pidfile $dc_dir/run/master.pid" pop3_bench.py --port 21110 --user user1 --pass pass
dovecot -c "$dc_dir/dovecot.conf" stop

echo "== Mailroom"
mailroom_config <<CONF
[pop3]
listen = ["127.0.0.1:22110"]
CONF
mailroom_accounts 1
python3 "$here/load_mbox.py" "$bin" "$work/mailroom.toml" user1@example.test "$mbox" --count "$count"
mailroom_start 22110
monitor mailroom/pop3 "--pid $mr_pid" pop3_bench.py --port 22110 --user user1@example.test --pass pass
