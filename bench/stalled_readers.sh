#!/usr/bin/env bash
# Stalled readers on Mailroom (issue 11, "bounded output and write deadlines"): SESSIONS IMAP
# sessions log in, SELECT an INBOX of COUNT messages of the benchmark mailbox, send
# FETCH 1:* BODY.PEEK[] and never read (SO_RCVBUF 4096, set before connecting), measured by
# tools/stalled_readers.py: server RSS before, at its peak and 10 s after the last session
# closed; how many sessions the server closed and when (its ESTABLISHED sockets on the port,
# from ss), against the write deadline plus 10 s.
# The server runs with a short write deadline for the benchmark ([limits]
# write_timeout_seconds = WRITE_TIMEOUT, default 10; the shipped default is 120) and without
# the per-address, per-account-and-address and command-rate limits (connections_per_ip,
# connections_per_user_ip, commands_per_second = 0; [imap] max_connections_per_user = 0,
# max_connections = 2 x SESSIONS + 100), so all sessions can be user1's.
# Mailroom only: Dovecot's deadline for a client that takes in nothing is compiled in (5 minutes,
# CLIENT_OUTPUT_TIMEOUT_MSECS in its imap-common.h), so a run against it would mostly wait.
# usage: bench/stalled_readers.sh [SESSIONS]            (default 1000)
# env:   COUNT (5000) messages per account; ACCOUNTS (1) spreads the sessions over
#        user1..userN round-robin, each loaded with COUNT messages (slow: `mailroom deliver`
#        per message); WRITE_TIMEOUT (10); PROBE=1 also times a client that reads
#        (FETCH 1:* (RFC822.SIZE) in a loop) while the stalled sessions are open;
#        STALL_ARGS="..." extra stalled_readers.py arguments (e.g. "--rcvbuf 65536 --after
#        30"); MAILROOM_BIN, KEEP, RESULTS, BENCH_MBOX as in common.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"
sessions=${1:-1000}
count=${COUNT:-5000}
accounts=${ACCOUNTS:-1}
write_timeout=${WRITE_TIMEOUT:-10}
port=22343
# Each session is a socket in this shell's client and one in the server (common.sh asks for
# 65536; the hard limit may be lower).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((sessions + 100)) ]; then
    echo "open files limit $(ulimit -n) is too low for $sessions sessions" >&2
    exit 1
fi

echo "== Mailroom, $sessions stalled readers, write deadline ${write_timeout}s (benchmark setting)"
mailroom_config "connections_per_user_ip = 0" "write_timeout_seconds = $write_timeout" <<CONF
[imap]
listen = ["127.0.0.1:$port"]
max_connections_per_user = 0
max_connections = $((sessions * 2 + 100))
CONF
echo "config ($work/mailroom.toml):"
sed 's/^/    /' "$work/mailroom.toml"
mailroom_accounts "$accounts"
for i in $(seq 1 "$accounts"); do
    python3 "$here/load_mbox.py" "$bin" "$work/mailroom.toml" "user$i@example.test" "$mbox" \
        --count "$count"
done
mailroom_start "$port"
echo "open files limit $(ulimit -n)"
status=0
probe=()
if [ -n "${PROBE:-}" ] && [ "$PROBE" != 0 ]; then probe=(--probe); fi
# shellcheck disable=SC2086
tool mailroom/stalled stalled_readers.py --port "$port" --pid "$mr_pid" --sessions "$sessions" \
    --users "1-$accounts" --user-template "user%d@example.test" --pass pass \
    --write-timeout "$write_timeout" "${probe[@]}" ${STALL_ARGS:-} || status=$?
if ! kill -0 "$mr_pid" 2>/dev/null; then
    died=0; wait "$mr_pid" || died=$?; mr_pid=""
    echo "MAILROOM DIED during the run (exit status $died; 128+N: signal N); last log lines:"
    tail -n 20 "$work/mailroom.log"
    status=1
fi
problems=$(grep -ci "error\|panic" "$work/mailroom.log" || true)
echo "mailroom log: $problems line(s) mentioning error/panic"
grep -i "error\|panic" "$work/mailroom.log" | head -n 5 || true
exit "$status"
