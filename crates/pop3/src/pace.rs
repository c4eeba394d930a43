//! When the session reads its next command: at most at the configured rate (a client over it
//! waits, see `mailroom_net::RateLimit` for why), and not past the idle timeout or, before
//! login, the login deadline.

use crate::proto::MAX_LINE;
use crate::server::Pop3Config;
use mailroom_net::RateLimit;
use mailroom_net::{Connection, Line};
use std::io;
use tokio::time::Instant;

const LOGIN_TIMEOUT: &str = "Autologout: no successful login in time";

pub(crate) enum Next {
    Line(Line),
    /// The session ends with this -ERR text.
    Stop(&'static str),
}

pub(crate) struct Pace {
    rate: RateLimit,
    /// Counted from connect, so a client can't stay unauthenticated for ever by sending CAPA
    /// or USER now and then.
    login_deadline: Instant,
    idle: std::time::Duration,
}

impl Pace {
    pub fn new(config: &Pop3Config) -> Self {
        Pace {
            rate: RateLimit::new(config.commands),
            login_deadline: Instant::now() + config.auth_timeout,
            idle: config.idle_timeout,
        }
    }

    /// The next line, read once the rate allows. The line is read before the rate and the
    /// deadline are looked at, so a farewell never meets unread input (a close with unread
    /// input is a reset, which can destroy the farewell before the client reads it).
    pub async fn next_line(
        &mut self,
        conn: &mut Connection,
        authenticated: bool,
    ) -> io::Result<Next> {
        let idle_until = Instant::now() + self.idle;
        let deadline = if authenticated {
            idle_until
        } else {
            idle_until.min(self.login_deadline)
        };
        let line = match tokio::time::timeout_at(deadline, conn.read_line(MAX_LINE)).await {
            Ok(line) => line?,
            Err(_) if !authenticated && deadline == self.login_deadline => {
                return Ok(Next::Stop(LOGIN_TIMEOUT));
            }
            // RFC 1939 §3: the autologout timer.
            Err(_) => return Ok(Next::Stop("Autologout: idle for too long")),
        };
        // A client that always has its next line ready never waits on a read, so the read's
        // timeout alone would never end its login phase.
        if !authenticated && Instant::now() >= self.login_deadline {
            return Ok(Next::Stop(LOGIN_TIMEOUT));
        }
        if !matches!(line, Line::Eof) && self.rate.acquire().await.is_err() {
            return Ok(Next::Stop("Too many commands, slow down"));
        }
        Ok(Next::Line(line))
    }
}
