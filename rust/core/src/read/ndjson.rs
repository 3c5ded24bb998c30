//! Whole NDJSON texts into a [`Batch`]: one row per line that is not blank, each
//! numbered with its line, read in parallel and kept in file order. A line that is
//! not JSON is a problem of its row ([`Code::Unreadable`]), as is any problem of its
//! keys; reading goes on with the next line, so that every problem is reported.

use std::ops::Range;

use super::annotation::{data_row_named, read_annotation};
use super::json::{self, JsonNode, Texts};
use super::lines::{split_lines, Lines};
use super::node::Node;
use super::quick;
use crate::batch::{Batch, Located};
use crate::issues::{Code, Issues, MAX_LISTED};
use crate::parallel;

/// Lines per unit of parallel reading.
const TASK_LINES: usize = 4096;
/// Texts with fewer lines are read on the calling thread alone.
const PARALLEL_LINES: usize = 16_384;

const BOM: &[u8] = b"\xef\xbb\xbf";

/// What [`read_ndjson`] read: the annotations and problems, by row, and the line of
/// each row (row `first_row + i` is line `lines[i]`).
#[derive(Debug, Default)]
pub struct ReadLines {
    pub batch: Batch,
    pub lines: Vec<u64>,
    /// The text's line ends (`\n`): the next block's first line is this many on.
    pub line_ends: u64,
}

impl ReadLines {
    /// Number of rows (lines that are not blank).
    pub fn rows(&self) -> usize {
        self.lines.len()
    }
}

/// Reads `text` (NDJSON, UTF-8, a leading byte-order mark skipped); its first line is
/// line `first_line` and its first row `first_row`. `threads` as in [`parallel`].
pub fn read_ndjson(text: &[u8], first_row: usize, first_line: u64, threads: Option<usize>) -> ReadLines {
    read_ndjson_after(Vec::new(), text, first_row, first_line, threads)
}

/// As [`read_ndjson`], the items read going after `before` (a Label held from the
/// previous block, see [`split_last_label`]): the block's items are moved once, not
/// again to put the held ones first.
pub fn read_ndjson_after(
    before: Vec<Located>,
    text: &[u8],
    first_row: usize,
    first_line: u64,
    threads: Option<usize>,
) -> ReadLines {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let Lines { ranges, numbers: lines, line_ends } = split_lines(text, first_line, threads);
    let threads = if ranges.len() < PARALLEL_LINES { Some(1) } else { threads };
    let mut batch = Batch::new();
    batch.items = before;
    batch.items.reserve(ranges.len());
    if parallel::thread_count(threads) == 1 {
        // Straight into the batch: no part to move the items from.
        let mut issues = Issues::with_limit(MAX_LISTED);
        read_rows(text, &ranges, first_row, &mut issues, |item| batch.items.push(item));
        batch.issues.extend(issues);
        return ReadLines { batch, lines, line_ends };
    }
    // A line gives at most one item: each task moves its items into the batch's own
    // slots for its lines, on its thread, so no thread moves them all afterwards.
    let base = batch.items.len();
    let slots = &mut batch.items.spare_capacity_mut()[..ranges.len()];
    let filled = parallel::map_chunks_mut(threads, slots, TASK_LINES, |start, slots| {
        let mut issues = Issues::with_limit(MAX_LISTED);
        // Each item is moved once, into its slot: no vector of the task's own between.
        let mut count = 0;
        read_rows(text, &ranges[start..start + slots.len()], first_row + start, &mut issues, |item| {
            slots[count].write(item);
            count += 1;
        });
        (start, count, issues)
    });
    let mut len = base;
    let at = batch.items.as_mut_ptr();
    for (start, count, issues) in filled {
        // Lines that gave no item (a problem, reported) leave a gap: close it.
        if len != base + start {
            // SAFETY: slots `base + start ..+ count` were written above, and `len` is
            // below `base + start`; `copy` allows the two ranges to overlap.
            unsafe { std::ptr::copy(at.add(base + start), at.add(len), count) };
        }
        len += count;
        batch.issues.extend(issues);
    }
    // SAFETY: `base..len` now holds exactly the items written, each once.
    unsafe { batch.items.set_len(len) };
    ReadLines { batch, lines, line_ends }
}

/// Takes off the end of `items` the lines of its last data row (its last run of
/// consecutive lines): when a text is read in blocks, that Label may go on in the
/// next block, and its relationships must find their ends there. The caller puts
/// them before the next block's lines (or checks them with the last block).
pub fn split_last_label(items: &mut Vec<Located>) -> Vec<Located> {
    let Some(last) = items.last() else { return Vec::new() };
    let data_row = &last.annotation.data_row;
    let start = items.iter().rposition(|item| item.annotation.data_row != *data_row).map_or(0, |at| at + 1);
    items.split_off(start)
}

/// Where the run of values of the last one's data row starts in `values` (a chunk of
/// a file's dicts): the chunk is cut there, as [`split_last_label`] cuts a block's
/// items, so that the Label goes whole into the next chunk. A value that names no
/// data row (or none that reads) ends a run; when the last does, nothing is held.
pub fn last_label_start<N: Node>(values: &[N]) -> usize {
    let Some(last) = values.last().and_then(data_row_named) else { return values.len() };
    values.iter().rposition(|value| data_row_named(value).as_ref() != Some(&last)).map_or(0, |at| at + 1)
}

/// Reads consecutive lines, the first of them row `first_row`, giving each item read
/// (at most one a line, in order) to `push`.
fn read_rows(
    text: &[u8],
    ranges: &[Range<usize>],
    first_row: usize,
    issues: &mut Issues,
    mut push: impl FnMut(Located),
) {
    let texts = Texts::default();
    for (i, range) in ranges.iter().enumerate() {
        let row = first_row + i;
        let line = &text[range.clone()];
        if let Some(annotation) = quick::read_line(line, &texts) {
            push(Located { row, slot: None, annotation });
            continue;
        }
        issues.set_row(row);
        match json::parse(line) {
            Ok(value) => {
                let node = JsonNode { value: &value, texts: &texts };
                if let Ok(Some(annotation)) = read_annotation(&node, issues) {
                    push(Located { row, slot: None, annotation });
                }
            }
            Err(reason) => issues.report(Code::Unreadable, reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BBox, Body, ClassificationValue, DataRow, Geometry, Mask, MaskColor};

    fn read(text: &str) -> ReadLines {
        read_ndjson(text.as_bytes(), 0, 1, Some(1))
    }

    fn problems(read: &ReadLines) -> Vec<(usize, String, String)> {
        read.batch.issues.listed().iter().map(|i| (i.row, i.path.clone(), i.message.clone())).collect()
    }

    #[test]
    fn lines_become_annotations_in_order_with_their_line_numbers() {
        let text = "\u{feff}{\"uuid\":\"u1\",\"dataRow\":{\"globalKey\":\"a\"},\"name\":\"car\",\"bbox\":{\"top\":1,\"left\":2.5,\"height\":3,\"width\":4}}\r\n\n  \n{\"dataRow\":{\"id\":\"d\"},\"name\":\"q\",\"answer\":{\"name\":\"yes\",\"confidence\":0.5}}\n";
        let read = read(text);
        assert_eq!(read.lines, [1, 4]);
        assert!(read.batch.issues.is_empty(), "{:?}", problems(&read));
        let items = &read.batch.items;
        assert_eq!((items[0].row, items[1].row), (0, 1));
        let a = &items[0].annotation;
        assert_eq!(a.data_row, DataRow::global_key("a"));
        assert_eq!(a.uuid, crate::model::AnnotationId::Given("u1".into()));
        let Body::Object(o) = &a.body else { panic!("an object") };
        assert!(matches!(o.geometry, Geometry::Bbox(BBox::TopLeftHeightWidth([1.0, 2.5, 3.0, 4.0]))));
        let Body::Classification(c) = &items[1].annotation.body else { panic!("a classification") };
        let ClassificationValue::Radio(answer) = &c.value else { panic!("a radio") };
        assert_eq!(answer.scores.confidence, Some(0.5));
    }

    #[test]
    fn a_malformed_line_is_a_problem_of_its_row_and_reading_goes_on() {
        let read = read("{\"dataRow\":{\"id\":\"d\"},\"name\":\"c\",\"point\":{\"x\":1,\"y\":2}}\n{\"a\": tru}\n{\"dataRow\":{\"id\":\"d\"},\"name\":\"c\",\"point\":{\"x\":\"1\",\"y\":2}}\n{\"dataRow\":{\"id\":\"d\"},\"name\":\"c\",\"point\":{\"x\":1,\"y\":2,\"z\":3}}");
        assert_eq!(read.lines, [1, 2, 3, 4]);
        assert_eq!(read.batch.items.len(), 2, "the line with a string coordinate is left out");
        let found = problems(&read);
        assert_eq!(found[0].0, 1);
        assert!(found[0].2.starts_with("not valid JSON: Invalid literal"), "{found:?}");
        assert!(found[0].2.ends_with("(column 10)"), "{found:?}");
        assert_eq!(found[1], (2, "point.x".into(), "expected a number, got str".into()));
        assert_eq!(found[2].1, "point.z");
        assert!(found[2].2.starts_with("unknown key \"z\" in a point"), "{found:?}");
    }

    #[test]
    fn deep_nesting_is_refused_with_its_column_never_a_crash() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        let read = read(&format!("{deep}\n{}", "{\"a\":".repeat(300)));
        let found = problems(&read);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].2, "not valid JSON: nested more than 128 levels deep (column 129)");
        assert_eq!(found[1].0, 1);
        let mut nested = "{\"name\":\"q\",\"answer\":\"t\"}".to_string();
        for _ in 0..40 {
            nested =
                format!("{{\"name\":\"q\",\"answer\":{{\"name\":\"a\",\"classifications\":[{nested}]}}}}");
        }
        let line = format!("{{\"dataRow\":{{\"id\":\"d\"}},\"name\":\"q\",\"answer\":{{\"name\":\"a\",\"classifications\":[{nested}]}}}}");
        let found = problems(&read_ndjson(line.as_bytes(), 0, 1, Some(1)));
        assert!(found[0].2.starts_with("classifications are nested more than 32 levels deep"), "{found:?}");
    }

    #[test]
    fn masks_colours_and_numbers_read_as_the_dict_entrance_reads_them() {
        let read = read(concat!(
            "{\"dataRow\":{\"id\":\"d\"},\"name\":\"m\",\"mask\":{\"instanceURI\":\"https://x/m.png\",\"colorRGB\":[1,2,3]}}\n",
            "{\"dataRow\":{\"id\":\"d\"},\"name\":\"m\",\"mask\":{\"png\":\"iVBORw==\"}}\n",
            "{\"dataRow\":{\"id\":\"d\"},\"name\":\"m\",\"mask\":{\"instanceURI\":\"u\",\"colorRGB\":[1.5,2,3]}}\n",
            "{\"dataRow\":{\"id\":\"d\",\"globalKey\":\"g\"},\"name\":\"p\",\"point\":{\"x\":1e3,\"y\":-2}}\n",
            "{\"dataRow\":{\"id\":\"d\"},\"name\":\"p\",\"point\":{\"x\":1,\"y\":2},\"isBenchmarkReferenceLabel\":1}\n",
        ));
        let items = &read.batch.items;
        let mask = |i: usize| match &items[i].annotation.body {
            Body::Object(o) => match &o.geometry {
                Geometry::Mask(m) => m.clone(),
                _ => panic!("a mask"),
            },
            _ => panic!("an object"),
        };
        assert!(
            matches!(mask(0), Mask::Url { ref uri, color: MaskColor::Rgb([1, 2, 3]) } if uri == "https://x/m.png")
        );
        assert!(matches!(mask(1), Mask::Png(ref png) if png == b"\x89PNG"));
        let found = problems(&read);
        assert_eq!(found[0], (2, "mask.colorRGB".into(), "expected an integer, got float".into()));
        assert_eq!(found[1].0, 3);
        assert!(found[1].2.contains("exactly one of id and global key"), "{found:?}");
        assert_eq!(
            found[2],
            (4, "isBenchmarkReferenceLabel".into(), "expected True or False, got int".into())
        );
        assert_eq!(items.len(), 3, "lines with a value of the wrong type are left out");
        let Body::Object(o) = &items[2].annotation.body else { panic!("an object") };
        assert!(matches!(o.geometry, Geometry::Point(p) if p.x == 1000.0 && p.y == -2.0));
    }

    #[test]
    fn metric_and_relationship_lines_read_by_the_same_key_rules() {
        use crate::model::{End, MetricKind, MetricValue};
        let read = read(concat!(
            "{\"dataRow\":{\"id\":\"d\"},\"metricValue\":0.5,\"metricName\":\"iou\"}\n",
            "{\"dataRow\":{\"id\":\"d\"},\"metricValue\":{\"0.1\":[1,2,3,4],\" 0.5\":[0,0,0,1]},\"featureName\":\"car\"}\n",
            "{\"dataRow\":{\"id\":\"d\"},\"metricValue\":{\"0.5\":1},\"aggregation\":\"CONFUSION_MATRIX\"}\n",
            "{\"uuid\":\"r\",\"dataRow\":{\"id\":\"d\"},\"name\":\"has\",\"relationship\":{\"source\":\"a\",\"target\":\"b\",\"type\":\"bidirectional\",\"readonly\":true}}\n",
            "{\"dataRow\":{\"id\":\"d\"},\"relationship\":{\"source\":\"a\",\"colour\":1}}\n",
            "{\"dataRow\":{\"id\":\"d\"},\"relationship\":{\"target\":\"b\",\"readonly\":1}}\n",
            "{\"dataRow\":{\"id\":\"d\"},\"metricValue\":{\"high\":1}}\n",
            "{\"dataRow\":{\"id\":\"d\"},\"metricValue\":1,\"confidence\":0.5}\n",
            "{\"dataRow\":{\"id\":\"d\"},\"name\":\"c\",\"point\":{\"x\":1,\"y\":2},\"metricName\":\"iou\"}\n",
        ));
        let bodies: Vec<&Body> = read.batch.items.iter().map(|i| &i.annotation.body).collect();
        let Body::Metric(scalar) = bodies[0] else { panic!("a metric") };
        assert_eq!((scalar.kind, &scalar.value), (MetricKind::Scalar, &MetricValue::Single(vec![0.5])));
        assert_eq!(scalar.metric_name.as_deref(), Some("iou"));
        let Body::Metric(matrix) = bodies[1] else { panic!("a metric") };
        let by =
            MetricValue::ByConfidence(vec![(0.1, vec![1.0, 2.0, 3.0, 4.0]), (0.5, vec![0.0, 0.0, 0.0, 1.0])]);
        assert_eq!((matrix.kind, &matrix.value), (MetricKind::ConfusionMatrix, &by));
        let Body::Relationship(r) = bodies[2] else { panic!("a relationship") };
        assert_eq!((&r.source, &r.target), (&Some(End::Uuid("a".into())), &End::Uuid("b".into())));
        assert_eq!(
            (&*r.kind, r.readonly, r.feature.name.as_deref()),
            ("bidirectional", Some(true), Some("has"))
        );
        let Body::Relationship(r) = bodies[3] else { panic!("a relationship") };
        assert_eq!((&*r.kind, &r.target), ("unidirectional", &End::Refused));
        assert_eq!(bodies.len(), 4);
        let mut found = problems(&read);
        // The aggregation names the kind: a confusion matrix wants counts.
        assert_eq!(
            found.remove(0),
            (2, "metricValue[0]".into(), "expected four counts (tp, fp, tn, fn), got int".into())
        );
        assert_eq!(found[0].0, 4);
        assert_eq!(found[0].1, "relationship.colour");
        assert!(found[0].2.starts_with("unknown key \"colour\" in a relationship (expected source, target, type, readonly, sourceOntologyName)"));
        assert_eq!(found[1], (4, "relationship.target".into(), "a relationship needs a target".into()));
        assert_eq!(found[2], (5, "relationship.readonly".into(), "expected true or false, got int".into()));
        assert_eq!(
            found[3],
            (6, "metricValue[0]".into(), "expected a confidence (a number), got str".into())
        );
        assert_eq!(
            found[4],
            (7, "confidence".into(), "a metric line (metricValue) has no confidence".into())
        );
        assert_eq!(
            found[5],
            (8, "metricName".into(), "metricName belongs to a metric line, which needs metricValue".into())
        );
        assert_eq!(found.len(), 6);
    }

    #[test]
    fn the_last_labels_lines_are_held_for_the_next_block() {
        let line = |key: &str, x: u32| {
            format!("{{\"dataRow\":{{\"globalKey\":\"{key}\"}},\"name\":\"c\",\"point\":{{\"x\":{x},\"y\":0}}}}\n")
        };
        let text = [line("a", 0), line("b", 1), line("a", 2), line("a", 3)].concat();
        let mut items = read(&text).batch.items;
        let held = split_last_label(&mut items);
        assert_eq!(held.iter().map(|i| i.row).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(items.iter().map(|i| i.row).collect::<Vec<_>>(), [0, 1]);
        let mut one = read(&line("a", 0)).batch.items;
        assert_eq!(split_last_label(&mut one).len(), 1, "one data row: all held");
        assert!(one.is_empty() && split_last_label(&mut one).is_empty());
    }

    #[test]
    fn line_ends_are_counted_as_the_reader_numbers_lines() {
        let read = read("{}\n\n  \r\n{}");
        assert_eq!(read.lines, [1, 4], "the line after three line ends is line 4");
        assert_eq!(read.line_ends, 3);
    }

    #[test]
    fn a_chunk_of_values_is_cut_where_its_last_label_starts() {
        let value = |row: &str| {
            let text = format!("{{\"dataRow\":{row},\"name\":\"c\",\"point\":{{\"x\":0,\"y\":0}}}}");
            json::parse(text.as_bytes()).unwrap()
        };
        let (a, b) = (r#"{"globalKey":"a"}"#, r#"{"id":"b"}"#);
        let texts = Texts::default();
        let start = |rows: &[&str]| {
            let values: Vec<_> = rows.iter().map(|r| value(r)).collect();
            let nodes: Vec<_> = values.iter().map(|value| JsonNode { value, texts: &texts }).collect();
            last_label_start(&nodes)
        };
        assert_eq!(start(&[a, b, a, a]), 2);
        assert_eq!(start(&[a, a]), 0, "one Label: all of it");
        assert_eq!(start(&[b, "{}", b]), 2, "a data row that does not read ends a run");
        assert_eq!(start(&[a, r#"{"id":"b","globalKey":"b"}"#]), 2, "the last names none: nothing held");
        assert_eq!(start(&[]), 0);
    }

    #[test]
    fn parallel_reading_keeps_file_order() {
        use std::fmt::Write as _;
        let mut text = String::new();
        for i in 0..40_000 {
            if i % 1000 == 7 {
                text.push_str("not json\n");
            } else {
                let _ = writeln!(text, "{{\"dataRow\":{{\"globalKey\":\"k{i}\"}},\"name\":\"c\",\"point\":{{\"x\":{i},\"y\":0}}}}");
            }
        }
        let one = read_ndjson(text.as_bytes(), 5, 10, Some(1));
        let many = read_ndjson(text.as_bytes(), 5, 10, Some(4));
        assert_eq!(many.lines, one.lines);
        assert_eq!(many.lines[39_999], 40_009);
        let keys = |r: &ReadLines| {
            r.batch.items.iter().map(|i| (i.row, i.annotation.data_row.clone())).collect::<Vec<_>>()
        };
        assert_eq!(keys(&many), keys(&one));
        assert_eq!(many.batch.items.len(), 40_000 - 40);
        assert_eq!(problems(&many), problems(&one));
        assert_eq!(problems(&many)[0].0, 5 + 7);
        // Held items go first, and the block's items after them, gaps closed.
        let held = read_ndjson(
            b"{\"dataRow\":{\"globalKey\":\"h\"},\"name\":\"c\",\"point\":{\"x\":1,\"y\":0}}\n",
            0,
            1,
            Some(1),
        );
        let after = read_ndjson_after(held.batch.items, text.as_bytes(), 5, 10, Some(4));
        assert_eq!(after.batch.items.len(), 1 + 40_000 - 40);
        assert_eq!(keys(&after)[0], (0, DataRow::global_key("h")));
        assert_eq!(keys(&after)[1..], keys(&one)[..]);
    }
}
