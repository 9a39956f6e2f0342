//! The runtime API the node RPC, GPU workers and dApps read the compute market through, and the
//! queries behind it.
//!
//! The runtime implements it by forwarding to the `Pallet::api_*` functions:
//!
//! ```ignore
//! impl pallet_compute::runtime_api::ComputeApi<Block, AccountId, Balance, BlockNumber> for Runtime {
//!     fn worker(who: AccountId) -> Option<WorkerInfo<Balance, BlockNumber>> {
//!         Compute::api_worker(who)
//!     }
//!     // ... and so on for each function.
//! }
//! ```

use alloc::vec::Vec;
use codec::Codec;
use frame_support::traits::Get;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;

use crate::{types::*, Config, Jobs, Pallet, Results, WorkerJobs, Workers};

sp_api::decl_runtime_apis! {
	/// Read access to workers, jobs and results.
	pub trait ComputeApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// One registered worker.
		fn worker(who: AccountId) -> Option<WorkerInfo<Balance, BlockNumber>>;

		/// Every registered worker (at most `MaxWorkers`), in storage order.
		fn workers() -> Vec<(AccountId, WorkerInfo<Balance, BlockNumber>)>;

		/// One job.
		fn job(job: JobId) -> Option<JobView<AccountId, Balance, BlockNumber>>;

		/// The pending jobs assigned to `who` that it has not reported on yet: what a worker
		/// should run now.
		fn assigned_jobs(who: AccountId) -> Vec<JobView<AccountId, Balance, BlockNumber>>;

		/// The results stored for a pending job, by worker (empty once the job is settled; the
		/// events keep the history).
		fn job_results(job: JobId) -> Vec<(AccountId, H256)>;
	}
}

impl<T: Config> Pallet<T> {
	/// See [`ComputeApi::worker`].
	pub fn api_worker(who: T::AccountId) -> Option<WorkerInfoOf<T>> {
		Workers::<T>::get(who)
	}

	/// See [`ComputeApi::workers`].
	pub fn api_workers() -> Vec<(T::AccountId, WorkerInfoOf<T>)> {
		Workers::<T>::iter().take(T::MaxWorkers::get() as usize).collect()
	}

	/// See [`ComputeApi::job`].
	pub fn api_job(job: JobId) -> Option<JobView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		Jobs::<T>::get(job).map(|record| record.view(job, Self::reported(job, &record)))
	}

	/// See [`ComputeApi::assigned_jobs`].
	pub fn api_assigned_jobs(
		who: T::AccountId,
	) -> Vec<JobView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		WorkerJobs::<T>::get(&who)
			.into_iter()
			.filter(|id| !Results::<T>::contains_key(id, &who))
			.filter_map(|id| Self::api_job(id).filter(|view| view.status == JobStatus::Pending))
			.collect()
	}

	/// See [`ComputeApi::job_results`].
	pub fn api_job_results(job: JobId) -> Vec<(T::AccountId, H256)> {
		let Some(record) = Jobs::<T>::get(job) else { return Vec::new() };
		record
			.assigned
			.iter()
			.filter_map(|who| Results::<T>::get(job, who).map(|r| (who.clone(), r.payload_hash)))
			.collect()
	}

	/// The assigned workers of `record` with a result stored, in assignment order.
	fn reported(job: JobId, record: &JobOf<T>) -> Vec<T::AccountId> {
		record
			.assigned
			.iter()
			.filter(|who| Results::<T>::contains_key(job, *who))
			.cloned()
			.collect()
	}
}
