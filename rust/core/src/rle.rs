//! COCO run-length encoding (RLE) of binary masks.
//!
//! COCO flattens a `height x width` mask in column-major order (down each column,
//! then the next column) and stores the lengths of alternating runs, starting with
//! a run of zeros (possibly empty). The compressed form writes the counts as text:
//! from the fourth count on, each is stored as the difference to the count two
//! before it; every number is split into 5-bit groups, least significant first, each
//! written as the character `48 + group`, with `0x20` set on a group when more follow
//! and `0x10` of the last group carrying the sign.
//!
//! Masks here are row-major (numpy's default). The encoder never transposes: a
//! change between two vertically adjacent pixels is a run boundary in column-major
//! order, so comparing each row with the row above (eight pixels at a time) finds
//! every boundary, and a counting sort puts them in column-major order. The decoder
//! runs that backwards: each row is the row above with the boundaries on it toggled.

use crate::memory::try_zeroed;

/// The column-major position of every change of value in a row-major mask, in
/// increasing order; pixel `-1` counts as 0. Nonzero bytes are set pixels. `None`
/// when there are more than `limit` (a noisy mask, better transposed and scanned).
fn boundaries(mask: &[u8], height: usize, width: usize, limit: usize) -> Option<Vec<u32>> {
    let (h, w) = (height, width);
    // (x, y) of each change, found row by row.
    let mut found: Vec<(u32, u32)> = Vec::new();
    let mut per_column = vec![0u32; w + 1];
    // Row 0: pixel (x, 0) follows pixel (x - 1, h - 1) in column-major order.
    let last_row = &mask[(h - 1) * w..h * w];
    let mut before = false;
    for (x, &v) in mask[..w].iter().enumerate() {
        let set = v != 0;
        if set != before {
            found.push((x as u32, 0));
            per_column[x] += 1;
        }
        before = last_row[x] != 0;
    }
    for y in 1..h {
        let above = &mask[(y - 1) * w..y * w];
        let row = &mask[y * w..(y + 1) * w];
        let mut x = 0;
        // Equal 32-byte blocks hold no change; most of a mask is such blocks.
        while x + 32 <= w {
            let (a, b) = (&above[x..x + 32], &row[x..x + 32]);
            let mut diff = 0u64;
            for k in 0..4 {
                let word = |s: &[u8]| u64::from_le_bytes(s[8 * k..8 * k + 8].try_into().unwrap_or([0; 8]));
                diff |= word(a) ^ word(b);
            }
            if diff != 0 {
                for k in 0..32 {
                    if (a[k] != 0) != (b[k] != 0) {
                        found.push(((x + k) as u32, y as u32));
                        per_column[x + k] += 1;
                    }
                }
            }
            x += 32;
        }
        for k in x..w {
            if (above[k] != 0) != (row[k] != 0) {
                found.push((k as u32, y as u32));
                per_column[k] += 1;
            }
        }
        // Judged on the rows so far, so that a noisy mask gives up early.
        if found.len() > limit || (y >= 8 && found.len() * 16 > (y + 1) * w) {
            return None;
        }
    }
    // Counting sort by column; rows stay in order within a column.
    let mut start = 0u32;
    for count in &mut per_column {
        let n = *count;
        *count = start;
        start += n;
    }
    let mut positions = vec![0u32; found.len()];
    for (x, y) in found {
        let slot = &mut per_column[x as usize];
        positions[*slot as usize] = x * h as u32 + y;
        *slot += 1;
    }
    Some(positions)
}

/// Counts of a noisy mask, in strips of 32 columns: each strip is transposed into a
/// small column-major buffer (cache-resident), then scanned without branches: every
/// position is written, and the write index advances only at a change.
fn encode_dense(mask: &[u8], height: usize, width: usize) -> Vec<u32> {
    const S: usize = 32;
    let (h, w, n) = (height, width, height * width);
    let mut strip = vec![0u8; S * h];
    let mut positions = vec![0u32; S * h + 1];
    let mut counts = Vec::new();
    let (mut previous, mut last) = (0u8, 0u32);
    for x0 in (0..w).step_by(S) {
        let sw = S.min(w - x0);
        for y in 0..h {
            let row = &mask[y * w + x0..y * w + x0 + sw];
            for (dx, &v) in row.iter().enumerate() {
                strip[dx * h + y] = u8::from(v != 0);
            }
        }
        let base = (x0 * h) as u32;
        let mut k = 0;
        for (i, &v) in strip[..sw * h].iter().enumerate() {
            positions[k] = base + i as u32;
            k += usize::from(v != previous);
            previous = v;
        }
        for &p in &positions[..k] {
            counts.push(p - last);
            last = p;
        }
    }
    counts.push(n as u32 - last);
    counts
}

/// Checks a mask's size: COCO counts are 32-bit, so it must have fewer than 2^32 pixels.
fn pixel_count(height: usize, width: usize) -> Result<usize, String> {
    match height.checked_mul(width) {
        Some(n) if u32::try_from(n).is_ok() => Ok(n),
        _ => Err(format!("a {height}x{width} mask has too many pixels for COCO RLE (at most 2^32 - 1)")),
    }
}

/// The uncompressed RLE counts of a row-major `height x width` mask (nonzero bytes are
/// set), as pycocotools' `encode` gives them for the same mask.
pub fn encode(mask: &[u8], height: usize, width: usize) -> Result<Vec<u32>, String> {
    let n = pixel_count(height, width)?;
    if mask.len() != n {
        return Err(format!("mask has {} pixels, but {height}x{width} needs {n}", mask.len()));
    }
    if n == 0 {
        return Ok(vec![0]);
    }
    // Past one change per 16 pixels, the transposing scan is faster.
    Ok(match boundaries(mask, height, width, n / 16) {
        Some(positions) => counts_from_boundaries(&positions, n),
        None => encode_dense(mask, height, width),
    })
}

/// Like [`encode`] for a mask already in column-major order (a Fortran-ordered array):
/// one scan, skipping eight equal pixels at a time.
pub fn encode_column_major(mask: &[u8], height: usize, width: usize) -> Result<Vec<u32>, String> {
    let n = pixel_count(height, width)?;
    if mask.len() != n {
        return Err(format!("mask has {} pixels, but {height}x{width} needs {n}", mask.len()));
    }
    let mut counts = Vec::new();
    let mut set = false;
    let mut run_start = 0usize;
    let mut i = 0usize;
    while i < n {
        // Skip whole words that cannot hold a change: all zero while in a zero run,
        // all 0x01 while in a run of ones (other nonzero values go byte by byte).
        let fill = if set { 0x0101_0101_0101_0101u64 } else { 0 };
        while i + 8 <= n {
            let word = u64::from_le_bytes(mask[i..i + 8].try_into().unwrap_or([0; 8]));
            if word != fill {
                break;
            }
            i += 8;
        }
        let end = (i + 8).min(n);
        while i < end {
            if (mask[i] != 0) != set {
                counts.push((i - run_start) as u32);
                run_start = i;
                set = !set;
            }
            i += 1;
        }
    }
    counts.push((n - run_start) as u32);
    Ok(counts)
}

fn counts_from_boundaries(positions: &[u32], n: usize) -> Vec<u32> {
    let mut counts = Vec::with_capacity(positions.len() + 1);
    let mut last = 0u32;
    for &p in positions {
        counts.push(p - last);
        last = p;
    }
    counts.push(n as u32 - last);
    counts
}

/// Checks that `counts` cover exactly `height x width` pixels.
fn check_counts(counts: &[u32], height: usize, width: usize) -> Result<usize, String> {
    let n = pixel_count(height, width)?;
    let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
    if total != n as u64 {
        return Err(format!("RLE counts add up to {total} pixels, but the size {height}x{width} has {n}"));
    }
    Ok(n)
}

/// The row-major 0/1 mask of uncompressed `counts` (which must add up to
/// `height * width`).
pub fn decode(counts: &[u32], height: usize, width: usize) -> Result<Vec<u8>, String> {
    let n = check_counts(counts, height, width)?;
    let (h, w) = (height, width);
    let mut mask = try_zeroed::<u8>(n, &format!("a {height}x{width} mask"))?;
    if n == 0 {
        return Ok(mask);
    }
    // Each run after the first starts with a toggle; two toggles at one place (an
    // empty run between) cancel. Row 0 is set from the value at the top of each
    // column; every other row is the row above with its toggles applied.
    let mut per_row = try_zeroed::<u32>(h + 1, "the RLE's rows")?;
    let mut toggles: Vec<u32> = Vec::with_capacity(counts.len());
    let mut pos = 0usize;
    for &c in &counts[..counts.len() - 1] {
        pos += c as usize;
        if pos < n {
            toggles.push(pos as u32);
            per_row[pos % h] += 1;
        }
    }
    let mut value = 0u8;
    let mut t = 0;
    for (x, top_value) in mask[..w].iter_mut().enumerate() {
        let top = x * h;
        while t < toggles.len() && toggles[t] as usize <= top {
            value ^= 1;
            t += 1;
        }
        *top_value = value;
    }
    // Counting sort of the toggles by row (rows 1..h; row 0 is done).
    let mut start = 0u32;
    for count in &mut per_row {
        let k = *count;
        *count = start;
        start += k;
    }
    let mut by_row = vec![0u32; toggles.len()];
    let mut row_end = per_row.clone();
    for &p in &toggles {
        let p = p as usize;
        let slot = &mut row_end[p % h];
        by_row[*slot as usize] = (p / h) as u32;
        *slot += 1;
    }
    for y in 1..h {
        mask.copy_within((y - 1) * w..y * w, y * w);
        let row = &mut mask[y * w..(y + 1) * w];
        for &x in &by_row[per_row[y] as usize..per_row[y + 1] as usize] {
            row[x as usize] ^= 1;
        }
    }
    Ok(mask)
}

/// The compressed (string) form of uncompressed counts, as pycocotools writes it.
pub fn to_string(counts: &[u32]) -> String {
    let mut out = Vec::with_capacity(counts.len() * 2);
    for (i, &c) in counts.iter().enumerate() {
        let mut x = i64::from(c);
        if i > 2 {
            x -= i64::from(counts[i - 2]);
        }
        loop {
            let mut group = (x & 0x1f) as u8;
            x >>= 5;
            let more = if group & 0x10 != 0 { x != -1 } else { x != 0 };
            if more {
                group |= 0x20;
            }
            out.push(group + 48);
            if !more {
                break;
            }
        }
    }
    // Every byte is in 48..=111, so ASCII.
    String::from_utf8(out).unwrap_or_default()
}

/// Parses the compressed form into uncompressed counts. Characters outside the
/// alphabet, a number cut off at the end and counts outside `0..2^32` are errors.
pub fn from_string(text: &[u8]) -> Result<Vec<u32>, String> {
    let mut counts: Vec<u32> = Vec::with_capacity(text.len() / 2 + 1);
    let mut p = 0;
    while p < text.len() {
        let mut x: i64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&byte) = text.get(p) else {
                return Err("RLE string ends in the middle of a count".to_string());
            };
            if !(48..48 + 64).contains(&byte) {
                return Err(format!(
                    "RLE string has the character {:?} at {p}, outside its alphabet",
                    byte as char
                ));
            }
            if shift > 35 {
                return Err(format!("RLE string has a count too large at {p}"));
            }
            let group = i64::from(byte - 48);
            x |= (group & 0x1f) << shift;
            shift += 5;
            p += 1;
            if group & 0x20 == 0 {
                if group & 0x10 != 0 {
                    x |= -1i64 << shift;
                }
                break;
            }
        }
        let i = counts.len();
        if i > 2 {
            x += i64::from(counts[i - 2]);
        }
        let count = u32::try_from(x).map_err(|_| format!("RLE count {i} is {x}, outside 0..2^32"))?;
        counts.push(count);
    }
    Ok(counts)
}

/// The number of set pixels (the sum of every second count).
pub fn area(counts: &[u32]) -> u64 {
    counts.iter().skip(1).step_by(2).map(|&c| u64::from(c)).sum()
}

/// The tight bounding box `[x, y, width, height]` of the set pixels, as pycocotools'
/// `toBbox` gives it; `[0, 0, 0, 0]` for an empty mask. `counts` are as for a mask of
/// `height` rows.
pub fn bbox(counts: &[u32], height: usize) -> [f64; 4] {
    let h = height as u64;
    if h == 0 {
        return [0.0; 4];
    }
    let (mut x0, mut y0, mut x1, mut y1) = (u64::MAX, u64::MAX, 0u64, 0u64);
    let mut pos = 0u64;
    for (i, &c) in counts.iter().enumerate() {
        let (start, len) = (pos, u64::from(c));
        pos += len;
        if i % 2 == 0 || len == 0 {
            continue;
        }
        let last = pos - 1;
        let (xs, xe) = (start / h, last / h);
        x0 = x0.min(xs);
        x1 = x1.max(xe);
        if xs == xe {
            y0 = y0.min(start % h);
            y1 = y1.max(last % h);
        } else {
            // The run wraps from the bottom of one column to the top of the next.
            y0 = 0;
            y1 = h - 1;
        }
    }
    if x0 == u64::MAX {
        return [0.0; 4];
    }
    [x0 as f64, y0 as f64, (x1 - x0 + 1) as f64, (y1 - y0 + 1) as f64]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, for comparison: transpose, then count runs.
    fn naive(mask: &[u8], h: usize, w: usize) -> Vec<u32> {
        let mut counts = Vec::new();
        let (mut set, mut run) = (false, 0u32);
        for x in 0..w {
            for y in 0..h {
                if (mask[y * w + x] != 0) != set {
                    counts.push(run);
                    run = 0;
                    set = !set;
                }
                run += 1;
            }
        }
        counts.push(run);
        counts
    }

    fn transpose(mask: &[u8], h: usize, w: usize) -> Vec<u8> {
        (0..w).flat_map(|x| (0..h).map(move |y| mask[y * w + x])).collect()
    }

    fn random_masks() -> Vec<(usize, usize, Vec<u8>)> {
        let mut rng = fastrand::Rng::with_seed(11);
        let mut out = Vec::new();
        for (h, w) in [(1, 1), (1, 9), (9, 1), (2, 2), (7, 5), (33, 65), (64, 31), (3, 100)] {
            let n = h * w;
            out.push((h, w, vec![0; n]));
            out.push((h, w, vec![1; n]));
            out.push((h, w, (0..n).map(|_| u8::from(rng.bool())).collect()));
            out.push((h, w, (0..n).map(|_| if rng.u8(..) < 20 { rng.u8(1..) } else { 0 }).collect()));
            let mut blob = vec![0u8; n];
            let (y0, x0) = (rng.usize(..h), rng.usize(..w));
            for y in y0..h.min(y0 + 5) {
                for x in x0..w.min(x0 + 40) {
                    blob[y * w + x] = 1;
                }
            }
            out.push((h, w, blob));
        }
        out
    }

    #[test]
    fn encode_matches_the_definition() {
        for (h, w, mask) in random_masks() {
            let expected = naive(&mask, h, w);
            assert_eq!(encode(&mask, h, w).unwrap(), expected, "{h}x{w}");
            assert_eq!(encode_dense(&mask, h, w), expected, "{h}x{w} dense");
            assert_eq!(encode_column_major(&transpose(&mask, h, w), h, w).unwrap(), expected, "{h}x{w}");
            let bits: Vec<u8> = mask.iter().map(|&v| u8::from(v != 0)).collect();
            assert_eq!(decode(&expected, h, w).unwrap(), bits, "{h}x{w}");
            assert_eq!(from_string(to_string(&expected).as_bytes()).unwrap(), expected);
            assert_eq!(area(&expected), bits.iter().map(|&b| u64::from(b)).sum::<u64>());
        }
    }

    #[test]
    fn known_strings() {
        // Checked against pycocotools: a 3x3 mask with the centre set, and the empty
        // and full 2x2 masks.
        let centre = [0, 0, 0, 0, 1, 0, 0, 0, 0];
        assert_eq!(encode(&centre, 3, 3).unwrap(), vec![4, 1, 4]);
        assert_eq!(to_string(&[4, 1, 4]), "414");
        assert_eq!(to_string(&[4]), "4");
        assert_eq!(to_string(&[0, 4]), "04");
        assert_eq!(to_string(&[100_000, 5, 3, 9]), "PeQ3534");
        assert_eq!(bbox(&[4, 1, 4], 3), [1.0, 1.0, 1.0, 1.0]);
        assert_eq!(bbox(&[9], 3), [0.0; 4]);
        // A run from the bottom of column 0 to the top of column 1 spans every row.
        assert_eq!(bbox(&[2, 2, 5], 3), [0.0, 0.0, 2.0, 3.0]);
    }

    #[test]
    fn decode_handles_empty_runs_and_rejects_bad_sums() {
        assert_eq!(decode(&[0, 4], 2, 2).unwrap(), vec![1; 4]);
        assert_eq!(decode(&[1, 0, 0, 2, 1], 2, 2).unwrap(), vec![0, 1, 1, 0]);
        assert!(decode(&[3], 2, 2).unwrap_err().contains("add up to 3"));
        assert!(decode(&[u32::MAX, u32::MAX], 2, 2).is_err());
        assert_eq!(decode(&[0], 0, 5).unwrap(), Vec::<u8>::new());
        assert!(encode(&[0; 3], 2, 2).is_err());
        assert!(encode(&[], 1 << 20, 1 << 20).is_err());
    }

    #[test]
    fn malformed_strings_are_errors() {
        assert!(from_string(b"4 1").is_err());
        assert!(from_string(b"\xff").is_err());
        assert!(from_string(b"o").is_err(), "a group with more to follow at the end");
        assert!(from_string(b"oooooooooooooo1").is_err(), "too long");
        assert!(from_string(b"1@").is_err(), "negative count");
        assert_eq!(from_string(b"").unwrap(), Vec::<u32>::new());
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..2000 {
            let s: Vec<u8> = (0..rng.usize(0..12)).map(|_| rng.u8(40..120)).collect();
            if let Ok(counts) = from_string(&s) {
                assert_eq!(from_string(to_string(&counts).as_bytes()).unwrap(), counts);
            }
        }
    }

    /// `cargo test -p lbfast-core --release --lib rle::tests::timing -- --ignored --nocapture`
    #[test]
    #[ignore = "timing: run with --release --nocapture"]
    fn timing() {
        use std::time::Instant;
        let (h, w) = (1080usize, 1920usize);
        let mut mask = vec![0u8; h * w];
        let mut rng = fastrand::Rng::with_seed(2);
        for _ in 0..12 {
            let (cx, cy, r) = (rng.i64(0..1920), rng.i64(0..1080), rng.i64(20..180));
            for y in (cy - r).max(0)..(cy + r).min(1080) {
                for x in (cx - r).max(0)..(cx + r).min(1920) {
                    if (x - cx).pow(2) + (y - cy).pow(2) <= r * r {
                        mask[y as usize * w + x as usize] = 1;
                    }
                }
            }
        }
        let runs = 50;
        let t = Instant::now();
        let mut counts = Vec::new();
        for _ in 0..runs {
            counts = encode(&mask, h, w).unwrap();
        }
        println!(
            "encode: {:.3} ms ({} counts)",
            t.elapsed().as_secs_f64() * 1e3 / f64::from(runs),
            counts.len()
        );
        let t = Instant::now();
        for _ in 0..runs {
            assert_eq!(decode(&counts, h, w).unwrap().len(), h * w);
        }
        println!("decode: {:.3} ms", t.elapsed().as_secs_f64() * 1e3 / f64::from(runs));
        let s = to_string(&counts);
        let t = Instant::now();
        for _ in 0..runs {
            assert_eq!(from_string(s.as_bytes()).unwrap().len(), counts.len());
        }
        println!("from_string: {:.3} ms", t.elapsed().as_secs_f64() * 1e3 / f64::from(runs));
    }
}

#[cfg(test)]
mod noise_timing {
    /// `cargo test -p lbfast-core --release --lib rle::noise_timing -- --ignored --nocapture`
    #[test]
    #[ignore = "timing: run with --release --nocapture"]
    fn noise() {
        use std::time::Instant;
        let (h, w) = (1080usize, 1920usize);
        let mut rng = fastrand::Rng::with_seed(2);
        let mask: Vec<u8> = (0..h * w).map(|_| u8::from(rng.bool())).collect();
        let t = Instant::now();
        let counts = super::encode(&mask, h, w).unwrap();
        println!("encode: {:.3} ms ({} counts)", t.elapsed().as_secs_f64() * 1e3, counts.len());
        let t = Instant::now();
        let s = super::to_string(&counts);
        println!("to_string: {:.3} ms ({} bytes)", t.elapsed().as_secs_f64() * 1e3, s.len());
        let t = Instant::now();
        let back = super::decode(&counts, h, w).unwrap();
        println!("decode: {:.3} ms", t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(back, mask);
    }
}
