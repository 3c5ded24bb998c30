//! The one place where the keywords of the public calls become core [`Options`].

use lbfast_core::options::Options;

/// The core options from the keywords every validating or writing call takes.
pub fn read(
    max_mask_pixels: Option<u64>,
    resolve_schema_ids: bool,
    required: bool,
    threads: Option<usize>,
) -> Options {
    let mut options = Options { resolve_schema_ids, required, threads, ..Options::default() };
    if let Some(limit) = max_mask_pixels {
        options.max_mask_pixels = limit;
    }
    options
}
