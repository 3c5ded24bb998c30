//! The checks the fuzz targets run on arbitrary bytes. Each must never panic, hang or
//! allocate without bound, and its results must agree with a slower reference.

use std::sync::Arc;

use base64::Engine as _;
use lbfast_core::colors::{self, bits_in_box, instance_bits, mask_extent};
use lbfast_core::mask::{self, binary_mask, check_png, decode_png, encode_binary_png, Image};
use lbfast_core::model::MaskColor;
use lbfast_core::options::Options;
use lbfast_core::read::read_ndjson;
use lbfast_core::rle;

/// Small enough that a fuzzer's claimed sizes cannot exhaust memory.
const MAX_PIXELS: u64 = 1 << 22;

/// PNG decoding, colour extraction and thresholding of whatever decodes.
pub fn png_decode(data: &[u8]) {
    let decoded = decode_png(data, MAX_PIXELS);
    let checked = check_png(data, MAX_PIXELS);
    match &decoded {
        Ok(image) => {
            // Anything decode accepts, the streaming check accepts with the same size.
            assert_eq!(checked, Ok((image.width, image.height)));
            check_image(image);
        }
        // Both read every byte up to IEND the same way, so they fail alike.
        Err(reason) => assert_eq!(checked.as_ref().err(), Some(reason)),
    }
}

/// Colour extraction of raw bytes taken as an image: the first byte picks the channel
/// count and width.
pub fn colors(data: &[u8]) {
    let Some((&head, body)) = data.split_first() else {
        return;
    };
    let channels = head % 5 + 1;
    let width = u32::from(head / 5 % 16) + 1;
    let c = usize::from(channels);
    let pixels = body.len() / c;
    let height = (pixels as u32) / width;
    let used = (width * height) as usize * c;
    let Ok(image) = Image::from_u8(width, height, channels, body[..used].to_vec()) else {
        return;
    };
    check_image(&image);
    // A buffer shorter than the size says is counted as far as it goes.
    let short = colors::index_u8(width, height + 1, channels, &body[..used]);
    assert_eq!(short.colors, colors::index_image(&image).colors);
}

fn check_image(image: &Image) {
    let index = colors::index_image(image);
    let total: u64 = index.colors.iter().map(|s| s.count).sum();
    let expected_total = if image.channels == 0 { 0 } else { image.pixel_count() as u64 };
    assert_eq!(total, expected_total);
    assert!(index.colors.windows(2).all(|w| w[0].rgb < w[1].rgb), "sorted and distinct");
    for stat in index.colors.iter().take(4) {
        let color = MaskColor::Rgb(stat.rgb.map(i64::from));
        let (full, count) = binary_mask(image, color);
        assert_eq!(count as u64, stat.count);
        assert_eq!(bits_in_box(image, color, stat.bbox), full, "the box holds every pixel of the colour");
        let png = encode_binary_png(image.width, image.height, &full).expect("encodable");
        let back = decode_png(&png, u64::MAX).expect("our PNG decodes");
        assert_eq!(back.samples, mask::Samples::U8(full));
    }
}

/// COCO RLE strings and masks: parsing never panics, and what parses round-trips.
pub fn rle(data: &[u8]) {
    let Some((&head, body)) = data.split_first() else {
        return;
    };
    if let Ok(counts) = rle::from_string(body) {
        assert_eq!(rle::from_string(rle::to_string(&counts).as_bytes()), Ok(counts.clone()));
        let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
        let height = usize::from(head % 16) + 1;
        if total > 0 && total <= 1 << 20 && total.is_multiple_of(height as u64) {
            let width = total as usize / height;
            let mask = rle::decode(&counts, height, width).expect("counts add up");
            let again = rle::encode(&mask, height, width).expect("size matches");
            assert_eq!(rle::decode(&again, height, width).expect("canonical"), mask);
            assert_eq!(rle::area(&counts), mask.iter().map(|&v| u64::from(v)).sum::<u64>());
        }
    }
    // The bytes as a mask.
    let width = usize::from(head % 32) + 1;
    let height = body.len() / width;
    let mask = &body[..width * height];
    let counts = rle::encode(mask, height, width).expect("size matches");
    let bits: Vec<u8> = mask.iter().map(|&v| u8::from(v != 0)).collect();
    assert_eq!(rle::decode(&counts, height, width).expect("counts add up"), bits);
    let column_major: Vec<u8> =
        (0..width).flat_map(|x| (0..height).map(move |y| (x, y))).map(|(x, y)| mask[y * width + x]).collect();
    assert_eq!(rle::encode_column_major(&column_major, height, width).expect("size matches"), counts);
}

/// RLE counts with any claimed size, as `lbfast.masks.rle_decode` takes them: the
/// size is capped (as the binding caps it) before decoding, and decoding either fails
/// or gives exactly `height * width` pixels. The first 8 bytes are the size claim.
pub fn rle_size(data: &[u8]) {
    let Some((size, text)) = data.split_at_checked(8) else {
        return;
    };
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    // Mostly small sizes (so that decoding is reached), sometimes huge claims.
    let (height, width) = match size[0] % 4 {
        0 => (be(&size[0..4]), be(&size[4..8])),
        _ => (usize::from(size[1] % 64), usize::from(size[5] % 64)),
    };
    let Ok(counts) = rle::from_string(text) else {
        return;
    };
    if (height as u64).saturating_mul(width as u64) > MAX_PIXELS {
        return;
    }
    match rle::decode(&counts, height, width) {
        Ok(mask) => {
            assert_eq!(mask.len(), height * width);
            assert_eq!(rle::area(&counts), mask.iter().map(|&v| u64::from(v)).sum::<u64>());
            let bbox = rle::bbox(&counts, height);
            assert!(bbox.iter().all(|v| v.is_finite() && *v >= 0.0));
        }
        Err(reason) => assert!(!reason.is_empty()),
    }
}

/// Mask PNGs given as base64 text (`{"png": "..."}` in NDJSON-shaped dicts): the text
/// is decoded as the binding decodes it, then as [`png_decode`].
pub fn mask_base64(data: &[u8]) {
    if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data) {
        png_decode(&bytes);
    }
}

/// Thresholding and encoding of any image with any colour, including colours no
/// sample can hold: the first bytes pick the sample type, channels, width and colour.
pub fn mask_encode(data: &[u8]) {
    let Some((head, body)) = data.split_at_checked(6) else {
        return;
    };
    let channels = head[0] % 4 + 1;
    let width = u32::from(head[1] % 24) + 1;
    let component = |b: u8| i64::from(b as i8) * i64::from(head[5] % 3 + 1) * 100 + i64::from(b);
    let color = if head[0] & 0x80 == 0 {
        MaskColor::Gray(component(head[2]))
    } else {
        MaskColor::Rgb([component(head[2]), component(head[3]), component(head[4])])
    };
    let c = usize::from(channels);
    let image = if head[0] & 0x40 == 0 {
        let height = (body.len() / c) as u32 / width;
        let used = (width * height) as usize * c;
        Image::from_u8(width, height, channels, body[..used].to_vec())
    } else {
        let samples: Vec<u16> = body.chunks_exact(2).map(|b| u16::from_be_bytes([b[0], b[1]])).collect();
        let height = (samples.len() / c) as u32 / width;
        let used = (width * height) as usize * c;
        Image::from_u16(width, height, channels, samples[..used].to_vec())
    };
    let Ok(image) = image else {
        return;
    };
    let (w, h) = (image.width as usize, image.height as usize);
    let (full, count) = binary_mask(&image, color);
    assert_eq!(full.len(), w * h);
    assert_eq!(full.iter().filter(|&&v| v == 1).count(), count);
    assert!(full.iter().all(|&v| v <= 1));
    let extent = mask_extent(&full, w, h);
    assert_eq!(extent.is_none(), count == 0);
    let image = Arc::new(image);
    assert_eq!(instance_bits(&image, color), (count > 0).then(|| full.clone()));
    if let Some(bbox) = extent {
        assert_eq!(bits_in_box(&image, color, bbox), full);
    }
    if w * h > 0 {
        let png = encode_binary_png(image.width, image.height, &full).expect("encodable");
        let back = decode_png(&png, u64::MAX).expect("our PNG decodes");
        assert_eq!(back.samples, mask::Samples::U8(full.clone()));
        let counts = rle::encode(&full, h, w).expect("size matches");
        assert_eq!(rle::decode(&counts, h, w).expect("counts add up"), full);
    }
}

/// The NDJSON reader on arbitrary text: one row per line that is not blank, problems
/// only at those rows, annotations in row order; and what it accepts, once checked and
/// written, reads back and writes again to the same bytes.
pub fn ndjson_read(data: &[u8]) {
    let read = read_ndjson(data, 0, 1, Some(1));
    let text = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let rows = text.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count();
    assert_eq!(read.rows(), rows);
    assert!(read.lines.windows(2).all(|w| w[0] < w[1]), "lines in order");
    assert!(read.batch.issues.listed().iter().all(|i| i.row < rows));
    assert!(read.batch.items.windows(2).all(|w| w[0].row < w[1].row), "one annotation a row, in order");
    for line in text.split(|&b| b == b'\n') {
        quick_as_general(line);
    }
    let Ok(written) = read.batch.into_ndjson(&Options::default()) else { return };
    let again = read_ndjson(&written, 0, 1, Some(1));
    assert!(again.batch.issues.is_empty(), "what was written reads back");
    let rewritten = again.batch.into_ndjson(&Options::default()).expect("what was written is valid");
    assert_eq!(rewritten, written);
}

/// A line the quick reader of common lines reads is one the general path reads the
/// same, without a problem.
fn quick_as_general(line: &[u8]) {
    use lbfast_core::issues::Issues;
    use lbfast_core::read::json::{self, JsonNode, Texts};
    use lbfast_core::read::{quick, read_annotation};
    let texts = Texts::default();
    let Some(quick) = quick::read_line(line, &texts) else { return };
    let value = json::parse(line).expect("a line read quickly is JSON");
    let mut issues = Issues::default();
    let general = read_annotation(&JsonNode { value: &value, texts: &texts }, &mut issues);
    assert!(issues.is_empty(), "a line read quickly has no problem");
    assert_eq!(format!("{general:?}"), format!("{:?}", Ok::<_, json::Refused>(Some(quick))));
}

#[cfg(test)]
mod tests {
    //! The targets as a seeded random/mutation loop on stable: valid PNGs of every
    //! colour type and depth, then bit flips, truncations, insertions and chunk-length
    //! edits of them. `LBFAST_FUZZ_ITERS` sets the number of mutants (default 20000).

    use super::*;

    fn iterations() -> usize {
        std::env::var("LBFAST_FUZZ_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000)
    }

    fn random_bytes(rng: &mut fastrand::Rng, max_len: usize) -> Vec<u8> {
        let len = rng.usize(0..max_len);
        let sparse = rng.bool();
        (0..len).map(|_| if sparse { rng.u8(..) % 3 } else { rng.u8(..) }).collect()
    }

    fn seeds(rng: &mut fastrand::Rng) -> Vec<Vec<u8>> {
        use png::{BitDepth as D, ColorType as C};
        let mut out = Vec::new();
        let kinds = [
            (C::Grayscale, D::One),
            (C::Grayscale, D::Two),
            (C::Grayscale, D::Four),
            (C::Grayscale, D::Eight),
            (C::Grayscale, D::Sixteen),
            (C::GrayscaleAlpha, D::Eight),
            (C::GrayscaleAlpha, D::Sixteen),
            (C::Rgb, D::Eight),
            (C::Rgb, D::Sixteen),
            (C::Rgba, D::Eight),
            (C::Rgba, D::Sixteen),
            (C::Indexed, D::One),
            (C::Indexed, D::Four),
            (C::Indexed, D::Eight),
        ];
        for (color, depth) in kinds {
            for (w, h) in [(1u32, 1u32), (7, 3), (33, 17)] {
                let bits = color.samples() * depth as usize;
                let row = (w as usize * bits).div_ceil(8);
                let data: Vec<u8> = (0..row * h as usize).map(|_| rng.u8(..) & rng.u8(..)).collect();
                let mut png = Vec::new();
                let mut enc = png::Encoder::new(&mut png, w, h);
                enc.set_color(color);
                enc.set_depth(depth);
                if color == C::Indexed {
                    enc.set_palette((0..768).map(|i| i as u8).collect::<Vec<u8>>());
                }
                let mut writer = enc.write_header().unwrap();
                writer.write_image_data(&data).unwrap();
                writer.finish().unwrap();
                out.push(png);
            }
        }
        out
    }

    fn mutate(rng: &mut fastrand::Rng, seed: &[u8]) -> Vec<u8> {
        let mut m = seed.to_vec();
        for _ in 0..rng.usize(1..4) {
            if m.is_empty() {
                break;
            }
            match rng.u8(0..6) {
                0 => {
                    let i = rng.usize(..m.len());
                    m[i] ^= 1 << rng.u8(0..8);
                }
                1 => m.truncate(rng.usize(..m.len())),
                2 => {
                    let i = rng.usize(..=m.len());
                    m.insert(i, rng.u8(..));
                }
                3 => {
                    let i = rng.usize(..m.len());
                    m[i] = rng.u8(..);
                }
                4 if m.len() >= 24 => {
                    // The IHDR width/height: big claims, zero sizes.
                    let at = 16 + 4 * rng.usize(0..2);
                    let v: u32 = [0, 1, 65_535, 1 << 20, u32::MAX][rng.usize(0..5)];
                    m[at..at + 4].copy_from_slice(&v.to_be_bytes());
                }
                _ => {
                    let i = rng.usize(..m.len());
                    m.remove(i);
                }
            }
        }
        m
    }

    #[test]
    fn png_decode_survives_mutants() {
        let mut rng = fastrand::Rng::with_seed(0x6c62);
        let seeds = seeds(&mut rng);
        for s in &seeds {
            png_decode(s);
            assert!(decode_png(s, MAX_PIXELS).is_ok());
        }
        for _ in 0..iterations() {
            let seed = &seeds[rng.usize(..seeds.len())];
            png_decode(&mutate(&mut rng, seed));
        }
    }

    #[test]
    fn colors_and_rle_survive_random_bytes() {
        let mut rng = fastrand::Rng::with_seed(0x726c);
        for _ in 0..iterations() {
            let len = rng.usize(0..300);
            let sparse = rng.bool();
            let data: Vec<u8> = (0..len).map(|_| if sparse { rng.u8(..) % 3 } else { rng.u8(..) }).collect();
            colors(&data);
            rle(&data);
            // RLE text: digits of the alphabet, mostly.
            let text: Vec<u8> =
                std::iter::once(rng.u8(..)).chain((0..len % 40).map(|_| rng.u8(47..113))).collect();
            rle(&text);
        }
    }

    #[test]
    fn rle_sizes_survive_random_claims() {
        let mut rng = fastrand::Rng::with_seed(0x7273);
        // The RLE of issue 11: four gigapixels in eight bytes.
        rle_size(&[0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff, b'0', b'Q', b'P', b'P', b'l', b'o', b'o', b'3']);
        for _ in 0..iterations() {
            let mut data: Vec<u8> = (0..8).map(|_| rng.u8(..)).collect();
            data.extend((0..rng.usize(0..40)).map(|_| rng.u8(47..113)));
            rle_size(&data);
        }
    }

    #[test]
    fn base64_masks_survive_mutants() {
        let mut rng = fastrand::Rng::with_seed(0x6236);
        let seeds: Vec<Vec<u8>> = seeds(&mut rng)
            .iter()
            .map(|png| base64::engine::general_purpose::STANDARD.encode(png).into_bytes())
            .collect();
        for _ in 0..iterations() / 4 {
            let seed = &seeds[rng.usize(..seeds.len())];
            mask_base64(&mutate(&mut rng, seed));
            mask_base64(&random_bytes(&mut rng, 64));
        }
    }

    #[test]
    fn thresholding_and_encoding_survive_random_images_and_colours() {
        let mut rng = fastrand::Rng::with_seed(0x6d65);
        for _ in 0..iterations() {
            mask_encode(&random_bytes(&mut rng, 400));
        }
    }

    #[test]
    fn the_ndjson_reader_survives_mutants() {
        let mut rng = fastrand::Rng::with_seed(0x6e64);
        let seeds: Vec<Vec<u8>> = [
            r#"{"uuid":"u","dataRow":{"globalKey":"k"},"name":"car","confidence":0.5,"bbox":{"top":1,"left":2,"height":3,"width":4}}"#,
            r#"{"dataRow":{"id":"d"},"schemaId":"ckrb1sfkn099c0y910wbo0p1a","point":{"x":1.5,"y":-2}}"#,
            r#"{"dataRow":{"globalKey":"k"},"name":"l","line":[{"x":1,"y":2},{"x":3,"y":4}],"classifications":[{"name":"q","answer":{"name":"a"}}]}"#,
            r#"{"dataRow":{"globalKey":"k"},"name":"m","mask":{"instanceURI":"https://x/m.png","colorRGB":[255,0,0]}}"#,
            r#"{"dataRow":{"globalKey":"k"},"name":"t","answer":"text \u00e9\n","messageId":"m","isBenchmarkReferenceLabel":true}"#,
            r#"{"dataRow":{"globalKey":"k"},"name":"c","answer":[{"name":"a","confidence":0.1,"classifications":[{"name":"n","answer":"x"}]}]}"#,
        ]
        .iter()
        .map(|line| line.as_bytes().to_vec())
        .collect();
        let deep = [b"[".repeat(5000), b"{\"a\":".repeat(200), b"[{".repeat(100)];
        for seed in seeds.iter().chain(&deep) {
            ndjson_read(seed);
        }
        let all = seeds.join(&b"\n"[..]);
        ndjson_read(&all);
        assert!(
            read_ndjson(&all, 0, 1, Some(1)).batch.into_ndjson(&Options::default()).is_ok(),
            "seeds are valid"
        );
        for _ in 0..iterations() / 2 {
            let mut text = Vec::new();
            for _ in 0..rng.usize(1..4) {
                let seed = &seeds[rng.usize(..seeds.len())];
                text.extend(mutate(&mut rng, seed));
                text.extend_from_slice(if rng.bool() { b"\n" } else { b"\r\n" });
            }
            ndjson_read(&text);
        }
    }
}
