//! What this pallet asks of the rest of the runtime, and offers it:
//!
//! - [`JobSpecCheck`]: a check of job specs against other pallets' state (for example that a
//!   snapshot to verify exists in Datanets);
//! - [`JobHooks`]: tells the pallet that created a job how it ended, so that it can act on the
//!   result (record a trained model, say);
//! - [`JobCreator`]: lets other pallets create jobs on behalf of their callers.

use crate::types::{JobId, JobKind};
use alloc::vec::Vec;
use frame_support::weights::Weight;
use sp_core::H256;
use sp_runtime::DispatchError;

/// Why a job spec was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JobSpecError {
	/// The spec does not decode or does not make sense for its kind.
	Invalid,
	/// The spec names a snapshot that does not exist.
	UnknownSnapshot,
}

/// Checks a job's spec before the job is created and its fee escrowed.
pub trait JobSpecCheck {
	/// `Ok` if a job of `kind` may run with `spec`.
	fn check(kind: JobKind, spec: &[u8]) -> Result<(), JobSpecError>;

	/// A job kind and a spec of `max_len` bytes or fewer that [`Self::check`] accepts, as costly
	/// to check as any; benchmarks create jobs with it. The default fits the `()` check.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_spec(max_len: u32) -> (JobKind, alloc::vec::Vec<u8>) {
		(JobKind::Train, alloc::vec![0u8; max_len as usize])
	}
}

/// Accepts every spec.
impl JobSpecCheck for () {
	fn check(_kind: JobKind, _spec: &[u8]) -> Result<(), JobSpecError> {
		Ok(())
	}
}

/// Told when a job settles. Compute calls it inside the settling call or block hook, after the
/// fee and slashes have moved and before the job's results are cleared; the hook cannot fail
/// the settlement, so it must not panic and should record its own failures (as events).
pub trait JobHooks<AccountId> {
	/// A strict majority of `workers` (in account order) agreed (see [`Self::agree`]) with the
	/// result whose payload hash is `outcome` and inline payload `payload`. Returns the weight used, at most
	/// [`Self::max_weight`].
	fn on_completed(
		job: JobId,
		requester: &AccountId,
		kind: JobKind,
		spec: &[u8],
		outcome: H256,
		payload: &[u8],
		workers: &[AccountId],
	) -> Weight;

	/// The job failed (no majority, or nobody reported) and its fee was refunded. Returns the
	/// weight used, at most [`Self::max_weight`].
	fn on_failed(job: JobId, requester: &AccountId, kind: JobKind, spec: &[u8]) -> Weight;

	/// The most either hook may use; compute charges it up front wherever a job may settle.
	fn max_weight() -> Weight;

	/// Whether two results of a job of `kind` with `spec` agree, each given as its payload hash
	/// and inline payload. Settlement counts, for every result, the results that agree with it;
	/// a result a strict majority agrees with wins (the most agreed-with, then the first in
	/// account order) and the workers agreeing with it are the majority.
	///
	/// The default is bit-for-bit agreement: equal payload hashes. A kind whose workers may
	/// differ in the last bits (training on GPUs) compares a metric within a tolerance here.
	/// The relation must be symmetric and reflexive, and cheap: settlement calls it at most
	/// `MaxAssigned²` times within the settling call's weight.
	fn agree(kind: JobKind, spec: &[u8], a: (H256, &[u8]), b: (H256, &[u8])) -> bool {
		let _ = (kind, spec);
		a.0 == b.0
	}
}

/// Nobody listens: settling costs nothing more.
impl<AccountId> JobHooks<AccountId> for () {
	fn on_completed(
		_job: JobId,
		_requester: &AccountId,
		_kind: JobKind,
		_spec: &[u8],
		_outcome: H256,
		_payload: &[u8],
		_workers: &[AccountId],
	) -> Weight {
		Weight::zero()
	}

	fn on_failed(_job: JobId, _requester: &AccountId, _kind: JobKind, _spec: &[u8]) -> Weight {
		Weight::zero()
	}

	fn max_weight() -> Weight {
		Weight::zero()
	}
}

/// Creates compute jobs for other pallets, which pay for them with their caller's funds.
pub trait JobCreator<AccountId, Balance, BlockNumber> {
	/// Creates a job exactly as the `create_job` call does for `requester`: checks the spec,
	/// escrows `fee` from `requester`, draws `replication` workers and sets the deadline
	/// `timeout` blocks away. Fails, changing nothing, with the call's errors.
	fn create_job(
		requester: AccountId,
		kind: JobKind,
		spec: Vec<u8>,
		fee: Balance,
		replication: u8,
		timeout: BlockNumber,
	) -> Result<JobId, DispatchError>;

	/// An upper bound of [`Self::create_job`]'s weight.
	fn create_job_weight() -> Weight;

	/// Registers up to `n` new workers (fewer when `MaxWorkers` would be passed), funded and
	/// able to run every job kind, for other pallets' benchmarks. Returns how many workers are
	/// registered in all.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_register_workers(n: u32) -> Result<u32, DispatchError>;

	/// Terms [`Self::create_job`] accepts in its costliest shape, for other pallets'
	/// benchmarks: the least fee, the most workers it can draw and the longest timeout.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_job_terms() -> (Balance, u8, BlockNumber);
}
