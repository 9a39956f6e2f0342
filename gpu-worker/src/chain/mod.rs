//! The boundary to the chain: what the worker reads from and sends to its node. No compute.
//!
//! - [`Chain`]: the operations the service loop needs (registration, heartbeats, assigned jobs,
//!   results, snapshot manifests). [`connect`] builds the real one, signing with the worker's
//!   key; [`testing::FakeChain`] is an in-memory one for tests.
//! - [`rpc::RpcClient`]: JSON-RPC 2.0 over HTTP POST to the node (a `ws://` URL is served on
//!   the same port over HTTP), through [`crate::net`].
//! - [`datanets`]: a snapshot's manifest from the node's `openledger_*` methods.
//! - [`types`]: mirrors of the pallet types the worker uses (SCALE where they are SCALE
//!   on-chain), and the [`SnapshotManifest`].

pub mod datanets;
pub mod extrinsic;
pub mod inference;
mod node;
pub mod rpc;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod types;

pub use inference::{DepositInfo, Receipt, ServedVersion};
pub use node::connect;
pub use rpc::RpcClient;
pub use types::{
	AssignedJob, Backend, Capabilities, JobKind, ManifestEntry, SnapshotManifest,
	VerifySnapshotSpec, WorkerState, WorkerStatus,
};

use crate::net::HttpError;
use async_trait::async_trait;

/// Why a chain operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
	/// The node could not be reached, or the exchange broke off.
	#[error("node at {url} unreachable: {source}")]
	Transport {
		/// The node's HTTP URL.
		url: String,
		/// The underlying error.
		#[source]
		source: HttpError,
	},
	/// The node answered the HTTP request with an error status.
	#[error("node at {url} answered HTTP {status}: {body}")]
	Status {
		/// The node's HTTP URL.
		url: String,
		/// The status code.
		status: u16,
		/// The start of the body.
		body: String,
	},
	/// The node answered a call with a JSON-RPC error.
	#[error("{method} failed: {message} (code {code})")]
	Rpc {
		/// The method called.
		method: String,
		/// The JSON-RPC error code.
		code: i64,
		/// The error message.
		message: String,
	},
	/// A reply (or stored value) did not have the expected shape.
	#[error("unexpected reply to {what}: {reason}")]
	Decode {
		/// The method or storage item read.
		what: String,
		/// What was wrong.
		reason: String,
	},
	/// Something the call needs does not exist on-chain (e.g. the snapshot).
	#[error("not found on-chain: {0}")]
	NotFound(String),
	/// The worker's key could not be read or parsed.
	#[error("invalid key: {0}")]
	InvalidKey(String),
	/// A transaction was refused by the pool, or was included but failed.
	#[error("{call} was rejected: {reason}")]
	Rejected {
		/// The call submitted, e.g. `Compute.submit_result`.
		call: String,
		/// The pool's or the runtime's reason.
		reason: String,
	},
	/// Anything else.
	#[error("{0}")]
	Other(String),
}

/// A chain operation's result.
pub type Result<T, E = ChainError> = std::result::Result<T, E>;

/// What the worker's service loop needs from the chain, on behalf of one worker account.
///
/// Implementations sign their transactions with the worker's key and return once the
/// transaction is accepted for inclusion (or included); a failed one is an `Err`, and the loop
/// retries on a later block, so they need not retry themselves.
#[async_trait]
pub trait Chain: Send + Sync {
	/// The worker's account (its sr25519 public key).
	fn account(&self) -> [u8; 32];

	/// The number of the node's best block.
	async fn best_block(&self) -> Result<u32>;

	/// This worker's registration, or `None` if it is not registered.
	async fn worker(&self) -> Result<Option<WorkerState>>;

	/// Registers this worker, bonding `stake` plancks, declaring `caps`.
	async fn register(&self, stake: u128, caps: &Capabilities) -> Result<()>;

	/// Tells the chain that this worker is alive.
	async fn heartbeat(&self) -> Result<()>;

	/// The pending jobs assigned to this worker in their current round that it has not yet
	/// reported a result for.
	async fn assigned_jobs(&self) -> Result<Vec<AssignedJob>>;

	/// Job `id` if it is one of [`Chain::assigned_jobs`] (pending, assigned to this worker in its
	/// current round, not yet reported by it); `None` otherwise, including for unknown ids.
	async fn job(&self, id: u64) -> Result<Option<AssignedJob>>;

	/// Reports this worker's result for `job`'s current round: `payload_hash` is
	/// blake2-256 of `payload`.
	async fn submit_result(&self, job: u64, payload_hash: [u8; 32], payload: Vec<u8>)
		-> Result<()>;

	/// The manifest of `snapshot`: its recorded root, count and total, and the contributions it
	/// covers in position order.
	async fn snapshot_manifest(&self, snapshot: u32) -> Result<SnapshotManifest>;

	/// The genesis block's hash (clients sign it into paid requests).
	fn genesis(&self) -> [u8; 32];

	/// A model's version as recorded (its active version when `version` is `None`), or `None`
	/// if there is no such model or version.
	async fn model_version(
		&self,
		model: u32,
		version: Option<u32>,
	) -> Result<Option<ServedVersion>>;

	/// `client`'s inference deposit.
	async fn inference_deposit(&self, client: [u8; 32]) -> Result<DepositInfo>;

	/// A model's price per 1,000 tokens, if it is served paid.
	async fn inference_price(&self, model: u32) -> Result<Option<u128>>;

	/// The nonce of the last receipt settled for `client` with this worker.
	async fn inference_nonce(&self, client: [u8; 32]) -> Result<u64>;

	/// Submits served requests' receipts in one `submit_receipts` transaction.
	async fn submit_receipts(&self, receipts: Vec<Receipt>) -> Result<()>;
}

/// Any chain hands snapshot manifests to the verification job.
#[async_trait]
impl<C: Chain + ?Sized> crate::jobs::verify::ManifestSource for C {
	async fn manifest(
		&self,
		snapshot: u32,
	) -> std::result::Result<SnapshotManifest, Box<dyn std::error::Error + Send + Sync>> {
		Ok(self.snapshot_manifest(snapshot).await?)
	}
}

/// OpenLedger's SS58 address prefix.
pub const SS58_PREFIX: u16 = 1612;

/// Plancks in one OPEN (18 decimals).
pub const PLANCKS_PER_OPEN: u128 = 1_000_000_000_000_000_000;

/// The SS58 address of `account` with OpenLedger's prefix.
pub fn ss58(account: &[u8; 32]) -> String {
	ss58_with_prefix(account, SS58_PREFIX)
}

/// The SS58 address of `account` with `prefix` (0..16384).
pub fn ss58_with_prefix(account: &[u8; 32], prefix: u16) -> String {
	let prefix = prefix & 0x3fff;
	let mut data = Vec::with_capacity(36);
	if prefix < 64 {
		data.push(prefix as u8);
	} else {
		// The two-byte form: 14 bits spread as SS58 defines, with 0b01 marking it.
		data.push((((prefix & 0b1111_1100) >> 2) as u8) | 0b0100_0000);
		data.push(((prefix >> 8) as u8) | (((prefix & 0b11) as u8) << 6));
	}
	data.extend_from_slice(account);
	let mut preimage = b"SS58PRE".to_vec();
	preimage.extend_from_slice(&data);
	let checksum = sp_crypto_hashing::blake2_512(&preimage);
	data.extend(checksum.iter().take(2));
	base58(&data)
}

/// Bitcoin-alphabet base58.
fn base58(bytes: &[u8]) -> String {
	const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
	// Little-endian base-58 digits of the big-endian number `bytes`.
	let mut digits: Vec<u8> = Vec::new();
	for &byte in bytes {
		let mut carry = u32::from(byte);
		for digit in digits.iter_mut() {
			carry += u32::from(*digit) << 8;
			*digit = (carry % 58) as u8;
			carry /= 58;
		}
		while carry > 0 {
			digits.push((carry % 58) as u8);
			carry /= 58;
		}
	}
	let zeros = bytes.iter().take_while(|&&b| b == 0).count();
	let mut out = String::with_capacity(zeros + digits.len());
	out.extend(std::iter::repeat_n('1', zeros));
	out.extend(digits.iter().rev().map(|&d| char::from(ALPHABET[usize::from(d)])));
	out
}

/// Parses an amount of OPEN (`1000`, `0.5`, up to 18 decimals) into plancks.
pub fn parse_open(text: &str) -> std::result::Result<u128, String> {
	let bad = || format!("{text:?} is not an amount of OPEN (e.g. 1000 or 2.5)");
	let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
	if whole.is_empty() && fraction.is_empty() {
		return Err(bad());
	}
	if !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
		return Err(bad());
	}
	if fraction.len() > 18 {
		return Err(format!("{text:?} has more than 18 decimals"));
	}
	let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
	let scale = 10u128.pow(18u32.saturating_sub(fraction.len() as u32));
	let fraction: u128 =
		if fraction.is_empty() { 0 } else { fraction.parse().map_err(|_| bad())? };
	whole
		.checked_mul(PLANCKS_PER_OPEN)
		.and_then(|w| w.checked_add(fraction.saturating_mul(scale)))
		.ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
	use super::*;

	// Alice's sr25519 key (//Alice); addresses from @polkadot/util-crypto's encodeAddress.
	const ALICE: &str = "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";

	fn alice() -> [u8; 32] {
		let mut out = [0u8; 32];
		hex::decode_to_slice(ALICE, &mut out).unwrap();
		out
	}

	#[test]
	fn encodes_ss58_like_polkadot_js() {
		assert_eq!(ss58(&alice()), "dZogzts8TRSZ81Da4XKEEb8nBKgYGRwiXcMtbWqX2MEDXfU1A");
		assert_eq!(
			ss58_with_prefix(&alice(), 42),
			"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
		);
		assert_eq!(ss58(&[0; 32]), "dZitkpxe9Ufm4YbJZQpZpdmSbPxLjWDsaADTbA9vHzrvga9Cx");
	}

	#[test]
	fn base58_keeps_leading_zeros() {
		assert_eq!(base58(&[0, 0, 1]), "112");
		assert_eq!(base58(b"hello world"), "StV1DL6CwTryKyV");
	}

	#[test]
	fn parses_amounts_of_open() {
		assert_eq!(parse_open("1000"), Ok(1000 * PLANCKS_PER_OPEN));
		assert_eq!(parse_open("2.5"), Ok(2 * PLANCKS_PER_OPEN + PLANCKS_PER_OPEN / 2));
		assert_eq!(parse_open(".000000000000000001"), Ok(1));
		assert!(parse_open("0.0000000000000000001").is_err());
		assert!(parse_open("-1").is_err());
		assert!(parse_open("1e3").is_err());
		assert!(parse_open("").is_err());
		assert!(parse_open(".").is_err());
		assert!(parse_open("999999999999999999999999").is_err());
	}
}
