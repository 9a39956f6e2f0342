//! Getting a contribution's bytes back from its locator, verified against its on-chain hash.
//!
//! A Datanet contribution is registered as (content hash, size, locator). Whoever needs the bytes
//! (the worker, before training) calls [`fetch`] or [`Fetcher::fetch`] with the locator and the
//! hash from the chain; bytes that hash to anything else are refused with
//! [`FetchError::HashMismatch`], so a locator can point anywhere without being trusted.
//!
//! Locators ([`Locator`]):
//! - `http://host:port/content/0x<hash>`: a `gpu-worker store`, or any other HTTP server;
//! - `https://...`: TLS through rustls, checked against the system's trust roots;
//! - `file:///absolute/path`: a local file (percent-escapes decoded).

mod locator;

pub use locator::Locator;

use crate::{
	net::{HttpClient, HttpError},
	store::{ContentHash, DEFAULT_MAX_OBJECT_BYTES},
};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use std::{path::PathBuf, sync::OnceLock};
use tokio::io::AsyncReadExt;

/// Why a fetch failed. Nothing is returned unless it matched the expected hash.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
	/// The locator is not a URL this fetcher understands.
	#[error("invalid locator {locator:?}: {reason}")]
	InvalidLocator {
		/// The locator as given.
		locator: String,
		/// What is wrong with it.
		reason: &'static str,
	},
	/// The locator's scheme is not `http`, `https` or `file`.
	#[error("unsupported locator scheme {0:?}: use http://, https:// or file://")]
	UnsupportedScheme(String),
	/// A `file://` locator could not be read.
	#[error("reading {}: {source}", path.display())]
	File {
		/// The local path.
		path: PathBuf,
		/// The underlying error.
		#[source]
		source: std::io::Error,
	},
	/// The HTTP(S) request failed (connect, TLS, protocol, timeout).
	#[error("fetching {locator}: {source}")]
	Http {
		/// The locator.
		locator: String,
		/// The underlying error.
		#[source]
		source: HttpError,
	},
	/// The server answered, but not with the content (e.g. 404).
	#[error("fetching {locator}: HTTP {status}")]
	Status {
		/// The locator.
		locator: String,
		/// The status code.
		status: u16,
	},
	/// The content is larger than the fetcher's limit.
	#[error("content at {locator} exceeds the limit of {limit} bytes")]
	TooLarge {
		/// The locator.
		locator: String,
		/// The limit.
		limit: u64,
	},
	/// The content does not hash to the expected hash.
	#[error("content at {locator} hashes to {actual}, expected {expected}")]
	HashMismatch {
		/// The locator.
		locator: String,
		/// The hash the caller (the chain) expects.
		expected: ContentHash,
		/// What the bytes hash to.
		actual: ContentHash,
	},
}

/// Fetches and verifies content. Cheap to clone; keep one around to reuse its loaded TLS roots.
#[derive(Debug, Clone)]
pub struct Fetcher {
	http: HttpClient,
	max_bytes: u64,
}

impl Default for Fetcher {
	fn default() -> Self {
		Self::new()
	}
}

impl Fetcher {
	/// A fetcher with a 16 MiB limit (the store's default), a 60 s timeout and the system's
	/// trust roots.
	pub fn new() -> Self {
		Self::with_http(HttpClient::new())
	}

	/// A fetcher whose HTTP(S) requests go through `http` (timeout, TLS roots); the size limit is
	/// reset to the default.
	pub fn with_http(http: HttpClient) -> Self {
		Self {
			http: http.with_max_response_bytes(DEFAULT_MAX_OBJECT_BYTES),
			max_bytes: DEFAULT_MAX_OBJECT_BYTES,
		}
	}

	/// Sets the largest content accepted, in bytes.
	pub fn with_max_bytes(mut self, limit: u64) -> Self {
		self.max_bytes = limit;
		self.http = self.http.with_max_response_bytes(limit);
		self
	}

	/// Gets the bytes at `locator` and checks that they hash to `expected`.
	pub async fn fetch(
		&self,
		locator: &str,
		expected: impl Into<ContentHash>,
	) -> Result<Vec<u8>, FetchError> {
		let expected = expected.into();
		let bytes = match locator.parse::<Locator>()? {
			Locator::Http(url) => self.fetch_http(locator, &url).await?,
			Locator::File(path) => self.fetch_file(locator, path).await?,
		};
		expected.verify(&bytes).map_err(|actual| FetchError::HashMismatch {
			locator: locator.to_owned(),
			expected,
			actual,
		})?;
		Ok(bytes)
	}

	async fn fetch_http(&self, locator: &str, url: &str) -> Result<Vec<u8>, FetchError> {
		let response =
			self.http.request(Method::GET, url, Bytes::new()).await.map_err(|e| match e {
				HttpError::ResponseTooLarge { limit } => {
					FetchError::TooLarge { locator: locator.to_owned(), limit }
				}
				source => FetchError::Http { locator: locator.to_owned(), source },
			})?;
		if response.status != StatusCode::OK {
			return Err(FetchError::Status {
				locator: locator.to_owned(),
				status: response.status.as_u16(),
			});
		}
		Ok(response.body)
	}

	async fn fetch_file(&self, locator: &str, path: PathBuf) -> Result<Vec<u8>, FetchError> {
		let file = tokio::fs::File::open(&path).await;
		let file = match file {
			Ok(f) => f,
			Err(source) => return Err(FetchError::File { path, source }),
		};
		// One byte past the limit tells "too large" apart from "exactly at the limit" without
		// ever holding more than that.
		let mut bytes = Vec::new();
		if let Err(source) =
			file.take(self.max_bytes.saturating_add(1)).read_to_end(&mut bytes).await
		{
			return Err(FetchError::File { path, source });
		}
		if bytes.len() as u64 > self.max_bytes {
			return Err(FetchError::TooLarge {
				locator: locator.to_owned(),
				limit: self.max_bytes,
			});
		}
		Ok(bytes)
	}
}

/// Fetches `locator` and checks it against `expected` with a shared default [`Fetcher`].
pub async fn fetch(locator: &str, expected: [u8; 32]) -> Result<Vec<u8>, FetchError> {
	static DEFAULT: OnceLock<Fetcher> = OnceLock::new();
	DEFAULT.get_or_init(Fetcher::new).fetch(locator, expected).await
}
