//! The output of `dumps`: written straight into the `bytes` object returned, with
//! the GIL released, so that the lines are copied once, from buffers that stay in
//! the core's cache into the pages of the result.

use std::os::raw::c_int;

use lbfast_core::batch::Checked;
use lbfast_core::parallel;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::guarded;

extern "C" {
    /// `CPython`'s resize of a `bytes` object that nobody else holds (refcount 1).
    /// On failure it frees the object, sets `*bytes` to NULL and raises.
    fn _PyBytes_Resize(bytes: *mut *mut ffi::PyObject, new_size: ffi::Py_ssize_t) -> c_int;
}

/// The result's buffer while it is written without the GIL. The `bytes` object is
/// new and unshared, so nothing else reads or writes its buffer meanwhile.
struct Destination {
    ptr: *mut u8,
    capacity: usize,
}

// SAFETY: the buffer belongs to a `bytes` object only this call can reach until it
// returns it (see `Destination`); writing it from another thread is sound.
unsafe impl Send for Destination {}

/// Writes `checked` into a new `bytes` object on `threads` threads.
pub fn write_bytes(py: Python<'_>, checked: Checked, threads: Option<usize>) -> PyResult<Bound<'_, PyBytes>> {
    let capacity = checked.size_hint().max(1);
    // SAFETY: a NULL source asks CPython for an uninitialised buffer of `capacity`
    // bytes, which is then only written before it is read.
    let raw = unsafe { ffi::PyBytes_FromStringAndSize(std::ptr::null(), capacity as ffi::Py_ssize_t) };
    if raw.is_null() {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: `raw` is a new, owned, non-NULL `bytes` object of `capacity` bytes.
    let destination = Destination { ptr: unsafe { ffi::PyBytes_AsString(raw) }.cast::<u8>(), capacity };
    lbfast_core::memory::prefer_huge_pages(destination.ptr, capacity);
    let owned = unsafe { Bound::from_owned_ptr(py, raw) };
    let (written, overflow) = py.detach(move || {
        guarded(move || {
            let destination = destination;
            // SAFETY: see `Destination`; the slice lives only inside this closure.
            let buffer = unsafe { std::slice::from_raw_parts_mut(destination.ptr, destination.capacity) };
            let mut at = 0;
            let mut overflow: Vec<u8> = Vec::new();
            checked.write(&mut |pieces| {
                let len: usize = pieces.iter().map(Vec::len).sum();
                if overflow.is_empty() && at + len <= buffer.len() {
                    parallel::copy_into(threads, &mut buffer[at..at + len], pieces);
                    at += len;
                } else {
                    for p in pieces {
                        overflow.extend_from_slice(p);
                    }
                }
            });
            (at, overflow)
        })
    })?;
    let total = written + overflow.len();
    if total == 0 {
        return Ok(PyBytes::new(py, b""));
    }
    let mut raw = owned.into_ptr();
    // SAFETY: `raw` is ours alone (refcount 1); on failure CPython frees it.
    if unsafe { _PyBytes_Resize(&raw mut raw, total as ffi::Py_ssize_t) } != 0 {
        return Err(PyErr::fetch(py));
    }
    // SAFETY: the resize succeeded, so `raw` is an owned `bytes` of `total` bytes.
    let bytes = unsafe { Bound::from_owned_ptr(py, raw).cast_into_unchecked::<PyBytes>() };
    if !overflow.is_empty() {
        // SAFETY: as above; bytes `written..total` are ours to fill.
        let buffer = unsafe { ffi::PyBytes_AsString(raw) }.cast::<u8>();
        let rest = unsafe { std::slice::from_raw_parts_mut(buffer.add(written), overflow.len()) };
        rest.copy_from_slice(&overflow);
    }
    Ok(bytes)
}
