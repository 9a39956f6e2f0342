//! Parsing a contribution locator (pure).

use super::FetchError;
use std::{path::PathBuf, str::FromStr};

/// Where a contribution's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locator {
	/// An `http://` or `https://` URL, as given.
	Http(String),
	/// A local file, from a `file://` URL.
	File(PathBuf),
}

impl FromStr for Locator {
	type Err = FetchError;

	fn from_str(locator: &str) -> Result<Self, Self::Err> {
		let invalid = |reason| FetchError::InvalidLocator { locator: locator.to_owned(), reason };
		let (scheme, rest) = locator.split_once("://").ok_or_else(|| invalid("no scheme"))?;
		match scheme.to_ascii_lowercase().as_str() {
			"http" | "https" => Ok(Self::Http(locator.to_owned())),
			"file" => {
				// `file:///p` and `file://localhost/p` name a local path; any other host is a
				// file on another machine, which this fetcher cannot reach.
				let path = if rest.starts_with('/') {
					rest
				} else if let Some(p) = rest.strip_prefix("localhost") {
					p
				} else {
					return Err(invalid("file URLs name a local path: file:///absolute/path"));
				};
				if !path.starts_with('/') {
					return Err(invalid("file URLs name an absolute path"));
				}
				let decoded = percent_decode(path).ok_or_else(|| invalid("bad percent-escape"))?;
				Ok(Self::File(PathBuf::from(decoded)))
			}
			"" => Err(invalid("no scheme")),
			_ => Err(FetchError::UnsupportedScheme(scheme.to_owned())),
		}
	}
}

/// Decodes `%XX` escapes; `None` for a malformed escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
	let mut out = Vec::with_capacity(s.len());
	let mut bytes = s.bytes();
	while let Some(b) = bytes.next() {
		if b == b'%' {
			let hi = char::from(bytes.next()?).to_digit(16)?;
			let lo = char::from(bytes.next()?).to_digit(16)?;
			out.push(u8::try_from(hi * 16 + lo).ok()?);
		} else {
			out.push(b);
		}
	}
	String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn parses_each_scheme() {
		let store = "http://127.0.0.1:8090/content/0xab";
		assert_eq!(store.parse::<Locator>().unwrap(), Locator::Http(store.into()));
		let tls = "https://data.example.org/notes.jsonl";
		assert_eq!(tls.parse::<Locator>().unwrap(), Locator::Http(tls.into()));
		assert_eq!(
			"file:///var/data/a%20b.jsonl".parse::<Locator>().unwrap(),
			Locator::File("/var/data/a b.jsonl".into())
		);
		assert_eq!(
			"file://localhost/tmp/x".parse::<Locator>().unwrap(),
			Locator::File("/tmp/x".into())
		);
	}

	#[test]
	fn rejects_what_it_cannot_fetch() {
		assert!(matches!(
			"ipfs://bafy".parse::<Locator>(),
			Err(FetchError::UnsupportedScheme(s)) if s == "ipfs"
		));
		assert!(matches!("/tmp/x".parse::<Locator>(), Err(FetchError::InvalidLocator { .. })));
		assert!(matches!(
			"file://server/share/x".parse::<Locator>(),
			Err(FetchError::InvalidLocator { .. })
		));
		assert!(matches!("file:///a%2".parse::<Locator>(), Err(FetchError::InvalidLocator { .. })));
	}
}
