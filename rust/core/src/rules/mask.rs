//! The mask rules: a hosted mask needs a URL and a colour; a PNG must decode within
//! the size limits; pixels to threshold must hold the colour, and become the binary
//! PNG that is written.

use std::sync::Arc;

use crate::issues::{Code, Issues, Problem};
use crate::mask;
use crate::model::{Mask, MaskColor};
use crate::options::Options;
use crate::rules::annotation::Style;
use crate::rules::values::{color_problem, show_color};

/// Checks a mask; turns pixels into the binary PNG the writer sends.
pub fn check_mask(m: &mut Mask, style: Style, options: &Options, issues: &mut Issues) {
    match m {
        Mask::Url { uri, color } => {
            if let Some(problem) = color_problem(color) {
                issues.report_problem_at(style.key("color", "colorRGB"), problem);
            }
            if uri.is_empty() {
                issues.report_at(
                    style.key("mask.url", "instanceURI"),
                    Code::MaskUrl,
                    "mask URL must not be empty",
                );
            }
        }
        Mask::Png(bytes) => {
            if let Err(reason) = mask::check_png(bytes, options.max_mask_pixels) {
                issues.report_at("png", Code::MaskImage, reason);
            }
        }
        // Its problem was recorded when it was read.
        Mask::Refused => {}
        Mask::Pixels { image, color } => {
            let color = *color;
            if let Some(problem) = color_problem(&color) {
                issues.report_problem_at("color", problem);
                return;
            }
            match threshold(image, color) {
                Ok(png) => *m = Mask::Png(png),
                Err(problem) => issues.report_problem_at("color", problem),
            }
        }
    }
}

/// The binary PNG of the pixels of `image` that equal `color`. A colour that does not
/// occur is an error: an empty mask is never what the caller meant.
fn threshold(image: &Arc<mask::Image>, color: MaskColor) -> Result<Vec<u8>, Problem> {
    // An instance of a labelled composite is matched as it is encoded.
    if let Some((labels, label, bbox)) = crate::colors::labelled_instance(image, color) {
        if let Some(png) = crate::binary_png::encode_labelled(image.width, image.height, labels, label, bbox)
        {
            return Ok(png);
        }
    }
    let encoded = crate::colors::with_instance_bits(image, color, |bits, bbox| {
        // Rows outside the instance's box are encoded without being read; the bytes
        // are the `png` crate's either way.
        crate::binary_png::encode_in_box(image.width, image.height, bits, bbox)
            .map_or_else(|| mask::encode_binary_png(image.width, image.height, bits), Ok)
    });
    let Some(encoded) = encoded else {
        return Err(Problem::new(
            Code::MaskColor,
            format!(
                "colour {} does not occur in the {}x{} mask",
                show_color(&color),
                image.width,
                image.height
            ),
        ));
    };
    encoded.map_err(|reason| Problem::new(Code::MaskImage, reason))
}

/// Why a mask of `image` cannot belong to the Label's image of `size` (`(width,
/// height)`), if it cannot.
pub fn label_size_problem(image: &mask::Image, size: Option<(i64, i64)>) -> Option<Problem> {
    crate::stacks::size_problem(size?, image.width as usize, image.height as usize, "Label.image_size")
}

/// For a URL mask given with its pixels: why it cannot be right, if it cannot (the
/// colour is absent, or the size is not the image's). A colour out of range is left
/// to [`check_mask`], which names it as such.
pub fn local_pixels_problem(
    image: &mask::Image,
    color: MaskColor,
    size: Option<(i64, i64)>,
) -> Option<Problem> {
    if let Some(problem) = label_size_problem(image, size) {
        return Some(problem);
    }
    if color_problem(&color).is_some() || image.color_index().find(color).is_some() {
        return None;
    }
    Some(Problem::new(
        Code::MaskColor,
        format!(
            "colour {} does not occur in the {}x{} mask given with the URL (Labelbox would reject it after upload)",
            show_color(&color),
            image.width,
            image.height
        ),
    ))
}
