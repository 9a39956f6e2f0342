//! Invariants checked by the `try_state` hook and after every unit test.

use alloc::collections::btree_map::BTreeMap;
use frame_support::{
	ensure,
	traits::{fungible::InspectHold, Get},
};
use sp_runtime::{traits::Saturating, TryRuntimeError};

use crate::{
	BalanceOf, Config, Deadlines, HoldReason, Jobs, NextJobId, Pallet, Results, WorkerJobs, Workers,
};

impl<T: Config> Pallet<T> {
	/// Checks that jobs, their workers, deadlines and held funds agree. Reads all of the pallet's
	/// storage.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		ensure!(Workers::<T>::count() <= T::MaxWorkers::get(), "more workers than MaxWorkers");
		ensure!(
			Workers::<T>::iter().count() == Workers::<T>::count() as usize,
			"worker counter disagrees with the workers"
		);

		let mut escrow: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (id, job) in Jobs::<T>::iter() {
			ensure!(id < NextJobId::<T>::get(), "job id not below NextJobId");
			let total = escrow.entry(job.requester.clone()).or_default();
			if !job.is_pending() {
				ensure!(
					Results::<T>::iter_prefix(id).next().is_none(),
					"settled job still has results"
				);
				continue;
			}
			*total = total.saturating_add(job.fee);
			ensure!(!job.assigned.is_empty(), "pending job with no workers");
			ensure!(
				Deadlines::<T>::get(job.deadline).contains(&id),
				"pending job missing from its deadline block"
			);
			for (i, worker) in job.assigned.iter().enumerate() {
				ensure!(Workers::<T>::contains_key(worker), "assigned worker not registered");
				ensure!(
					WorkerJobs::<T>::get(worker).contains(&id),
					"assigned worker does not list the job"
				);
				ensure!(
					!job.assigned.iter().skip(i.saturating_add(1)).any(|w| w == worker),
					"worker assigned twice"
				);
			}
			for (worker, _) in Results::<T>::iter_prefix(id) {
				ensure!(job.assigned.contains(&worker), "result from a worker not assigned");
			}
		}

		for (worker, ids) in WorkerJobs::<T>::iter() {
			ensure!(Workers::<T>::contains_key(&worker), "jobs listed for an unknown worker");
			for id in ids {
				let job = Jobs::<T>::get(id).ok_or("worker lists an unknown job")?;
				ensure!(
					job.is_pending() && job.assigned.contains(&worker),
					"worker lists a job it does not hold"
				);
			}
		}

		for (block, ids) in Deadlines::<T>::iter() {
			for id in ids {
				let job = Jobs::<T>::get(id).ok_or("deadline of an unknown job")?;
				ensure!(
					job.is_pending() && job.deadline == block,
					"deadline entry of a settled or moved job"
				);
			}
		}

		let stake_reason = HoldReason::WorkerStake.into();
		for (worker, info) in Workers::<T>::iter() {
			ensure!(
				T::Currency::balance_on_hold(&stake_reason, &worker) == info.stake,
				"held stake disagrees with the worker's record"
			);
		}

		let escrow_reason = HoldReason::JobEscrow.into();
		for (requester, fees) in escrow {
			ensure!(
				T::Currency::balance_on_hold(&escrow_reason, &requester) == fees,
				"held escrow disagrees with the pending jobs' fees"
			);
		}
		Ok(())
	}
}
