# Shared set-up of the side-by-side benchmarks (sourced by imap.sh, pop3.sh, lmtp.sh): paths,
# a scratch directory Dovecot's mail user can reach, the shared benchmark mailbox (made once)
# and the release binary. Sets: here root shared work mbox bin mr_pid.
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
root=$(cd "$here/.." && pwd)
shared=${SHARED:-$root/../shared}
mr_pid=""
work=$(mktemp -d /tmp/mailroom-bench.XXXXXX)
chmod 755 "$work"
mbox="$root/target/tmp/bench.mbox"
mkdir -p "$(dirname "$mbox")"
[ -f "$mbox" ] || python3 "$shared/bench/make_mbox.py" "$mbox"
cargo build --release -q -p mailroom --manifest-path "$root/Cargo.toml"
# cargo builds into CARGO_TARGET_DIR when it is set (a shared target directory).
bin="${CARGO_TARGET_DIR:-$root/target}/release/mailroom"
