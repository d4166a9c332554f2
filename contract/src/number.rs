//! Decimal numbers as residents type and read them ("36.6", "-5", "36,6" on a Russian
//! keyboard), read and written by both sides alike. Written here rather than with the
//! standard library's general float parser and printer: their lookup tables alone weigh
//! about 15 KB of the widget's wasm, for values a form field never holds.

/// Reads a plain decimal number: an optional sign, digits, and optionally a decimal point
/// (`.` or `,`) with more digits. No exponents, no `inf`/`NaN`, at most 15 significant
/// digits, so the value is exactly the nearest `f64` (an integer of up to 15 digits divided
/// by a power of ten, each exact, is rounded once).
pub fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = digits.split_once(['.', ',']).unwrap_or((digits, ""));
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let significant = whole.trim_start_matches('0').len() + fraction.len();
    if significant > 15 || fraction.len() > 15 {
        return None;
    }
    let mut mantissa: u64 = 0;
    for byte in whole.bytes().chain(fraction.bytes()) {
        mantissa = mantissa * 10 + u64::from(byte - b'0');
    }
    let value = mantissa as f64 / POWERS_OF_TEN[fraction.len()];
    Some(if negative { -value } else { value })
}

const POWERS_OF_TEN: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// Writes `value` the way a person reads it: no exponent, at most `decimals` (≤ 9) digits
/// after the point, trailing zeros dropped (`40.5`, `-30`, `0.25`). Magnitudes beyond what
/// 64 bits hold at that precision are clamped; none of the widget's numbers come near.
pub fn format_number(value: f64, decimals: u32) -> String {
    let decimals = decimals.min(9);
    let scale = 10u64.pow(decimals);
    let scaled = (value.abs() * scale as f64).round();
    if scaled == 0.0 || value.is_nan() {
        return "0".into();
    }
    let scaled = if scaled >= u64::MAX as f64 { u64::MAX } else { scaled as u64 };
    let sign = if value < 0.0 { "-" } else { "" };
    let (whole, fraction) = (scaled / scale, scaled % scale);
    if fraction == 0 {
        return format!("{sign}{whole}");
    }
    let fraction = format!("{fraction:0width$}", width = decimals as usize);
    format!("{sign}{whole}.{}", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_residents_type() {
        assert_eq!(parse_number("36.6"), Some(36.6));
        assert_eq!(parse_number(" 36,6 "), Some(36.6));
        assert_eq!(parse_number("-5"), Some(-5.0));
        assert_eq!(parse_number("+12"), Some(12.0));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("7."), Some(7.0));
        assert_eq!(parse_number("0.1"), Some(0.1));
        assert_eq!(parse_number("123456789012345"), Some(123456789012345.0));
        assert_eq!(parse_number("0.000000000000001"), Some(1e-15));
        for text in ["", "-", ".", "1e3", "inf", "NaN", "1.2.3", "1,2.3", "12 3", "١٢", "0x10", "1234567890123456", "--1"] {
            assert_eq!(parse_number(text), None, "{text:?}");
        }
    }

    #[test]
    fn agrees_with_the_standard_parser_where_both_apply() {
        for text in ["3.14159", "-273.15", "0.3", "99999.99", "100000000000000", "0.000123", "2.5e0"] {
            assert_eq!(parse_number(text), text.parse::<f64>().ok().filter(|_| !text.contains('e')), "{text}");
        }
    }

    #[test]
    fn writes_numbers_people_read() {
        assert_eq!(format_number(40.5, 6), "40.5");
        assert_eq!(format_number(-30.0, 6), "-30");
        assert_eq!(format_number(0.25, 6), "0.25");
        assert_eq!(format_number(-0.0, 6), "0");
        assert_eq!(format_number(1.05, 1), "1.1");
        assert_eq!(format_number(45.75321234, 6), "45.753212");
        assert_eq!(format_number(126.6123456789, 6), "126.612346");
        assert_eq!(format_number(12.4, 0), "12");
        assert_eq!(format_number(1e300, 2), "184467440737095516.15");
        assert_eq!(format_number(f64::NAN, 2), "0");
    }
}
