#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lbfast_fuzz::rle_size(data));
