//! Running jobs: the executor abstraction and the executors. Nothing here speaks HTTP or signs
//! anything; an executor gets its inputs through small traits (e.g.
//! [`verify::ManifestSource`]) and returns the result payload the worker reports on-chain.
//!
//! - [`Executor`]: runs jobs of one [`JobKind`]; [`Executors`] picks one by kind.
//! - [`JobOutput`]: the payload and its blake2-256 hash, the pair `submit_result` takes.
//! - [`verify`]: [`JobKind::VerifySnapshot`]: fetch a Datanet snapshot's contributions, check
//!   each against its hash, recompute the Merkle root.
//! - [`train`]: [`JobKind::Train`]: fine-tune a LoRA adapter on a snapshot (the ModelFactory).
//! - [`infer`]: [`JobKind::Infer`]: complete a prompt with a model version, greedily, on the
//!   OpenLoRA engine (the on-chain inference path).
//!
//! [`Executors::with_corrupt_results`] is a fault injector for tests of the chain's disagreement
//! handling: every payload comes out well-formed but wrong.

pub mod infer;
pub mod train;
pub mod verify;

pub use infer::InferExecutor;
pub use train::{ModelLibrary, TrainExecutor};
pub use verify::{VerificationReport, VerifySnapshotExecutor};

use crate::chain::types::{AssignedJob, JobKind};
use async_trait::async_trait;
use std::{collections::BTreeMap, sync::Arc};

/// A job's result: the payload reported on-chain and its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobOutput {
	/// The result, in the kind's SCALE encoding (e.g. [`VerificationReport`]).
	pub payload: Vec<u8>,
	/// blake2-256 of `payload`.
	pub payload_hash: [u8; 32],
}

impl JobOutput {
	/// The output carrying `payload`, with its hash.
	pub fn new(payload: Vec<u8>) -> Self {
		let payload_hash = sp_crypto_hashing::blake2_256(&payload);
		Self { payload, payload_hash }
	}

	/// The same output with its last byte inverted (a `0xff` byte if it was empty), hashed again:
	/// a consistent but wrong answer, for testing how the chain treats a dishonest worker.
	pub fn corrupted(self) -> Self {
		let mut payload = self.payload;
		match payload.last_mut() {
			Some(last) => *last = !*last,
			None => payload.push(0xff),
		}
		Self::new(payload)
	}
}

/// Why a job produced no output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
	/// No executor runs this kind.
	#[error("no executor for {0} jobs")]
	Unsupported(JobKind),
	/// The job's spec does not decode as its kind's spec.
	#[error("invalid job spec: {0}")]
	InvalidSpec(String),
	/// The job's inputs could not be read (e.g. the chain was unreachable); worth retrying.
	#[error("could not read the job's inputs: {0}")]
	Inputs(String),
	/// The computation itself failed.
	#[error("job failed: {0}")]
	Failed(String),
}

impl JobError {
	/// Whether running the same job again may succeed (a transient input failure), as opposed
	/// to a job that will fail the same way every time.
	pub fn is_retryable(&self) -> bool {
		matches!(self, Self::Inputs(_))
	}
}

/// Runs jobs of one kind.
#[async_trait]
pub trait Executor: Send + Sync {
	/// The kind it runs.
	fn kind(&self) -> JobKind;

	/// Runs `job` to its output. The same job must give the same payload on every honest worker.
	async fn execute(&self, job: &AssignedJob) -> Result<JobOutput, JobError>;
}

/// The executors of a worker, by kind.
#[derive(Clone, Default)]
pub struct Executors {
	by_kind: BTreeMap<JobKind, Arc<dyn Executor>>,
	corrupt_results: bool,
}

impl std::fmt::Debug for Executors {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("Executors")
			.field("kinds", &self.kinds())
			.field("corrupt_results", &self.corrupt_results)
			.finish()
	}
}

impl Executors {
	/// No executors.
	pub fn new() -> Self {
		Self::default()
	}

	/// Adds `executor`, replacing any other of its kind.
	pub fn with(mut self, executor: impl Executor + 'static) -> Self {
		self.by_kind.insert(executor.kind(), Arc::new(executor));
		self
	}

	/// Makes every output wrong ([`JobOutput::corrupted`]): a fault injector for tests.
	pub fn with_corrupt_results(mut self, corrupt: bool) -> Self {
		self.corrupt_results = corrupt;
		self
	}

	/// The kinds that have an executor, in index order.
	pub fn kinds(&self) -> Vec<JobKind> {
		self.by_kind.keys().copied().collect()
	}

	/// Whether `kind` has an executor.
	pub fn runs(&self, kind: JobKind) -> bool {
		self.by_kind.contains_key(&kind)
	}

	/// Runs `job` with the executor of its kind.
	pub async fn execute(&self, job: &AssignedJob) -> Result<JobOutput, JobError> {
		let executor = self.by_kind.get(&job.kind).ok_or(JobError::Unsupported(job.kind))?;
		let output = executor.execute(job).await?;
		Ok(if self.corrupt_results { output.corrupted() } else { output })
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	struct Echo;

	#[async_trait]
	impl Executor for Echo {
		fn kind(&self) -> JobKind {
			JobKind::Evaluate
		}

		async fn execute(&self, job: &AssignedJob) -> Result<JobOutput, JobError> {
			Ok(JobOutput::new(job.spec.clone()))
		}
	}

	fn job(kind: JobKind, spec: &[u8]) -> AssignedJob {
		AssignedJob { id: 1, kind, spec: spec.to_vec(), round: 0, deadline: 10 }
	}

	#[tokio::test]
	async fn runs_jobs_by_kind() {
		let executors = Executors::new().with(Echo);
		assert_eq!(executors.kinds(), vec![JobKind::Evaluate]);
		let out = executors.execute(&job(JobKind::Evaluate, b"abc")).await.unwrap();
		assert_eq!(out.payload, b"abc");
		assert_eq!(out.payload_hash, sp_crypto_hashing::blake2_256(b"abc"));
		assert_eq!(
			executors.execute(&job(JobKind::Train, b"")).await,
			Err(JobError::Unsupported(JobKind::Train))
		);
	}

	#[tokio::test]
	async fn corrupt_results_flip_the_last_byte_and_rehash() {
		let executors = Executors::new().with(Echo).with_corrupt_results(true);
		let out = executors.execute(&job(JobKind::Evaluate, &[1, 2, 0x0f])).await.unwrap();
		assert_eq!(out.payload, vec![1, 2, 0xf0]);
		assert_eq!(out.payload_hash, sp_crypto_hashing::blake2_256(&[1, 2, 0xf0]));
		assert_eq!(JobOutput::new(vec![]).corrupted().payload, vec![0xff]);
	}
}
