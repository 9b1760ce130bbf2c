//! The engine serving requests, replaced by a new one without stopping.

use std::sync::{Mutex, PoisonError};

use arc_swap::ArcSwap;
use thuja_runtime::json::RequestValidationError;
use thuja_runtime::{Request, Response};

use crate::Engine;
use crate::engine::Inner;

/// Holds the [`Engine`] that decides requests and swaps in a new one atomically.
///
/// [`decide`](Self::decide) reads the current engine without a lock and without writing a
/// reference count other threads share (through `arc-swap`'s per-thread slots); a request
/// that started on an engine finishes on it, and an engine swapped out is freed when the last
/// request on it ends. Swaps and [updates](Self::update) are serialized among themselves, so
/// an update made from the current engine never loses another's change; they never block a
/// request.
///
/// ```
/// use thuja::{Engine, LiveEngine, input};
///
/// let live = LiveEngine::new(Engine::builder().build()?);
/// let policies = input::policies_from_str("p.cedar", "permit(principal, action, resource);")?;
/// live.update(|engine| engine.with_policies(policies))?;
/// assert_eq!(live.engine().policies().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LiveEngine {
    current: ArcSwap<Inner>,
    /// Taken by swaps and updates, never by requests.
    writer: Mutex<()>,
}

const _: () = {
    const fn shared<T: Send + Sync + 'static>() {}
    shared::<LiveEngine>();
};

impl LiveEngine {
    /// A live engine whose current engine is `engine`.
    pub fn new(engine: Engine) -> Self {
        LiveEngine {
            current: ArcSwap::new(engine.inner),
            writer: Mutex::new(()),
        }
    }

    /// Decides `request` on the current engine, as [`Engine::decide`] does.
    pub fn decide(&self, request: &Request) -> Result<Response, RequestValidationError> {
        self.current.load().decide(request)
    }

    /// The current engine (kept alive as long as the returned one is).
    pub fn engine(&self) -> Engine {
        Engine {
            inner: self.current.load_full(),
        }
    }

    /// Makes `engine` the current one; returns the one it replaces.
    pub fn swap(&self, engine: Engine) -> Engine {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        Engine {
            inner: self.current.swap(engine.inner),
        }
    }

    /// Makes the engine `change` makes from the current one the current one, unless it fails
    /// (the current one then stays). Updates and swaps wait for each other, so that each
    /// change starts from the engine the previous one made; requests do not wait.
    pub fn update<E>(&self, change: impl FnOnce(&Engine) -> Result<Engine, E>) -> Result<(), E> {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let current = Engine {
            inner: self.current.load_full(),
        };
        let next = change(&current)?;
        self.current.store(next.inner);
        Ok(())
    }
}

impl From<Engine> for LiveEngine {
    fn from(engine: Engine) -> Self {
        LiveEngine::new(engine)
    }
}

impl std::fmt::Debug for LiveEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LiveEngine").field(&self.engine()).finish()
    }
}
