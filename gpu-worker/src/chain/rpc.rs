//! JSON-RPC 2.0 over HTTP POST to the node, through the crate's own HTTP client.
//!
//! The node serves HTTP and WebSocket on one port, so a `ws://` / `wss://` node URL is turned
//! into `http://` / `https://` and every call is a single POST: no subscriptions, which the
//! worker does not need (it polls the best block).

use super::ChainError;
use crate::net::HttpClient;
use serde_json::{json, Value};
use std::{
	sync::atomic::{AtomicU64, Ordering},
	time::Duration,
};

/// How long one call may take.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest reply read (a page of 100 contributions is far below this).
const MAX_REPLY_BYTES: u64 = 16 * 1024 * 1024;

/// A JSON-RPC client for one node.
#[derive(Debug)]
pub struct RpcClient {
	url: String,
	http: HttpClient,
	next_id: AtomicU64,
}

impl RpcClient {
	/// A client for the node at `node` (`ws://`, `wss://`, `http://` or `https://`).
	pub fn new(node: &str) -> Self {
		Self::with_http(
			node,
			HttpClient::new().with_timeout(RPC_TIMEOUT).with_max_response_bytes(MAX_REPLY_BYTES),
		)
	}

	/// A client whose requests go through `http` (timeouts, TLS roots).
	pub fn with_http(node: &str, http: HttpClient) -> Self {
		Self { url: http_url(node), http, next_id: AtomicU64::new(1) }
	}

	/// The HTTP URL calls are posted to.
	pub fn url(&self) -> &str {
		&self.url
	}

	/// Calls `method` with `params` (an array or an object) and returns its `result`.
	pub async fn call(&self, method: &str, params: Value) -> Result<Value, ChainError> {
		let id = self.next_id.fetch_add(1, Ordering::Relaxed);
		let request = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
		let body = serde_json::to_vec(&request)
			.map_err(|e| ChainError::Other(format!("encoding a {method} request: {e}")))?;
		let response = self
			.http
			.post_json(&self.url, body.into())
			.await
			.map_err(|source| ChainError::Transport { url: self.url.clone(), source })?;
		// A JSON-RPC error comes back with 200; anything else is the server refusing the request.
		if !response.status.is_success() {
			return Err(ChainError::Status {
				url: self.url.clone(),
				status: response.status.as_u16(),
				body: String::from_utf8_lossy(&response.body).chars().take(200).collect(),
			});
		}
		parse_reply(method, &response.body)
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
}
