//! A file mapped into memory, read in place: the page cache's own pages, with no copy
//! into a buffer (on this machine the copy of a read took a fifth of `lbfast
//! validate`'s time, see `docs/reading.md`).
//!
//! The file must not be truncated while it is mapped (its lost pages would fault):
//! the CLI and `validate_files` map the files they are given to read, for as long as
//! they read them. A file that cannot be mapped is read into a buffer instead
//! ([`super::blocks::Blocks`]).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// The bytes of a file, mapped read-only.
pub struct Mapped {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by this value alone.
unsafe impl Send for Mapped {}
// SAFETY: as above: shared reading only.
unsafe impl Sync for Mapped {}

impl Mapped {
    /// Maps `file` (read sequentially, so the kernel reads ahead).
    pub fn new(file: &File) -> io::Result<Mapped> {
        let len = usize::try_from(file.metadata()?.len()).map_err(io::Error::other)?;
        if len == 0 {
            return Ok(Mapped { ptr: std::ptr::NonNull::dangling().as_ptr(), len: 0 });
        }
        // SAFETY: a fresh private read-only mapping of an open file; checked below.
        let ptr = unsafe {
            libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_PRIVATE, file.as_raw_fd(), 0)
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the range is the mapping just made; advice changes no contents, and a
        // failure is harmless.
        unsafe {
            libc::madvise(ptr, len, libc::MADV_SEQUENTIAL);
        }
        Ok(Mapped { ptr: ptr.cast::<u8>().cast_const(), len })
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is `len` readable bytes (or dangling with `len` 0) for as long
        // as `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: the mapping made in `new`, unmapped once.
            unsafe {
                libc::munmap(self.ptr.cast_mut().cast::<libc::c_void>(), self.len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapped_file_reads_as_its_bytes() {
        let dir = std::env::temp_dir().join(format!("lbfast-mapped-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.ndjson");
        std::fs::write(&path, b"{}\n{\"a\":1}\n").unwrap();
        assert_eq!(Mapped::new(&File::open(&path).unwrap()).unwrap().bytes(), b"{}\n{\"a\":1}\n");
        std::fs::write(&path, b"").unwrap();
        assert!(Mapped::new(&File::open(&path).unwrap()).unwrap().bytes().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
