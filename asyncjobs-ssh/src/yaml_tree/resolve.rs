//! The type of a plain scalar, from its text, as YAML 1.2's core schema
//! says and as serde_yaml read it before (so files keep their meaning):
//! `~`/`null`/empty is null, `true`/`True`/`TRUE` (and false) booleans,
//! integers in decimal, `0x`, `0o` or `0b` with a sign, floats with
//! `.inf`/`.nan`, anything else a string. Leading zeros (`007`) make a
//! string, as the spec says. A quoted scalar is always a string.

use std::num::ParseIntError;

/// A scalar's value with its type resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Resolved<'a> {
    /// `~`, `null`, `Null`, `NULL` or nothing.
    Null,
    /// `true`, `false` and their capitalised forms.
    Bool(bool),
    /// A non-negative integer that fits 64 bits.
    Unsigned(u64),
    /// A negative integer that fits 64 bits.
    Signed(i64),
    /// A non-negative integer that only fits 128 bits.
    BigUnsigned(u128),
    /// A negative integer that only fits 128 bits.
    BigSigned(i128),
    /// A float, infinities and NaN included.
    Float(f64),
    /// Anything else, and every quoted scalar.
    Str(&'a str),
}

impl<'a> Resolved<'a> {
    /// Resolves `text`, a plain scalar's when `plain`.
    pub(crate) fn of(text: &'a str, plain: bool) -> Resolved<'a> {
        if !plain {
            return Resolved::Str(text);
        }
        if is_null(text) {
            return Resolved::Null;
        }
        if let Some(b) = parse_bool(text) {
            return Resolved::Bool(b);
        }
        if let Some(n) = parse_unsigned(text, u64::from_str_radix) {
            return Resolved::Unsigned(n);
        }
        if let Some(n) = parse_negative(text, i64::from_str_radix) {
            return Resolved::Signed(n);
        }
        if let Some(n) = parse_unsigned(text, u128::from_str_radix) {
            return Resolved::BigUnsigned(n);
        }
        if let Some(n) = parse_negative(text, i128::from_str_radix) {
            return Resolved::BigSigned(n);
        }
        if !leading_zeros(text) {
            if let Some(f) = parse_f64(text) {
                return Resolved::Float(f);
            }
        }
        Resolved::Str(text)
    }
}

/// The null words, and the empty scalar.
pub(crate) fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// The boolean words.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

type Radix<T> = fn(&str, u32) -> Result<T, ParseIntError>;

/// `rest` (after a sign and a radix prefix) must not start with a sign of
/// its own: `from_str_radix` would take one.
fn digits<T>(rest: &str, radix: u32, parse: Radix<T>) -> Option<T> {
    if rest.starts_with(['+', '-']) {
        return None;
    }
    parse(rest, radix).ok()
}

/// The radix of a `0x`/`0o`/`0b` prefix, and the digits after it.
fn prefixed(text: &str) -> Option<(u32, &str)> {
    [("0x", 16), ("0o", 8), ("0b", 2)]
        .iter()
        .find_map(|&(p, r)| text.strip_prefix(p).map(|rest| (r, rest)))
}

/// A non-negative integer: `12`, `+12`, `0x1f`, `0o17`, `0b101`.
pub(crate) fn parse_unsigned<T>(text: &str, parse: Radix<T>) -> Option<T> {
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    if let Some((radix, rest)) = prefixed(unsigned) {
        if let Some(n) = digits(rest, radix, parse) {
            return Some(n);
        }
    }
    if unsigned.starts_with(['+', '-']) || leading_zeros(text) {
        return None;
    }
    parse(unsigned, 10).ok()
}

/// A negative integer: `-12`, `-0x1f`, `-0o17`, `-0b101`.
pub(crate) fn parse_negative<T>(text: &str, parse: Radix<T>) -> Option<T> {
    let rest = text.strip_prefix('-')?;
    if let Some((radix, digits_)) = prefixed(rest) {
        if digits_.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(n) = parse(&format!("-{digits_}"), radix) {
            return Some(n);
        }
    }
    if rest.starts_with(['+', '-']) || leading_zeros(text) {
        return None;
    }
    parse(text, 10).ok()
}

/// Any integer that fits `T` (for a field of a signed type):
/// [`parse_unsigned`] or [`parse_negative`].
pub(crate) fn parse_signed<T>(text: &str, parse: Radix<T>) -> Option<T> {
    parse_unsigned(text, parse).or_else(|| parse_negative(text, parse))
}

/// A float: `1.5`, `-2e3`, `.inf`, `-.Inf`, `.nan` (integers too: a float
/// field takes `3`).
pub(crate) fn parse_f64(text: &str) -> Option<f64> {
    let unsigned = match text.strip_prefix('+') {
        Some(u) if u.starts_with(['+', '-']) => return None,
        Some(u) => u,
        None => text,
    };
    if let ".inf" | ".Inf" | ".INF" = unsigned {
        return Some(f64::INFINITY);
    }
    match text {
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN.copysign(1.0)),
        _ => {}
    }
    // Rust also reads `inf`, `nan` and `infinity`: strings in YAML
    unsigned.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Digits after a leading zero (`007`, `-01`): a string, says YAML 1.2.
pub(crate) fn leading_zeros(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    t.len() > 1 && t.starts_with('0') && t[1..].bytes().all(|b| b.is_ascii_digit())
}
