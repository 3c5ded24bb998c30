//! Colour discovery in one pass, and the binary mask of each colour from it.
//!
//! A composite mask holds many instances, one colour each. Thresholding it once per
//! colour (what the SDK does) reads the whole image N times. Here one scan finds every
//! distinct colour with its pixel count and bounding box; each instance's mask is then
//! matched inside its box only, and a colour that does not occur is known without
//! reading the image again.
//!
//! Colours follow [`crate::mask::binary_mask`]: a gray (1- or 2-channel) pixel `v` is
//! the colour `(v, v, v)`, and only the first three channels of RGB(A) count.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Arc, OnceLock};

use crate::mask::{binary_mask, match_pixels, Image, Samples};
use crate::memory::try_filled;
use crate::model::MaskColor;

/// One distinct colour of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColorStat {
    /// `(r, g, b)`; `(v, v, v)` for gray images.
    pub rgb: [u16; 3],
    /// Number of pixels of this colour.
    pub count: u64,
    /// Inclusive bounding box of those pixels: `[x0, y0, x1, y1]`.
    pub bbox: [u32; 4],
}

/// Every distinct colour of an image, sorted by `(r, g, b)` (as `np.unique` sorts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColorIndex {
    pub width: u32,
    pub height: u32,
    /// Whether the image is gray (1 or 2 channels), so its colours are single values.
    pub gray: bool,
    pub colors: Vec<ColorStat>,
    /// Which colour each pixel has, when the index was built for matching instances
    /// (see [`Image::color_index`]) and the image has few enough colours.
    labels: Labels,
}

/// For each pixel, a small number naming its colour ([`NO_LABEL`] past the samples),
/// and the number of each colour of [`ColorIndex::colors`], by position. Matching an
/// instance is then one byte compare per pixel, which vectorises, rather than a
/// three-byte colour compare at a stride of three, which does not.
#[derive(Clone, Default)]
struct Labels(Option<(Vec<u8>, Vec<u8>)>);

/// The label of pixels that have none; colours are numbered below it.
const NO_LABEL: u8 = u8::MAX;

/// Largest image (in pixels) labelled while indexed: one byte per pixel more.
const LABELS_MAX_PIXELS: usize = 64 << 20;

impl std::fmt::Debug for Labels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Labels(..)" } else { "Labels(None)" })
    }
}

/// A cache of what the colours already say: equal whatever it holds.
impl PartialEq for Labels {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Labels {}

impl ColorIndex {
    /// The statistics of `color`, if any pixel has it.
    pub fn find(&self, color: MaskColor) -> Option<&ColorStat> {
        self.position(color).map(|i| &self.colors[i])
    }

    fn position(&self, color: MaskColor) -> Option<usize> {
        let rgb = rgb_of(color)?;
        self.colors.binary_search_by(|c| c.rgb.cmp(&rgb)).ok()
    }

    /// The pixels' labels and the label of `color`, when the image was labelled and
    /// has that colour.
    fn labels_of(&self, color: MaskColor) -> Option<(&[u8], u8)> {
        let (map, of_color) = self.labels.0.as_ref()?;
        Some((map, of_color[self.position(color)?]))
    }

    /// An index built from statistics known by other means (an instance-id map scanned
    /// while it was remapped); `colors` need not be sorted.
    pub fn from_stats(width: u32, height: u32, gray: bool, mut colors: Vec<ColorStat>) -> ColorIndex {
        colors.sort_unstable_by_key(|c| c.rgb);
        ColorIndex { width, height, gray, colors, labels: Labels::default() }
    }
}

/// The colour as `(r, g, b)` samples; `None` if no sample can hold it.
fn rgb_of(color: MaskColor) -> Option<[u16; 3]> {
    crate::mask::rgb_target(color.rgb())
}

/// A lazily computed [`ColorIndex`] kept with its image, so that every annotation
/// sharing the image uses one scan. Equality and clones ignore it (it is a cache).
#[derive(Debug, Default)]
pub struct ColorCache(OnceLock<ColorIndex>);

impl Clone for ColorCache {
    fn clone(&self) -> Self {
        ColorCache::default()
    }
}

impl PartialEq for ColorCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl ColorCache {
    pub fn get(&self) -> Option<&ColorIndex> {
        self.0.get()
    }
    pub fn get_or_init(&self, f: impl FnOnce() -> ColorIndex) -> &ColorIndex {
        self.0.get_or_init(f)
    }
    /// Stores an index computed elsewhere; ignored if one is already there.
    pub fn set(&self, index: ColorIndex) {
        let _ = self.0.set(index);
    }
}

impl Image {
    /// Every colour of the image, computed on first use and kept, with each pixel's
    /// colour labelled (when there are few) for matching instances.
    pub fn color_index(&self) -> &ColorIndex {
        self.colors.get_or_init(|| {
            let labelled = self.pixel_count() <= LABELS_MAX_PIXELS;
            let (w, h, c) = (self.width, self.height, self.channels);
            let index = match &self.samples {
                Samples::U8(data) => index_u8_with(w, h, c, data, labelled),
                Samples::U16(data) => index_u16_with(w, h, c, data, labelled),
            };
            index.unwrap_or_else(|err| panic!("{err}"))
        })
    }

    /// Keeps an index measured while the image was built (ignored if one is already
    /// kept). It must describe this image: masks are matched only inside its boxes.
    pub fn remember_colors(&self, index: ColorIndex) {
        self.colors.set(index);
    }
}

/// Scans `image` once for its colours. See [`index_u8`].
pub fn index_image(image: &Image) -> ColorIndex {
    try_index_image(image).unwrap_or_else(|err| panic!("{err}"))
}

/// [`index_image`], with an error where the memory for the colours is not there
/// (a noisy image can have a colour per pixel).
pub fn try_index_image(image: &Image) -> Result<ColorIndex, String> {
    match &image.samples {
        Samples::U8(data) => try_index_u8(image.width, image.height, image.channels, data),
        Samples::U16(data) => try_index_u16(image.width, image.height, image.channels, data),
    }
}

/// Scans row-major interleaved `u8` samples (`channels` per pixel) once. Pixels past
/// the end of a short buffer are not counted; 0 channels gives no colours.
pub fn index_u8(width: u32, height: u32, channels: u8, data: &[u8]) -> ColorIndex {
    try_index_u8(width, height, channels, data).unwrap_or_else(|err| panic!("{err}"))
}

/// [`index_u8`], with an error where the memory for the colours is not there.
pub fn try_index_u8(width: u32, height: u32, channels: u8, data: &[u8]) -> Result<ColorIndex, String> {
    index_u8_with(width, height, channels, data, false)
}

/// [`try_index_u8`], labelling each pixel's colour when `labelled`.
fn index_u8_with(
    width: u32,
    height: u32,
    channels: u8,
    data: &[u8],
    labelled: bool,
) -> Result<ColorIndex, String> {
    let (w, h, c) = (width as usize, height as usize, usize::from(channels));
    let mut table = Table::new(labelled, w * h)?;
    match c {
        0 => {}
        1 => scan(w, h, data.len(), &mut table, |i| u64::from(data[i])),
        2 => scan(w, h, data.len() / 2, &mut table, |i| u64::from(data[2 * i])),
        3 => {
            // Every pixel but the last is read as a little-endian u32 with the next
            // pixel's first byte masked off (one load instead of three).
            let n = data.len() / 3;
            let key = |i: usize| {
                if i + 1 < n {
                    let b = &data[3 * i..3 * i + 4];
                    u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & 0x00FF_FFFF)
                } else {
                    pack8(&data[3 * i..3 * i + 3])
                }
            };
            scan_skipping(w, h, n, &mut table, key, |j, end, k| skip_rgb(data, j, end, k));
        }
        4 => scan(w, h, data.len() / 4, &mut table, |i| {
            let b = &data[4 * i..4 * i + 4];
            u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & 0x00FF_FFFF)
        }),
        _ => scan(w, h, data.len() / c, &mut table, |i| pack8(&data[c * i..c * i + 3])),
    }
    let gray = c <= 2;
    let unpack = |key: u64| -> [u16; 3] {
        if gray {
            [key as u16; 3]
        } else {
            [key as u16 & 0xFF, (key >> 8) as u16 & 0xFF, (key >> 16) as u16 & 0xFF]
        }
    };
    table.into_index(width, height, gray, unpack)
}

/// Like [`index_u8`] for `u16` samples (16-bit gray PNGs keep their raw values).
pub fn index_u16(width: u32, height: u32, channels: u8, data: &[u16]) -> ColorIndex {
    try_index_u16(width, height, channels, data).unwrap_or_else(|err| panic!("{err}"))
}

/// [`index_u16`], with an error where the memory for the colours is not there.
pub fn try_index_u16(width: u32, height: u32, channels: u8, data: &[u16]) -> Result<ColorIndex, String> {
    index_u16_with(width, height, channels, data, false)
}

/// [`try_index_u16`], labelling each pixel's colour when `labelled`.
fn index_u16_with(
    width: u32,
    height: u32,
    channels: u8,
    data: &[u16],
    labelled: bool,
) -> Result<ColorIndex, String> {
    let (w, h, c) = (width as usize, height as usize, usize::from(channels));
    let mut table = Table::new(labelled, w * h)?;
    match c {
        0 => {}
        1 => scan(w, h, data.len(), &mut table, |i| u64::from(data[i])),
        2 => scan(w, h, data.len() / 2, &mut table, |i| u64::from(data[2 * i])),
        _ => scan(w, h, data.len() / c, &mut table, |i| {
            let px = &data[c * i..c * i + 3];
            u64::from(px[0]) | u64::from(px[1]) << 16 | u64::from(px[2]) << 32
        }),
    }
    let gray = c <= 2;
    let unpack = |key: u64| -> [u16; 3] {
        if gray {
            [key as u16; 3]
        } else {
            [key as u16, (key >> 16) as u16, (key >> 32) as u16]
        }
    };
    table.into_index(width, height, gray, unpack)
}

/// Pixels per block of [`skip_rgb`].
const BLOCK: usize = 16;

/// From pixel `j` of RGB `data`, the end of the whole blocks of pixels (before `end`)
/// that all have the packed colour `k`: 48 bytes compared as six words.
fn skip_rgb(data: &[u8], mut j: usize, end: usize, k: u64) -> usize {
    let [r, g, b, ..] = k.to_le_bytes();
    let mut pattern = [0u8; 3 * BLOCK];
    for px in pattern.chunks_exact_mut(3) {
        px.copy_from_slice(&[r, g, b]);
    }
    let words: [u64; 6] = std::array::from_fn(|t| word(&pattern[8 * t..8 * t + 8]));
    while j + BLOCK <= end && 3 * (j + BLOCK) <= data.len() {
        let block = &data[3 * j..3 * (j + BLOCK)];
        let differ = (0..6).fold(0, |acc, t| acc | (word(&block[8 * t..8 * t + 8]) ^ words[t]));
        if differ != 0 {
            break;
        }
        j += BLOCK;
    }
    j
}

fn pack8(px: &[u8]) -> u64 {
    u64::from(px[0]) | u64::from(px[1]) << 8 | u64::from(px[2]) << 16
}

/// Walks the first `available` pixels row by row in runs of equal keys: the table is
/// touched once per run, not once per pixel, and masks are mostly long runs.
// Always inlined: `key` is a closure per pixel format, and the loop must be
// specialised for each (measured: 2x on composites when it is not).
#[allow(clippy::inline_always)]
#[inline(always)]
fn scan(w: usize, h: usize, available: usize, table: &mut Table, key: impl Fn(usize) -> u64) {
    scan_skipping(w, h, available, table, key, |j, _, _| j);
}

/// [`scan`], where `skip(j, end, k)` returns an index up to which (from `j`, at most
/// `end`) every pixel is known to have key `k`: long runs are then passed over in
/// blocks rather than pixel by pixel.
#[allow(clippy::inline_always)]
#[inline(always)]
fn scan_skipping(
    w: usize,
    h: usize,
    available: usize,
    table: &mut Table,
    key: impl Fn(usize) -> u64,
    skip: impl Fn(usize, usize, u64) -> usize,
) {
    let pixels = (w * h).min(available);
    if w == 0 {
        return;
    }
    for y in 0..h {
        let row = y * w;
        if row >= pixels {
            break;
        }
        let end = (row + w).min(pixels);
        let mut i = row;
        while i < end {
            let k = key(i);
            let start = i;
            i += 1;
            // A few pixels one by one (short runs end here), then whole blocks.
            let first = (i + 8).min(end);
            while i < first && key(i) == k {
                i += 1;
            }
            if i == first && i < end {
                i = skip(i, end, k);
                while i < end && key(i) == k {
                    i += 1;
                }
            }
            let label =
                table.add(k, (start - row) as u32, (i - 1 - row) as u32, y as u32, (i - start) as u64);
            if let Some(labels) = &mut table.labels {
                labels[start..i].fill(label);
            }
        }
    }
}

/// Open addressing with linear probing, keyed by the packed colour (< 2^48, so
/// `u64::MAX` marks an empty slot). Grown to keep the load under one half.
struct Table {
    keys: Vec<u64>,
    stats: Vec<Slot>,
    len: usize,
    shift: u32,
    /// A random multiplier so that adversarial images cannot force collisions.
    seed: u64,
    /// The key and slot of the previous run: the row above usually repeats it.
    last: (u64, usize),
    /// Why the table could not grow; further colours are ignored and the scan's
    /// result is this error.
    failed: Option<String>,
    /// Each pixel's colour, by order of first appearance, while there are at most
    /// [`NO_LABEL`] colours (dropped past that).
    labels: Option<Vec<u8>>,
}

#[derive(Clone, Copy, Default)]
struct Slot {
    /// Order of first appearance.
    order: u32,
    count: u64,
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
}

const EMPTY: u64 = u64::MAX;

impl Table {
    /// A table for an image of `pixels` pixels, labelling them when `labelled`.
    fn new(labelled: bool, pixels: usize) -> Result<Table, String> {
        let seed = RandomState::new().hash_one(0x6c62_6661_7374u64) | 1;
        let labels = if labelled {
            Some(try_filled(pixels, NO_LABEL, "the colour labels of the image")?)
        } else {
            None
        };
        let mut table = Table {
            keys: Vec::new(),
            stats: Vec::new(),
            len: 0,
            shift: 0,
            seed,
            last: (EMPTY, 0),
            failed: None,
            labels,
        };
        table.resize(64);
        Ok(table)
    }

    /// Grows to `capacity` slots, or records why it cannot (and keeps its slots).
    fn resize(&mut self, capacity: usize) {
        let what = "the colours of the image";
        let grown = try_filled(capacity, EMPTY, what)
            .and_then(|keys| Ok((keys, try_filled(capacity, Slot::default(), what)?)));
        let (keys, stats) = match grown {
            Ok(grown) => grown,
            Err(err) => {
                self.failed = Some(err);
                return;
            }
        };
        let old_keys = std::mem::replace(&mut self.keys, keys);
        let old_stats = std::mem::replace(&mut self.stats, stats);
        self.shift = 64 - capacity.trailing_zeros();
        for (key, stat) in old_keys.into_iter().zip(old_stats) {
            if key != EMPTY {
                let slot = self.probe(key);
                self.keys[slot] = key;
                self.stats[slot] = stat;
            }
        }
        self.last = (EMPTY, 0);
    }

    /// The slot holding `key`, or the empty slot where it belongs.
    #[inline]
    fn probe(&self, key: u64) -> usize {
        let mask = self.keys.len() - 1;
        let mut slot = (key.wrapping_mul(self.seed) >> self.shift) as usize;
        loop {
            let k = self.keys[slot];
            if k == key || k == EMPTY {
                return slot;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Counts a run of `key`; returns the label of its colour ([`NO_LABEL`] when
    /// the colours are too many to label).
    #[inline]
    fn add(&mut self, key: u64, x0: u32, x1: u32, y: u32, n: u64) -> u8 {
        let slot = if self.last.0 == key {
            self.last.1
        } else {
            let mut slot = self.probe(key);
            if self.keys[slot] == EMPTY {
                if 2 * (self.len + 1) > self.keys.len() {
                    if self.failed.is_some() {
                        return NO_LABEL;
                    }
                    self.resize(2 * self.keys.len());
                    if self.failed.is_some() {
                        return NO_LABEL;
                    }
                    slot = self.probe(key);
                }
                self.keys[slot] = key;
                self.stats[slot] = Slot { order: self.len as u32, count: 0, x0, y0: y, x1, y1: y };
                self.len += 1;
                if self.len > usize::from(NO_LABEL) {
                    self.labels = None;
                }
            }
            self.last = (key, slot);
            slot
        };
        let s = &mut self.stats[slot];
        s.count += n;
        s.x0 = s.x0.min(x0);
        s.x1 = s.x1.max(x1);
        s.y1 = y; // rows are scanned in order
        u8::try_from(s.order).unwrap_or(NO_LABEL)
    }

    /// The index of the colours counted, sorted, with the pixels' labels if kept.
    fn into_index(
        self,
        width: u32,
        height: u32,
        gray: bool,
        unpack: impl Fn(u64) -> [u16; 3],
    ) -> Result<ColorIndex, String> {
        if let Some(err) = self.failed {
            return Err(err);
        }
        let mut found: Vec<(ColorStat, u32)> = (self.keys.iter().zip(&self.stats))
            .filter(|(&k, _)| k != EMPTY)
            .map(|(&k, s)| {
                (ColorStat { rgb: unpack(k), count: s.count, bbox: [s.x0, s.y0, s.x1, s.y1] }, s.order)
            })
            .collect();
        found.sort_unstable_by_key(|(c, _)| c.rgb);
        let labels = self.labels.map(|map| {
            let of_color = found.iter().map(|&(_, order)| u8::try_from(order).unwrap_or(NO_LABEL)).collect();
            (map, of_color)
        });
        let colors = found.into_iter().map(|(c, _)| c).collect();
        Ok(ColorIndex { width, height, gray, colors, labels: Labels(labels) })
    }
}

/// Calls `f` with the 0/1 mask of the pixels of `image` equal to `color`; `None` if
/// there are none. As [`instance_bits`], but an instance of a shared image is matched
/// into a per-thread buffer that is kept zero between calls (only its box is written,
/// then cleared), so that each instance of a composite costs its box rather than a
/// fresh, zeroed image: that zeroing was a third of a 20-colour 1080p composite.
///
/// `f` is also given a box that holds every set pixel (the whole image when none
/// is known), so that it can skip the rest.
pub fn with_instance_bits<R>(
    image: &Arc<Image>,
    color: MaskColor,
    f: impl FnOnce(&[u8], [u32; 4]) -> R,
) -> Option<R> {
    let n = image.pixel_count();
    let shared = image.colors.get().is_some() || Arc::strong_count(image) > 1;
    if !shared || n > SCRATCH_MAX_BYTES {
        return instance_bits(image, color).map(|bits| {
            // Finding the box costs a fraction of encoding the rows around it.
            let (w, h) = (image.width as usize, image.height as usize);
            let whole = [0, 0, image.width.saturating_sub(1), image.height.saturating_sub(1)];
            f(&bits, mask_extent(&bits, w, h).unwrap_or(whole))
        });
    }
    let stat = image.color_index().find(color)?;
    SCRATCH.with(|cell| {
        // A nested call (none is made today) or a buffer that cannot grow: the plain way.
        let Ok(mut scratch) = cell.try_borrow_mut() else {
            return Some(f(&bits_in_box(image, color, stat.bbox), stat.bbox));
        };
        if scratch.len() < n {
            let more = n - scratch.len();
            if scratch.try_reserve_exact(more).is_err() {
                return Some(f(&bits_in_box(image, color, stat.bbox), stat.bbox));
            }
            scratch.resize(n, 0);
        }
        let mut filled = BoxFilled { buffer: &mut scratch[..n], width: image.width as usize, rows: None };
        filled.fill(image, color, stat.bbox);
        Some(f(filled.buffer, stat.bbox))
    })
}

/// For an instance of a shared image (a composite) whose pixels were labelled while
/// indexed: the labels, the instance's label and its box; `None` otherwise (then see
/// [`with_instance_bits`]), or when the colour does not occur.
pub fn labelled_instance(image: &Arc<Image>, color: MaskColor) -> Option<(&[u8], u8, [u32; 4])> {
    let shared = image.colors.get().is_some() || Arc::strong_count(image) > 1;
    if !shared {
        return None;
    }
    let index = image.color_index();
    let stat = index.find(color)?;
    let (labels, label) = index.labels_of(color)?;
    Some((labels, label, stat.bbox))
}

/// Largest image (in bytes of its 0/1 mask) whose instances use the per-thread buffer.
const SCRATCH_MAX_BYTES: usize = 64 << 20;

thread_local! {
    /// All zero between calls of [`with_instance_bits`].
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A zeroed buffer with one box matched into it; clears that box when dropped, even
/// when unwinding, so that the buffer is all zero again for the next instance.
struct BoxFilled<'a> {
    buffer: &'a mut [u8],
    width: usize,
    /// The rows and columns written: `(y0..=y1, x0..=x1)`.
    rows: Option<(std::ops::RangeInclusive<usize>, std::ops::RangeInclusive<usize>)>,
}

impl BoxFilled<'_> {
    fn fill(&mut self, image: &Image, color: MaskColor, bbox: [u32; 4]) {
        let [x0, y0, x1, y1] = bbox.map(|v| v as usize);
        if match_box(image, color, bbox, self.buffer) {
            self.rows = Some((y0..=y1, x0..=x1));
        }
    }
}

impl Drop for BoxFilled<'_> {
    fn drop(&mut self) {
        if let Some((rows, columns)) = self.rows.take() {
            for y in rows {
                self.buffer[y * self.width + columns.start()..=y * self.width + columns.end()].fill(0);
            }
        }
    }
}

/// The 0/1 mask of the pixels of `image` equal to `color`, or `None` if there are
/// none. An image shared by several annotations (a composite) is indexed once and
/// each colour matched inside its bounding box; an image used once is matched
/// directly, which is cheaper than indexing it.
pub fn instance_bits(image: &Arc<Image>, color: MaskColor) -> Option<Vec<u8>> {
    let index = match image.colors.get() {
        Some(index) => Some(index),
        None if Arc::strong_count(image) > 1 => Some(image.color_index()),
        None => None,
    };
    if let Some(index) = index {
        index.find(color).map(|stat| bits_in_box(image, color, stat.bbox))
    } else {
        let (bits, count) = binary_mask(image, color);
        (count > 0).then_some(bits)
    }
}

/// The 0/1 mask of `color`, matched only inside `bbox` (zero elsewhere).
pub fn bits_in_box(image: &Image, color: MaskColor, bbox: [u32; 4]) -> Vec<u8> {
    let mut bits = vec![0u8; image.pixel_count()];
    match_box(image, color, bbox, &mut bits);
    bits
}

/// Writes the 0/1 match of `color` inside `bbox` into `bits` (an image-sized mask),
/// leaving the rest as it is; whether the box lies in the image (else nothing is written).
fn match_box(image: &Image, color: MaskColor, bbox: [u32; 4], bits: &mut [u8]) -> bool {
    let w = image.width as usize;
    let [x0, y0, x1, y1] = bbox.map(|v| v as usize);
    if x1 >= w || x0 > x1 || y0 > y1 || y1 >= image.height as usize {
        return false;
    }
    let labels = image.colors.get().and_then(|index| index.labels_of(color));
    for y in y0..=y1 {
        let (start, end) = (y * w + x0, y * w + x1);
        match labels {
            Some((map, label)) => {
                for (bit, &l) in bits[start..=end].iter_mut().zip(&map[start..=end]) {
                    *bit = u8::from(l == label);
                }
            }
            None => match_pixels(image, color, start, &mut bits[start..=end]),
        }
    }
    true
}

/// Inclusive bounding box `[x0, y0, x1, y1]` of the nonzero bytes of a row-major
/// `width x height` mask, or `None` when none is set. Rows are read 8 bytes at a time.
pub fn mask_extent(mask: &[u8], width: usize, height: usize) -> Option<[u32; 4]> {
    if width == 0 {
        return None;
    }
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (y, row) in mask.chunks_exact(width).take(height).enumerate() {
        let Some(first) = first_set(row) else {
            continue;
        };
        let last = last_set(row).unwrap_or(first);
        x0 = x0.min(first);
        x1 = x1.max(last);
        y0 = y0.min(y);
        y1 = y;
    }
    (x0 != usize::MAX).then_some([x0 as u32, y0 as u32, x1 as u32, y1 as u32])
}

fn word(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]))
}

/// Index of the first nonzero byte.
fn first_set(row: &[u8]) -> Option<usize> {
    let words = row.chunks_exact(8);
    let tail = words.remainder();
    for (i, w) in words.enumerate() {
        let w = word(w);
        if w != 0 {
            return Some(8 * i + (w.trailing_zeros() / 8) as usize);
        }
    }
    tail.iter().position(|&v| v != 0).map(|p| row.len() - tail.len() + p)
}

/// Index of the last nonzero byte.
fn last_set(row: &[u8]) -> Option<usize> {
    let words = row.rchunks_exact(8);
    let head = words.remainder();
    for (i, w) in words.enumerate() {
        let w = word(w);
        if w != 0 {
            return Some(row.len() - 8 * (i + 1) + 7 - (w.leading_zeros() / 8) as usize);
        }
    }
    head.iter().rposition(|&v| v != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(image: &Image) -> Vec<ColorStat> {
        let (w, h) = (image.width as usize, image.height as usize);
        let c = usize::from(image.channels);
        let mut map = std::collections::BTreeMap::<[u16; 3], ColorStat>::default();
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let rgb = match &image.samples {
                    Samples::U8(d) if c <= 2 => [u16::from(d[c * i]); 3],
                    Samples::U8(d) => [d[c * i], d[c * i + 1], d[c * i + 2]].map(u16::from),
                    Samples::U16(d) if c <= 2 => [d[c * i]; 3],
                    Samples::U16(d) => [d[c * i], d[c * i + 1], d[c * i + 2]],
                };
                let (x, y) = (x as u32, y as u32);
                let e = map.entry(rgb).or_insert(ColorStat { rgb, count: 0, bbox: [x, y, x, y] });
                e.count += 1;
                e.bbox = [e.bbox[0].min(x), e.bbox[1].min(y), e.bbox[2].max(x), e.bbox[3].max(y)];
            }
        }
        map.into_values().collect()
    }

    fn random_image(rng: &mut fastrand::Rng, w: u32, h: u32, c: u8, palette: usize) -> Image {
        let colours: Vec<Vec<u8>> = (0..palette).map(|_| (0..c).map(|_| rng.u8(..)).collect()).collect();
        let mut data = Vec::new();
        let mut current = 0;
        for _ in 0..w * h {
            if rng.u8(..) < 40 {
                current = rng.usize(..palette);
            }
            data.extend(&colours[current]);
        }
        Image::from_u8(w, h, c, data).unwrap()
    }

    #[test]
    fn long_runs_are_counted_as_pixel_by_pixel() {
        let mut rng = fastrand::Rng::with_seed(8);
        for (w, h) in [(200, 30), (17, 40), (1920, 3), (64, 64)] {
            let palette: Vec<[u8; 3]> = (0..6).map(|_| [rng.u8(..), rng.u8(..), rng.u8(..)]).collect();
            let mut data = Vec::new();
            let mut current = palette[0];
            for _ in 0..w * h {
                if rng.u8(..) < 4 {
                    current = palette[rng.usize(..palette.len())];
                }
                data.extend(current);
            }
            let image = Image::from_u8(w, h, 3, data.clone()).unwrap();
            assert_eq!(index_image(&image).colors, naive(&image), "{w}x{h}");
            // A buffer a few bytes short: its last pixels are not counted.
            for (cut, uncounted) in [(1, 1), (2, 1), (4, 2)] {
                let short =
                    Image { samples: Samples::U8(data[..data.len() - cut].to_vec()), ..image.clone() };
                let counted: u64 = index_image(&short).colors.iter().map(|c| c.count).sum();
                assert_eq!(counted, u64::from(w * h) - uncounted);
            }
        }
    }

    #[test]
    fn labelled_matching_equals_matching_the_pixels() {
        let mut rng = fastrand::Rng::with_seed(4);
        // Few colours (labelled), more than a label can number (not), gray and RGBA.
        for (w, h, c, palette) in
            [(61, 17, 3, 20), (80, 60, 3, 1000), (23, 9, 1, 7), (16, 16, 4, 255), (9, 5, 2, 3)]
        {
            let image = Arc::new(random_image(&mut rng, w, h, c, palette));
            let index = image.color_index();
            assert_eq!(index.colors, naive(&image));
            for stat in &index.colors {
                let color = MaskColor::Rgb(stat.rgb.map(i64::from));
                let mut direct = vec![0u8; image.pixel_count()];
                match_pixels(&image, color, 0, &mut direct);
                assert_eq!(bits_in_box(&image, color, stat.bbox), direct, "{w}x{h}x{c}, {palette} colours");
            }
        }
    }

    #[test]
    fn instances_of_a_shared_image_match_in_the_kept_buffer_as_in_a_fresh_one() {
        let mut rng = fastrand::Rng::with_seed(9);
        for (w, h, c) in [(64, 33, 3), (13, 7, 1), (40, 40, 4), (64, 33, 3)] {
            let image = Arc::new(random_image(&mut rng, w, h, c, 12));
            let _shared = Arc::clone(&image);
            for stat in image.color_index().colors.clone() {
                let color = MaskColor::Rgb(stat.rgb.map(i64::from));
                let fresh = bits_in_box(&image, color, stat.bbox);
                assert_eq!(with_instance_bits(&image, color, |bits, _| bits.to_vec()), Some(fresh));
            }
            // A panic while the buffer is lent leaves it zero for the next instance.
            let first = MaskColor::Rgb(image.color_index().colors[0].rgb.map(i64::from));
            let caught =
                std::panic::catch_unwind(|| with_instance_bits(&image, first, |_, _| panic!("encoder")));
            assert!(caught.is_err());
            let last = *image.color_index().colors.last().unwrap();
            let color = MaskColor::Rgb(last.rgb.map(i64::from));
            let fresh = bits_in_box(&image, color, last.bbox);
            assert_eq!(with_instance_bits(&image, color, |bits, _| bits.to_vec()), Some(fresh));
            assert_eq!(
                with_instance_bits(&image, MaskColor::Rgb([300, 0, 0]), |bits, _| bits.to_vec()),
                None
            );
        }
    }

    #[test]
    fn finds_every_colour_with_count_and_box() {
        let mut rng = fastrand::Rng::with_seed(5);
        for c in [1u8, 2, 3, 4, 5] {
            for (w, h) in [(1, 1), (1, 9), (9, 1), (13, 7), (64, 33)] {
                for palette in [1, 3, 40, 300] {
                    let image = random_image(&mut rng, w, h, c, palette);
                    let index = index_image(&image);
                    assert_eq!(index.colors, naive(&image), "{c} channels {w}x{h}");
                    assert_eq!(index.gray, c <= 2);
                    let total: u64 = index.colors.iter().map(|s| s.count).sum();
                    assert_eq!(total, u64::from(w * h));
                }
            }
        }
        for c in [1u8, 2, 3] {
            let data: Vec<u16> = (0..20 * 3 * u32::from(c)).map(|i| (i / 5 * 2111 % 1000) as u16).collect();
            let image = Image::from_u16(20, 3, c, data).unwrap();
            assert_eq!(index_image(&image).colors, naive(&image));
        }
    }

    #[test]
    fn every_pixel_a_new_colour_grows_the_table() {
        let data: Vec<u8> = (0..70_000u32).flat_map(|i| [i as u8, (i >> 8) as u8, (i >> 16) as u8]).collect();
        let image = Image::from_u8(350, 200, 3, data).unwrap();
        let index = index_image(&image);
        assert_eq!(index.colors.len(), 70_000);
        assert_eq!(index.colors, naive(&image));
    }

    #[test]
    fn find_follows_the_sdk_colour_semantics() {
        let gray = Image::from_u8(3, 1, 1, vec![0, 7, 7]).unwrap();
        let index = index_image(&gray);
        assert_eq!(index.find(MaskColor::Gray(7)).map(|s| s.count), Some(2));
        assert_eq!(index.find(MaskColor::Rgb([7, 7, 7])).map(|s| s.bbox), Some([1, 0, 2, 0]));
        assert!(index.find(MaskColor::Rgb([7, 7, 8])).is_none());
        assert!(index.find(MaskColor::Gray(-1)).is_none());
        assert!(index.find(MaskColor::Gray(7 + 65536)).is_none());
        let rgb = Image::from_u8(2, 1, 3, vec![5, 5, 5, 1, 2, 3]).unwrap();
        let index = index_image(&rgb);
        assert!(index.find(MaskColor::Gray(5)).is_some());
        assert!(index.find(MaskColor::Rgb([1, 2, 3])).is_some());
        assert!(index.find(MaskColor::Rgb([3, 2, 1])).is_none());
    }

    #[test]
    fn instance_bits_equal_binary_mask_shared_or_not() {
        let mut rng = fastrand::Rng::with_seed(8);
        for c in [1u8, 3, 4] {
            let image = Arc::new(random_image(&mut rng, 31, 17, c, 6));
            let shared = Arc::new((*image).clone());
            let _other_user = shared.clone();
            for stat in index_image(&image).colors {
                let color = MaskColor::Rgb(stat.rgb.map(i64::from));
                let (expected, count) = binary_mask(&image, color);
                assert_eq!(count as u64, stat.count);
                assert_eq!(instance_bits(&image, color), Some(expected.clone()));
                assert_eq!(instance_bits(&shared, color), Some(expected));
            }
            assert!(shared.colors.get().is_some(), "a shared image is indexed");
            assert!(image.colors.get().is_none(), "an image used once is not");
            assert_eq!(instance_bits(&shared, MaskColor::Rgb([1, 2, 256])), None);
            assert_eq!(instance_bits(&image, MaskColor::Rgb([1, 2, 256])), None);
        }
    }

    #[test]
    fn extent_of_a_mask() {
        assert_eq!(mask_extent(&[0; 6], 3, 2), None);
        assert_eq!(mask_extent(&[0, 1, 0, 0, 0, 2], 3, 2), Some([1, 0, 2, 1]));
        assert_eq!(mask_extent(&[1], 1, 1), Some([0, 0, 0, 0]));
        assert_eq!(mask_extent(&[], 0, 0), None);
        let mut rng = fastrand::Rng::with_seed(4);
        for w in [1usize, 7, 8, 9, 16, 17, 40] {
            for _ in 0..50 {
                let h = rng.usize(1..5);
                let mask: Vec<u8> =
                    (0..w * h).map(|_| if rng.u8(..) < 20 { rng.u8(1..) } else { 0 }).collect();
                let set: Vec<(usize, usize)> = (0..h)
                    .flat_map(|y| (0..w).map(move |x| (x, y)))
                    .filter(|&(x, y)| mask[y * w + x] != 0)
                    .collect();
                let expected = (!set.is_empty()).then(|| {
                    let xs = set.iter().map(|p| p.0 as u32);
                    let ys = set.iter().map(|p| p.1 as u32);
                    [
                        xs.clone().min().unwrap(),
                        ys.clone().min().unwrap(),
                        xs.max().unwrap(),
                        ys.max().unwrap(),
                    ]
                });
                assert_eq!(mask_extent(&mask, w, h), expected, "{mask:?} {w}");
            }
        }
    }

    /// `cargo test -p lbfast-core --release --lib colors::tests::timing -- --ignored --nocapture`
    #[test]
    #[ignore = "timing: run with --release --nocapture"]
    fn timing() {
        use std::time::Instant;
        let (w, h) = (1920u32, 1080u32);
        let mut rng = fastrand::Rng::with_seed(1);
        let mut rgb = vec![0u8; (w * h * 3) as usize];
        for k in 0..20u8 {
            let (cx, cy, r) = (rng.i64(0..1920), rng.i64(0..1080), rng.i64(20..200));
            for y in (cy - r).max(0)..(cy + r).min(1080) {
                for x in (cx - r).max(0)..(cx + r).min(1920) {
                    if (x - cx).pow(2) + (y - cy).pow(2) <= r * r {
                        let i = (y * 1920 + x) as usize * 3;
                        rgb[i..i + 3].copy_from_slice(&[10 * k + 5, 255 - k, k]);
                    }
                }
            }
        }
        let image = Image::from_u8(w, h, 3, rgb).unwrap();
        let t = Instant::now();
        let runs = 20;
        let mut n = 0;
        for _ in 0..runs {
            n += index_image(&image).colors.len();
        }
        println!(
            "index 1920x1080 RGB: {:.3} ms ({} colours)",
            t.elapsed().as_secs_f64() * 1e3 / runs as f64,
            n / runs
        );
        let index = index_image(&image);
        let t = Instant::now();
        for stat in &index.colors {
            let color = MaskColor::Rgb(stat.rgb.map(i64::from));
            n += bits_in_box(&image, color, stat.bbox).len();
        }
        println!("bits_in_box, all colours: {:.3} ms", t.elapsed().as_secs_f64() * 1e3);
        assert!(n > 0);
    }
}
