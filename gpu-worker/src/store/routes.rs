//! The store's HTTP API, as pure functions the service calls.
//!
//! | request                    | success                                  | failures                    |
//! |----------------------------|------------------------------------------|-----------------------------|
//! | `PUT /content/0x<hash>`    | 201 created, 200 already present         | 400, 413, 422               |
//! | `POST /content`            | 201 `{"hash","size"}` (200 if present)   | 413                         |
//! | `GET /content/0x<hash>`    | 200 bytes, `application/octet-stream`    | 400, 404, 500 corrupted     |
//! | `HEAD /content/0x<hash>`   | 200 with `content-length`                | 400, 404, 500 corrupted     |
//! | `GET /health`              | 200 `{"status":"ok"}`                    |                             |
//!
//! Errors are JSON objects with an `error` field; a hash mismatch also names both hashes.

use super::{
	disk::{PutOutcome, StoreError},
	hash::{ContentHash, ParseHashError},
};
use hyper::{Method, StatusCode};
use serde_json::{json, Value};

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
	/// `GET` or `HEAD /health`.
	Health,
	/// `POST /content`: store the body under its own hash.
	Upload,
	/// `PUT /content/0x<hash>`: store the body under `hash`.
	Put(ContentHash),
	/// `GET /content/0x<hash>`.
	Get(ContentHash),
	/// `HEAD /content/0x<hash>`.
	Head(ContentHash),
	/// `/content/<something that is not a hash>`.
	MalformedHash(ParseHashError),
	/// A known path with a method it does not take; carries the `Allow` header value.
	MethodNotAllowed(&'static str),
	/// Any other path.
	NotFound,
}

/// Routes a request by method and path (the query string is ignored).
pub fn route(method: &Method, path: &str) -> Route {
	match path {
		"/health" => match *method {
			Method::GET | Method::HEAD => Route::Health,
			_ => Route::MethodNotAllowed("GET, HEAD"),
		},
		"/content" | "/content/" => match *method {
			Method::POST => Route::Upload,
			_ => Route::MethodNotAllowed("POST"),
		},
		_ => {
			let Some(text) = path.strip_prefix("/content/") else { return Route::NotFound };
			if !matches!(*method, Method::GET | Method::HEAD | Method::PUT) {
				return Route::MethodNotAllowed("GET, HEAD, PUT");
			}
			match text.parse::<ContentHash>() {
				Err(e) => Route::MalformedHash(e),
				Ok(hash) if *method == Method::PUT => Route::Put(hash),
				Ok(hash) if *method == Method::HEAD => Route::Head(hash),
				Ok(hash) => Route::Get(hash),
			}
		}
	}
}

/// Status and body for a stored object: 201 when written now, 200 when it was already there.
pub fn stored(hash: &ContentHash, size: usize, outcome: PutOutcome) -> (StatusCode, Value) {
	let status = match outcome {
		PutOutcome::Created => StatusCode::CREATED,
		PutOutcome::AlreadyPresent => StatusCode::OK,
	};
	(status, json!({ "hash": hash.to_string(), "size": size }))
}

/// Status and body for a failed store operation.
///
/// I/O failures get a generic message: the path and OS error are for the operator's log, not for
/// whoever sent the request.
pub fn store_error(err: &StoreError) -> (StatusCode, Value) {
	match err {
		StoreError::HashMismatch { expected, actual } => (
			StatusCode::UNPROCESSABLE_ENTITY,
			json!({
				"error": "hash mismatch",
				"expected": expected.to_string(),
				"actual": actual.to_string(),
			}),
		),
		StoreError::TooLarge { limit, .. } => too_large(*limit),
		StoreError::NotFound(_) => not_found(),
		StoreError::Corrupted { .. } => {
			(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": "stored content is corrupted" }))
		}
		StoreError::Io { .. } => {
			(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": "storage error" }))
		}
	}
}

/// 413 with the limit, so a client can tell how much it may send.
pub fn too_large(limit: u64) -> (StatusCode, Value) {
	(StatusCode::PAYLOAD_TOO_LARGE, json!({ "error": "content too large", "limit": limit }))
}

/// 404.
pub fn not_found() -> (StatusCode, Value) {
	(StatusCode::NOT_FOUND, json!({ "error": "not found" }))
}

/// 400 for a path segment that is not `0x` + 64 hex digits.
pub fn malformed_hash(err: &ParseHashError) -> (StatusCode, Value) {
	(
		StatusCode::BAD_REQUEST,
		json!({ "error": "malformed content hash", "detail": err.to_string() }),
	)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn routes_content_requests_by_method() {
		let h = ContentHash::of(b"dust attack");
		let path = format!("/content/{h}");
		assert_eq!(route(&Method::GET, &path), Route::Get(h));
		assert_eq!(route(&Method::HEAD, &path), Route::Head(h));
		assert_eq!(route(&Method::PUT, &path), Route::Put(h));
		assert_eq!(route(&Method::DELETE, &path), Route::MethodNotAllowed("GET, HEAD, PUT"));
		assert_eq!(route(&Method::POST, "/content"), Route::Upload);
		assert_eq!(route(&Method::GET, "/content"), Route::MethodNotAllowed("POST"));
		assert_eq!(route(&Method::GET, "/health"), Route::Health);
		assert_eq!(route(&Method::GET, "/elsewhere"), Route::NotFound);
	}

	#[test]
	fn malformed_hash_is_its_own_route() {
		assert_eq!(
			route(&Method::GET, "/content/0x1234"),
			Route::MalformedHash(ParseHashError::WrongLength(4))
		);
		assert_eq!(
			route(&Method::PUT, "/content/deadbeef"),
			Route::MalformedHash(ParseHashError::MissingPrefix)
		);
	}

	#[test]
	fn mismatch_names_both_hashes() {
		let expected = ContentHash::of(b"a");
		let actual = ContentHash::of(b"b");
		let (status, body) = store_error(&StoreError::HashMismatch { expected, actual });
		assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
		assert_eq!(body["error"], "hash mismatch");
		assert_eq!(body["expected"], expected.to_string());
		assert_eq!(body["actual"], actual.to_string());
	}

	#[test]
	fn io_errors_do_not_leak_paths() {
		let err = StoreError::Io {
			path: "/secret/place".into(),
			source: std::io::Error::other("disk on fire"),
		};
		let (status, body) = store_error(&err);
		assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
		assert!(!body.to_string().contains("secret"));
	}
}
