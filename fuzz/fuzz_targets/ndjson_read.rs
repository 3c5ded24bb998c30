#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lbfast_fuzz::ndjson_read(data));
