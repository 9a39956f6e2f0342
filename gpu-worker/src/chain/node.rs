//! The real [`Chain`]: a node's JSON-RPC over HTTP, signing as the worker's sr25519 key.
//!
//! Reads go through the runtime API (`state_call` of `ComputeApi_*`, SCALE in and out) and the
//! node's `openledger_*` methods; writes are signed extrinsics built by [`super::extrinsic`] and
//! handed to `author_submitExtrinsic`. Transactions are sent one at a time, so that each takes
//! the next nonce the node reports.

use super::{
	datanets,
	extrinsic::{self, call_index, EncodedCall, SigningContext},
	inference::{self, DepositInfo, Receipt, ServedVersion},
	AssignedJob, Capabilities, Chain, ChainError, JobKind, Result, RpcClient, SnapshotManifest,
	WorkerState, WorkerStatus,
};
use async_trait::async_trait;
use codec::{Decode, Encode};
use serde_json::{json, Value};
use sp_core::{crypto::Pair as _, sr25519, H256};
use std::sync::Arc;
use tokio::sync::Mutex;

/// The start of `pallet_models::ModelView<AccountId32, u32>` as SCALE (the rest is ignored).
#[derive(Decode)]
#[allow(dead_code)]
struct RawModelView {
	id: u32,
	owner: [u8; 32],
	base: u32,
	name: Option<Vec<u8>>,
	status: u8,
	versions: u32,
	active: Option<u32>,
}

/// The start of `pallet_models::ModelVersionView<AccountId32, u32>` as SCALE.
#[derive(Decode)]
#[allow(dead_code)]
struct RawVersionView {
	model: u32,
	version: u32,
	base: u32,
	base_hash: [u8; 32],
	snapshot: u32,
	snapshot_root: [u8; 32],
	adapter_hash: [u8; 32],
	config_hash: [u8; 32],
	attribution_index: [u8; 32],
}

/// `pallet_compute::WorkerStatus<u32>` as SCALE.
#[derive(Decode)]
enum RawWorkerStatus {
	#[codec(index = 0)]
	Active,
	#[codec(index = 1)]
	Unbonding {
		#[allow(dead_code)]
		until: u32,
	},
}

/// `pallet_compute::WorkerInfo<u128, u32>` as SCALE.
#[derive(Decode)]
#[allow(dead_code)]
struct RawWorkerInfo {
	stake: u128,
	capabilities: Capabilities,
	registered_at: u32,
	last_heartbeat: u32,
	status: RawWorkerStatus,
}

/// `pallet_compute::JobStatus` as SCALE.
#[derive(Decode, PartialEq, Eq)]
enum RawJobStatus {
	#[codec(index = 0)]
	Pending,
	#[codec(index = 1)]
	Completed,
	#[codec(index = 2)]
	Failed,
}

/// `pallet_compute::JobView<AccountId32, u128, u32>` as SCALE.
#[derive(Decode)]
#[allow(dead_code)]
struct RawJobView {
	id: u64,
	requester: [u8; 32],
	kind: JobKind,
	spec: Vec<u8>,
	fee: u128,
	replication: u8,
	timeout: u32,
	created_at: u32,
	deadline: u32,
	assigned: Vec<[u8; 32]>,
	escalations: u8,
	status: RawJobStatus,
	outcome: Option<H256>,
	reported: Vec<[u8; 32]>,
}

impl RawJobView {
	/// The job as this worker's to do: pending, assigned to `me`, not reported by `me`.
	fn for_worker(self, me: &[u8; 32]) -> Option<AssignedJob> {
		let mine = self.status == RawJobStatus::Pending
			&& self.assigned.contains(me)
			&& !self.reported.contains(me);
		mine.then_some(AssignedJob {
			id: self.id,
			kind: self.kind,
			spec: self.spec,
			round: self.escalations,
			deadline: self.deadline,
		})
	}
}

/// A worker's connection to its node.
pub struct NodeChain {
	rpc: RpcClient,
	signer: sr25519::Pair,
	account: [u8; 32],
	genesis: H256,
	/// Serializes transactions so that each gets its own nonce.
	submitting: Mutex<()>,
}

/// Connects to the node at `node` (`ws://`, `http://`, ...), signing as `key` (a secret URI such
/// as `//Bob`, or the path of a file holding one). Fails if the node cannot be reached.
pub async fn connect(node: &str, key: &str) -> Result<Arc<dyn Chain>> {
	let signer = extrinsic::parse_key(key).map_err(ChainError::InvalidKey)?;
	let rpc = RpcClient::new(node);
	let genesis =
		parse_h256("chain_getBlockHash", &rpc.call("chain_getBlockHash", json!([0])).await?)?;
	let account = signer.public().0;
	Ok(Arc::new(NodeChain { rpc, signer, account, genesis, submitting: Mutex::new(()) }))
}

impl NodeChain {
	/// Calls runtime API `method` with SCALE `args` at the best block and decodes the answer.
	async fn runtime_call<R: Decode>(&self, method: &str, args: impl Encode) -> Result<R> {
		let reply = self
			.rpc
			.call("state_call", json!([method, format!("0x{}", hex::encode(args.encode()))]))
			.await?;
		let bytes = parse_bytes(method, &reply)?;
		R::decode(&mut &bytes[..]).map_err(|e| decode_error(method, e))
	}

	/// Signs `call` and hands it to the node's transaction pool.
	async fn submit(&self, name: &str, call: EncodedCall) -> Result<()> {
		let _one_at_a_time = self.submitting.lock().await;
		let version = self.rpc.call("state_getRuntimeVersion", json!([])).await?;
		let spec_version = number_field(&version, "specVersion")?;
		let transaction_version = number_field(&version, "transactionVersion")?;
		let header = self.rpc.call("chain_getHeader", json!([])).await?;
		let birth_number = parse_number("chain_getHeader", header.get("number"))?;
		let birth_hash = parse_h256(
			"chain_getBlockHash",
			&self.rpc.call("chain_getBlockHash", json!([birth_number])).await?,
		)?;
		let nonce_reply =
			self.rpc.call("system_accountNextIndex", json!([super::ss58(&self.account)])).await?;
		let nonce = nonce_reply
			.as_u64()
			.and_then(|n| u32::try_from(n).ok())
			.ok_or_else(|| decode_error("system_accountNextIndex", "not a u32"))?;
		let context = SigningContext {
			spec_version: u32::try_from(spec_version)
				.map_err(|_| decode_error("specVersion", "not a u32"))?,
			transaction_version: u32::try_from(transaction_version)
				.map_err(|_| decode_error("transactionVersion", "not a u32"))?,
			genesis: self.genesis,
			birth_number,
			birth_hash,
			nonce,
		};
		let extrinsic = extrinsic::sign(&call, &self.signer, &context);
		self.rpc
			.call("author_submitExtrinsic", json!([format!("0x{}", hex::encode(extrinsic))]))
			.await
			.map(|_| ())
			.map_err(|e| ChainError::Rejected { call: name.into(), reason: e.to_string() })
	}
}

#[async_trait]
impl Chain for NodeChain {
	fn account(&self) -> [u8; 32] {
		self.account
	}

	async fn best_block(&self) -> Result<u32> {
		let header = self.rpc.call("chain_getHeader", json!([])).await?;
		let number = parse_number("chain_getHeader", header.get("number"))?;
		u32::try_from(number).map_err(|_| decode_error("chain_getHeader", "number over u32"))
	}

	async fn worker(&self) -> Result<Option<WorkerState>> {
		let info: Option<RawWorkerInfo> =
			self.runtime_call("ComputeApi_worker", self.account).await?;
		Ok(info.map(|info| WorkerState {
			stake: info.stake,
			status: match info.status {
				RawWorkerStatus::Active => WorkerStatus::Active,
				RawWorkerStatus::Unbonding { .. } => WorkerStatus::Unbonding,
			},
		}))
	}

	async fn register(&self, stake: u128, caps: &Capabilities) -> Result<()> {
		let call = EncodedCall::compute(call_index::REGISTER_WORKER, (stake, caps));
		self.submit("Compute.register_worker", call).await
	}

	async fn heartbeat(&self) -> Result<()> {
		self.submit("Compute.heartbeat", EncodedCall::compute(call_index::HEARTBEAT, ())).await
	}

	async fn assigned_jobs(&self) -> Result<Vec<AssignedJob>> {
		let jobs: Vec<RawJobView> =
			self.runtime_call("ComputeApi_assigned_jobs", self.account).await?;
		Ok(jobs.into_iter().filter_map(|job| job.for_worker(&self.account)).collect())
	}

	async fn job(&self, id: u64) -> Result<Option<AssignedJob>> {
		let job: Option<RawJobView> = self.runtime_call("ComputeApi_job", id).await?;
		Ok(job.and_then(|job| job.for_worker(&self.account)))
	}

	async fn submit_result(
		&self,
		job: u64,
		payload_hash: [u8; 32],
		payload: Vec<u8>,
	) -> Result<()> {
		let call =
			EncodedCall::compute(call_index::SUBMIT_RESULT, (job, H256(payload_hash), payload));
		self.submit("Compute.submit_result", call).await
	}

	async fn snapshot_manifest(&self, snapshot: u32) -> Result<SnapshotManifest> {
		datanets::snapshot_manifest(&self.rpc, snapshot).await
	}

	fn genesis(&self) -> [u8; 32] {
		self.genesis.0
	}

	async fn model_version(
		&self,
		model: u32,
		version: Option<u32>,
	) -> Result<Option<ServedVersion>> {
		let version = match version {
			Some(version) => version,
			None => {
				let view: Option<RawModelView> =
					self.runtime_call("ModelsApi_model", model).await?;
				match view.and_then(|view| view.active) {
					Some(active) => active,
					None => return Ok(None),
				}
			}
		};
		let view: Option<RawVersionView> =
			self.runtime_call("ModelsApi_model_version", (model, version)).await?;
		Ok(view.map(|view| ServedVersion {
			model: view.model,
			version: view.version,
			base_hash: view.base_hash,
			adapter_hash: view.adapter_hash,
			config_hash: view.config_hash,
			attribution_index: view.attribution_index,
		}))
	}

	async fn inference_deposit(&self, client: [u8; 32]) -> Result<DepositInfo> {
		self.runtime_call("InferenceApi_deposit_of", client).await
	}

	async fn inference_price(&self, model: u32) -> Result<Option<u128>> {
		self.runtime_call("InferenceApi_price_of", model).await
	}

	async fn inference_nonce(&self, client: [u8; 32]) -> Result<u64> {
		self.runtime_call("InferenceApi_nonce_of", (client, self.account)).await
	}

	async fn submit_receipts(&self, receipts: Vec<Receipt>) -> Result<()> {
		let mut call = vec![inference::INFERENCE_PALLET_INDEX, inference::SUBMIT_RECEIPTS];
		receipts.encode_to(&mut call);
		self.submit("Inference.submit_receipts", EncodedCall(call)).await
	}
}

fn decode_error(what: &str, reason: impl std::fmt::Display) -> ChainError {
	ChainError::Decode { what: what.into(), reason: reason.to_string() }
}

fn parse_bytes(what: &str, value: &Value) -> Result<Vec<u8>> {
	let text = value.as_str().ok_or_else(|| decode_error(what, "not a hex string"))?;
	hex::decode(text.trim_start_matches("0x")).map_err(|e| decode_error(what, e))
}

fn parse_h256(what: &str, value: &Value) -> Result<H256> {
	let bytes = parse_bytes(what, value)?;
	<[u8; 32]>::try_from(bytes.as_slice()).map(H256).map_err(|_| decode_error(what, "not 32 bytes"))
}

/// A block number as the node writes it: `0x`-prefixed hex, or a plain number.
fn parse_number(what: &str, value: Option<&Value>) -> Result<u64> {
	match value {
		Some(Value::String(text)) => u64::from_str_radix(text.trim_start_matches("0x"), 16)
			.map_err(|e| decode_error(what, e)),
		Some(Value::Number(n)) => n.as_u64().ok_or_else(|| decode_error(what, "not a u64")),
		_ => Err(decode_error(what, "no block number")),
	}
}

fn number_field(value: &Value, field: &str) -> Result<u64> {
	value
		.get(field)
		.and_then(Value::as_u64)
		.ok_or_else(|| decode_error("state_getRuntimeVersion", format!("no {field}")))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn view(status: RawJobStatus, assigned: Vec<[u8; 32]>, reported: Vec<[u8; 32]>) -> RawJobView {
		RawJobView {
			id: 3,
			requester: [0; 32],
			kind: JobKind::VerifySnapshot,
			spec: vec![1, 0, 0, 0],
			fee: 1,
			replication: 2,
			timeout: 5,
			created_at: 1,
			deadline: 6,
			assigned,
			escalations: 1,
			status,
			outcome: None,
			reported,
		}
	}

	#[test]
	fn a_job_is_mine_only_while_pending_assigned_and_unreported() {
		let me = [1u8; 32];
		let other = [2u8; 32];
		let job = view(RawJobStatus::Pending, vec![other, me], vec![other]).for_worker(&me);
		assert_eq!(
			job,
			Some(AssignedJob {
				id: 3,
				kind: JobKind::VerifySnapshot,
				spec: vec![1, 0, 0, 0],
				round: 1,
				deadline: 6
			})
		);
		assert_eq!(view(RawJobStatus::Pending, vec![other], vec![]).for_worker(&me), None);
		assert_eq!(view(RawJobStatus::Pending, vec![me], vec![me]).for_worker(&me), None);
		assert_eq!(view(RawJobStatus::Completed, vec![me], vec![]).for_worker(&me), None);
	}

	#[test]
	fn block_numbers_parse_from_hex_and_plain_numbers() {
		assert_eq!(parse_number("t", Some(&json!("0x1a"))).unwrap(), 26);
		assert_eq!(parse_number("t", Some(&json!(26))).unwrap(), 26);
		assert!(parse_number("t", Some(&json!("zz"))).is_err());
		assert!(parse_number("t", None).is_err());
	}
}
