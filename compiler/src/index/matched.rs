//! The keys one request entity matched on one side of the index.

use smallvec::SmallVec;

use super::side::{ANY, KeyId};

/// The keys a request's principal, action or resource matched, [`ANY`] among them, each once:
/// found for this request, or read from the index joined with the store.
#[derive(Debug)]
pub(super) struct Matched<'a> {
    keys: Keys<'a>,
    /// Whether the keys are sorted (then a long list is binary-searched).
    sorted: bool,
}

#[derive(Debug)]
enum Keys<'a> {
    Found(SmallVec<[KeyId; 8]>),
    Joined(&'a [KeyId]),
}

/// Lists longer than this are searched rather than scanned (and found lists are sorted first).
const SCAN: usize = 16;

impl Matched<'_> {
    /// Just [`ANY`], to [`push`](Self::push) the keys found to.
    pub(super) fn new() -> Matched<'static> {
        Matched {
            keys: Keys::Found(SmallVec::from_slice(&[ANY])),
            sorted: false,
        }
    }

    /// Adds a key found (one not yet among them).
    pub(super) fn push(&mut self, key: KeyId) {
        match &mut self.keys {
            Keys::Found(keys) => keys.push(key),
            Keys::Joined(_) => debug_assert!(false, "a joined list is complete"),
        }
    }

    /// Done pushing: a long list is sorted for binary search.
    pub(super) fn seal(mut self) -> Self {
        if let Keys::Found(keys) = &mut self.keys
            && keys.len() > SCAN
        {
            keys.sort_unstable();
            self.sorted = true;
        }
        self
    }

    pub(super) fn keys(&self) -> &[KeyId] {
        match &self.keys {
            Keys::Found(keys) => keys,
            Keys::Joined(keys) => keys,
        }
    }

    pub(super) fn contains(&self, key: KeyId) -> bool {
        let keys = self.keys();
        if self.sorted && keys.len() > SCAN {
            keys.binary_search(&key).is_ok()
        } else {
            keys.contains(&key)
        }
    }
}

impl<'a> Matched<'a> {
    /// Keys read from a join: sorted, [`ANY`] (the least key) first, each once.
    pub(super) fn joined(keys: &'a [KeyId]) -> Matched<'a> {
        debug_assert!(keys.first() == Some(&ANY) && keys.is_sorted());
        Matched {
            keys: Keys::Joined(keys),
            sorted: true,
        }
    }
}
