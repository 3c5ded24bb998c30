//! The hottest typed objects as native classes. A box is four objects and a polygon
//! one per vertex, so `Point` is built and read far more than any other: as a Rust
//! class it is cheaper to construct, and the lowering reads its coordinates directly.

use pyo3::basic::CompareOp;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyFloat, PyList, PyString, PyTuple, PyType};

/// A pixel position; `x` from the left edge, `y` from the top. Coordinates are
/// stored as floats (as the SDK's `Point` does); anything `float()` accepts works.
#[pyclass(module = "lbfast.types", name = "Point", subclass)]
pub struct Point {
    #[pyo3(get, set)]
    pub x: f64,
    #[pyo3(get, set)]
    pub y: f64,
    #[pyo3(get, set)]
    pub extra: Option<Py<PyAny>>,
}

#[pymethods]
impl Point {
    #[new]
    #[pyo3(signature = (x, y, extra = None))]
    fn new(x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>, extra: Option<Py<PyAny>>) -> PyResult<Self> {
        Ok(Point { x: coordinate(x, "x")?, y: coordinate(y, "y")?, extra })
    }

    /// The tag the lowering dispatches on (see `lbfast/types.py`).
    #[classattr]
    #[pyo3(name = "_lbkind")]
    fn lbkind() -> i64 {
        crate::tags::POINT
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let x = PyFloat::new(py, self.x).repr()?;
        let y = PyFloat::new(py, self.y).repr()?;
        Ok(match &self.extra {
            Some(extra) => format!("Point(x={x}, y={y}, extra={})", extra.bind(py).repr()?),
            None => format!("Point(x={x}, y={y})"),
        })
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.cast::<Point>() else {
            return Ok(py.NotImplemented());
        };
        let other = other.borrow();
        let equal = self.x == other.x
            && self.y == other.y
            && optional_eq(py, self.extra.as_ref(), other.extra.as_ref())?;
        compare_result(py, equal, op)
    }

    /// Pickling: rebuild from the constructor's arguments.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let this = slf.borrow();
        let extra = this.extra.as_ref().map(|e| e.clone_ref(py));
        let args = (this.x, this.y, extra).into_pyobject(py)?;
        Ok((slf.get_type(), args))
    }
}

/// A box by two opposite corners, in any order.
#[pyclass(module = "lbfast.types", name = "Rectangle", subclass)]
pub struct Rectangle {
    #[pyo3(get, set)]
    pub start: Py<PyAny>,
    #[pyo3(get, set)]
    pub end: Py<PyAny>,
    #[pyo3(get, set)]
    pub extra: Option<Py<PyAny>>,
    /// A box read from NDJSON: its top, left, height and width exactly as read, which
    /// the corners cannot always hold (`top + height - top` may differ in its last
    /// bit). Written as read for as long as the corners are those it was read with.
    pub wire: Option<[f64; 4]>,
}

impl Rectangle {
    /// A box read as top, left, height and width.
    pub fn from_wire(py: Python<'_>, tlhw: [f64; 4]) -> PyResult<Rectangle> {
        let [top, left, height, width] = tlhw;
        let start = Py::new(py, Point { x: left, y: top, extra: None })?.into_any();
        let end = Py::new(py, Point { x: left + width, y: top + height, extra: None })?.into_any();
        Ok(Rectangle { start, end, extra: None, wire: Some(tlhw) })
    }

    /// The box as read, when its corners are still those it was read with.
    pub fn unchanged_wire(&self, start: (f64, f64), end: (f64, f64)) -> Option<[f64; 4]> {
        let [top, left, height, width] = self.wire?;
        (start == (left, top) && end == (left + width, top + height)).then_some([top, left, height, width])
    }
}

#[pymethods]
impl Rectangle {
    #[new]
    #[pyo3(signature = (start, end, extra = None))]
    fn new(start: Py<PyAny>, end: Py<PyAny>, extra: Option<Py<PyAny>>) -> Self {
        Rectangle { start, end, extra, wire: None }
    }

    /// A box from its top-left corner, height and width.
    #[classmethod]
    fn from_xyhw<'py>(
        cls: &Bound<'py, PyType>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
        h: &Bound<'py, PyAny>,
        w: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = cls.py();
        let start = Point { x: coordinate(x, "x")?, y: coordinate(y, "y")?, extra: None };
        let end = Point { x: start.x + coordinate(w, "w")?, y: start.y + coordinate(h, "h")?, extra: None };
        cls.call1((Py::new(py, start)?, Py::new(py, end)?))
    }

    #[classattr]
    #[pyo3(name = "_lbkind")]
    fn lbkind() -> i64 {
        crate::tags::RECTANGLE
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let (start, end) = (self.start.bind(py).repr()?, self.end.bind(py).repr()?);
        Ok(match &self.extra {
            Some(extra) => format!("Rectangle(start={start}, end={end}, extra={})", extra.bind(py).repr()?),
            None => format!("Rectangle(start={start}, end={end})"),
        })
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.cast::<Rectangle>() else {
            return Ok(py.NotImplemented());
        };
        let other = other.borrow();
        let equal = self.start.bind(py).eq(other.start.bind(py))?
            && self.end.bind(py).eq(other.end.bind(py))?
            && optional_eq(py, self.extra.as_ref(), other.extra.as_ref())?;
        compare_result(py, equal, op)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let this = slf.borrow();
        let extra = this.extra.as_ref().map(|e| e.clone_ref(py));
        let args = (this.start.clone_ref(py), this.end.clone_ref(py), extra).into_pyobject(py)?;
        Ok((slf.get_type(), args))
    }
}

/// A geometry (box, point, line, polygon, mask) of one feature, with optional nesting.
#[pyclass(module = "lbfast.types", name = "ObjectAnnotation", subclass)]
pub struct ObjectAnnotation {
    #[pyo3(get, set)]
    pub value: Py<PyAny>,
    #[pyo3(get, set)]
    pub name: Option<Py<PyAny>>,
    #[pyo3(get, set)]
    pub feature_schema_id: Option<Py<PyAny>>,
    #[pyo3(get, set)]
    pub confidence: Option<Py<PyAny>>,
    #[pyo3(get, set)]
    pub custom_metrics: Option<Py<PyAny>>,
    /// Made on first read when not given (see the getters).
    #[pyo3(set)]
    pub classifications: Option<Py<PyAny>>,
    #[pyo3(set)]
    pub extra: Option<Py<PyAny>>,
}

impl ObjectAnnotation {
    /// name, `feature_schema_id`, confidence, `custom_metrics`, value, classifications.
    pub fn fields<'py>(&self, py: Python<'py>) -> [Bound<'py, PyAny>; 6] {
        let none = || py.None().into_bound(py);
        let opt = |v: &Option<Py<PyAny>>| v.as_ref().map_or_else(none, |v| v.bind(py).clone());
        [
            opt(&self.name),
            opt(&self.feature_schema_id),
            opt(&self.confidence),
            opt(&self.custom_metrics),
            self.value.bind(py).clone(),
            opt(&self.classifications),
        ]
    }
}

#[pymethods]
impl ObjectAnnotation {
    /// Nothing is checked here: the batch is checked as a whole when written.
    #[new]
    #[pyo3(signature = (value, name = None, feature_schema_id = None, confidence = None,
                        custom_metrics = None, classifications = None, extra = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        value: Py<PyAny>,
        name: Option<Py<PyAny>>,
        feature_schema_id: Option<Py<PyAny>>,
        confidence: Option<Py<PyAny>>,
        custom_metrics: Option<Py<PyAny>>,
        classifications: Option<Py<PyAny>>,
        extra: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        Ok(ObjectAnnotation {
            value,
            name,
            feature_schema_id,
            confidence,
            custom_metrics,
            classifications,
            extra,
        })
    }

    /// As in the SDK, an annotation without classifications has its own empty list,
    /// so appending to it is safe; it is made when first read, which keeps building
    /// millions of annotations cheap.
    #[getter]
    fn classifications(&mut self, py: Python<'_>) -> Py<PyAny> {
        self.classifications.get_or_insert_with(|| PyList::empty(py).into_any().unbind()).clone_ref(py)
    }

    /// `extra` (for `{"uuid": ...}`), an empty dict of its own when not given.
    #[getter]
    fn extra(&mut self, py: Python<'_>) -> Py<PyAny> {
        self.extra.get_or_insert_with(|| PyDict::new(py).into_any().unbind()).clone_ref(py)
    }

    #[classattr]
    #[pyo3(name = "_lbkind")]
    fn lbkind() -> i64 {
        crate::tags::OBJECT_ANNOTATION
    }

    fn __repr__(&mut self, py: Python<'_>) -> PyResult<String> {
        let mut parts = Vec::new();
        for (key, value) in self.named(py) {
            if !value.is_none() {
                parts.push(format!("{key}={}", value.repr()?));
            }
        }
        Ok(format!("ObjectAnnotation({})", parts.join(", ")))
    }

    fn __richcmp__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.cast::<ObjectAnnotation>() else {
            return Ok(py.NotImplemented());
        };
        let mine = slf.borrow_mut().named(py);
        let theirs = if other.is(slf) { mine.clone() } else { other.borrow_mut().named(py) };
        let mut equal = true;
        for ((_, a), (_, b)) in mine.into_iter().zip(theirs) {
            if !a.eq(&b)? {
                equal = false;
                break;
            }
        }
        compare_result(py, equal, op)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let values: Vec<Bound<'py, PyAny>> = slf.borrow_mut().named(py).into_iter().map(|(_, v)| v).collect();
        Ok((slf.get_type(), PyTuple::new(py, values)?))
    }
}

impl ObjectAnnotation {
    /// The fields in constructor order, with their names.
    fn named<'py>(&mut self, py: Python<'py>) -> [(&'static str, Bound<'py, PyAny>); 7] {
        let classifications = self.classifications(py).into_bound(py);
        let extra = self.extra(py).into_bound(py);
        let [name, schema_id, confidence, metrics, value, _] = self.fields(py);
        [
            ("value", value),
            ("name", name),
            ("feature_schema_id", schema_id),
            ("confidence", confidence),
            ("custom_metrics", metrics),
            ("classifications", classifications),
            ("extra", extra),
        ]
    }
}

fn optional_eq(py: Python<'_>, a: Option<&Py<PyAny>>, b: Option<&Py<PyAny>>) -> PyResult<bool> {
    match (a, b) {
        (None, None) => Ok(true),
        (Some(a), Some(b)) => a.bind(py).eq(b.bind(py)),
        _ => Ok(false),
    }
}

/// `==` and `!=` from equality; other comparisons are not defined.
fn compare_result(py: Python<'_>, equal: bool, op: CompareOp) -> PyResult<Py<PyAny>> {
    Ok(match op {
        CompareOp::Eq => equal.into_pyobject(py)?.to_owned().into_any().unbind(),
        CompareOp::Ne => (!equal).into_pyobject(py)?.to_owned().into_any().unbind(),
        _ => py.NotImplemented(),
    })
}

/// A coordinate as a float, or a `TypeError` naming it (strings are refused, as
/// `"3.5"` is more likely a bug than a coordinate).
fn coordinate(value: &Bound<'_, PyAny>, name: &str) -> PyResult<f64> {
    if let Ok(f) = value.cast::<PyFloat>() {
        return Ok(f.value());
    }
    // Complex numbers would lose their imaginary part.
    let not_text = !value.is_instance_of::<PyString>()
        && !value.is_instance_of::<PyBytes>()
        && !crate::extract::is_complex(value);
    if let Some(Ok(v)) = not_text.then(|| value.extract::<f64>()) {
        Ok(v)
    } else {
        let got = value.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        Err(PyTypeError::new_err(format!("coordinate {name} must be a number, got {got}")))
    }
}
