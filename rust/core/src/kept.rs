//! Vectors kept between calls. A call's large vectors (the annotations read, the
//! output buffers) would otherwise be new memory each time: glibc maps allocations
//! of more than a few megabytes fresh and unmaps them on free, so every call pays a
//! page fault per 4 KiB again (at 100,000 typed boxes, a fifth of `dumps`).

use std::sync::{Mutex, PoisonError};

/// Empty vectors with their capacity: each of at least `min_bytes`, at most
/// `max_bytes` in all.
pub struct Kept<T> {
    vectors: Mutex<Vec<Vec<T>>>,
    min_bytes: usize,
    max_bytes: usize,
}

impl<T> Kept<T> {
    pub const fn new(min_bytes: usize, max_bytes: usize) -> Self {
        Kept { vectors: Mutex::new(Vec::new()), min_bytes, max_bytes }
    }

    /// A kept vector (empty, with the largest capacity kept), or a new one.
    pub fn take(&self) -> Vec<T> {
        let mut kept = self.vectors.lock().unwrap_or_else(PoisonError::into_inner);
        kept.pop().unwrap_or_default()
    }

    /// Keeps `vector`'s memory (its items are dropped) if it fits under the limit.
    pub fn give(&self, mut vector: Vec<T>) {
        let bytes = vector.capacity().saturating_mul(std::mem::size_of::<T>());
        if bytes == 0 || bytes < self.min_bytes {
            return;
        }
        vector.clear();
        let mut kept = self.vectors.lock().unwrap_or_else(PoisonError::into_inner);
        let held: usize = kept.iter().map(|v| v.capacity() * std::mem::size_of::<T>()).sum();
        if held + bytes <= self.max_bytes {
            // Largest last, so that `take` hands out the largest.
            let at = kept.partition_point(|v| v.capacity() <= vector.capacity());
            kept.insert(at, vector);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_capacity_up_to_its_limit_and_hands_out_the_largest() {
        let kept: Kept<u64> = Kept::new(100, 1024);
        kept.give(Vec::with_capacity(4)); // under the minimum: freed
        kept.give(Vec::with_capacity(16));
        kept.give(vec![7; 64]);
        kept.give(Vec::with_capacity(1000)); // over the limit: freed
        let first = kept.take();
        assert!(first.is_empty() && first.capacity() >= 64);
        assert!(kept.take().capacity() >= 16);
        assert_eq!(kept.take().capacity(), 0);
    }
}
