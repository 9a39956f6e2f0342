//! A store service started in-process on 127.0.0.1 port 0, for the integration tests.

#![allow(dead_code)]

use gpu_worker::{
	net::{HttpClient, HttpResponse},
	store::{ContentHash, DiskStore, ServiceConfig, StoreServer},
};
use hyper::Method;
use std::net::SocketAddr;
use tokio::sync::oneshot;

/// A running store; stops when dropped.
pub struct TestStore {
	pub addr: SocketAddr,
	pub store: DiskStore,
	pub http: HttpClient,
	pub dir: tempfile::TempDir,
	_stop: oneshot::Sender<()>,
}

impl TestStore {
	/// Starts a store that accepts objects up to `max_bytes`.
	pub async fn start(max_bytes: u64) -> Self {
		let dir = tempfile::tempdir().unwrap();
		let store = DiskStore::open(dir.path(), max_bytes).unwrap();
		let server = StoreServer::bind("127.0.0.1:0", store.clone(), ServiceConfig::default())
			.await
			.unwrap();
		let addr = server.local_addr().unwrap();
		let (stop, stopped) = oneshot::channel::<()>();
		tokio::spawn(server.run_until(async {
			let _ = stopped.await;
		}));
		Self { addr, store, http: HttpClient::new(), dir, _stop: stop }
	}

	pub fn base(&self) -> String {
		format!("http://{}", self.addr)
	}

	pub fn url(&self, path: &str) -> String {
		format!("http://{}{path}", self.addr)
	}

	pub fn content_url(&self, hash: &ContentHash) -> String {
		self.url(&format!("/content/{hash}"))
	}

	pub async fn send(&self, method: Method, path: &str, body: &[u8]) -> HttpResponse {
		self.http.request(method, &self.url(path), body.to_vec().into()).await.unwrap()
	}

	pub async fn put(&self, hash: &ContentHash, body: &[u8]) -> HttpResponse {
		self.send(Method::PUT, &format!("/content/{hash}"), body).await
	}

	pub async fn get(&self, hash: &ContentHash) -> HttpResponse {
		self.send(Method::GET, &format!("/content/{hash}"), b"").await
	}
}

/// The body as JSON.
pub fn json(response: &HttpResponse) -> serde_json::Value {
	serde_json::from_slice(&response.body)
		.unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&response.body)))
}
