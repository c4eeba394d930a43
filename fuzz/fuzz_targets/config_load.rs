#![no_main]
//! Any bytes as a config file: loading never panics, a file that is not UTF-8 or not valid
//! TOML for the schema is an error, and loading from a file agrees with parsing the text.
//! The config module is compiled in as is: it uses no `crate::` items, only other crates
//! (listed in fuzz/Cargo.toml), so it builds outside the binary crate.

#[path = "../../crates/mailroom/src/config.rs"]
#[allow(dead_code)]
mod config;

use config::Config;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// One file per fuzzing process, rewritten for every input: `Config::load` reads a path.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("config_load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir.join("mailroom.toml")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    std::fs::write(path, data).expect("write scratch config");
    let loaded = Config::load(Some(path));
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(loaded.is_err(), "a config that is not UTF-8 must be refused");
        return;
    };
    let parsed = toml::from_str::<Config>(text);
    assert_eq!(loaded.is_ok(), parsed.is_ok(), "load and parse disagree");
    if let (Ok(loaded), Ok(parsed)) = (loaded, parsed) {
        // A relative data_dir is taken relative to the file's directory.
        if parsed.data_dir.is_relative() {
            assert_eq!(loaded.data_dir, path.parent().unwrap().join(&parsed.data_dir));
        } else {
            assert_eq!(loaded.data_dir, parsed.data_dir);
        }
        // What serve derives from the values must not panic either (durations, limits).
        let _ = loaded.backup_dir();
        let _ = loaded.limits.commands();
        let _ = loaded.limits.auth_timeout();
        let _ = loaded.auth.throttle();
        let _ = format!("{loaded:?}");
    }
});
