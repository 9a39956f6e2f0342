//! Domain types: workers and their capabilities, jobs, results, and the plain views the runtime
//! API returns.

use crate::Config;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{derive_where::derive_where, traits::fungible, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::{Get, H256};

/// Identifies a job. Assigned sequentially from 0; jobs are never deleted.
pub type JobId = u64;

/// The balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A worker as stored.
pub type WorkerInfoOf<T> = WorkerInfo<BalanceOf<T>, BlockNumberFor<T>>;
/// A job as stored.
pub type JobOf<T> = Job<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	<T as Config>::MaxSpecLen,
	<T as Config>::MaxAssigned,
>;
/// One worker's result for a job as stored.
pub type JobResultOf<T> = JobResult<BlockNumberFor<T>, <T as Config>::MaxResultLen>;
/// The jobs a worker holds.
pub type WorkerJobsOf<T> = BoundedVec<JobId, <T as Config>::MaxJobsPerWorker>;
/// The jobs whose deadline falls in one block.
pub type DeadlineJobsOf<T> = BoundedVec<JobId, <T as Config>::MaxJobsPerBlock>;

/// Where a worker runs its jobs.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Backend {
	/// On CPU only.
	#[codec(index = 0)]
	Cpu,
	/// On a CUDA GPU.
	#[codec(index = 1)]
	Cuda,
}

/// What a job asks a worker to do.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum JobKind {
	/// Recompute a Datanet snapshot's Merkle root from its contributions; the spec is a
	/// [`VerifySnapshotSpec`].
	#[codec(index = 0)]
	VerifySnapshot,
	/// Train (fine-tune) a model or adapter.
	#[codec(index = 1)]
	Train,
	/// Evaluate a model on a data set.
	#[codec(index = 2)]
	Evaluate,
	/// Run inference.
	#[codec(index = 3)]
	Infer,
}

impl JobKind {
	/// Every kind, in codec order.
	pub const ALL: [JobKind; 4] =
		[JobKind::VerifySnapshot, JobKind::Train, JobKind::Evaluate, JobKind::Infer];

	/// This kind's bit in [`Capabilities::job_kinds`]: `1 << (kind as u8)`.
	pub fn bit(self) -> u8 {
		1u8.checked_shl(u32::from(self as u8)).unwrap_or(0)
	}

	/// The bitmask with every kind set.
	pub fn all_bits() -> u8 {
		Self::ALL.iter().fold(0u8, |mask, kind| mask | kind.bit())
	}
}

/// What a worker can run.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Capabilities {
	/// CPU or CUDA.
	pub backend: Backend,
	/// GPU memory available to jobs, in MiB (0 on CPU).
	pub gpu_memory_mib: u32,
	/// How many LoRA adapters the worker keeps loaded at once.
	pub max_resident_adapters: u32,
	/// The job kinds it runs: bit `1 << (kind as u8)` per [`JobKind`]. At least one known kind.
	pub job_kinds: u8,
}

impl Capabilities {
	/// Whether the worker runs jobs of this kind.
	pub fn supports(&self, kind: JobKind) -> bool {
		self.job_kinds & kind.bit() != 0
	}

	/// Whether at least one known job kind is set.
	pub fn has_job_kinds(&self) -> bool {
		self.job_kinds & JobKind::all_bits() != 0
	}
}

/// Whether a worker takes new jobs.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum WorkerStatus<BlockNumber> {
	/// Takes new jobs while its heartbeat is fresh.
	Active,
	/// Leaving: takes no new jobs; its stake stays held (and slashable for the jobs it still
	/// holds) until `until`, then may be withdrawn once it holds no jobs.
	Unbonding {
		/// The first block the stake may be withdrawn in.
		until: BlockNumber,
	},
}

/// A registered worker.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct WorkerInfo<Balance, BlockNumber> {
	/// Held from the worker under `HoldReason::WorkerStake`; always equal to the held amount.
	pub stake: Balance,
	/// What it can run.
	pub capabilities: Capabilities,
	/// The block it registered in.
	pub registered_at: BlockNumber,
	/// The block of its latest heartbeat (registration counts as one).
	pub last_heartbeat: BlockNumber,
	/// Active or unbonding.
	pub status: WorkerStatus<BlockNumber>,
}

impl<Balance, BlockNumber> WorkerInfo<Balance, BlockNumber> {
	/// Whether the worker is active (not unbonding).
	pub fn is_active(&self) -> bool {
		matches!(self.status, WorkerStatus::Active)
	}
}

/// Where a job is in its life.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum JobStatus {
	/// Waiting for its assigned workers' results; its fee is in escrow.
	Pending,
	/// A strict majority agreed on `outcome`; the fee was paid to it. Final.
	Completed,
	/// No majority could be reached; the fee was refunded. Final.
	Failed,
}

/// A job as stored.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
#[derive_where(Clone, PartialEq, Eq, Debug; AccountId, Balance, BlockNumber)]
#[derive_where(crate = frame_support::derive_where)]
#[scale_info(skip_type_params(MaxSpecLen, MaxAssigned))]
#[codec(mel_bound(AccountId: MaxEncodedLen, Balance: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct Job<AccountId, Balance, BlockNumber, MaxSpecLen: Get<u32>, MaxAssigned: Get<u32>> {
	/// Who asked for it and paid the fee.
	pub requester: AccountId,
	/// What to do.
	pub kind: JobKind,
	/// The kind-specific specification, SCALE-encoded (for example a [`VerifySnapshotSpec`]).
	pub spec: BoundedVec<u8, MaxSpecLen>,
	/// Held in escrow from the requester while pending; paid to the agreeing workers.
	pub fee: Balance,
	/// How many workers run it at once.
	pub replication: u8,
	/// How many blocks each round of workers has to report.
	pub timeout: BlockNumber,
	/// The block it was created in.
	pub created_at: BlockNumber,
	/// The last block a result may be submitted in for the current round.
	pub deadline: BlockNumber,
	/// The workers now running it. Escalation adds workers; a missed deadline replaces them.
	pub assigned: BoundedVec<AccountId, MaxAssigned>,
	/// Rounds so far after the first: escalations after a tie plus reassignments after a missed
	/// deadline. Bounded by `Config::MaxEscalations`.
	pub escalations: u8,
	/// Pending, completed or failed.
	pub status: JobStatus,
	/// The payload hash the majority agreed on, once completed.
	pub outcome: Option<H256>,
}

/// One worker's result for a job.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
#[derive_where(Clone, PartialEq, Eq, Debug; BlockNumber)]
#[derive_where(crate = frame_support::derive_where)]
#[scale_info(skip_type_params(MaxResultLen))]
#[codec(mel_bound(BlockNumber: MaxEncodedLen))]
pub struct JobResult<BlockNumber, MaxResultLen: Get<u32>> {
	/// The hash results are compared by (the worker's hash of its full output).
	pub payload_hash: H256,
	/// A short inline payload (for example a Merkle root or a metric); may be empty.
	pub payload: BoundedVec<u8, MaxResultLen>,
	/// The block it was submitted in.
	pub submitted_at: BlockNumber,
}

/// The spec of a [`JobKind::VerifySnapshot`] job, SCALE-encoded into [`Job::spec`].
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct VerifySnapshotSpec {
	/// The Datanet snapshot to verify.
	pub snapshot: u32,
}

/// Why a worker was slashed.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum SlashReason {
	/// Its result disagreed with the majority.
	Disagreed,
	/// It did not report before the deadline.
	MissedDeadline,
}

/// A job as the runtime API returns it: plain vectors, plus its id and who has reported.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct JobView<AccountId, Balance, BlockNumber> {
	/// The job's id.
	pub id: JobId,
	/// Who asked for it and paid the fee.
	pub requester: AccountId,
	/// What to do.
	pub kind: JobKind,
	/// The kind-specific specification.
	pub spec: Vec<u8>,
	/// The fee.
	pub fee: Balance,
	/// Workers per round.
	pub replication: u8,
	/// Blocks per round.
	pub timeout: BlockNumber,
	/// The block it was created in.
	pub created_at: BlockNumber,
	/// The current round's deadline.
	pub deadline: BlockNumber,
	/// The workers now running it.
	pub assigned: Vec<AccountId>,
	/// Rounds after the first.
	pub escalations: u8,
	/// Pending, completed or failed.
	pub status: JobStatus,
	/// The agreed payload hash, once completed.
	pub outcome: Option<H256>,
	/// The workers with a result stored (empty once the job is settled).
	pub reported: Vec<AccountId>,
}

impl<AccountId: Clone, Balance: Copy, BlockNumber: Copy, S: Get<u32>, A: Get<u32>>
	Job<AccountId, Balance, BlockNumber, S, A>
{
	/// Whether the job is waiting for results.
	pub fn is_pending(&self) -> bool {
		self.status == JobStatus::Pending
	}

	/// The plain view of this job for the runtime API.
	pub fn view(
		&self,
		id: JobId,
		reported: Vec<AccountId>,
	) -> JobView<AccountId, Balance, BlockNumber> {
		JobView {
			id,
			requester: self.requester.clone(),
			kind: self.kind,
			spec: self.spec.to_vec(),
			fee: self.fee,
			replication: self.replication,
			timeout: self.timeout,
			created_at: self.created_at,
			deadline: self.deadline,
			assigned: self.assigned.to_vec(),
			escalations: self.escalations,
			status: self.status,
			outcome: self.outcome,
			reported,
		}
	}
}
