//! Reading NDJSON-shaped values into the [`crate::model`]: the one set of key rules
//! for every entrance that takes Labelbox's own shape.
//!
//! [`annotation`] interprets a value's keys (which key names what, unknown keys
//! reported, bounded nesting). It walks any value that implements [`Node`]: Python
//! dicts in the binding, JSON text here ([`json`]). [`ndjson`] reads whole NDJSON
//! texts: lines split and numbered ([`lines`]), read in parallel, in file order.

pub mod annotation;
pub mod blocks;
pub mod json;
pub mod lines;
pub mod mapped;
pub mod metric;
pub mod ndjson;
pub mod node;
pub mod quick;

pub use annotation::{read_annotation, MAX_DEPTH};
pub use lines::count_lines;
pub use ndjson::{last_label_start, read_ndjson, read_ndjson_after, split_last_label, ReadLines};
pub use node::{Key, Node};
