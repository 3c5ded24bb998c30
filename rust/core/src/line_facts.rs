//! What a shard writer needs to know of each written line (its data row, its feature,
//! whether that feature is named, whether it is a mask), as index columns into lists
//! of distinct texts: the shard writer counts and cuts a batch with numpy, never per
//! line in Python.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rustc_hash::FxHasher;

use crate::batch::{Checked, Located, Segment};
use crate::columnar::{ColumnKind, Columns};
use crate::model::{Body, Feature, Geometry, Text};

/// The facts of every line of a checked batch, in output order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LineTable<'a> {
    pub is_mask: Vec<bool>,
    /// Whether the line's feature is named (Labelbox's per-data-row limit counts names).
    pub has_name: Vec<bool>,
    /// Index into `features` of each line's feature: its name, or its schema id when
    /// it has none (`""` for a metric line, which is of no feature).
    pub feature_index: Vec<u32>,
    pub features: Vec<&'a str>,
    /// Index into `data_rows` of each line's data row (id or global key).
    pub data_row_index: Vec<u32>,
    pub data_rows: Vec<&'a str>,
}

impl Checked {
    /// The facts of every line, in output order. A columnar batch's lines index its
    /// own data-row and feature lists (no hashing); other lines are interned. A text
    /// may therefore be listed more than once: count by text, not by index.
    pub fn line_table(&self) -> LineTable<'_> {
        let lines = self.lines();
        let mut table = LineTable {
            is_mask: Vec::with_capacity(lines),
            has_name: Vec::with_capacity(lines),
            feature_index: Vec::with_capacity(lines),
            data_row_index: Vec::with_capacity(lines),
            ..LineTable::default()
        };
        let mut interned = Interned::default();
        for segment in self.segments() {
            match segment {
                Segment::Items(range) => {
                    for item in &self.items[range] {
                        table.push_item(item, &mut interned);
                    }
                }
                Segment::Columns(k) => table.push_columns(&self.columns[k].columns),
            }
        }
        table
    }
}

/// Where each interned text sits in the table's lists.
#[derive(Default)]
struct Interned<'a> {
    features: HashMap<&'a str, u32, BuildHasherDefault<FxHasher>>,
    data_rows: HashMap<&'a str, u32, BuildHasherDefault<FxHasher>>,
}

impl<'a> LineTable<'a> {
    fn push_item(&mut self, item: &'a Located, interned: &mut Interned<'a>) {
        let a = &item.annotation;
        let (feature, mask) = match &a.body {
            Body::Object(o) => (Some(&o.feature), matches!(o.geometry, Geometry::Mask(_))),
            Body::Classification(c) => (Some(&c.feature), false),
            Body::Relationship(r) => (Some(&r.feature), false),
            // A metric line is of no feature (its `featureName` is a reference).
            Body::Metric(_) => (None, false),
        };
        self.is_mask.push(mask);
        self.has_name.push(feature.is_some_and(|f| f.name.is_some()));
        let feature = intern(&mut interned.features, &mut self.features, feature.map_or("", text_of));
        self.feature_index.push(feature);
        let data_row = intern(&mut interned.data_rows, &mut self.data_rows, a.data_row.text());
        self.data_row_index.push(data_row);
    }

    fn push_columns(&mut self, columns: &'a Columns) {
        let features: &[Feature] = match &columns.kind {
            ColumnKind::Objects(o) => &o.features,
            ColumnKind::Classifications(c) => std::slice::from_ref(&c.question),
        };
        let (feature_base, data_row_base) = (index(self.features.len()), index(self.data_rows.len()));
        let named: Vec<bool> = features.iter().map(|f| f.name.is_some()).collect();
        self.features.extend(features.iter().map(text_of));
        self.data_rows.extend(columns.data_rows.iter().map(|d| &**d.text()));
        for i in 0..columns.len() {
            let feature = columns.feature_of(i);
            self.is_mask.push(false);
            self.has_name.push(named[feature]);
            self.feature_index.push(feature_base + index(feature));
            self.data_row_index.push(data_row_base + index(columns.data_row_of(i)));
        }
    }
}

fn intern<'a>(
    at: &mut HashMap<&'a str, u32, BuildHasherDefault<FxHasher>>,
    list: &mut Vec<&'a str>,
    text: &'a str,
) -> u32 {
    *at.entry(text).or_insert_with(|| {
        list.push(text);
        index(list.len() - 1)
    })
}

/// A list index as the table stores it; a batch is far below 2^32 lines.
fn index(i: usize) -> u32 {
    u32::try_from(i).expect("a batch of fewer than 2^32 lines")
}

/// A feature's name, else its schema id (checked features have one).
fn text_of(feature: &Feature) -> &str {
    feature.name.as_ref().or(feature.schema_id.as_ref()).map_or("", |t: &Text| &**t)
}

/// Where each line of NDJSON written by lbfast ends (just past its `\n`): escaped JSON
/// holds no raw newline but the one that ends each line.
#[must_use]
pub fn line_ends(ndjson: &[u8]) -> Vec<u64> {
    memchr::memchr_iter(b'\n', ndjson).map(|at| at as u64 + 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Batch;
    use crate::columnar::{BoxColumn, BoxFormat, GeometryColumn, Ids, ObjectColumns};
    use crate::model::DataRow;
    use crate::options::Options;
    use crate::read::ndjson::read_ndjson;

    const LINES: &str = concat!(
        r#"{"uuid":"2f4b1f7e-2b7a-4d5c-9c39-1f0e6a1c2d3e","dataRow":{"globalKey":"a"},"#,
        r#""name":"car","bbox":{"top":1,"left":2,"height":3,"width":4}}"#,
        "\n",
        r#"{"uuid":"3f4b1f7e-2b7a-4d5c-9c39-1f0e6a1c2d3e","dataRow":{"id":"ckrazcueb16og0z6609jj7y3y"},"#,
        r#""schemaId":"ckrazcuec16ok0z66f956apb7","mask":{"instanceURI":"https://x/m.png","colorRGB":[255,0,0]}}"#,
        "\n",
    );

    /// Each line's (data row, feature, named, mask), read back through the table.
    fn facts(table: &LineTable<'_>) -> Vec<(String, String, bool, bool)> {
        (0..table.is_mask.len())
            .map(|i| {
                (
                    table.data_rows[table.data_row_index[i] as usize].to_owned(),
                    table.features[table.feature_index[i] as usize].to_owned(),
                    table.has_name[i],
                    table.is_mask[i],
                )
            })
            .collect()
    }

    #[test]
    fn lines_of_items_and_columns_in_output_order() {
        let mut batch: Batch = read_ndjson(LINES.as_bytes(), 0, 1, Some(1)).batch;
        let columns = Columns {
            data_rows: vec![DataRow::global_key("b"), DataRow::global_key("a")],
            refused_data_rows: Vec::new(),
            image_index: None,
            confidence: None,
            ids: Ids::Derived(crate::uuid::LBFAST_NAMESPACE),
            index_base: 0,
            kind: ColumnKind::Objects(ObjectColumns {
                features: vec![Feature::named("dog"), Feature::named("car")],
                class_ids: Some(vec![1, 0]),
                geometry: GeometryColumn::Boxes(BoxColumn {
                    boxes: vec![[0.0, 0.0, 1.0, 1.0]; 2],
                    format: BoxFormat::Xyxy,
                    normalized: false,
                    image_sizes: None,
                }),
                subclass: None,
                custom_metrics: Vec::new(),
            }),
        };
        batch.push_columns(2, columns);
        let checked = batch.check(&Options::default()).unwrap();
        let table = checked.line_table();
        let own = |d: &str, f: &str, named, mask| (d.to_owned(), f.to_owned(), named, mask);
        assert_eq!(
            facts(&table),
            vec![
                own("a", "car", true, false),
                own("ckrazcueb16og0z6609jj7y3y", "ckrazcuec16ok0z66f956apb7", false, true),
                own("b", "car", true, false),
                own("a", "dog", true, false),
            ]
        );
        let mut out = Vec::new();
        checked.write(&mut |pieces| pieces.iter().for_each(|p| out.extend_from_slice(p)));
        assert_eq!(line_ends(&out).len(), table.is_mask.len());
    }

    #[test]
    fn line_ends_are_past_each_newline() {
        assert_eq!(line_ends(b"{}\n{\"a\":1}\n"), vec![3, 11]);
        assert!(line_ends(b"").is_empty());
    }
}
