//! Lowering of `lbfast.columnar` batches: arrays are read once, straight into the
//! core's columns, whatever their dtype and strides; no Python object is made per
//! prediction. Shapes are checked here (a wrong one is an issue at the batch's first
//! row); everything else is checked by the core's validator.

use lbfast_core::batch::Batch;
use lbfast_core::columnar::{
    AnswerColumn, BoxColumn, BoxFormat, ClassificationColumns, ColumnKind, Columns, Confidences,
    GeometryColumn, Ids, ObjectColumns, RadioColumn, Ragged,
};
use lbfast_core::issues::{Code, Issues};
use lbfast_core::model::{DataRow, Feature, Pt, Text};
use numpy::{
    dtype, Element, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyType};

use crate::extract::{data_row_or_refused, flag_of, sequence, string_of, type_error};

use crate::tags::{BOXES, CLASSIFICATIONS, POINTS, POLYGONS, POLYLINES};

static BASE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

thread_local! {
    /// The current call's `threads`, for the array conversion deep in the lowering.
    static THREADS: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Contiguous arrays with at least this many elements are converted on all threads.
const PARALLEL_ELEMENTS: usize = 1 << 20;

/// Recognises and lowers columnar batches.
pub struct ColumnarLowering<'py> {
    base: Bound<'py, PyType>,
}

impl<'py> ColumnarLowering<'py> {
    /// `threads`: the call's choice, also used to convert large arrays.
    pub fn new(py: Python<'py>, threads: Option<usize>) -> PyResult<Self> {
        THREADS.with(|t| t.set(threads));
        Ok(ColumnarLowering { base: BASE.import(py, "lbfast.columnar", "_Columns")?.clone() })
    }

    pub fn is_columns(&self, item: &Bound<'py, PyAny>) -> PyResult<bool> {
        item.is_instance(&self.base)
    }

    /// Lowers one batch whose predictions are rows `first_row..`; returns how many
    /// rows it occupies (its number of predictions).
    pub fn lower(&self, batch: &mut Batch, first_row: usize, item: &Bound<'py, PyAny>) -> PyResult<usize> {
        let issues = &mut batch.issues;
        issues.set_row(first_row);
        let before = issues.count_of(Code::Shape);
        let (columns, rows) = read_columns(item, issues)?;
        // A batch with a wrong shape is not checked further: its rows mean nothing.
        if issues.count_of(Code::Shape) == before {
            batch.push_columns(first_row, columns);
        }
        Ok(rows)
    }
}

fn attr<'py>(
    item: &Bound<'py, PyAny>,
    name: &Bound<'py, pyo3::types::PyString>,
) -> PyResult<Bound<'py, PyAny>> {
    item.getattr(name)
}

fn read_columns(item: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<(Columns, usize)> {
    let py = item.py();
    let tag: i64 = attr(item, intern!(py, "_lbcolumnar"))?.extract()?;
    let by_id = attr(item, intern!(py, "data_row_kind"))?.extract::<String>()? == "id";
    let schema_ids = attr(item, intern!(py, "feature_kind"))?.extract::<String>()? == "schema_id";
    let data_rows = issues.at("data_rows", |issues| -> PyResult<Vec<DataRow>> {
        let texts = texts(&attr(item, intern!(py, "data_rows"))?, issues)?;
        Ok(texts
            .into_iter()
            .enumerate()
            .map(|(k, t)| issues.at_index(k, |i| data_row_or_refused(DataRow::from_text(t, by_id), i)))
            .collect())
    })?;
    let features = issues
        .at("features", |issues| features(&attr(item, intern!(py, "features"))?, schema_ids, issues))?;
    let image_index = opt_ints(&attr(item, intern!(py, "image_index"))?, "image_index", issues)?;
    let confidence =
        opt_floats(&attr(item, intern!(py, "confidence"))?, "confidence", issues)?.map(Confidences::from);
    let ids = match attr(item, intern!(py, "_namespace"))? {
        ns if ns.is_none() => Ids::Random,
        ns => {
            let bytes = ns.cast::<PyBytes>().map_err(|_| type_error(issues, "16 namespace bytes", &ns))?;
            let namespace: [u8; 16] = bytes
                .as_bytes()
                .try_into()
                .map_err(|_| PyTypeError::new_err("a uuid namespace must be 16 bytes"))?;
            Ids::Derived(namespace)
        }
    };
    let index_base = match item.getattr_opt(intern!(py, "_start"))? {
        Some(start) => start.extract::<usize>()?,
        None => 0,
    };
    let (kind, rows) = if tag == CLASSIFICATIONS {
        let question = features.into_iter().next().unwrap_or_default();
        classifications(item, question, schema_ids, issues)?
    } else {
        let class_ids = opt_ints(&attr(item, intern!(py, "class_ids"))?, "class_ids", issues)?;
        let (geometry, rows) = geometry(item, tag, issues)?;
        let subclass = match attr(item, intern!(py, "subclass"))? {
            s if s.is_none() => None,
            s => Some(issues.at("subclass", |issues| subclass(&s, issues))?),
        };
        (ColumnKind::Objects(ObjectColumns { features, class_ids, geometry, subclass }), rows)
    };
    Ok((Columns { data_rows, image_index, confidence, ids, index_base, kind }, rows))
}

fn geometry(item: &Bound<'_, PyAny>, tag: i64, issues: &mut Issues) -> PyResult<(GeometryColumn, usize)> {
    let py = item.py();
    Ok(match tag {
        BOXES => {
            let (boxes, rows) = rows_of::<4, _>(&attr(item, intern!(py, "boxes"))?, "boxes", issues, |r| r)?;
            let format = match attr(item, intern!(py, "box_format"))?.extract::<String>()?.as_str() {
                "xywh" => BoxFormat::Xywh,
                "cxcywh" => BoxFormat::Cxcywh,
                _ => BoxFormat::Xyxy,
            };
            let normalized = attr(item, intern!(py, "normalized"))?;
            let normalized = issues.at("normalized", |i| flag_of(&normalized, i))?;
            let sizes = attr(item, intern!(py, "image_sizes"))?;
            let image_sizes = if sizes.is_none() {
                None
            } else {
                Some(rows_of::<2, _>(&sizes, "image_sizes", issues, |r| r)?.0)
            };
            (GeometryColumn::Boxes(BoxColumn { boxes, format, normalized, image_sizes }), rows)
        }
        POINTS => {
            let (points, rows) = rows_of::<2, _>(&attr(item, intern!(py, "points"))?, "points", issues, pt)?;
            (GeometryColumn::Points(points), rows)
        }
        POLYLINES | POLYGONS => {
            let (values, _) = rows_of::<2, _>(&attr(item, intern!(py, "coords"))?, "coords", issues, pt)?;
            let offsets = ints(&attr(item, intern!(py, "offsets"))?, "offsets", issues)?;
            let rows = offsets.len().saturating_sub(1);
            let ragged = Ragged { values, offsets };
            let geometry = if tag == POLYGONS {
                GeometryColumn::Polygons(ragged)
            } else {
                GeometryColumn::Lines(ragged)
            };
            (geometry, rows)
        }
        _ => return Err(type_error(issues, "a columnar batch of lbfast.columnar", item)),
    })
}

fn pt([x, y]: [f64; 2]) -> Pt {
    Pt { x, y }
}

fn subclass(item: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<RadioColumn> {
    let py = item.py();
    let schema_ids = attr(item, intern!(py, "kind"))?.extract::<String>()? == "schema_id";
    let question =
        issues.at("question", |issues| feature(&attr(item, intern!(py, "question"))?, schema_ids, issues))?;
    let answers =
        issues.at("answers", |issues| features(&attr(item, intern!(py, "answers"))?, schema_ids, issues))?;
    let answer_ids = ints(&attr(item, intern!(py, "answer_ids"))?, "answer_ids", issues)?;
    let confidence =
        opt_floats(&attr(item, intern!(py, "confidence"))?, "confidence", issues)?.map(Confidences::from);
    Ok(RadioColumn { question, answers, answer_ids, confidence })
}

fn classifications(
    item: &Bound<'_, PyAny>,
    question: Feature,
    schema_ids: bool,
    issues: &mut Issues,
) -> PyResult<(ColumnKind, usize)> {
    let py = item.py();
    let kind = attr(item, intern!(py, "kind"))?.extract::<String>()?;
    let answers = match attr(item, intern!(py, "answers"))? {
        a if a.is_none() => Vec::new(),
        a => issues.at("answers", |issues| features(&a, schema_ids, issues))?,
    };
    let (value, rows) = match kind.as_str() {
        "text" => {
            let texts: Vec<String> = issues.at("texts", |issues| {
                let items = sequence(&attr(item, intern!(py, "texts"))?, issues, "a list of strings")?;
                items
                    .iter()
                    .enumerate()
                    .map(|(i, t)| issues.at_index(i, |issues| string_of(t, issues)))
                    .collect::<PyResult<Vec<String>>>()
            })?;
            let rows = texts.len();
            (AnswerColumn::Text(texts), rows)
        }
        "checklist" => {
            let values = ints(&attr(item, intern!(py, "answer_ids"))?, "answer_ids", issues)?;
            let offsets = ints(&attr(item, intern!(py, "offsets"))?, "offsets", issues)?;
            let rows = offsets.len().saturating_sub(1);
            (AnswerColumn::Checklist(Ragged { values, offsets }), rows)
        }
        _ => {
            let ids = ints(&attr(item, intern!(py, "answer_ids"))?, "answer_ids", issues)?;
            let rows = ids.len();
            (AnswerColumn::Radio(ids), rows)
        }
    };
    Ok((ColumnKind::Classifications(ClassificationColumns { question, answers, value }), rows))
}

/// A list of strings as shared texts; the current path names the list.
fn texts(value: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Vec<Text>> {
    let items = sequence(value, issues, "a list of strings")?;
    items
        .iter()
        .enumerate()
        .map(|(k, s)| issues.at_index(k, |issues| string_of(s, issues).map(Text::from)))
        .collect()
}

fn feature(value: &Bound<'_, PyAny>, schema_id: bool, issues: &mut Issues) -> PyResult<Feature> {
    let text: Text = string_of(value, issues)?.into();
    Ok(if schema_id { Feature { name: None, schema_id: Some(text) } } else { Feature::named(text) })
}

fn features(value: &Bound<'_, PyAny>, schema_id: bool, issues: &mut Issues) -> PyResult<Vec<Feature>> {
    Ok(texts(value, issues)?
        .into_iter()
        .map(|t| if schema_id { Feature { name: None, schema_id: Some(t) } } else { Feature::named(t) })
        .collect())
}

// --- numpy arrays ---------------------------------------------------------------

fn show_shape(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!("({})", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

fn array<'py>(value: &Bound<'py, PyAny>, issues: &Issues) -> PyResult<Bound<'py, PyUntypedArray>> {
    value.cast::<PyUntypedArray>().cloned().map_err(|_| type_error(issues, "a numpy array", value))
}

/// A numeric element type numpy arrays are read in directly.
trait Num: Element + Copy {
    fn to_f64(self) -> f64;
    fn to_i64(self) -> i64;
}

macro_rules! num {
    ($($t:ty),*) => {$(
        impl Num for $t {
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn to_i64(self) -> i64 {
                // Only integer dtypes are read as integers; past i64::MAX saturates.
                i64::try_from(self as i128).unwrap_or(i64::MAX)
            }
        }
    )*};
}
num!(f32, i64, i32, i16, i8, u64, u32, u16, u8);

impl Num for f64 {
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn to_i64(self) -> i64 {
        self as i64
    }
}

/// Runs `$body` with `$T` the element type of `$array`, for the dtypes read directly;
/// `$other` for any other.
macro_rules! with_dtype {
    ($array:expr, $T:ident => $body:expr, [$($t:ty),*], $other:expr) => {{
        let py = $array.py();
        let dt = $array.dtype();
        $(
            if dt.is_equiv_to(&dtype::<$t>(py)) {
                type $T = $t;
                return $body;
            }
        )*
        $other
    }};
}

/// Arrays at least this long are converted with the GIL released.
const DETACH_ELEMENTS: usize = 1 << 16;

/// The elements of `array` (of element type `T`) converted to `S`, `K` at a time in
/// C order, each group made into one `O`. Large arrays are converted with the GIL
/// released; the read-only borrow (which keeps other Rust code from writing the
/// array) is held outside, and the data is only read.
fn read_groups<T: Num + Sync, S: Copy + Default, const K: usize, O: Send>(
    array: &Bound<'_, PyUntypedArray>,
    convert: impl Fn(T) -> S + Send + Sync,
    make: impl Fn([S; K]) -> O + Send + Sync,
) -> PyResult<Vec<O>> {
    let typed = array.cast::<PyArrayDyn<T>>()?;
    let readonly = typed.try_readonly()?;
    let contiguous = typed.is_c_contiguous();
    let view = readonly.as_array();
    let threads = THREADS.with(|t| t.get());
    let work = move || {
        let mut out = lbfast_core::memory::vec_with_capacity(view.len() / K);
        match view.as_slice() {
            // Large inputs are converted in parallel, straight into place.
            Some(slice) if contiguous && slice.len() >= PARALLEL_ELEMENTS && threads != Some(1) => {
                use rayon::prelude::*;
                lbfast_core::parallel::run_in(threads, || {
                    out.par_extend(
                        slice
                            .par_chunks_exact(K)
                            .map(|group| make(std::array::from_fn(|j| convert(group[j])))),
                    )
                });
            }
            Some(slice) if contiguous => {
                for group in slice.chunks_exact(K) {
                    out.push(make(std::array::from_fn(|j| convert(group[j]))));
                }
            }
            _ => {
                let mut group = [S::default(); K];
                for (k, &x) in view.iter().enumerate() {
                    group[k % K] = convert(x);
                    if k % K == K - 1 {
                        out.push(make(group));
                    }
                }
            }
        }
        out
    };
    Ok(if array.len() >= DETACH_ELEMENTS { array.py().detach(work) } else { work() })
}

/// Converts an array to another dtype in numpy (for dtypes read rarely: float16,
/// long double, non-native byte order).
fn astype<'py>(array: &Bound<'py, PyUntypedArray>, to: &str) -> PyResult<Bound<'py, PyUntypedArray>> {
    Ok(array.call_method1(intern!(array.py(), "astype"), (to,))?.cast_into::<PyUntypedArray>()?)
}

/// A numeric array as `f64` groups of `K`; `None` when it is not numeric.
fn float_groups<const K: usize, O: Send>(
    array: &Bound<'_, PyUntypedArray>,
    make: impl Fn([f64; K]) -> O + Send + Sync,
) -> PyResult<Option<Vec<O>>> {
    with_dtype!(array, T => read_groups(array, T::to_f64, make).map(Some),
    [f64, f32, i64, i32, i16, i8, u64, u32, u16, u8],
    if matches!(array.dtype().kind(), b'f' | b'i' | b'u') {
        read_groups(&astype(array, "float64")?, f64::to_f64, make).map(Some)
    } else {
        Ok(None)
    })
}

/// An integer array as `i64`; `None` when it is not of integers.
fn int_values(array: &Bound<'_, PyUntypedArray>) -> PyResult<Option<Vec<i64>>> {
    with_dtype!(array, T => read_groups(array, T::to_i64, |[v]: [i64; 1]| v).map(Some),
    [i64, i32, i16, i8, u64, u32, u16, u8],
    if matches!(array.dtype().kind(), b'i' | b'u') {
        read_groups(&astype(array, "int64")?, i64::to_i64, |[v]: [i64; 1]| v).map(Some)
    } else {
        Ok(None)
    })
}

/// A `TypeError` for an array of the wrong kind of values.
fn dtype_error(
    issues: &Issues,
    key: &'static str,
    expected: &str,
    array: &Bound<'_, PyUntypedArray>,
) -> PyErr {
    let dtype = array.dtype().str().map(|s| s.to_string()).unwrap_or_default();
    let prefix = issues.current_path();
    let path = if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
    let message = format!("expected {expected}, got an array of dtype {dtype}");
    crate::errors::field_type_error(array.py(), issues.row(), path, message)
}

/// A `(N, K)` array as `N` rows made by `make`; an empty array of any shape is `N = 0`.
/// A wrong shape is an issue (and no rows).
fn rows_of<const K: usize, T: Send>(
    value: &Bound<'_, PyAny>,
    key: &'static str,
    issues: &mut Issues,
    make: impl Fn([f64; K]) -> T + Send + Sync,
) -> PyResult<(Vec<T>, usize)> {
    let array = issues.at(key, |issues| array(value, issues))?;
    let shape = array.shape().to_vec();
    if array.len() == 0 {
        return Ok((Vec::new(), 0));
    }
    if shape.len() != 2 || shape[1] != K {
        issues.report_at(key, Code::Shape, format!("expected shape (N, {K}), got {}", show_shape(&shape)));
        return Ok((Vec::new(), shape.first().copied().unwrap_or(0)));
    }
    match float_groups(&array, make)? {
        Some(out) => Ok((out, shape[0])),
        None => Err(dtype_error(issues, key, "numbers", &array)),
    }
}

/// A `(N,)` array of numbers, or `None`.
fn opt_floats(
    value: &Bound<'_, PyAny>,
    key: &'static str,
    issues: &mut Issues,
) -> PyResult<Option<Vec<f64>>> {
    if value.is_none() {
        return Ok(None);
    }
    let array = issues.at(key, |issues| array(value, issues))?;
    if flat_len(&array, key, issues).is_none() {
        return Ok(Some(Vec::new()));
    }
    match float_groups(&array, |[v]: [f64; 1]| v)? {
        Some(out) => Ok(Some(out)),
        None => Err(dtype_error(issues, key, "numbers", &array)),
    }
}

/// A `(N,)` array of integers.
fn ints(value: &Bound<'_, PyAny>, key: &'static str, issues: &mut Issues) -> PyResult<Vec<i64>> {
    let array = issues.at(key, |issues| array(value, issues))?;
    if flat_len(&array, key, issues).is_none() {
        return Ok(Vec::new());
    }
    int_values(&array)?.ok_or_else(|| dtype_error(issues, key, "integers", &array))
}

fn opt_ints(value: &Bound<'_, PyAny>, key: &'static str, issues: &mut Issues) -> PyResult<Option<Vec<i64>>> {
    if value.is_none() {
        Ok(None)
    } else {
        ints(value, key, issues).map(Some)
    }
}

/// The length of a one-dimensional array (an empty one of any shape is 0); a wrong
/// shape is an issue.
fn flat_len(array: &Bound<'_, PyUntypedArray>, key: &'static str, issues: &mut Issues) -> Option<usize> {
    let shape = array.shape();
    match shape {
        [n] => Some(*n),
        _ if array.len() == 0 => Some(0),
        _ => {
            issues.report_at(key, Code::Shape, format!("expected shape (N,), got {}", show_shape(shape)));
            None
        }
    }
}
