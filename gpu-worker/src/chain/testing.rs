//! An in-memory [`Chain`] for tests of the service loop and the API.
//!
//! Its state is public and sits in a `tokio::sync::watch` channel, so a test changes it
//! ([`FakeChain::update`]) and waits, with a bound, for the worker to react
//! ([`FakeChain::wait_for`]) instead of sleeping.

use super::{
	inference::{self, DepositInfo, MultiSignature, Receipt, ServedVersion},
	types::{AssignedJob, Capabilities, SnapshotManifest, WorkerState, WorkerStatus},
	Chain, ChainError, Result,
};
use async_trait::async_trait;
use std::{collections::BTreeMap, time::Duration};
use tokio::sync::watch;

/// A result the fake chain accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
	/// The job.
	pub job: u64,
	/// The job's round when it was submitted.
	pub round: u8,
	/// The payload's hash as sent.
	pub payload_hash: [u8; 32],
	/// The payload.
	pub payload: Vec<u8>,
	/// The best block when it arrived.
	pub block: u32,
}

/// The fake chain's state. Tests set the inputs and read the records.
#[derive(Clone, Debug, Default)]
pub struct FakeState {
	/// The best block.
	pub best_block: u32,
	/// This worker's registration.
	pub worker: Option<WorkerState>,
	/// Pending jobs assigned to this worker and not yet reported, by id.
	pub jobs: BTreeMap<u64, AssignedJob>,
	/// Snapshot manifests, by snapshot id.
	pub manifests: BTreeMap<u32, SnapshotManifest>,
	/// How many of the next `submit_result` calls fail.
	pub failing_submits: u32,
	/// How many of the next `best_block` calls fail.
	pub failing_best_blocks: u32,
	/// How many of the next `assigned_jobs` calls fail.
	pub failing_assigned_jobs: u32,
	/// Whether `assigned_jobs` still lists a job after its result was accepted (a node whose
	/// best block does not yet include the submission).
	pub lagging: bool,
	/// Every `register` call: (stake, capabilities, block).
	pub registrations: Vec<(u128, Capabilities, u32)>,
	/// The block of every heartbeat.
	pub heartbeats: Vec<u32>,
	/// Accepted results.
	pub submissions: Vec<Submission>,
	/// Failed `submit_result` calls: (job, block).
	pub failed_submissions: Vec<(u64, u32)>,
	/// The best block at each `assigned_jobs` call, failed or not: the last step of the loop's
	/// block, so a test that sees block `n` here knows the loop has handled block `n`.
	pub assigned_polls: Vec<u32>,
	/// Model versions, by (model, version).
	pub versions: BTreeMap<(u32, u32), ServedVersion>,
	/// Each model's active version.
	pub active: BTreeMap<u32, u32>,
	/// Inference deposits, by client.
	pub deposits: BTreeMap<[u8; 32], DepositInfo>,
	/// Prices per 1,000 tokens, by model.
	pub prices: BTreeMap<u32, u128>,
	/// The last settled nonce of each client with this worker.
	pub nonces: BTreeMap<[u8; 32], u64>,
	/// Receipts settled as the pallet would (signature, nonce, price, deposit), with their fee.
	pub settled: Vec<(Receipt, u128)>,
	/// Receipts the fake refused, with the reason.
	pub rejected: Vec<(Receipt, &'static str)>,
	/// How many `submit_receipts` calls arrived.
	pub receipt_batches: u32,
	/// How many of the next `submit_receipts` calls fail.
	pub failing_receipt_submits: u32,
}

/// The in-memory chain.
#[derive(Debug)]
pub struct FakeChain {
	account: [u8; 32],
	state: watch::Sender<FakeState>,
}

/// The longest [`FakeChain::wait_for`] waits before failing the test.
pub const WAIT_LIMIT: Duration = Duration::from_secs(20);

impl FakeChain {
	/// A chain at block 1 on which `account` is not registered.
	pub fn new(account: [u8; 32]) -> Self {
		let state = FakeState { best_block: 1, ..FakeState::default() };
		Self { account, state: watch::Sender::new(state) }
	}

	/// A chain on which `account` is registered and active with `stake`.
	pub fn registered(account: [u8; 32], stake: u128) -> Self {
		let chain = Self::new(account);
		chain.update(|s| s.worker = Some(WorkerState { stake, status: WorkerStatus::Active }));
		chain
	}

	/// Changes the state (waking waiters).
	pub fn update<R>(&self, change: impl FnOnce(&mut FakeState) -> R) -> R {
		let mut out = None;
		self.state.send_modify(|state| out = Some(change(state)));
		// `send_modify` always runs the closure.
		out.unwrap_or_else(|| unreachable!())
	}

	/// Reads the state.
	pub fn read<R>(&self, read: impl FnOnce(&FakeState) -> R) -> R {
		read(&self.state.borrow())
	}

	/// Assigns `job` (replacing another round of it).
	pub fn assign(&self, job: AssignedJob) {
		self.update(|s| s.jobs.insert(job.id, job));
	}

	/// Moves the best block on by one; returns it.
	pub fn advance(&self) -> u32 {
		self.update(|s| {
			s.best_block = s.best_block.saturating_add(1);
			s.best_block
		})
	}

	/// Waits until `done` holds, failing the test after [`WAIT_LIMIT`].
	pub async fn wait_for(&self, what: &str, done: impl FnMut(&FakeState) -> bool) {
		let mut seen = self.state.subscribe();
		let held = tokio::time::timeout(WAIT_LIMIT, async { seen.wait_for(done).await.is_ok() })
			.await
			.unwrap_or(false);
		if !held {
			panic!("timed out waiting for {what}; state: {:#?}", *self.state.borrow());
		}
	}

	/// Waits until the loop has handled block `block` (polled assigned jobs at it or later).
	pub async fn wait_for_block(&self, block: u32) {
		self.wait_for(&format!("the loop to handle block {block}"), |s| {
			s.assigned_polls.last().is_some_and(|&b| b >= block)
		})
		.await
	}
}

#[async_trait]
impl Chain for FakeChain {
	fn account(&self) -> [u8; 32] {
		self.account
	}

	async fn best_block(&self) -> Result<u32> {
		self.update(|s| {
			if s.failing_best_blocks > 0 {
				s.failing_best_blocks -= 1;
				return Err(ChainError::Other("best block unavailable (injected)".into()));
			}
			Ok(s.best_block)
		})
	}

	async fn worker(&self) -> Result<Option<WorkerState>> {
		Ok(self.read(|s| s.worker.clone()))
	}

	async fn register(&self, stake: u128, caps: &Capabilities) -> Result<()> {
		self.update(|s| {
			if s.worker.is_some() {
				return Err(ChainError::Rejected {
					call: "Compute.register_worker".into(),
					reason: "AlreadyRegistered".into(),
				});
			}
			s.registrations.push((stake, caps.clone(), s.best_block));
			s.worker = Some(WorkerState { stake, status: WorkerStatus::Active });
			Ok(())
		})
	}

	async fn heartbeat(&self) -> Result<()> {
		self.update(|s| {
			if s.worker.is_none() {
				return Err(ChainError::Rejected {
					call: "Compute.heartbeat".into(),
					reason: "NotRegistered".into(),
				});
			}
			s.heartbeats.push(s.best_block);
			Ok(())
		})
	}

	async fn assigned_jobs(&self) -> Result<Vec<AssignedJob>> {
		self.update(|s| {
			s.assigned_polls.push(s.best_block);
			if s.failing_assigned_jobs > 0 {
				s.failing_assigned_jobs -= 1;
				return Err(ChainError::Other("assigned jobs unavailable (injected)".into()));
			}
			Ok(s.jobs.values().cloned().collect())
		})
	}

	async fn job(&self, id: u64) -> Result<Option<AssignedJob>> {
		Ok(self.read(|s| s.jobs.get(&id).cloned()))
	}

	async fn submit_result(
		&self,
		job: u64,
		payload_hash: [u8; 32],
		payload: Vec<u8>,
	) -> Result<()> {
		self.update(|s| {
			let rejected = |reason: &str| ChainError::Rejected {
				call: "Compute.submit_result".into(),
				reason: reason.into(),
			};
			if s.failing_submits > 0 {
				s.failing_submits -= 1;
				s.failed_submissions.push((job, s.best_block));
				return Err(ChainError::Other("submission failed (injected)".into()));
			}
			let Some(assigned) = s.jobs.get(&job) else { return Err(rejected("NotAssigned")) };
			if sp_crypto_hashing::blake2_256(&payload) != payload_hash {
				return Err(rejected("PayloadHashMismatch"));
			}
			let round = assigned.round;
			if s.submissions.iter().any(|x| x.job == job && x.round == round) {
				return Err(rejected("AlreadyReported"));
			}
			if !s.lagging {
				s.jobs.remove(&job);
			}
			let block = s.best_block;
			s.submissions.push(Submission { job, round, payload_hash, payload, block });
			Ok(())
		})
	}

	async fn snapshot_manifest(&self, snapshot: u32) -> Result<SnapshotManifest> {
		self.read(|s| s.manifests.get(&snapshot).cloned())
			.ok_or_else(|| ChainError::NotFound(format!("snapshot {snapshot}")))
	}

	fn genesis(&self) -> [u8; 32] {
		GENESIS
	}

	async fn model_version(
		&self,
		model: u32,
		version: Option<u32>,
	) -> Result<Option<ServedVersion>> {
		Ok(self.read(|s| {
			let version = version.or_else(|| s.active.get(&model).copied())?;
			s.versions.get(&(model, version)).copied()
		}))
	}

	async fn inference_deposit(&self, client: [u8; 32]) -> Result<DepositInfo> {
		Ok(self.read(|s| s.deposits.get(&client).copied().unwrap_or_default()))
	}

	async fn inference_price(&self, model: u32) -> Result<Option<u128>> {
		Ok(self.read(|s| s.prices.get(&model).copied()))
	}

	async fn inference_nonce(&self, client: [u8; 32]) -> Result<u64> {
		Ok(self.read(|s| s.nonces.get(&client).copied().unwrap_or(0)))
	}

	async fn submit_receipts(&self, receipts: Vec<Receipt>) -> Result<()> {
		let worker = self.account;
		self.update(|s| {
			s.receipt_batches += 1;
			if s.failing_receipt_submits > 0 {
				s.failing_receipt_submits -= 1;
				return Err(ChainError::Other("receipts submission failed (injected)".into()));
			}
			for receipt in receipts {
				match settle(s, &worker, &receipt) {
					Ok(fee) => s.settled.push((receipt, fee)),
					Err(reason) => s.rejected.push((receipt, reason)),
				}
			}
			Ok(())
		})
	}
}

/// The fake chain's genesis hash.
pub const GENESIS: [u8; 32] = [0x9e; 32];

/// Settles one receipt as pallet-inference does; returns the fee or why it was refused.
fn settle(
	s: &mut FakeState,
	worker: &[u8; 32],
	r: &Receipt,
) -> std::result::Result<u128, &'static str> {
	let MultiSignature::Sr25519(signature) = r.signature else { return Err("BadSignature") };
	let message = inference::signing_payload(
		&GENESIS,
		worker,
		r.model,
		r.version,
		&r.request_hash,
		r.nonce,
		r.max_fee,
	);
	if !inference::verify(&r.client, &message, &signature) {
		return Err("BadSignature");
	}
	if r.nonce <= s.nonces.get(&r.client).copied().unwrap_or(0) {
		return Err("StaleNonce");
	}
	let price = s.prices.get(&r.model).copied().ok_or("NoPrice")?;
	if !s.versions.contains_key(&(r.model, r.version)) {
		return Err("UnknownVersion");
	}
	let tokens = r.prompt_tokens.saturating_add(r.completion_tokens);
	let fee = inference::fee(price, tokens, r.max_fee);
	let deposit = s.deposits.entry(r.client).or_default();
	if deposit.held < fee {
		return Err("InsufficientDeposit");
	}
	deposit.held -= fee;
	s.nonces.insert(r.client, r.nonce);
	Ok(fee)
}
