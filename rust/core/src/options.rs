//! The options of every call that validates or writes, in one place.

use crate::mask::DEFAULT_MAX_PIXELS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Largest mask (width x height) that will be decoded; its bytes are bounded by
    /// it too.
    pub max_mask_pixels: u64,
    /// Threads for checking and writing: `None` for all cores (rayon's global pool,
    /// sized by `RAYON_NUM_THREADS`), `Some(1)` for the calling thread only.
    pub threads: Option<usize>,
    /// Against an ontology: write each feature's schema id beside its name.
    pub resolve_schema_ids: bool,
    /// Against an ontology: check that required classifications are present.
    pub required: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_mask_pixels: DEFAULT_MAX_PIXELS,
            threads: None,
            resolve_schema_ids: false,
            required: true,
        }
    }
}
