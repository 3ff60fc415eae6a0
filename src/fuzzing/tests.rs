//! Every committed fuzz seed (`fuzz/seeds/TARGET/`) and crash input
//! (`fuzz/regressions/TARGET/`) through its target's checks, in every test run: an invariant
//! the fuzzer once held must keep holding without anyone running the fuzzer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use super::TARGETS;

const FUZZ_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz");

/// The files of `dir`, sorted; none when the directory does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_seed_and_crash_input_passes_its_targets_checks() {
    let targets_dir = Path::new(FUZZ_DIR).join("fuzz_targets");
    let mut failures = Vec::new();
    for (name, check) in TARGETS {
        assert!(
            targets_dir.join(format!("{name}.rs")).is_file(),
            "fuzz target {name} has no fuzz/fuzz_targets/{name}.rs"
        );
        let seeds = inputs(&Path::new(FUZZ_DIR).join("seeds").join(name));
        assert!(
            !seeds.is_empty(),
            "fuzz/seeds/{name}/ is missing or empty: run fuzz/make-seeds.sh"
        );
        let crashes = inputs(&Path::new(FUZZ_DIR).join("regressions").join(name));
        for file in seeds.iter().chain(&crashes) {
            let data = std::fs::read(file).unwrap();
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push(format!("{name}: {}: {message}", file.display()));
            }
        }
    }
    let listed = std::fs::read_dir(&targets_dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".rs").map(str::to_owned))
        .filter(|f| !TARGETS.iter().any(|(name, _)| name == f))
        .collect::<Vec<_>>();
    assert!(
        listed.is_empty(),
        "fuzz targets whose checks the suite does not replay: {listed:?}"
    );
    assert!(
        failures.is_empty(),
        "{} inputs break their fuzz target's checks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
