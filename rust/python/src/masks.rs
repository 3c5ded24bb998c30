//! Masks from numpy without a Python object per instance (`lbfast.masks`): colour
//! discovery, COCO RLE, and the lowering of `InstanceMasks` and `InstanceMap`.

use std::collections::HashMap;
use std::sync::Arc;

use lbfast_core::batch::{Batch, Located};
use lbfast_core::colors::{self, ColorIndex, ColorStat};
use lbfast_core::issues::{Code, Issues};
use lbfast_core::mask::{self, Image};
use lbfast_core::model::{
    Annotation, AnnotationId, BBox, Body, DataRow, Feature, Geometry, Marks, Mask, MaskColor, Object, Scores,
    Text,
};
use lbfast_core::rle;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyMemoryError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::extract::{
    data_row_or_refused, f64_of, flag_of, i64_of, opt_fresh_text, opt_text, sequence, type_error,
};

/// The array's data as a row-major slice, if it is C-contiguous (`as_slice` also
/// accepts Fortran order, whose memory is column-major).
fn c_order<'a, T: numpy::Element, D: numpy::ndarray::Dimension>(
    array: &'a numpy::PyReadonlyArray<'_, T, D>,
) -> Option<&'a [T]> {
    if array.is_c_contiguous() {
        array.as_slice().ok()
    } else {
        None
    }
}

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
        match c_order(&array) {
            Some(data) => py.detach(|| colors::try_index_u8(w, h, c, data)),
            None => {
                let data: Vec<u8> = array.as_array().iter().copied().collect();
                py.detach(|| colors::try_index_u8(w, h, c, &data))
            }
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

/// The mask item classes of `lbfast.masks`, looked up once per `dumps` call.
pub struct MaskItems<'py> {
    instance_masks: Bound<'py, PyAny>,
    instance_map: Bound<'py, PyAny>,
    /// Masks larger than this (`max_mask_pixels`) are refused, as PNGs are.
    max_pixels: u64,
}

impl<'py> MaskItems<'py> {
    pub fn new(py: Python<'py>, max_pixels: u64) -> PyResult<Self> {
        let module = py.import(intern!(py, "lbfast.masks"))?;
        Ok(MaskItems {
            instance_masks: module.getattr(intern!(py, "InstanceMasks"))?,
            instance_map: module.getattr(intern!(py, "InstanceMap"))?,
            max_pixels,
        })
    }

    /// Lowers `item` if it is an `InstanceMasks` or `InstanceMap`; `false` otherwise.
    pub fn lower(&self, batch: &mut Batch, row: usize, item: &Bound<'py, PyAny>) -> PyResult<bool> {
        if item.is_instance(&self.instance_masks)? {
            batch.issues.set_row(row);
            lower_instance_masks(batch, row, item, self.max_pixels)?;
            Ok(true)
        } else if item.is_instance(&self.instance_map)? {
            batch.issues.set_row(row);
            lower_instance_map(batch, row, item, self.max_pixels)?;
            Ok(true)
        } else {
            Ok(false)
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

/// Puts a dict's int key on the path: `features[7]`.
fn push_id(issues: &mut Issues, id: i64) {
    match usize::try_from(id) {
        Ok(i) => issues.push_index(i),
        Err(_) => issues.push_owned_key(format!("[{id}]")),
    }
}

/// `data_row_kind`: "global_key" (the default) or "id".
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

fn optional_array<'py, T: numpy::Element>(
    item: &Bound<'py, PyAny>,
    name: &'static str,
    issues: &mut Issues,
) -> PyResult<Option<PyReadonlyArray1<'py, T>>> {
    let value = item.getattr(name)?;
    if value.is_none() {
        return Ok(None);
    }
    match value.extract::<PyReadonlyArray1<'py, T>>() {
        Ok(array) => Ok(Some(array)),
        Err(_) => Err(type_error_at(issues, name, "a 1-D numpy array", &value)),
    }
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
fn over_cap(issues: &mut Issues, key: &'static str, w: usize, h: usize, max_pixels: u64) -> bool {
    let pixels = (w as u64).saturating_mul(h as u64);
    if pixels <= max_pixels {
        return false;
    }
    issues.report_at(
        key,
        Code::MaskImage,
        format!("masks of {w}x{h} = {pixels} pixels are above the limit of {max_pixels} (max_mask_pixels)"),
    );
    true
}

/// `(with_boxes, skip_empty)` of a mask item, each `True` or `False`.
fn options_of(item: &Bound<'_, PyAny>, issues: &mut Issues) -> PyResult<(bool, bool)> {
    let py = item.py();
    let with_boxes = item.getattr(intern!(py, "with_boxes"))?;
    let skip_empty = item.getattr(intern!(py, "skip_empty"))?;
    Ok((
        issues.at("with_boxes", |i| flag_of(&with_boxes, i))?,
        issues.at("skip_empty", |i| flag_of(&skip_empty, i))?,
    ))
}

/// A mask instance: its 0/1 pixels, count and inclusive box `[x0, y0, x1, y1]`.
struct Instance {
    bits: Vec<u8>,
    extent: Option<[u32; 4]>,
}

/// Normalises a mask plane to 0/1 and measures it.
fn instance_of(plane: &[u8], w: usize, h: usize) -> Instance {
    let bits: Vec<u8> = plane.iter().map(|&v| u8::from(v != 0)).collect();
    let extent = colors::mask_extent(&bits, w, h);
    Instance { bits, extent }
}

fn box_of(bbox: [u32; 4]) -> Geometry {
    let [x0, y0, x1, y1] = bbox.map(f64::from);
    Geometry::Bbox(BBox::TopLeftHeightWidth([y0, x0, y1 - y0 + 1.0, x1 - x0 + 1.0]))
}

fn push_object(
    items: &mut Vec<Located>,
    row: usize,
    slot: usize,
    data_row: &DataRow,
    feature: &Text,
    confidence: Option<f64>,
    geometry: Geometry,
) {
    let object = Object {
        feature: Feature::named(feature.clone()),
        scores: Scores { confidence, custom_metrics: None },
        geometry,
        classifications: Vec::new(),
    };
    items.push(Located {
        row,
        slot: Some(slot),
        annotation: Annotation {
            uuid: AnnotationId::Random,
            data_row: data_row.clone(),
            body: Body::Object(object),
            marks: Marks::default(),
        },
    });
}

/// The validator's confidence rule, reported at the current path.
fn check_confidence(c: f64, issues: &mut Issues) -> bool {
    match lbfast_core::rules::values::confidence_problem(c) {
        Some(problem) => {
            issues.report_problem(problem);
            false
        }
        None => true,
    }
}

fn check_size(size: Option<(i64, i64)>, w: usize, h: usize, issues: &mut Issues) -> bool {
    match size {
        Some((iw, ih)) if (iw, ih) != (w as i64, h as i64) => {
            issues.report(
                Code::ImageSize,
                format!("mask is {w}x{h} pixels, but the image is {iw}x{ih} (image_size)"),
            );
            false
        }
        _ => true,
    }
}

fn texts_of(value: &Bound<'_, PyAny>, issues: &mut Issues, what: &str) -> PyResult<Vec<Text>> {
    let items = sequence(value, issues, what)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        issues.push_index(i);
        let text = opt_text(item, issues);
        issues.pop();
        match text? {
            Some(t) => out.push(t),
            None => {
                issues.push_index(i);
                let err = type_error(issues, "a string", item);
                issues.pop();
                return Err(err);
            }
        }
    }
    Ok(out)
}

fn lower_instance_masks(
    batch: &mut Batch,
    row: usize,
    item: &Bound<'_, PyAny>,
    max_pixels: u64,
) -> PyResult<()> {
    let py = item.py();
    let issues = &mut batch.issues;
    let items = &mut batch.items;
    let masks_obj = item.getattr(intern!(py, "masks"))?;
    let masks = masks_obj
        .extract::<PyReadonlyArrayDyn<'_, u8>>()
        .map_err(|_| type_error_at(issues, "masks", "a numpy array of dtype bool or uint8", &masks_obj))?;
    let shape = masks.shape().to_vec();
    let [n, h, w] = shape[..] else {
        issues.report_at("masks", Code::Shape, format!("expected shape (N, H, W), got {shape:?}"));
        return Ok(());
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
    let image_index = optional_array::<i64>(item, "image_index", issues)?;
    let class_ids = optional_array::<i64>(item, "class_ids", issues)?;
    let confidence = optional_array::<f64>(item, "confidence", issues)?;
    let sizes = image_sizes(&item.getattr("image_size")?, data_rows.len(), issues)?;
    let (with_boxes, skip_empty) = options_of(item, issues)?;

    let mut lengths_ok = true;
    for (name, len) in [
        ("image_index", image_index.as_ref().map(|a| a.len())),
        ("class_ids", class_ids.as_ref().map(|a| a.len())),
        ("confidence", confidence.as_ref().map(|a| a.len())),
    ] {
        if let Some(len) = len {
            if len != n {
                issues.report_at(
                    name,
                    Code::Length,
                    format!("has {len} entries, but masks has {n} instances"),
                );
                lengths_ok = false;
            }
        }
    }
    if image_index.is_none() && data_rows.len() != 1 {
        issues.report_at(
            "image_index",
            Code::Missing,
            format!(
                "is needed to place {n} masks on {} data rows (give one data row or image_index)",
                data_rows.len()
            ),
        );
        lengths_ok = false;
    }
    if class_ids.is_none() && features.len() != 1 {
        issues.report_at(
            "class_ids",
            Code::Missing,
            format!(
                "is needed to name {n} masks with {} features (give one feature or class_ids)",
                features.len()
            ),
        );
        lengths_ok = false;
    }
    if !lengths_ok || n == 0 {
        return Ok(());
    }
    let (image_index, class_ids, confidence) = (
        image_index.as_ref().map(|a| a.as_array().to_vec()),
        class_ids.as_ref().map(|a| a.as_array().to_vec()),
        confidence.as_ref().map(|a| a.as_array().to_vec()),
    );
    let plane = h * w;
    let (Ok(w32), Ok(h32)) = (u32::try_from(w), u32::try_from(h)) else {
        issues.report_at("masks", Code::Shape, format!("masks of shape {shape:?} are too large"));
        return Ok(());
    };
    if plane == 0 {
        issues.report_at("masks", Code::Shape, format!("masks of shape {shape:?} have no pixels"));
        return Ok(());
    }
    if over_cap(issues, "masks", w, h, max_pixels) {
        return Ok(());
    }
    let instances: Vec<Instance> = match c_order(&masks) {
        Some(data) => py.detach(|| data.chunks_exact(plane).map(|p| instance_of(p, w, h)).collect()),
        None => {
            let data: Vec<u8> = masks.as_array().iter().copied().collect();
            py.detach(|| data.chunks_exact(plane).map(|p| instance_of(p, w, h)).collect())
        }
    };
    for (i, instance) in instances.into_iter().enumerate() {
        let mut ok = true;
        let r = image_index.as_ref().map_or(0, |a| a[i]);
        let data_row = match usize::try_from(r).ok().filter(|&r| r < data_rows.len()) {
            Some(r) => Some(r),
            None => {
                at_index(issues, "image_index", i, |is| {
                    is.report(Code::Index, format!("data row index {r} is outside 0..{}", data_rows.len()));
                });
                None
            }
        };
        let c = class_ids.as_ref().map_or(0, |a| a[i]);
        let feature = match usize::try_from(c).ok().filter(|&c| c < features.len()) {
            Some(c) => Some(&features[c]),
            None => {
                at_index(issues, "class_ids", i, |is| {
                    is.report(
                        Code::Index,
                        format!("class id {c} is outside 0..{} (the features)", features.len()),
                    );
                });
                None
            }
        };
        let conf = confidence.as_ref().map(|a| a[i]);
        if let Some(c) = conf {
            ok &= at_index(issues, "confidence", i, |is| check_confidence(c, is));
        }
        if let (Some(sizes), Some(r)) = (&sizes, data_row) {
            ok &= at_index(issues, "masks", i, |is| check_size(Some(sizes[r]), w, h, is));
        }
        let Some(bbox) = instance.extent else {
            if !skip_empty {
                at_index(issues, "masks", i, |is| {
                    is.report(
                        Code::EmptyMask,
                        "mask is empty (no pixel set); pass skip_empty=True to leave such masks out",
                    );
                });
            }
            continue;
        };
        let (Some(r), Some(feature), true) = (data_row, feature, ok) else { continue };
        let data_row = data_rows[r].clone();
        let image = Image::from_u8(w32, h32, 1, instance.bits).map_err(PyValueError::new_err)?;
        let geometry = Geometry::Mask(Mask::Pixels { image: Arc::new(image), color: MaskColor::Gray(1) });
        push_object(items, row, i, &data_row, feature, conf, geometry);
        if with_boxes {
            push_object(items, row, i, &data_row, feature, conf, box_of(bbox));
        }
    }
    Ok(())
}

// ---- InstanceMap ----

/// Reads the id map as i64 ids, whatever its integer dtype.
fn ids_of(array: &Bound<'_, PyAny>) -> Option<(usize, usize, Vec<i64>)> {
    macro_rules! try_dtype {
        ($($t:ty),*) => {$(
            if let Ok(a) = array.extract::<PyReadonlyArrayDyn<'_, $t>>() {
                let shape = a.shape().to_vec();
                let [h, w] = shape[..] else { return None };
                let ids: Vec<i64> = match c_order(&a) {
                    Some(s) => s.iter().map(|&v| v as i64).collect(),
                    None => a.as_array().iter().map(|&v| v as i64).collect(),
                };
                return Some((h, w, ids));
            }
        )*};
    }
    try_dtype!(u8, u16, i32, i64, u32, u64, i16, i8);
    None
}

/// Instances of up to 255 ids share one u8 image, in which instance `k` of the group
/// has the value `k + 1`.
const GROUP: usize = 255;

fn lower_instance_map(
    batch: &mut Batch,
    row: usize,
    item: &Bound<'_, PyAny>,
    max_pixels: u64,
) -> PyResult<()> {
    let py = item.py();
    let issues = &mut batch.issues;
    let items = &mut batch.items;
    let map_obj = item.getattr(intern!(py, "id_map"))?;
    let Some((h, w, ids)) = ids_of(&map_obj) else {
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
    let mut wanted: Vec<(i64, Text)> = Vec::with_capacity(features_dict.len());
    issues.push_key("features");
    for (key, value) in features_dict.iter() {
        let id = i64_of(&key, issues);
        let id = match id {
            Ok(id) => id,
            Err(e) => {
                issues.pop();
                return Err(e);
            }
        };
        push_id(issues, id);
        let name = opt_text(&value, issues);
        issues.pop();
        match name {
            Ok(Some(name)) => wanted.push((id, name)),
            Ok(None) => {
                let err = type_error(issues, "a feature name", &value);
                issues.pop();
                return Err(err);
            }
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
    let sizes = image_sizes(&item.getattr("image_size")?, 1, issues)?;
    let (with_boxes, skip_empty) = options_of(item, issues)?;
    let (Ok(w32), Ok(h32)) = (u32::try_from(w), u32::try_from(h)) else {
        issues.report_at("id_map", Code::Shape, format!("an id map of {h}x{w} is too large"));
        return Ok(());
    };
    if w == 0 || h == 0 {
        issues.report_at("id_map", Code::Shape, format!("the id map is {w}x{h} pixels"));
        return Ok(());
    }
    if over_cap(issues, "id_map", w, h, max_pixels) {
        return Ok(());
    }
    if let Some(sizes) = &sizes {
        if !issues.at("id_map", |i| Ok::<_, PyErr>(check_size(Some(sizes[0]), w, h, i)))? {
            return Ok(());
        }
    }
    let mut slot_of: HashMap<i64, usize> = HashMap::with_capacity(wanted.len());
    for (k, (id, _)) in wanted.iter().enumerate() {
        slot_of.entry(*id).or_insert(k);
    }
    let k = wanted.len();
    let groups = k.div_ceil(GROUP);
    let (images, stats) = py.detach(|| remap(&ids, w, h, &slot_of, k, groups));
    let images: Vec<Arc<Image>> = images
        .into_iter()
        .enumerate()
        .map(|(g, bits)| {
            let image = Image::from_u8(w32, h32, 1, bits).expect("sizes match");
            // Seed the colour index with what the remap measured, so that each
            // instance is matched inside its box without another scan.
            let mut seen: Vec<ColorStat> = Vec::new();
            let mut covered = 0u64;
            for (local, s) in stats[g * GROUP..((g + 1) * GROUP).min(k)].iter().enumerate() {
                if s.0 > 0 {
                    covered += s.0;
                    let v = (local + 1) as u16;
                    seen.push(ColorStat { rgb: [v; 3], count: s.0, bbox: s.1 });
                }
            }
            let total = (w * h) as u64;
            if covered < total {
                seen.push(ColorStat { rgb: [0; 3], count: total - covered, bbox: [0, 0, w32 - 1, h32 - 1] });
            }
            image.remember_colors(ColorIndex::from_stats(w32, h32, true, seen));
            Arc::new(image)
        })
        .collect();
    for (slot, (id, name)) in wanted.iter().enumerate() {
        let first = slot_of.get(id) == Some(&slot);
        let (count, bbox) = stats[slot];
        let conf = confidence.get(id).copied();
        if let Some(c) = conf {
            issues.push_key("confidence");
            push_id(issues, *id);
            let ok = check_confidence(c, issues);
            issues.pop();
            issues.pop();
            if !ok {
                continue;
            }
        }
        if !first {
            continue; // the same id twice (1 and 1.0 are one dict key, so only via subclasses)
        }
        if count == 0 {
            if !skip_empty {
                issues.push_key("features");
                push_id(issues, *id);
                issues.report(Code::MaskColor, format!("id {id} does not occur in the {w}x{h} id map"));
                issues.pop();
                issues.pop();
            }
            continue;
        }
        let image = images[slot / GROUP].clone();
        let color = MaskColor::Gray((slot % GROUP + 1) as i64);
        push_object(items, row, slot, &data_row, name, conf, Geometry::Mask(Mask::Pixels { image, color }));
        if with_boxes {
            push_object(items, row, slot, &data_row, name, conf, box_of(bbox));
        }
    }
    Ok(())
}

/// A slot's pixel count and inclusive box `[x0, y0, x1, y1]`.
type SlotStats = (u64, [u32; 4]);

/// One scan of the id map: the group images, and each slot's pixel count and box.
fn remap(
    ids: &[i64],
    w: usize,
    h: usize,
    slot_of: &HashMap<i64, usize>,
    k: usize,
    groups: usize,
) -> (Vec<Vec<u8>>, Vec<SlotStats>) {
    let mut images = vec![vec![0u8; w * h]; groups];
    let mut stats = vec![(0u64, [u32::MAX, u32::MAX, 0, 0]); k];
    for y in 0..h {
        let row = &ids[y * w..(y + 1) * w];
        let mut x = 0;
        while x < w {
            let id = row[x];
            let start = x;
            while x < w && row[x] == id {
                x += 1;
            }
            if let Some(&slot) = slot_of.get(&id) {
                let value = (slot % GROUP + 1) as u8;
                images[slot / GROUP][y * w + start..y * w + x].fill(value);
                let s = &mut stats[slot];
                s.0 += (x - start) as u64;
                s.1[0] = s.1[0].min(start as u32);
                s.1[1] = s.1[1].min(y as u32);
                s.1[2] = s.1[2].max((x - 1) as u32);
                s.1[3] = y as u32;
            }
        }
    }
    (images, stats)
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

/// Why a mask of `image` cannot belong to an image of `size`, if it cannot.
pub fn size_mismatch(image: &Image, size: Option<(i64, i64)>) -> Option<String> {
    let (w, h) = size?;
    let (mw, mh) = (i64::from(image.width), i64::from(image.height));
    ((mw, mh) != (w, h))
        .then(|| format!("mask is {mw}x{mh} pixels, but the image is {w}x{h} (Label.image_size)"))
}

/// For a URL mask given with its pixels: why it cannot be right, if it cannot (the
/// colour is absent, or the size is not the image's). A colour out of range is left
/// to the validator, which names it as such.
pub fn check_local_pixels(
    py: Python<'_>,
    image: &Arc<Image>,
    color: MaskColor,
    size: Option<(i64, i64)>,
) -> Option<String> {
    if let Some(reason) = size_mismatch(image, size) {
        return Some(reason);
    }
    let in_range = match color {
        MaskColor::Gray(v) => (0..=255).contains(&v),
        MaskColor::Rgb(rgb) => rgb.iter().all(|v| (0..=255).contains(v)),
    };
    if !in_range {
        return None;
    }
    let found = py.detach(|| image.color_index().find(color).is_some());
    (!found).then(|| {
        let shown = match color {
            MaskColor::Gray(v) => v.to_string(),
            MaskColor::Rgb([r, g, b]) => format!("({r}, {g}, {b})"),
        };
        format!(
            "colour {shown} does not occur in the {}x{} mask given with the URL (Labelbox would reject it after upload)",
            image.width, image.height
        )
    })
}
