//! PNG decode, colour thresholding and binary PNG encode.
//!
//! The official Labelbox SDK reads a mask with `np.array(PIL.Image.open(png))`, stacks
//! 2-D arrays to three channels and selects an instance with
//! `np.all(value[..., :3] == color, axis=-1)`. The decoder here reproduces Pillow's
//! pixel values (not the PNG specification's "true" sample values) so that the same
//! colour selects the same pixels, and the encoder writes what the SDK uploads: an
//! 8-bit grayscale PNG whose pixels are 0 and 1.

use std::io::Cursor;

use crate::colors::ColorCache;
use crate::model::MaskColor;

/// Decoded pixels, row-major, interleaved channels.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub samples: Samples,
    /// Its colours, once [`Image::color_index`] has been asked for them.
    pub(crate) colors: ColorCache,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

/// Default cap on `width * height`, against decompression bombs: 16384 x 16384 pixels.
///
/// A few hundred bytes of PNG can claim any size, and zeros compress ~1000:1, so the
/// pixel count from the header is checked before anything is allocated. At this cap the
/// largest decode buffer (16-bit RGBA) is 2 GiB; ordinary masks are far below it.
pub const DEFAULT_MAX_PIXELS: u64 = 1 << 28;

/// Decoding may take this many bytes per pixel of the pixel cap (8-bit RGBA); 16-bit
/// colour images must be that much smaller.
pub const MAX_BYTES_PER_PIXEL: u64 = 4;

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

impl Image {
    /// From a numpy-style `uint8` buffer of shape `(h, w)` (`channels == 1`) or `(h, w, c)`.
    pub fn from_u8(width: u32, height: u32, channels: u8, data: Vec<u8>) -> Result<Image, String> {
        check_len(width, height, channels, data.len())?;
        Ok(Image { width, height, channels, samples: Samples::U8(data), colors: ColorCache::default() })
    }

    /// From a numpy-style `uint16` buffer of shape `(h, w)` or `(h, w, c)`.
    pub fn from_u16(width: u32, height: u32, channels: u8, data: Vec<u16>) -> Result<Image, String> {
        check_len(width, height, channels, data.len())?;
        Ok(Image { width, height, channels, samples: Samples::U16(data), colors: ColorCache::default() })
    }

    /// `width * height`, as the length of a mask of this image.
    pub fn pixel_count(&self) -> usize {
        self.width as usize * self.height as usize
    }
}

fn check_len(width: u32, height: u32, channels: u8, len: usize) -> Result<(), String> {
    if channels == 0 {
        return Err("an image needs at least one channel".to_string());
    }
    // w * h fits in u64 but w * h * c may not.
    let expected =
        u64::from(width).checked_mul(u64::from(height)).and_then(|n| n.checked_mul(u64::from(channels)));
    if expected != Some(len as u64) {
        return Err(format!(
            "image data has {len} samples, but {width}x{height}x{channels} needs {}",
            expected.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string())
        ));
    }
    Ok(())
}

/// Decodes any PNG into an [`Image`] with the pixel values `np.array(PIL.Image.open(..))`
/// would hold:
///
/// | PNG                     | Image                                              |
/// |-------------------------|----------------------------------------------------|
/// | gray 1-bit              | 1 channel u8, 0/1 (Pillow mode "1" is a bool array) |
/// | gray 2/4-bit            | 1 channel u8, scaled x85 / x17 (Pillow "L;2"/"L;4") |
/// | gray 8 / 16-bit         | 1 channel u8 / u16 (raw 16-bit values, "I;16")     |
/// | gray+alpha 8 / 16-bit   | 2 channels u8 (16-bit: the high byte; Pillow gives |
/// |                         | RGBA g,g,g,a there, which selects the same pixels) |
/// | RGB, RGBA 8 / 16-bit    | 3 / 4 channels u8 (16-bit: the high byte)          |
/// | palette 1/2/4/8-bit     | 1 channel u8 of palette indices (mode "P")         |
///
/// `tRNS` is ignored, as Pillow only records it as metadata. Interlaced images decode
/// to the same pixels. Animated PNGs give their default image, as Pillow does on open.
///
/// Never panics on hostile input: bad signature, truncation, CRC or Adler-32
/// mismatch, zero size and sizes above `max_pixels` are all `Err`.
pub fn decode_png(bytes: &[u8], max_pixels: u64) -> Result<Image, String> {
    read_ihdr(bytes, max_pixels)?;
    let mut reader = open_png(bytes)?;
    let info = reader.info();
    let (width, height) = (info.width, info.height);
    let (color_type, depth) = (info.color_type, info.bit_depth);
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| format!("PNG is {width}x{height}, too large to hold in memory"))?;
    // Pixels alone do not bound memory: a 16-bit RGBA pixel takes 8 bytes.
    let max_bytes = max_pixels.saturating_mul(MAX_BYTES_PER_PIXEL);
    if size as u64 > max_bytes {
        return Err(format!(
            "PNG is {width}x{height} and needs {size} bytes to decode, above the limit of {max_bytes} \
             ({MAX_BYTES_PER_PIXEL} bytes per pixel of the limit of {max_pixels} pixels)"
        ));
    }
    let mut raw = crate::memory::try_zeroed::<u8>(size, &format!("a {width}x{height} PNG"))?;
    reader.next_frame(&mut raw).map_err(png_error)?;
    // Read up to IEND so that truncated files and bad CRCs after the pixels are reported
    // too: a file that is not whole was most likely cut off in transit.
    reader.finish().map_err(png_error)?;
    pillow_samples(width, height, color_type, depth, raw)
}

/// Checks that `bytes` are a complete, decodable PNG (for masks given as
/// `{"png": base64}`), returning `(width, height)`. Same errors as [`decode_png`], but
/// it streams rows instead of allocating the whole image.
pub fn check_png(bytes: &[u8], max_pixels: u64) -> Result<(u32, u32), String> {
    read_ihdr(bytes, max_pixels)?;
    let mut reader = open_png(bytes)?;
    let (width, height) = (reader.info().width, reader.info().height);
    // `next_row` walks every row of every Adam7 pass, so interlaced images are fully
    // inflated and unfiltered as well.
    while reader.next_row().map_err(png_error)?.is_some() {}
    reader.finish().map_err(png_error)?;
    Ok((width, height))
}

/// Reads the signature and IHDR by hand, so that non-PNGs and decompression bombs get
/// a clear message before the decoder allocates anything sized by the header.
/// Returns `(width, height)`; everything else (CRC, colour type, ...) is left to the
/// `png` crate.
fn read_ihdr(bytes: &[u8], max_pixels: u64) -> Result<(u32, u32), String> {
    if bytes.is_empty() {
        return Err("not a PNG (no data)".to_string());
    }
    if bytes.len() < PNG_SIGNATURE.len() {
        return Err(if PNG_SIGNATURE.starts_with(bytes) {
            "truncated PNG: the data ends inside the signature".to_string()
        } else {
            "not a PNG (bad signature)".to_string()
        });
    }
    if bytes[..8] != PNG_SIGNATURE {
        return Err("not a PNG (bad signature)".to_string());
    }
    // length (4) + "IHDR" (4) + width (4) + height (4); the rest of the header and its
    // CRC are checked by the decoder.
    let Some(head) = bytes.get(8..24) else {
        return Err("truncated PNG: the data ends inside the header".to_string());
    };
    if &head[4..8] != b"IHDR" {
        return Err("corrupt PNG: the first chunk is not IHDR".to_string());
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if be(&head[0..4]) != 13 {
        return Err("corrupt PNG: the IHDR chunk does not have 13 bytes".to_string());
    }
    let (width, height) = (be(&head[8..12]), be(&head[12..16]));
    if width == 0 || height == 0 {
        return Err(format!("corrupt PNG: the image is {width}x{height} pixels"));
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(format!("PNG is {width}x{height} = {pixels} pixels, above the limit of {max_pixels}"));
    }
    Ok((width, height))
}

fn open_png(bytes: &[u8]) -> Result<png::Reader<Cursor<&[u8]>>, String> {
    let mut options = png::DecodeOptions::default();
    // CRCs are checked by default, but the zlib Adler-32 is not; Pillow (zlib) rejects a
    // wrong one, so check both explicitly.
    options.set_ignore_crc(false);
    options.set_ignore_adler32(false);
    // Text and ICC chunks cannot change pixels; skipping them avoids inflating
    // compressed metadata (another place for bombs).
    options.set_ignore_text_chunk(true);
    options.set_ignore_iccp_chunk(true);
    let mut decoder = png::Decoder::new_with_options(Cursor::new(bytes), options);
    // Raw samples: bit unpacking and 16-bit handling follow Pillow, below.
    decoder.set_transformations(png::Transformations::IDENTITY);
    decoder.read_info().map_err(png_error)
}

fn png_error(err: png::DecodingError) -> String {
    use png::DecodingError as E;
    match err {
        E::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "truncated PNG: the data ends early".to_string()
        }
        E::IoError(e) => format!("unreadable PNG: {}", fragment(&e.to_string())),
        E::Format(e) => {
            let msg = fragment(&e.to_string());
            // Running out of image data is how truncation inside IDAT shows up.
            if msg.contains("does not have enough data") {
                format!("truncated PNG: {msg}")
            } else {
                format!("corrupt PNG: {msg}")
            }
        }
        E::LimitsExceeded => "PNG needs more memory to decode than allowed".to_string(),
        E::Parameter(e) => format!("PNG decoder error: {}", fragment(&e.to_string())),
    }
}

/// Turns the `png` crate's "Sentence." messages into a fragment that reads well after a
/// colon: no trailing period, lowercase first letter unless it starts an acronym.
fn fragment(msg: &str) -> String {
    let msg = msg.trim().trim_end_matches('.');
    let mut chars = msg.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            first.to_lowercase().chain(msg[first.len_utf8()..].chars()).collect()
        }
        _ => msg.to_string(),
    }
}

/// Converts the raw (packed, big-endian) samples of the decoder into Pillow's values.
fn pillow_samples(
    width: u32,
    height: u32,
    color_type: png::ColorType,
    depth: png::BitDepth,
    mut raw: Vec<u8>,
) -> Result<Image, String> {
    use png::{BitDepth as D, ColorType as C};
    let channels = color_type.samples() as u8;
    let samples = match (color_type, depth) {
        (_, D::Eight) => Samples::U8(raw),
        // Pillow "I;16": raw values, not scaled to 8 bits.
        (C::Grayscale, D::Sixteen) => {
            Samples::U16(raw.chunks_exact(2).map(|b| u16::from_be_bytes([b[0], b[1]])).collect())
        }
        // Pillow opens 16-bit RGB(A) and gray+alpha as 8-bit modes, keeping the most
        // significant byte of each sample (16-bit LA even becomes RGBA; two channels
        // select the same pixels). Compact in place: sample i moves to byte i.
        (_, D::Sixteen) => {
            let len = raw.len() / 2;
            for i in 0..len {
                raw[i] = raw[2 * i];
            }
            raw.truncate(len);
            Samples::U8(raw)
        }
        // Pillow: mode "1" (a bool array, so 0/1), "L;2" and "L;4" scaled to 0..255;
        // palette images ("P") stay indices at every depth.
        (C::Grayscale, D::One) => Samples::U8(unpack_bits(width, height, 1, 1, &raw)?),
        (C::Grayscale, D::Two) => Samples::U8(unpack_bits(width, height, 2, 85, &raw)?),
        (C::Grayscale, D::Four) => Samples::U8(unpack_bits(width, height, 4, 17, &raw)?),
        (C::Indexed, D::One | D::Two | D::Four) => {
            Samples::U8(unpack_bits(width, height, depth as u8, 1, &raw)?)
        }
        // The decoder rejects every other combination when it reads the header.
        (ct, d) => return Err(format!("corrupt PNG: colour type {ct:?} at depth {d:?}")),
    };
    Ok(Image { width, height, channels, samples, colors: ColorCache::default() })
}

/// Unpacks rows of 1, 2 or 4-bit samples (most significant bits first, each row padded
/// to whole bytes) into one byte per pixel, multiplied by `scale`.
fn unpack_bits(width: u32, height: u32, bits: u8, scale: u8, raw: &[u8]) -> Result<Vec<u8>, String> {
    let (w, bits) = (width as usize, usize::from(bits));
    let mut out = crate::memory::try_zeroed::<u8>(w * height as usize, &format!("a {width}x{height} PNG"))?;
    let row_bytes = (w * bits).div_ceil(8);
    if row_bytes == 0 {
        return Ok(out);
    }
    let per_byte = 8 / bits;
    let low = (1u8 << bits) - 1;
    for (row, dst) in raw.chunks_exact(row_bytes).zip(out.chunks_exact_mut(w)) {
        for (x, d) in dst.iter_mut().enumerate() {
            let shift = 8 - bits * (x % per_byte + 1);
            *d = ((row[x / per_byte] >> shift) & low) * scale;
        }
    }
    Ok(out)
}

/// The 0/1 mask (one byte per pixel, row-major, `len == width * height`) of the pixels
/// that match `color`, and how many matched.
///
/// Matches like the SDK's `np.all(value[..., :3] == color, axis=-1)` on the image
/// stacked to three channels:
/// - 1 channel, and 2 (gray+alpha, alpha ignored): `Gray(c)` matches `v == c`;
///   `Rgb([r, g, b])` matches only if `r == g == b == v`;
/// - 3+ channels: the first three channels are compared, alpha and extras ignored.
///
/// Gray+alpha is a deliberate choice rather than a copy: numpy does not stack Pillow's
/// `(h, w, 2)` "LA" array, so the SDK's comparison fails to broadcast against an RGB
/// colour (and an int colour would also have to equal the alpha).
///
/// A colour component no sample can hold (negative, > 255 for u8, > 65535 for u16)
/// never matches. An image whose sample buffer is shorter than its size says (only
/// possible by building [`Image`] by hand) leaves the missing pixels unmatched.
pub fn binary_mask(image: &Image, color: MaskColor) -> (Vec<u8>, usize) {
    let mut mask = vec![0u8; image.pixel_count()];
    let rgb = color.rgb();
    let channels = usize::from(image.channels);
    let hit = match &image.samples {
        Samples::U8(data) => fill_mask_u8(data, channels, rgb, &mut mask),
        Samples::U16(data) => fill_mask(data, channels, rgb, &mut mask),
    };
    let count = if hit { count_ones(&mask) } else { 0 };
    (mask, count)
}

/// Writes the 0/1 matches of `color` (as in [`binary_mask`]) for the pixels
/// `start..start + out.len()` of `image` into `out`; pixels the samples do not reach
/// are left as they are.
pub fn match_pixels(image: &Image, color: MaskColor, start: usize, out: &mut [u8]) {
    let rgb = color.rgb();
    let c = usize::from(image.channels);
    let span =
        |len: usize| (start.saturating_mul(c).min(len), (start + out.len()).saturating_mul(c).min(len));
    match &image.samples {
        Samples::U8(data) => {
            let (lo, hi) = span(data.len());
            fill_mask_u8(&data[lo..hi], c, rgb, out);
        }
        Samples::U16(data) => {
            let (lo, hi) = span(data.len());
            fill_mask(&data[lo..hi], c, rgb, out);
        }
    }
}

/// Counting in its own pass keeps the matching loops pure maps, which vectorise;
/// counting inside them made the RGB loop three times slower. Per chunk of 255 the sum
/// of zeros and ones fits a `u8`, so the additions run 16+ bytes at a time.
fn count_ones(mask: &[u8]) -> usize {
    mask.chunks(255).map(|chunk| usize::from(chunk.iter().fold(0u8, |acc, &m| acc.wrapping_add(m)))).sum()
}

/// The colour as one gray value, for 1- and 2-channel images: the SDK stacks them to
/// r == g == b, so a colour with differing components can never match.
fn gray_target<T: TryFrom<i64>>(rgb: [i64; 3]) -> Option<T> {
    if rgb[0] == rgb[1] && rgb[1] == rgb[2] {
        T::try_from(rgb[0]).ok()
    } else {
        None
    }
}

pub(crate) fn rgb_target<T: TryFrom<i64>>(rgb: [i64; 3]) -> Option<[T; 3]> {
    let [r, g, b] = rgb.map(|c| T::try_from(c).ok());
    Some([r?, g?, b?])
}

/// The u8 fast paths. Returns whether anything could match at all.
fn fill_mask_u8(data: &[u8], channels: usize, rgb: [i64; 3], mask: &mut [u8]) -> bool {
    match channels {
        3 => match rgb_target(rgb) {
            Some(t) => match_rgb_u8(data, t, mask),
            None => return false,
        },
        4 => match rgb_target(rgb) {
            Some(t) => match_rgba_u8(data, t, mask),
            None => return false,
        },
        _ => return fill_mask(data, channels, rgb, mask),
    }
    true
}

/// RGB u8: each pixel is read as a little-endian u32 (its three bytes plus the first
/// byte of the next pixel, masked off). One load and compare per pixel runs about 3x
/// faster than three byte compares, which LLVM does not vectorise at stride 3.
// Measured: inlined into `binary_mask` this loop compiles to code twice as slow.
#[inline(never)]
fn match_rgb_u8(data: &[u8], t: [u8; 3], mask: &mut [u8]) {
    let n = mask.len().min(data.len() / 3);
    let Some(last) = n.checked_sub(1) else {
        return;
    };
    let target = u32::from_le_bytes([t[0], t[1], t[2], 0]);
    // Every pixel but the last has a fourth byte after it.
    for (i, m) in mask[..last].iter_mut().enumerate() {
        let b = &data[3 * i..3 * i + 4];
        *m = u8::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & 0x00FF_FFFF == target);
    }
    let px = &data[3 * last..3 * last + 3];
    mask[last] = u8::from(px == t);
}

/// RGBA u8: one u32 per pixel with alpha masked off; vectorises to 4+ pixels at once.
fn match_rgba_u8(data: &[u8], t: [u8; 3], mask: &mut [u8]) {
    let target = u32::from_le_bytes([t[0], t[1], t[2], 0]);
    for (px, m) in data.chunks_exact(4).zip(mask.iter_mut()) {
        *m = u8::from(u32::from_le_bytes([px[0], px[1], px[2], px[3]]) & 0x00FF_FFFF == target);
    }
}

/// The general path (u16 samples, and u8 with 1, 2 or 5+ channels). Returns whether
/// anything could match at all.
fn fill_mask<T>(data: &[T], channels: usize, rgb: [i64; 3], mask: &mut [u8]) -> bool
where
    T: Copy + Eq + TryFrom<i64>,
{
    match channels {
        0 => return false, // an empty image
        1 | 2 => {
            let Some(v) = gray_target::<T>(rgb) else {
                return false;
            };
            if channels == 1 {
                for (&s, m) in data.iter().zip(mask.iter_mut()) {
                    *m = u8::from(s == v);
                }
            } else {
                // gray + alpha: alpha ignored
                for (px, m) in data.chunks_exact(2).zip(mask.iter_mut()) {
                    *m = u8::from(px[0] == v);
                }
            }
        }
        _ => {
            let Some(t) = rgb_target::<T>(rgb) else {
                return false;
            };
            match channels {
                3 => match_rgb::<T, 3>(data, t, mask),
                4 => match_rgb::<T, 4>(data, t, mask),
                n => {
                    for (px, m) in data.chunks_exact(n).zip(mask.iter_mut()) {
                        *m = u8::from((px[0] == t[0]) && (px[1] == t[1]) && (px[2] == t[2]));
                    }
                }
            }
        }
    }
    true
}

/// `C` is a constant so that the chunks have a fixed stride; `&` rather than `&&`
/// keeps the body branch-free.
fn match_rgb<T: Copy + Eq, const C: usize>(data: &[T], t: [T; 3], mask: &mut [u8]) {
    for (px, m) in data.chunks_exact(C).zip(mask.iter_mut()) {
        *m = u8::from((px[0] == t[0]) && (px[1] == t[1]) && (px[2] == t[2]));
    }
}

/// Encodes a mask (one byte per pixel, normally 0/1) as an 8-bit grayscale PNG with
/// those values, as the SDK uploads it. Bytes are written as given.
///
/// Compression is fdeflate's ultra-fast mode with the Up filter (see the module tests
/// for the measurement behind the choice).
pub fn encode_binary_png(width: u32, height: u32, mask: &[u8]) -> Result<Vec<u8>, String> {
    if width == 0 || height == 0 {
        return Err(format!("cannot encode an empty mask ({width}x{height})"));
    }
    let pixels = u64::from(width) * u64::from(height);
    if mask.len() as u64 != pixels {
        return Err(format!("mask has {} pixels, but {width}x{height} needs {pixels}", mask.len()));
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_deflate_compression(png::DeflateCompression::FdeflateUltraFast);
    encoder.set_filter(png::Filter::Up);
    let encode_error = |e: png::EncodingError| format!("cannot encode mask PNG: {e}");
    let mut writer = encoder.write_header().map_err(encode_error)?;
    writer.write_image_data(mask).map_err(encode_error)?;
    writer.finish().map_err(encode_error)?;
    Ok(out)
}

/// Encodes 8-bit pixels as a PNG, what is uploaded for a mask given as an array
/// (`MaskData.create_url`): one channel is stacked to RGB, as the SDK's
/// `MaskData.from_2D_arr` does, so that a colour `(v, v, v)` selects it.
pub fn encode_png(image: &Image) -> Result<Vec<u8>, String> {
    let Samples::U8(samples) = &image.samples else {
        return Err("only 8-bit pixels can be encoded".to_string());
    };
    let (color, data) = match image.channels {
        1 => (png::ColorType::Rgb, samples.iter().flat_map(|&v| [v, v, v]).collect()),
        2 => (png::ColorType::GrayscaleAlpha, samples.clone()),
        3 => (png::ColorType::Rgb, samples.clone()),
        4 => (png::ColorType::Rgba, samples.clone()),
        n => return Err(format!("cannot encode {n} channels as a PNG")),
    };
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, image.width, image.height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    let encode_error = |e: png::EncodingError| format!("cannot encode PNG: {e}");
    let mut writer = encoder.write_header().map_err(encode_error)?;
    writer.write_image_data(&data).map_err(encode_error)?;
    writer.finish().map_err(encode_error)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_encode_to_pngs_that_decode_to_their_pixels_gray_stacked_to_rgb() {
        let gray = Image::from_u8(3, 2, 1, vec![0, 1, 2, 3, 4, 255]).unwrap();
        let back = decode_png(&encode_png(&gray).unwrap(), DEFAULT_MAX_PIXELS).unwrap();
        assert_eq!((back.width, back.height, back.channels), (3, 2, 3));
        let Samples::U8(samples) = &back.samples else { panic!("8-bit") };
        assert_eq!(samples[..6], [0, 0, 0, 1, 1, 1]);
        assert_eq!(samples[15..], [255, 255, 255]);
        let rgb = Image::from_u8(1, 1, 3, vec![10, 20, 30]).unwrap();
        let back = decode_png(&encode_png(&rgb).unwrap(), DEFAULT_MAX_PIXELS).unwrap();
        assert_eq!(back.samples, Samples::U8(vec![10, 20, 30]));
    }

    // ---- helpers: hand-made PNGs, so that tests can build files the encoder refuses ----

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn adler32(bytes: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &x in bytes {
            a = (a + u32::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }

    fn push_chunk(out: &mut Vec<u8>, kind: [u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(&kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }

    /// A zlib stream of stored (uncompressed) deflate blocks.
    fn zlib_stored(data: &[u8]) -> Vec<u8> {
        let mut out = vec![0x78, 0x01];
        let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
        let blocks = if blocks.is_empty() { vec![&data[..0]] } else { blocks };
        for (i, block) in blocks.iter().enumerate() {
            out.push(u8::from(i + 1 == blocks.len()));
            let len = block.len() as u16;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(block);
        }
        out.extend_from_slice(&adler32(data).to_be_bytes());
        out
    }

    fn ihdr(width: u32, height: u32, depth: u8, color_type: u8, interlace: u8) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&width.to_be_bytes());
        h.extend_from_slice(&height.to_be_bytes());
        h.extend_from_slice(&[depth, color_type, 0, 0, interlace]);
        h
    }

    /// A PNG from an IHDR payload and already filtered scanlines.
    fn hand_png(ihdr: &[u8], plte: Option<&[u8]>, scanlines: &[u8]) -> Vec<u8> {
        let mut png = PNG_SIGNATURE.to_vec();
        push_chunk(&mut png, *b"IHDR", ihdr);
        if let Some(plte) = plte {
            push_chunk(&mut png, *b"PLTE", plte);
        }
        push_chunk(&mut png, *b"IDAT", &zlib_stored(scanlines));
        push_chunk(&mut png, *b"IEND", &[]);
        png
    }

    /// Packs sample values into a PNG row: MSB-first bits for depths < 8, big-endian u16.
    fn pack_row(values: &[u16], depth: u8) -> Vec<u8> {
        match depth {
            8 => values.iter().map(|&v| v as u8).collect(),
            16 => values.iter().flat_map(|&v| v.to_be_bytes()).collect(),
            _ => {
                let d = usize::from(depth);
                let mut row = vec![0u8; (values.len() * d).div_ceil(8)];
                for (i, &v) in values.iter().enumerate() {
                    row[i * d / 8] |= (v as u8) << (8 - d - (i * d) % 8);
                }
                row
            }
        }
    }

    /// Encodes with the png crate; `rows` are sample values (channels interleaved).
    fn encode(
        width: u32,
        color: png::ColorType,
        depth: png::BitDepth,
        rows: &[Vec<u16>],
        palette: Option<&[u8]>,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, width, rows.len() as u32);
        enc.set_color(color);
        enc.set_depth(depth);
        if let Some(p) = palette {
            enc.set_palette(p.to_vec());
            // tRNS must not change what is decoded (Pillow keeps indices).
            enc.set_trns(vec![0u8, 128]);
        }
        let mut w = enc.write_header().unwrap();
        let data: Vec<u8> = rows.iter().flat_map(|r| pack_row(r, depth as u8)).collect();
        w.write_image_data(&data).unwrap();
        w.finish().unwrap();
        out
    }

    fn u8s(image: &Image) -> &[u8] {
        match &image.samples {
            Samples::U8(v) => v,
            Samples::U16(_) => panic!("expected u8 samples, got u16"),
        }
    }

    /// A mask of random filled circles, the shape of a typical instance mask.
    fn blob_mask(width: u32, height: u32, blobs: usize, seed: u64) -> Vec<u8> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let (w, h) = (i64::from(width), i64::from(height));
        let mut mask = vec![0u8; (w * h) as usize];
        for _ in 0..blobs {
            let (cx, cy) = (rng.i64(0..w), rng.i64(0..h));
            let r = rng.i64(1..=(w.min(h) / 6).max(1));
            for y in (cy - r).max(0)..(cy + r).min(h) {
                for x in (cx - r).max(0)..(cx + r).min(w) {
                    if (x - cx).pow(2) + (y - cy).pow(2) <= r * r {
                        mask[(y * w + x) as usize] = 1;
                    }
                }
            }
        }
        mask
    }

    fn small_valid_png() -> Vec<u8> {
        let mask = blob_mask(37, 23, 4, 7);
        encode_binary_png(37, 23, &mask).unwrap()
    }

    // ---- encode / decode round trip ----

    #[test]
    fn binary_png_round_trips() {
        let mut rng = fastrand::Rng::with_seed(1);
        for (w, h) in [(1, 1), (1, 7), (7, 1), (3, 5), (17, 9), (255, 3), (1001, 13)] {
            let mask: Vec<u8> = (0..w * h).map(|_| u8::from(rng.bool())).collect();
            for mask in [mask, vec![0; (w * h) as usize], vec![1; (w * h) as usize]] {
                let png = encode_binary_png(w, h, &mask).unwrap();
                let image = decode_png(&png, DEFAULT_MAX_PIXELS).unwrap();
                assert_eq!((image.width, image.height, image.channels), (w, h, 1));
                assert_eq!(u8s(&image), &mask[..], "{w}x{h}");
                assert_eq!(check_png(&png, DEFAULT_MAX_PIXELS), Ok((w, h)));
            }
        }
        let mask = blob_mask(1920, 1080, 12, 42);
        let png = encode_binary_png(1920, 1080, &mask).unwrap();
        assert!(png.len() < 100_000, "blob mask encoded to {} bytes", png.len());
        let image = decode_png(&png, DEFAULT_MAX_PIXELS).unwrap();
        assert_eq!(u8s(&image), &mask[..]);
    }

    #[test]
    fn encoded_png_is_8_bit_gray_with_values_0_and_1() {
        let png = encode_binary_png(4, 2, &[0, 1, 1, 0, 1, 0, 0, 1]).unwrap();
        let reader = png::Decoder::new(Cursor::new(&png[..])).read_info().unwrap();
        assert_eq!(reader.info().color_type, png::ColorType::Grayscale);
        assert_eq!(reader.info().bit_depth, png::BitDepth::Eight);
        let image = decode_png(&png, DEFAULT_MAX_PIXELS).unwrap();
        assert_eq!(u8s(&image), &[0, 1, 1, 0, 1, 0, 0, 1]);
    }

    #[test]
    fn encode_rejects_bad_sizes() {
        assert!(encode_binary_png(0, 1, &[]).is_err());
        assert!(encode_binary_png(1, 0, &[]).is_err());
        let err = encode_binary_png(2, 2, &[0, 1, 0]).unwrap_err();
        assert!(err.contains("needs 4"), "{err}");
        assert!(encode_binary_png(u32::MAX, u32::MAX, &[0]).is_err());
    }

    // ---- Pillow semantics for every colour type and depth ----

    #[test]
    fn decodes_gray_depths_like_pillow() {
        use png::{BitDepth as D, ColorType as C};
        // Width 5 leaves padding bits at the end of each packed row.
        let rows1 = vec![vec![1, 0, 1, 1, 0], vec![0, 1, 0, 0, 1]];
        let image = decode_png(&encode(5, C::Grayscale, D::One, &rows1, None), u64::MAX).unwrap();
        assert_eq!((image.channels, u8s(&image)), (1, &[1, 0, 1, 1, 0, 0, 1, 0, 0, 1][..]));

        let rows2 = vec![vec![0, 1, 2, 3, 1], vec![3, 2, 1, 0, 2]];
        let image = decode_png(&encode(5, C::Grayscale, D::Two, &rows2, None), u64::MAX).unwrap();
        assert_eq!(u8s(&image), &[0, 85, 170, 255, 85, 255, 170, 85, 0, 170]);

        let rows4 = vec![vec![0, 1, 15], vec![7, 8, 2]];
        let image = decode_png(&encode(3, C::Grayscale, D::Four, &rows4, None), u64::MAX).unwrap();
        assert_eq!(u8s(&image), &[0, 17, 255, 119, 136, 34]);

        let rows8 = vec![vec![0, 1, 254], vec![255, 7, 128]];
        let image = decode_png(&encode(3, C::Grayscale, D::Eight, &rows8, None), u64::MAX).unwrap();
        assert_eq!((image.channels, u8s(&image)), (1, &[0, 1, 254, 255, 7, 128][..]));

        let rows16 = vec![vec![0, 1, 0x1234], vec![0xFFFF, 256, 255]];
        let image = decode_png(&encode(3, C::Grayscale, D::Sixteen, &rows16, None), u64::MAX).unwrap();
        assert_eq!(image.channels, 1);
        assert_eq!(image.samples, Samples::U16(vec![0, 1, 0x1234, 0xFFFF, 256, 255]));
    }

    #[test]
    fn decodes_colour_types_like_pillow() {
        use png::{BitDepth as D, ColorType as C};
        let ga8 = vec![vec![10, 255, 20, 0]];
        let image = decode_png(&encode(2, C::GrayscaleAlpha, D::Eight, &ga8, None), u64::MAX);
        let image = image.unwrap();
        assert_eq!((image.channels, u8s(&image)), (2, &[10, 255, 20, 0][..]));

        // 16-bit modes other than gray: Pillow keeps the high byte of each sample.
        let ga16 = vec![vec![0x1234, 0xABCD, 0x00FF, 0x0100]];
        let image = decode_png(&encode(2, C::GrayscaleAlpha, D::Sixteen, &ga16, None), u64::MAX);
        let image = image.unwrap();
        assert_eq!((image.channels, u8s(&image)), (2, &[0x12, 0xAB, 0x00, 0x01][..]));

        let rgb8 = vec![vec![1, 2, 3, 4, 5, 6], vec![7, 8, 9, 10, 11, 12]];
        let image = decode_png(&encode(2, C::Rgb, D::Eight, &rgb8, None), u64::MAX).unwrap();
        assert_eq!((image.width, image.height, image.channels), (2, 2, 3));
        assert_eq!(u8s(&image), &(1..=12).collect::<Vec<u8>>()[..]);

        let rgb16 = vec![vec![0x1234, 0xABCD, 0x00FF, 0xFFFF, 0x0100, 0x0001]];
        let image = decode_png(&encode(2, C::Rgb, D::Sixteen, &rgb16, None), u64::MAX).unwrap();
        assert_eq!((image.channels, u8s(&image)), (3, &[0x12, 0xAB, 0, 0xFF, 1, 0][..]));

        let rgba8 = vec![vec![1, 2, 3, 4, 5, 6, 7, 8]];
        let image = decode_png(&encode(2, C::Rgba, D::Eight, &rgba8, None), u64::MAX).unwrap();
        assert_eq!((image.channels, u8s(&image)), (4, &[1, 2, 3, 4, 5, 6, 7, 8][..]));

        let rgba16 = vec![vec![0x0102, 0x0304, 0x0506, 0x0708]];
        let image = decode_png(&encode(1, C::Rgba, D::Sixteen, &rgba16, None), u64::MAX).unwrap();
        assert_eq!((image.channels, u8s(&image)), (4, &[1, 3, 5, 7][..]));
    }

    #[test]
    fn decodes_palette_to_indices_at_every_depth() {
        use png::{BitDepth as D, ColorType as C};
        // Colours that differ from the indices, to tell the two apart.
        let palette: Vec<u8> = (0..=255u8).flat_map(|i| [255 - i, 100, i]).collect();
        for (depth, max) in [(D::One, 1u16), (D::Two, 3), (D::Four, 15), (D::Eight, 255)] {
            let rows: Vec<Vec<u16>> =
                (0..3).map(|y| (0..7).map(|x| (x * 5 + y * 3) % (max + 1)).collect()).collect();
            let entries = usize::from(max) + 1;
            let png = encode(7, C::Indexed, depth, &rows, Some(&palette[..3 * entries]));
            let image = decode_png(&png, u64::MAX).unwrap();
            let expected: Vec<u8> = rows.iter().flatten().map(|&v| v as u8).collect();
            assert_eq!((image.channels, u8s(&image)), (1, &expected[..]), "{depth:?}");
        }
    }

    /// Adam7 (pass origin and step) as in the PNG specification.
    const ADAM7: [(usize, usize, usize, usize); 7] =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    fn interlaced_png(width: usize, height: usize, depth: u8, values: &[u16]) -> Vec<u8> {
        let mut scanlines = Vec::new();
        for (x0, y0, dx, dy) in ADAM7 {
            if x0 >= width || y0 >= height {
                continue; // empty passes have no scanlines at all
            }
            for y in (y0..height).step_by(dy) {
                let row: Vec<u16> = (x0..width).step_by(dx).map(|x| values[y * width + x]).collect();
                scanlines.push(0);
                scanlines.extend(pack_row(&row, depth));
            }
        }
        hand_png(&ihdr(width as u32, height as u32, depth, 0, 1), None, &scanlines)
    }

    #[test]
    fn decodes_interlaced_images() {
        let mut rng = fastrand::Rng::with_seed(3);
        for (w, h) in [(1, 1), (3, 2), (13, 11), (64, 9)] {
            let values: Vec<u16> = (0..w * h).map(|_| rng.u16(0..=255)).collect();
            let image = decode_png(&interlaced_png(w, h, 8, &values), u64::MAX).unwrap();
            let expected: Vec<u8> = values.iter().map(|&v| v as u8).collect();
            assert_eq!(u8s(&image), &expected[..], "{w}x{h} 8-bit");

            let bits: Vec<u16> = (0..w * h).map(|_| rng.u16(0..=1)).collect();
            let png = interlaced_png(w, h, 1, &bits);
            let image = decode_png(&png, u64::MAX).unwrap();
            let expected: Vec<u8> = bits.iter().map(|&v| v as u8).collect();
            assert_eq!(u8s(&image), &expected[..], "{w}x{h} 1-bit");
            assert_eq!(check_png(&png, u64::MAX), Ok((w as u32, h as u32)));
        }
    }

    // ---- binary_mask ----

    #[test]
    fn masks_rgb_and_rgba_on_the_first_three_channels() {
        let rgb = Image::from_u8(3, 1, 3, vec![1, 2, 3, 1, 2, 4, 1, 2, 3]).unwrap();
        assert_eq!(binary_mask(&rgb, MaskColor::Rgb([1, 2, 3])), (vec![1, 0, 1], 2));
        assert_eq!(binary_mask(&rgb, MaskColor::Rgb([3, 2, 1])), (vec![0, 0, 0], 0));
        let gray_px = Image::from_u8(2, 1, 3, vec![5, 5, 5, 5, 5, 6]).unwrap();
        assert_eq!(binary_mask(&gray_px, MaskColor::Gray(5)), (vec![1, 0], 1));

        // Alpha is ignored, and so are channels beyond four.
        let rgba = Image::from_u8(2, 1, 4, vec![9, 8, 7, 0, 9, 8, 7, 255]).unwrap();
        assert_eq!(binary_mask(&rgba, MaskColor::Rgb([9, 8, 7])), (vec![1, 1], 2));
        let five = Image::from_u8(2, 1, 5, vec![1, 1, 1, 0, 3, 1, 1, 2, 0, 3]).unwrap();
        assert_eq!(binary_mask(&five, MaskColor::Gray(1)), (vec![1, 0], 1));
    }

    #[test]
    fn masks_gray_images_like_stacked_rgb() {
        let gray = Image::from_u8(2, 2, 1, vec![0, 7, 7, 255]).unwrap();
        assert_eq!(binary_mask(&gray, MaskColor::Gray(7)), (vec![0, 1, 1, 0], 2));
        assert_eq!(binary_mask(&gray, MaskColor::Rgb([7, 7, 7])), (vec![0, 1, 1, 0], 2));
        assert_eq!(binary_mask(&gray, MaskColor::Rgb([7, 7, 8])), (vec![0; 4], 0));
        assert_eq!(binary_mask(&gray, MaskColor::Gray(255)), (vec![0, 0, 0, 1], 1));
        // Gray + alpha: the alpha channel never takes part.
        let ga = Image::from_u8(3, 1, 2, vec![7, 7, 7, 0, 0, 7]).unwrap();
        assert_eq!(binary_mask(&ga, MaskColor::Gray(7)), (vec![1, 1, 0], 2));
        assert_eq!(binary_mask(&ga, MaskColor::Rgb([7, 7, 7])), (vec![1, 1, 0], 2));
    }

    #[test]
    fn masks_u16_samples_on_raw_values() {
        let image = Image::from_u16(3, 1, 1, vec![300, 65535, 44]).unwrap();
        assert_eq!(binary_mask(&image, MaskColor::Gray(300)), (vec![1, 0, 0], 1));
        assert_eq!(binary_mask(&image, MaskColor::Gray(65535)), (vec![0, 1, 0], 1));
        assert_eq!(binary_mask(&image, MaskColor::Gray(65536)), (vec![0, 0, 0], 0));
        let rgb = Image::from_u16(2, 1, 3, vec![300, 1, 2, 300, 1, 3]).unwrap();
        assert_eq!(binary_mask(&rgb, MaskColor::Rgb([300, 1, 3])), (vec![0, 1], 1));
    }

    #[test]
    fn colours_out_of_range_never_match() {
        let image = Image::from_u8(2, 1, 3, vec![44, 0, 255, 44, 44, 44]).unwrap();
        for color in [
            MaskColor::Gray(300),
            MaskColor::Gray(-1),
            MaskColor::Gray(i64::MIN),
            MaskColor::Gray(i64::MAX),
            MaskColor::Rgb([44, 256, 44]),
            MaskColor::Rgb([44, -1, 255]),
            MaskColor::Rgb([44 + 256, 0, 255]), // would match if cast wrapped
        ] {
            assert_eq!(binary_mask(&image, color), (vec![0, 0], 0), "{color:?}");
        }
        let gray = Image::from_u8(1, 1, 1, vec![44]).unwrap();
        assert_eq!(binary_mask(&gray, MaskColor::Gray(44 + 256)), (vec![0], 0));
        assert_eq!(binary_mask(&gray, MaskColor::Gray(44 - 256)), (vec![0], 0));
    }

    #[test]
    fn mask_of_a_decoded_png_matches_numpy() {
        // A 1-bit PNG is a bool array for Pillow: (1, 1, 1) selects the set pixels and
        // (255, 255, 255) selects nothing.
        use png::{BitDepth as D, ColorType as C};
        let png = encode(4, C::Grayscale, D::One, &[vec![1, 0, 0, 1]], None);
        let image = decode_png(&png, u64::MAX).unwrap();
        assert_eq!(binary_mask(&image, MaskColor::Rgb([1, 1, 1])), (vec![1, 0, 0, 1], 2));
        assert_eq!(binary_mask(&image, MaskColor::Gray(255)), (vec![0; 4], 0));
    }

    #[test]
    fn malformed_images_do_not_panic() {
        assert!(Image::from_u8(2, 2, 0, vec![]).is_err());
        assert!(Image::from_u8(2, 2, 3, vec![0; 11]).is_err());
        assert!(Image::from_u8(u32::MAX, u32::MAX, 255, vec![]).is_err());
        assert!(Image::from_u8(0, 5, 3, vec![]).is_ok());
        // Built by hand with too few samples: missing pixels just do not match.
        let short = Image {
            width: 3,
            height: 1,
            channels: 3,
            samples: Samples::U8(vec![1; 4]),
            colors: ColorCache::default(),
        };
        assert_eq!(binary_mask(&short, MaskColor::Gray(1)), (vec![1, 0, 0], 1));
        let none = Image {
            width: 2,
            height: 1,
            channels: 0,
            samples: Samples::U8(vec![]),
            colors: ColorCache::default(),
        };
        assert_eq!(binary_mask(&none, MaskColor::Gray(0)), (vec![0, 0], 0));
    }

    // ---- hostile input ----

    fn assert_rejected(bytes: &[u8], needle: &str) {
        let err = decode_png(bytes, DEFAULT_MAX_PIXELS).unwrap_err();
        assert!(err.contains(needle), "{err:?} does not contain {needle:?}");
        assert_eq!(check_png(bytes, DEFAULT_MAX_PIXELS), Err(err));
    }

    #[test]
    fn rejects_non_png_bytes() {
        assert_rejected(b"", "not a PNG");
        assert_rejected(b"GIF89a\0\0\0\0", "not a PNG (bad signature)");
        assert_rejected(b"\x89PN", "truncated PNG");
        let mut rng = fastrand::Rng::with_seed(9);
        for len in [1, 7, 8, 100, 10_000] {
            let random: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
            assert!(decode_png(&random, DEFAULT_MAX_PIXELS).is_err());
            // Random bytes behind a valid signature reach the chunk parser.
            let mut behind = PNG_SIGNATURE.to_vec();
            behind.extend(&random);
            assert!(decode_png(&behind, DEFAULT_MAX_PIXELS).is_err());
            assert!(check_png(&behind, DEFAULT_MAX_PIXELS).is_err());
        }
    }

    #[test]
    fn rejects_every_truncation() {
        let interlaced = interlaced_png(9, 7, 8, &[3; 63]);
        for png in [small_valid_png(), interlaced] {
            assert!(decode_png(&png, DEFAULT_MAX_PIXELS).is_ok());
            for len in 0..png.len() {
                let cut = &png[..len];
                assert!(decode_png(cut, DEFAULT_MAX_PIXELS).is_err(), "cut at {len}");
                assert!(check_png(cut, DEFAULT_MAX_PIXELS).is_err(), "cut at {len}");
            }
        }
        // Truncation inside the pixel data says so.
        let png = small_valid_png();
        let err = decode_png(&png[..png.len() - 20], DEFAULT_MAX_PIXELS).unwrap_err();
        assert!(err.starts_with("truncated PNG"), "{err}");
    }

    #[test]
    fn rejects_bad_crc_and_corrupt_data() {
        let png = small_valid_png();
        let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
        let len = u32::from_be_bytes(png[idat - 4..idat].try_into().unwrap()) as usize;
        // Every byte the CRC covers (type and data), and the CRC itself.
        for i in idat..idat + 4 + len + 4 {
            let mut bad = png.clone();
            bad[i] ^= 0x10;
            assert!(decode_png(&bad, DEFAULT_MAX_PIXELS).is_err(), "flip at {i}");
            assert!(check_png(&bad, DEFAULT_MAX_PIXELS).is_err(), "flip at {i}");
        }
        // A flip inside the data usually breaks the deflate stream before the chunk's
        // CRC is reached; a flip in the CRC itself is reported as such.
        let mut bad = png.clone();
        bad[idat + 4 + len / 2] ^= 0xFF;
        assert_rejected(&bad, "corrupt PNG");
        let mut bad = png.clone();
        bad[idat + 4 + len + 2] ^= 0x01;
        assert_rejected(&bad, "CRC error");

        // A well-formed chunk (right CRC) around a wrong Adler-32 is still refused.
        let mut scanlines = vec![0u8, 1, 2, 0, 3, 4];
        let good = hand_png(&ihdr(2, 2, 8, 0, 0), None, &scanlines);
        assert!(decode_png(&good, DEFAULT_MAX_PIXELS).is_ok());
        let mut zlib = zlib_stored(&scanlines);
        let n = zlib.len();
        zlib[n - 1] ^= 1;
        let mut png = PNG_SIGNATURE.to_vec();
        push_chunk(&mut png, *b"IHDR", &ihdr(2, 2, 8, 0, 0));
        push_chunk(&mut png, *b"IDAT", &zlib);
        push_chunk(&mut png, *b"IEND", &[]);
        assert_rejected(&png, "corrupt PNG");

        // Bad filter type byte.
        scanlines[0] = 9;
        assert_rejected(&hand_png(&ihdr(2, 2, 8, 0, 0), None, &scanlines), "corrupt PNG");
        // Like Pillow, a palette image needs no PLTE to give its indices, which may
        // also point past the palette.
        let png = hand_png(&ihdr(2, 2, 8, 3, 0), None, &[0, 0, 5, 0, 1, 2]);
        assert_eq!(u8s(&decode_png(&png, u64::MAX).unwrap()), &[0, 5, 1, 2]);
        // Colour type / depth combinations the spec forbids.
        assert!(decode_png(&hand_png(&ihdr(1, 1, 4, 2, 0), None, &[0; 3]), u64::MAX).is_err());
        assert!(decode_png(&hand_png(&ihdr(1, 1, 16, 3, 0), None, &[0; 3]), u64::MAX).is_err());
    }

    #[test]
    fn rejects_decompression_bombs_before_allocating() {
        // The header claims 10^10 pixels; the data is a few bytes. If the size were not
        // checked first, decoding would try to allocate ~10 GB.
        let bomb = hand_png(&ihdr(100_000, 100_000, 8, 0, 0), None, &[0; 16]);
        let err = decode_png(&bomb, DEFAULT_MAX_PIXELS).unwrap_err();
        assert_eq!(
            err,
            format!("PNG is 100000x100000 = 10000000000 pixels, above the limit of {DEFAULT_MAX_PIXELS}")
        );
        assert_eq!(check_png(&bomb, DEFAULT_MAX_PIXELS), Err(err));
        // The limit is the caller's: a small one applies to ordinary images too.
        let png = encode_binary_png(10, 10, &[1; 100]).unwrap();
        assert!(decode_png(&png, 99).unwrap_err().contains("above the limit of 99"));
        assert!(decode_png(&png, 100).is_ok());
        assert_eq!(check_png(&png, 100), Ok((10, 10)));
    }

    #[test]
    fn the_cap_bounds_decoded_bytes_not_only_pixels() {
        // 16-bit RGBA under the pixel cap would still need 2.1 GB.
        let wide = hand_png(&ihdr(16384, 16383, 16, 6, 0), None, &[0; 16]);
        let err = decode_png(&wide, DEFAULT_MAX_PIXELS).unwrap_err();
        assert!(
            err.starts_with("PNG is 16384x16383 and needs 2147352576 bytes to decode, above the limit"),
            "{err}"
        );
        // 8-bit RGBA of that size fits in 4 bytes per pixel; this one fails later, on
        // its missing pixel data, not on the cap.
        let rgba8 = hand_png(&ihdr(16384, 16383, 8, 6, 0), None, &[0; 16]);
        assert!(!decode_png(&rgba8, DEFAULT_MAX_PIXELS).unwrap_err().contains("limit"));
    }

    #[test]
    fn rejects_zero_width_or_height() {
        for (w, h) in [(0, 1), (1, 0), (0, 0)] {
            // Correct CRCs, so the size itself is what gets rejected.
            let png = hand_png(&ihdr(w, h, 8, 0, 0), None, &[0]);
            assert_rejected(&png, &format!("the image is {w}x{h} pixels"));
        }
    }

    #[test]
    fn error_messages_read_as_sentence_fragments() {
        assert_eq!(fragment("Invalid image dimensions"), "invalid image dimensions");
        assert_eq!(fragment("CRC error: x."), "CRC error: x");
        assert_eq!(fragment(""), "");
    }

    /// `cargo test -p lbfast-core --release mask::tests::timing -- --ignored --nocapture`
    #[test]
    #[ignore = "timing: run with --release --nocapture"]
    fn timing() {
        use std::time::Instant;
        let (w, h) = (1920u32, 1080u32);
        let mask = blob_mask(w, h, 12, 42);
        let rgb: Vec<u8> = mask.iter().flat_map(|&m| [m * 200, 10, 30]).collect();
        let image = Image::from_u8(w, h, 3, rgb).unwrap();
        let runs = 50;
        let time = |f: &mut dyn FnMut()| {
            f();
            let t = Instant::now();
            for _ in 0..runs {
                f();
            }
            t.elapsed().as_secs_f64() * 1e3 / f64::from(runs)
        };
        let mut out = 0;
        let mask_ms = time(&mut || out += binary_mask(&image, MaskColor::Rgb([200, 10, 30])).1);
        let mut size = 0;
        let encode_ms = time(&mut || size = encode_binary_png(w, h, &mask).unwrap().len());
        let png = encode_binary_png(w, h, &mask).unwrap();
        let decode_ms = time(&mut || out += decode_png(&png, DEFAULT_MAX_PIXELS).unwrap().width as usize);
        println!("binary_mask 1920x1080x3: {mask_ms:.3} ms");
        println!("encode_binary_png: {encode_ms:.3} ms, {size} bytes");
        println!("decode_png (binary mask): {decode_ms:.3} ms");
        assert!(out > 0);
    }
}
