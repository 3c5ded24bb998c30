//! The options of every call that validates or writes, in one place.

use crate::mask::DEFAULT_MAX_PIXELS;

/// What to do with scores (confidence, custom metrics): a model run takes them, a
/// project import (model-assisted labelling, label import) does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scores {
    /// Written as given (model runs; plain `dumps`).
    #[default]
    Keep,
    /// Each one is an error (`not_for_project`): nothing is written.
    Refuse,
    /// Each one is left out, with a warning (`score_stripped`).
    Strip,
}

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
    /// Scores where the destination may not take them.
    pub scores: Scores,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_mask_pixels: DEFAULT_MAX_PIXELS,
            threads: None,
            resolve_schema_ids: false,
            required: true,
            scores: Scores::Keep,
        }
    }
}
