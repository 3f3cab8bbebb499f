//! The one duration parser that every Ferry setting, label and CLI flag uses.
//!
//! It accepts what `hf jobs --timeout` accepts: plain seconds (`300`) or a number with a
//! one-letter lower-case suffix, `s`, `m`, `h` or `d` (`90s`, `10m`, `1.5h`, `1d`). Fractions are
//! truncated to whole seconds after scaling, as `huggingface_hub` does (`1.5h` is 5400 s).
//!
//! It deliberately does not accept upper-case suffixes, spaces, signs or combined forms
//! (`1h30m`): the Hub client refuses them, so Ferry refuses them too.
//!
//! It also holds the one retry backoff formula, [`backoff`]: exponential from a base, capped,
//! without jitter (callers that want jitter add it).

use std::fmt;
use std::time::Duration;

#[cfg(test)]
mod tests;

/// Why a duration did not parse. The message names the text and the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(
        "empty duration: write seconds (300) or a number with s, m, h or d (90s, 10m, 1.5h, 1d)"
    )]
    Empty,
    #[error(
        "invalid duration '{0}': write seconds (300) or a number with s, m, h or d (90s, 10m, 1.5h, 1d)"
    )]
    Invalid(String),
    #[error("duration '{0}' is too long")]
    TooLong(String),
}

/// Parses a duration into whole seconds.
pub fn parse_seconds(text: &str) -> Result<u64, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Empty);
    }
    let invalid = || Error::Invalid(text.to_owned());
    let (number, unit) = match text.as_bytes()[text.len() - 1] {
        b's' => (&text[..text.len() - 1], 1u64),
        b'm' => (&text[..text.len() - 1], 60),
        b'h' => (&text[..text.len() - 1], 3_600),
        b'd' => (&text[..text.len() - 1], 86_400),
        _ => (text, 1),
    };
    // Only digits with at most one dot: no signs, exponents, `inf` or `nan`.
    let well_formed = !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && number.bytes().filter(|&b| b == b'.').count() <= 1
        && number.bytes().any(|b| b.is_ascii_digit());
    if !well_formed {
        return Err(invalid());
    }
    // Plain numbers without a unit must be whole, as Python's int() demands.
    if unit == 1 && !text.ends_with('s') && number.contains('.') {
        return Err(invalid());
    }
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let seconds = (value * unit as f64).trunc();
    if !seconds.is_finite() || seconds >= u64::MAX as f64 {
        return Err(Error::TooLong(text.to_owned()));
    }
    Ok(seconds as u64)
}

/// Parses a duration into a [`Duration`] of whole seconds.
pub fn parse(text: &str) -> Result<Duration, Error> {
    parse_seconds(text).map(Duration::from_secs)
}

/// Formats seconds in the shortest exact form the parser reads back (`5400` → `90m`).
pub fn format_seconds(seconds: u64) -> String {
    Compact(seconds).to_string()
}

struct Compact(u64);

impl fmt::Display for Compact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        match s {
            0 => write!(f, "0s"),
            _ if s.is_multiple_of(86_400) => write!(f, "{}d", s / 86_400),
            _ if s.is_multiple_of(3_600) => write!(f, "{}h", s / 3_600),
            _ if s.is_multiple_of(60) => write!(f, "{}m", s / 60),
            _ => write!(f, "{s}s"),
        }
    }
}

/// The wait before retry number `attempt` (1-based): `base` doubled after every failed attempt
/// (`base`, `2 × base`, `4 × base`…), never more than `max`. Attempt 0 waits `base` too. No
/// jitter, and no overflow however large `attempt` grows.
pub fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1);
    let factor = 2u32.checked_pow(doublings).unwrap_or(u32::MAX);
    base.saturating_mul(factor).min(max)
}
