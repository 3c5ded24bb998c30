//! Masks from numpy without a Python object per instance (`lbfast.masks`): colour
//! discovery, COCO RLE, and the lowering of `InstanceMasks` and `InstanceMap`.

use std::collections::HashMap;

use lbfast_core::batch::Batch;
use lbfast_core::colors;
use lbfast_core::issues::{Code, Issues};
use lbfast_core::mask;
use lbfast_core::model::{DataRow, Text};
use lbfast_core::rle;
use lbfast_core::stacks::{push_id, IdMap, InstanceStack, StackOptions};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyMemoryError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

use crate::arrays::{c_order, int_values, opt_floats, opt_ints};
use crate::extract::{
    data_row_or_refused, f64_of, flag_of, i64_of, opt_fresh_text, opt_text, sequence, type_error,
};

// ---- colour discovery --------------------------------------------------------------

/// `[(colour, count, (x0, y0, x1, y1))]` of a PNG (bytes) or a uint8/uint16 array of
/// shape (H, W) or (H, W, C), sorted by colour. Gray colours are ints.
#[pyfunction]
#[pyo3(signature = (image, /, *, max_mask_pixels = None))]
fn mask_colors<'py>(
    py: Python<'py>,
    image: &Bound<'py, PyAny>,
    max_mask_pixels: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let max_pixels = crate::options::pixel_cap("max_mask_pixels", max_mask_pixels)?;
    let index = if let Ok(bytes) = image.cast::<PyBytes>() {
        let bytes = bytes.as_bytes();
        let limit = max_pixels.unwrap_or(mask::DEFAULT_MAX_PIXELS);
        py.detach(|| mask::decode_png(bytes, limit).and_then(|image| colors::try_index_image(&image)))
    } else if let Ok(array) = image.extract::<PyReadonlyArrayDyn<'py, u8>>() {
        let (w, h, c) = image_shape(array.shape())?;
        if let Some(data) = c_order(&array) {
            py.detach(|| colors::try_index_u8(w, h, c, data))
        } else {
            let data: Vec<u8> = array.as_array().iter().copied().collect();
            py.detach(|| colors::try_index_u8(w, h, c, &data))
        }
    } else if let Ok(array) = image.extract::<PyReadonlyArrayDyn<'py, u16>>() {
        let (w, h, c) = image_shape(array.shape())?;
        let data: Vec<u16> = match c_order(&array) {
            Some(data) => data.to_vec(),
            None => array.as_array().iter().copied().collect(),
        };
        py.detach(|| colors::try_index_u16(w, h, c, &data))
    } else {
        return Err(PyTypeError::new_err(
            "expected PNG bytes or a numpy array of dtype uint8 or uint16, shape (H, W) or (H, W, C)",
        ));
    };
    let index = index.map_err(value_or_memory_error)?;
    let out = PyList::empty(py);
    for stat in &index.colors {
        let color = if index.gray {
            stat.rgb[0].into_pyobject(py)?.into_any()
        } else {
            PyTuple::new(py, stat.rgb)?.into_any()
        };
        let [x0, y0, x1, y1] = stat.bbox;
        out.append((color, stat.count, (x0, y0, x1, y1)))?;
    }
    Ok(out)
}

/// A core error as a `MemoryError` when memory ran out, else as a `ValueError`.
fn value_or_memory_error(message: String) -> PyErr {
    if lbfast_core::memory::is_out_of_memory(&message) {
        PyMemoryError::new_err(message)
    } else {
        PyValueError::new_err(message)
    }
}

fn image_shape(shape: &[usize]) -> PyResult<(u32, u32, u8)> {
    let (h, w, c) = match *shape {
        [h, w] => (h, w, 1),
        [h, w, c] if (1..=4).contains(&c) => (h, w, c),
        _ => {
            return Err(PyValueError::new_err(format!(
                "expected an image of shape (H, W) or (H, W, C) with 1 to 4 channels, got {shape:?}"
            )))
        }
    };
    match (u32::try_from(w), u32::try_from(h)) {
        (Ok(w), Ok(h)) => Ok((w, h, c as u8)),
        _ => Err(PyValueError::new_err(format!("image of shape {shape:?} is too large"))),
    }
}

// ---- COCO RLE -----------------------------------------------------------------------

/// Uncompressed counts of every mask of a uint8 array (H, W) or (N, H, W), in any
/// memory order; `None` in place of the list for a 2-D array.
fn encode_counts(
    py: Python<'_>,
    array: &PyReadonlyArrayDyn<'_, u8>,
) -> PyResult<(usize, usize, Vec<Vec<u32>>)> {
    let shape = array.shape().to_vec();
    let (n, h, w) = match shape[..] {
        [h, w] => (1, h, w),
        [n, h, w] => (n, h, w),
        _ => {
            return Err(PyValueError::new_err(format!(
                "expected a mask of shape (H, W) or (N, H, W), got {shape:?}"
            )))
        }
    };
    let plane = h * w;
    let encoded: Result<Vec<Vec<u32>>, String> = if let Some(data) = c_order(array) {
        py.detach(|| (0..n).map(|i| rle::encode(&data[i * plane..(i + 1) * plane], h, w)).collect())
    } else if let (2, true, Ok(data)) = (shape.len(), array.is_fortran_contiguous(), array.as_slice()) {
        // A Fortran-ordered mask (what pycocotools wants) is already column-major.
        py.detach(|| Ok(vec![rle::encode_column_major(data, h, w)?]))
    } else {
        let data: Vec<u8> = array.as_array().iter().copied().collect();
        py.detach(|| (0..n).map(|i| rle::encode(&data[i * plane..(i + 1) * plane], h, w)).collect())
    };
    Ok((h, w, encoded.map_err(PyValueError::new_err)?))
}

/// `rle_encode(mask (H, W) or (N, H, W) uint8, compressed)`: a COCO RLE dict, or a
/// list of them for a stack.
#[pyfunction]
#[pyo3(signature = (mask, /, *, compressed = true))]
fn rle_encode<'py>(
    py: Python<'py>,
    mask: &Bound<'py, PyAny>,
    compressed: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let array = mask
        .extract::<PyReadonlyArrayDyn<'py, u8>>()
        .map_err(|_| PyTypeError::new_err("expected a numpy array of dtype bool or uint8"))?;
    let stacked = array.ndim() == 3;
    let (h, w, all) = encode_counts(py, &array)?;
    let texts: Option<Vec<String>> =
        compressed.then(|| py.detach(|| all.iter().map(|c| rle::to_string(c)).collect()));
    let out = PyList::empty(py);
    for (i, counts) in all.iter().enumerate() {
        let dict = PyDict::new(py);
        dict.set_item(intern!(py, "size"), [h, w])?;
        match &texts {
            Some(texts) => dict.set_item(intern!(py, "counts"), &texts[i])?,
            None => dict.set_item(intern!(py, "counts"), counts)?,
        }
        out.append(dict)?;
    }
    if stacked {
        Ok(out.into_any())
    } else {
        out.get_item(0)
    }
}

/// Counts from a string, bytes, or a sequence of ints (the uncompressed form).
fn counts_of(counts: &Bound<'_, PyAny>) -> PyResult<Vec<u32>> {
    let parsed = if let Ok(s) = counts.cast::<PyString>() {
        rle::from_string(s.to_str()?.as_bytes())
    } else if let Ok(b) = counts.cast::<PyBytes>() {
        rle::from_string(b.as_bytes())
    } else if let Ok(array) = counts.extract::<PyReadonlyArray1<'_, i64>>() {
        array.as_array().iter().map(|&c| count_of(c)).collect()
    } else {
        let items = counts
            .try_iter()
            .map_err(|_| PyTypeError::new_err("RLE counts must be a string, bytes or a list of ints"))?;
        let mut out = Vec::new();
        for item in items {
            let item = item?;
            let value: i64 = item
                .extract()
                .map_err(|_| PyTypeError::new_err("RLE counts must be a string, bytes or a list of ints"))?;
            match count_of(value) {
                Ok(c) => out.push(c),
                Err(e) => return Err(PyValueError::new_err(e)),
            }
        }
        Ok(out)
    };
    parsed.map_err(PyValueError::new_err)
}

fn count_of(value: i64) -> Result<u32, String> {
    u32::try_from(value).map_err(|_| format!("RLE count {value} is outside 0..2^32"))
}

/// `rle_decode(h, w, counts, max_mask_pixels=2**28)`: the (H, W) uint8 0/1 mask, row-major.
/// A size above `max_mask_pixels` is a `ValueError` before anything is allocated (a few
/// bytes of counts can describe gigabytes); memory that is not there, a `MemoryError`.
#[pyfunction]
#[pyo3(signature = (height, width, counts, /, *, max_mask_pixels = None))]
fn rle_decode<'py>(
    py: Python<'py>,
    height: usize,
    width: usize,
    counts: &Bound<'py, PyAny>,
    max_mask_pixels: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let limit =
        crate::options::pixel_cap("max_mask_pixels", max_mask_pixels)?.unwrap_or(mask::DEFAULT_MAX_PIXELS);
    let pixels = (height as u64).saturating_mul(width as u64);
    if pixels > limit {
        return Err(PyValueError::new_err(format!(
            "RLE size {height}x{width} = {pixels} pixels is above the limit of {limit} (max_mask_pixels)"
        )));
    }
    let counts = counts_of(counts)?;
    let mask = py.detach(|| rle::decode(&counts, height, width)).map_err(value_or_memory_error)?;
    let array =
        Array2::from_shape_vec((height, width), mask).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(array.into_pyarray(py))
}

/// The compressed string of any counts.
#[pyfunction]
fn rle_compress(counts: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(rle::to_string(&counts_of(counts)?))
}

#[pyfunction]
fn rle_area(counts: &Bound<'_, PyAny>) -> PyResult<u64> {
    Ok(rle::area(&counts_of(counts)?))
}

#[pyfunction]
fn rle_bbox(height: usize, counts: &Bound<'_, PyAny>) -> PyResult<[f64; 4]> {
    Ok(rle::bbox(&counts_of(counts)?, height))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(mask_colors, m)?)?;
    m.add_function(wrap_pyfunction!(rle_encode, m)?)?;
    m.add_function(wrap_pyfunction!(rle_decode, m)?)?;
    m.add_function(wrap_pyfunction!(rle_compress, m)?)?;
    m.add_function(wrap_pyfunction!(rle_area, m)?)?;
    m.add_function(wrap_pyfunction!(rle_bbox, m)?)?;
    Ok(())
}

// ---- InstanceMasks / InstanceMap lowering -------------------------------------------

static INSTANCE_MASKS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static INSTANCE_MAP: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The mask item classes of `lbfast.masks` (looked up once per process).
pub struct MaskItems<'py> {
    instance_masks: Bound<'py, PyAny>,
    instance_map: Bound<'py, PyAny>,
    /// Masks larger than this (`max_mask_pixels`) are refused, as PNGs are.
    max_pixels: u64,
}

impl<'py> MaskItems<'py> {
    pub fn new(py: Python<'py>, max_pixels: u64) -> PyResult<Self> {
        Ok(MaskItems {
            instance_masks: INSTANCE_MASKS.import(py, "lbfast.masks", "InstanceMasks")?.clone().into_any(),
            instance_map: INSTANCE_MAP.import(py, "lbfast.masks", "InstanceMap")?.clone().into_any(),
            max_pixels,
        })
    }

    /// Lowers `item` if it is an `InstanceMasks` or `InstanceMap`; `false` otherwise.
    pub fn lower(&self, batch: &mut Batch, row: usize, item: &Bound<'py, PyAny>) -> PyResult<Option<usize>> {
        if item.is_instance(&self.instance_masks)? {
            batch.issues.set_row(row);
            lower_instance_masks(batch, row, item, self.max_pixels).map(Some)
        } else if item.is_instance(&self.instance_map)? {
            batch.issues.set_row(row);
            lower_instance_map(batch, row, item, self.max_pixels)?;
            Ok(Some(1))
        } else {
            Ok(None)
        }
    }
}

fn at_index<T>(issues: &mut Issues, key: &'static str, i: usize, f: impl FnOnce(&mut Issues) -> T) -> T {
    issues.push_key(key);
    issues.push_index(i);
    let out = f(issues);
    issues.pop();
    issues.pop();
    out
}

/// `data_row_kind`: "`global_key`" (the default) or "id".
fn by_id(item: &Bound<'_, PyAny>, issues: &Issues) -> PyResult<bool> {
    let kind = item.getattr(intern!(item.py(), "data_row_kind"))?;
    match kind.extract::<String>().as_deref() {
        Ok("global_key") => Ok(false),
        Ok("id") => Ok(true),
        _ => Err(type_error(issues, "data_row_kind \"global_key\" or \"id\"", &kind)),
    }
}

/// `image_size`: `None`, one `(width, height)`, or one per data row.
fn image_sizes(
    value: &Bound<'_, PyAny>,
    rows: usize,
    issues: &mut Issues,
) -> PyResult<Option<Vec<(i64, i64)>>> {
    if value.is_none() {
        return Ok(None);
    }
    issues.at("image_size", |issues| {
        let items = sequence(value, issues, "(width, height) or a list of them")?;
        let pair = |v: &Bound<'_, PyAny>, issues: &Issues| -> PyResult<(i64, i64)> {
            let p = sequence(v, issues, "(width, height)")?;
            if p.len() != 2 {
                return Err(type_error(issues, "(width, height)", v));
            }
            Ok((i64_of(&p[0], issues)?, i64_of(&p[1], issues)?))
        };
        if items.len() == 2 && items[0].extract::<i64>().is_ok() {
            let size = pair(value, issues)?;
            return Ok(Some(vec![size; rows]));
        }
        if items.len() != rows {
            issues.report(Code::Length, format!("has {} sizes, but there are {rows} data rows", items.len()));
            return Ok(None);
        }
        items.iter().map(|v| pair(v, issues)).collect::<PyResult<Vec<_>>>().map(Some)
    })
}

/// A `TypeError` naming the row and `key`.
fn type_error_at(issues: &mut Issues, key: &'static str, expected: &str, value: &Bound<'_, PyAny>) -> PyErr {
    issues.push_key(key);
    let err = type_error(issues, expected, value);
    issues.pop();
    err
}

/// Reports (at `key`) masks of more than `max_pixels` pixels: their PNGs would be
/// refused when read back, and each instance takes that much memory to encode.
/// `with_boxes` and `skip_empty` of a mask item (each `True` or `False`), with the cap.
fn options_of(item: &Bound<'_, PyAny>, max_pixels: u64, issues: &mut Issues) -> PyResult<StackOptions> {
    let py = item.py();
    let with_boxes = item.getattr(intern!(py, "with_boxes"))?;
    let skip_empty = item.getattr(intern!(py, "skip_empty"))?;
    Ok(StackOptions {
        with_boxes: issues.at("with_boxes", |i| flag_of(&with_boxes, i))?,
        skip_empty: issues.at("skip_empty", |i| flag_of(&skip_empty, i))?,
        max_pixels,
    })
}

fn texts_of(value: &Bound<'_, PyAny>, issues: &mut Issues, what: &str) -> PyResult<Vec<Text>> {
    let items = sequence(value, issues, what)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        issues.push_index(i);
        let text = opt_text(item, issues);
        issues.pop();
        if let Some(t) = text? {
            out.push(t);
        } else {
            issues.push_index(i);
            let err = type_error(issues, "a string", item);
            issues.pop();
            return Err(err);
        }
    }
    Ok(out)
}

fn lower_instance_masks(
    batch: &mut Batch,
    row: usize,
    item: &Bound<'_, PyAny>,
    max_pixels: u64,
) -> PyResult<usize> {
    let py = item.py();
    let issues = &mut batch.issues;
    let masks_obj = item.getattr(intern!(py, "masks"))?;
    let masks = masks_obj
        .extract::<PyReadonlyArrayDyn<'_, u8>>()
        .map_err(|_| type_error_at(issues, "masks", "a numpy array of dtype bool or uint8", &masks_obj))?;
    let shape = masks.shape().to_vec();
    let [n, height, width] = shape[..] else {
        issues.report_at("masks", Code::Shape, format!("expected shape (N, H, W), got {shape:?}"));
        return Ok(1);
    };
    let by_id = by_id(item, issues)?;
    let data_rows =
        issues.at("data_rows", |i| texts_of(&item.getattr("data_rows")?, i, "a list of strings"))?;
    let data_rows: Vec<DataRow> = data_rows
        .into_iter()
        .enumerate()
        .map(|(k, text)| {
            at_index(issues, "data_rows", k, |i| data_row_or_refused(DataRow::from_text(text, by_id), i))
        })
        .collect();
    let features =
        issues.at("features", |i| texts_of(&item.getattr("features")?, i, "a list of feature names"))?;
    let image_index = opt_ints(&item.getattr(intern!(py, "image_index"))?, "image_index", issues)?;
    let class_ids = opt_ints(&item.getattr(intern!(py, "class_ids"))?, "class_ids", issues)?;
    let confidence = opt_floats(&item.getattr(intern!(py, "confidence"))?, "confidence", issues)?;
    let image_sizes = image_sizes(&item.getattr("image_size")?, data_rows.len(), issues)?;
    let options = options_of(item, max_pixels, issues)?;
    let copied: Vec<u8>;
    let planes = if let Some(data) = c_order(&masks) {
        data
    } else {
        copied = masks.as_array().iter().copied().collect();
        &copied
    };
    let stack = InstanceStack {
        planes,
        n,
        height,
        width,
        data_rows,
        features,
        image_index,
        class_ids,
        confidence,
        image_sizes,
    };
    let items = &mut batch.items;
    py.detach(|| stack.lower(row, options, issues, items));
    // One row per instance (at least one), as a columnar batch takes one per prediction.
    Ok(n.max(1))
}

// ---- InstanceMap ----

/// The id map as `(height, width, ids)`, whatever its integer dtype; `None` when it
/// is not a 2-D array of integers.
fn ids_of(value: &Bound<'_, PyAny>) -> PyResult<Option<(usize, usize, Vec<i64>)>> {
    let Ok(array) = value.cast::<numpy::PyUntypedArray>() else { return Ok(None) };
    let [h, w] = array.shape()[..] else { return Ok(None) };
    Ok(int_values(array)?.map(|ids| (h, w, ids)))
}

fn lower_instance_map(
    batch: &mut Batch,
    row: usize,
    item: &Bound<'_, PyAny>,
    max_pixels: u64,
) -> PyResult<()> {
    let py = item.py();
    let issues = &mut batch.issues;
    let map_obj = item.getattr(intern!(py, "id_map"))?;
    let Some((height, width, ids)) = ids_of(&map_obj)? else {
        return Err(type_error_at(issues, "id_map", "a 2-D numpy array of integers", &map_obj));
    };
    let by_id = by_id(item, issues)?;
    let data_row = issues.at("data_row", |i| opt_fresh_text(&item.getattr("data_row")?, i))?;
    let data_row = issues.at("data_row", |i| {
        data_row_or_refused(DataRow::from_text(data_row.unwrap_or_else(|| Text::from("")), by_id), i)
    });
    // features: {id: name}, in the dict's order.
    let features_obj = item.getattr(intern!(py, "features"))?;
    let features_dict = features_obj
        .cast::<PyDict>()
        .map_err(|_| type_error_at(issues, "features", "a dict {id: feature name}", &features_obj))?;
    let mut features: Vec<(i64, Text)> = Vec::with_capacity(features_dict.len());
    issues.push_key("features");
    for (key, value) in features_dict.iter() {
        let read = (|| {
            let id = i64_of(&key, issues)?;
            push_id(issues, id);
            let name = opt_text(&value, issues);
            let name = match name {
                Ok(Some(name)) => Ok(name),
                Ok(None) => Err(type_error(issues, "a feature name", &value)),
                Err(e) => Err(e),
            };
            issues.pop();
            name.map(|name| (id, name))
        })();
        match read {
            Ok(entry) => features.push(entry),
            Err(e) => {
                issues.pop();
                return Err(e);
            }
        }
    }
    issues.pop();
    let confidence_obj = item.getattr(intern!(py, "confidence"))?;
    let mut confidence: HashMap<i64, f64> = HashMap::new();
    if !confidence_obj.is_none() {
        let dict = confidence_obj
            .cast::<PyDict>()
            .map_err(|_| type_error_at(issues, "confidence", "a dict {id: confidence}", &confidence_obj))?;
        for (key, value) in dict.iter() {
            let id = issues.at("confidence", |i| i64_of(&key, i))?;
            let c = issues.at("confidence", |i| f64_of(&value, i))?;
            confidence.insert(id, c);
        }
    }
    let image_size = image_sizes(&item.getattr("image_size")?, 1, issues)?.map(|sizes| sizes[0]);
    let options = options_of(item, max_pixels, issues)?;
    let map = IdMap { ids: &ids, height, width, data_row, features, confidence, image_size };
    let items = &mut batch.items;
    py.detach(|| map.lower(row, options, issues, items));
    Ok(())
}

// ---- helpers of the typed path (lower_typed.rs) --------------------------------------

/// `Label.image_size`: `None` or `(width, height)`, which the Label's masks must have.
pub fn label_image_size(label: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<Option<(i64, i64)>> {
    let Some(value) = label.getattr_opt(intern!(label.py(), "image_size"))? else {
        return Ok(None);
    };
    if value.is_none() {
        return Ok(None);
    }
    issues.at("image_size", |issues| {
        let pair = sequence(&value, issues, "(width, height)")?;
        if pair.len() != 2 {
            return Err(type_error(issues, "(width, height)", &value));
        }
        Ok(Some((i64_of(&pair[0], issues)?, i64_of(&pair[1], issues)?)))
    })
}
