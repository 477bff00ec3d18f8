//! Where request headers come from: a slice of `(name, value)` pairs, or (feature `http`) an
//! `http::HeaderMap`, read in place either way.

/// A read-only view of a request's headers.
///
/// Implemented for slices, arrays and vectors of `(name, value)` pairs (names compare
/// case-insensitively) and, with the `http` feature, for `http::HeaderMap`. Sealed: the crate's
/// refusal rules rely on [`HeaderSource::single`]'s ambiguity check.
pub trait HeaderSource: private::Sealed {
    /// The one value of header `name` (given in lower case).
    ///
    /// `Ok(None)` if absent.
    ///
    /// # Errors
    /// `Err(())` if it appears more than once or is not UTF-8, both of which make a request
    /// ambiguous.
    #[allow(clippy::result_unit_err)]
    fn single(&self, name: &str) -> Result<Option<&str>, ()>;

    /// Whether any header whose (lower-case) name starts with `prefix` is present.
    fn any_with_prefix(&self, prefix: &str) -> bool;
}

mod private {
    pub trait Sealed {}
}

fn pairs_single<'h, N, V>(pairs: impl Iterator<Item = &'h (N, V)>, name: &str) -> Result<Option<&'h str>, ()>
where
    N: AsRef<str> + 'h,
    V: AsRef<[u8]> + 'h,
{
    let mut found = None;
    for (n, v) in pairs {
        if n.as_ref().eq_ignore_ascii_case(name) {
            let v = core::str::from_utf8(v.as_ref()).map_err(|_| ())?;
            if found.replace(v).is_some() {
                return Err(());
            }
        }
    }
    Ok(found)
}

fn starts_with_ignore_case(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len() && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

impl<N: AsRef<str>, V: AsRef<[u8]>> private::Sealed for [(N, V)] {}
impl<N: AsRef<str>, V: AsRef<[u8]>> HeaderSource for [(N, V)] {
    fn single(&self, name: &str) -> Result<Option<&str>, ()> {
        pairs_single(self.iter(), name)
    }
    fn any_with_prefix(&self, prefix: &str) -> bool {
        self.iter().any(|(n, _)| starts_with_ignore_case(n.as_ref(), prefix))
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>, const K: usize> private::Sealed for [(N, V); K] {}
impl<N: AsRef<str>, V: AsRef<[u8]>, const K: usize> HeaderSource for [(N, V); K] {
    fn single(&self, name: &str) -> Result<Option<&str>, ()> {
        self.as_slice().single(name)
    }
    fn any_with_prefix(&self, prefix: &str) -> bool {
        self.as_slice().any_with_prefix(prefix)
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> private::Sealed for Vec<(N, V)> {}
impl<N: AsRef<str>, V: AsRef<[u8]>> HeaderSource for Vec<(N, V)> {
    fn single(&self, name: &str) -> Result<Option<&str>, ()> {
        self.as_slice().single(name)
    }
    fn any_with_prefix(&self, prefix: &str) -> bool {
        self.as_slice().any_with_prefix(prefix)
    }
}

impl<H: HeaderSource + ?Sized> private::Sealed for &H {}
impl<H: HeaderSource + ?Sized> HeaderSource for &H {
    fn single(&self, name: &str) -> Result<Option<&str>, ()> {
        (**self).single(name)
    }
    fn any_with_prefix(&self, prefix: &str) -> bool {
        (**self).any_with_prefix(prefix)
    }
}

/// The pairs of the iterator-based parsers kept from before [`HeaderSource`], as references (the
/// names and values are not copied).
pub(crate) fn pairs<'h, I, N, V>(headers: I) -> Vec<(&'h str, &'h [u8])>
where
    I: IntoIterator<Item = &'h (N, V)>,
    N: AsRef<str> + 'h,
    V: AsRef<[u8]> + 'h,
{
    headers.into_iter().map(|(n, v)| (n.as_ref(), v.as_ref())).collect()
}

#[cfg(feature = "http")]
impl private::Sealed for http::HeaderMap {}
#[cfg(feature = "http")]
impl HeaderSource for http::HeaderMap {
    fn single(&self, name: &str) -> Result<Option<&str>, ()> {
        let mut values = self.get_all(name).iter();
        let Some(first) = values.next() else { return Ok(None) };
        if values.next().is_some() {
            return Err(());
        }
        first.to_str().map(Some).map_err(|_| ())
    }
    fn any_with_prefix(&self, prefix: &str) -> bool {
        // `HeaderName`s are stored in lower case.
        self.keys().any(|n| n.as_str().starts_with(prefix))
    }
}
