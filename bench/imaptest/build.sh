#!/usr/bin/env bash
# Build Dovecot's imaptest against Debian's dovecot-dev 2.3.19.
#
# usage: bench/imaptest/build.sh SRC_DIR [OUT]
#   SRC_DIR  a checkout of github.com/dovecot/imaptest at commit 924f619 (2022-03-09), the last
#            one written against the Dovecot 2.3 API (later commits need Dovecot 2.4), e.g.
#              git clone https://github.com/dovecot/imaptest && git -C imaptest checkout 924f619
#            or an export of it (`git archive 924f619 | tar -x -C SRC_DIR`). Nothing of it is kept here.
#   OUT      where to put the binary (default SRC_DIR/src/imaptest, left in place)
# Prints the path of the binary. Needs no network unless dovecot-dev or autotools are missing
# (then apt-get installs them).
set -euo pipefail
src=${1:?usage: build.sh SRC_DIR [OUT]}
out=${2:-}
src=$(cd "$src" && pwd)
[ -f "$src/configure.ac" ] && [ -d "$src/src/tests" ] || { echo "build.sh: $src is not an imaptest checkout" >&2; exit 1; }

need=()
[ -f /usr/lib/dovecot/dovecot-config ] || need+=(dovecot-dev)
command -v dovecot >/dev/null || need+=(dovecot-imapd)
command -v autoreconf >/dev/null || need+=(autoconf)
command -v automake >/dev/null || need+=(automake)
command -v libtoolize >/dev/null || need+=(libtool)
command -v make >/dev/null || need+=(make)
command -v gcc >/dev/null || need+=(gcc)
if [ ${#need[@]} -gt 0 ]; then
    echo "build.sh: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "${need[@]}" >&2 || { apt-get update -qq >&2 && apt-get install -y -qq "${need[@]}" >&2; }
fi

cd "$src"
# An export without .git has no version for build-aux/git-version-gen: autoreconf then fails with
# "AC_INIT should be called with package and version arguments".
[ -e .git ] || [ -s version ] || echo "0.0.0+924f619" > version

# Debian's 2.3.19 security update added a fourth argument to imap_parser_create()
# (const struct imap_parser_params *). Pass NULL where imaptest passes three; idempotent.
if grep -q 'imap_parser_params \*params' /usr/include/dovecot/imap-parser.h 2>/dev/null; then
    sed -i -E 's/imap_parser_create\(([^;]*), \(size_t\)-1\);/imap_parser_create(\1, (size_t)-1, NULL);/' \
        src/commands.c src/imap-client.c src/test-parser.c
fi

log=$(mktemp /tmp/imaptest-build.XXXXXX.log)
{
    [ -x configure ] || autoreconf -i
    # rpath: libdovecot.so.0 lives in /usr/lib/dovecot, which is not on the loader's path.
    [ -f Makefile ] || ./configure --with-dovecot=/usr/lib/dovecot LDFLAGS="-Wl,-rpath,/usr/lib/dovecot"
    make -j"$(nproc)"
} >"$log" 2>&1 || { tail -40 "$log" >&2; echo "build.sh: build failed, log in $log" >&2; exit 1; }
rm -f "$log"

bin="$src/src/imaptest"
# libtool may leave a wrapper script in src/ and the real binary in src/.libs
[ -f "$src/src/.libs/imaptest" ] && bin="$src/src/.libs/imaptest"
"$bin" --help >/dev/null 2>&1 || true
if [ -n "$out" ]; then
    mkdir -p "$(dirname "$out")"
    [ -d "$out" ] && out="$out/imaptest"
    cp "$bin" "$out"
    bin=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
fi
echo "$bin"
