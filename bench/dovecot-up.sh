#!/usr/bin/env bash
# A throw-away Dovecot (Debian's 2.3 packages) on 127.0.0.1, the peer the side-by-side
# benchmarks and the imaptest runs measure Mailroom against.
#
# usage: bench/dovecot-up.sh DIR IMAP_PORT POP3_PORT LMTP_PORT [NUSERS]     (NUSERS: 10)
#
#   accounts  user1 .. userN, password "pass" (plain-text passwd-file). A login or LMTP
#             recipient with a domain (user1@example.test) is the same account: the domain is
#             dropped, so one user template works against Dovecot and Mailroom.
#   mail      Maildir under DIR/mail/USER, "/" hierarchy separator, INBOX plus Sent, Drafts,
#             Trash, Junk and Archive (SPECIAL-USE, created and subscribed on first login),
#             quota (count backend, 1 GiB) with the IMAP QUOTA extension.
#   limits    sized for 1,000+ simultaneous IMAP connections, also from one user and address.
#   no TLS, plain-text logins allowed, log in DIR/dovecot.log, pid in DIR/run/master.pid.
#
# Prints DIR. Stop: dovecot -c DIR/dovecot.conf stop
# Runs as root (Dovecot's master switches to the mail user itself). DIR's parents must be
# reachable by other users (a directory from mktemp -d under /tmp is fine; DIR itself is
# opened to 755 here).
set -euo pipefail

die() { echo "dovecot-up: $*" >&2; exit 1; }
[ $# -ge 4 ] || die "usage: $0 DIR IMAP_PORT POP3_PORT LMTP_PORT [NUSERS]"
dir=$1 imap_port=$2 pop3_port=$3 lmtp_port=$4 nusers=${5:-10}
for p in "$imap_port" "$pop3_port" "$lmtp_port" "$nusers"; do
    [[ $p =~ ^[0-9]+$ ]] || die "not a number: $p"
done
[ "$(id -u)" = 0 ] || die "must run as root"

# --- packages -------------------------------------------------------------------------------
missing=()
[ -x /usr/sbin/dovecot ]       || missing+=(dovecot-core)
[ -x /usr/lib/dovecot/imap ]   || missing+=(dovecot-imapd)
[ -x /usr/lib/dovecot/pop3 ]   || missing+=(dovecot-pop3d)
[ -x /usr/lib/dovecot/lmtp ]   || missing+=(dovecot-lmtpd)
if [ ${#missing[@]} -gt 0 ]; then
    echo "dovecot-up: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    # The package's own instance (if its postinst started one) is not ours; it listens on the
    # standard ports, which this script never uses, so it is left alone.
fi

# --- the mail user --------------------------------------------------------------------------
mail_user=vmail
if ! id "$mail_user" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
        "$mail_user"
fi
uid=$(id -u "$mail_user")
gid=$(id -g "$mail_user")

# --- directory ------------------------------------------------------------------------------
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf=$dir/dovecot.conf
# An instance already running from this directory is stopped first (a re-run replaces it).
if [ -f "$dir/run/master.pid" ] && kill -0 "$(cat "$dir/run/master.pid")" 2>/dev/null; then
    dovecot -c "$conf" stop 2>/dev/null || true
    for _ in $(seq 50); do [ -f "$dir/run/master.pid" ] || break; sleep 0.1; done
fi
mkdir -p "$dir/mail" "$dir/run" "$dir/state"
chmod 755 "$dir"
chown "$uid:$gid" "$dir/mail"
if ! runuser -u "$mail_user" -- test -w "$dir/mail"; then
    die "$mail_user cannot write $dir/mail: a parent of $dir is private; use e.g. \$(mktemp -d)"
fi

# passwd-file: user:password:uid:gid:gecos:home:shell:extra — serves as passdb and userdb.
users=$dir/users
: > "$users"
for i in $(seq 1 "$nusers"); do
    printf 'user%d:{PLAIN}pass:%d:%d::%s/mail/user%d::\n' "$i" "$uid" "$gid" "$dir" "$i" >> "$users"
done
chmod 644 "$users"

# Extensions from optional plugins, when this build has them (Debian's dovecot-core does).
modules=/usr/lib/dovecot/modules
imap_plugins="imap_quota"
[ -f "$modules/lib30_imap_zlib_plugin.so" ] && imap_plugins="$imap_plugins imap_zlib"

cat > "$conf" <<CONF
# Written by bench/dovecot-up.sh; private instance, nothing from /etc/dovecot is read.
protocols = imap pop3 lmtp
listen = 127.0.0.1
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log

ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# "user1@example.test" and "user1" are the same account.
auth_username_format = %Ln

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $users
}
userdb {
  driver = passwd-file
  args = username_format=%n $users
}
first_valid_uid = $uid
last_valid_uid = $uid

mail_location = maildir:~/Maildir
mail_home = $dir/mail/%n

namespace inbox {
  inbox = yes
  separator = /
  prefix =
  mailbox Sent {
    auto = subscribe
    special_use = \\Sent
  }
  mailbox Drafts {
    auto = subscribe
    special_use = \\Drafts
  }
  mailbox Trash {
    auto = subscribe
    special_use = \\Trash
  }
  mailbox Junk {
    auto = subscribe
    special_use = \\Junk
  }
  mailbox Archive {
    auto = subscribe
    special_use = \\Archive
  }
}

mail_plugins = \$mail_plugins quota
plugin {
  quota = count:User quota
  quota_rule = *:storage=1G
  quota_vsizes = yes
}

protocol imap {
  mail_plugins = \$mail_plugins $imap_plugins
  # 1,000 connections from one address, even all for one user.
  mail_max_userip_connections = 2000
}
protocol pop3 {
  pop3_uidl_format = %08Xu%08Xv
  mail_max_userip_connections = 2000
}
protocol lmtp {
  mail_plugins = \$mail_plugins
}

# Process and connection limits: one imap process per session (Dovecot's default), so the
# process limit must exceed the session count; login processes serve many clients each.
default_process_limit = 2500
default_client_limit = 10000
default_vsz_limit = 512M

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
  service_count = 0
  client_limit = 4000
  process_min_avail = 2
}
service imap {
  process_limit = 2500
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $pop3_port
  }
  inet_listener pop3s {
    port = 0
  }
  service_count = 0
}
service pop3 {
  process_limit = 500
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp_port
  }
}
service anvil {
  client_limit = 12000
}
CONF

# Each IMAP process watches its mailbox with inotify while in IDLE; past this per-user limit
# Dovecot logs a warning and polls instead (same memory, a little more CPU).
inotify=$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 0)
if [ "$inotify" -gt 0 ] && [ "$inotify" -lt 1100 ]; then
    echo "dovecot-up: note: fs.inotify.max_user_instances is $inotify; IDLE sessions beyond that" \
        "poll (sysctl -w fs.inotify.max_user_instances=2048 to avoid)" >&2
fi

doveconf -c "$conf" -n >/dev/null 2>"$dir/doveconf.err" || { cat "$dir/doveconf.err" >&2; die "bad configuration"; }
ulimit -n 65536 2>/dev/null || true
dovecot -c "$conf"

# Ready when every listener accepts.
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 100); do
    up "$imap_port" && up "$pop3_port" && up "$lmtp_port" && break
    sleep 0.1
done
if ! { up "$imap_port" && up "$pop3_port" && up "$lmtp_port"; }; then
    tail -n 20 "$dir/dovecot.log" >&2 || true
    die "Dovecot did not come up (log: $dir/dovecot.log)"
fi
echo "$dir"
