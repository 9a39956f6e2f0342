//! The fetcher: locators to verified bytes, over http (a real store), https (a local TLS server
//! with a generated certificate) and file://.

mod common;

use bytes::Bytes;
use common::TestStore;
use gpu_worker::{
	fetch::{fetch, FetchError, Fetcher},
	net::{CertificateDer, HttpClient, HttpError},
	store::{ContentHash, DEFAULT_MAX_OBJECT_BYTES},
};
use http_body_util::Full;
use hyper::{service::service_fn, Response};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::{convert::Infallible, net::SocketAddr, sync::Arc};

const NOTE: &[u8] = b"rapid peel chain: 14 hops in 9 minutes, each peeling ~2% to fresh wallets";

#[tokio::test]
async fn fetches_from_the_store_and_verifies() {
	let s = TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await;
	let hash = ContentHash::of(NOTE);
	s.put(&hash, NOTE).await;

	assert_eq!(fetch(&s.content_url(&hash), hash.0).await.unwrap(), NOTE);

	let wrong = ContentHash::of(b"a different contribution");
	match Fetcher::new().fetch(&s.content_url(&hash), wrong).await {
		Err(FetchError::HashMismatch { expected, actual, .. }) => {
			assert_eq!(expected, wrong);
			assert_eq!(actual, hash);
		}
		other => panic!("expected HashMismatch, got {other:?}"),
	}
}

#[tokio::test]
async fn missing_content_is_a_status_error() {
	let s = TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await;
	let hash = ContentHash::of(b"not there");
	match Fetcher::new().fetch(&s.content_url(&hash), hash).await {
		Err(FetchError::Status { status: 404, .. }) => {}
		other => panic!("expected 404, got {other:?}"),
	}
}

#[tokio::test]
async fn refuses_content_over_the_limit() {
	let s = TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await;
	let hash = ContentHash::of(NOTE);
	s.put(&hash, NOTE).await;
	let small = Fetcher::new().with_max_bytes(16);
	assert!(matches!(
		small.fetch(&s.content_url(&hash), hash).await,
		Err(FetchError::TooLarge { limit: 16, .. })
	));

	let file = s.dir.path().join("note.txt");
	std::fs::write(&file, NOTE).unwrap();
	assert!(matches!(
		small.fetch(&format!("file://{}", file.display()), hash).await,
		Err(FetchError::TooLarge { limit: 16, .. })
	));
}

#[tokio::test]
async fn gives_up_on_a_large_response_without_reading_it() {
	let s = TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await;
	let big: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
	let hash = ContentHash::of(&big);
	assert_eq!(s.put(&hash, &big).await.status, hyper::StatusCode::CREATED);
	// The refusal must come from the size cap, not from the request timing out while the
	// connection still holds the unread body.
	let fetcher =
		Fetcher::with_http(HttpClient::new().with_timeout(std::time::Duration::from_secs(30)))
			.with_max_bytes(64 * 1024);
	assert!(matches!(
		fetcher.fetch(&s.content_url(&hash), hash).await,
		Err(FetchError::TooLarge { limit: 65536, .. })
	));
	assert_eq!(Fetcher::new().fetch(&s.content_url(&hash), hash).await.unwrap(), big);
}

#[tokio::test]
async fn reads_file_locators() {
	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("wallet risk notes.jsonl");
	std::fs::write(&path, NOTE).unwrap();
	let locator = format!("file://{}", path.display().to_string().replace(' ', "%20"));
	let hash = ContentHash::of(NOTE);

	assert_eq!(fetch(&locator, hash.0).await.unwrap(), NOTE);
	assert!(matches!(
		fetch(&locator, ContentHash::of(b"other").0).await,
		Err(FetchError::HashMismatch { .. })
	));
	let missing = format!("file://{}", dir.path().join("absent").display());
	assert!(matches!(fetch(&missing, hash.0).await, Err(FetchError::File { .. })));
}

#[tokio::test]
async fn rejects_unknown_schemes() {
	assert!(matches!(
		fetch("ftp://127.0.0.1/x", [0; 32]).await,
		Err(FetchError::UnsupportedScheme(s)) if s == "ftp"
	));
}

/// A certificate for 127.0.0.1 and its PKCS#8 key.
fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
	let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
	let der = CertificateDer::from(cert.serialize_der().unwrap());
	let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.serialize_private_key_der()));
	(der, key)
}

/// An https server on 127.0.0.1 that answers every request with `body`.
async fn https_server(
	cert: CertificateDer<'static>,
	key: PrivateKeyDer<'static>,
	body: &'static [u8],
) -> SocketAddr {
	let provider = Arc::new(rustls::crypto::ring::default_provider());
	let config = rustls::ServerConfig::builder_with_provider(provider)
		.with_safe_default_protocol_versions()
		.unwrap()
		.with_no_client_auth()
		.with_single_cert(vec![cert], key)
		.unwrap();
	let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let addr = listener.local_addr().unwrap();
	tokio::spawn(async move {
		while let Ok((tcp, _)) = listener.accept().await {
			let acceptor = acceptor.clone();
			tokio::spawn(async move {
				// A client that rejects our certificate ends the handshake: nothing to serve.
				let Ok(tls) = acceptor.accept(tcp).await else { return };
				let service = service_fn(move |_req| async move {
					Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(body))))
				});
				let _ = hyper::server::conn::http1::Builder::new()
					.serve_connection(TokioIo::new(tls), service)
					.await;
			});
		}
	});
	addr
}

#[tokio::test]
async fn fetches_over_https_from_a_trusted_server() {
	let (cert, key) = certificate();
	let addr = https_server(cert.clone(), key, NOTE).await;
	let http = HttpClient::new().with_root_certificates([cert]).unwrap();
	let fetcher = Fetcher::with_http(http);
	let url = format!("https://{addr}/notes/1");
	assert_eq!(fetcher.fetch(&url, ContentHash::of(NOTE)).await.unwrap(), NOTE);
	assert!(matches!(
		fetcher.fetch(&url, ContentHash::of(b"x")).await,
		Err(FetchError::HashMismatch { .. })
	));
}

#[tokio::test]
async fn refuses_an_https_server_it_does_not_trust() {
	let (cert, key) = certificate();
	let addr = https_server(cert, key, NOTE).await;
	let (other_root, _) = certificate();
	let http = HttpClient::new().with_root_certificates([other_root]).unwrap();
	match Fetcher::with_http(http).fetch(&format!("https://{addr}/"), ContentHash::of(NOTE)).await {
		Err(FetchError::Http { source: HttpError::Tls { .. }, .. }) => {}
		other => panic!("expected a TLS error, got {other:?}"),
	}
}
