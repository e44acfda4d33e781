//! Typed indices into the program's tables, and the vectors they index.
//!
//! The IR refers to its parts by position: a check names its rule, an expression its column, a
//! lookup its table. As bare `u32`s, a field's index passed where a local's was meant compiles and
//! reads the wrong slot; as an [`Idx<T>`], marked with the kind of thing it points at, it does not.
//! [`IndexVec`] is a vector that is indexed by its own kind of index and no other, so that the
//! `as usize` casts, and the chance of indexing the wrong table, are gone from every reader.
//!
//! An index is still a `u32` underneath (the JIT bakes them into machine code, and a `Program`
//! stays as compact as it was); [`Idx::raw`] and [`Idx::index`] are the way out at such a boundary.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut, Index, IndexMut};

/// The position of a `T` in the table of `T`s it was made for: an `Idx<Rule>` is a position in
/// `Program::rules`. `T` only marks the kind; no `T` is stored or needed.
pub struct Idx<T> {
    raw: u32,
    // `fn() -> T`: the index neither owns a `T` nor borrows one, so it is `Send`, `Sync` and
    // `'static` whatever `T` is.
    _marker: PhantomData<fn() -> T>,
}

impl<T> Idx<T> {
    /// The index whose position is `raw`.
    pub const fn from_raw(raw: u32) -> Self {
        Idx { raw, _marker: PhantomData }
    }

    /// The index of position `index`.
    ///
    /// # Panics
    ///
    /// When `index` does not fit a `u32`. No table of a program comes near: a spec is read only
    /// up to a few megabytes, and every entry of a table takes at least a few bytes of it.
    pub fn from_index(index: usize) -> Self {
        Idx::from_raw(u32::try_from(index).expect("a program's tables have fewer than 2^32 entries"))
    }

    /// The position as the IR stores it (what the JIT bakes into code).
    pub const fn raw(self) -> u32 {
        self.raw
    }

    /// The position, to index a slice or an Arrow batch with.
    pub const fn index(self) -> usize {
        self.raw as usize
    }
}

// The traits by hand: a derive would ask the same of `T`, which is only a marker (often an
// uninhabited one, or a type such as `Rule` that is neither `Copy` nor `Ord`).
impl<T> Clone for Idx<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Idx<T> {}

impl<T> PartialEq for Idx<T> {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl<T> Eq for Idx<T> {}

impl<T> PartialOrd for Idx<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Idx<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.raw.cmp(&other.raw)
    }
}

impl<T> Hash for Idx<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.raw.hash(state);
    }
}

/// `Rule#3`: the kind, so that a dump of the IR tells a rule's index from a column's.
impl<T> fmt::Debug for Idx<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = std::any::type_name::<T>();
        let kind = path.rsplit("::").next().unwrap_or(path);
        write!(f, "{kind}#{}", self.raw)
    }
}

/// A vector of `V`s indexed by `Idx<K>` (`K` is `V` itself unless the values are not the things
/// counted: the source's columns are `String`s, indexed by `Idx<Column>`).
///
/// It dereferences to the slice, so iterating, `len` and the rest read as they do on a `Vec`; `get`
/// and indexing take the typed index.
pub struct IndexVec<K, V = K> {
    items: Vec<V>,
    _marker: PhantomData<fn(Idx<K>)>,
}

impl<K, V> IndexVec<K, V> {
    pub const fn new() -> Self {
        IndexVec { items: Vec::new(), _marker: PhantomData }
    }

    /// Appends `value` and returns its index.
    pub fn push(&mut self, value: V) -> Idx<K> {
        let idx = Idx::from_index(self.items.len());
        self.items.push(value);
        idx
    }

    /// The value at `idx`, if the vector reaches it.
    pub fn get(&self, idx: Idx<K>) -> Option<&V> {
        self.items.get(idx.index())
    }

    pub fn get_mut(&mut self, idx: Idx<K>) -> Option<&mut V> {
        self.items.get_mut(idx.index())
    }

    /// The values with their indices.
    pub fn iter_enumerated(&self) -> impl ExactSizeIterator<Item = (Idx<K>, &V)> {
        self.items.iter().enumerate().map(|(i, value)| (Idx::from_index(i), value))
    }
}

impl<K, V> Default for IndexVec<K, V> {
    fn default() -> Self {
        IndexVec::new()
    }
}

impl<K, V: Clone> Clone for IndexVec<K, V> {
    fn clone(&self) -> Self {
        IndexVec { items: self.items.clone(), _marker: PhantomData }
    }
}

impl<K, V: PartialEq> PartialEq for IndexVec<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl<K, V: Eq> Eq for IndexVec<K, V> {}

impl<K, V: Hash> Hash for IndexVec<K, V> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.items.hash(state);
    }
}

/// As the `Vec` it wraps: a dump of a `Program` reads as it did before the indices were typed.
impl<K, V: fmt::Debug> fmt::Debug for IndexVec<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.items.fmt(f)
    }
}

impl<K, V> Deref for IndexVec<K, V> {
    type Target = [V];

    fn deref(&self) -> &[V] {
        &self.items
    }
}

impl<K, V> DerefMut for IndexVec<K, V> {
    fn deref_mut(&mut self) -> &mut [V] {
        &mut self.items
    }
}

impl<K, V> Index<Idx<K>> for IndexVec<K, V> {
    type Output = V;

    fn index(&self, idx: Idx<K>) -> &V {
        &self.items[idx.index()]
    }
}

impl<K, V> IndexMut<Idx<K>> for IndexVec<K, V> {
    fn index_mut(&mut self, idx: Idx<K>) -> &mut V {
        &mut self.items[idx.index()]
    }
}

impl<K, V> From<Vec<V>> for IndexVec<K, V> {
    fn from(items: Vec<V>) -> Self {
        IndexVec { items, _marker: PhantomData }
    }
}

impl<K, V> FromIterator<V> for IndexVec<K, V> {
    fn from_iter<I: IntoIterator<Item = V>>(iter: I) -> Self {
        IndexVec::from(iter.into_iter().collect::<Vec<V>>())
    }
}

impl<K, V> Extend<V> for IndexVec<K, V> {
    fn extend<I: IntoIterator<Item = V>>(&mut self, iter: I) {
        self.items.extend(iter);
    }
}

impl<'a, K, V> IntoIterator for &'a IndexVec<K, V> {
    type Item = &'a V;
    type IntoIter = std::slice::Iter<'a, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<'a, K, V> IntoIterator for &'a mut IndexVec<K, V> {
    type Item = &'a mut V;
    type IntoIter = std::slice::IterMut<'a, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter_mut()
    }
}

impl<K, V> IntoIterator for IndexVec<K, V> {
    type Item = V;
    type IntoIter = std::vec::IntoIter<V>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Apple {}
    enum Pear {}

    #[test]
    fn an_index_shows_its_kind_and_reads_back_its_position() {
        let idx = Idx::<Apple>::from_index(3);
        assert_eq!((idx.raw(), idx.index()), (3, 3));
        assert_eq!(format!("{idx:?}"), "Apple#3");
        assert!(Idx::<Pear>::from_raw(1) < Idx::from_raw(2));
    }

    #[test]
    fn a_vector_hands_out_the_indices_of_what_it_holds() {
        let mut names: IndexVec<Pear, &str> = IndexVec::new();
        let first = names.push("a");
        let second = names.push("b");
        assert_eq!((names[first], names[second]), ("a", "b"));
        assert_eq!(names.get(Idx::from_raw(2)), None);
        assert_eq!(names.iter_enumerated().map(|(i, v)| (i.raw(), *v)).collect::<Vec<_>>(), [(0, "a"), (1, "b")]);
        assert_eq!(format!("{names:?}"), r#"["a", "b"]"#);
    }
}
