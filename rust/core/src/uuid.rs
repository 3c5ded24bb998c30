//! Annotation ids: random version-4 UUIDs from a per-thread generator.
//!
//! A fresh id per annotation is all the format needs (Labelbox echoes it back in
//! import statuses); the OS is asked for entropy once per thread, not per id.

use std::cell::RefCell;

thread_local! {
    static RNG: RefCell<fastrand::Rng> = RefCell::new(seeded_rng());
}

fn seeded_rng() -> fastrand::Rng {
    // fastrand seeds itself from the OS and the thread; mixing in the address of a
    // stack value keeps forked processes from sharing a stream.
    let marker = 0u8;
    let mut rng = fastrand::Rng::new();
    let mixed = rng.u64(..) ^ (std::ptr::addr_of!(marker) as u64).rotate_left(32);
    rng.seed(mixed);
    rng
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends a random UUIDv4 in its 36-character hyphenated form.
pub fn push_v4(out: &mut Vec<u8>) {
    let mut bytes = RNG.with(|rng| {
        let mut rng = rng.borrow_mut();
        let hi = rng.u64(..).to_be_bytes();
        let lo = rng.u64(..).to_be_bytes();
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&hi);
        b[8..].copy_from_slice(&lo);
        b
    });
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    push_hyphenated(out, &bytes);
}

/// Appends 16 bytes as `8-4-4-4-12` lowercase hex.
pub fn push_hyphenated(out: &mut Vec<u8>, bytes: &[u8; 16]) {
    let mut text = [0u8; 36];
    let mut pos = 0;
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text[pos] = b'-';
            pos += 1;
        }
        text[pos] = HEX[(byte >> 4) as usize];
        text[pos + 1] = HEX[(byte & 0x0f) as usize];
        pos += 2;
    }
    out.extend_from_slice(&text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn v4_has_version_and_variant_bits_and_does_not_repeat() {
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            let mut out = Vec::new();
            push_v4(&mut out);
            let text = String::from_utf8(out).unwrap();
            assert_eq!(text.len(), 36);
            let parts: Vec<&str> = text.split('-').collect();
            assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
            assert!(parts[2].starts_with('4'), "{text}");
            assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'), "{text}");
            assert!(seen.insert(text));
        }
    }
}
