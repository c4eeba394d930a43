//! [`NonEmpty`]: a list the grammar requires to hold at least one element.

use std::ops::Deref;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NonEmpty<T>(Vec<T>);

impl<T> NonEmpty<T> {
    pub fn new(first: T) -> Self {
        NonEmpty(vec![first])
    }

    /// `None` when `items` is empty.
    pub fn from_vec(items: Vec<T>) -> Option<Self> {
        if items.is_empty() {
            None
        } else {
            Some(NonEmpty(items))
        }
    }

    pub fn push(&mut self, item: T) {
        self.0.push(item);
    }

    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<T> Deref for NonEmpty<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<'a, T> IntoIterator for &'a NonEmpty<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn construction() {
        assert!(NonEmpty::<u8>::from_vec(vec![]).is_none());
        let mut list = NonEmpty::new(1);
        list.push(2);
        assert_eq!(&*list, &[1, 2]);
        assert_eq!(list.first(), Some(&1));
        assert_eq!(list.into_vec(), vec![1, 2]);
    }
}
