//! Dates for SEARCH (`date`) and date-times for APPEND / INTERNALDATE
//! (`date-time`), RFC 9051 §9.

use std::fmt;

use crate::cursor::{Cursor, PErr, PResult};
use crate::error::ParseError;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A calendar date; construction checks the day against the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// `None` unless `1 <= month <= 12`, the day exists and the year has
    /// four digits (`date-year = 4DIGIT`).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        if year <= 9999 && day >= 1 && day <= days_in_month(year, month) {
            Some(Date { year, month, day })
        } else {
            None
        }
    }

    pub fn year(&self) -> u16 {
        self.year
    }

    /// 1 = January.
    pub fn month(&self) -> u8 {
        self.month
    }

    pub fn day(&self) -> u8 {
        self.day
    }

    /// `date = date-text / DQUOTE date-text DQUOTE`,
    /// `date-text = date-day "-" date-month "-" date-year`.
    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        let quoted = c.eat(b'"')?;
        let start = c.pos();
        let day = fixed_digits(c, 1, 2)?;
        let date = Self::parse_month_year(c, day, start)?;
        if quoted {
            c.expect(b'"', "DQUOTE")?;
        }
        Ok(date)
    }

    fn parse_month_year(c: &mut Cursor, day: u32, start: usize) -> PResult<Self> {
        c.expect(b'-', "-")?;
        let month = parse_month(c)?;
        c.expect(b'-', "-")?;
        let year = fixed_digits(c, 4, 4)?;
        let invalid = PErr::Fail(ParseError::InvalidDate { offset: start });
        let day = u8::try_from(day).map_err(|_| invalid.clone())?;
        let year = u16::try_from(year).map_err(|_| invalid.clone())?;
        Date::new(year, month, day).ok_or(invalid)
    }
}

impl fmt::Display for Date {
    /// `d-Mon-yyyy`, the form SEARCH accepts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let month = MONTHS
            .get(usize::from(self.month).saturating_sub(1))
            .copied()
            .unwrap_or("Jan");
        write!(f, "{}-{}-{:04}", self.day, month, self.year)
    }
}

/// A date, time of day and UTC offset, as in `"17-Jul-1996 02:44:25 -0700"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    date: Date,
    hour: u8,
    minute: u8,
    second: u8,
    /// Offset from UTC in minutes (`zone = ("+" / "-") 4DIGIT`).
    offset_minutes: i16,
}

impl DateTime {
    /// `None` for an impossible time or an offset beyond ±23:59.
    pub fn new(date: Date, hour: u8, minute: u8, second: u8, offset_minutes: i16) -> Option<Self> {
        // Seconds up to 60 admit a leap second.
        if hour < 24 && minute < 60 && second <= 60 && offset_minutes.unsigned_abs() < 24 * 60 {
            Some(DateTime {
                date,
                hour,
                minute,
                second,
                offset_minutes,
            })
        } else {
            None
        }
    }

    pub fn date(&self) -> Date {
        self.date
    }

    pub fn time(&self) -> (u8, u8, u8) {
        (self.hour, self.minute, self.second)
    }

    pub fn offset_minutes(&self) -> i16 {
        self.offset_minutes
    }

    /// Seconds since the Unix epoch (the store keeps INTERNALDATE this way).
    pub fn unix_timestamp(&self) -> i64 {
        let days = days_from_civil(
            i64::from(self.date.year),
            i64::from(self.date.month),
            i64::from(self.date.day),
        );
        days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(self.offset_minutes) * 60
    }

    /// `date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP
    /// time SP zone DQUOTE`, `date-day-fixed = (SP DIGIT) / 2DIGIT`.
    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        c.expect(b'"', "date-time")?;
        let start = c.pos();
        let day = if c.eat(b' ')? {
            fixed_digits(c, 1, 1)?
        } else {
            fixed_digits(c, 2, 2)?
        };
        let date = Date::parse_month_year(c, day, start)?;
        c.sp()?;
        let hour = fixed_digits(c, 2, 2)?;
        c.expect(b':', ":")?;
        let minute = fixed_digits(c, 2, 2)?;
        c.expect(b':', ":")?;
        let second = fixed_digits(c, 2, 2)?;
        c.sp()?;
        let sign: i32 = match c.next()? {
            b'+' => 1,
            b'-' => -1,
            _ => return Err(ParseError::InvalidDate { offset: start }.into()),
        };
        let zone = fixed_digits(c, 4, 4)?;
        c.expect(b'"', "DQUOTE")?;
        let (zh, zm) = (zone / 100, zone % 100);
        let invalid = PErr::Fail(ParseError::InvalidDate { offset: start });
        if zm >= 60 {
            return Err(invalid);
        }
        let offset =
            i16::try_from(sign * i32::try_from(zh * 60 + zm).map_err(|_| invalid.clone())?)
                .map_err(|_| invalid.clone())?;
        let narrow = |v: u32| u8::try_from(v).map_err(|_| invalid.clone());
        DateTime::new(
            date,
            narrow(hour)?,
            narrow(minute)?,
            narrow(second)?,
            offset,
        )
        .ok_or(invalid.clone())
    }
}

impl fmt::Display for DateTime {
    /// The quoted wire form, e.g. `"07-Feb-1994 21:52:25 -0800"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let month = MONTHS
            .get(usize::from(self.date.month).saturating_sub(1))
            .copied()
            .unwrap_or("Jan");
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let offset = self.offset_minutes.unsigned_abs();
        write!(
            f,
            "\"{:02}-{}-{:04} {:02}:{:02}:{:02} {}{:02}{:02}\"",
            self.date.day,
            month,
            self.date.year,
            self.hour,
            self.minute,
            self.second,
            sign,
            offset / 60,
            offset % 60
        )
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
/// algorithm), so the crate needs no date library.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Between `min` and `max` ASCII digits.
fn fixed_digits(c: &mut Cursor, min: usize, max: usize) -> PResult<u32> {
    let start = c.pos();
    let mut value = 0u32;
    let mut count = 0;
    while count < max {
        let b = c.peek()?;
        if !b.is_ascii_digit() {
            break;
        }
        c.next()?;
        value = value * 10 + u32::from(b - b'0');
        count += 1;
    }
    if count < min {
        return Err(ParseError::InvalidDate { offset: start }.into());
    }
    Ok(value)
}

/// `date-month`, case-insensitive.
fn parse_month(c: &mut Cursor) -> PResult<u8> {
    let start = c.pos();
    for (i, name) in MONTHS.iter().enumerate() {
        if c.eat_ci(name)? {
            return u8::try_from(i + 1)
                .map_err(|_| ParseError::InvalidDate { offset: start }.into());
        }
    }
    Err(ParseError::InvalidDate { offset: start }.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let cases: &[(&str, Option<(u16, u8, u8)>)] = &[
            ("1-Feb-1994 ", Some((1994, 2, 1))),
            ("01-feb-1994 ", Some((1994, 2, 1))),
            ("\"29-Feb-2000\" ", Some((2000, 2, 29))),
            ("29-Feb-1900 ", None),
            ("31-Apr-2020 ", None),
            ("0-Jan-2020 ", None),
            ("1-Foo-2020 ", None),
            ("1-Jan-20 ", None),
            ("123-Jan-2020 ", None),
        ];
        for (input, expected) in cases {
            let got = Date::parse(&mut Cursor::new(input.as_bytes())).ok();
            assert_eq!(
                got,
                expected.and_then(|(y, m, d)| Date::new(y, m, d)),
                "{input}"
            );
        }
        assert_eq!(
            Date::new(1994, 2, 1).map(|d| d.to_string()),
            Some("1-Feb-1994".into())
        );
    }

    #[test]
    fn date_times() {
        let cases: &[(&str, Option<(u16, u8, u8, u8, u8, u8, i16)>)] = &[
            (
                "\"17-Jul-1996 02:44:25 -0700\" ",
                Some((1996, 7, 17, 2, 44, 25, -420)),
            ),
            (
                "\" 7-Feb-1994 21:52:25 +0130\" ",
                Some((1994, 2, 7, 21, 52, 25, 90)),
            ),
            (
                "\"07-Feb-1994 21:52:25 +0000\" ",
                Some((1994, 2, 7, 21, 52, 25, 0)),
            ),
            ("\"7-Feb-1994 21:52:25 +0000\" ", None),
            ("\"07-Feb-1994 24:00:00 +0000\" ", None),
            ("\"07-Feb-1994 21:52:25 +0060\" ", None),
            ("\"07-Feb-1994 21:52:25 0000\" ", None),
            ("\"07-Feb-1994 21:52 +0000\" ", None),
            ("07-Feb-1994 21:52:25 +0000 ", None),
        ];
        for (input, expected) in cases {
            let got = DateTime::parse(&mut Cursor::new(input.as_bytes())).ok();
            let want = expected.and_then(|(y, mo, d, h, mi, s, z)| {
                DateTime::new(Date::new(y, mo, d)?, h, mi, s, z)
            });
            assert_eq!(got, want, "{input}");
        }
    }

    #[test]
    fn display_and_timestamp() {
        let dt = Date::new(1996, 7, 17).and_then(|d| DateTime::new(d, 2, 44, 25, -420));
        assert_eq!(
            dt.map(|d| d.to_string()),
            Some("\"17-Jul-1996 02:44:25 -0700\"".into())
        );
        // 1996-07-17T09:44:25Z
        assert_eq!(dt.map(|d| d.unix_timestamp()), Some(837_596_665));
        let epoch = Date::new(1970, 1, 1).and_then(|d| DateTime::new(d, 0, 0, 0, 0));
        assert_eq!(epoch.map(|d| d.unix_timestamp()), Some(0));
    }
}
