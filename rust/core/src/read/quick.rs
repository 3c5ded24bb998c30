//! The common line of an import file (an object with a box or a point, its data row,
//! name and scores) read straight from its text, with no value tree and no owned
//! keys: about a fifth of the general path's work per line.
//!
//! It reads only what it is sure of: plain strings (no escapes), numbers in JSON's
//! grammar, the known keys once each, `classifications` empty. Anything else, a
//! problem included, gives `None`, and the line goes to the general path (sonic-rs
//! and [`super::read_annotation`]), which reports it. So a line read here is the
//! annotation the general path would have made of it, and its problems are always
//! the general path's messages.

use sonic_number::ParserNumber;

use super::json::Texts;
use crate::model::{Annotation, BBox, Body, DataRow, Feature, Geometry, Object, Pt, Scores};

/// The annotation of `line`, when it is of the common shape and has no problem.
pub fn read_line(line: &[u8], texts: &Texts) -> Option<Annotation> {
    // Validated once: a string is then a slice of it, between two ASCII quotes.
    let mut cursor = Cursor { text: std::str::from_utf8(line).ok()?, at: 0 };
    let mut line = Line::default();
    cursor.object(|key, cursor| line.entry(key, cursor, texts))?;
    cursor.end()?;
    line.into_annotation()
}

/// What the keys of a line said.
#[derive(Default)]
struct Line<'a> {
    uuid: Option<&'a str>,
    data_row: Option<DataRow>,
    feature: Feature,
    confidence: Option<f64>,
    classifications: bool,
    geometry: Option<Geometry>,
}

impl<'a> Line<'a> {
    fn entry(&mut self, key: &str, cursor: &mut Cursor<'a>, texts: &Texts) -> Option<()> {
        match key {
            "uuid" if self.uuid.is_none() => self.uuid = Some(cursor.string()?),
            "dataRow" if self.data_row.is_none() => self.data_row = Some(data_row(cursor, texts)?),
            "name" if self.feature.name.is_none() => self.feature.name = Some(texts.get(cursor.string()?)),
            "schemaId" if self.feature.schema_id.is_none() => {
                self.feature.schema_id = Some(texts.get(cursor.string()?));
            }
            "confidence" if self.confidence.is_none() => self.confidence = Some(cursor.number()?),
            "classifications" if !self.classifications => {
                cursor.empty_list()?;
                self.classifications = true;
            }
            "bbox" if self.geometry.is_none() => self.geometry = Some(bbox(cursor)?),
            "point" if self.geometry.is_none() => self.geometry = Some(point(cursor)?),
            _ => return None,
        }
        Some(())
    }

    fn into_annotation(self) -> Option<Annotation> {
        let object = Object {
            feature: self.feature,
            scores: Scores { confidence: self.confidence, custom_metrics: None },
            geometry: self.geometry?,
            classifications: Vec::new(),
        };
        Some(Annotation {
            uuid: self.uuid.into(),
            data_row: self.data_row?,
            body: Body::Object(object),
            marks: crate::model::Marks::default(),
        })
    }
}

/// `{"globalKey": "…"}` or `{"id": "…"}`, not empty.
fn data_row(cursor: &mut Cursor<'_>, texts: &Texts) -> Option<DataRow> {
    let mut found = None;
    cursor.object(|key, cursor| {
        let by_id = match key {
            "id" => true,
            "globalKey" => false,
            _ => return None,
        };
        let text = cursor.string()?;
        if found.is_some() || text.is_empty() {
            return None;
        }
        found = Some(DataRow::from_text(texts.get(text), by_id).ok()?);
        Some(())
    })?;
    found
}

/// `{"top", "left", "height", "width"}`, numbers, each once.
fn bbox(cursor: &mut Cursor<'_>) -> Option<Geometry> {
    let tlhw = numbers(cursor, ["top", "left", "height", "width"])?;
    Some(Geometry::Bbox(BBox::TopLeftHeightWidth(tlhw)))
}

/// `{"x", "y"}`, numbers, each once.
fn point(cursor: &mut Cursor<'_>) -> Option<Geometry> {
    let [x, y] = numbers(cursor, ["x", "y"])?;
    Some(Geometry::Point(Pt { x, y }))
}

/// A dict of exactly the numbers `keys`, in any order.
fn numbers<const K: usize>(cursor: &mut Cursor<'_>, keys: [&str; K]) -> Option<[f64; K]> {
    let mut out = [0.0; K];
    let mut seen = 0u32;
    cursor.object(|key, cursor| {
        let at = keys.iter().position(|k| *k == key)?;
        if seen & (1 << at) != 0 {
            return None;
        }
        seen |= 1 << at;
        out[at] = cursor.number()?;
        Some(())
    })?;
    (seen == (1 << K) - 1).then_some(out)
}

/// The length of the plain string text at the start of `text`, up to its closing
/// quote; `None` at an escape, a control character or the end. Eight bytes at a
/// time: the lowest byte each test flags is exact (a false flag only ever follows a
/// true one), so the first flagged byte of the three tests is the first of interest.
fn plain_len(text: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGHS;
    let equal = |v: u64, b: u8| below(v ^ (ONES * u64::from(b)), 1);
    let mut at = 0;
    while let Some(eight) = text.get(at..at + 8) {
        let v = u64::from_le_bytes(eight.try_into().ok()?);
        let flagged = equal(v, b'"') | equal(v, b'\\') | below(v, 0x20);
        if flagged != 0 {
            at += flagged.trailing_zeros() as usize / 8;
            return (text[at] == b'"').then_some(at);
        }
        at += 8;
    }
    let len = at + text[at..].iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
    (text[len] == b'"').then_some(len)
}

/// A position in a line's text.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte that is not JSON whitespace, not taken.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes().get(self.at) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.at += 1;
        }
        None
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        // Most often the very next byte: no whitespace in machine-written lines.
        if self.bytes().get(self.at) != Some(&byte) && self.peek()? != byte {
            return None;
        }
        self.at += 1;
        Some(())
    }

    /// Only whitespace is left.
    fn end(&mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }

    /// A dict, `entry(key, cursor)` reading each value. Not empty: no common line is.
    fn object(&mut self, mut entry: impl FnMut(&'a str, &mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            entry(key, self)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// `[]`.
    fn empty_list(&mut self) -> Option<()> {
        self.eat(b'[')?;
        self.eat(b']')
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let len = plain_len(self.bytes().get(start..)?)?;
        self.at = start + len + 1;
        self.text.get(start..start + len)
    }

    /// A number, read by the general path's own number parser (sonic-rs'), so to the
    /// same bits: integers exactly, then as floats, `-0` as zero, never infinite.
    fn number(&mut self) -> Option<f64> {
        let negative = self.peek()? == b'-';
        self.at += usize::from(negative);
        if !self.bytes().get(self.at)?.is_ascii_digit() {
            return None;
        }
        let number = sonic_number::parse_number(self.bytes(), &mut self.at, negative).ok()?;
        Some(match number {
            ParserNumber::Unsigned(n) => n as f64,
            ParserNumber::Signed(n) => n as f64,
            ParserNumber::Float(n) => n,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issues::Issues;
    use crate::read::json::{self, JsonNode};
    use crate::read::read_annotation;

    /// What the general path makes of `line`, when it reads it without a problem.
    fn general(line: &str, texts: &Texts) -> Option<Annotation> {
        let value = json::parse(line.as_bytes()).ok()?;
        let mut issues = Issues::default();
        let annotation = read_annotation(&JsonNode { value: &value, texts }, &mut issues).ok()??;
        issues.is_empty().then_some(annotation)
    }

    fn same(line: &str) -> bool {
        let texts = Texts::default();
        let quick = read_line(line.as_bytes(), &texts);
        if let Some(quick) = &quick {
            let general = general(line, &texts);
            assert_eq!(format!("{:?}", Some(quick)), format!("{general:?}"), "{line}");
        }
        quick.is_some()
    }

    #[test]
    fn common_lines_read_as_the_general_path_reads_them() {
        assert!(same(
            r#"{"confidence":0.06837502568885634,"uuid":"666d2532-ee46","dataRow":{"globalKey":"image-0.jpg"},"name":"class_0","classifications":[],"bbox":{"top":269.78,"left":6e2,"height":-0.0,"width":40}}"#
        ));
        assert!(same(
            r#" { "dataRow" : { "id" : "d" } , "name":"c", "schemaId":"s", "point":{"y":-0,"x":1E-3} } "#
        ));
        assert!(same(
            r#"{"dataRow":{"id":"d"},"name":"ü","point":{"x":18446744073709551615,"y":-9223372036854775808}}"#
        ));
        assert!(same(
            r#"{"dataRow":{"id":"d"},"point":{"x":18446744073709551616,"y":-0},"confidence":1e-400}"#
        ));
    }

    #[test]
    fn anything_unusual_is_left_to_the_general_path() {
        let lines: [&[u8]; 23] = [
            br#"{"dataRow":{"id":"d"},"name":"c","point":{"x":1,"y":2},"point":{"x":1,"y":2}}"#,
            br#"{"dataRow":{"id":"d"},"name":"c","point":{"x":1}}"#,
            br#"{"dataRow":{"id":"d"},"name":"c","point":{"x":1,"y":2,"x":3}}"#,
            br#"{"dataRow":{"id":"d"},"name":"c","point":{"x":01,"y":2}}"#,
            br#"{"dataRow":{"id":"d"},"name":"c","point":{"x":1.,"y":2}}"#,
            br#"{"dataRow":{"id":"d"},"name":"c","point":{"x":1e999,"y":2}}"#,
            br#"{"dataRow":{"id":"d"},"name":"c","point":{"x":true,"y":2}}"#,
            br#"{"dataRow":{"id":"d"},"name":"c\n","point":{"x":1,"y":2}}"#,
            br#"{"dataRow":{"id":""},"name":"c","point":{"x":1,"y":2}}"#,
            br#"{"dataRow":{"id":"d","globalKey":"g"},"name":"c","point":{"x":1,"y":2}}"#,
            br#"{"dataRow":{"id":"d"},"name":null,"point":{"x":1,"y":2}}"#,
            br#"{"dataRow":{"id":"d"},"name":"c","classifications":[{}],"point":{"x":1,"y":2}}"#,
            br#"{"dataRow":{"id":"d"},"name":"c","point":{"x":1,"y":2}} x"#,
            br#"{"dataRow":{"id":"d"},"name":"c","point":{"x":1,"y":2},}"#,
            br#"{"dataRow":{"id":"d"},"name":"c","point":{"x":1,"y":2}"#,
            br#"{"name":"c","point":{"x":1,"y":2}}"#,
            br#"{"dataRow":{"id":"d"},"name":"c"}"#,
            br#"{"dataRow":{"id":"d"},"name":"c","point":{"x":1,"y":2},"bbox":{"top":1,"left":1,"height":1,"width":1}}"#,
            br#"{"dataRow":{"id":"d"},"name":"c","answer":"yes"}"#,
            b"{\"dataRow\":{\"id\":\"d\"},\"name\":\"\\u0063\",\"point\":{\"x\":1,\"y\":2}}",
            b"{\"dataRow\":{\"id\":\"d\"},\"name\":\"\xff\",\"point\":{\"x\":1,\"y\":2}}",
            b"{}",
            b"",
        ];
        for line in lines {
            let texts = Texts::default();
            assert!(read_line(line, &texts).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn plain_strings_end_at_their_quote_and_nothing_else_is_plain() {
        for n in 0..40 {
            let body = "é".repeat(n / 2) + &"a".repeat(n % 2);
            let text = format!("{body}\"x\\\"");
            assert_eq!(plain_len(text.as_bytes()), Some(body.len()), "{text}");
            for odd in ["\\", "\n", "\u{1f}"] {
                let text = format!("{body}{odd}\"");
                assert_eq!(plain_len(text.as_bytes()), None, "{text:?}");
            }
            assert_eq!(plain_len(body.as_bytes()), None, "not closed");
        }
        assert_eq!(plain_len(b"\x7f\x20!#\""), Some(4));
    }

    #[test]
    fn numbers_are_the_parsers_to_the_last_bit() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20_000 {
            let x = f64::from_bits(rng.u64(..));
            let y = rng.f64() * 10f64.powi(rng.i32(-30..30));
            if !x.is_finite() {
                continue;
            }
            let tiny = f64::from_bits(rng.u64(..1 << 52));
            let line =
                format!(r#"{{"dataRow":{{"id":"d"}},"point":{{"x":{x:e},"y":{y:?}}},"confidence":{tiny}}}"#);
            assert!(same(&line), "{line}");
        }
    }
}
