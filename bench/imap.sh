#!/usr/bin/env bash
# IMAP side by side: Dovecot, then Mailroom, each with the same COUNT messages of the
# benchmark mailbox in user1's INBOX.
#   tools/imap_bench.py   LOGIN, SELECT, UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE),
#                         SEARCH BODY/TEXT "quokka", FETCH 1:* BODY.PEEK[] (cold and warm runs),
#                         under tools/procmon.py (server CPU seconds, RSS/PSS)
#   tools/idle_conns.py   memory per connection of IDLE_CONNECTIONS connections in IDLE over
#                         user1..user10 (RSS and PSS of the server's process tree)
# Dovecot gets its messages over LMTP (tools/deliver.py), Mailroom through `mailroom deliver`
# (load_mbox.py); neither load is timed here (bench/lmtp.sh measures delivery).
# usage: bench/imap.sh [COUNT] [IDLE_CONNECTIONS]          (defaults 5000 1000)
set -euo pipefail
source "$(dirname "$0")/common.sh"
count=${1:-5000}
idle=${2:-1000}

echo "== Dovecot"
dovecot_start 21143 21110 21024 10
tool dovecot/load deliver.py --port 21024 --rcpt user1 --mbox "$mbox" --count "$count" --conns 4
monitor dovecot/imap "--pidfile $dc_dir/run/master.pid" imap_bench.py --port 21143 --user user1 --pass pass
monitor dovecot/idle "--pidfile $dc_dir/run/master.pid" idle_conns.py --port 21143 \
    --pidfile "$dc_dir/run/master.pid" --count "$idle" --users 1-10 --pass pass
dovecot -c "$dc_dir/dovecot.conf" stop

echo "== Mailroom"
mailroom_config <<CONF
[imap]
listen = ["127.0.0.1:22143"]
max_connections_per_user = 0
CONF
mailroom_accounts 10
python3 "$here/load_mbox.py" "$bin" "$work/mailroom.toml" user1@example.test "$mbox" --count "$count"
mailroom_start 22143
monitor mailroom/imap "--pid $mr_pid" imap_bench.py --port 22143 --user user1@example.test --pass pass
monitor mailroom/idle "--pid $mr_pid" idle_conns.py --port 22143 --pid "$mr_pid" --count "$idle" \
    --users 1-10 --user-template "user%d@example.test" --pass pass
