//! JSON-RPC 2.0 over HTTP POST to the node, through the crate's own HTTP client.
//!
//! The node serves HTTP and WebSocket on one port, so a `ws://` / `wss://` node URL is turned
//! into `http://` / `https://` and every call is a single POST: no subscriptions, which the
//! worker does not need (it polls the best block).
//!
//! A client may be given several nodes of the same chain (`ws://a:9944,ws://b:9944`): calls go
//! to one of them until it cannot be reached, then to the next that answers. A worker so keeps
//! watching the chain and submitting results when the node it talks to goes down.

use super::ChainError;
use crate::net::HttpClient;
use serde_json::{json, Value};
use std::{
	sync::atomic::{AtomicU64, AtomicUsize, Ordering},
	time::Duration,
};

/// How long one call may take.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest reply read (a page of 100 contributions is far below this).
const MAX_REPLY_BYTES: u64 = 16 * 1024 * 1024;

/// A JSON-RPC client for a node, or for several nodes of one chain with failover.
#[derive(Debug)]
pub struct RpcClient {
	/// The nodes' HTTP URLs (at least one).
	urls: Vec<String>,
	/// Index into `urls` of the node calls go to first.
	current: AtomicUsize,
	http: HttpClient,
	next_id: AtomicU64,
}

impl RpcClient {
	/// A client for the node at `node` (`ws://`, `wss://`, `http://` or `https://`), or for
	/// several comma-separated nodes tried in turn when one cannot be reached.
	pub fn new(node: &str) -> Self {
		Self::with_http(
			node,
			HttpClient::new().with_timeout(RPC_TIMEOUT).with_max_response_bytes(MAX_REPLY_BYTES),
		)
	}

	/// A client whose requests go through `http` (timeouts, TLS roots).
	pub fn with_http(node: &str, http: HttpClient) -> Self {
		let mut urls: Vec<String> =
			node.split(',').map(str::trim).filter(|url| !url.is_empty()).map(http_url).collect();
		if urls.is_empty() {
			urls.push(http_url(node));
		}
		Self { urls, current: AtomicUsize::new(0), http, next_id: AtomicU64::new(1) }
	}

	/// The HTTP URL calls are posted to first (the node that last answered).
	pub fn url(&self) -> &str {
		let index = self.current.load(Ordering::Relaxed);
		self.urls.get(index).or(self.urls.first()).map_or("", String::as_str)
	}

	/// Calls `method` with `params` (an array or an object) and returns its `result`. A node
	/// that cannot be reached is skipped for the next one; the first that answers serves the
	/// following calls.
	pub async fn call(&self, method: &str, params: Value) -> Result<Value, ChainError> {
		let id = self.next_id.fetch_add(1, Ordering::Relaxed);
		let request = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
		let body = serde_json::to_vec(&request)
			.map_err(|e| ChainError::Other(format!("encoding a {method} request: {e}")))?;
		let first = self.current.load(Ordering::Relaxed);
		let mut unreachable = None;
		for offset in 0..self.urls.len() {
			let index = (first + offset) % self.urls.len();
			let Some(url) = self.urls.get(index) else { continue };
			match self.http.post_json(url, body.clone().into()).await {
				Ok(response) => {
					if index != first {
						self.current.store(index, Ordering::Relaxed);
						let down = self.urls.get(first).map_or("", String::as_str);
						eprintln!("worker: node {down} unreachable; calls go to {url}");
					}
					// A JSON-RPC error comes back with 200; anything else is the server
					// refusing the request.
					if !response.status.is_success() {
						return Err(ChainError::Status {
							url: url.clone(),
							status: response.status.as_u16(),
							body: String::from_utf8_lossy(&response.body)
								.chars()
								.take(200)
								.collect(),
						});
					}
					return parse_reply(method, &response.body);
				}
				Err(source) => {
					unreachable.get_or_insert(ChainError::Transport { url: url.clone(), source });
				}
			}
		}
		Err(unreachable.unwrap_or_else(|| ChainError::Other("no node URL given".into())))
	}
}

/// The HTTP URL of a node given as a WebSocket or HTTP URL (the node serves both on one port).
pub fn http_url(node: &str) -> String {
	let lower = node.to_ascii_lowercase();
	let url = if lower.starts_with("ws://") {
		format!("http://{}", node.get(5..).unwrap_or_default())
	} else if lower.starts_with("wss://") {
		format!("https://{}", node.get(6..).unwrap_or_default())
	} else {
		node.to_owned()
	};
	// `host:port` alone is a valid URI authority but not a request target; give it a path.
	match url.split_once("://") {
		Some((_, rest)) if !rest.contains('/') => format!("{url}/"),
		_ => url,
	}
}

/// The `result` of a JSON-RPC reply, or its `error` as [`ChainError::Rpc`].
pub fn parse_reply(method: &str, body: &[u8]) -> Result<Value, ChainError> {
	let reply: Value = serde_json::from_slice(body).map_err(|e| ChainError::Decode {
		what: method.to_owned(),
		reason: format!("not JSON: {e}"),
	})?;
	if let Some(error) = reply.get("error") {
		return Err(ChainError::Rpc {
			method: method.to_owned(),
			code: error.get("code").and_then(Value::as_i64).unwrap_or_default(),
			message: error
				.get("message")
				.and_then(Value::as_str)
				.map_or_else(|| error.to_string(), str::to_owned),
		});
	}
	match reply.get("result") {
		Some(result) => Ok(result.clone()),
		None => Err(ChainError::Decode {
			what: method.to_owned(),
			reason: "a reply with neither result nor error".into(),
		}),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use jsonrpsee::{server::Server, RpcModule};

	#[test]
	fn maps_websocket_urls_to_http() {
		assert_eq!(http_url("ws://127.0.0.1:9944"), "http://127.0.0.1:9944/");
		assert_eq!(http_url("wss://rpc.example.org/path"), "https://rpc.example.org/path");
		assert_eq!(http_url("WS://node:9944/"), "http://node:9944/");
		assert_eq!(http_url("http://127.0.0.1:9944"), "http://127.0.0.1:9944/");
	}

	#[test]
	fn parses_results_and_errors() {
		let ok = br#"{"jsonrpc":"2.0","id":1,"result":{"number":"0x10"}}"#;
		assert_eq!(parse_reply("chain_getHeader", ok).unwrap(), json!({ "number": "0x10" }));
		let null = br#"{"jsonrpc":"2.0","id":1,"result":null}"#;
		assert_eq!(parse_reply("openledger_snapshot", null).unwrap(), Value::Null);
		let err =
			br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}"#;
		assert!(matches!(
			parse_reply("nope", err),
			Err(ChainError::Rpc { code: -32601, message, .. }) if message == "Method not found"
		));
		assert!(matches!(parse_reply("x", b"<html>"), Err(ChainError::Decode { .. })));
		assert!(matches!(parse_reply("x", br#"{"id":1}"#), Err(ChainError::Decode { .. })));
	}

	/// A real JSON-RPC server (jsonrpsee, as the node uses) answers the client's POSTs.
	#[tokio::test]
	async fn calls_a_jsonrpsee_server_over_http() {
		let mut module = RpcModule::new(());
		module
			.register_method("test_add", |params, _, _| {
				let (a, b): (u64, u64) = params.parse()?;
				Ok::<u64, jsonrpsee::types::ErrorObjectOwned>(a + b)
			})
			.unwrap();
		let server = Server::builder().build("127.0.0.1:0").await.unwrap();
		let addr = server.local_addr().unwrap();
		let handle = server.start(module);

		let client = RpcClient::new(&format!("ws://{addr}"));
		assert_eq!(client.call("test_add", json!([2, 40])).await.unwrap(), json!(42));
		assert!(matches!(
			client.call("test_missing", json!([])).await,
			Err(ChainError::Rpc { code: -32601, .. })
		));
		handle.stop().unwrap();
	}

	/// With several nodes, a call skips one that cannot be reached and keeps to the one that
	/// answered.
	#[tokio::test]
	async fn fails_over_to_the_next_node() {
		let mut module = RpcModule::new(());
		module
			.register_method("test_ping", |_, _, _| {
				Ok::<&str, jsonrpsee::types::ErrorObjectOwned>("pong")
			})
			.unwrap();
		let server = Server::builder().build("127.0.0.1:0").await.unwrap();
		let up = server.local_addr().unwrap();
		let handle = server.start(module);
		// A port that nothing listens on: bound, then closed.
		let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();

		let client = RpcClient::new(&format!("ws://{down}, ws://{up}"));
		assert_eq!(client.url(), format!("http://{down}/"));
		assert_eq!(client.call("test_ping", json!([])).await.unwrap(), json!("pong"));
		assert_eq!(client.url(), format!("http://{up}/"), "the answering node serves next");

		// With every node down the call fails with a transport error.
		handle.stop().unwrap();
		handle.stopped().await;
		assert!(matches!(
			client.call("test_ping", json!([])).await,
			Err(ChainError::Transport { .. })
		));
	}
}
