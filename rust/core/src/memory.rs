//! Large fresh buffers, faulted in 2 MiB at a time where the kernel allows it.
//!
//! Writing millions of lines touches hundreds of megabytes of fresh memory (the input
//! converted to f64, the output). Where transparent huge pages are granted on request
//! (`madvise` mode, common on servers and VMs), asking for them turns one page fault
//! per 4 KiB into one per 2 MiB; on machines where a fault is slow that is most of the
//! time spent. It is only a hint: contents and correctness do not depend on it.

const HUGE: usize = 2 << 20;

/// Hints that `len` bytes at `ptr` will be written soon and should use huge pages.
pub fn prefer_huge_pages(ptr: *const u8, len: usize) {
    #[cfg(target_os = "linux")]
    {
        if len < 4 * HUGE {
            return;
        }
        let start = (ptr as usize).next_multiple_of(HUGE);
        let end = (ptr as usize).saturating_add(len) & !(HUGE - 1);
        if end > start {
            // SAFETY: the range lies inside the caller's allocation, and MADV_HUGEPAGE
            // changes no contents; a failure (e.g. THP disabled) is ignored.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, len);
}

/// `Vec::with_capacity`, hinted to use huge pages when it is large.
pub fn vec_with_capacity<T>(capacity: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(capacity);
    prefer_huge_pages(v.as_ptr().cast(), capacity.saturating_mul(std::mem::size_of::<T>()));
    v
}

/// How the errors of [`try_zeroed`] begin.
const NO_MEMORY: &str = "not enough memory for ";

/// Whether `message` is a [`try_zeroed`] failure (for callers that raise `MemoryError`).
pub fn is_out_of_memory(message: &str) -> bool {
    message.starts_with(NO_MEMORY)
}

/// Element types whose all-zero bytes are the value zero.
pub trait Zeroable: Copy {}
impl Zeroable for u8 {}
impl Zeroable for u16 {}
impl Zeroable for u32 {}

/// A vector of `len` zeros, or an error instead of an abort when the memory is not
/// there: for buffers whose size comes from the input (an image's or an RLE's size).
/// Like `vec![0; len]`, the zeros come from the allocator, so untouched pages cost
/// nothing (a header that claims a large image fails fast on its missing data).
pub fn try_zeroed<T: Zeroable>(len: usize, what: &str) -> Result<Vec<T>, String> {
    let no_memory = || {
        let bytes = len.saturating_mul(std::mem::size_of::<T>());
        format!("{NO_MEMORY}{what} ({bytes} bytes)")
    };
    if len == 0 {
        return Ok(Vec::new());
    }
    let layout = std::alloc::Layout::array::<T>(len).map_err(|_| no_memory())?;
    // SAFETY: the layout is non-zero-sized (len > 0, T is not zero-sized as all the
    // Zeroable types have a size); a null result is a failure, reported.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
    if ptr.is_null() {
        return Err(no_memory());
    }
    prefer_huge_pages(ptr.cast(), layout.size());
    // SAFETY: `ptr` was allocated by the global allocator with the layout of `len` Ts,
    // and zeroed bytes are `len` valid Ts (Zeroable).
    // Length and capacity are one: the allocation holds exactly `len` Ts.
    #[allow(clippy::same_length_and_capacity)]
    Ok(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// A vector of `len` copies of `value`, or an error instead of an abort (see
/// [`try_zeroed`]); it writes every element, so use it for memory about to be used.
pub fn try_filled<T: Clone>(len: usize, value: T, what: &str) -> Result<Vec<T>, String> {
    let mut v: Vec<T> = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        let bytes = len.saturating_mul(std::mem::size_of::<T>());
        format!("{NO_MEMORY}{what} ({bytes} bytes)")
    })?;
    v.resize(len, value);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_buffers_are_an_error_not_an_abort() {
        let err = try_zeroed::<u32>(usize::MAX / 4, "a test buffer").unwrap_err();
        assert!(err.starts_with("not enough memory for a test buffer ("), "{err}");
        assert_eq!(try_zeroed::<u8>(3, "three bytes"), Ok(vec![0, 0, 0]));
        assert!(is_out_of_memory(&try_filled(usize::MAX / 2, 7u16, "a test buffer").unwrap_err()));
        assert_eq!(try_filled(2, 7u64, "two words"), Ok(vec![7, 7]));
    }

    #[test]
    fn hinted_vectors_behave_as_vectors() {
        let mut v: Vec<f64> = vec_with_capacity(3 << 20);
        assert!(v.capacity() >= 3 << 20);
        v.extend((0..(3 << 20)).map(f64::from));
        assert_eq!(v[12345], 12345.0);
        prefer_huge_pages(std::ptr::null(), 0); // tiny or empty ranges are ignored
    }
}
