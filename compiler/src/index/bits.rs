//! The set of policy numbers filed under one key of the scope index.

use roaring::RoaringBitmap;

/// How many policy numbers a key keeps in its own entry.
const INLINE: usize = 11;

/// The policy numbers filed under one key, laid out so that a key naming few policies (most
/// keys of a large store) is one cache line: its count, the numbers below 64 as a machine word
/// (all a set of at most 64 policies needs), and either the numbers themselves, sorted, while
/// there are at most [`INLINE`] of them, or a roaring bitmap of them all.
#[derive(Clone, Debug, Default, PartialEq)]
#[repr(C, align(64))]
pub(super) struct Bits {
    len: u32,
    /// Sorted; the first `len` entries are the numbers while `len <= INLINE`.
    inline: [u32; INLINE],
    low: u64,
    /// Every number, once there are more than [`INLINE`].
    big: Option<Box<RoaringBitmap>>,
}

impl Bits {
    pub(super) fn insert(&mut self, n: u32) {
        if self.contains(n) {
            return;
        }
        if n < 64 {
            self.low |= 1 << n;
        }
        let len = self.len as usize;
        if let Some(big) = &mut self.big {
            big.insert(n);
        } else if len < INLINE {
            let at = self.inline[..len].partition_point(|&m| m < n);
            self.inline.copy_within(at..len, at + 1);
            self.inline[at] = n;
        } else {
            let mut big: RoaringBitmap = self.inline.iter().copied().collect();
            big.insert(n);
            self.big = Some(Box::new(big));
            self.inline = [0; INLINE];
        }
        self.len = self.len.saturating_add(1);
    }

    fn contains(&self, n: u32) -> bool {
        match &self.big {
            Some(big) => big.contains(n),
            None => self.inline[..self.len as usize].contains(&n),
        }
    }

    pub(super) fn len(&self) -> u64 {
        u64::from(self.len)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The numbers below 64, as bits.
    pub(super) fn low(&self) -> u64 {
        self.low
    }

    /// Calls `f` with every number, in increasing order.
    pub(super) fn each(&self, f: &mut impl FnMut(u32)) {
        match &self.big {
            Some(big) => big.iter().for_each(f),
            None => self.inline[..self.len as usize].iter().for_each(|&n| f(n)),
        }
    }

    /// The numbers as a bitmap.
    pub(super) fn to_bitmap(&self) -> RoaringBitmap {
        match &self.big {
            Some(big) => (**big).clone(),
            None => self.inline[..self.len as usize].iter().copied().collect(),
        }
    }

    /// Adds to `out` the numbers of `self` that are also in `within`.
    pub(super) fn add_common(&self, within: &RoaringBitmap, out: &mut RoaringBitmap) {
        match &self.big {
            Some(big) => *out |= within & &**big,
            None => out.extend(
                self.inline[..self.len as usize]
                    .iter()
                    .copied()
                    .filter(|&n| within.contains(n)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Bits>(), 64);
    }

    #[test]
    fn numbers_stay_sorted_and_unique_inline_and_beyond() {
        let mut bits = Bits::default();
        let mut want = std::collections::BTreeSet::new();
        for n in [
            70, 3, 65, 3, 9, 1000, 0, 63, 64, 70, 5, 8, 7, 6, 4, 2, 1, 100_000,
        ] {
            bits.insert(n);
            want.insert(n);
            let mut got = Vec::new();
            bits.each(&mut |n| got.push(n));
            assert_eq!(got, want.iter().copied().collect::<Vec<_>>());
            assert_eq!(bits.len(), want.len() as u64);
            assert_eq!(bits.to_bitmap(), want.iter().copied().collect());
            let low = want
                .iter()
                .filter(|&&n| n < 64)
                .fold(0u64, |m, &n| m | 1 << n);
            assert_eq!(bits.low(), low);
        }
        assert!(bits.big.is_some());
        let within: RoaringBitmap = [3, 64, 99, 100_000].into_iter().collect();
        let mut out = RoaringBitmap::new();
        bits.add_common(&within, &mut out);
        assert_eq!(out, [3, 64, 100_000].into_iter().collect());
    }
}
