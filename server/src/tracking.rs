//! Tracking numbers: what a resident reads aloud over the phone or types to find a report,
//! such as `7KQM-4XHD` — eight symbols from a 31-symbol alphabet (31^8, about 40 bits), so
//! numbers are neither sequential nor guessable.
//!
//! A number is made one of two ways. PostgreSQL draws it at random and its unique index
//! catches the rare repeat. SQLite numbers its reports in sequence and shows the resident
//! the sequence number through a keyed permutation ([`Numbering`]): the index that finds a
//! report by its number then grows at its end, where a random number put one scattered
//! index page into the write-ahead log for every report (a quarter of the writer's bytes).

use sha2::{Digest, Sha256};

/// Letters and digits a resident cannot confuse when reading aloud or typing: no 0/O,
/// 1/I/L.
const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Symbols in a number.
const SYMBOLS: usize = 8;

/// How many numbers there are: 31^8.
pub const SPACE: u64 = 31u64.pow(SYMBOLS as u32);

/// Bits in each half of the Feistel network's block (the block covers 2^40 ≥ [`SPACE`]).
const HALF_BITS: u32 = 20;
const HALF_MASK: u64 = (1 << HALF_BITS) - 1;

/// Feistel rounds. Four make a keyed function a strong pseudorandom permutation; a block of
/// two 20-bit halves is small, and more rounds (as FF1 uses ten) leave known-pair attacks on
/// small blocks far beyond what a resident seeing a few numbers could gather.
const ROUNDS: u8 = 10;

/// A new random tracking number (the PostgreSQL store's; its unique index catches the rare
/// repeat and the caller draws again).
pub fn drawn() -> String {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).expect("the operating system's random source works");
    text(u64::from_le_bytes(random) % SPACE)
}

/// Normalises a tracking number typed by a person: upper case, spaces and dashes dropped,
/// the dash put back. Look-alikes (O for 0) are not in the alphabet: left to fail the
/// look-up.
pub fn normalize(input: &str) -> String {
    let compact: String = input.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    if compact.len() == SYMBOLS { format!("{}-{}", &compact[..4], &compact[4..]) } else { compact }
}

/// The number `value` (below [`SPACE`]) as a resident reads it: `XXXX-XXXX`.
fn text(mut value: u64) -> String {
    let mut symbols = [0u8; SYMBOLS];
    for symbol in symbols.iter_mut().rev() {
        *symbol = ALPHABET[(value % 31) as usize];
        value /= 31;
    }
    let symbols = std::str::from_utf8(&symbols).expect("the alphabet is ASCII");
    format!("{}-{}", &symbols[..4], &symbols[4..])
}

/// The value of a normalised number, `None` for text that is not one.
fn value(number: &str) -> Option<u64> {
    let bytes = number.as_bytes();
    if bytes.len() != SYMBOLS + 1 || bytes[4] != b'-' {
        return None;
    }
    bytes.iter().enumerate().filter(|(at, _)| *at != 4).try_fold(0u64, |value, (_, byte)| Some(value * 31 + ALPHABET.iter().position(|symbol| symbol == byte)? as u64))
}

/// A keyed permutation of the numbers: sequence number `n` is shown as `number(n)`, and
/// `sequence(number(n)) == Some(n)`. A Feistel network on 40 bits whose round function is
/// SHA-256 of the key, the round and the half, walked along its cycle until it lands inside
/// [`SPACE`] (1.3 steps on average). Without the key, the numbers of consecutive reports
/// look as unrelated as drawn ones.
#[derive(Clone)]
pub struct Numbering {
    key: [u8; 32],
}

impl std::fmt::Debug for Numbering {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Numbering { key: <redacted> }")
    }
}

impl Numbering {
    pub fn new(key: [u8; 32]) -> Numbering {
        Numbering { key }
    }

    /// The tracking number shown for sequence number `sequence` (below [`SPACE`]).
    pub fn number(&self, sequence: u64) -> String {
        assert!(sequence < SPACE, "tracking sequence {sequence} past the numbers");
        let mut value = self.encrypt(sequence);
        while value >= SPACE {
            value = self.encrypt(value);
        }
        text(value)
    }

    /// The sequence number behind a normalised tracking number, `None` for text that is not
    /// a number.
    pub fn sequence(&self, number: &str) -> Option<u64> {
        let mut value = self.decrypt(value(number)?);
        while value >= SPACE {
            value = self.decrypt(value);
        }
        Some(value)
    }

    fn round(&self, round: u8, half: u64) -> u64 {
        let digest = Sha256::new().chain_update(self.key).chain_update([round]).chain_update((half as u32).to_be_bytes()).finalize();
        u64::from(u32::from_be_bytes([0, digest[0], digest[1], digest[2]])) & HALF_MASK
    }

    fn encrypt(&self, block: u64) -> u64 {
        let (mut left, mut right) = (block >> HALF_BITS, block & HALF_MASK);
        for round in 0..ROUNDS {
            (left, right) = (right, left ^ self.round(round, right));
        }
        (left << HALF_BITS) | right
    }

    fn decrypt(&self, block: u64) -> u64 {
        let (mut left, mut right) = (block >> HALF_BITS, block & HALF_MASK);
        for round in (0..ROUNDS).rev() {
            (left, right) = (right ^ self.round(round, left), left);
        }
        (left << HALF_BITS) | right
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn drawn_numbers_avoid_ambiguous_symbols_and_do_not_repeat() {
        let numbers: HashSet<String> = (0..2000).map(|_| drawn()).collect();
        assert_eq!(numbers.len(), 2000);
        for number in &numbers {
            assert_eq!(number.len(), 9);
            assert!(!number.contains(['0', 'O', '1', 'I', 'L']), "{number}");
            assert_eq!(normalize(number), *number);
        }
    }

    #[test]
    fn typed_numbers_are_normalised() {
        assert_eq!(normalize("7kqm 4xhd"), "7KQM-4XHD");
        assert_eq!(normalize("7KQM-4XHD"), "7KQM-4XHD");
        assert_eq!(normalize(" 7kqm4xhd "), "7KQM-4XHD");
    }

    #[test]
    fn text_and_value_are_inverse_at_the_ends_of_the_space() {
        for value in [0, 1, 30, 31, SPACE / 2, SPACE - 1] {
            assert_eq!(super::value(&text(value)), Some(value));
        }
        assert_eq!(text(0), "2222-2222");
        assert_eq!(text(SPACE - 1), "ZZZZ-ZZZZ");
        for not_a_number in ["", "2222-222", "2222-22222", "22222222", "2222-222O", "2222-2221", "2222_2222"] {
            assert_eq!(super::value(not_a_number), None, "{not_a_number}");
        }
    }

    #[test]
    fn the_permutation_is_inverted_and_never_repeats_a_number() {
        let numbering = Numbering::new([7; 32]);
        let mut seen = HashSet::new();
        for sequence in (0..3000).chain([SPACE - 2, SPACE - 1]) {
            let number = numbering.number(sequence);
            assert_eq!(normalize(&number), number);
            assert_eq!(numbering.sequence(&number), Some(sequence), "{number}");
            assert!(seen.insert(number));
        }
        assert_eq!(numbering.sequence("not a number"), None);
    }

    /// Consecutive reports get unrelated numbers, and another key numbers them otherwise.
    #[test]
    fn consecutive_numbers_look_drawn() {
        let numbering = Numbering::new([7; 32]);
        let other = Numbering::new([8; 32]);
        let values: Vec<u64> = (1..=1000).map(|sequence| value(&numbering.number(sequence)).unwrap()).collect();
        // Spread over the whole space: each eighth of it holds about an eighth of them.
        for eighth in 0..8 {
            let inside = values.iter().filter(|value| **value * 8 / SPACE == eighth).count();
            assert!((75..=175).contains(&inside), "eighth {eighth}: {inside}");
        }
        // Neighbours share no more leading symbols than chance would have them share.
        let close = values.windows(2).filter(|pair| pair[0].abs_diff(pair[1]) < SPACE / 31).count();
        assert!(close < 100, "{close} of 999 neighbours within a 31st of the space");
        let same = (1..=1000).filter(|sequence| numbering.number(*sequence) == other.number(*sequence)).count();
        assert_eq!(same, 0);
    }
}
