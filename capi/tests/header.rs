//! The committed header, `include/thuja.h`, is what cbindgen generates from the code: a public
//! function, type or constant changed without regenerating the header fails here.
//!
//! Regenerate it with `THUJA_BLESS=1 cargo test -p thuja-capi --test header`.

use std::path::Path;

/// The header cbindgen makes of this crate with `cbindgen.toml` (parsing the sources from
/// `src/lib.rs` and its modules, without running cargo).
fn generated() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("capi/cbindgen.toml reads");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn the_committed_header_is_generated_from_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/thuja.h");
    let generated = generated();
    if std::env::var_os("THUJA_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write include/thuja.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "capi/include/thuja.h is not the header the code generates (first difference at line {}).\n\
             Regenerate it with `THUJA_BLESS=1 cargo test -p thuja-capi --test header` and commit it.\n\
             committed: {:?}\ngenerated: {:?}",
            first_difference + 1,
            committed.lines().nth(first_difference),
            generated.lines().nth(first_difference),
        );
    }
}

#[test]
fn every_exported_function_is_in_the_header() {
    let header = generated();
    for name in [
        "thuja_version",
        "thuja_status_name",
        "thuja_engine_options_default",
        "thuja_engine_from_strings",
        "thuja_engine_from_files",
        "thuja_engine_free",
        "thuja_engine_decide",
        "thuja_response_free",
        "thuja_engine_decide_json",
        "thuja_engine_decide_batch",
        "thuja_engine_swap_policies",
        "thuja_engine_swap_policies_from_files",
        "thuja_engine_upsert_entities",
        "thuja_engine_remove_entities",
        "thuja_string_free",
    ] {
        assert!(
            header.contains(&format!("{name}(")),
            "{name} is not in the header"
        );
    }
}
