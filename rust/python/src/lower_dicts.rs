//! Lowering of NDJSON-shaped dicts (the guide's "NDJSON" payloads) into core
//! annotations: Python values seen as `Node`s (`py_node.rs`), read by the core's key rules
//! (`lbfast_core::read`), the same that read NDJSON text.

use lbfast_core::batch::{Batch, Located};
use lbfast_core::read::read_annotation;
use pyo3::prelude::*;

use crate::py_node::PyNode;

/// Lowers one NDJSON-shaped dict, input item number `row`, into `batch`.
pub fn lower_dict(batch: &mut Batch, row: usize, item: &Bound<'_, PyAny>) -> PyResult<()> {
    batch.issues.set_row(row);
    if let Some(annotation) = read_annotation(&PyNode(item.clone()), &mut batch.issues)? {
        batch.items.push(Located { row, slot: None, annotation });
    }
    Ok(())
}
