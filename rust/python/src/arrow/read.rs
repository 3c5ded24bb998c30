//! One Arrow record batch read into the core's [`Columns`], as the column map says:
//! the same columns the numpy entrance makes, checked by the same rules and written
//! by the same writer. Values are read straight from the Arrow buffers (no Python
//! object per row). A null in a required column, a list of the wrong length or a
//! missing column is recorded as an issue at its row and column; a column of a
//! layout that cannot mean what the map says is a [`WrongLayout`].

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_buffer::NullBuffer;
use lbfast_core::columnar::{
    AnswerColumn, BoxColumn, ClassificationColumns, ColumnKind, Columns, Confidences, GeometryColumn,
    MetricColumn, ObjectColumns, RadioColumn, Ragged,
};
use lbfast_core::issues::{Code, Issues, MAX_LISTED};
use lbfast_core::mask_rows::{MaskRows, RowMask};
use lbfast_core::model::{DataRow, Feature, Pt, Text};
use lbfast_core::rle;

use super::arrays::{floats, intern, ints, xy, Binaries, Layout, Lists, StringColumn};
use super::spec::{Geometry, Names, Spec};

/// A column whose Arrow type cannot mean what the map says (a `TypeError`).
#[derive(Debug)]
pub struct WrongLayout {
    pub column: String,
    pub expected: Layout,
    pub got: String,
}

/// A batch read: its columns (or mask rows), and where their listed things first occur.
pub struct Read {
    pub lowered: Lowered,
    pub origins: Origins,
}

/// What a batch becomes: columns for the columnar writer, or a mask per row.
pub enum Lowered {
    Columns(Columns),
    /// Mask rows, and the name of their mask column.
    Masks(MaskRows, String),
}

/// The batch row where each data row, feature and answer of the columns first
/// occurs, for naming the rows of problems found in those lists.
#[derive(Default)]
#[allow(clippy::struct_field_names, reason = "each list's rows: data rows, features, answers")]
pub struct Origins {
    pub data_row_rows: Vec<usize>,
    pub feature_rows: Vec<usize>,
    pub answer_rows: Vec<usize>,
}

struct Reader<'b> {
    batch: &'b RecordBatch,
    first_row: usize,
    issues: Issues,
    /// Whether the values read mean something (no missing column, no wrong length).
    usable: bool,
}

type R<T> = Result<T, WrongLayout>;

/// Distinct things (features, data rows), each row's index into them, and the row
/// where each first occurs.
type Listed<T> = (Vec<T>, Vec<i64>, Vec<usize>);

/// Reads `batch`, whose row 0 is row `first_row` of the whole input. Problems found
/// are returned with the columns; `None` columns when nothing can be checked.
pub fn read(spec: &Spec, batch: &RecordBatch, first_row: usize) -> R<(Option<Read>, Issues)> {
    let mut r = Reader { batch, first_row, issues: Issues::with_limit(MAX_LISTED), usable: true };
    let read = r.columns(spec)?;
    let read = read.filter(|_| r.usable);
    Ok((read, r.issues))
}

impl<'b> Reader<'b> {
    fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    fn column(&mut self, name: &str) -> Option<&'b ArrayRef> {
        let found = self.batch.column_by_name(name);
        if found.is_none() {
            let names: Vec<&str> =
                self.batch.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
            self.issues.set_row(self.first_row);
            self.issues.push_owned_key(name.to_string());
            self.issues.report(Code::Missing, format!("no such column; the table has {}", names.join(", ")));
            self.usable = false;
        }
        found
    }

    fn wrong(column: &str, expected: Layout, array: &dyn Array) -> WrongLayout {
        WrongLayout { column: column.to_string(), expected, got: array.data_type().to_string() }
    }

    /// Reports a problem at row `i` (of the batch), column `name`.
    fn report(&mut self, i: usize, name: &str, code: Code, message: impl Into<String>) {
        self.issues.set_row(self.first_row + i);
        self.issues.push_owned_key(name.to_string());
        self.issues.report(code, message);
        self.issues.pop();
    }

    /// Reports every null row of a required column.
    fn refuse_nulls(&mut self, name: &str, nulls: Option<&NullBuffer>) {
        let Some(nulls) = nulls else { return };
        for i in (0..self.rows()).filter(|&i| nulls.is_null(i)) {
            self.report(i, name, Code::Missing, "null in a required column");
        }
    }

    fn numbers(&mut self, name: &str) -> R<Option<Vec<f64>>> {
        let Some(array) = self.column(name) else { return Ok(None) };
        let values = floats(array.as_ref()).map_err(|e| Self::wrong(name, e, array.as_ref()))?;
        self.refuse_nulls(name, array.logical_nulls().as_ref());
        Ok(Some(values))
    }

    fn confidences(&mut self, name: Option<&String>) -> R<Option<Confidences>> {
        let Some(name) = name else { return Ok(None) };
        // A checklist's confidences: a list per prediction, one per chosen answer.
        self.nullable_numbers(name, true)
    }

    /// A mask per row: PNG bytes (Binary, LargeBinary, BinaryView), or a COCO RLE
    /// `Struct{size: [height, width], counts}` whose counts are the compressed string
    /// or a list of run lengths. A null or unreadable mask is reported at its row.
    fn masks(&mut self, name: &str) -> R<Option<Vec<Option<RowMask>>>> {
        let Some(array) = self.column(name) else { return Ok(None) };
        let nulls = array.logical_nulls();
        let rows = self.rows();
        let mut masks = Vec::with_capacity(rows);
        if let Some(binary) = Binaries::of(array.as_ref()) {
            for i in 0..rows {
                let null = nulls.as_ref().is_some_and(|n| n.is_null(i));
                masks.push((!null).then(|| RowMask::Png(binary.value(i).to_vec())));
            }
        } else if let Some(rles) = array.as_struct_opt() {
            let wrong = || Self::wrong(name, RLE, array.as_ref());
            let size = rles.column_by_name("size").ok_or_else(wrong)?;
            let counts = rles.column_by_name("counts").ok_or_else(wrong)?;
            let sizes = Lists::of(size.as_ref()).ok_or_else(wrong)?;
            let size_values = ints(sizes.child.as_ref()).map_err(|_| wrong())?;
            let counts = Counts::of(counts.as_ref()).ok_or_else(wrong)?;
            for i in 0..rows {
                if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                    masks.push(None);
                    continue;
                }
                let read = match &size_values[sizes.bounds(i)] {
                    &[h, w] if h >= 0 && w >= 0 => counts.row(i).map(|counts| RowMask::Rle {
                        height: h as usize,
                        width: w as usize,
                        counts,
                    }),
                    other => Err(format!("an RLE size must be [height, width], got {other:?}")),
                };
                match read {
                    Ok(mask) => masks.push(Some(mask)),
                    Err(reason) => {
                        self.report(i, name, Code::MaskImage, reason);
                        masks.push(None);
                    }
                }
            }
        } else {
            return Err(Self::wrong(name, MASKS, array.as_ref()));
        }
        self.refuse_nulls(name, nulls.as_ref());
        Ok(Some(masks))
    }

    /// A number per row, a null meaning "none" (confidences, custom metrics); with
    /// `lists`, a list column's numbers, all of them.
    fn nullable_numbers(&mut self, name: &str, lists: bool) -> R<Option<Confidences>> {
        let Some(array) = self.column(name) else { return Ok(None) };
        let numbers = match Lists::of(array.as_ref()).filter(|_| lists) {
            Some(lists) => lists.child,
            None => ArrayRef::clone(array),
        };
        let values = floats(numbers.as_ref()).map_err(|e| Self::wrong(name, e, array.as_ref()))?;
        let present = numbers.logical_nulls().map(|n| n.iter().collect());
        Ok(Some(Confidences { values, present }))
    }

    /// Features, answers: from a string column (made distinct) or an index column.
    /// Returns the list, each row's index into it and the first row of each entry.
    fn names(&mut self, names: &Names) -> R<Option<Listed<Feature>>> {
        let Some(array) = self.column(names.column()) else { return Ok(None) };
        let nulls = array.logical_nulls();
        self.refuse_nulls(names.column(), nulls.as_ref());
        Ok(Some(match names {
            Names::Indices { column, list } => {
                let ids = ints(array.as_ref()).map_err(|e| Self::wrong(column, e, array.as_ref()))?;
                (list.clone(), ids, Vec::new())
            }
            Names::Column { column, schema_ids } => {
                let strings =
                    StringColumn::of(array.as_ref()).map_err(|e| Self::wrong(column, e, array.as_ref()))?;
                let interned = intern(&strings, self.rows(), nulls.as_ref());
                let features = interned.texts.iter().map(|t| feature(t, *schema_ids)).collect();
                (features, interned.index, interned.first)
            }
        }))
    }

    /// The data rows, each row's index into them, and the first row of each. With
    /// sizes (normalised boxes), a data row is kept per distinct size.
    fn data_rows(&mut self, spec: &Spec, sizes: Option<&(Vec<f64>, Vec<f64>)>) -> R<Option<Listed<DataRow>>> {
        let name = &spec.data_row;
        let Some(array) = self.column(name) else { return Ok(None) };
        let strings = StringColumn::of(array.as_ref()).map_err(|e| Self::wrong(name, e, array.as_ref()))?;
        let nulls = array.logical_nulls();
        let (mut data_rows, mut index, mut first) = (Vec::new(), Vec::with_capacity(self.rows()), Vec::new());
        // Predictions come grouped by image: a row like the one before reuses its data row.
        let mut last: Option<(&str, [f64; 2])> = None;
        let mut by_key: Vec<i64> = match &strings {
            StringColumn::Dictionary { values, .. } if sizes.is_none() => vec![-1; values.len()],
            _ => Vec::new(),
        };
        for i in 0..self.rows() {
            if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                self.report(i, name, Code::Missing, "null in a required column");
                index.push(0);
                continue;
            }
            let text = strings.value(i);
            let size = sizes.map_or([0.0; 2], |(w, h)| [w[i], h[i]]);
            if last.is_some_and(|(t, s)| t == text && s == size) {
                index.push(data_rows.len() as i64 - 1);
                continue;
            }
            last = Some((text, size));
            if let StringColumn::Dictionary { keys, .. } = &strings {
                if let Some(&known) = by_key.get(keys[i]).filter(|&&k| k >= 0) {
                    index.push(known);
                    last = None;
                    continue;
                }
                if let Some(slot) = by_key.get_mut(keys[i]) {
                    *slot = data_rows.len() as i64;
                }
            }
            let data_row = match DataRow::from_text(Text::from(text), spec.by_id) {
                Ok(d) => d,
                Err(problem) => {
                    self.report(i, name, problem.code, problem.message);
                    DataRow::refused()
                }
            };
            index.push(data_rows.len() as i64);
            data_rows.push(data_row);
            first.push(i);
        }
        Ok(Some((data_rows, index, first)))
    }

    /// Rows of exactly `K` numbers: one list column, or `K` number columns.
    fn fixed<const K: usize>(&mut self, columns: &[String], expected: Layout) -> R<Option<Vec<[f64; K]>>> {
        let n = self.rows();
        if columns.len() == K {
            let mut parts = Vec::with_capacity(K);
            for name in columns {
                match self.numbers(name)? {
                    Some(values) => parts.push(values),
                    None => return Ok(None),
                }
            }
            return Ok(Some((0..n).map(|i| std::array::from_fn(|k| parts[k][i])).collect()));
        }
        let name = columns.first().map_or("", String::as_str);
        let Some(array) = self.column(name) else { return Ok(None) };
        if K == 2 {
            if let Some(pairs) = xy(array.as_ref()) {
                let (x, y, nulls) = pairs.map_err(|e| Self::wrong(name, e, array.as_ref()))?;
                self.refuse_nulls(name, nulls.as_ref());
                return Ok(Some(
                    (0..n).map(|i| std::array::from_fn(|k| if k == 0 { x[i] } else { y[i] })).collect(),
                ));
            }
        }
        let lists = Lists::of(array.as_ref()).ok_or_else(|| Self::wrong(name, expected, array.as_ref()))?;
        let values = floats(lists.child.as_ref()).map_err(|_| Self::wrong(name, expected, array.as_ref()))?;
        let child_nulls = lists.child.logical_nulls();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let bounds = lists.bounds(i);
            let null = lists.nulls.as_ref().is_some_and(|l| l.is_null(i))
                || child_nulls.as_ref().is_some_and(|c| bounds.clone().any(|j| c.is_null(j)));
            if null {
                self.report(i, name, Code::Missing, "null in a required column");
                out.push([0.0; K]);
            } else if bounds.len() != K {
                self.report(i, name, Code::Shape, format!("expected {K} numbers, got {}", bounds.len()));
                self.usable = false;
                out.push([0.0; K]);
            } else {
                out.push(std::array::from_fn(|k| values[bounds.start + k]));
            }
        }
        Ok(Some(out))
    }

    /// Lines and polygons: a list per row of `Struct{x, y}`, of pairs, or of flat
    /// `x0, y0, x1, y1, ...` numbers.
    fn ragged_points(&mut self, name: &str) -> R<Option<Ragged<Pt>>> {
        const EXPECTED: Layout =
            "a List or LargeList of Struct{x, y}, of lists of 2 numbers, or of numbers (x0, y0, x1, y1, ...)";
        let Some(array) = self.column(name) else { return Ok(None) };
        let lists = Lists::of(array.as_ref()).ok_or_else(|| Self::wrong(name, EXPECTED, array.as_ref()))?;
        let child = lists.child.as_ref();
        let (points, child_nulls, per_point): (Vec<Pt>, Option<NullBuffer>, usize) =
            if let Some(pairs) = xy(child) {
                let (x, y, nulls) = pairs.map_err(|e| Self::wrong(name, e, array.as_ref()))?;
                (x.iter().zip(&y).map(|(&x, &y)| Pt { x, y }).collect(), nulls, 1)
            } else if let Some(inner) = Lists::of(child) {
                let values =
                    floats(inner.child.as_ref()).map_err(|_| Self::wrong(name, EXPECTED, array.as_ref()))?;
                let number_nulls = inner.child.logical_nulls();
                let mut points = Vec::with_capacity(inner.rows());
                let mut valid = Vec::with_capacity(inner.rows());
                let mut bad = Vec::new();
                for j in 0..inner.rows() {
                    let b = inner.bounds(j);
                    valid.push(
                        !inner.nulls.as_ref().is_some_and(|l| l.is_null(j))
                            && !number_nulls.as_ref().is_some_and(|c| b.clone().any(|k| c.is_null(k))),
                    );
                    if b.len() == 2 {
                        points.push(Pt { x: values[b.start], y: values[b.start + 1] });
                    } else {
                        bad.push((j, b.len()));
                        points.push(Pt { x: 0.0, y: 0.0 });
                    }
                }
                for (j, len) in bad {
                    let row = lists.offsets.partition_point(|&o| o as usize <= j) - 1;
                    self.report(row, name, Code::Shape, format!("expected points of 2 numbers, got {len}"));
                    self.usable = false;
                }
                let nulls = valid.iter().any(|v| !v).then(|| NullBuffer::from(valid));
                (points, nulls, 1)
            } else {
                let values = floats(child).map_err(|_| Self::wrong(name, EXPECTED, array.as_ref()))?;
                let points = values.chunks_exact(2).map(|p| Pt { x: p[0], y: p[1] }).collect();
                (points, child.logical_nulls(), 2)
            };
        let mut offsets = Vec::with_capacity(lists.offsets.len());
        offsets.push(0);
        for i in 0..lists.rows() {
            let bounds = lists.bounds(i);
            let null = lists.nulls.as_ref().is_some_and(|l| l.is_null(i))
                || child_nulls.as_ref().is_some_and(|c| bounds.clone().any(|j| c.is_null(j)));
            if null {
                self.report(i, name, Code::Missing, "null in a required column");
            }
            if bounds.len() % per_point != 0 {
                let message = format!("expected an even count of numbers (x, y pairs), got {}", bounds.len());
                self.report(i, name, Code::Shape, message);
                self.usable = false;
            }
            offsets.push((bounds.end / per_point) as i64);
        }
        Ok(Some(Ragged { values: points, offsets }))
    }

    fn columns(&mut self, spec: &Spec) -> R<Option<Read>> {
        if self.rows() == 0 {
            return Ok(None);
        }
        let sizes = match &spec.geometry {
            Geometry::Box { normalized: true, size: Some([w, h]), .. } => {
                match (self.numbers(w)?, self.numbers(h)?) {
                    (Some(w), Some(h)) => Some((w, h)),
                    _ => return Ok(None),
                }
            }
            _ => None,
        };
        let Some((data_rows, image_index, data_row_rows)) = self.data_rows(spec, sizes.as_ref())? else {
            return Ok(None);
        };
        let confidence = self.confidences(spec.confidence.as_ref())?;
        let (mut feature_rows, mut answer_rows) = (Vec::new(), Vec::new());
        let kind = match &spec.geometry {
            Geometry::Radio { .. } | Geometry::Checklist { .. } | Geometry::Text { .. } => {
                let Some((answers, value)) = self.answers(&spec.geometry, &mut answer_rows)? else {
                    return Ok(None);
                };
                ColumnKind::Classifications(ClassificationColumns {
                    question: spec.question.clone(),
                    answers,
                    value,
                })
            }
            geometry => {
                let Some(names) = &spec.features else { return Ok(None) };
                let Some((features, class_ids, first)) = self.names(names)? else { return Ok(None) };
                feature_rows = first;
                let mut custom_metrics = Vec::with_capacity(spec.custom_metrics.len());
                for (name, column) in &spec.custom_metrics {
                    let Some(values) = self.nullable_numbers(column, false)? else { return Ok(None) };
                    custom_metrics.push(MetricColumn { name: name.clone(), values });
                }
                if let Geometry::Mask { column } = geometry {
                    let Some(masks) = self.masks(column)? else { return Ok(None) };
                    let rows = MaskRows {
                        data_rows,
                        image_index,
                        features,
                        class_ids,
                        confidence,
                        custom_metrics,
                        masks,
                        ids: spec.ids,
                        index_base: self.first_row,
                    };
                    let origins = Origins { data_row_rows, feature_rows, answer_rows };
                    return Ok(Some(Read { lowered: Lowered::Masks(rows, column.clone()), origins }));
                }
                let Some(geometry) = self.geometry(geometry, sizes, &data_row_rows)? else { return Ok(None) };
                let subclass = match &spec.subclass {
                    Some(s) => {
                        let Some((answers, answer_ids, first)) = self.names(&s.answers)? else {
                            return Ok(None);
                        };
                        answer_rows = first;
                        let confidence = self.confidences(s.confidence.as_ref())?;
                        Some(RadioColumn { question: s.question.clone(), answers, answer_ids, confidence })
                    }
                    None => None,
                };
                ColumnKind::Objects(ObjectColumns {
                    features,
                    class_ids: Some(class_ids),
                    geometry,
                    subclass,
                    custom_metrics,
                })
            }
        };
        let columns = Columns {
            data_rows,
            // A refused data row is reported where the table names it (`data_rows`).
            refused_data_rows: Vec::new(),
            image_index: Some(image_index),
            confidence,
            ids: spec.ids,
            index_base: self.first_row,
            kind,
        };
        let origins = Origins { data_row_rows, feature_rows, answer_rows };
        Ok(Some(Read { lowered: Lowered::Columns(columns), origins }))
    }

    fn geometry(
        &mut self,
        geometry: &Geometry,
        sizes: Option<(Vec<f64>, Vec<f64>)>,
        data_row_rows: &[usize],
    ) -> R<Option<GeometryColumn>> {
        Ok(Some(match geometry {
            Geometry::Box { columns, format, normalized, .. } => {
                let expected =
                    "a list of 4 numbers (FixedSizeList, List or LargeList), or four number columns";
                let Some(boxes) = self.fixed::<4>(columns, expected)? else { return Ok(None) };
                // One (width, height) per data row: that of its first row.
                let image_sizes = sizes.map(|(w, h)| data_row_rows.iter().map(|&i| [w[i], h[i]]).collect());
                GeometryColumn::Boxes(BoxColumn {
                    boxes,
                    format: *format,
                    normalized: *normalized,
                    image_sizes,
                })
            }
            Geometry::Point { columns } => {
                let expected = "Struct{x, y}, a list of 2 numbers, or two number columns";
                let Some(points) = self.fixed::<2>(columns, expected)? else { return Ok(None) };
                GeometryColumn::Points(points.into_iter().map(|[x, y]| Pt { x, y }).collect())
            }
            Geometry::Line { column } => match self.ragged_points(column)? {
                Some(r) => GeometryColumn::Lines(r),
                None => return Ok(None),
            },
            Geometry::Polygon { column } => match self.ragged_points(column)? {
                Some(r) => GeometryColumn::Polygons(r),
                None => return Ok(None),
            },
            Geometry::Radio { .. }
            | Geometry::Checklist { .. }
            | Geometry::Text { .. }
            | Geometry::Mask { .. } => return Ok(None),
        }))
    }

    fn answers(
        &mut self,
        geometry: &Geometry,
        answer_rows: &mut Vec<usize>,
    ) -> R<Option<(Vec<Feature>, AnswerColumn)>> {
        Ok(Some(match geometry {
            Geometry::Radio { answers } => {
                let Some((answers, ids, first)) = self.names(answers)? else { return Ok(None) };
                *answer_rows = first;
                (answers, AnswerColumn::Radio(ids))
            }
            Geometry::Checklist { answers } => {
                let name = answers.column();
                let Some(array) = self.column(name) else { return Ok(None) };
                let expected = "a List or LargeList of answers (strings or indices)";
                let lists =
                    Lists::of(array.as_ref()).ok_or_else(|| Self::wrong(name, expected, array.as_ref()))?;
                self.refuse_nulls(name, lists.nulls.as_ref());
                let child_nulls = lists.child.logical_nulls();
                let (list, values) = match answers {
                    Names::Indices { list, .. } => (
                        list.clone(),
                        ints(lists.child.as_ref()).map_err(|e| Self::wrong(name, e, array.as_ref()))?,
                    ),
                    Names::Column { schema_ids, .. } => {
                        let strings = StringColumn::of(lists.child.as_ref())
                            .map_err(|e| Self::wrong(name, e, array.as_ref()))?;
                        let interned = intern(&strings, lists.child.len(), child_nulls.as_ref());
                        let features = interned.texts.iter().map(|t| feature(t, *schema_ids)).collect();
                        (features, interned.index)
                    }
                };
                if let Some(nulls) = &child_nulls {
                    for i in 0..lists.rows() {
                        if lists.bounds(i).any(|j| nulls.is_null(j)) {
                            self.report(i, name, Code::Missing, "null answer in a required column");
                        }
                    }
                }
                (list, AnswerColumn::Checklist(Ragged { values, offsets: lists.offsets }))
            }
            Geometry::Text { column } => {
                let Some(array) = self.column(column) else { return Ok(None) };
                let strings =
                    StringColumn::of(array.as_ref()).map_err(|e| Self::wrong(column, e, array.as_ref()))?;
                self.refuse_nulls(column, array.logical_nulls().as_ref());
                let texts = (0..self.rows()).map(|i| strings.value(i).to_string()).collect();
                (Vec::new(), AnswerColumn::Text(texts))
            }
            _ => return Ok(None),
        }))
    }
}

const MASKS: Layout = "PNG bytes (Binary, LargeBinary or BinaryView) or a COCO RLE Struct{size, counts}";
const RLE: Layout =
    "a COCO RLE Struct{size: list of [height, width], counts: a string or a list of integers}";

/// RLE counts: the compressed COCO string, or a list of run lengths.
enum Counts<'a> {
    Compressed(StringColumn<'a>),
    Runs(Lists, Vec<i64>),
}

impl<'a> Counts<'a> {
    fn of(array: &'a dyn Array) -> Option<Self> {
        if let Ok(strings) = StringColumn::of(array) {
            return Some(Counts::Compressed(strings));
        }
        let lists = Lists::of(array)?;
        let runs = ints(lists.child.as_ref()).ok()?;
        Some(Counts::Runs(lists, runs))
    }

    fn row(&self, i: usize) -> Result<Vec<u32>, String> {
        match self {
            Counts::Compressed(strings) => rle::from_string(strings.value(i).as_bytes()),
            Counts::Runs(lists, runs) => runs[lists.bounds(i)]
                .iter()
                .map(|&c| {
                    u32::try_from(c).map_err(|_| format!("an RLE count must be within [0, 2^32), got {c}"))
                })
                .collect(),
        }
    }
}

fn feature(text: &str, schema_id: bool) -> Feature {
    if schema_id {
        Feature { name: None, schema_id: Some(text.into()) }
    } else {
        Feature::named(text)
    }
}
