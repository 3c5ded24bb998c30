#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lbfast_fuzz::mask_base64(data));
