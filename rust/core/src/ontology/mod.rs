//! Predictions checked against an ontology, offline.
//!
//! An [`Ontology`] is built once from a plain description ([`OntologySpec`]: tools,
//! global classifications, options, nested to any depth) into an index of every
//! feature by name and by feature schema id, scope by scope. A [`Checker`] then walks
//! [`Annotation`]s and reports what Labelbox would refuse after the upload: unknown
//! features, a geometry the tool cannot draw, an answer of the wrong shape, an
//! answer that is not an option of its question, a classification nested where the
//! ontology does not nest it, a missing required classification, and a name and a
//! schema id that name different features. Each problem is an [`crate::issues::Issue`]
//! with its code and, where one is obvious, a suggestion.
//!
//! The checker can also change what will be written: it resolves names to schema ids
//! when asked, and turns a single answer object given to a checklist question into a
//! one-element list (with a warning), since the ontology says the question is a
//! checklist.

mod check;
mod columns;
mod index;
mod read;
mod spec;

pub use check::{Checker, DataRows};
pub use index::{edit_distance, Ontology, QuestionKind, ToolKind};
pub use read::{read_spec, SpecError, SpecNode, MAX_DEPTH};
pub use spec::{FeatureSpec, OntologySpec, OptionSpec, QuestionSpec, ToolSpec};

#[cfg(test)]
mod tests;
