//! Annotation ids: random version-4 UUIDs from a per-thread generator, and
//! name-based version-5 UUIDs for deterministic ids.
//!
//! A fresh id per annotation is all the format needs (Labelbox echoes it back in
//! import statuses); the OS is asked for entropy once per thread, not per id.
//! Deterministic ids (RFC 4122 version 5: SHA-1 of a namespace and a name) make a
//! re-run of the same job write identical bytes. SHA-1 is `RustCrypto`'s `sha1`, which
//! picks the CPU's SHA extensions at run time where there are any (most x86-64 since
//! about 2017): a deterministic id costs a fifth of what a portable SHA-1 takes.

use std::cell::RefCell;

use sha1::digest::generic_array::GenericArray;
use sha1::{Digest as _, Sha1};

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

/// lbfast's namespace for deterministic annotation ids:
/// `60ddfc2e-b6a6-5f02-b9a8-47a8c67af0b9`, which is itself
/// `uuid.uuid5(uuid.NAMESPACE_DNS, "annotation-ids.lbfast")`.
pub const LBFAST_NAMESPACE: [u8; 16] =
    [0x60, 0xdd, 0xfc, 0x2e, 0xb6, 0xa6, 0x5f, 0x02, 0xb9, 0xa8, 0x47, 0xa8, 0xc6, 0x7a, 0xf0, 0xb9];

/// The version-5 UUID of `name` in `namespace` (what Python's `uuid.uuid5` computes).
pub fn v5(namespace: &[u8; 16], name: &[u8]) -> [u8; 16] {
    let mut hasher = Sha1::new();
    hasher.update(namespace);
    hasher.update(name);
    v5_from(hasher)
}

/// Version-5 ids in one namespace. A name that fits two SHA-1 blocks with the
/// namespace (103 bytes; ids of columnar rows are about 60) is laid out with its
/// padding on the stack and compressed directly, skipping the streaming hasher's
/// buffering of each part; longer names take the streaming hasher.
#[derive(Clone)]
pub struct V5Hasher {
    namespace: [u8; 16],
    streaming: Sha1,
}

/// SHA-1's initial state (FIPS 180-4, 5.3.1).
const SHA1_INITIAL: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];

impl V5Hasher {
    pub fn new(namespace: &[u8; 16]) -> Self {
        let mut streaming = Sha1::new();
        streaming.update(namespace);
        V5Hasher { namespace: *namespace, streaming }
    }

    /// The version-5 UUID of the concatenation of `parts`.
    pub fn uuid(&self, parts: &[&[u8]]) -> [u8; 16] {
        let len = 16 + parts.iter().map(|p| p.len()).sum::<usize>();
        // The message, a 0x80 byte and the 8-byte bit length fit in 1 or 2 blocks.
        if len + 9 > 128 {
            let mut hasher = self.streaming.clone();
            for part in parts {
                hasher.update(part);
            }
            return v5_from(hasher);
        }
        let mut message = [0u8; 128];
        message[..16].copy_from_slice(&self.namespace);
        let mut at = 16;
        for part in parts {
            message[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        message[len] = 0x80;
        let end = if len + 9 <= 64 { 64 } else { 128 };
        message[end - 8..end].copy_from_slice(&((len as u64) * 8).to_be_bytes());
        let mut state = SHA1_INITIAL;
        for block in message[..end].chunks_exact(64) {
            sha1::compress(&mut state, std::slice::from_ref(GenericArray::from_slice(block)));
        }
        let mut digest = [0u8; 16];
        for (bytes, word) in digest.chunks_exact_mut(4).zip(state) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        versioned(digest)
    }
}

fn v5_from(hasher: Sha1) -> [u8; 16] {
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    versioned(bytes)
}

/// The first 16 bytes of a SHA-1 digest with the version and variant bits of a `UUIDv5`.
fn versioned(mut bytes: [u8; 16]) -> [u8; 16] {
    bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    bytes
}

/// Appends a random `UUIDv4` in its 36-character hyphenated form.
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

/// A random `UUIDv4` as text, for a line that another line refers to by uuid.
pub fn v4_string() -> String {
    let mut out = Vec::with_capacity(36);
    push_v4(&mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Two lowercase hex digits per byte value.
static HEX_PAIRS: [[u8; 2]; 256] = {
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [HEX[i >> 4], HEX[i & 0x0f]];
        i += 1;
    }
    table
};

/// Appends 16 bytes as `8-4-4-4-12` lowercase hex.
pub fn push_hyphenated(out: &mut Vec<u8>, bytes: &[u8; 16]) {
    // Where each byte's two digits go; the hyphens sit at 8, 13, 18 and 23.
    const AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
    let mut text = [b'-'; 36];
    for (byte, at) in bytes.iter().zip(AT) {
        let [hi, lo] = HEX_PAIRS[*byte as usize];
        text[at] = hi;
        text[at + 1] = lo;
    }
    out.extend_from_slice(&text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn text(bytes: &[u8; 16]) -> String {
        let mut out = Vec::new();
        push_hyphenated(&mut out, bytes);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn v5_matches_python_uuid5() {
        // uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") in the Python documentation.
        let dns =
            [0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8];
        assert_eq!(text(&v5(&dns, b"python.org")), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
        assert_eq!(v5(&dns, b"annotation-ids.lbfast"), LBFAST_NAMESPACE);
        let split = V5Hasher::new(&dns).uuid(&[b"python", b".", b"org"]);
        assert_eq!(text(&split), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    }

    #[test]
    fn v5_ids_are_those_of_the_portable_sha1_they_replaced() {
        // Names of every length around the block boundaries (55, 64, 119 bytes with
        // the namespace), split anywhere: the ids written before must not change.
        let mut rng = fastrand::Rng::with_seed(11);
        let hasher = V5Hasher::new(&LBFAST_NAMESPACE);
        for len in 0..300 {
            let name: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
            let mut portable = sha1_smol::Sha1::new();
            portable.update(&LBFAST_NAMESPACE);
            portable.update(&name);
            let mut expected = [0u8; 16];
            expected.copy_from_slice(&portable.digest().bytes()[..16]);
            expected[6] = (expected[6] & 0x0f) | 0x50;
            expected[8] = (expected[8] & 0x3f) | 0x80;
            assert_eq!(v5(&LBFAST_NAMESPACE, &name), expected, "{len}");
            let cut = rng.usize(..=len);
            assert_eq!(hasher.uuid(&[&name[..cut], &name[cut..]]), expected, "{len}");
        }
    }

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
