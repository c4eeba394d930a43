#!/usr/bin/env bash
# imaptest against Dovecot and Mailroom, side by side.
#
# usage: bench/imaptest/side-by-side.sh [compliance] SRC_DIR [OUT_DIR] [-- compliance.py args, e.g. --only fetch]
#        bench/imaptest/side-by-side.sh stress SRC_DIR MBOX [OUT_DIR]
#   SRC_DIR  imaptest source checkout (github.com/dovecot/imaptest at commit 924f619; see README.md);
#            built with build.sh unless IMAPTEST names a binary
#   MBOX     messages for stress APPENDs; they need unique Message-IDs (bench/tools/make_mbox.py
#            writes one)
#   OUT_DIR  JSON results, failure logs, imaptest output (default: a new /tmp/imaptest-results.XXXXXX)
# compliance: every group of SRC_DIR/src/tests on each server (compliance.py), then the table.
# stress:     imaptest random sessions, clients=10 and clients=50 (CLIENTS), secs=30 (SECS), on each.
# environment:
#   MAILROOM   the binary (default: target/release/mailroom, else target/debug/mailroom; not built here)
#   IMAPTEST   the imaptest binary (default: build.sh SRC_DIR)
#   PORT_BASE  Dovecot gets PORT_BASE+143/+110/+24, Mailroom PORT_BASE+1143 (default 31000)
#   USERS      accounts on each server, user1..userN, password "pass" (default 10)
#   DOVECOT_UP the Dovecot starter (default bench/dovecot-up.sh: DIR IMAP_PORT POP3_PORT LMTP_PORT NUSERS)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

mode=compliance
case "${1:-}" in compliance|stress) mode=$1; shift ;; esac
src=${1:?usage: side-by-side.sh [compliance|stress] SRC_DIR [MBOX] [OUT_DIR]}; shift
mbox=""
if [ "$mode" = stress ]; then
    mbox=${1:?stress needs MBOX}; shift
    mbox=$(cd "$(dirname "$mbox")" && pwd)/$(basename "$mbox")
fi
out=""
if [ $# -gt 0 ] && [ "$1" != "--" ]; then out=$1; shift; fi
[ "${1:-}" = "--" ] && shift
extra=("$@")
out=${out:-$(mktemp -d /tmp/imaptest-results.XXXXXX)}
mkdir -p "$out"; out=$(cd "$out" && pwd)

base=${PORT_BASE:-31000}
dc_imap=$((base + 143)); dc_pop=$((base + 110)); dc_lmtp=$((base + 24))
mr_imap=$((base + 1143))
users=${USERS:-10}
secs=${SECS:-30}
clients=${CLIENTS:-10 50}
dovecot_up=${DOVECOT_UP:-$root/bench/dovecot-up.sh}

target=${CARGO_TARGET_DIR:-$root/target}
if [ -z "${MAILROOM:-}" ]; then
    for b in "$target/release/mailroom" "$target/debug/mailroom"; do
        [ -x "$b" ] && { MAILROOM=$b; break; }
    done
fi
[ -x "${MAILROOM:-}" ] || { echo "side-by-side.sh: no Mailroom binary; cargo build --release -p mailroom, or set MAILROOM" >&2; exit 1; }
imaptest=${IMAPTEST:-$("$here/build.sh" "$src")}
tests=$src/src/tests
[ -d "$tests" ] || { echo "side-by-side.sh: $tests not found" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || true

work=$(mktemp -d /tmp/mailroom-imaptest.XXXXXX)
chmod 755 "$work"   # Dovecot's mail user must reach $work/dovecot/mail
mr_pid=""
cleanup() {
    [ -f "$work/dovecot/dovecot.conf" ] && dovecot -c "$work/dovecot/dovecot.conf" stop 2>/dev/null || true
    if [ -n "$mr_pid" ]; then kill "$mr_pid" 2>/dev/null || true; wait "$mr_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

wait_port() {
    for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
    echo "side-by-side.sh: nothing listens on port $1" >&2; return 1
}

echo "== starting Dovecot (imap $dc_imap) and Mailroom (imap $mr_imap, $MAILROOM)" >&2
"$dovecot_up" "$work/dovecot" "$dc_imap" "$dc_pop" "$dc_lmtp" "$users" >"$out/dovecot-up.log" 2>&1 \
    || { cat "$out/dovecot-up.log" >&2; exit 1; }
wait_port "$dc_imap"

# Mailroom: only IMAP on loopback; limits that would throttle a test client off (imaptest's
# stress clients all come from 127.0.0.1 and send as fast as they can); everything else default.
cat > "$work/mailroom.toml" <<CONF
data_dir = "$work/mailroom"
[limits]
connections_per_ip = 0
commands_per_second = 0
connections_per_user_ip = 0
[imap]
listen = ["127.0.0.1:$mr_imap"]
max_connections_per_user = 0
CONF
"$MAILROOM" --config "$work/mailroom.toml" domain add example.test >/dev/null
for i in $(seq 1 "$users"); do
    echo pass | "$MAILROOM" --config "$work/mailroom.toml" account add "user$i@example.test" --password-stdin >/dev/null
done
MAILROOM_LOG=${MAILROOM_LOG:-warn} "$MAILROOM" --config "$work/mailroom.toml" serve >"$out/mailroom.log" 2>&1 &
mr_pid=$!
wait_port "$mr_imap"

if [ "$mode" = compliance ]; then
    run() { # label port user user2
        echo "== $1" >&2
        python3 "$here/compliance.py" --imaptest "$imaptest" --tests "$tests" --host 127.0.0.1 --port "$2" \
            --user "$3" --user2 "$4" --pass pass --label "$1" --json "$out/$1.json" --log "$out/$1-failures.log" \
            ${extra[@]+"${extra[@]}"} | tee "$out/$1.txt" >&2 || true
    }
    run dovecot "$dc_imap" user1 user2
    run mailroom "$mr_imap" user1@example.test user2@example.test
    echo
    python3 "$here/compliance.py" --table "$out/dovecot.json" "$out/mailroom.json" | tee "$out/table.md"
    echo
    echo "results in $out (failure output: $out/mailroom-failures.log)"
else
    files=()
    for c in $clients; do
        python3 "$here/stress.py" --imaptest "$imaptest" --port "$dc_imap" --user 'user%d' --users "1-$users" \
            --mbox "$mbox" --clients "$c" --secs "$secs" --label dovecot \
            --json "$out/stress-dovecot-c$c.json" --log "$out/stress-dovecot-c$c.log" >&2
        python3 "$here/stress.py" --imaptest "$imaptest" --port "$mr_imap" --user 'user%d@example.test' \
            --users "1-$users" --mbox "$mbox" --clients "$c" --secs "$secs" --label mailroom \
            --json "$out/stress-mailroom-c$c.json" --log "$out/stress-mailroom-c$c.log" >&2
        files+=("$out/stress-dovecot-c$c.json" "$out/stress-mailroom-c$c.json")
    done
    echo
    python3 "$here/stress.py" --table "${files[@]}" | tee "$out/stress.md"
    echo
    echo "results in $out (imaptest output: $out/stress-*.log)"
fi
