//! The logic behind the calls and the deadline hook: worker lifecycle, job creation, the
//! stake-weighted draw of workers, settlement by majority, escalation and slashing.

use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	ensure,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::{DepositConsequence, Fortitude, Precision, Provenance, Restriction},
		Get,
	},
	weights::Weight,
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::{
	traits::{
		CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, One, Saturating, UniqueSaturatedInto, Zero,
	},
	ArithmeticError, DispatchError, DispatchResult, Perbill,
};

use crate::{
	traits::{JobCreator, JobHooks, JobSpecCheck, JobSpecError},
	BalanceOf, Capabilities, Config, Deadlines, Error, Event, HoldReason, Job, JobId, JobKind,
	JobOf, JobResult, JobStatus, Jobs, MissedDeadlines, NextJobId, Pallet, Results, SlashReason,
	WeightInfo, WorkerInfo, WorkerJobs, WorkerStatus, Workers, DEADLINE_PROBES,
};

/// What a result did besides being recorded; it decides the call's actual weight.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Submitted {
	/// Stored; other assigned workers have still to report.
	Recorded,
	/// The last result: the job was decided on `assigned` results (completed or failed), and
	/// the job hook used `hooks`.
	Settled { assigned: u32, hooks: Weight },
	/// The last result tied the job, which drew more workers.
	Escalated,
}

fn overflow() -> DispatchError {
	ArithmeticError::Overflow.into()
}

/// How a job is settled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Settle {
	/// Every assigned worker has reported: a tie escalates while rounds remain.
	AllReported,
	/// A deadline passed and no replacement could be found: decide on what was reported.
	WithReported,
}

/// `amount` split into `parts` equal shares; the first share also takes the remainder.
fn split<B>(amount: B, parts: usize) -> Vec<B>
where
	B: Copy + Zero + Saturating + CheckedDiv + CheckedMul + From<u32>,
{
	let Ok(count) = u32::try_from(parts) else { return Vec::new() };
	let Some(share) = amount.checked_div(&B::from(count)) else { return Vec::new() };
	let spread = share.checked_mul(&B::from(count)).unwrap_or(amount);
	let remainder = amount.saturating_sub(spread);
	(0..parts).map(|i| if i == 0 { share.saturating_add(remainder) } else { share }).collect()
}

impl<T: Config> Pallet<T> {
	pub(crate) fn now() -> BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number()
	}

	// ---- Workers ----------------------------------------------------------------------------

	pub(crate) fn do_register_worker(
		who: T::AccountId,
		stake: BalanceOf<T>,
		capabilities: Capabilities,
	) -> DispatchResult {
		ensure!(!Workers::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
		ensure!(capabilities.has_job_kinds(), Error::<T>::NoJobKinds);
		ensure!(stake >= T::MinWorkerStake::get(), Error::<T>::StakeTooLow);
		ensure!(Workers::<T>::count() < T::MaxWorkers::get(), Error::<T>::TooManyWorkers);
		T::Currency::hold(&HoldReason::WorkerStake.into(), &who, stake)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		let now = Self::now();
		Workers::<T>::insert(
			&who,
			WorkerInfo {
				stake,
				capabilities,
				registered_at: now,
				last_heartbeat: now,
				status: WorkerStatus::Active,
			},
		);
		Self::deposit_event(Event::WorkerRegistered { worker: who, stake, capabilities });
		Ok(())
	}

	pub(crate) fn do_update_capabilities(
		who: T::AccountId,
		capabilities: Capabilities,
	) -> DispatchResult {
		ensure!(capabilities.has_job_kinds(), Error::<T>::NoJobKinds);
		Workers::<T>::try_mutate(&who, |info| -> DispatchResult {
			let info = info.as_mut().ok_or(Error::<T>::NotRegistered)?;
			info.capabilities = capabilities;
			Ok(())
		})?;
		Self::deposit_event(Event::CapabilitiesUpdated { worker: who, capabilities });
		Ok(())
	}

	pub(crate) fn do_heartbeat(who: T::AccountId) -> DispatchResult {
		let now = Self::now();
		Workers::<T>::try_mutate(&who, |info| -> DispatchResult {
			let info = info.as_mut().ok_or(Error::<T>::NotRegistered)?;
			info.last_heartbeat = now;
			Ok(())
		})?;
		Self::deposit_event(Event::Heartbeat { worker: who });
		Ok(())
	}

	pub(crate) fn do_unregister(who: T::AccountId) -> DispatchResult {
		let until = Self::now().saturating_add(T::UnbondingPeriod::get());
		Workers::<T>::try_mutate(&who, |info| -> DispatchResult {
			let info = info.as_mut().ok_or(Error::<T>::NotRegistered)?;
			ensure!(info.is_active(), Error::<T>::AlreadyUnbonding);
			info.status = WorkerStatus::Unbonding { until };
			Ok(())
		})?;
		Self::deposit_event(Event::WorkerUnbonding { worker: who, until });
		Ok(())
	}

	pub(crate) fn do_withdraw_stake(who: T::AccountId) -> DispatchResult {
		let info = Workers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		let WorkerStatus::Unbonding { until } = info.status else {
			return Err(Error::<T>::NotUnbonding.into());
		};
		ensure!(Self::now() >= until, Error::<T>::StillUnbonding);
		ensure!(WorkerJobs::<T>::get(&who).is_empty(), Error::<T>::WorkerHasJobs);
		let amount = if info.stake.is_zero() {
			info.stake
		} else {
			T::Currency::release(
				&HoldReason::WorkerStake.into(),
				&who,
				info.stake,
				Precision::Exact,
			)?
		};
		Workers::<T>::remove(&who);
		WorkerJobs::<T>::remove(&who);
		Self::deposit_event(Event::StakeWithdrawn { worker: who, amount });
		Ok(())
	}

	// ---- Jobs -------------------------------------------------------------------------------

	pub(crate) fn do_create_job(
		requester: T::AccountId,
		kind: JobKind,
		spec: Vec<u8>,
		fee: BalanceOf<T>,
		replication: u8,
		timeout: BlockNumberFor<T>,
	) -> Result<JobId, DispatchError> {
		let spec: BoundedVec<u8, T::MaxSpecLen> =
			spec.try_into().map_err(|_| Error::<T>::SpecTooLarge)?;
		ensure!(
			replication >= 1 && replication <= T::MaxReplication::get(),
			Error::<T>::ReplicationOutOfRange
		);
		ensure!(
			timeout >= T::MinTimeout::get() && timeout <= T::MaxTimeout::get(),
			Error::<T>::TimeoutOutOfRange
		);
		ensure!(fee >= T::MinJobFee::get(), Error::<T>::FeeTooLow);
		T::SpecCheck::check(kind, &spec).map_err(|e| match e {
			JobSpecError::Invalid => Error::<T>::InvalidSpec,
			JobSpecError::UnknownSnapshot => Error::<T>::UnknownSnapshot,
		})?;

		let id = NextJobId::<T>::get();
		let next = id.checked_add(1).ok_or_else(overflow)?;
		T::Currency::hold(&HoldReason::JobEscrow.into(), &requester, fee)
			.map_err(|_| Error::<T>::InsufficientBalance)?;

		let chosen = Self::select_workers(id, 0, kind, &[], u32::from(replication));
		ensure!(chosen.len() == usize::from(replication), Error::<T>::NotEnoughWorkers);
		let now = Self::now();
		let deadline = now.checked_add(&timeout).ok_or_else(overflow)?;
		Deadlines::<T>::try_mutate(deadline, |ids| ids.try_push(id))
			.map_err(|_| Error::<T>::TooManyJobsAtDeadline)?;
		let assigned: BoundedVec<T::AccountId, T::MaxAssigned> =
			chosen.clone().try_into().map_err(|_| Error::<T>::NotEnoughWorkers)?;
		for worker in &chosen {
			WorkerJobs::<T>::try_mutate(worker, |ids| ids.try_push(id))
				.map_err(|_| Error::<T>::NotEnoughWorkers)?;
		}

		Jobs::<T>::insert(
			id,
			Job {
				requester: requester.clone(),
				kind,
				spec,
				fee,
				replication,
				timeout,
				created_at: now,
				deadline,
				assigned,
				escalations: 0,
				status: JobStatus::Pending,
				outcome: None,
			},
		);
		NextJobId::<T>::put(next);
		Self::deposit_event(Event::JobCreated {
			job: id,
			requester,
			kind,
			fee,
			replication,
			deadline,
			assigned: chosen,
		});
		Ok(id)
	}

	pub(crate) fn do_submit_result(
		worker: T::AccountId,
		id: JobId,
		payload_hash: H256,
		payload: Vec<u8>,
	) -> Result<Submitted, DispatchError> {
		let job = Jobs::<T>::get(id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(!MissedDeadlines::<T>::contains_key(id, &worker), Error::<T>::DeadlinePassed);
		ensure!(job.is_pending(), Error::<T>::JobNotPending);
		ensure!(job.assigned.contains(&worker), Error::<T>::NotAssigned);
		ensure!(!Results::<T>::contains_key(id, &worker), Error::<T>::AlreadyReported);
		let now = Self::now();
		ensure!(now <= job.deadline, Error::<T>::DeadlinePassed);
		let payload: BoundedVec<u8, T::MaxResultLen> =
			payload.try_into().map_err(|_| Error::<T>::ResultTooLarge)?;

		Results::<T>::insert(id, &worker, JobResult { payload_hash, payload, submitted_at: now });
		Self::deposit_event(Event::ResultSubmitted { job: id, worker, payload_hash });

		if job.assigned.iter().all(|w| Results::<T>::contains_key(id, w)) {
			let (assigned, round) = (job.assigned.len() as u32, job.escalations);
			let hooks = Self::settle(id, job, Settle::AllReported)?;
			let escalated = Jobs::<T>::get(id).is_some_and(|j| j.escalations != round);
			return Ok(if escalated {
				Submitted::Escalated
			} else {
				Submitted::Settled { assigned, hooks }
			});
		}
		Ok(Submitted::Recorded)
	}

	// ---- Drawing workers --------------------------------------------------------------------

	/// Whether `info` may be given a new job of `kind` now.
	fn is_candidate(info: &WorkerInfo<BalanceOf<T>, BlockNumberFor<T>>, kind: JobKind) -> bool {
		info.is_active()
			&& info.capabilities.supports(kind)
			&& info.last_heartbeat.saturating_add(T::HeartbeatTimeout::get()) >= Self::now()
	}

	/// Draws up to `count` distinct workers for job `job` in round `round`, without replacement,
	/// each with probability proportional to its stake.
	///
	/// Candidates are the active workers with a fresh heartbeat that support `kind`, are not in
	/// `exclude` and have room for another job, in account order. The draw is deterministic: the
	/// seed is `blake2_256((job, round, parent_hash))` and each draw takes a `u128` from the seed
	/// and re-hashes it. Reads every worker (at most `MaxWorkers`). Returns fewer than `count`
	/// when fewer candidates exist.
	pub fn select_workers(
		job: JobId,
		round: u8,
		kind: JobKind,
		exclude: &[T::AccountId],
		count: u32,
	) -> Vec<T::AccountId> {
		let max_jobs = T::MaxJobsPerWorker::get() as usize;
		let mut candidates: Vec<(T::AccountId, u128)> = Workers::<T>::iter()
			.filter(|(who, info)| {
				Self::is_candidate(info, kind)
					&& !exclude.contains(who)
					&& WorkerJobs::<T>::decode_len(who).unwrap_or(0) < max_jobs
			})
			.map(|(who, info)| {
				let weight: u128 = info.stake.unique_saturated_into();
				(who, weight.max(1))
			})
			.collect();
		candidates.sort_by(|a, b| a.0.cmp(&b.0));

		let parent = frame_system::Pallet::<T>::parent_hash();
		let mut seed = sp_io::hashing::blake2_256(&(job, round, parent).encode());
		let mut chosen = Vec::new();
		while (chosen.len() as u32) < count && !candidates.is_empty() {
			let total = candidates.iter().fold(0u128, |sum, (_, w)| sum.saturating_add(*w));
			let draw = seed.first_chunk::<16>().map(|b| u128::from_le_bytes(*b)).unwrap_or(0);
			let mut point = draw.checked_rem(total).unwrap_or(0);
			let mut pick = candidates.len().saturating_sub(1);
			for (i, (_, weight)) in candidates.iter().enumerate() {
				if point < *weight {
					pick = i;
					break;
				}
				point = point.saturating_sub(*weight);
			}
			if pick < candidates.len() {
				chosen.push(candidates.remove(pick).0);
			}
			seed = sp_io::hashing::blake2_256(&seed);
		}
		chosen
	}

	// ---- Deadlines --------------------------------------------------------------------------

	/// Puts `id` into the first block from `earliest` (probing up to [`DEADLINE_PROBES`] blocks)
	/// whose deadline list has room, and returns that block.
	fn schedule_deadline(id: JobId, earliest: BlockNumberFor<T>) -> Option<BlockNumberFor<T>> {
		let mut block = earliest;
		for _ in 0..DEADLINE_PROBES {
			if Deadlines::<T>::try_mutate(block, |ids| ids.try_push(id)).is_ok() {
				return Some(block);
			}
			block = block.saturating_add(1u32.into());
		}
		None
	}

	fn unschedule_deadline(id: JobId, block: BlockNumberFor<T>) {
		Deadlines::<T>::mutate_exists(block, |ids| {
			if let Some(list) = ids {
				list.retain(|j| *j != id);
				if list.is_empty() {
					*ids = None;
				}
			}
		});
	}

	fn drop_worker_job(worker: &T::AccountId, id: JobId) {
		WorkerJobs::<T>::mutate_exists(worker, |ids| {
			if let Some(list) = ids {
				list.retain(|j| *j != id);
				if list.is_empty() {
					*ids = None;
				}
			}
		});
	}

	/// At the start of block `n`, handles the jobs whose deadline was block `n - 1` (the last
	/// block that accepted their results): slashes and replaces the workers that did not
	/// report, or ends the job. Returns the weight used: the jobs' own, plus what the job hooks
	/// of the jobs that ended used.
	pub(crate) fn process_deadlines(n: BlockNumberFor<T>) -> Weight {
		let Some(expired) = n.checked_sub(&One::one()) else {
			return T::WeightInfo::on_initialize(0);
		};
		let ids = Deadlines::<T>::take(expired);
		let count = ids.len() as u32;
		let mut hooks = Weight::zero();
		for id in ids {
			if let Some(job) = Jobs::<T>::get(id) {
				if job.is_pending() && job.deadline == expired {
					// Expiry only fails if the pallet's own bookkeeping is broken; then the job
					// is refunded rather than left pending without a deadline.
					let expired = frame_support::storage::with_storage_layer(|| {
						Self::expire(id, job.clone(), n)
					});
					let used = match expired {
						Ok(used) => used,
						Err(_) => {
							frame_support::defensive!("job expiry failed; refunding the job");
							frame_support::storage::with_storage_layer(|| Self::fail(id, job))
								.unwrap_or_default()
						}
					};
					hooks = hooks.saturating_add(used);
				}
			}
		}
		T::WeightInfo::on_initialize(count).saturating_add(hooks)
	}

	/// Slashes and replaces the workers of `id` that missed its deadline, or ends the job.
	/// Returns the weight the job hook used (zero unless the job ended).
	fn expire(
		id: JobId,
		mut job: JobOf<T>,
		now: BlockNumberFor<T>,
	) -> Result<Weight, DispatchError> {
		let (reported, missed): (Vec<T::AccountId>, Vec<T::AccountId>) =
			job.assigned.iter().cloned().partition(|w| Results::<T>::contains_key(id, w));
		if missed.is_empty() {
			return Self::settle(id, job, Settle::AllReported);
		}
		for worker in &missed {
			Self::slash(worker, id, T::SlashMissedFraction::get(), SlashReason::MissedDeadline)?;
			Self::drop_worker_job(worker, id);
			MissedDeadlines::<T>::insert(id, worker, now);
		}
		job.assigned.retain(|w| !missed.contains(w));

		let may_extend = job.escalations < T::MaxEscalations::get();
		let round = job.escalations.saturating_add(1);
		let replacements = if may_extend {
			let exclude: Vec<T::AccountId> =
				job.assigned.iter().chain(missed.iter()).cloned().collect();
			Self::select_workers(id, round, job.kind, &exclude, missed.len() as u32)
		} else {
			Vec::new()
		};
		let deadline = if replacements.is_empty() {
			None
		} else {
			Self::schedule_deadline(id, now.saturating_add(job.timeout))
		};

		let Some(deadline) = deadline else {
			for worker in missed {
				Self::deposit_event(Event::JobReassigned {
					job: id,
					missed: worker,
					replacement: None,
					deadline: now,
				});
			}
			return if reported.is_empty() {
				Self::fail(id, job)
			} else {
				Self::settle(id, job, Settle::WithReported)
			};
		};

		job.escalations = round;
		job.deadline = deadline;
		for (i, worker) in missed.into_iter().enumerate() {
			let replacement = replacements.get(i).cloned();
			if let Some(new) = &replacement {
				job.assigned.try_push(new.clone()).map_err(|_| overflow())?;
				WorkerJobs::<T>::try_mutate(new, |ids| ids.try_push(id)).map_err(|_| overflow())?;
			}
			Self::deposit_event(Event::JobReassigned {
				job: id,
				missed: worker,
				replacement,
				deadline,
			});
		}
		Jobs::<T>::insert(id, job);
		Ok(Weight::zero())
	}

	// ---- Settlement -------------------------------------------------------------------------

	/// Decides a job on its stored results: completes it when a strict majority agrees with one
	/// result ([`JobHooks::agree`]), else escalates (only when every assigned worker reported and
	/// rounds remain) or fails it. Returns the weight the job hook used.
	fn settle(id: JobId, job: JobOf<T>, mode: Settle) -> Result<Weight, DispatchError> {
		let mut results: Vec<(T::AccountId, H256, Vec<u8>)> = Results::<T>::iter_prefix(id)
			.map(|(who, result)| (who, result.payload_hash, result.payload.into_inner()))
			.collect();
		results.sort_by(|a, b| a.0.cmp(&b.0));
		let total = results.len();
		// For each result (in account order), who agrees with it; the first most agreed-with
		// result wins if a strict majority agrees with it.
		let mut best: Option<(usize, Vec<bool>)> = None;
		for (i, (_, hash, payload)) in results.iter().enumerate() {
			let agreeing: Vec<bool> = results
				.iter()
				.map(|(_, other_hash, other)| {
					T::Hooks::agree(
						job.kind,
						&job.spec,
						(*hash, payload.as_slice()),
						(*other_hash, other.as_slice()),
					)
				})
				.collect();
			let votes = agreeing.iter().filter(|agrees| **agrees).count();
			let leading = best
				.as_ref()
				.is_none_or(|(_, seen)| votes > seen.iter().filter(|agrees| **agrees).count());
			if leading {
				best = Some((i, agreeing));
			}
		}
		let winner = best.filter(|(_, agreeing)| {
			agreeing.iter().filter(|agrees| **agrees).count().saturating_mul(2) > total
		});

		match winner {
			Some((index, agreeing)) => Self::complete(id, job, index, agreeing, results),
			None if mode == Settle::AllReported && job.escalations < T::MaxEscalations::get() => {
				Self::escalate(id, job)
			}
			None => Self::fail(id, job),
		}
	}

	/// Pays the fee to the workers agreeing with the winning result (`results[winner]`),
	/// slashes the others and tells the job hook. Returns the weight the hook used.
	fn complete(
		id: JobId,
		mut job: JobOf<T>,
		winner: usize,
		agreeing: Vec<bool>,
		results: Vec<(T::AccountId, H256, Vec<u8>)>,
	) -> Result<Weight, DispatchError> {
		let (outcome, payload) = results
			.get(winner)
			.map(|(_, hash, payload)| (*hash, payload.clone()))
			.unwrap_or_default();
		let (majority, minority): (Vec<_>, Vec<_>) =
			results.into_iter().zip(agreeing).partition(|(_, agrees)| *agrees);
		let majority: Vec<T::AccountId> =
			majority.into_iter().map(|((who, _, _), _)| who).collect();
		let mut paid: Vec<(T::AccountId, BalanceOf<T>)> =
			majority.iter().map(|who| (who.clone(), Zero::zero())).collect();

		Self::pay_out(HoldReason::JobEscrow, &job.requester, job.fee, &mut paid)?;
		for ((loser, _, _), _) in minority {
			let (_, to_majority) =
				Self::slash(&loser, id, T::SlashDisagreeFraction::get(), SlashReason::Disagreed)?;
			Self::pay_out(HoldReason::WorkerStake, &loser, to_majority, &mut paid)?;
		}

		let hooks = T::Hooks::on_completed(
			id,
			&job.requester,
			job.kind,
			&job.spec,
			outcome,
			&payload,
			&majority,
		);

		job.status = JobStatus::Completed;
		job.outcome = Some(outcome);
		Self::finish(id, job);
		Self::deposit_event(Event::JobCompleted { job: id, outcome, paid });
		Ok(hooks)
	}

	/// Moves `amount`, held from `from` under `reason`, to the accounts in `paid` in equal
	/// shares (see [`split`]), adding each share to its running total.
	fn pay_out(
		reason: HoldReason,
		from: &T::AccountId,
		amount: BalanceOf<T>,
		paid: &mut [(T::AccountId, BalanceOf<T>)],
	) -> DispatchResult {
		let reason: T::RuntimeHoldReason = reason.into();
		let shares = split(amount, paid.len());
		for ((who, total), share) in paid.iter_mut().zip(shares) {
			if !share.is_zero() {
				T::Currency::transfer_on_hold(
					&reason,
					from,
					who,
					share,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Force,
				)?;
				*total = total.saturating_add(share);
			}
		}
		Ok(())
	}

	/// Draws more workers for a tied job and moves its deadline, or fails it when none can be
	/// had. Returns the weight the job hook used (zero unless the job failed).
	fn escalate(id: JobId, mut job: JobOf<T>) -> Result<Weight, DispatchError> {
		let round = job.escalations.saturating_add(1);
		let room = T::MaxAssigned::get().saturating_sub(job.assigned.len() as u32);
		let want = u32::from(job.replication).min(room);
		let added = Self::select_workers(id, round, job.kind, &job.assigned, want);
		if added.is_empty() {
			return Self::fail(id, job);
		}
		let now = Self::now();
		Self::unschedule_deadline(id, job.deadline);
		let Some(deadline) = Self::schedule_deadline(id, now.saturating_add(job.timeout)) else {
			return Self::fail(id, job);
		};
		for worker in &added {
			job.assigned.try_push(worker.clone()).map_err(|_| overflow())?;
			WorkerJobs::<T>::try_mutate(worker, |ids| ids.try_push(id)).map_err(|_| overflow())?;
		}
		job.escalations = round;
		job.deadline = deadline;
		Jobs::<T>::insert(id, job);
		Self::deposit_event(Event::JobEscalated { job: id, added, deadline });
		Ok(Weight::zero())
	}

	/// Refunds the fee and tells the job hook. Returns the weight the hook used.
	fn fail(id: JobId, mut job: JobOf<T>) -> Result<Weight, DispatchError> {
		let refunded = if job.fee.is_zero() {
			job.fee
		} else {
			T::Currency::release(
				&HoldReason::JobEscrow.into(),
				&job.requester,
				job.fee,
				Precision::Exact,
			)?
		};
		let hooks = T::Hooks::on_failed(id, &job.requester, job.kind, &job.spec);
		job.status = JobStatus::Failed;
		Self::finish(id, job);
		Self::deposit_event(Event::JobFailed { job: id, refunded });
		Ok(hooks)
	}

	/// Stores a settled job and removes what only a pending job needs: its place in its workers'
	/// lists, its deadline entry and its results.
	fn finish(id: JobId, job: JobOf<T>) {
		for worker in &job.assigned {
			Self::drop_worker_job(worker, id);
		}
		Self::unschedule_deadline(id, job.deadline);
		let _ = Results::<T>::clear_prefix(id, T::MaxAssigned::get(), None);
		Jobs::<T>::insert(id, job);
	}

	/// Slashes `fraction` of `worker`'s stake for job `id`: the treasury's part (all of it for a
	/// missed deadline, `SlashToTreasury` for a disagreement) is transferred to the treasury, and
	/// the stake record reduced by the whole amount. Returns `(amount, left_on_hold)`: what stays
	/// on the worker's hold is for the caller to transfer (the majority's part of a disagreement
	/// slash), and is zero for a missed deadline. Emits `WorkerSlashed`, and `WorkerUnbonding`
	/// when the stake falls below the minimum.
	fn slash(
		worker: &T::AccountId,
		id: JobId,
		fraction: Perbill,
		reason: SlashReason,
	) -> Result<(BalanceOf<T>, BalanceOf<T>), DispatchError> {
		let Some(mut info) = Workers::<T>::get(worker) else {
			return Ok((Zero::zero(), Zero::zero()));
		};
		let mut amount = fraction.mul_floor(info.stake);
		let treasury = T::Treasury::get();
		let mut to_treasury = match reason {
			SlashReason::MissedDeadline => amount,
			SlashReason::Disagreed => T::SlashToTreasury::get().mul_floor(amount),
		};
		// A treasury that cannot exist yet with this little cannot take it: a disagreement slash
		// gives that share to the majority, a missed-deadline slash is not taken.
		if !to_treasury.is_zero()
			&& T::Currency::can_deposit(&treasury, to_treasury, Provenance::Extant)
				!= DepositConsequence::Success
		{
			if reason == SlashReason::MissedDeadline {
				amount = Zero::zero();
			}
			to_treasury = Zero::zero();
		}
		if amount.is_zero() {
			return Ok((Zero::zero(), Zero::zero()));
		}
		if !to_treasury.is_zero() {
			T::Currency::transfer_on_hold(
				&HoldReason::WorkerStake.into(),
				worker,
				&treasury,
				to_treasury,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Force,
			)?;
		}
		info.stake = info.stake.saturating_sub(amount);
		let mut unbonding = None;
		if info.is_active() && info.stake < T::MinWorkerStake::get() {
			let until = Self::now().saturating_add(T::UnbondingPeriod::get());
			info.status = WorkerStatus::Unbonding { until };
			unbonding = Some(until);
		}
		Workers::<T>::insert(worker, info);
		Self::deposit_event(Event::WorkerSlashed {
			worker: worker.clone(),
			job: id,
			amount,
			to_treasury,
			reason,
		});
		if let Some(until) = unbonding {
			Self::deposit_event(Event::WorkerUnbonding { worker: worker.clone(), until });
		}
		Ok((amount, amount.saturating_sub(to_treasury)))
	}
}

impl<T: Config> JobCreator<T::AccountId, BalanceOf<T>, BlockNumberFor<T>> for Pallet<T> {
	fn create_job(
		requester: T::AccountId,
		kind: JobKind,
		spec: Vec<u8>,
		fee: BalanceOf<T>,
		replication: u8,
		timeout: BlockNumberFor<T>,
	) -> Result<JobId, DispatchError> {
		// Its own storage layer: a refused job leaves nothing behind even outside a call.
		frame_support::storage::with_storage_layer(|| {
			Self::do_create_job(requester, kind, spec, fee, replication, timeout)
		})
	}

	fn create_job_weight() -> Weight {
		T::WeightInfo::create_job()
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_register_workers(n: u32) -> Result<u32, DispatchError> {
		use frame_support::traits::fungible::Mutate;
		let room = T::MaxWorkers::get().saturating_sub(Workers::<T>::count());
		let stake = T::MinWorkerStake::get();
		let funds =
			stake.saturating_mul(2u32.into()).saturating_add(T::Currency::minimum_balance());
		let capabilities = Capabilities {
			backend: crate::Backend::Cuda,
			gpu_memory_mib: u32::MAX,
			max_resident_adapters: u32::MAX,
			job_kinds: JobKind::all_bits(),
		};
		let mut index = 0u32;
		let mut added = 0u32;
		while added < n.min(room) {
			let who: T::AccountId =
				frame_benchmarking::account("compute-benchmark-worker", index, 0);
			index = index.saturating_add(1);
			if Workers::<T>::contains_key(&who) {
				continue;
			}
			T::Currency::set_balance(&who, funds);
			Self::do_register_worker(who, stake, capabilities)?;
			added = added.saturating_add(1);
		}
		Ok(Workers::<T>::count())
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_job_terms() -> (BalanceOf<T>, u8, BlockNumberFor<T>) {
		let workers = u8::try_from(Workers::<T>::count()).unwrap_or(u8::MAX);
		let replication = T::MaxReplication::get().min(workers).max(1);
		(T::MinJobFee::get(), replication, T::MaxTimeout::get())
	}
}
