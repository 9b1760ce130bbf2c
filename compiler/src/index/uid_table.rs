//! A hash table from entity uids to small values, one cache line per entry.

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use thuja_runtime::EntityUid;

/// A map from uids to small values (key numbers), found by the uid's precomputed hash. An
/// entry holds the uid and its value in one 64-byte-aligned line, so a lookup that finds its
/// uid reads the table's control bytes and that one line.
#[derive(Clone, Debug)]
pub(super) struct UidTable<V> {
    table: HashTable<UidEntry<V>>,
}

#[derive(Clone, Debug, PartialEq)]
#[repr(C, align(64))]
struct UidEntry<V> {
    uid: EntityUid,
    value: V,
}

impl<V> Default for UidTable<V> {
    fn default() -> Self {
        UidTable {
            table: HashTable::new(),
        }
    }
}

impl<V: PartialEq> PartialEq for UidTable<V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(uid, v)| other.get(uid) == Some(v))
    }
}

impl<V> UidTable<V> {
    pub(super) fn get(&self, uid: &EntityUid) -> Option<&V> {
        self.table
            .find(uid.precomputed_hash(), |e| e.uid == *uid)
            .map(|e| &e.value)
    }

    /// The value of `uid`, made with `new` if it has none.
    pub(super) fn get_or_insert_with(
        &mut self,
        uid: &EntityUid,
        new: impl FnOnce() -> V,
    ) -> &mut V {
        let entry = self.table.entry(
            uid.precomputed_hash(),
            |e| e.uid == *uid,
            |e| e.uid.precomputed_hash(),
        );
        let entry = match entry {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e
                .insert(UidEntry {
                    uid: uid.clone(),
                    value: new(),
                })
                .into_mut(),
        };
        &mut entry.value
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&EntityUid, &V)> {
        self.table.iter().map(|e| (&e.uid, &e.value))
    }

    pub(super) fn len(&self) -> usize {
        self.table.len()
    }
}

#[cfg(test)]
mod tests {
    use thuja_runtime::EntityType;

    use super::*;

    #[test]
    fn an_entry_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<UidEntry<u32>>(), 64);
        assert_eq!(std::mem::size_of::<UidEntry<[u32; 2]>>(), 64);
    }

    #[test]
    fn finds_what_was_inserted() {
        let uid = |id: &str| EntityUid::new(EntityType::parse("T").unwrap(), id);
        let mut table = UidTable::default();
        for i in 0..1000u32 {
            *table.get_or_insert_with(&uid(&i.to_string()), || 0) += i;
            *table.get_or_insert_with(&uid(&i.to_string()), || 0) += 1;
        }
        assert_eq!(table.len(), 1000);
        assert_eq!(table.get(&uid("7")), Some(&8));
        assert_eq!(table.get(&uid("1000")), None);
        assert_eq!(
            table.iter().map(|(_, v)| u64::from(*v)).sum::<u64>(),
            1000 * 999 / 2 + 1000
        );
        let copy = table.clone();
        assert_eq!(copy, table);
        *table.get_or_insert_with(&uid("7"), || 0) += 1;
        assert_ne!(copy, table);
    }
}
