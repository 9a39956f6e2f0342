//! The store's HTTP service: hyper 1 over tokio, HTTP/1.1.
//!
//! Routing and the mapping from errors to statuses live in [`super::routes`]; this module does
//! the IO around them: accepting connections, reading bodies with a cap, and running the blocking
//! disk calls of [`DiskStore`] off the async threads.
//!
//! Resource bounds, so one client cannot take the service down:
//! - at most `max_connections` connections are served at once; further ones wait in the backlog;
//! - request headers (and idle keep-alive connections) time out after `header_read_timeout`;
//! - a request body is read for at most `body_read_timeout`, and never past the store's object
//!   limit (a declared `content-length` over the limit is refused before reading);
//! - a connection lives at most `connection_lifetime`, which also cuts off a client that stops
//!   reading a response.

use super::{
	disk::{DiskStore, StoreError},
	hash::ContentHash,
	routes::{self, Route},
};
use crate::net::{accept_loop, collect_capped, CappedBodyError};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{
	body::Incoming,
	header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE, ETAG},
	server::conn::http1,
	service::service_fn,
	Request, Response, StatusCode,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{json, Value};
use std::{convert::Infallible, future::Future, io, net::SocketAddr, sync::Arc, time::Duration};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};

/// Limits of the HTTP service; the object size limit is the store's own.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
	/// Connections served at once.
	pub max_connections: usize,
	/// Time allowed for a request's headers to arrive, including the idle time before the next
	/// request on a kept-alive connection.
	pub header_read_timeout: Duration,
	/// Time allowed for reading a request body.
	pub body_read_timeout: Duration,
	/// The longest a single connection is kept.
	pub connection_lifetime: Duration,
}

impl Default for ServiceConfig {
	fn default() -> Self {
		Self {
			// 64 connections each buffering up to one 16 MiB object bound memory to about 1 GiB.
			max_connections: 64,
			header_read_timeout: Duration::from_secs(30),
			body_read_timeout: Duration::from_secs(120),
			connection_lifetime: Duration::from_secs(600),
		}
	}
}

type Body = Full<Bytes>;

struct State {
	store: DiskStore,
	config: ServiceConfig,
}

/// A bound, not yet running, store service.
///
/// Binding and serving are separate steps so that a caller can bind port 0 and learn the port
/// ([`StoreServer::local_addr`]) before any request can arrive.
pub struct StoreServer {
	listener: TcpListener,
	state: Arc<State>,
}

impl StoreServer {
	/// Binds `addr` for serving `store`.
	pub async fn bind(
		addr: impl ToSocketAddrs,
		store: DiskStore,
		config: ServiceConfig,
	) -> io::Result<Self> {
		let listener = TcpListener::bind(addr).await?;
		Ok(Self { listener, state: Arc::new(State { store, config }) })
	}

	/// The address actually bound (the real port when bound to port 0).
	pub fn local_addr(&self) -> io::Result<SocketAddr> {
		self.listener.local_addr()
	}

	/// Serves until the process ends.
	pub async fn run(self) {
		self.run_until(std::future::pending()).await
	}

	/// Serves until `shutdown` completes, then stops accepting connections. Connections already
	/// accepted finish on their own tasks.
	pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
		let max = self.state.config.max_connections;
		let state = self.state;
		accept_loop(&self.listener, max, "store", shutdown, move |stream| {
			serve_connection(stream, state.clone())
		})
		.await
	}
}

async fn serve_connection(stream: TcpStream, state: Arc<State>) {
	let _ = stream.set_nodelay(true);
	let lifetime = state.config.connection_lifetime;
	let header_timeout = state.config.header_read_timeout;
	let service = service_fn(move |request| {
		let state = state.clone();
		async move { Ok::<_, Infallible>(handle(request, &state).await) }
	});
	let connection = http1::Builder::new()
		.timer(TokioTimer::new())
		.header_read_timeout(header_timeout)
		.serve_connection(TokioIo::new(stream), service);
	// Errors here are clients going away or timing out: nothing to report to anyone.
	let _ = tokio::time::timeout(lifetime, connection).await;
}

async fn handle(request: Request<Incoming>, state: &State) -> Response<Body> {
	let route = routes::route(request.method(), request.uri().path());
	let result = match route {
		Route::Health => Ok(json_response(StatusCode::OK, json!({ "status": "ok" }))),
		Route::Get(hash) => get(state, hash, true).await,
		Route::Head(hash) => get(state, hash, false).await,
		Route::Put(hash) => put(state, request, Some(hash)).await,
		Route::Upload => put(state, request, None).await,
		Route::MalformedHash(e) => Err(routes::malformed_hash(&e)),
		Route::MethodNotAllowed(allow) => {
			let mut response = json_response(
				StatusCode::METHOD_NOT_ALLOWED,
				json!({ "error": "method not allowed" }),
			);
			response.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
			Ok(response)
		}
		Route::NotFound => Err(routes::not_found()),
	};
	result.unwrap_or_else(|(status, body)| json_response(status, body))
}

type Failure = (StatusCode, Value);

async fn get(state: &State, hash: ContentHash, with_body: bool) -> Result<Response<Body>, Failure> {
	let bytes = on_store(state, move |store| store.get(&hash)).await?;
	let len = bytes.len();
	// HEAD verifies too: a client that checks presence before uploading must not be told a
	// corrupted copy is fine.
	let body = if with_body { Full::new(Bytes::from(bytes)) } else { Full::default() };
	let mut response = Response::new(body);
	let headers = response.headers_mut();
	headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
	headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
	// The hash is the content's identity, so it is a perfect (strong) entity tag.
	if let Ok(tag) = HeaderValue::from_str(&format!("\"{hash}\"")) {
		headers.insert(ETAG, tag);
	}
	Ok(response)
}

async fn put(
	state: &State,
	request: Request<Incoming>,
	claimed: Option<ContentHash>,
) -> Result<Response<Body>, Failure> {
	let bytes = read_body(state, request).await?;
	let size = bytes.len();
	let (hash, outcome) = on_store(state, move |store| match claimed {
		Some(hash) => store.put(&hash, &bytes).map(|outcome| (hash, outcome)),
		None => store.insert(&bytes),
	})
	.await?;
	let (status, body) = routes::stored(&hash, size, outcome);
	Ok(json_response(status, body))
}

async fn read_body(state: &State, request: Request<Incoming>) -> Result<Vec<u8>, Failure> {
	let limit = state.store.max_bytes();
	let read = collect_capped(request.into_body(), limit);
	match tokio::time::timeout(state.config.body_read_timeout, read).await {
		Ok(Ok(bytes)) => Ok(bytes),
		Ok(Err(CappedBodyError::TooLarge { limit })) => Err(routes::too_large(limit)),
		Ok(Err(CappedBodyError::Body(_))) => {
			Err((StatusCode::BAD_REQUEST, json!({ "error": "could not read the request body" })))
		}
		Err(_) => Err((
			StatusCode::REQUEST_TIMEOUT,
			json!({ "error": "timed out reading the request body" }),
		)),
	}
}

/// Runs a blocking store call on tokio's blocking pool and maps its error to a response.
async fn on_store<T, F>(state: &State, call: F) -> Result<T, Failure>
where
	T: Send + 'static,
	F: FnOnce(&DiskStore) -> Result<T, StoreError> + Send + 'static,
{
	let store = state.store.clone();
	let joined = tokio::task::spawn_blocking(move || call(&store)).await;
	match joined {
		Ok(Ok(value)) => Ok(value),
		Ok(Err(e)) => {
			// The operator needs to hear about damage and disk trouble; the client only gets the
			// status (see `routes::store_error`).
			if matches!(e, StoreError::Corrupted { .. } | StoreError::Io { .. }) {
				eprintln!("store: {e}");
			}
			Err(routes::store_error(&e))
		}
		Err(e) => {
			eprintln!("store: storage task failed: {e}");
			Err((StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": "storage error" })))
		}
	}
}

fn json_response(status: StatusCode, body: Value) -> Response<Body> {
	let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
	*response.status_mut() = status;
	response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
	response
}
