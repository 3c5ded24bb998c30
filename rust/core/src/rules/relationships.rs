//! The rules of a relationship line: a type of the two Labelbox has, a source
//! annotation (an image relationship has no `source_ontology_name`), and two ends
//! that are object annotations written in the same Label (dicts: the same data row).
//! [`link_relationships`] resolves each end to the uuid of the line it names, fixing
//! a random uuid on that line first, so that both lines agree.

use std::collections::HashMap;

use crate::batch::Located;
use crate::issues::{Code, Issues, MAX_LISTED};
use crate::model::{AnnotationId, Body, End, Relationship};
use crate::rules::Style;

/// The relationship types Labelbox has.
pub const TYPES: [&str; 2] = ["unidirectional", "bidirectional"];

/// Checks one relationship line by itself; the caller has set the row and the path.
pub fn check_relationship(r: &Relationship, style: Style, issues: &mut Issues) {
    issues.at_keys(style.keys(&["value"], &["relationship"]), |issues| {
        if !TYPES.contains(&&*r.kind) {
            let message = format!("relationship type must be one of {}, got {:?}", TYPES.join(", "), &*r.kind);
            issues.report_at("type", Code::RelationshipType, message);
        }
        let name_key = style.key("source_ontology_name", "sourceOntologyName");
        match (&r.source, &r.source_ontology_name) {
            (Some(_), Some(_)) => issues.report_at(
                name_key,
                Code::RelationshipEnd,
                "give either a source or a source ontology name, not both",
            ),
            (None, Some(_)) => issues.report_at(
                name_key,
                Code::RelationshipEnd,
                "a source ontology name is for document relationships; an image relationship needs a source annotation",
            ),
            (None, None) => issues.report_at("source", Code::Missing, "a relationship needs a source annotation"),
            (Some(_), None) => {}
        }
    });
}

/// Which end of a relationship.
#[derive(Clone, Copy)]
enum Side {
    Source,
    Target,
}

impl Side {
    fn key(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Target => "target",
        }
    }
}

/// Resolves the ends of every relationship among `items` to the uuids of the lines
/// they name, and returns the problems: an end that names no annotation written in
/// this call, one that is not an object annotation, or one in another Label.
pub fn link_relationships(items: &mut [Located]) -> Issues {
    let mut issues = Issues::with_limit(MAX_LISTED);
    let relationships: Vec<usize> =
        (0..items.len()).filter(|&k| matches!(items[k].annotation.body, Body::Relationship(_))).collect();
    if relationships.is_empty() {
        return issues;
    }
    let by_uuid = uuids(items);
    let mut links = Vec::new();
    for &k in &relationships {
        let Body::Relationship(r) = &items[k].annotation.body else { continue };
        let ends = [(Side::Source, r.source.as_ref()), (Side::Target, Some(&r.target))];
        for (side, end) in ends {
            let Some(end) = end else { continue };
            if let Some(j) = resolve(items, k, side, end, &by_uuid, &mut issues) {
                links.push((k, side, j));
            }
        }
    }
    for (k, side, j) in links {
        let uuid = match &items[j].annotation.uuid {
            AnnotationId::Given(uuid) => uuid.to_string(),
            AnnotationId::Derived(bytes) => {
                let mut out = Vec::with_capacity(36);
                crate::uuid::push_hyphenated(&mut out, bytes);
                String::from_utf8(out).unwrap_or_default()
            }
            AnnotationId::Random => {
                let uuid = crate::uuid::v4_string();
                items[j].annotation.uuid = AnnotationId::Given(uuid.as_str().into());
                uuid
            }
        };
        if let Body::Relationship(r) = &mut items[k].annotation.body {
            match side {
                Side::Source => r.source = Some(End::Uuid(uuid)),
                Side::Target => r.target = End::Uuid(uuid),
            }
        }
    }
    issues
}

/// The first line of each given uuid.
fn uuids(items: &[Located]) -> HashMap<&str, usize> {
    let mut by_uuid = HashMap::new();
    for (j, item) in items.iter().enumerate() {
        if let AnnotationId::Given(uuid) = &item.annotation.uuid {
            by_uuid.entry(uuid.as_str()).or_insert(j);
        }
    }
    by_uuid
}

/// The line that `end` of relationship `items[k]` names, if it is an object
/// annotation of the same Label; otherwise the problem is recorded.
fn resolve(
    items: &[Located],
    k: usize,
    side: Side,
    end: &End,
    by_uuid: &HashMap<&str, usize>,
    issues: &mut Issues,
) -> Option<usize> {
    let this = &items[k];
    let found = match end {
        End::Item(j) => items.get(*j).map(|_| *j),
        End::Uuid(uuid) => by_uuid.get(uuid.as_str()).copied(),
        End::Unlisted(_) | End::Refused => None,
    };
    let problem = match (end, found) {
        (End::Refused, _) => return None,
        (End::Unlisted(what), _) => Some(format!(
            "the {} of {} is {what}, which is not among the annotations written; add it to the Label's annotations",
            side.key(),
            describe(this)
        )),
        (End::Uuid(uuid), None) => Some(format!(
            "the {} of {} is uuid {uuid:?}, which no annotation written in this call has",
            side.key(),
            describe(this)
        )),
        (_, None) => Some(format!("the {} of {} is no annotation of this call", side.key(), describe(this))),
        (_, Some(j)) => end_problem(this, &items[j], side),
    };
    match problem {
        None => found,
        Some(message) => {
            at_end(this, side, issues, |issues| issues.report(Code::RelationshipEnd, message));
            None
        }
    }
}

/// Why `other` cannot be the `side` end of relationship `this`, if it cannot.
fn end_problem(this: &Located, other: &Located, side: Side) -> Option<String> {
    let what = match &other.annotation.body {
        Body::Object(_) => None,
        Body::Classification(_) => Some("a classification"),
        Body::Metric(_) => Some("a metric"),
        Body::Relationship(_) => Some("a relationship"),
    };
    if let Some(what) = what {
        return Some(format!(
            "the {} of {} must be an object annotation, got {what}: {}",
            side.key(),
            describe(this),
            describe(other)
        ));
    }
    let same = match (this.slot, other.slot) {
        (Some(_), Some(_)) => this.row == other.row,
        _ => this.annotation.data_row == other.annotation.data_row,
    };
    (!same).then(|| {
        let place = if this.slot.is_some() && other.slot.is_some() { "Label" } else { "data row" };
        format!(
            "the {} of {} is {}, which is in another {place}; source and target must be in the relationship's {place}",
            side.key(),
            describe(this),
            describe(other)
        )
    })
}

/// A line as messages name it: `relationship 'is_on' (row 0, annotations[2])`.
fn describe(item: &Located) -> String {
    let a = &item.annotation;
    let (kind, feature) = match &a.body {
        Body::Object(o) => ("object", Some(&o.feature)),
        Body::Classification(c) => ("classification", Some(&c.feature)),
        Body::Relationship(r) => ("relationship", Some(&r.feature)),
        Body::Metric(_) => ("metric", None),
    };
    let name = feature.and_then(|f| f.name.as_ref().or(f.schema_id.as_ref()));
    let named = name.map_or(String::new(), |n| format!(" '{n}'"));
    match item.slot {
        Some(slot) => format!("{kind}{named} (row {}, annotations[{slot}])", item.row),
        None => format!("{kind}{named} (row {})", item.row),
    }
}

/// Runs `f` at the path of `side` of relationship `item`.
fn at_end(item: &Located, side: Side, issues: &mut Issues, f: impl FnOnce(&mut Issues)) {
    issues.set_row(item.row);
    if let Some(slot) = item.slot {
        issues.push_key("annotations");
        issues.push_index(slot);
        issues.push_key("value");
    } else {
        issues.push_key("relationship");
    }
    issues.push_key(side.key());
    f(issues);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Annotation, DataRow, Feature, Geometry, Marks, Object, Pt, Scores};

    fn object(row: usize, slot: usize, uuid: AnnotationId) -> Located {
        let body = Body::Object(Object {
            feature: Feature::named("car"),
            scores: Scores::default(),
            geometry: Geometry::Point(Pt { x: 1.0, y: 1.0 }),
            classifications: Vec::new(),
        });
        let annotation =
            Annotation { uuid, data_row: DataRow::global_key("a"), body, marks: Marks::default() };
        Located { row, slot: Some(slot), annotation }
    }

    fn relationship(row: usize, slot: usize, source: End, target: End) -> Located {
        let body = Body::Relationship(Relationship {
            feature: Feature::named("has"),
            source: Some(source),
            target,
            kind: "unidirectional".into(),
            readonly: None,
            source_ontology_name: None,
        });
        let annotation = Annotation {
            uuid: AnnotationId::Random,
            data_row: DataRow::global_key("a"),
            body,
            marks: Marks::default(),
        };
        Located { row, slot: Some(slot), annotation }
    }

    fn ends(item: &Located) -> (Option<End>, End) {
        let Body::Relationship(r) = &item.annotation.body else { panic!("a relationship") };
        (r.source.clone(), r.target.clone())
    }

    #[test]
    fn ends_become_the_uuids_of_their_lines_a_random_one_fixed_first() {
        let mut items = vec![
            relationship(0, 2, End::Item(1), End::Item(2)),
            object(0, 0, AnnotationId::Given("car".into())),
            object(0, 1, AnnotationId::Random),
        ];
        assert!(link_relationships(&mut items).is_empty());
        let AnnotationId::Given(fixed) = items[2].annotation.uuid.clone() else { panic!("fixed") };
        assert_eq!(fixed.len(), 36);
        assert_eq!(ends(&items[0]), (Some(End::Uuid("car".into())), End::Uuid(fixed.to_string())));
    }

    #[test]
    fn an_end_in_another_label_unknown_or_not_an_object_is_a_problem_at_its_path() {
        let mut items = vec![
            object(0, 0, AnnotationId::Random),
            relationship(1, 0, End::Item(0), End::Uuid("nope".into())),
            relationship(1, 1, End::Item(1), End::Unlisted("ObjectAnnotation 'x'".into())),
        ];
        let found: Vec<(usize, String)> =
            link_relationships(&mut items).into_vec().into_iter().map(|i| (i.row, i.path)).collect();
        assert_eq!(
            found,
            [
                (1, "annotations[0].value.source".to_string()),
                (1, "annotations[0].value.target".to_string()),
                (1, "annotations[1].value.source".to_string()),
                (1, "annotations[1].value.target".to_string()),
            ]
        );
    }
}
