//! The Arrow PyCapsule interface: tables and batches in from any producer that
//! has `__arrow_c_stream__` or `__arrow_c_array__` (pyarrow, polars, DuckDB,
//! arro3), and record batches out through `__arrow_c_array__`, all through the
//! Arrow C data interface, without pyarrow.

use std::ffi::CStr;
use std::sync::Arc;

use arrow_array::ffi::{from_ffi, to_ffi, FFI_ArrowArray};
use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow_array::{Array, RecordBatch, StructArray};
use arrow_schema::ffi::FFI_ArrowSchema;
use arrow_schema::ArrowError;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

const STREAM: &CStr = c"arrow_array_stream";
const SCHEMA: &CStr = c"arrow_schema";
const ARRAY: &CStr = c"arrow_array";

/// Where batches come from: a stream (tables, readers, data frames), or one batch.
pub enum Source {
    Stream(ArrowArrayStreamReader),
    One(Option<RecordBatch>),
}

pub fn arrow_error(err: ArrowError) -> PyErr {
    PyValueError::new_err(format!("invalid Arrow data: {err}"))
}

impl Source {
    /// Opens `data` by its `__arrow_c_stream__` (preferred: batch by batch) or its
    /// `__arrow_c_array__` (one struct array, a record batch).
    pub fn open(data: &Bound<'_, PyAny>) -> PyResult<Source> {
        let py = data.py();
        if data.hasattr(intern!(py, "__arrow_c_stream__"))? {
            let capsule = data.call_method0(intern!(py, "__arrow_c_stream__"))?;
            let capsule =
                capsule.cast_into::<PyCapsule>().map_err(|_| not_a_capsule("__arrow_c_stream__"))?;
            let pointer = capsule.pointer_checked(Some(STREAM))?;
            // SAFETY: the capsule named arrow_array_stream holds an ArrowArrayStream;
            // from_raw moves it out and marks the capsule's copy released.
            let stream = unsafe { FFI_ArrowArrayStream::from_raw(pointer.as_ptr().cast()) };
            return Ok(Source::Stream(ArrowArrayStreamReader::try_new(stream).map_err(arrow_error)?));
        }
        if data.hasattr(intern!(py, "__arrow_c_array__"))? {
            let pair = data.call_method0(intern!(py, "__arrow_c_array__"))?;
            let pair = pair.cast_into::<PyTuple>().map_err(|_| not_a_capsule("__arrow_c_array__"))?;
            if pair.len() != 2 {
                return Err(not_a_capsule("__arrow_c_array__"));
            }
            let schema =
                pair.get_item(0)?.cast_into::<PyCapsule>().map_err(|_| not_a_capsule("__arrow_c_array__"))?;
            let array =
                pair.get_item(1)?.cast_into::<PyCapsule>().map_err(|_| not_a_capsule("__arrow_c_array__"))?;
            let schema_ptr = schema.pointer_checked(Some(SCHEMA))?;
            let array_ptr = array.pointer_checked(Some(ARRAY))?;
            // SAFETY: the capsules hold a schema and an array by the interface; the
            // schema is borrowed (the capsule keeps it), the array is moved out.
            let data = unsafe {
                let schema: &FFI_ArrowSchema = &*schema_ptr.as_ptr().cast();
                let array = FFI_ArrowArray::from_raw(array_ptr.as_ptr().cast());
                from_ffi(array, schema)
            }
            .map_err(arrow_error)?;
            if !matches!(data.data_type(), arrow_schema::DataType::Struct(_)) {
                return Err(PyTypeError::new_err(format!(
                    "expected a table or record batch (a struct array), got an array of {}",
                    data.data_type()
                )));
            }
            data.validate_full().map_err(arrow_error)?;
            return Ok(Source::One(Some(RecordBatch::from(StructArray::from(data)))));
        }
        let name = data.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        Err(PyTypeError::new_err(format!(
            "expected Arrow data (an object with __arrow_c_stream__ or __arrow_c_array__: a pyarrow \
             Table or RecordBatch, a polars DataFrame, a DuckDB relation), got {name}"
        )))
    }

    /// The next batch, checked to be well formed (so that reading it cannot go
    /// out of bounds, whatever the producer gave).
    pub fn next_batch(&mut self) -> PyResult<Option<RecordBatch>> {
        let batch = match self {
            Source::Stream(reader) => match reader.next() {
                Some(batch) => batch.map_err(arrow_error)?,
                None => return Ok(None),
            },
            Source::One(batch) => match batch.take() {
                Some(batch) => return Ok(Some(batch)),
                None => return Ok(None),
            },
        };
        for column in batch.columns() {
            column.to_data().validate_full().map_err(arrow_error)?;
        }
        Ok(Some(batch))
    }
}

fn not_a_capsule(method: &str) -> PyErr {
    PyTypeError::new_err(format!("{method}() did not return Arrow PyCapsules"))
}

/// A record batch made by lbfast, handed to Arrow consumers through
/// `__arrow_c_array__` (`pyarrow.record_batch(batch)`, `polars.from_arrow`).
#[pyclass(module = "lbfast._core", frozen)]
pub struct ArrowBatch {
    batch: RecordBatch,
}

impl ArrowBatch {
    pub fn new(batch: RecordBatch) -> Self {
        ArrowBatch { batch }
    }
}

#[pymethods]
impl ArrowBatch {
    /// The schema and the batch as a struct array, as two PyCapsules; the
    /// requested schema is ignored (the batch has one layout).
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let _ = requested_schema;
        let data = StructArray::from(self.batch.clone()).into_data();
        let (array, schema) = to_ffi(&data).map_err(arrow_error)?;
        let schema = PyCapsule::new_with_value(py, schema, SCHEMA)?;
        let array = PyCapsule::new_with_value(py, array, ARRAY)?;
        PyTuple::new(py, [schema.into_any(), array.into_any()])
    }

    #[getter]
    fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// The column names, in order.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.batch.schema().fields().iter().map(|f| f.name().clone()).collect()
    }

    fn __len__(&self) -> usize {
        self.batch.num_rows()
    }
}

/// A batch of `columns`, named, in order.
pub fn record_batch(columns: Vec<(&str, Arc<dyn Array>)>) -> PyResult<RecordBatch> {
    RecordBatch::try_from_iter(columns).map_err(arrow_error)
}
