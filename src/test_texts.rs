//! Deterministic random texts for unit tests: short strings made of parts where the rules
//! under test differ, drawn from a fixed xorshift sequence so every run checks the same texts.

/// Each char of `s` as a part.
pub fn chars_of(s: &str) -> Vec<String> {
    s.chars().map(String::from).collect()
}

/// `count` texts of fewer than `max_parts` parts each, every part drawn from `alphabet`.
pub fn random_texts(alphabet: &[String], count: usize, max_parts: u64) -> Vec<String> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let parts = next() % max_parts;
            (0..parts)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize].as_str())
                .collect()
        })
        .collect()
}
