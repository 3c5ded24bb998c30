//! The JSON text primitives of the writer: strings, floats and integers.
//!
//! Output is compact UTF-8. Strings escape exactly what RFC 8259 requires (quote,
//! backslash, control characters); Rust strings cannot hold lone surrogates, so
//! none can be written. Floats are shortest round-trip (zmij) and always carry a
//! fraction or exponent, as Python's `repr` does, so `2.0` never turns into `2`.

/// Bytes that need escaping inside a JSON string: 0 = none, b'u' = `\u00XX`, else the letter.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[b'\x08' as usize] = b'b';
    table[b'\t' as usize] = b't';
    table[b'\n' as usize] = b'n';
    table[b'\x0c' as usize] = b'f';
    table[b'\r' as usize] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a quoted JSON string.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if esc == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', esc]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends a finite float in shortest round-trip form. The validator guarantees
/// finiteness before anything is written; a non-finite value here is a bug, and is
/// written as `null` rather than as an invalid token.
pub fn push_f64(out: &mut Vec<u8>, value: f64) {
    debug_assert!(value.is_finite(), "non-finite float reached the writer");
    if !value.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    // Whole numbers below 1e16 (pixel coordinates, integer arrays) are their digits and
    // ".0" in the shortest round-trip form, as in Python's repr; writing them as integers
    // is several times faster than the general algorithm. -0.0 keeps its sign below.
    let whole = value as i64;
    if whole as f64 == value && value.abs() < 1e16 && (whole != 0 || value.is_sign_positive()) {
        push_i64(out, whole);
        out.extend_from_slice(b".0");
        return;
    }
    let mut buf = zmij::Buffer::new();
    out.extend_from_slice(buf.format_finite(value).as_bytes());
}

/// Appends a finite float as a JSON string holding Python's `str` of it (`"0.1"`,
/// `"1e-05"`): how the SDK writes the confidence keys of per-confidence metrics.
pub fn push_f64_key(out: &mut Vec<u8>, value: f64) {
    let mut text = Vec::new();
    push_f64(&mut text, value);
    out.push(b'"');
    out.extend_from_slice(python_repr(&text).as_bytes());
    out.push(b'"');
}

/// Python's `repr` of a float from any shortest round-trip text of it: the same
/// digits, in fixed notation for decimal exponents -4..16, else as `1.5e-05`.
fn python_repr(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text);
    let (sign, unsigned) = text.strip_prefix('-').map_or(("", &*text), |rest| ("-", rest));
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().unwrap_or(0)),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = format!("{whole}{fraction}");
    // The decimal point sits after `point` digits.
    let mut point = whole.len() as i64 + exponent;
    let leading = digits.len() - digits.trim_start_matches('0').len();
    digits.drain(..leading);
    point -= leading as i64;
    let digits = digits.trim_end_matches('0');
    if digits.is_empty() {
        return format!("{sign}0.0");
    }
    let exp = point - 1;
    let n = digits.len() as i64;
    if (-4..16).contains(&exp) {
        if point <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
        } else if point >= n {
            format!("{sign}{digits}{}.0", "0".repeat((point - n) as usize))
        } else {
            let (a, b) = digits.split_at(point as usize);
            format!("{sign}{a}.{b}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{rest}e{esign}{:02}", exp.abs())
    }
}

/// Appends an integer.
pub fn push_i64(out: &mut Vec<u8>, value: i64) {
    let mut buf = [0u8; 20];
    if value < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(decimal(value.unsigned_abs(), &mut buf));
}

/// The decimal digits of `n`, written at the end of `buf`.
pub fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[pos..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(value: &str) -> String {
        let mut out = Vec::new();
        push_str(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    fn f(value: f64) -> String {
        let mut out = Vec::new();
        push_f64(&mut out, value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_quotes_backslashes_and_controls_only() {
        assert_eq!(s("plain"), "\"plain\"");
        assert_eq!(s("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(s("l1\nl2\r\t\x08\x0c"), r#""l1\nl2\r\t\b\f""#);
        assert_eq!(s("\x00\x1f"), r#""\u0000\u001f""#);
        assert_eq!(s("café 😀"), "\"café 😀\"");
        assert_eq!(s(""), "\"\"");
    }

    #[test]
    fn floats_are_shortest_round_trip_and_keep_a_fraction() {
        assert_eq!(f(2.0), "2.0");
        assert_eq!(f(-5.0), "-5.0");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(10.200_000_000_000_001), "10.200000000000001");
        assert_eq!(f(1e300), "1e+300");
        for v in [1e-9, 5e-324, 1.234_567_890_123_456_7e19, 1489.581, f64::MAX, f64::MIN_POSITIVE] {
            assert_eq!(f(v).parse::<f64>().unwrap(), v);
        }
    }

    #[test]
    fn whole_numbers_take_a_shortcut_with_the_same_text() {
        let mut values =
            vec![0.0, -0.0, 1.0, -1.0, 1e15, -1e15, 1e16, -1e16, 1e16 - 2.0, 2f64.powi(53), 0.5, -2.5];
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..100_000 {
            values.push(rng.i64(-100_000..100_000) as f64);
            values.push((rng.i64(..) >> rng.u32(0..63)) as f64);
            values.push(f64::from_bits(rng.u64(..)));
        }
        for v in values.into_iter().filter(|v| v.is_finite()) {
            let mut general = zmij::Buffer::new();
            assert_eq!(f(v), general.format_finite(v), "{v:?}");
        }
    }

    #[test]
    fn keys_are_python_str_of_the_float() {
        let key = |v: f64| {
            let mut out = Vec::new();
            push_f64_key(&mut out, v);
            String::from_utf8(out).unwrap()
        };
        let cases = [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (0.0, "0.0"),
            (1e-7, "1e-07"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (0.000_12, "0.00012"),
            (1e16, "1e+16"),
            (123.0, "123.0"),
            (0.333_333_333_333_333_3, "0.3333333333333333"),
            (-2.5e-9, "-2.5e-09"),
        ];
        for (value, python) in cases {
            assert_eq!(key(value), format!("\"{python}\""), "{value:?}");
        }
    }

    #[test]
    fn integers() {
        let mut out = Vec::new();
        for v in [0i64, 7, -1, 255, i64::MIN, i64::MAX] {
            out.clear();
            push_i64(&mut out, v);
            assert_eq!(String::from_utf8(out.clone()).unwrap(), v.to_string());
        }
    }
}
