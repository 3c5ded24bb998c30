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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hinted_vectors_behave_as_vectors() {
        let mut v: Vec<f64> = vec_with_capacity(3 << 20);
        assert!(v.capacity() >= 3 << 20);
        v.extend((0..(3 << 20)).map(|i| i as f64));
        assert_eq!(v[12345], 12345.0);
        prefer_huge_pages(std::ptr::null(), 0); // tiny or empty ranges are ignored
    }
}
