//! The binary-mask PNG, written byte for byte as the `png` crate writes it (8-bit
//! gray, the Up filter, fdeflate's ultra-fast compression), but in time that follows
//! the instance rather than the image.
//!
//! fdeflate's stream is one dynamic Huffman block with a fixed code, fed one filtered
//! row at a time: within a row, zero bytes counted in 8-byte words become runs (a
//! literal zero, then copies at distance 1), the rest literals. Every row outside an
//! instance's box filters to `[2, 0, 0, ..]`, so it always encodes to the same bits
//! and adds to the Adler-32 checksum in closed form: only the rows of the box are
//! read. The code is not restated here: it is read once from fdeflate's own header
//! (see [`Code`]), and the tests compare every byte with the `png` crate's output.

use std::sync::OnceLock;

/// Deflate's modulus for Adler-32.
const ADLER_MOD: u64 = 65_521;

/// The Huffman code fdeflate writes with, read from the header it writes.
struct Code {
    /// The zlib header and the dynamic block's header, as bits (whole bytes, then
    /// the last `header_bits % 8`).
    header: Vec<u8>,
    header_bits: usize,
    /// Bit-reversed codes (ready to be written LSB first) and lengths of the
    /// literal/length symbols `0..=285`.
    codes: [u16; 286],
    lengths: [u8; 286],
}

/// fdeflate's code, read from an empty stream it writes; `None` if that stream is
/// not the one block this module knows how to continue (then the `png` crate is used).
fn code() -> Option<&'static Code> {
    static CODE: OnceLock<Option<Code>> = OnceLock::new();
    CODE.get_or_init(|| read_code(&fdeflate::compress_to_vec(&[]))).as_ref()
}

/// Bits of a byte slice, least significant first (deflate's order).
struct BitReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl BitReader<'_> {
    fn bits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..n {
            let byte = *self.bytes.get((self.at + i) / 8)?;
            v |= u32::from((byte >> ((self.at + i) % 8)) & 1) << i;
        }
        self.at += n;
        Some(v)
    }

    /// One symbol of the canonical code of `lengths`.
    fn symbol(&mut self, lengths: &[u8]) -> Option<usize> {
        let (codes, _) = canonical(lengths)?;
        let (mut code, mut len) = (0u32, 0u8);
        while len < 16 {
            // Huffman codes are stored most significant bit first.
            code = (code << 1) | self.bits(1)?;
            len += 1;
            if let Some(s) = (0..lengths.len()).find(|&s| lengths[s] == len && u32::from(codes[s]) == code) {
                return Some(s);
            }
        }
        None
    }
}

/// The canonical codes of `lengths` (RFC 1951, 3.2.2), most significant bit first,
/// and the same bit-reversed; `None` if the lengths are over-subscribed.
fn canonical(lengths: &[u8]) -> Option<(Vec<u16>, Vec<u16>)> {
    let mut count = [0u32; 17];
    for &l in lengths {
        count[usize::from(l)] += 1;
    }
    count[0] = 0;
    let mut next = [0u32; 17];
    let mut code = 0u32;
    for bits in 1..17 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    let mut codes = vec![0u16; lengths.len()];
    let mut reversed = vec![0u16; lengths.len()];
    for (s, &l) in lengths.iter().enumerate() {
        if l == 0 {
            continue;
        }
        let c = next[usize::from(l)];
        next[usize::from(l)] += 1;
        if c >= 1 << l {
            return None;
        }
        codes[s] = c as u16;
        reversed[s] = (c as u16).reverse_bits() >> (16 - u16::from(l));
    }
    Some((codes, reversed))
}

/// The order of the code length code lengths in a dynamic block header (RFC 1951).
const ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/// Parses the zlib header and dynamic block header at the start of `stream`.
fn read_code(stream: &[u8]) -> Option<Code> {
    let mut r = BitReader { bytes: stream, at: 16 };
    // zlib: deflate, no dictionary; then one final dynamic block.
    if stream.first()? & 0x0F != 8 || r.bits(1)? != 1 || r.bits(2)? != 2 {
        return None;
    }
    let literals = r.bits(5)? as usize + 257;
    let distances = r.bits(5)? as usize + 1;
    let length_codes = r.bits(4)? as usize + 4;
    let mut length_lengths = [0u8; 19];
    for &i in &ORDER[..length_codes] {
        length_lengths[i] = r.bits(3)? as u8;
    }
    let mut lengths = Vec::with_capacity(literals + distances);
    while lengths.len() < literals + distances {
        match r.symbol(&length_lengths)? {
            s @ 0..=15 => lengths.push(s as u8),
            16 => {
                let previous = *lengths.last()?;
                let n = 3 + r.bits(2)?;
                lengths.extend(std::iter::repeat_n(previous, n as usize));
            }
            17 => lengths.extend(std::iter::repeat_n(0, 3 + r.bits(3)? as usize)),
            _ => lengths.extend(std::iter::repeat_n(0, 11 + r.bits(7)? as usize)),
        }
    }
    let (literal_lengths, distance_lengths) = lengths.split_at(literals);
    // Copies are at distance 1 only, as distance symbol 0 of one bit (written 0).
    if literals < 286 || distance_lengths.first() != Some(&1) {
        return None;
    }
    let (_, reversed) = canonical(literal_lengths)?;
    let mut code = Code { header: Vec::new(), header_bits: r.at, codes: [0; 286], lengths: [0; 286] };
    code.codes.copy_from_slice(&reversed[..286]);
    code.lengths.copy_from_slice(&literal_lengths[..286]);
    code.header = stream[..r.at.div_ceil(8)].to_vec();
    // Every symbol the rows use must have a code.
    (code.lengths.iter().all(|&l| l > 0) && distance_code_is_zero(distance_lengths)).then_some(code)
}

/// Whether distance symbol 0 is written as the one bit `0`.
fn distance_code_is_zero(lengths: &[u8]) -> bool {
    canonical(lengths).is_some_and(|(codes, _)| codes[0] == 0)
}

/// Deflate's length symbol, its extra bits and their count, for a copy of `len`
/// (3 to 258) bytes.
fn length_symbol(len: u32) -> (usize, u32, u32) {
    if len == 258 {
        return (285, 0, 0);
    }
    let offset = len - 3;
    if offset < 8 {
        return (257 + offset as usize, 0, 0);
    }
    // From 11 on, each group of four symbols doubles its span and adds an extra bit.
    let extra = offset.ilog2() - 2;
    let symbol = 257 + 4 * extra as usize + 4 + ((offset >> extra) as usize - 4);
    (symbol, offset & ((1 << extra) - 1), extra)
}

/// A deflate bit stream, least significant bit first.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    #[inline]
    fn put(&mut self, bits: u64, n: u32) {
        debug_assert!(n <= 32);
        self.acc |= bits << self.n;
        self.n += n;
        if self.n >= 64 {
            self.out.extend_from_slice(&self.acc.to_le_bytes());
            self.n -= 64;
            // The bits that did not fit (none when the word ended exactly).
            self.acc = if self.n == 0 { 0 } else { bits >> (n - self.n) };
        }
    }

    fn finish(mut self) -> Vec<u8> {
        let bytes = self.n.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
        self.out
    }
}

/// Writes rows as fdeflate does (see the module documentation).
struct RowWriter<'a> {
    code: &'a Code,
    bits: Bits,
}

impl RowWriter<'_> {
    #[inline]
    fn literal(&mut self, byte: u8) {
        let s = usize::from(byte);
        self.bits.put(u64::from(self.code.codes[s]), u32::from(self.code.lengths[s]));
    }

    /// A run of `run` zeros: a literal zero, then copies of the byte before.
    fn run(&mut self, run: u32) {
        self.literal(0);
        let mut rest = run - 1;
        let (codes, lengths) = (&self.code.codes, &self.code.lengths);
        while rest >= 258 {
            // The length symbol, then the one-bit distance (0).
            self.bits.put(u64::from(codes[285]), u32::from(lengths[285]) + 1);
            rest -= 258;
        }
        if rest > 4 {
            let (symbol, extra, extra_bits) = length_symbol(rest);
            self.bits.put(u64::from(codes[symbol]), u32::from(lengths[symbol]));
            self.bits.put(u64::from(extra), extra_bits + 1);
        } else {
            for _ in 0..rest {
                self.literal(0);
            }
        }
    }

    /// One filtered row whose bytes are zero outside its first and `nonzero`: the
    /// words wholly outside are counted, not read.
    fn row(&mut self, row: &[u8], nonzero: std::ops::Range<usize>) {
        let words = row.len() / 8;
        let mut run = 0u32;
        if words > 0 {
            self.word(&row[..8], &mut run);
            let first = (nonzero.start / 8).clamp(1, words);
            let last = nonzero.end.div_ceil(8).clamp(first, words);
            run += 8 * (first - 1) as u32;
            let mut w = first;
            while w < last {
                // Zero stretches (most of a box's rows) are counted 64 bytes at a time.
                if w + 8 <= last && row[8 * w..8 * w + 64].iter().fold(0, |a, &b| a | b) == 0 {
                    run += 64;
                    w += 8;
                    continue;
                }
                self.word(&row[8 * w..8 * w + 8], &mut run);
                w += 1;
            }
            run += 8 * (words - last) as u32;
        }
        if run > 0 {
            self.run(run);
        }
        for &b in &row[8 * words..] {
            self.literal(b);
        }
    }

    /// One 8-byte word of a row; `run` counts the zeros not yet written.
    #[inline]
    fn word(&mut self, chunk: &[u8], run: &mut u32) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        if word == 0 {
            *run += 8;
            return;
        }
        if *run > 0 {
            let lead = word.trailing_zeros() / 8;
            self.run(*run + lead);
            *run = 0;
            if lead > 0 {
                *run = word.leading_zeros() / 8;
                for &b in &chunk[lead as usize..8 - *run as usize] {
                    self.literal(b);
                }
                return;
            }
        }
        let tail = word.leading_zeros() / 8;
        for &b in &chunk[..8 - tail as usize] {
            self.literal(b);
        }
        *run = tail;
    }
}

/// Adler-32 over the filtered rows, with zeros added in closed form.
struct Adler {
    a: u64,
    b: u64,
}

impl Adler {
    fn bytes(&mut self, bytes: &[u8]) {
        let checksum = (self.b << 16 | self.a) as u32;
        let mut adler = simd_adler32::Adler32::from_checksum(checksum);
        adler.write(bytes);
        let sum = adler.finish();
        self.a = u64::from(sum & 0xFFFF);
        self.b = u64::from(sum >> 16);
    }

    /// The Up filter's type byte, 2, that starts each row.
    fn filter_byte(&mut self) {
        self.a = (self.a + 2) % ADLER_MOD;
        self.b = (self.b + self.a) % ADLER_MOD;
    }

    fn zeros(&mut self, n: usize) {
        self.b = (self.b + (n as u64 % ADLER_MOD) * self.a) % ADLER_MOD;
    }

    fn value(&self) -> u32 {
        (self.b << 16 | self.a) as u32
    }
}

/// The zlib stream the `png` crate writes for `mask` (`width x height`, one byte per
/// pixel), every byte outside the inclusive box `[x0, y0, x1, y1]` being zero; `None`
/// when fdeflate's code could not be read.
///
/// `filter_row(y, above, filtered)` filters row `y` (`y0..=y1`) in columns `x0..=x1`:
/// it writes each mask byte minus `above`'s into `filtered` and the byte into `above`
/// (one pass, for the next row).
fn zlib_stream(
    width: usize,
    height: usize,
    bbox: [usize; 4],
    mut filter_row: impl FnMut(usize, &mut [u8], &mut [u8]),
) -> Option<Vec<u8>> {
    let code = code()?;
    let [x0, y0, x1, y1] = bbox;
    let mut bits = Bits { out: Vec::with_capacity(1024), acc: 0, n: 0 };
    bits.out.extend_from_slice(&code.header[..code.header_bits / 8]);
    let partial = code.header_bits % 8;
    if partial > 0 {
        bits.put(u64::from(code.header[code.header_bits / 8]) & ((1 << partial) - 1), partial as u32);
    }
    let mut writer = RowWriter { code, bits };
    // The bits of a row outside the box, once.
    let mut blank = vec![0u8; width + 1];
    blank[0] = 2; // the Up filter
    let blank_bits = {
        let mut w = RowWriter { code, bits: Bits { out: Vec::new(), acc: 0, n: 0 } };
        w.row(&blank, 1..1);
        (w.bits.out, w.bits.acc, w.bits.n)
    };
    let mut adler = Adler { a: 1, b: 0 };
    let put_blank = |writer: &mut RowWriter<'_>, adler: &mut Adler| {
        for chunk in blank_bits.0.chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            writer.bits.put(u64::from(u32::from_le_bytes(word)), 8 * chunk.len() as u32);
        }
        writer.bits.put(blank_bits.1 & 0xFFFF_FFFF, blank_bits.2.min(32));
        if blank_bits.2 > 32 {
            writer.bits.put(blank_bits.1 >> 32, blank_bits.2 - 32);
        }
        adler.filter_byte();
        adler.zeros(width);
    };
    // Rows y0..=y1 hold the box; row y1 + 1 filters to minus the row above.
    let last = (y1 + 1).min(height - 1);
    let mut filtered = blank.clone();
    // The box's part of the row above (zero above the box).
    let mut above = vec![0u8; x1 - x0 + 1];
    for y in 0..height {
        if y < y0 || y > last {
            put_blank(&mut writer, &mut adler);
            continue;
        }
        let span = &mut filtered[1 + x0..=1 + x1];
        if y <= y1 {
            filter_row(y, &mut above, span);
        } else {
            for (f, &a) in span.iter_mut().zip(&above) {
                *f = 0u8.wrapping_sub(a);
            }
        }
        writer.row(&filtered, 1 + x0..2 + x1);
        adler.filter_byte();
        adler.zeros(x0);
        adler.bytes(&filtered[1 + x0..2 + x1]);
        adler.zeros(width - 1 - x1);
    }
    // End of block, then the checksum.
    writer.literal_end();
    let mut out = writer.bits.finish();
    out.extend_from_slice(&adler.value().to_be_bytes());
    Some(out)
}

impl RowWriter<'_> {
    fn literal_end(&mut self) {
        self.bits.put(u64::from(self.code.codes[256]), u32::from(self.code.lengths[256]));
    }
}

/// Appends a PNG chunk: length, type, data, CRC of type and data.
fn push_chunk(out: &mut Vec<u8>, kind: [u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(&kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// The binary PNG of `mask` (checked sizes: `width * height` bytes, both non-zero),
/// all of whose nonzero bytes lie in the inclusive box `bbox`, exactly as
/// [`crate::mask::encode_binary_png`] writes it; `None` when this encoder cannot
/// (fdeflate's code unread, or an output larger than stored blocks, which the `png`
/// crate then writes instead).
pub fn encode_in_box(width: u32, height: u32, mask: &[u8], bbox: [u32; 4]) -> Option<Vec<u8>> {
    let (w, h, [x0, y0, x1, y1]) = image_box(width, height, mask.len(), bbox)?;
    let zlib = zlib_stream(w, h, [x0, y0, x1, y1], |y, above, filtered| {
        for ((a, f), &m) in above.iter_mut().zip(filtered).zip(&mask[y * w + x0..=y * w + x1]) {
            *f = m.wrapping_sub(*a);
            *a = m;
        }
    })?;
    png_of(width, height, &zlib)
}

/// `(width, height, bbox)` as indices, when an image of `len` bytes is `width x height`
/// (both non-zero) and the inclusive `bbox` lies inside it.
fn image_box(width: u32, height: u32, len: usize, bbox: [u32; 4]) -> Option<(usize, usize, [usize; 4])> {
    let (w, h) = (width as usize, height as usize);
    let [x0, y0, x1, y1] = bbox.map(|v| v as usize);
    let fits = w > 0 && h > 0 && len == w * h && x0 <= x1 && y0 <= y1 && x1 < w && y1 < h;
    fits.then_some((w, h, [x0, y0, x1, y1]))
}

/// [`encode_in_box`] for the mask of the pixels labelled `label` in `labels` (one
/// byte per pixel), all inside `bbox`, matched as they are encoded.
pub fn encode_labelled(width: u32, height: u32, labels: &[u8], label: u8, bbox: [u32; 4]) -> Option<Vec<u8>> {
    let (w, h, [x0, y0, x1, y1]) = image_box(width, height, labels.len(), bbox)?;
    let zlib = zlib_stream(w, h, [x0, y0, x1, y1], |y, above, filtered| {
        for ((a, f), &l) in above.iter_mut().zip(filtered).zip(&labels[y * w + x0..=y * w + x1]) {
            let m = u8::from(l == label);
            *f = m.wrapping_sub(*a);
            *a = m;
        }
    })?;
    png_of(width, height, &zlib)
}

/// The PNG around `zlib`, or `None` where the `png` crate would store the rows.
fn png_of(width: u32, height: u32, zlib: &[u8]) -> Option<Vec<u8>> {
    let (w, h) = (width as usize, height as usize);
    // The `png` crate stores rather than compresses when compressing does not pay.
    let raw = (w + 1) * h;
    let stored = (raw.saturating_sub(1) / 65_535) * (65_535 + 5) + (raw % 65_535 + 5) + 6;
    if zlib.len() > stored || zlib.len() > (u32::MAX >> 1) as usize {
        return None;
    }
    let mut out = Vec::with_capacity(zlib.len() + 64);
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = [0u8; 13];
    ihdr[..4].copy_from_slice(&width.to_be_bytes());
    ihdr[4..8].copy_from_slice(&height.to_be_bytes());
    ihdr[8] = 8; // bit depth; colour type 0 (gray), deflate, adaptive filtering, no interlace
    push_chunk(&mut out, *b"IHDR", &ihdr);
    push_chunk(&mut out, *b"IDAT", zlib);
    push_chunk(&mut out, *b"IEND", &[]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::encode_binary_png;

    #[test]
    fn length_symbols_follow_deflate() {
        assert_eq!(length_symbol(3), (257, 0, 0));
        assert_eq!(length_symbol(10), (264, 0, 0));
        assert_eq!(length_symbol(11), (265, 0, 1));
        assert_eq!(length_symbol(12), (265, 1, 1));
        assert_eq!(length_symbol(19), (269, 0, 2));
        assert_eq!(length_symbol(37), (273, 2, 3));
        assert_eq!(length_symbol(257), (284, 30, 5));
        assert_eq!(length_symbol(258), (285, 0, 0));
    }

    /// A mask of blobs and noise inside `bbox`, zero outside.
    fn mask_in_box(rng: &mut fastrand::Rng, w: usize, h: usize, bbox: [usize; 4], noise: u8) -> Vec<u8> {
        let [x0, y0, x1, y1] = bbox;
        let mut mask = vec![0u8; w * h];
        let (cx, cy) = (rng.usize(x0..=x1), rng.usize(y0..=y1));
        let r = rng.usize(1..=w.max(h));
        for y in y0..=y1 {
            for x in x0..=x1 {
                let inside = (x.abs_diff(cx)).pow(2) + (y.abs_diff(cy)).pow(2) <= r * r;
                let flip = rng.u8(..) < noise;
                mask[y * w + x] = u8::from(inside != flip);
            }
        }
        mask
    }

    #[test]
    fn writes_the_bytes_the_png_crate_writes() {
        let mut rng = fastrand::Rng::with_seed(12);
        let mut compared = 0;
        for _ in 0..600 {
            let (w, h) = (rng.usize(1..80), rng.usize(1..40));
            let (xa, xb, ya, yb) = (rng.usize(..w), rng.usize(..w), rng.usize(..h), rng.usize(..h));
            let bbox = [xa.min(xb), ya.min(yb), xa.max(xb), ya.max(yb)];
            let noise = [0, 0, 3, 40, 128][rng.usize(..5)];
            let mut mask = mask_in_box(&mut rng, w, h, bbox, noise);
            if rng.u8(..) < 20 {
                // Other byte values than 0 and 1 are written as given too.
                for v in &mut mask[bbox[1] * w + bbox[0]..=bbox[3] * w + bbox[2]] {
                    *v = v.wrapping_mul(rng.u8(..));
                }
                let [x0, y0, x1, y1] = bbox;
                for y in 0..h {
                    for x in 0..w {
                        if x < x0 || x > x1 || y < y0 || y > y1 {
                            mask[y * w + x] = 0;
                        }
                    }
                }
            }
            let expected = encode_binary_png(w as u32, h as u32, &mask).unwrap();
            if let Some(png) = encode_in_box(w as u32, h as u32, &mask, bbox.map(|v| v as u32)) {
                assert_eq!(png, expected, "{w}x{h}, box {bbox:?}, noise {noise}");
                compared += 1;
            }
        }
        // Only noise too dense to compress falls back.
        assert!(compared > 500, "{compared}");
        // A 1080p instance, as in a composite.
        let (w, h) = (1920, 1080);
        let bbox = [300, 200, 1500, 900];
        let mask = mask_in_box(&mut rng, w, h, bbox, 0);
        let png = encode_in_box(w as u32, h as u32, &mask, bbox.map(|v| v as u32)).unwrap();
        assert_eq!(png, encode_binary_png(w as u32, h as u32, &mask).unwrap());
    }

    #[test]
    fn labelled_masks_are_written_as_their_binary_masks() {
        let mut rng = fastrand::Rng::with_seed(5);
        for _ in 0..200 {
            let (w, h) = (rng.usize(1..90), rng.usize(1..30));
            let mut labels = vec![0u8; w * h];
            let mut current = 0;
            for l in &mut labels {
                if rng.u8(..) < 30 {
                    current = rng.u8(..4);
                }
                *l = current;
            }
            let label = rng.u8(..4);
            let mask: Vec<u8> = labels.iter().map(|&l| u8::from(l == label)).collect();
            let Some(bbox) = crate::colors::mask_extent(&mask, w, h) else { continue };
            let expected = encode_binary_png(w as u32, h as u32, &mask).unwrap();
            if let Some(png) = encode_labelled(w as u32, h as u32, &labels, label, bbox) {
                assert_eq!(png, expected, "{w}x{h}, box {bbox:?}");
            }
        }
    }

    #[test]
    fn refuses_boxes_outside_the_image() {
        assert_eq!(encode_in_box(4, 2, &[0; 8], [0, 0, 4, 1]), None);
        assert_eq!(encode_in_box(4, 2, &[0; 8], [2, 0, 1, 1]), None);
        assert_eq!(encode_in_box(4, 2, &[0; 7], [0, 0, 3, 1]), None);
    }
}
