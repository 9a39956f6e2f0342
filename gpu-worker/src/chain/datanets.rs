//! A snapshot's manifest from the node's `openledger_*` RPC (see `node/src/rpc.rs`).
//!
//! `openledger_snapshot(id)` gives the Datanet, Merkle root, count and total bytes; a snapshot
//! of count `n` covers the Datanet's accepted contributions at positions `0..n`, so the
//! contributions are paged with `openledger_contributions(datanet, start, limit)` (submission
//! order) and those with `curation.status == "accepted"` and `curation.position < n` are kept,
//! ordered by position. Positions below a snapshot's count never change, so pages read at
//! different best blocks still agree.
//!
//! The JSON handling is in pure functions; [`snapshot_manifest`] only adds the calls.

use super::{
	rpc::RpcClient,
	types::{ManifestEntry, SnapshotManifest},
	ChainError,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Contributions asked for per `openledger_contributions` call.
pub const PAGE: u32 = 100;

/// A snapshot's header, before its contributions are collected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotHeader {
	/// The snapshot's id.
	pub snapshot: u32,
	/// Its Datanet.
	pub datanet: u32,
	/// The recorded Merkle root.
	pub root: [u8; 32],
	/// How many contributions it covers.
	pub count: u32,
	/// Their recorded total size.
	pub total_bytes: u64,
}

/// Builds the manifest of `snapshot` through `rpc`.
pub async fn snapshot_manifest(
	rpc: &RpcClient,
	snapshot: u32,
) -> Result<SnapshotManifest, ChainError> {
	let reply = rpc.call("openledger_snapshot", json!([snapshot])).await?;
	let header = parse_snapshot(snapshot, &reply)?;
	let mut entries = BTreeMap::new();
	let mut start: u32 = 0;
	loop {
		let page =
			rpc.call("openledger_contributions", json!([header.datanet, start, PAGE])).await?;
		let read = collect_accepted(&page, header.count, &mut entries)?;
		if read < PAGE as usize || entries.len() >= header.count as usize {
			break;
		}
		start = start.saturating_add(PAGE);
	}
	Ok(manifest(header, entries))
}

fn decode_error(what: &str, reason: impl Into<String>) -> ChainError {
	ChainError::Decode { what: what.to_owned(), reason: reason.into() }
}

fn field<'a>(value: &'a Value, name: &str, what: &str) -> Result<&'a Value, ChainError> {
	value.get(name).ok_or_else(|| decode_error(what, format!("no `{name}`")))
}

fn u64_field(value: &Value, name: &str, what: &str) -> Result<u64, ChainError> {
	field(value, name, what)?
		.as_u64()
		.ok_or_else(|| decode_error(what, format!("`{name}` is not an unsigned integer")))
}

fn u32_field(value: &Value, name: &str, what: &str) -> Result<u32, ChainError> {
	u32::try_from(u64_field(value, name, what)?)
		.map_err(|_| decode_error(what, format!("`{name}` does not fit in 32 bits")))
}

fn hash_field(value: &Value, name: &str, what: &str) -> Result<[u8; 32], ChainError> {
	let text = field(value, name, what)?
		.as_str()
		.ok_or_else(|| decode_error(what, format!("`{name}` is not a string")))?;
	parse_hash(text).ok_or_else(|| decode_error(what, format!("`{name}` is not 0x + 64 hex")))
}

/// `0x` + 64 hex digits as 32 bytes.
pub fn parse_hash(text: &str) -> Option<[u8; 32]> {
	let digits = text.strip_prefix("0x")?;
	let mut out = [0u8; 32];
	hex::decode_to_slice(digits, &mut out).ok()?;
	Some(out)
}

/// The header of `snapshot` from `openledger_snapshot`'s reply (`null` if there is none).
pub fn parse_snapshot(snapshot: u32, reply: &Value) -> Result<SnapshotHeader, ChainError> {
	if reply.is_null() {
		return Err(ChainError::NotFound(format!("snapshot {snapshot}")));
	}
	let what = "openledger_snapshot";
	Ok(SnapshotHeader {
		snapshot,
		datanet: u32_field(reply, "datanet", what)?,
		root: hash_field(reply, "root", what)?,
		count: u32_field(reply, "count", what)?,
		total_bytes: u64_field(reply, "totalBytes", what)?,
	})
}

/// Adds the contributions of one `openledger_contributions` page that a snapshot of `count`
/// covers to `entries` (keyed by position); returns how many contributions the page held.
pub fn collect_accepted(
	page: &Value,
	count: u32,
	entries: &mut BTreeMap<u32, ManifestEntry>,
) -> Result<usize, ChainError> {
	let what = "openledger_contributions";
	let items = page.as_array().ok_or_else(|| decode_error(what, "not an array"))?;
	for item in items {
		let curation = field(item, "curation", what)?;
		if curation.get("status").and_then(Value::as_str) != Some("accepted") {
			continue;
		}
		let position = u32_field(curation, "position", what)?;
		if position >= count {
			continue;
		}
		let entry = ManifestEntry {
			id: u64_field(item, "id", what)?,
			content_hash: hash_field(item, "contentHash", what)?,
			size: u64_field(item, "size", what)?,
			locator: field(item, "locator", what)?
				.as_str()
				.ok_or_else(|| decode_error(what, "`locator` is not a string"))?
				.to_owned(),
		};
		if let Some(other) = entries.insert(position, entry) {
			// Two contributions at one position would make the chain's tree ambiguous.
			if entries.get(&position).is_some_and(|e| e.id != other.id) {
				return Err(decode_error(
					what,
					format!("two contributions at position {position}"),
				));
			}
		}
	}
	Ok(items.len())
}

/// The manifest of `header` with the collected entries, in position order.
pub fn manifest(header: SnapshotHeader, entries: BTreeMap<u32, ManifestEntry>) -> SnapshotManifest {
	SnapshotManifest {
		snapshot: header.snapshot,
		datanet: header.datanet,
		root: header.root,
		count: header.count,
		total_bytes: header.total_bytes,
		entries: entries.into_values().collect(),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use jsonrpsee::{server::Server, types::ErrorObjectOwned, RpcModule};

	fn hex32(byte: u8) -> String {
		format!("0x{}", hex::encode([byte; 32]))
	}

	fn contribution(id: u64, curation: Value) -> Value {
		json!({
			"id": id,
			"datanet": 3,
			"index": id,
			"contributor": "dZogzts8TRSZ81Da4XKEEb8nBKgYGRwiXcMtbWqX2MEDXfU1A",
			"contentHash": hex32(u8::try_from(id).unwrap()),
			"size": id * 10,
			"mediaType": "application/jsonl",
			"locator": format!("http://127.0.0.1:8090/content/{}", hex32(u8::try_from(id).unwrap())),
			"metadata": "",
			"deposit": "1000",
			"curation": curation,
			"submittedAt": 5,
		})
	}

	fn snapshot_json(count: u32) -> Value {
		json!({
			"id": 9, "datanet": 3, "version": 2, "root": hex32(0xee), "count": count,
			"totalBytes": 1234, "createdBy": "dZogzts8TRSZ81Da4XKEEb8nBKgYGRwiXcMtbWqX2MEDXfU1A",
			"createdAt": 40,
		})
	}

	#[test]
	fn parses_a_snapshot() {
		let header = parse_snapshot(9, &snapshot_json(4)).unwrap();
		assert_eq!(
			header,
			SnapshotHeader {
				snapshot: 9,
				datanet: 3,
				root: [0xee; 32],
				count: 4,
				total_bytes: 1234
			}
		);
		assert!(matches!(parse_snapshot(9, &Value::Null), Err(ChainError::NotFound(_))));
		let mut bad = snapshot_json(4);
		bad["root"] = json!("0x12");
		assert!(matches!(parse_snapshot(9, &bad), Err(ChainError::Decode { .. })));
	}

	#[test]
	fn keeps_accepted_contributions_below_the_count_in_position_order() {
		let page = json!([
			contribution(1, json!({ "status": "accepted", "position": 2, "at": 7 })),
			contribution(2, json!({ "status": "pending" })),
			contribution(3, json!({ "status": "accepted", "position": 0, "at": 6 })),
			contribution(4, json!({ "status": "rejected", "reason": 1, "at": 6 })),
			contribution(5, json!({ "status": "accepted", "position": 1, "at": 6 })),
			// Accepted after the snapshot was cut: not covered.
			contribution(6, json!({ "status": "accepted", "position": 3, "at": 50 })),
			contribution(7, json!({ "status": "withdrawn", "at": 8 })),
		]);
		let mut entries = BTreeMap::new();
		assert_eq!(collect_accepted(&page, 3, &mut entries).unwrap(), 7);
		let manifest = manifest(parse_snapshot(9, &snapshot_json(3)).unwrap(), entries);
		let ids: Vec<u64> = manifest.entries.iter().map(|e| e.id).collect();
		assert_eq!(ids, vec![3, 5, 1]);
		let first = &manifest.entries[0];
		assert_eq!(first.content_hash, [3; 32]);
		assert_eq!(first.size, 30);
		assert_eq!(first.locator, format!("http://127.0.0.1:8090/content/{}", hex32(3)));
	}

	#[test]
	fn refuses_malformed_pages() {
		let mut entries = BTreeMap::new();
		assert!(collect_accepted(&json!({}), 3, &mut entries).is_err());
		let no_hash = json!([{ "id": 1, "size": 1, "locator": "x",
			"curation": { "status": "accepted", "position": 0 } }]);
		assert!(collect_accepted(&no_hash, 3, &mut entries).is_err());
		let clash = json!([
			contribution(1, json!({ "status": "accepted", "position": 0 })),
			contribution(2, json!({ "status": "accepted", "position": 0 })),
		]);
		assert!(collect_accepted(&clash, 3, &mut BTreeMap::new()).is_err());
	}

	/// Pages through a fake node with more contributions than one page holds.
	#[tokio::test]
	async fn pages_through_the_node() {
		// 250 contributions; the odd ones were accepted, in reverse submission order.
		let all: Vec<Value> = (0u64..250)
			.map(|i| {
				if i % 2 == 1 {
					let position = (249 - i) / 2;
					contribution(i % 200, json!({ "status": "accepted", "position": position }))
				} else {
					contribution(i % 200, json!({ "status": "pending" }))
				}
			})
			.collect();
		let mut module = RpcModule::new(all);
		module
			.register_method("openledger_snapshot", |params, _, _| {
				let (id,): (u32,) = params.parse()?;
				Ok::<Value, ErrorObjectOwned>(if id == 9 {
					snapshot_json(125)
				} else {
					Value::Null
				})
			})
			.unwrap();
		module
			.register_method("openledger_contributions", |params, all, _| {
				let (datanet, start, limit): (u32, u32, u32) = params.parse()?;
				assert_eq!(datanet, 3);
				assert!(limit <= PAGE);
				let page: Vec<Value> =
					all.iter().skip(start as usize).take(limit as usize).cloned().collect();
				Ok::<Vec<Value>, ErrorObjectOwned>(page)
			})
			.unwrap();
		let server = Server::builder().build("127.0.0.1:0").await.unwrap();
		let addr = server.local_addr().unwrap();
		let handle = server.start(module);
		let rpc = RpcClient::new(&format!("ws://{addr}"));

		let manifest = snapshot_manifest(&rpc, 9).await.unwrap();
		assert_eq!(manifest.count, 125);
		assert_eq!(manifest.entries.len(), 125);
		// Position 0 is the last accepted, submission index 249 (id 49).
		assert_eq!(manifest.entries[0].id, 49);
		assert_eq!(manifest.entries[124].id, 1);
		assert!(matches!(snapshot_manifest(&rpc, 10).await, Err(ChainError::NotFound(_))));
		handle.stop().unwrap();
	}
}
