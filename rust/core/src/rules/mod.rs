//! Every rule, once, for every entrance: the rules on single values
//! ([`values`]), on geometries wherever their numbers sit ([`geometry`]), on masks
//! ([`mask`]), and the walks that apply them to an owned annotation
//! ([`annotation`]: typed objects and dicts) and to a columnar batch ([`columns`]);
//! the rules of the other line kinds ([`metrics`], [`relationships`], whose ends are
//! linked across the batch); and what a destination does not take ([`scores`]: a
//! project import, no scores).

pub mod annotation;
pub mod columns;
pub mod geometry;
pub mod mask;
pub mod metrics;
pub mod relationships;
pub mod scores;
pub mod values;

pub use annotation::{check_annotation, Style};
