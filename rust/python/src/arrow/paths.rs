//! The rules name the fields of the core's columns (`boxes[17][2]`, `class_ids[17]`,
//! `confidence[17]`); for a table, a problem is named by the user's column instead,
//! its row being the table's row (`row 17: y2: ...`).

use lbfast_core::issues::Issue;

use super::read::Origins;
use super::spec::{Geometry, Spec};

/// Renames the paths of the rules' problems of one batch (row 0 at `first_row`).
pub fn relabel(issues: &mut [Issue], spec: &Spec, read: Option<&Origins>, first_row: usize) {
    for issue in issues {
        if let Some((path, row)) = rename(&issue.path, spec, read) {
            issue.path = path;
            if let Some(row) = row {
                issue.row = first_row + row;
            }
        }
    }
}

/// The head key of a path and its indices: `subclass.answer_ids[3]` is
/// (`subclass.answer_ids`, `[3]`).
fn split(path: &str) -> (&str, Vec<usize>) {
    let head_end = path.find('[').unwrap_or(path.len());
    let indices = path[head_end..]
        .split(['[', ']'])
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap_or(usize::MAX))
        .collect();
    (&path[..head_end], indices)
}

/// The new path, and the batch row the problem belongs to when it is not the one
/// the rules gave (problems of a list entry, reported at the batch's first row).
fn rename(path: &str, spec: &Spec, read: Option<&Origins>) -> Option<(String, Option<usize>)> {
    let (head, indices) = split(path);
    let entry_row =
        |rows: Option<&Vec<usize>>| rows.and_then(|r| indices.first().and_then(|&k| r.get(k).copied()));
    let geometry_columns: &[String] = match &spec.geometry {
        Geometry::Box { columns, .. } | Geometry::Point { columns } => columns,
        Geometry::Line { column }
        | Geometry::Polygon { column }
        | Geometry::Text { column }
        | Geometry::Mask { column } => std::slice::from_ref(column),
        Geometry::Radio { .. } | Geometry::Checklist { .. } => &[],
    };
    let answers_column = match &spec.geometry {
        Geometry::Radio { answers } | Geometry::Checklist { answers } => Some(answers.column().to_string()),
        _ => None,
    };
    let feature_column = spec.features.as_ref().map(|f| f.column().to_string());
    let from_list = |column: Option<String>| -> Option<(String, Option<usize>)> { Some((column?, None)) };
    match head {
        "boxes" | "points" => {
            let name = match (geometry_columns, indices.get(1)) {
                ([one], Some(k)) => format!("{one}[{k}]"),
                ([one], None) => one.clone(),
                (many, Some(&k)) if k < many.len() => many[k].clone(),
                (many, _) => many.join(", "),
            };
            Some((name, None))
        }
        // `mask.png`: a mask row's annotation (dict paths).
        "coords" | "offsets" | "texts" | "mask" | "mask.png" => from_list(geometry_columns.first().cloned()),
        "confidence" => from_list(spec.confidence.clone()),
        // A mask row's annotation (dict paths): its metric `k`.
        "customMetrics" => from_list(spec.custom_metrics.get(*indices.first()?).map(|(_, c)| c.clone())),
        // `custom_metrics[i][k]`: metric `k` of row `i`.
        "custom_metrics" => from_list(spec.custom_metrics.get(*indices.get(1)?).map(|(_, c)| c.clone())),
        "image_index" | "data_rows" => from_list(Some(spec.data_row.clone())),
        // A mask row's annotation (dict paths): its feature, as named by the ontology check.
        "class_ids" | "name" | "schemaId" => from_list(feature_column),
        "features" if matches!(spec.features, Some(super::spec::Names::Column { .. })) => {
            Some((feature_column?, entry_row(read.map(|r| &r.feature_rows))))
        }
        "answer_ids" => from_list(answers_column),
        "answers" if read.is_some_and(|r| !r.answer_rows.is_empty()) && spec.subclass.is_none() => {
            Some((answers_column?, entry_row(read.map(|r| &r.answer_rows))))
        }
        "subclass.answer_ids" => from_list(spec.subclass.as_ref().map(|s| s.answers.column().to_string())),
        "subclass.confidence" => from_list(spec.subclass.as_ref().and_then(|s| s.confidence.clone())),
        "subclass.answers" if read.is_some_and(|r| !r.answer_rows.is_empty()) => Some((
            spec.subclass.as_ref()?.answers.column().to_string(),
            entry_row(read.map(|r| &r.answer_rows)),
        )),
        "image_sizes" => {
            let Geometry::Box { size: Some(size), .. } = &spec.geometry else { return None };
            let column = size.get(*indices.get(1)?)?.clone();
            Some((column, entry_row(read.map(|r| &r.data_row_rows))))
        }
        _ => None,
    }
}
