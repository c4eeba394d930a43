#!/usr/bin/env bash
# Sustained mixed load on a fresh Mailroom: builds the release binary, makes a throw-away
# data dir and config (connection limits raised), starts `mailroom serve`, creates the load
# accounts with the CLI, runs bench/load_imap.py against it and prints its report, followed by
# the server's CPU seconds and RSS/PSS mean and peak over the run (bench/tools/procmon.py).
#
# usage: bench/load.sh [SESSIONS] [DURATION_SECONDS] [ACCOUNTS]      (defaults 1000 300 10)
# env:   MAILROOM_BIN=path   use this binary and skip the release build
#        LOAD_ARGS="..."     extra arguments for load_imap.py (e.g. "--deliver-rate 50 --think 1")
#        IMAP_PORT / LMTP_PORT (23143 / 23024)    KEEP=1 keeps the data dir and log
#        PROCMON=0           no procmon.py around the load
#        STEADY=1            adds --steady to LOAD_ARGS: one janitor connection per account keeps
#                            INBOX and Drafts near --preload messages (UID STORE \Deleted + UID
#                            EXPUNGE every 2 s; --steady-every N in LOAD_ARGS changes that), so
#                            RSS can be judged without the mailboxes growing.
#                            e.g. STEADY=1 bench/load.sh 1000 300 10
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
sessions=${1:-1000}
duration=${2:-300}
accounts=${3:-10}
imap_port=${IMAP_PORT:-23143}
lmtp_port=${LMTP_PORT:-23024}

if [ -z "${MAILROOM_BIN:-}" ]; then
    cargo build --release -q -p mailroom --manifest-path "$root/Cargo.toml"
    bin="${CARGO_TARGET_DIR:-$root/target}/release/mailroom"
else
    bin=$MAILROOM_BIN
fi
work=$(mktemp -d /tmp/mailroom-load.XXXXXX)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

max=$((sessions * 2 + 100))
# write_config LEVEL: 2 = [limits] with connection and command-rate limits, 1 = connection
# limits only, 0 = no [limits] (binaries from before it existed).
write_config() {
    cat > "$work/mailroom.toml" <<CONF
data_dir = "$work/data"
[imap]
listen = ["127.0.0.1:$imap_port"]
max_connections_per_user = 0
max_connections = $max
[lmtp]
listen = ["127.0.0.1:$lmtp_port"]
[backup]
time = "off"
CONF
    if [ "$1" -ge 1 ]; then
        printf '[limits]\nconnections_total = %d\nconnections_per_ip = 0\n' "$max" \
            >> "$work/mailroom.toml"
    fi
    if [ "$1" -ge 2 ]; then
        printf 'commands_per_second = 0\n' >> "$work/mailroom.toml"
    fi
}

# Unknown keys are errors: use the richest [limits] this binary accepts.
for level in 2 1 0; do
    write_config "$level"
    if "$bin" --config "$work/mailroom.toml" domain add example.test >/dev/null 2>"$work/err"; then
        break
    fi
    if [ "$level" = 0 ] || ! grep -qi "unknown field\|limits" "$work/err"; then
        cat "$work/err" >&2
        exit 1
    fi
    echo "note: this binary refuses some [limits] keys ($(head -c 200 "$work/err" | tr '\n' ' '))"
done
for i in $(seq 1 "$accounts"); do
    echo pass | "$bin" --config "$work/mailroom.toml" account add "load$i@example.test" \
        --password-stdin >/dev/null
done
echo "config ($work/mailroom.toml):"
sed 's/^/    /' "$work/mailroom.toml"

MAILROOM_LOG=warn,mailroom=info NO_COLOR=1 "$bin" --config "$work/mailroom.toml" serve \
    2>"$work/server.log" &
pid=$!
for _ in $(seq 600); do
    grep -q "mailroom is running" "$work/server.log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done
grep -q "mailroom is running" "$work/server.log" || { echo "server did not start" >&2; exit 1; }
echo "mailroom $("$bin" --version 2>/dev/null || true) pid $pid; $sessions sessions, ${duration}s, $accounts accounts"

if [ -n "${STEADY:-}" ] && [ "${STEADY}" != 0 ]; then
    LOAD_ARGS="--steady ${LOAD_ARGS:-}"
fi
status=0
monitor=()
if [ "${PROCMON:-1}" != 0 ]; then
    monitor=(python3 "$here/tools/procmon.py" --pid "$pid" --label load --every 5 --pss-every 1 --)
fi
# shellcheck disable=SC2086
PYTHONDONTWRITEBYTECODE=1 "${monitor[@]}" python3 "$here/load_imap.py" \
    --imap-port "$imap_port" --lmtp-port "$lmtp_port" --pid "$pid" \
    --sessions "$sessions" --duration "$duration" --accounts "$accounts" \
    --user-template 'load%d@example.test' --password pass ${LOAD_ARGS:-} || status=$?
if ! kill -0 "$pid" 2>/dev/null; then
    echo "SERVER DIED during the run; last log lines:"; tail -n 20 "$work/server.log"; status=1
fi
warnings=$(grep -ci "error\|panic" "$work/server.log" || true)
echo "server log: $warnings line(s) mentioning error/panic"
grep -i "panic" "$work/server.log" | head -n 5 || true
exit "$status"
