//! Identifiers and timestamps: report ids (UUID v7) and the clock in the two forms the
//! store uses (tracking numbers are [`crate::tracking`]'s).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A new report id: a UUID v7 (RFC 9562), its millisecond time first and then random bits,
/// so ids sort in the order reports arrived. The indexes keyed by it (the report's own,
/// its outbox row's, its timeline's) then grow at their end, as a sequence would: a group
/// commit rewrites a few pages at the end of each index instead of one scattered page per
/// report (with random ids that was most of what the single writer wrote).
pub fn new_report_id() -> String {
    uuid::Uuid::now_v7().to_string()
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
}
