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
    /// Keys found for one request: [`ANY`] and the others, each once, in any order (a long
    /// list is sorted here for binary search).
    pub(super) fn found(mut keys: SmallVec<[KeyId; 8]>) -> Matched<'static> {
        let sorted = keys.len() > SCAN;
        if sorted {
            keys.sort_unstable();
        }
        Matched {
            keys: Keys::Found(keys),
            sorted,
        }
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
            // A plain loop: the lists are short, and `<[_]>::contains`'s unrolled search costs
            // more than it saves on them (~100 instructions per request on RBAC-100, callgrind).
            #[allow(clippy::manual_contains)]
            keys.iter().any(|&k| k == key)
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
