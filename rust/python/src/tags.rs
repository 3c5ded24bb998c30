//! The tags that lbfast's Python classes carry (`_lbkind` on typed values,
//! `_lbcolumnar` on columnar batches), so that the binding knows what a value is by
//! a number rather than an `isinstance` chain. They are defined here once; the
//! Python classes read them from `_core` (`TAG_LINE`, `TAG_BOXES`, ...).

use pyo3::prelude::*;

// Typed values (`lbfast.types`).
pub const POINT: i64 = 1;
pub const RECTANGLE: i64 = 2;
pub const LINE: i64 = 3;
pub const POLYGON: i64 = 4;
pub const MASK: i64 = 5;
pub const RADIO: i64 = 11;
pub const CHECKLIST: i64 = 12;
pub const TEXT: i64 = 13;
pub const OBJECT_ANNOTATION: i64 = 21;
pub const CLASSIFICATION_ANNOTATION: i64 = 22;
pub const SCALAR_METRIC: i64 = 23;
pub const CONFUSION_MATRIX_METRIC: i64 = 24;
pub const RELATIONSHIP_ANNOTATION: i64 = 25;

// Columnar batches (`lbfast.columnar`).
pub const BOXES: i64 = 1;
pub const POINTS: i64 = 2;
pub const POLYLINES: i64 = 3;
pub const POLYGONS: i64 = 4;
pub const CLASSIFICATIONS: i64 = 5;

/// Every tag, by the name Python reads it under (`TAG_` + name).
const ALL: [(&str, i64); 18] = [
    ("POINT", POINT),
    ("RECTANGLE", RECTANGLE),
    ("LINE", LINE),
    ("POLYGON", POLYGON),
    ("MASK", MASK),
    ("RADIO", RADIO),
    ("CHECKLIST", CHECKLIST),
    ("TEXT", TEXT),
    ("OBJECT_ANNOTATION", OBJECT_ANNOTATION),
    ("CLASSIFICATION_ANNOTATION", CLASSIFICATION_ANNOTATION),
    ("SCALAR_METRIC", SCALAR_METRIC),
    ("CONFUSION_MATRIX_METRIC", CONFUSION_MATRIX_METRIC),
    ("RELATIONSHIP_ANNOTATION", RELATIONSHIP_ANNOTATION),
    ("BOXES", BOXES),
    ("POINTS", POINTS),
    ("POLYLINES", POLYLINES),
    ("POLYGONS", POLYGONS),
    ("CLASSIFICATIONS", CLASSIFICATIONS),
];

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for (name, tag) in ALL {
        m.add(format!("TAG_{name}").as_str(), tag)?;
    }
    Ok(())
}
