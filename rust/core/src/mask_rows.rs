//! Masks as rows of a table (the Arrow entrance): each row is one object with its
//! own mask, a binary PNG or a COCO RLE. Masks are few and heavy, so each row becomes
//! a model annotation, checked by the rules every mask meets and written by the one
//! line writer; an RLE is decoded to the pixels an `InstanceMasks` plane would hold,
//! so both give the same line.

use std::sync::Arc;

use crate::batch::Located;
use crate::columnar::{derived_id, id_name_parts, metrics_of, Confidences, Ids, MetricColumn};
use crate::issues::{Code, Issues, Problem};
use crate::mask::Image;
use crate::model::{
    Annotation, AnnotationId, Body, DataRow, Feature, Geometry, Marks, Mask, MaskColor, Object, Scores,
};
use crate::rle;

/// One row's mask, as read.
#[derive(Debug, Clone)]
pub enum RowMask {
    /// A PNG already binary, written as given (as a dict's `{"png": ...}`).
    Png(Vec<u8>),
    /// A COCO RLE of `height x width` in uncompressed counts (column-major runs).
    Rle { height: usize, width: usize, counts: Vec<u32> },
}

/// The rows of a table of masks, as read: every index is within its list, and a row
/// whose mask could not be read is `None` (its problem was recorded when read).
#[derive(Debug)]
pub struct MaskRows {
    pub data_rows: Vec<DataRow>,
    /// Each row's index into `data_rows`.
    pub image_index: Vec<i64>,
    pub features: Vec<Feature>,
    /// Each row's index into `features`.
    pub class_ids: Vec<i64>,
    pub confidence: Option<Confidences>,
    pub custom_metrics: Vec<MetricColumn>,
    pub masks: Vec<Option<RowMask>>,
    pub ids: Ids,
    /// Row number of row 0 in the whole input (for deterministic ids and problems).
    pub index_base: usize,
}

impl MaskRows {
    /// Appends an annotation per row to `items`; problems of decoding go to `issues`
    /// at the row, under `column` (the mask column's name).
    pub fn lower(self, column: &str, max_pixels: u64, issues: &mut Issues, items: &mut Vec<Located>) {
        let hasher = self.ids.hasher();
        for (i, mask) in self.masks.into_iter().enumerate() {
            let row = self.index_base + i;
            let Some(mask) = mask else { continue };
            let mask = match mask {
                RowMask::Png(bytes) => Mask::Png(bytes),
                RowMask::Rle { height, width, counts } => {
                    match rle_pixels(height, width, &counts, max_pixels) {
                        Ok(image) => Mask::Pixels { image: Arc::new(image), color: MaskColor::Gray(1) },
                        Err(problem) => {
                            issues.set_row(row);
                            issues.push_owned_key(column.to_string());
                            issues.report_problem(problem);
                            issues.pop();
                            continue;
                        }
                    }
                }
            };
            let data_row = &self.data_rows[self.image_index[i] as usize];
            let feature = &self.features[self.class_ids[i] as usize];
            // Named as columnar predictions are, of the kind `mask`.
            let uuid = hasher.as_ref().map_or(AnnotationId::Random, |h| {
                derived_id(h, id_name_parts("mask", data_row, feature), row)
            });
            let object = Object {
                feature: feature.clone(),
                scores: Scores {
                    confidence: self.confidence.as_ref().and_then(|c| c.get(i)),
                    custom_metrics: metrics_of(&self.custom_metrics, i),
                },
                geometry: Geometry::Mask(mask),
                classifications: Vec::new(),
            };
            items.push(Located {
                row,
                slot: None,
                annotation: Annotation {
                    uuid,
                    data_row: data_row.clone(),
                    body: Body::Object(object),
                    marks: Marks::default(),
                },
            });
        }
    }
}

/// The `height x width` 0/1 image of an RLE; an empty mask is an error, as for
/// instance masks.
fn rle_pixels(height: usize, width: usize, counts: &[u32], max_pixels: u64) -> Result<Image, Problem> {
    let pixels = (height as u64).saturating_mul(width as u64);
    if pixels > max_pixels {
        let message =
            format!("a {height}x{width} mask is over the limit of {max_pixels} pixels (max_mask_pixels)");
        return Err(Problem::new(Code::MaskImage, message));
    }
    let bits = rle::decode(counts, height, width).map_err(|e| Problem::new(Code::MaskImage, e))?;
    if !bits.contains(&1) {
        return Err(Problem::new(Code::EmptyMask, "mask is empty (no pixel set)"));
    }
    let (w, h) = (u32::try_from(width), u32::try_from(height));
    let (Ok(w), Ok(h)) = (w, h) else {
        return Err(Problem::new(Code::MaskImage, format!("a {height}x{width} mask is too large")));
    };
    Image::from_u8(w, h, 1, bits).map_err(|e| Problem::new(Code::MaskImage, e))
}
