//! A small HTTP/1.1 client: one request per connection, over TCP or TLS.
//!
//! Why not a pooled client: contributions are fetched and uploaded a file at a time and the
//! store is usually on the same host, so a fresh connection per request costs little and keeps
//! the dependency set to what the workspace already builds (hyper, tokio-rustls).
//! Redirects are not followed: a locator names content, and a redirect to elsewhere is an error
//! for the caller to see, not to chase.

use super::body::{collect_capped, CappedBodyError};
use crate::store::DEFAULT_MAX_OBJECT_BYTES;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{
	header::{CONTENT_TYPE, HOST, USER_AGENT},
	HeaderMap, Method, Request, StatusCode, Uri,
};
use hyper_util::rt::TokioIo;
use rustls::{pki_types::ServerName, ClientConfig, RootCertStore};
use std::{
	io,
	sync::{Arc, OnceLock},
	time::Duration,
};
use tokio::{
	io::{AsyncRead, AsyncWrite},
	net::TcpStream,
};

pub use rustls::pki_types::CertificateDer;

/// How long a whole request (connect, send, read the response) may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Sent as `user-agent`, so operators can tell worker traffic apart in their logs.
const AGENT: &str = concat!("openledger-gpu-worker/", env!("CARGO_PKG_VERSION"));

/// A response, read to the end.
#[derive(Debug, Clone)]
pub struct HttpResponse {
	/// The status code.
	pub status: StatusCode,
	/// The response headers.
	pub headers: HeaderMap,
	/// The whole body (at most the client's response limit).
	pub body: Vec<u8>,
}

/// Why a request failed before a complete response was read.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
	/// The URL could not be parsed or lacks a host.
	#[error("invalid URL {url:?}: {reason}")]
	InvalidUrl {
		/// The URL as given.
		url: String,
		/// What is wrong with it.
		reason: String,
	},
	/// Neither `http` nor `https`.
	#[error("unsupported URL scheme {0:?}: only http and https")]
	UnsupportedScheme(String),
	/// The TCP connection could not be opened.
	#[error("could not connect to {authority}: {source}")]
	Connect {
		/// `host:port`.
		authority: String,
		/// The underlying error.
		#[source]
		source: io::Error,
	},
	/// There are no trusted root certificates to check an `https` server against.
	#[error("no trusted root certificates for https: {0}")]
	NoTrustRoots(String),
	/// The TLS handshake failed (untrusted certificate, wrong name, protocol error).
	#[error("TLS handshake with {host} failed: {source}")]
	Tls {
		/// The server name that was checked.
		host: String,
		/// The underlying error (rustls's error is inside).
		#[source]
		source: io::Error,
	},
	/// The HTTP exchange itself failed.
	#[error("HTTP exchange failed: {0}")]
	Protocol(#[from] hyper::Error),
	/// The response body is longer than the client's limit.
	#[error("response body exceeds the limit of {limit} bytes")]
	ResponseTooLarge {
		/// The limit.
		limit: u64,
	},
	/// The request did not complete in time.
	#[error("request timed out after {0:?}")]
	Timeout(Duration),
}

/// Where `https` trust comes from.
#[derive(Clone)]
enum Trust {
	/// The operating system's roots (honouring `SSL_CERT_FILE` / `SSL_CERT_DIR`), loaded on first
	/// use so that `http`-only callers never touch them.
	Native(Arc<OnceLock<Result<Arc<ClientConfig>, String>>>),
	/// Roots given by the caller (a private CA, or a test's self-signed certificate).
	Custom(Arc<ClientConfig>),
}

/// The client. Cheap to clone; clones share the loaded TLS roots.
#[derive(Clone)]
pub struct HttpClient {
	timeout: Duration,
	max_response_bytes: u64,
	trust: Trust,
}

impl Default for HttpClient {
	fn default() -> Self {
		Self::new()
	}
}

impl std::fmt::Debug for HttpClient {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		let trust = match self.trust {
			Trust::Native(_) => "native",
			Trust::Custom(_) => "custom",
		};
		f.debug_struct("HttpClient")
			.field("timeout", &self.timeout)
			.field("max_response_bytes", &self.max_response_bytes)
			.field("trust", &trust)
			.finish()
	}
}

impl HttpClient {
	/// A client with a 60 s timeout, a 16 MiB response limit and the system's trust roots.
	pub fn new() -> Self {
		Self {
			timeout: DEFAULT_TIMEOUT,
			max_response_bytes: DEFAULT_MAX_OBJECT_BYTES,
			trust: Trust::Native(Arc::new(OnceLock::new())),
		}
	}

	/// Sets the time a whole request may take.
	pub fn with_timeout(mut self, timeout: Duration) -> Self {
		self.timeout = timeout;
		self
	}

	/// Sets the largest response body accepted.
	pub fn with_max_response_bytes(mut self, limit: u64) -> Self {
		self.max_response_bytes = limit;
		self
	}

	/// The largest response body accepted.
	pub fn max_response_bytes(&self) -> u64 {
		self.max_response_bytes
	}

	/// Trusts exactly these root certificates for `https`, instead of the system's.
	pub fn with_root_certificates(
		mut self,
		roots: impl IntoIterator<Item = CertificateDer<'static>>,
	) -> Result<Self, HttpError> {
		let mut store = RootCertStore::empty();
		let (added, _ignored) = store.add_parsable_certificates(roots);
		if added == 0 {
			return Err(HttpError::NoTrustRoots("none of the given certificates parse".into()));
		}
		let config = tls_config(store).map_err(HttpError::NoTrustRoots)?;
		self.trust = Trust::Custom(config);
		Ok(self)
	}

	/// Sends `method url` with `body` and reads the whole response, whatever its status.
	pub async fn request(
		&self,
		method: Method,
		url: &str,
		body: Bytes,
	) -> Result<HttpResponse, HttpError> {
		self.request_typed(method, url, None, body).await
	}

	/// `POST url` with a JSON body (`content-type: application/json`, which JSON-RPC servers
	/// such as the node's require); reads the whole response, whatever its status.
	pub async fn post_json(&self, url: &str, body: Bytes) -> Result<HttpResponse, HttpError> {
		self.request_typed(Method::POST, url, Some("application/json"), body).await
	}

	/// Sends `method url` with `body`, labelled with `content_type` if one is given.
	pub async fn request_typed(
		&self,
		method: Method,
		url: &str,
		content_type: Option<&str>,
		body: Bytes,
	) -> Result<HttpResponse, HttpError> {
		let invalid =
			|reason: &str| HttpError::InvalidUrl { url: url.into(), reason: reason.into() };
		let uri: Uri =
			url.parse().map_err(|e: hyper::http::uri::InvalidUri| invalid(&e.to_string()))?;
		let secure = match uri.scheme_str() {
			Some("http") => false,
			Some("https") => true,
			Some(other) => return Err(HttpError::UnsupportedScheme(other.into())),
			None => return Err(invalid("no scheme")),
		};
		let authority = uri.authority().ok_or_else(|| invalid("no host"))?.clone();
		// `Authority::host` keeps the brackets of an IPv6 literal; sockets and TLS want it bare.
		let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
		let port = authority.port_u16().unwrap_or(if secure { 443 } else { 80 });
		let target = uri.path_and_query().map_or("/", |p| p.as_str());
		let mut request = Request::builder()
			.method(method)
			.uri(target)
			.header(HOST, authority.as_str())
			.header(USER_AGENT, AGENT);
		if let Some(content_type) = content_type {
			request = request.header(CONTENT_TYPE, content_type);
		}
		let request = request.body(Full::new(body)).map_err(|e| invalid(&e.to_string()))?;

		let exchange = async {
			let tcp = TcpStream::connect((host.as_str(), port)).await.map_err(|source| {
				HttpError::Connect { authority: authority.to_string(), source }
			})?;
			// Requests are single writes followed by a wait for the answer: no reason to batch.
			let _ = tcp.set_nodelay(true);
			if secure {
				let config = self.tls()?;
				let name = ServerName::try_from(host.clone())
					.map_err(|_| invalid("host is not a valid TLS server name"))?;
				let tls = tokio_rustls::TlsConnector::from(config)
					.connect(name, tcp)
					.await
					.map_err(|source| HttpError::Tls { host: host.clone(), source })?;
				send_on(tls, request, self.max_response_bytes).await
			} else {
				send_on(tcp, request, self.max_response_bytes).await
			}
		};
		tokio::time::timeout(self.timeout, exchange)
			.await
			.map_err(|_| HttpError::Timeout(self.timeout))?
	}

	fn tls(&self) -> Result<Arc<ClientConfig>, HttpError> {
		match &self.trust {
			Trust::Custom(config) => Ok(config.clone()),
			Trust::Native(cell) => {
				cell.get_or_init(native_tls_config).clone().map_err(HttpError::NoTrustRoots)
			}
		}
	}
}

/// Runs one request on an open connection and reads the response with the size cap.
async fn send_on<S>(
	io: S,
	request: Request<Full<Bytes>>,
	limit: u64,
) -> Result<HttpResponse, HttpError>
where
	S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
	let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
	let exchange = async move {
		let response = sender.send_request(request).await?;
		let status = response.status();
		let headers = response.headers().clone();
		let body = collect_capped(response.into_body(), limit).await.map_err(|e| match e {
			CappedBodyError::TooLarge { limit } => HttpError::ResponseTooLarge { limit },
			CappedBodyError::Body(e) => HttpError::Protocol(e),
		})?;
		// Dropping the sender lets `connection` finish, so the join below completes.
		drop(sender);
		Ok(HttpResponse { status, headers, body })
	};
	// The connection is driven here rather than spawned, so that a timeout or an error drops it
	// with the request instead of leaving a task behind. Its own error, if any, has already
	// surfaced through `send_request` or the body.
	let (result, _connection) = tokio::join!(exchange, connection);
	result
}

fn tls_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, String> {
	// The provider is named rather than taken from the process default, so the choice does not
	// depend on which rustls features other crates in the build switch on.
	let provider = Arc::new(rustls::crypto::ring::default_provider());
	let mut config = ClientConfig::builder_with_provider(provider)
		.with_safe_default_protocol_versions()
		.map_err(|e| e.to_string())?
		.with_root_certificates(roots)
		.with_no_client_auth();
	config.alpn_protocols = vec![b"http/1.1".to_vec()];
	Ok(Arc::new(config))
}

fn native_tls_config() -> Result<Arc<ClientConfig>, String> {
	let loaded = rustls_native_certs::load_native_certs();
	let mut roots = RootCertStore::empty();
	let (added, _ignored) = roots.add_parsable_certificates(loaded.certs);
	if added == 0 {
		let errors: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
		return Err(format!(
			"none found in the system store (install ca-certificates or set SSL_CERT_FILE){}",
			if errors.is_empty() { String::new() } else { format!(": {}", errors.join("; ")) }
		));
	}
	tls_config(roots)
}
