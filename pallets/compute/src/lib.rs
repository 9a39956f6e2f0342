//! # Compute pallet
//!
//! A marketplace of staked workers (GPU or CPU machines) that run OpenLedger's jobs: verifying
//! Datanet snapshots, training, evaluating and serving models. Results are trusted by agreement:
//! several workers run each job and a strict majority of matching result hashes wins.
//!
//! ## Flow
//!
//! 1. A worker [`register_worker`](Pallet::register_worker)s with its [`Capabilities`] and a stake
//!    of at least [`Config::MinWorkerStake`], held under [`HoldReason::WorkerStake`]. It sends a
//!    [`heartbeat`](Pallet::heartbeat) (free) at least every [`Config::HeartbeatTimeout`] blocks;
//!    a worker with a stale heartbeat is not given new jobs.
//! 2. A requester [`create_job`](Pallet::create_job)s: kind, spec, fee, replication and timeout.
//!    The fee is held in escrow under [`HoldReason::JobEscrow`]; `replication` workers are drawn
//!    (stake-weighted, deterministic, see [`Pallet::select_workers`]) and the job gets a deadline.
//!    The node's off-chain worker tells attached GPU workers about their jobs (see [`offchain`]).
//! 3. Each assigned worker [`submit_result`](Pallet::submit_result)s (free) a payload hash and a
//!    short payload. When every assigned worker has reported the job settles:
//!    - a strict majority of equal hashes completes the job: the fee goes to the majority in equal
//!      shares (the remainder to the first of them by account order), and each worker in the
//!      minority loses [`Config::SlashDisagreeFraction`] of its stake —
//!      [`Config::SlashToTreasury`] of that to [`Config::Treasury`], the rest to the majority;
//!    - without one (a tie) the job escalates: `replication` more workers are drawn and a new
//!      deadline set, up to [`Config::MaxEscalations`] rounds; after that it fails and the fee is
//!      refunded, with nobody slashed.
//! 4. At a deadline ([`Hooks::on_initialize`]) each assigned worker that has not reported loses
//!    [`Config::SlashMissedFraction`] of its stake to the treasury and is replaced by a newly drawn
//!    worker. With no replacement to be had the job settles on the results reported so far, or
//!    fails with a refund if there are none. Reassignment rounds count against
//!    [`Config::MaxEscalations`] too, so every job ends.
//! 5. A worker [`unregister`](Pallet::unregister)s, waits [`Config::UnbondingPeriod`], finishes
//!    (or is replaced on) the jobs it holds and [`withdraw_stake`](Pallet::withdraw_stake)s.
//!
//! Other pallets create jobs for their callers through [`traits::JobCreator`] (implemented by
//! [`Pallet`]) and hear how each job ended through [`Config::Hooks`] ([`traits::JobHooks`]):
//! on completion with the agreed hash, the majority and the first majority worker's payload, on
//! failure after the refund. The hook runs inside the settling call or block, before the job's
//! results are cleared; its [`traits::JobHooks::max_weight`] is part of `submit_result`'s
//! declared weight, and what it used is added to the settling call's and `on_initialize`'s
//! actual weight.
//!
//! The node and dApps read the pallet through the [`runtime_api::ComputeApi`] runtime API.
//!
//! ## Rules worth knowing
//!
//! - Money only moves: fees and slashes are transfers between holds and accounts, so total
//!   issuance never changes.
//! - A worker whose stake falls below [`Config::MinWorkerStake`] after a slash starts unbonding.
//! - If the treasury account cannot receive a share (it does not exist and the share is below the
//!   existential deposit), a disagreement slash gives that share to the majority instead, and a
//!   missed-deadline slash is not taken. Nothing is ever burned.
//! - When an escalated or reassigned job's new deadline block is full, the next of up to
//!   [`DEADLINE_PROBES`] blocks with room is used; if all are full the job fails with a refund.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
pub mod offchain;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod traits;
#[cfg(any(feature = "try-runtime", test))]
mod try_state;
pub mod types;
pub mod weights;

/// How many blocks after its intended deadline an escalated or reassigned job may be moved to
/// when that block's [`Config::MaxJobsPerBlock`] is taken.
pub const DEADLINE_PROBES: u32 = 8;

// FRAME's pallet macros expand to `expect` (storage prefixes, pallet names); the hand-written
// modules (`impls`, `offchain`, `types`, ...) keep the workspace's lints.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use crate::traits::{JobHooks, JobSpecCheck};
	use alloc::vec::Vec;
	use frame_support::{
		dispatch::PostDispatchInfo,
		pallet_prelude::*,
		traits::fungible::{InspectHold, Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;
	use sp_runtime::Perbill;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A worker's stake: released when it withdraws, slashed when it disagrees with the
		/// majority or misses a deadline.
		#[codec(index = 0)]
		WorkerStake,
		/// A pending job's fee: paid to the agreeing workers, or refunded if the job fails.
		#[codec(index = 1)]
		JobEscrow,
	}

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency stakes and fees are held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;

		/// Checks job specs against the rest of the runtime (for example that a snapshot exists).
		type SpecCheck: JobSpecCheck;

		/// Told when a job completes or fails, so that the pallet behind the job can act on its
		/// result. Its [`JobHooks::max_weight`] is charged wherever a job may settle.
		type Hooks: JobHooks<Self::AccountId>;

		/// Receives slashed stake (all of a missed-deadline slash, [`Config::SlashToTreasury`] of
		/// a disagreement slash).
		#[pallet::constant]
		type Treasury: Get<Self::AccountId>;

		/// The least stake a worker registers with and keeps while active.
		#[pallet::constant]
		type MinWorkerStake: Get<BalanceOf<Self>>;

		/// The least fee a job pays.
		#[pallet::constant]
		type MinJobFee: Get<BalanceOf<Self>>;

		/// How many blocks an unregistered worker's stake stays held.
		#[pallet::constant]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;

		/// A worker whose last heartbeat is older than this many blocks gets no new jobs.
		#[pallet::constant]
		type HeartbeatTimeout: Get<BlockNumberFor<Self>>;

		/// The shortest timeout a job may ask for.
		#[pallet::constant]
		type MinTimeout: Get<BlockNumberFor<Self>>;

		/// The longest timeout a job may ask for.
		#[pallet::constant]
		type MaxTimeout: Get<BlockNumberFor<Self>>;

		/// Most registered workers; drawing workers reads all of them.
		#[pallet::constant]
		type MaxWorkers: Get<u32>;

		/// Longest job spec, in bytes.
		#[pallet::constant]
		type MaxSpecLen: Get<u32>;

		/// Longest inline result payload, in bytes.
		#[pallet::constant]
		type MaxResultLen: Get<u32>;

		/// Most workers per round of a job.
		#[pallet::constant]
		type MaxReplication: Get<u8>;

		/// Most workers ever assigned to a job at once. Must be at least
		/// `MaxReplication * (1 + MaxEscalations)` (checked by `integrity_test`) so that every
		/// escalation fits.
		#[pallet::constant]
		type MaxAssigned: Get<u32>;

		/// Most rounds after the first (escalations plus reassignments) a job may have.
		#[pallet::constant]
		type MaxEscalations: Get<u8>;

		/// Most jobs whose deadline falls in one block; bounds `on_initialize`.
		#[pallet::constant]
		type MaxJobsPerBlock: Get<u32>;

		/// Most pending jobs one worker holds; full workers are not drawn.
		#[pallet::constant]
		type MaxJobsPerWorker: Get<u32>;

		/// The share of its stake a worker loses for disagreeing with the majority.
		#[pallet::constant]
		type SlashDisagreeFraction: Get<Perbill>;

		/// The share of its stake a worker loses for missing a deadline (all to the treasury).
		#[pallet::constant]
		type SlashMissedFraction: Get<Perbill>;

		/// The treasury's share of a disagreement slash (rounded down); the majority gets the
		/// rest.
		#[pallet::constant]
		type SlashToTreasury: Get<Perbill>;

		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;
	}

	/// Every registered worker, unbonding ones included, until it withdraws its stake.
	#[pallet::storage]
	pub type Workers<T: Config> =
		CountedStorageMap<_, Blake2_128Concat, T::AccountId, WorkerInfoOf<T>>;

	/// The id the next job gets.
	#[pallet::storage]
	pub type NextJobId<T> = StorageValue<_, JobId, ValueQuery>;

	/// Every job ever created, by id; settled jobs keep their final status and outcome.
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, JobOf<T>>;

	/// The results of pending jobs: `(job, worker) -> result`. Removed when the job settles.
	#[pallet::storage]
	pub type Results<T: Config> =
		StorageDoubleMap<_, Twox64Concat, JobId, Blake2_128Concat, T::AccountId, JobResultOf<T>>;

	/// The pending jobs each worker is assigned to.
	#[pallet::storage]
	pub type WorkerJobs<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, WorkerJobsOf<T>, ValueQuery>;

	/// The pending jobs whose current deadline is each block. A deadline block is the last one
	/// in which results are accepted; the jobs expire at the start of the next block.
	#[pallet::storage]
	pub type Deadlines<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, DeadlineJobsOf<T>, ValueQuery>;

	/// Workers removed from a job because they missed its deadline, with the block that found
	/// them missing; their late results are refused with `DeadlinePassed`. At most
	/// `MaxAssigned` entries per job, kept like the job's own record.
	#[pallet::storage]
	pub type MissedDeadlines<T: Config> =
		StorageDoubleMap<_, Twox64Concat, JobId, Blake2_128Concat, T::AccountId, BlockNumberFor<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A worker registered and its stake was held.
		WorkerRegistered { worker: T::AccountId, stake: BalanceOf<T>, capabilities: Capabilities },
		/// A worker changed its capabilities.
		CapabilitiesUpdated { worker: T::AccountId, capabilities: Capabilities },
		/// A worker showed it is alive.
		Heartbeat { worker: T::AccountId },
		/// A worker takes no new jobs; its stake may be withdrawn from block `until`.
		WorkerUnbonding { worker: T::AccountId, until: BlockNumberFor<T> },
		/// A worker left and its remaining stake was released.
		StakeWithdrawn { worker: T::AccountId, amount: BalanceOf<T> },
		/// A job was created, its fee escrowed and its first workers assigned.
		JobCreated {
			job: JobId,
			requester: T::AccountId,
			kind: JobKind,
			fee: BalanceOf<T>,
			replication: u8,
			deadline: BlockNumberFor<T>,
			assigned: Vec<T::AccountId>,
		},
		/// An assigned worker submitted its result.
		ResultSubmitted { job: JobId, worker: T::AccountId, payload_hash: H256 },
		/// The results tied: more workers were added and a new deadline set.
		JobEscalated { job: JobId, added: Vec<T::AccountId>, deadline: BlockNumberFor<T> },
		/// A worker missed the deadline and was taken off the job; `replacement` (if any) runs it
		/// in its place until `deadline` (the current block when the job ends at once).
		JobReassigned {
			job: JobId,
			missed: T::AccountId,
			replacement: Option<T::AccountId>,
			deadline: BlockNumberFor<T>,
		},
		/// A worker lost `amount` of its stake, `to_treasury` of it to the treasury and the rest
		/// to the job's majority.
		WorkerSlashed {
			worker: T::AccountId,
			job: JobId,
			amount: BalanceOf<T>,
			to_treasury: BalanceOf<T>,
			reason: SlashReason,
		},
		/// A job completed with `outcome`; `paid` is what each majority worker received (fee
		/// share plus slash shares).
		JobCompleted { job: JobId, outcome: H256, paid: Vec<(T::AccountId, BalanceOf<T>)> },
		/// A job failed and its fee was refunded to the requester.
		JobFailed { job: JobId, refunded: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a registered worker.
		AlreadyRegistered,
		/// The account is not a registered worker.
		NotRegistered,
		/// The stake is below `MinWorkerStake`.
		StakeTooLow,
		/// The most workers allowed are registered.
		TooManyWorkers,
		/// The account cannot pay the stake or fee.
		InsufficientBalance,
		/// The capabilities name no known job kind.
		NoJobKinds,
		/// The worker is already unbonding.
		AlreadyUnbonding,
		/// The worker is not unbonding.
		NotUnbonding,
		/// The unbonding period has not ended yet.
		StillUnbonding,
		/// The worker still holds pending jobs.
		WorkerHasJobs,
		/// The spec is longer than `MaxSpecLen`.
		SpecTooLarge,
		/// Replication must be between 1 and `MaxReplication`.
		ReplicationOutOfRange,
		/// The timeout must be between `MinTimeout` and `MaxTimeout`.
		TimeoutOutOfRange,
		/// The fee is below `MinJobFee`.
		FeeTooLow,
		/// The spec is malformed for its kind.
		InvalidSpec,
		/// The spec names a snapshot that does not exist.
		UnknownSnapshot,
		/// Too few active, capable workers with room are available.
		NotEnoughWorkers,
		/// The deadline block already has `MaxJobsPerBlock` jobs.
		TooManyJobsAtDeadline,
		/// No job has this id.
		UnknownJob,
		/// The job is no longer pending.
		JobNotPending,
		/// The caller is not assigned to this job.
		NotAssigned,
		/// The caller already reported a result for this job.
		AlreadyReported,
		/// The job's deadline has passed: the worker missed it (and was replaced), or the
		/// result comes after the deadline block.
		DeadlinePassed,
		/// The payload is longer than `MaxResultLen`.
		ResultTooLarge,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Ends or reassigns the jobs whose deadline was the previous block. The weight covers
		/// them and whatever their job hooks used.
		fn on_initialize(n: BlockNumberFor<T>) -> Weight {
			Self::process_deadlines(n)
		}

		fn offchain_worker(n: BlockNumberFor<T>) {
			offchain::run::<T>(n);
		}

		fn integrity_test() {
			let replication = u32::from(T::MaxReplication::get());
			let rounds = u32::from(T::MaxEscalations::get()).saturating_add(1);
			assert!(replication > 0, "a job needs at least one worker");
			assert!(
				T::MaxAssigned::get() >= replication.saturating_mul(rounds),
				"MaxAssigned must be at least MaxReplication * (1 + MaxEscalations)"
			);
			assert!(T::MaxJobsPerBlock::get() > 0, "a deadline block must take a job");
			assert!(T::MaxJobsPerWorker::get() > 0, "a worker must take a job");
			assert!(T::MinTimeout::get() <= T::MaxTimeout::get(), "MinTimeout above MaxTimeout");
			assert!(!T::MinTimeout::get().is_zero(), "a job needs at least one block");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers the caller as a worker and holds `stake` (at least `MinWorkerStake`) from it.
		///
		/// Emits `WorkerRegistered`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_worker())]
		pub fn register_worker(
			origin: OriginFor<T>,
			stake: BalanceOf<T>,
			capabilities: Capabilities,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_worker(who, stake, capabilities)
		}

		/// Replaces the caller's capabilities; jobs already assigned are kept.
		///
		/// Emits `CapabilitiesUpdated`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_capabilities())]
		pub fn update_capabilities(
			origin: OriginFor<T>,
			capabilities: Capabilities,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_update_capabilities(who, capabilities)
		}

		/// Records that the caller, a registered worker, is alive. Free for registered workers.
		///
		/// Emits `Heartbeat`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::heartbeat())]
		pub fn heartbeat(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			Self::do_heartbeat(who)?;
			Ok(Pays::No.into())
		}

		/// Starts the caller's unbonding: it gets no new jobs, and its stake stays held (and
		/// slashable for the jobs it holds) for `UnbondingPeriod` blocks.
		///
		/// Emits `WorkerUnbonding`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::unregister())]
		pub fn unregister(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_unregister(who)
		}

		/// Releases the caller's stake and removes it as a worker, once its unbonding period has
		/// ended and it holds no jobs.
		///
		/// Emits `StakeWithdrawn`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::withdraw_stake())]
		pub fn withdraw_stake(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_stake(who)
		}

		/// Creates a job: checks the spec, holds `fee` in escrow from the caller, draws
		/// `replication` workers and sets the deadline `timeout` blocks from now.
		///
		/// Emits `JobCreated`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::create_job())]
		pub fn create_job(
			origin: OriginFor<T>,
			kind: JobKind,
			spec: Vec<u8>,
			fee: BalanceOf<T>,
			replication: u8,
			timeout: BlockNumberFor<T>,
		) -> DispatchResult {
			let requester = ensure_signed(origin)?;
			Self::do_create_job(requester, kind, spec, fee, replication, timeout)?;
			Ok(())
		}

		/// Submits the caller's result for a job it is assigned to, before the deadline. Free on
		/// success. When every assigned worker has reported, the job settles (or escalates).
		///
		/// Emits `ResultSubmitted`, then on settlement `WorkerSlashed`s and `JobCompleted`,
		/// `JobEscalated` or `JobFailed`.
		#[pallet::call_index(6)]
		#[pallet::weight(
			T::WeightInfo::submit_result_settle(T::MaxAssigned::get())
				.max(T::WeightInfo::submit_result_escalate())
				.saturating_add(T::Hooks::max_weight())
		)]
		pub fn submit_result(
			origin: OriginFor<T>,
			job: JobId,
			payload_hash: H256,
			payload: Vec<u8>,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			// Most results only record themselves; the last one pays for what it settled.
			let actual = match Self::do_submit_result(worker, job, payload_hash, payload)? {
				crate::impls::Submitted::Recorded => T::WeightInfo::submit_result_record(),
				crate::impls::Submitted::Settled { assigned, hooks } => {
					T::WeightInfo::submit_result_settle(assigned).saturating_add(hooks)
				}
				crate::impls::Submitted::Escalated => T::WeightInfo::submit_result_escalate(),
			};
			Ok(PostDispatchInfo { actual_weight: Some(actual), pays_fee: Pays::No })
		}
	}
}
