//! The answer of the scope index to one request.

use roaring::RoaringBitmap;
use smallvec::SmallVec;

/// The candidates of a request: numbers of policies, in increasing order.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidates(Repr);

/// Numbers of the policies one side's few policies admit: as many as fit in a few registers
/// inline (most requests have one or two candidates), so that the answer moves cheaply.
pub(super) type FewNumbers = SmallVec<[u32; 6]>;

#[derive(Clone, Debug, PartialEq)]
enum Repr {
    /// Numbers below 64, as bits.
    Small(u64),
    /// A few numbers, sorted.
    Few(FewNumbers),
    Large(RoaringBitmap),
}

impl Candidates {
    pub(super) fn none() -> Self {
        Candidates(Repr::Small(0))
    }

    /// The numbers whose bits are set in `mask`.
    pub(super) fn from_mask(mask: u64) -> Self {
        Candidates(Repr::Small(mask))
    }

    /// The given numbers, in any order and possibly repeated.
    pub(super) fn from_numbers(mut numbers: FewNumbers) -> Self {
        numbers.sort_unstable();
        numbers.dedup();
        Candidates(Repr::Few(numbers))
    }

    /// The given numbers, already in increasing order and each once.
    pub(super) fn from_sorted_numbers(numbers: FewNumbers) -> Self {
        debug_assert!(numbers.is_sorted_by(|a, b| a < b));
        Candidates(Repr::Few(numbers))
    }

    pub(super) fn from_bitmap(bitmap: RoaringBitmap) -> Self {
        Candidates(Repr::Large(bitmap))
    }

    pub fn len(&self) -> u64 {
        match &self.0 {
            Repr::Small(m) => u64::from(m.count_ones()),
            Repr::Few(v) => v.len() as u64,
            Repr::Large(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The numbers in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let (small, few, large) = match &self.0 {
            Repr::Small(m) => (*m, &[][..], None),
            Repr::Few(v) => (0, v.as_slice(), None),
            Repr::Large(b) => (0, &[][..], Some(b.iter())),
        };
        let bits = std::iter::successors((small != 0).then_some(small), |m| {
            let rest = m & (m - 1);
            (rest != 0).then_some(rest)
        })
        .map(u64::trailing_zeros);
        bits.chain(few.iter().copied())
            .chain(large.into_iter().flatten())
    }

    /// Adds every number of `other`.
    pub fn add_all(&mut self, other: &RoaringBitmap) {
        match &mut self.0 {
            Repr::Small(m) if other.max().is_none_or(|n| n < 64) => {
                for n in other {
                    *m |= 1 << n;
                }
            }
            Repr::Large(b) => *b |= other,
            _ => {
                let mut b = self.to_bitmap();
                b |= other;
                self.0 = Repr::Large(b);
            }
        }
    }

    pub fn to_bitmap(&self) -> RoaringBitmap {
        self.iter().collect()
    }
}

impl PartialEq<RoaringBitmap> for Candidates {
    fn eq(&self, other: &RoaringBitmap) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b)
    }
}
