//! Where test files and the files they name come from: a directory tree, a single file, or a
//! `.tar.gz` archive read into memory. Paths inside tests resolve against one root.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use thuja::input::{InputError, read_file};

/// A set of test files and the means to read the files they refer to.
pub struct TestFiles {
    /// Test files found, as (display name, contents).
    pub tests: Vec<(String, String)>,
    /// Files from archives, by their path inside the archive.
    archived: BTreeMap<String, String>,
    root: PathBuf,
}

impl TestFiles {
    /// Collects the test files under `paths` (files, directories, `.tar.gz` archives).
    pub fn collect(paths: &[PathBuf], root: &Path) -> Result<Self, InputError> {
        let mut files = TestFiles {
            tests: Vec::new(),
            archived: BTreeMap::new(),
            root: root.to_path_buf(),
        };
        for path in paths {
            let name = path.to_string_lossy();
            if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
                files.add_archive(path)?;
            } else if path.is_dir() {
                files.add_dir(path)?;
            } else {
                files.tests.push((name.into_owned(), read_file(path)?));
            }
        }
        files.tests.sort();
        Ok(files)
    }

    /// Reads a file a test names: from an archive if one holds it, else from the root.
    pub fn read(&self, path: &str) -> Result<(String, String), InputError> {
        let key = path.trim_start_matches("./");
        if let Some(text) = self.archived.get(key) {
            return Ok((key.to_string(), text.clone()));
        }
        let full = self.root.join(path);
        Ok((full.display().to_string(), read_file(&full)?))
    }

    fn add_dir(&mut self, dir: &Path) -> Result<(), InputError> {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let entries = std::fs::read_dir(&d).map_err(|e| InputError::io(&d, e))?;
            for entry in entries {
                let path = entry.map_err(|e| InputError::io(&d, e))?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if is_test_name(&path.to_string_lossy()) {
                    let text = read_file(&path)?;
                    self.tests.push((path.display().to_string(), text));
                }
            }
        }
        Ok(())
    }

    fn add_archive(&mut self, path: &Path) -> Result<(), InputError> {
        let file = std::fs::File::open(path).map_err(|e| InputError::io(path, e))?;
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let entries = archive.entries().map_err(|e| InputError::io(path, e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| InputError::io(path, e))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = entry
                .path()
                .map_err(|e| InputError::io(path, e))?
                .to_string_lossy()
                .trim_start_matches("./")
                .to_string();
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|e| InputError::io(path, e))?;
            if is_test_name(&name) {
                self.tests
                    .push((format!("{}:{name}", path.display()), text.clone()));
            }
            self.archived.insert(name, text);
        }
        Ok(())
    }
}

/// Test files are the `.json` files that are not entity files.
fn is_test_name(name: &str) -> bool {
    name.ends_with(".json") && !name.ends_with(".entities.json")
}
