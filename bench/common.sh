# Set-up shared by the side-by-side benchmarks (sourced by imap.sh, pop3.sh, lmtp.sh).
#
# Sets: here (bench/), root (the repository), tools (bench/tools), work (a scratch directory
# Dovecot's mail user can reach), mbox (the benchmark mailbox, generated once), bin (the
# release binary), mr_pid and dc_dir (filled in by the functions below).
# Functions: dovecot_start, mailroom_config, mailroom_accounts, mailroom_start, wait_port,
# tool, monitor. An EXIT trap stops both servers and removes $work (KEEP=1 keeps it).
#
# Environment: MAILROOM_BIN=path uses that binary instead of building the release one;
# BENCH_MBOX=path uses (or creates) that mailbox instead of target/tmp/bench.mbox;
# RESULTS=file appends every tool's JSON result to that file (LABEL<TAB>JSON per line).
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
root=$(cd "$here/.." && pwd)
tools=$here/tools
export PYTHONDONTWRITEBYTECODE=1
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d /tmp/mailroom-bench.XXXXXX)
chmod 755 "$work"
mr_pid=""
dc_dir=""
bench_cleanup() {
    if [ -n "$dc_dir" ] && [ -f "$dc_dir/dovecot.conf" ]; then
        dovecot -c "$dc_dir/dovecot.conf" stop 2>/dev/null || true
    fi
    if [ -n "$mr_pid" ]; then
        kill "$mr_pid" 2>/dev/null && wait "$mr_pid" 2>/dev/null
    fi
    if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
    true
}
trap bench_cleanup EXIT

# The benchmark mailbox (5,000 messages, ~190 MB), made by bench/tools/make_mbox.py once and
# reused; delete it to regenerate. cargo bench -p mailroom-store-sqlite uses the same file.
mbox=${BENCH_MBOX:-$root/target/tmp/bench.mbox}
mkdir -p "$(dirname "$mbox")"
[ -s "$mbox" ] || python3 "$tools/make_mbox.py" "$mbox"

if [ -n "${MAILROOM_BIN:-}" ]; then
    bin=$MAILROOM_BIN
else
    cargo build --release -q -p mailroom --manifest-path "$root/Cargo.toml"
    # cargo builds into CARGO_TARGET_DIR when it is set (a shared target directory).
    bin="${CARGO_TARGET_DIR:-$root/target}/release/mailroom"
fi

# wait_port PORT [PID]: until something accepts on 127.0.0.1:PORT (30 s at most); with PID,
# gives up early when that process has exited.
wait_port() {
    local port=$1 pid=${2:-}
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            echo "process $pid exited before port $port opened" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "nothing listens on port $port" >&2
    return 1
}

# dovecot_start IMAP POP3 LMTP NUSERS: a private Dovecot in $work/dovecot (see dovecot-up.sh).
dovecot_start() {
    dc_dir=$work/dovecot
    "$here/dovecot-up.sh" "$dc_dir" "$@" >/dev/null
    echo "Dovecot $(dovecot --version | cut -d' ' -f1), imap $1 pop3 $2 lmtp $3"
}

# mailroom_config [LIMIT_LINE...]: writes $work/mailroom.toml from stdin (the listener
# sections), with the abuse limits off: one benchmark connection sends thousands of commands,
# and a thousand connections come from one address. Each argument is one more line for
# [limits] (e.g. "write_timeout_seconds = 10").
mailroom_config() {
    {
        echo "data_dir = \"$work/mailroom\""
        cat
        printf '[limits]\nconnections_per_ip = 0\ncommands_per_second = 0\n'
        [ $# -eq 0 ] || printf '%s\n' "$@"
        printf '[backup]\ntime = "off"\n'
    } > "$work/mailroom.toml"
}

# mailroom_accounts N: domain example.test and accounts user1..userN@example.test, password "pass".
mailroom_accounts() {
    "$bin" --config "$work/mailroom.toml" domain add example.test >/dev/null
    for i in $(seq 1 "$1"); do
        echo pass | "$bin" --config "$work/mailroom.toml" account add "user$i@example.test" \
            --password-stdin >/dev/null
    done
}

# mailroom_start PORT: serve in the background (log in $work/mailroom.log, at MAILROOM_LOG's
# level, warn by default), wait for PORT.
mailroom_start() {
    MAILROOM_LOG=${MAILROOM_LOG:-warn} "$bin" --config "$work/mailroom.toml" serve \
        2>"$work/mailroom.log" &
    mr_pid=$!
    wait_port "$1" "$mr_pid" || { tail -n 20 "$work/mailroom.log" >&2; return 1; }
    echo "Mailroom $("$bin" --version 2>/dev/null | awk '{print $NF}'), pid $mr_pid"
}

# results LABEL: passes a tool's output through without its JSON: line, which goes (tab-separated
# after LABEL) to the file $RESULTS when that is set.
results() {
    local label=$1 line
    while IFS= read -r line; do
        case $line in
            JSON:*'"server_cpu_s"'*)
                [ -z "${RESULTS:-}" ] || printf '%s\t%s\n' "$label/procmon" "${line#JSON:}" >> "$RESULTS" ;;
            JSON:*) [ -z "${RESULTS:-}" ] || printf '%s\t%s\n' "$label" "${line#JSON:}" >> "$RESULTS" ;;
            *) printf '%s\n' "$line" ;;
        esac
    done
}

# tool LABEL SCRIPT ARGS...: runs bench/tools/SCRIPT, output through results.
tool() {
    local label=$1 script=$2
    shift 2
    python3 "$tools/$script" "$@" | results "$label"
}

# monitor LABEL PIDSPEC SCRIPT ARGS...: tool, under tools/procmon.py, which adds the server's
# CPU seconds and memory while the script ran; PIDSPEC is "--pid N" or "--pidfile F".
monitor() {
    local label=$1 spec=$2 script=$3
    shift 3
    # shellcheck disable=SC2086
    python3 "$tools/procmon.py" $spec --label "$label" -- python3 "$tools/$script" "$@" 2>&1 \
        | results "$label"
}
