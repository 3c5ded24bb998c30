#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lbfast_fuzz::png_decode(data));
