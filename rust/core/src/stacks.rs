//! Mask stacks: instance masks of one or more images as arrays (`InstanceMasks`: N
//! planes of H x W, nonzero is set) and id maps (`InstanceMap`: one H x W array of
//! instance ids), turned into mask annotations (and their boxes) without a Python
//! object per instance. Their values meet the rules every entrance meets
//! ([`crate::rules::values`]); paths name the arrays (`class_ids[3]`, `masks[2]`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::batch::Located;
use crate::colors::{self, ColorIndex, ColorStat};
use crate::issues::{Code, Issues, Problem};
use crate::mask::Image;
use crate::model::{
    Annotation, AnnotationId, BBox, Body, DataRow, Feature, Geometry, Marks, Mask, MaskColor, Object, Scores,
    Text,
};
use crate::rules::values::{confidence_problem, index_problem, length_problem};

/// What a stack's annotations come with.
#[derive(Debug, Clone, Copy, Default)]
pub struct StackOptions {
    /// A box line beside each mask line.
    pub with_boxes: bool,
    /// Empty instances are left out rather than reported.
    pub skip_empty: bool,
    /// Largest mask (width x height) accepted, as for PNG masks.
    pub max_pixels: u64,
}

/// `N` instance masks of `H x W`, in C order, placed on data rows and named by features.
#[derive(Debug)]
pub struct InstanceStack<'a> {
    pub planes: &'a [u8],
    pub n: usize,
    pub height: usize,
    pub width: usize,
    pub data_rows: Vec<DataRow>,
    pub features: Vec<Text>,
    /// `(N,)` indices into `data_rows`; `None` means data row 0 (there must be one).
    pub image_index: Option<Vec<i64>>,
    /// `(N,)` indices into `features`; `None` means feature 0 (there must be one).
    pub class_ids: Option<Vec<i64>>,
    pub confidence: Option<Vec<f64>>,
    /// `(width, height)` per data row, which the masks must have.
    pub image_sizes: Option<Vec<(i64, i64)>>,
}

impl InstanceStack<'_> {
    /// Checks the stack and appends its annotations to `items`. Like a columnar batch,
    /// it takes one row per instance: instance `i` is row `row + i` (slot `i`), and
    /// problems of the stack as a whole are at `row`, the current row of `issues`.
    pub fn lower(&self, row: usize, options: StackOptions, issues: &mut Issues, items: &mut Vec<Located>) {
        let (n, w, h) = (self.n, self.width, self.height);
        let mut usable = true;
        for (key, len) in [
            ("image_index", self.image_index.as_ref().map(Vec::len)),
            ("class_ids", self.class_ids.as_ref().map(Vec::len)),
            ("confidence", self.confidence.as_ref().map(Vec::len)),
        ] {
            if let Some(problem) = len.and_then(|len| length_problem(len, n)) {
                issues.report_problem_at(key, problem);
                usable = false;
            }
        }
        if self.image_index.is_none() && self.data_rows.len() != 1 {
            let message = format!(
                "is needed to place {n} masks on {} data rows (give one data row or image_index)",
                self.data_rows.len()
            );
            issues.report_at("image_index", Code::Missing, message);
            usable = false;
        }
        if self.class_ids.is_none() && self.features.len() != 1 {
            let message = format!(
                "is needed to name {n} masks with {} features (give one feature or class_ids)",
                self.features.len()
            );
            issues.report_at("class_ids", Code::Missing, message);
            usable = false;
        }
        if !usable || n == 0 || !plane_fits(issues, "masks", w, h, options.max_pixels) {
            return;
        }
        let plane = w * h;
        for (i, pixels) in self.planes.chunks_exact(plane).take(n).enumerate() {
            issues.set_row(row + i);
            let data_row = self.image_index.as_ref().map_or(Some(0), |ix| {
                let problem = index_problem(ix[i], self.data_rows.len(), "image index", "data_rows");
                fine_at(issues, "image_index", i, problem).then(|| ix[i] as usize)
            });
            let feature = self.class_ids.as_ref().map_or(Some(0), |ids| {
                let problem = index_problem(ids[i], self.features.len(), "class id", "features");
                fine_at(issues, "class_ids", i, problem).then(|| ids[i] as usize)
            });
            let confidence = self.confidence.as_ref().map(|c| c[i]);
            let mut ok = confidence.is_none_or(|c| fine_at(issues, "confidence", i, confidence_problem(c)));
            if let (Some(sizes), Some(r)) = (&self.image_sizes, data_row) {
                ok &= fine_at(issues, "masks", i, size_problem(sizes[r], w, h, "image_size"));
            }
            let bits: Vec<u8> = pixels.iter().map(|&v| u8::from(v != 0)).collect();
            let Some(extent) = colors::mask_extent(&bits, w, h) else {
                if !options.skip_empty {
                    let problem = Problem::new(
                        Code::EmptyMask,
                        "mask is empty (no pixel set); pass skip_empty=True to leave such masks out",
                    );
                    fine_at(issues, "masks", i, Some(problem));
                }
                continue;
            };
            let (Some(r), Some(f), true) = (data_row, feature, ok) else { continue };
            let Ok(image) = Image::from_u8(w as u32, h as u32, 1, bits) else { continue };
            let mask = Mask::Pixels { image: Arc::new(image), color: MaskColor::Gray(1) };
            let made = Made {
                row: row + i,
                slot: i,
                data_row: &self.data_rows[r],
                feature: &self.features[f],
                confidence,
            };
            made.push(Geometry::Mask(mask), extent, options.with_boxes, items);
        }
        issues.set_row(row);
    }
}

/// One `H x W` array of instance ids on one data row; `features` names the ids to
/// write (in order), `confidence` gives some of them a confidence.
#[derive(Debug)]
pub struct IdMap<'a> {
    pub ids: &'a [i64],
    pub height: usize,
    pub width: usize,
    pub data_row: DataRow,
    pub features: Vec<(i64, Text)>,
    pub confidence: HashMap<i64, f64>,
    /// `(width, height)` of the image, which the map must have.
    pub image_size: Option<(i64, i64)>,
}

/// Instances of up to 255 ids share one u8 image, in which instance `k` of the group
/// has the value `k + 1`.
const GROUP: usize = 255;

impl IdMap<'_> {
    /// Checks the map and appends its annotations (row `row`, slots the order of
    /// `features`) to `items`; problems go to `issues`, whose row is `row`.
    pub fn lower(&self, row: usize, options: StackOptions, issues: &mut Issues, items: &mut Vec<Located>) {
        let (w, h) = (self.width, self.height);
        if !plane_fits(issues, "id_map", w, h, options.max_pixels) {
            return;
        }
        if let Some(size) = self.image_size {
            if let Some(problem) = size_problem(size, w, h, "image_size") {
                issues.report_problem_at("id_map", problem);
                return;
            }
        }
        let mut slot_of: HashMap<i64, usize> = HashMap::with_capacity(self.features.len());
        for (k, (id, _)) in self.features.iter().enumerate() {
            slot_of.entry(*id).or_insert(k);
        }
        let k = self.features.len();
        let (images, stats) = remap(self.ids, w, h, &slot_of, k);
        let images = group_images(images, &stats, w as u32, h as u32);
        for (slot, (id, name)) in self.features.iter().enumerate() {
            let (count, extent) = stats[slot];
            let confidence = self.confidence.get(id).copied();
            if let Some(problem) = confidence.and_then(confidence_problem) {
                issues.push_key("confidence");
                push_id(issues, *id);
                issues.report_problem(problem);
                issues.pop();
                issues.pop();
                continue;
            }
            if slot_of.get(id) != Some(&slot) {
                continue; // the same id twice (1 and 1.0 are one dict key, so only via subclasses)
            }
            if count == 0 {
                if !options.skip_empty {
                    issues.push_key("features");
                    push_id(issues, *id);
                    issues.report(Code::MaskColor, format!("id {id} does not occur in the {w}x{h} id map"));
                    issues.pop();
                    issues.pop();
                }
                continue;
            }
            let image = images[slot / GROUP].clone();
            let mask = Mask::Pixels { image, color: MaskColor::Gray((slot % GROUP + 1) as i64) };
            let made = Made { row, slot, data_row: &self.data_row, feature: name, confidence };
            made.push(Geometry::Mask(mask), extent, options.with_boxes, items);
        }
    }
}

/// Puts an int key on the path: `features[7]` (or `features.[-1]`).
pub fn push_id(issues: &mut Issues, id: i64) {
    match usize::try_from(id) {
        Ok(i) => issues.push_index(i),
        Err(_) => issues.push_owned_key(format!("[{id}]")),
    }
}

/// Reports `problem` at `key[i]`; whether there was none.
fn fine_at(issues: &mut Issues, key: &'static str, i: usize, problem: Option<Problem>) -> bool {
    match problem {
        Some(problem) => {
            issues.at(key, |issues| issues.at_index(i, |issues| issues.report_problem(problem)));
            false
        }
        None => true,
    }
}

/// Whether masks of `w x h` can be held: some pixels, and no more than `max_pixels`.
fn plane_fits(issues: &mut Issues, key: &'static str, w: usize, h: usize, max_pixels: u64) -> bool {
    let pixels = (w as u64).saturating_mul(h as u64);
    if pixels == 0 {
        issues.report_at(key, Code::Shape, format!("masks of {w}x{h} have no pixels"));
        return false;
    }
    if u32::try_from(w).is_err() || u32::try_from(h).is_err() || pixels > max_pixels {
        let message = format!(
            "masks of {w}x{h} = {pixels} pixels are above the limit of {max_pixels} (max_mask_pixels)"
        );
        issues.report_at(key, Code::MaskImage, message);
        return false;
    }
    true
}

/// A mask of `w x h` on an image of `size` (`(width, height)`), named by `what`.
pub fn size_problem(size: (i64, i64), w: usize, h: usize, what: &str) -> Option<Problem> {
    let (iw, ih) = size;
    ((iw, ih) != (w as i64, h as i64)).then(|| {
        Problem::new(Code::ImageSize, format!("mask is {w}x{h} pixels, but the image is {iw}x{ih} ({what})"))
    })
}

/// The annotation lines of one instance: where they go and what names them.
struct Made<'a> {
    row: usize,
    slot: usize,
    data_row: &'a DataRow,
    feature: &'a Text,
    confidence: Option<f64>,
}

impl Made<'_> {
    fn push(&self, mask: Geometry, extent: [u32; 4], with_box: bool, items: &mut Vec<Located>) {
        items.push(self.located(mask));
        if with_box {
            let [x0, y0, x1, y1] = extent.map(f64::from);
            let bbox = BBox::TopLeftHeightWidth([y0, x0, y1 - y0 + 1.0, x1 - x0 + 1.0]);
            items.push(self.located(Geometry::Bbox(bbox)));
        }
    }

    fn located(&self, geometry: Geometry) -> Located {
        let object = Object {
            feature: Feature::named(self.feature.clone()),
            scores: Scores { confidence: self.confidence, custom_metrics: None },
            geometry,
            classifications: Vec::new(),
        };
        Located {
            row: self.row,
            slot: Some(self.slot),
            annotation: Annotation {
                uuid: AnnotationId::Random,
                data_row: self.data_row.clone(),
                body: Body::Object(object),
                marks: Marks::default(),
            },
        }
    }
}

/// A slot's pixel count and inclusive box `[x0, y0, x1, y1]`.
type SlotStats = (u64, [u32; 4]);

/// One scan of the id map: the group images, and each slot's pixel count and box.
fn remap(
    ids: &[i64],
    w: usize,
    h: usize,
    slot_of: &HashMap<i64, usize>,
    k: usize,
) -> (Vec<Vec<u8>>, Vec<SlotStats>) {
    let mut images = vec![vec![0u8; w * h]; k.div_ceil(GROUP)];
    let mut stats = vec![(0u64, [u32::MAX, u32::MAX, 0, 0]); k];
    for y in 0..h {
        let row = &ids[y * w..(y + 1) * w];
        let mut x = 0;
        while x < w {
            let id = row[x];
            let start = x;
            while x < w && row[x] == id {
                x += 1;
            }
            if let Some(&slot) = slot_of.get(&id) {
                let value = (slot % GROUP + 1) as u8;
                images[slot / GROUP][y * w + start..y * w + x].fill(value);
                let s = &mut stats[slot];
                s.0 += (x - start) as u64;
                s.1[0] = s.1[0].min(start as u32);
                s.1[1] = s.1[1].min(y as u32);
                s.1[2] = s.1[2].max((x - 1) as u32);
                s.1[3] = y as u32;
            }
        }
    }
    (images, stats)
}

/// The group images, each with its colour index seeded from what the remap measured,
/// so that each instance is matched inside its box without another scan.
fn group_images(images: Vec<Vec<u8>>, stats: &[SlotStats], w: u32, h: u32) -> Vec<Arc<Image>> {
    let k = stats.len();
    images
        .into_iter()
        .enumerate()
        .map(|(g, bits)| {
            let image = Image::from_u8(w, h, 1, bits).expect("sizes match");
            let mut seen: Vec<ColorStat> = Vec::new();
            let mut covered = 0u64;
            for (local, s) in stats[g * GROUP..((g + 1) * GROUP).min(k)].iter().enumerate() {
                if s.0 > 0 {
                    covered += s.0;
                    let v = (local + 1) as u16;
                    seen.push(ColorStat { rgb: [v; 3], count: s.0, bbox: s.1 });
                }
            }
            let total = u64::from(w) * u64::from(h);
            if covered < total {
                seen.push(ColorStat { rgb: [0; 3], count: total - covered, bbox: [0, 0, w - 1, h - 1] });
            }
            image.remember_colors(ColorIndex::from_stats(w, h, true, seen));
            Arc::new(image)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> StackOptions {
        StackOptions { with_boxes: true, skip_empty: false, max_pixels: 1 << 20 }
    }

    fn problems(issues: Issues) -> Vec<String> {
        issues.into_report().issues.iter().map(|i| format!("{}|{}|{}", i.row, i.path, i.message)).collect()
    }

    #[test]
    fn an_instance_stack_makes_a_mask_and_its_box_per_instance() {
        // Two 3x2 instances: the second is empty.
        let planes = [0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        let stack = InstanceStack {
            planes: &planes,
            n: 2,
            height: 2,
            width: 3,
            data_rows: vec![DataRow::global_key("img")],
            features: vec![Text::from("car")],
            image_index: None,
            class_ids: None,
            confidence: Some(vec![0.5, 0.25]),
            image_sizes: None,
        };
        let (mut issues, mut items) = (Issues::new(), Vec::new());
        issues.set_row(7);
        stack.lower(7, options(), &mut issues, &mut items);
        assert_eq!(
            problems(issues),
            ["8|masks[1]|mask is empty (no pixel set); pass skip_empty=True to leave such masks out"]
        );
        assert_eq!(items.len(), 2);
        let Body::Object(o) = &items[1].annotation.body else { panic!("an object") };
        assert!(matches!(o.geometry, Geometry::Bbox(BBox::TopLeftHeightWidth([0.0, 1.0, 2.0, 2.0]))));
        assert_eq!(o.scores.confidence, Some(0.5));
        assert_eq!((items[0].row, items[0].slot), (7, Some(0)));
    }

    #[test]
    fn an_instance_stack_meets_the_rules_of_every_entrance() {
        let planes = [1u8; 8];
        let stack = InstanceStack {
            planes: &planes,
            n: 2,
            height: 2,
            width: 2,
            data_rows: vec![DataRow::global_key("a"), DataRow::global_key("b")],
            features: vec![Text::from("car")],
            image_index: Some(vec![0, 2]),
            class_ids: Some(vec![1, 0]),
            confidence: Some(vec![0.5, 1.5]),
            image_sizes: Some(vec![(3, 2), (2, 2)]),
        };
        let (mut issues, mut items) = (Issues::new(), Vec::new());
        stack.lower(0, options(), &mut issues, &mut items);
        assert_eq!(
            problems(issues),
            [
                "0|class_ids[0]|class id must be within [0, 1) (an index into features), got 1",
                "0|masks[0]|mask is 2x2 pixels, but the image is 3x2 (image_size)",
                "1|image_index[1]|image index must be within [0, 2) (an index into data_rows), got 2",
                "1|confidence[1]|confidence must be a number within [0, 1], got 1.5",
            ]
        );
        assert!(items.is_empty());
    }

    #[test]
    fn an_id_map_makes_one_mask_per_named_id_and_reports_absent_ones() {
        let ids = [0, 3, 3, 0, 5, 5];
        let map = IdMap {
            ids: &ids,
            height: 2,
            width: 3,
            data_row: DataRow::id("row"),
            features: vec![(3, Text::from("car")), (4, Text::from("bus")), (5, Text::from("car"))],
            confidence: HashMap::from([(5, 2.0)]),
            image_size: Some((3, 2)),
        };
        let (mut issues, mut items) = (Issues::new(), Vec::new());
        map.lower(0, StackOptions { with_boxes: false, ..options() }, &mut issues, &mut items);
        assert_eq!(
            problems(issues),
            [
                "0|features[4]|id 4 does not occur in the 3x2 id map",
                "0|confidence[5]|confidence must be a number within [0, 1], got 2",
            ]
        );
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn masks_past_the_pixel_cap_are_refused_before_anything_is_made() {
        let planes = [1u8; 4];
        let stack = InstanceStack {
            planes: &planes,
            n: 1,
            height: 2,
            width: 2,
            data_rows: vec![DataRow::global_key("a")],
            features: vec![Text::from("car")],
            image_index: None,
            class_ids: None,
            confidence: None,
            image_sizes: None,
        };
        let (mut issues, mut items) = (Issues::new(), Vec::new());
        stack.lower(0, StackOptions { max_pixels: 3, ..options() }, &mut issues, &mut items);
        assert_eq!(
            problems(issues),
            ["0|masks|masks of 2x2 = 4 pixels are above the limit of 3 (max_mask_pixels)"]
        );
        assert!(items.is_empty());
    }
}
