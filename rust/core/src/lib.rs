//! lbfast-core: Labelbox import NDJSON from model predictions, without Python.
//!
//! Every input form (typed objects, NDJSON-shaped dicts, columns) is read into the
//! [`model`] (annotations) or [`columnar`] batches, checked by the one set of
//! [`rules`] and written by the one [`ndjson`] writer; `docs/architecture.md` shows
//! the whole flow.

pub mod batch;
pub mod binary_png;
pub mod colors;
pub mod columnar;
pub mod issues;
pub mod json;
pub mod kept;
pub mod line_facts;
pub mod mask;
pub mod mask_rows;
pub mod memory;
pub mod model;
pub mod ndjson;
pub mod ontology;
pub mod options;
pub mod parallel;
pub mod read;
pub mod rle;
pub mod rules;
pub mod short_text;
pub mod stacks;
pub mod uuid;
