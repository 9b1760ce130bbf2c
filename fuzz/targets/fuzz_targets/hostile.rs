#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| thuja_fuzz::targets::hostile(data));
