//! Identifiers and timestamps: report ids (UUID v7), tracking numbers a resident can read
//! aloud over the phone, and the clock in the two forms the store uses.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Letters and digits a resident cannot confuse when reading aloud or typing: no 0/O,
/// 1/I/L.
const TRACKING_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A new report id: a UUID v7 (RFC 9562), its millisecond time first and then random bits,
/// so ids sort in the order reports arrived. The indexes keyed by it (the report's own,
/// its outbox row's, its timeline's) then grow at their end, as a sequence would: a group
/// commit rewrites a few pages at the end of each index instead of one scattered page per
/// report (with random ids that was most of what the single writer wrote).
pub fn new_report_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A new tracking number such as `7KQM-4XHD`: eight random symbols from a 31-symbol
/// alphabet (about 40 bits), so numbers are neither sequential nor guessable. The store's
/// unique index catches the rare collision and the caller draws again.
pub fn new_tracking_no() -> String {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).expect("the operating system's random source works");
    let symbols: String = random
        .iter()
        // 256 is not a multiple of 31; the bias (at most 1/256 per symbol) does not matter
        // for an identifier that only has to be unguessable, not uniform.
        .map(|byte| TRACKING_ALPHABET[*byte as usize % TRACKING_ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &symbols[..4], &symbols[4..])
}

/// Normalises a tracking number typed by a person: upper case, spaces dropped, and the
/// look-alikes O→0 are not in the alphabet, so they are left to fail the lookup.
pub fn normalize_tracking_no(input: &str) -> String {
    let compact: String = input.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    if compact.len() == 8 { format!("{}-{}", &compact[..4], &compact[4..]) } else { compact }
}

/// Milliseconds since the Unix epoch, the store's clock for scheduling.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_millis() as i64
}

/// An RFC 3339 UTC timestamp with milliseconds for a Unix-epoch millisecond value.
pub fn rfc3339(ms: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(time).to_string()
}

/// Lower-case hexadecimal (content hashes, keyed hashes, signatures).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_two_lower_case_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff, 0x10]), "000fa5ff10");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn report_ids_sort_in_the_order_reports_arrived() {
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.extend((0..50).map(|_| new_report_id()));
            std::thread::sleep(Duration::from_millis(2));
        }
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids);
        assert_eq!(uuid::Uuid::parse_str(&ids[0]).unwrap().get_version_num(), 7);
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
    }

    #[test]
    fn tracking_numbers_avoid_ambiguous_symbols_and_do_not_repeat() {
        let numbers: std::collections::HashSet<String> = (0..2000).map(|_| new_tracking_no()).collect();
        assert_eq!(numbers.len(), 2000);
        for number in &numbers {
            assert_eq!(number.len(), 9);
            assert!(!number.contains(['0', 'O', '1', 'I', 'L']), "{number}");
        }
    }

    #[test]
    fn typed_tracking_numbers_are_normalised() {
        assert_eq!(normalize_tracking_no("7kqm 4xhd"), "7KQM-4XHD");
        assert_eq!(normalize_tracking_no("7KQM-4XHD"), "7KQM-4XHD");
    }
}
