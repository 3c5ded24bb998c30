//! [`ShortText`]: an immutable string held inline when it is short, as an annotation's
//! uuid (36 bytes) is, and on the heap otherwise. Reading a million lines then makes
//! no allocation, and no free, per uuid: malloc and free were a tenth of `lbfast
//! validate`'s time (see `docs/reading.md`).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Bytes held inline: the most that keeps the value at 40 bytes.
const INLINE: usize = 38;

#[derive(Clone)]
pub struct ShortText(Repr);

#[derive(Clone)]
enum Repr {
    /// `len` bytes of UTF-8 at the start of `bytes`.
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap(Box<str>),
}

impl ShortText {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // SAFETY: made from a `&str` of `len` bytes only (see `From<&str>`).
            Repr::Inline { len, bytes } => unsafe {
                std::str::from_utf8_unchecked(&bytes[..usize::from(*len)])
            },
            Repr::Heap(text) => text,
        }
    }
}

impl From<&str> for ShortText {
    fn from(text: &str) -> Self {
        match u8::try_from(text.len()) {
            Ok(len) if text.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..text.len()].copy_from_slice(text.as_bytes());
                ShortText(Repr::Inline { len, bytes })
            }
            _ => ShortText(Repr::Heap(text.into())),
        }
    }
}

impl From<String> for ShortText {
    fn from(text: String) -> Self {
        if text.len() <= INLINE {
            return ShortText::from(text.as_str());
        }
        ShortText(Repr::Heap(text.into_boxed_str()))
    }
}

impl Deref for ShortText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for ShortText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ShortText {}

impl Hash for ShortText {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_texts_read_back_as_given() {
        let uuid = "666d2532-ee46-4b7c-9f3a-0123456789ab";
        for text in ["", "é", uuid, &"x".repeat(INLINE), &"y".repeat(INLINE + 1), &"ü".repeat(100)] {
            let short = ShortText::from(text);
            assert_eq!(short.as_str(), text);
            assert_eq!(ShortText::from(text.to_string()), short);
            assert_eq!(format!("{short:?}"), format!("{text:?}"));
            assert_eq!(short.to_string(), text);
        }
        assert!(matches!(ShortText::from(uuid).0, Repr::Inline { .. }));
        assert!(matches!(ShortText::from("z".repeat(INLINE + 1)).0, Repr::Heap(_)));
        assert_ne!(ShortText::from("a"), ShortText::from("b"));
        assert_eq!(std::mem::size_of::<ShortText>(), 40);
    }
}
