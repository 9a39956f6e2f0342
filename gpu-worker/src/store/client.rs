//! Uploading to a running store service (`gpu-worker store-put`, and later the worker's own
//! uploads of adapters and indexes).

use super::{disk::PutOutcome, hash::ContentHash};
use crate::net::{HttpClient, HttpError};
use bytes::Bytes;
use hyper::{Method, StatusCode};

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreClientError {
	/// The request did not get a response.
	#[error(transparent)]
	Http(#[from] HttpError),
	/// The store answered with an error status.
	#[error("store refused {hash}: HTTP {status}: {message}")]
	Refused {
		/// The hash the bytes were sent under.
		hash: ContentHash,
		/// The status code.
		status: u16,
		/// The store's `error` message, or the raw body if it was not the store's JSON.
		message: String,
	},
}

/// A client for one store service.
#[derive(Debug, Clone)]
pub struct StoreClient {
	base: String,
	http: HttpClient,
}

impl StoreClient {
	/// A client for the store at `base_url` (e.g. `http://127.0.0.1:8090`).
	pub fn new(base_url: &str) -> Self {
		Self::with_http(base_url, HttpClient::new())
	}

	/// A client that sends its requests through `http` (timeouts, TLS roots).
	pub fn with_http(base_url: &str, http: HttpClient) -> Self {
		Self { base: base_url.trim_end_matches('/').to_owned(), http }
	}

	/// The locator of `hash` in this store: what a contributor registers on-chain and what
	/// [`crate::fetch::Fetcher`] accepts.
	pub fn locator(&self, hash: &ContentHash) -> String {
		format!("{}/content/{hash}", self.base)
	}

	/// Uploads `bytes` under their hash with `PUT`, so the store checks the hash we computed.
	pub async fn put(
		&self,
		bytes: impl Into<Bytes>,
	) -> Result<(ContentHash, PutOutcome), StoreClientError> {
		let bytes = bytes.into();
		let hash = ContentHash::of(&bytes);
		let response = self.http.request(Method::PUT, &self.locator(&hash), bytes).await?;
		match response.status {
			StatusCode::CREATED => Ok((hash, PutOutcome::Created)),
			StatusCode::OK => Ok((hash, PutOutcome::AlreadyPresent)),
			status => Err(StoreClientError::Refused {
				hash,
				status: status.as_u16(),
				message: error_message(&response.body),
			}),
		}
	}
}

/// The `error` field of the store's JSON error body, or the body itself if it is something else.
fn error_message(body: &[u8]) -> String {
	serde_json::from_slice::<serde_json::Value>(body)
		.ok()
		.and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
		.unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect())
}
