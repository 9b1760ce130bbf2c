//! Loading the inputs into an engine, and replacing it while serving: the admin endpoint,
//! SIGHUP and file watching all call [`reload`], which rebuilds off the request path (on a
//! blocking thread) and swaps the new engine in atomically. A reload that fails keeps the old
//! engine serving; the failure is logged, shown by `/readyz` and counted.
//!
//! Every input set has a revision: a hash of the input files' contents (FNV-1a, 64 bits, as 16
//! hex digits; a change detector, not a security measure).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::{ArcSwap, ArcSwapOption};
use thuja::input::{self, InputError};
use thuja::{Engine, LiveEngine, Schema};

use crate::config::ServeConfig;
use crate::mapping::Mapping;

/// An engine built from the inputs, with their revision, and the gateway mapping read with
/// them.
pub(crate) struct Loaded {
    pub engine: Engine,
    pub revision: Arc<str>,
    pub mapping: Option<Arc<Mapping>>,
}

/// Reads the input files and builds an engine (CPU-bound: call off the async runtime).
pub(crate) fn load(config: &ServeConfig) -> Result<Loaded, String> {
    build(config, read_inputs(config)?)
}

/// The input files' texts, in [`ServeConfig::input_files`] order.
fn read_inputs(config: &ServeConfig) -> Result<Vec<(&Path, String)>, String> {
    config
        .input_files()
        .into_iter()
        .map(|path| Ok((path, input::read_file(path).map_err(|e| e.to_string())?)))
        .collect()
}

/// Builds an engine from the input files' texts (as read once: the revision is theirs).
fn build(config: &ServeConfig, texts: Vec<(&Path, String)>) -> Result<Loaded, String> {
    let revision = revision_of(texts.iter().map(|(p, t)| (*p, t.as_str())));
    let mut texts = texts.into_iter().map(|(_, t)| t);
    let policy_text = texts.next().unwrap_or_default();
    let policy_name = config.policies.display().to_string();
    let mut policies =
        input::policies_from_str(&policy_name, &policy_text).map_err(|e| render(&e))?;
    input::rename_from_id_annotations(&mut policies).map_err(|e| render(&e))?;
    let schema = match &config.schema {
        Some(path) => Some(read_schema(path, &texts.next().unwrap_or_default())?),
        None => None,
    };
    if config.validate {
        let Some(schema) = &schema else {
            return Err("--validate needs a schema".to_string());
        };
        let result = thuja::validate::validate(
            schema,
            &policies,
            thuja::validate::ValidationOptions::default(),
        );
        if !result.is_valid() {
            let errors: Vec<String> = result.errors.iter().map(ToString::to_string).collect();
            return Err(format!(
                "the policies are not valid for the schema: {}",
                errors.join("; ")
            ));
        }
    }
    let mut builder = Engine::builder()
        .policies(policies)
        .evaluator(config.evaluator);
    if let Some(schema) = schema {
        builder = builder.schema(schema);
    }
    if let Some(path) = &config.entities {
        builder =
            builder.entities_json(path.display().to_string(), texts.next().unwrap_or_default());
    }
    let mapping = match &config.forward_auth {
        Some(path) => Some(Arc::new(
            Mapping::from_json_in(
                &texts.next().unwrap_or_default(),
                path.parent().unwrap_or_else(|| Path::new(".")),
            )
            .map_err(|e| format!("{}: {e}", path.display()))?,
        )),
        None => None,
    };
    let engine = builder.build().map_err(|e| match e {
        thuja::BuildError::Input(e) => render(&e),
        other => other.to_string(),
    })?;
    Ok(Loaded {
        engine,
        revision,
        mapping,
    })
}

fn read_schema(path: &Path, text: &str) -> Result<Schema, String> {
    let format = if path.extension().is_some_and(|e| e == "json") {
        input::SchemaFormat::Json
    } else {
        input::SchemaFormat::Cedar
    };
    input::schema_from_str_with_format(&path.display().to_string(), text, format)
        .map_err(|e| render(&e))
}

/// An input error as text, trimmed.
fn render(e: &InputError) -> String {
    e.render().trim_end().to_string()
}

/// The revision of a set of input texts: FNV-1a over each file's name length, name, text
/// length and text.
pub(crate) fn revision_of<'a>(inputs: impl IntoIterator<Item = (&'a Path, &'a str)>) -> Arc<str> {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut eat = |bytes: &[u8]| {
        for byte in (bytes.len() as u64).to_le_bytes().iter().chain(bytes) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for (path, text) in inputs {
        eat(path.as_os_str().as_encoded_bytes());
        eat(text.as_bytes());
    }
    Arc::from(format!("{hash:016x}"))
}

/// What `/readyz` reports about loading.
#[derive(Clone, Debug, Default)]
pub(crate) struct Status {
    /// Seconds since the epoch of the last successful load.
    pub loaded_at: u64,
    /// The last reload's error, until a reload succeeds.
    pub last_error: Option<String>,
    pub reloads_ok: u64,
    pub reloads_failed: u64,
}

/// How a reload ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// A new engine serves, with this revision.
    Swapped(Arc<str>),
    /// The inputs have the serving engine's revision: nothing was rebuilt.
    Unchanged(Arc<str>),
}

/// The serving engine and what is known about it.
pub(crate) struct Current {
    pub live: LiveEngine,
    /// The gateway mapping of the serving revision.
    mapping: ArcSwapOption<Mapping>,
    /// Content revisions of the last few engines, by their [`Engine::revision`] number, so that
    /// a request reports the revision of the engine it was decided on.
    revisions: ArcSwap<Vec<(u64, Arc<str>)>>,
    status: Mutex<Status>,
    /// Held while a reload runs: reloads happen one at a time.
    reloading: Mutex<()>,
}

/// How many past revisions are remembered for requests still running on old engines.
const REMEMBERED: usize = 8;

impl Current {
    pub fn new(loaded: Loaded) -> Self {
        let revisions = vec![(loaded.engine.revision(), loaded.revision)];
        Current {
            live: LiveEngine::new(loaded.engine),
            mapping: ArcSwapOption::new(loaded.mapping),
            revisions: ArcSwap::from_pointee(revisions),
            status: Mutex::new(Status {
                loaded_at: now(),
                ..Status::default()
            }),
            reloading: Mutex::new(()),
        }
    }

    /// The content revision of `engine` (one this server built).
    pub fn revision_of(&self, engine: &Engine) -> Arc<str> {
        let number = engine.revision();
        self.revisions
            .load()
            .iter()
            .find(|(n, _)| *n == number)
            .map_or_else(|| Arc::from("unknown"), |(_, r)| Arc::clone(r))
    }

    /// The gateway mapping read with the serving inputs.
    pub fn mapping(&self) -> Option<Arc<Mapping>> {
        self.mapping.load_full()
    }

    /// The serving engine's content revision.
    pub fn revision(&self) -> Arc<str> {
        self.revision_of(&self.live.engine())
    }

    pub fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Rebuilds the engine from `config`'s files and swaps it in (blocking: run it on a
    /// blocking thread). On failure the serving engine stays.
    pub fn reload(&self, config: &ServeConfig) -> Result<ReloadOutcome, String> {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let result = self.rebuild(config);
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        match &result {
            Ok(outcome) => {
                status.reloads_ok += 1;
                status.last_error = None;
                if let ReloadOutcome::Swapped(_) = outcome {
                    status.loaded_at = now();
                }
            }
            Err(e) => {
                status.reloads_failed += 1;
                status.last_error = Some(e.clone());
            }
        }
        result
    }

    fn rebuild(&self, config: &ServeConfig) -> Result<ReloadOutcome, String> {
        let serving = self.revision();
        // Reading the files is cheap next to building: skip the build when nothing changed.
        let texts = read_inputs(config)?;
        if revision_of(texts.iter().map(|(p, t)| (*p, t.as_str()))) == serving {
            return Ok(ReloadOutcome::Unchanged(serving));
        }
        let loaded = build(config, texts)?;
        let mut revisions: Vec<(u64, Arc<str>)> = self.revisions.load().as_ref().clone();
        revisions.push((loaded.engine.revision(), Arc::clone(&loaded.revision)));
        if revisions.len() > REMEMBERED {
            revisions.remove(0);
        }
        // The revision is known before the engine serves.
        self.revisions.store(Arc::new(revisions));
        self.mapping.store(loaded.mapping);
        self.live.swap(loaded.engine);
        Ok(ReloadOutcome::Swapped(loaded.revision))
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// The directories to watch for `files` (editors replace files by renaming, so the directory
/// is watched, not the file), and the files' names in them.
pub(crate) fn watch_targets(files: &[&Path]) -> Vec<(PathBuf, PathBuf)> {
    files
        .iter()
        .map(|file| {
            let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
            let dir = absolute
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            (dir, absolute)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revision_changes_with_any_input_and_only_then() {
        let a = revision_of([(Path::new("p"), "permit(principal, action, resource);")]);
        let b = revision_of([(Path::new("p"), "permit(principal, action, resource);")]);
        let c = revision_of([(Path::new("p"), "forbid(principal, action, resource);")]);
        // The same bytes split differently between files are a different input set.
        let d = revision_of([(Path::new("p"), "ab"), (Path::new("q"), "")]);
        let e = revision_of([(Path::new("p"), "a"), (Path::new("q"), "b")]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(d, e);
        assert_eq!(a.len(), 16);
    }
}
