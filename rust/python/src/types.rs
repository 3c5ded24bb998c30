//! The hottest typed objects as native classes. A box is four objects and a polygon
//! one per vertex, so `Point` is built and read far more than any other: as a Rust
//! class it is cheaper to construct, and the lowering reads its coordinates directly.

use pyo3::basic::CompareOp;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyFloat, PyString, PyTuple, PyType};

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
        crate::lower_typed::POINT
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
        let extras_equal = match (&self.extra, &other.extra) {
            (None, None) => true,
            (Some(a), Some(b)) => a.bind(py).eq(b.bind(py))?,
            _ => false,
        };
        let equal = self.x == other.x && self.y == other.y && extras_equal;
        Ok(match op {
            CompareOp::Eq => equal.into_pyobject(py)?.to_owned().into_any().unbind(),
            CompareOp::Ne => (!equal).into_pyobject(py)?.to_owned().into_any().unbind(),
            _ => py.NotImplemented(),
        })
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

/// A coordinate as a float, or a `TypeError` naming it (strings are refused, as
/// `"3.5"` is more likely a bug than a coordinate).
fn coordinate(value: &Bound<'_, PyAny>, name: &str) -> PyResult<f64> {
    if let Ok(f) = value.cast::<PyFloat>() {
        return Ok(f.value());
    }
    let not_text = !value.is_instance_of::<PyString>() && !value.is_instance_of::<PyBytes>();
    match value.extract::<f64>() {
        Ok(v) if not_text => Ok(v),
        _ => {
            let got = value.get_type().name().map(|n| n.to_string()).unwrap_or_default();
            Err(PyTypeError::new_err(format!("Point {name} must be a number, got {got}")))
        }
    }
}
