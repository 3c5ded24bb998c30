//! Reading numpy arrays, for every entrance that takes them (columnar batches, mask
//! stacks, mask images): whatever their dtype and strides, straight into the vectors
//! the core takes, large ones with the GIL released and on all threads.

use lbfast_core::issues::{Code, Issues};
use lbfast_core::mask::Image;
use numpy::{
    dtype, Element, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::intern;
use pyo3::prelude::*;

use crate::extract::type_error;

thread_local! {
    /// The current call's `threads`, for the array conversion deep in the lowering.
    static THREADS: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Sets the current call's `threads`, which large conversions use.
pub fn set_threads(threads: Option<usize>) {
    THREADS.with(|t| t.set(threads));
}

/// Contiguous arrays with at least this many elements are converted on all threads.
const PARALLEL_ELEMENTS: usize = 1 << 20;

/// The array's data as a row-major slice, if it is C-contiguous (`as_slice` also
/// accepts Fortran order, whose memory is column-major).
pub fn c_order<'a, T: numpy::Element, D: numpy::ndarray::Dimension>(
    array: &'a numpy::PyReadonlyArray<'_, T, D>,
) -> Option<&'a [T]> {
    if array.is_c_contiguous() {
        array.as_slice().ok()
    } else {
        None
    }
}

pub fn show_shape(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => {
            format!("({})", shape.iter().map(std::string::ToString::to_string).collect::<Vec<_>>().join(", "))
        }
    }
}

pub fn array<'py>(value: &Bound<'py, PyAny>, issues: &Issues) -> PyResult<Bound<'py, PyUntypedArray>> {
    value.cast::<PyUntypedArray>().cloned().map_err(|_| type_error(issues, "a numpy array", value))
}

/// A numeric element type numpy arrays are read in directly.
pub trait Num: Element + Copy {
    fn to_f64(self) -> f64;
    fn to_i64(self) -> i64;
}

macro_rules! num {
    ($($t:ty),*) => {$(
        // `as`, not `From`: the macro covers dtypes that `From` cannot (f32 -> f64 is
        // lossless, i64 -> f64 is not, both are what the dtype means).
        #[allow(clippy::cast_lossless)]
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
pub fn read_groups<T: Num + Sync, S: Copy + Default, const K: usize, O: Send>(
    array: &Bound<'_, PyUntypedArray>,
    convert: impl Fn(T) -> S + Send + Sync,
    make: impl Fn([S; K]) -> O + Send + Sync,
) -> PyResult<Vec<O>> {
    let typed = array.cast::<PyArrayDyn<T>>()?;
    let readonly = typed.try_readonly()?;
    let contiguous = typed.is_c_contiguous();
    let view = readonly.as_array();
    let threads = THREADS.with(std::cell::Cell::get);
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
                    );
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
pub fn astype<'py>(array: &Bound<'py, PyUntypedArray>, to: &str) -> PyResult<Bound<'py, PyUntypedArray>> {
    Ok(array.call_method1(intern!(array.py(), "astype"), (to,))?.cast_into::<PyUntypedArray>()?)
}

/// A numeric array as `f64` groups of `K`; `None` when it is not numeric.
pub fn float_groups<const K: usize, O: Send>(
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
pub fn int_values(array: &Bound<'_, PyUntypedArray>) -> PyResult<Option<Vec<i64>>> {
    with_dtype!(array, T => read_groups(array, T::to_i64, |[v]: [i64; 1]| v).map(Some),
    [i64, i32, i16, i8, u64, u32, u16, u8],
    if matches!(array.dtype().kind(), b'i' | b'u') {
        read_groups(&astype(array, "int64")?, i64::to_i64, |[v]: [i64; 1]| v).map(Some)
    } else {
        Ok(None)
    })
}

/// A `TypeError` for an array of the wrong kind of values.
pub fn dtype_error(
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
pub fn rows_of<const K: usize, T: Send>(
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
pub fn opt_floats(
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
pub fn ints(value: &Bound<'_, PyAny>, key: &'static str, issues: &mut Issues) -> PyResult<Vec<i64>> {
    let array = issues.at(key, |issues| array(value, issues))?;
    if flat_len(&array, key, issues).is_none() {
        return Ok(Vec::new());
    }
    int_values(&array)?.ok_or_else(|| dtype_error(issues, key, "integers", &array))
}

pub fn opt_ints(
    value: &Bound<'_, PyAny>,
    key: &'static str,
    issues: &mut Issues,
) -> PyResult<Option<Vec<i64>>> {
    if value.is_none() {
        Ok(None)
    } else {
        ints(value, key, issues).map(Some)
    }
}

/// The length of a one-dimensional array (an empty one of any shape is 0); a wrong
/// shape is an issue.
pub fn flat_len(array: &Bound<'_, PyUntypedArray>, key: &'static str, issues: &mut Issues) -> Option<usize> {
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

/// A `uint8` numpy array of shape (H, W) or (H, W, C) to pixels.
pub fn image_of_array(array: &Bound<'_, PyAny>) -> PyResult<Result<Image, String>> {
    let array: PyReadonlyArrayDyn<'_, u8> = match array.extract() {
        Ok(a) => a,
        Err(_) => return Ok(Err("mask array must be a numpy array of dtype uint8".to_string())),
    };
    let shape = array.shape().to_vec();
    let (height, width, channels) = match shape.as_slice() {
        [h, w] => (*h, *w, 1usize),
        [h, w, c] => (*h, *w, *c),
        _ => return Ok(Err(format!("mask array must have shape (H, W) or (H, W, C), got {shape:?}"))),
    };
    if width == 0 || height == 0 || channels == 0 || channels > 4 {
        return Ok(Err(format!("mask array has an unusable shape {shape:?}")));
    }
    let (Ok(w), Ok(h), Ok(c)) = (u32::try_from(width), u32::try_from(height), u8::try_from(channels)) else {
        return Ok(Err(format!("mask array is too large: {shape:?}")));
    };
    // A C-ordered array is one memcpy; as_array() honours the strides of anything else
    // (element by element, about 20 times slower on a 1080p mask).
    let data: Vec<u8> = match array.as_slice() {
        Ok(slice) if array.is_c_contiguous() => slice.to_vec(),
        _ => array.as_array().iter().copied().collect(),
    };
    Ok(Image::from_u8(w, h, c, data))
}
