//! Benchmarks for every call and the deadline hook, each in its worst case: the most workers to
//! draw from, the most results to settle, the most jobs expiring at once.

#![cfg(feature = "runtime-benchmarks")]

use crate::{traits::JobSpecCheck, *};
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate, MutateHold},
		Get, Hooks,
	},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_core::H256;
use sp_runtime::traits::Saturating;

const SEED: u32 = 0;

fn assert_last_event<T: Config>(event: Event<T>) {
	let event: <T as Config>::RuntimeEvent = event.into();
	frame_system::Pallet::<T>::assert_last_event(event.into());
}

/// Enough for any stake and fee a benchmark asks for.
fn plenty<T: Config>() -> BalanceOf<T> {
	T::MinWorkerStake::get()
		.saturating_add(T::MinJobFee::get())
		.saturating_mul(1_000u32.into())
		.saturating_add(T::Currency::minimum_balance())
}

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who = account(name, index, SEED);
	T::Currency::set_balance(&who, plenty::<T>());
	who
}

fn every_kind() -> Capabilities {
	Capabilities {
		backend: Backend::Cuda,
		gpu_memory_mib: u32::MAX,
		max_resident_adapters: u32::MAX,
		job_kinds: JobKind::all_bits(),
	}
}

/// Registers `count` workers with the minimum stake.
fn workers<T: Config>(count: u32) -> Result<Vec<T::AccountId>, BenchmarkError> {
	workers_with_stake::<T>(count, T::MinWorkerStake::get())
}

/// Registers `count` workers with `stake` each.
fn workers_with_stake<T: Config>(
	count: u32,
	stake: BalanceOf<T>,
) -> Result<Vec<T::AccountId>, BenchmarkError> {
	(0..count)
		.map(|i| {
			let who = funded::<T>("worker", i);
			Pallet::<T>::do_register_worker(who.clone(), stake, every_kind())?;
			Ok(who)
		})
		.collect()
}

/// A pending job assigned to `assigned`, written directly (so that it can hold more workers than
/// one round draws), with its fee escrowed and its deadline set.
fn pending_job<T: Config>(
	requester: &T::AccountId,
	assigned: &[T::AccountId],
	escalations: u8,
) -> Result<JobId, BenchmarkError> {
	let id = NextJobId::<T>::get();
	NextJobId::<T>::put(id.saturating_add(1));
	let fee = T::MinJobFee::get();
	T::Currency::hold(&HoldReason::JobEscrow.into(), requester, fee)?;
	let now = frame_system::Pallet::<T>::block_number();
	let timeout = T::MaxTimeout::get();
	let deadline = now.saturating_add(timeout);
	Deadlines::<T>::try_mutate(deadline, |ids| ids.try_push(id))
		.map_err(|_| BenchmarkError::Stop("deadline block full"))?;
	for worker in assigned {
		WorkerJobs::<T>::try_mutate(worker, |ids| ids.try_push(id))
			.map_err(|_| BenchmarkError::Stop("worker full"))?;
	}
	let (kind, spec) = T::SpecCheck::benchmark_spec(T::MaxSpecLen::get());
	Jobs::<T>::insert(
		id,
		Job {
			requester: requester.clone(),
			kind,
			spec: BoundedVec::truncate_from(spec),
			fee,
			replication: T::MaxReplication::get(),
			timeout,
			created_at: now,
			deadline,
			assigned: BoundedVec::truncate_from(assigned.to_vec()),
			escalations,
			status: JobStatus::Pending,
			outcome: None,
		},
	);
	Ok(id)
}

fn report<T: Config>(id: JobId, worker: &T::AccountId, hash: H256) {
	Results::<T>::insert(
		id,
		worker,
		JobResult {
			payload_hash: hash,
			payload: BoundedVec::truncate_from(vec![0u8; T::MaxResultLen::get() as usize]),
			submitted_at: frame_system::Pallet::<T>::block_number(),
		},
	);
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_worker() -> Result<(), BenchmarkError> {
		workers::<T>(T::MaxWorkers::get().saturating_sub(1))?;
		let who = funded::<T>("new-worker", 0);
		let stake = T::MinWorkerStake::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), stake, every_kind());

		assert_last_event::<T>(Event::WorkerRegistered {
			worker: who,
			stake,
			capabilities: every_kind(),
		});
		Ok(())
	}

	#[benchmark]
	fn update_capabilities() -> Result<(), BenchmarkError> {
		let who = workers::<T>(1)?.pop().ok_or(BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), every_kind());

		assert_last_event::<T>(Event::CapabilitiesUpdated {
			worker: who,
			capabilities: every_kind(),
		});
		Ok(())
	}

	#[benchmark]
	fn heartbeat() -> Result<(), BenchmarkError> {
		let who = workers::<T>(1)?.pop().ok_or(BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_last_event::<T>(Event::Heartbeat { worker: who });
		Ok(())
	}

	#[benchmark]
	fn unregister() -> Result<(), BenchmarkError> {
		let who = workers::<T>(1)?.pop().ok_or(BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(Workers::<T>::get(&who).is_some_and(|w| !w.is_active()));
		Ok(())
	}

	#[benchmark]
	fn withdraw_stake() -> Result<(), BenchmarkError> {
		let who = workers::<T>(1)?.pop().ok_or(BenchmarkError::Weightless)?;
		Pallet::<T>::do_unregister(who.clone())?;
		let later =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
		frame_system::Pallet::<T>::set_block_number(later);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_last_event::<T>(Event::StakeWithdrawn {
			worker: who,
			amount: T::MinWorkerStake::get(),
		});
		Ok(())
	}

	#[benchmark]
	fn create_job() -> Result<(), BenchmarkError> {
		workers::<T>(T::MaxWorkers::get())?;
		let requester = funded::<T>("requester", 0);
		let (kind, spec) = T::SpecCheck::benchmark_spec(T::MaxSpecLen::get());
		let replication = T::MaxReplication::get();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(requester),
			kind,
			spec,
			T::MinJobFee::get(),
			replication,
			T::MaxTimeout::get(),
		);

		assert!(Jobs::<T>::get(0).is_some_and(|j| j.assigned.len() == usize::from(replication)));
		Ok(())
	}

	/// One of `MaxAssigned` results arrives; the others are still out, so nothing settles.
	#[benchmark]
	fn submit_result_record() -> Result<(), BenchmarkError> {
		let count = T::MaxAssigned::get().min(T::MaxWorkers::get());
		let all = workers::<T>(count)?;
		let requester = funded::<T>("requester", 0);
		let id = pending_job::<T>(&requester, &all, T::MaxEscalations::get())?;
		let (last, others) = all.split_last().ok_or(BenchmarkError::Weightless)?;
		// All but two have reported, so the call checks every other worker's result.
		for worker in others.iter().skip(1) {
			report::<T>(id, worker, H256::repeat_byte(1));
		}
		let payload = vec![0u8; T::MaxResultLen::get() as usize];

		#[extrinsic_call]
		submit_result(RawOrigin::Signed(last.clone()), id, H256::repeat_byte(1), payload);

		assert!(Jobs::<T>::get(id).is_some_and(|j| j.status == JobStatus::Pending));
		Ok(())
	}

	/// The last of `a` results completes the job; the largest minority is slashed.
	#[benchmark]
	fn submit_result_settle(
		a: Linear<2, { T::MaxAssigned::get().min(T::MaxWorkers::get()) }>,
	) -> Result<(), BenchmarkError> {
		let count = a;
		let all = workers::<T>(count)?;
		T::Currency::set_balance(&T::Treasury::get(), plenty::<T>());
		let requester = funded::<T>("requester", 0);
		let id = pending_job::<T>(&requester, &all, T::MaxEscalations::get())?;
		let (last, others) = all.split_last().ok_or(BenchmarkError::Weightless)?;
		// Just over half agree with the last worker; the rest disagree.
		let majority = count / 2;
		for (i, worker) in others.iter().enumerate() {
			let hash =
				if (i as u32) < majority { H256::repeat_byte(1) } else { H256::repeat_byte(2) };
			report::<T>(id, worker, hash);
		}
		let payload = vec![0u8; T::MaxResultLen::get() as usize];

		#[extrinsic_call]
		submit_result(RawOrigin::Signed(last.clone()), id, H256::repeat_byte(1), payload);

		assert!(Jobs::<T>::get(id).is_some_and(|j| j.status == JobStatus::Completed));
		Ok(())
	}

	/// The last result ties the job, which draws more workers from all the others.
	#[benchmark]
	fn submit_result_escalate() -> Result<(), BenchmarkError> {
		let all = workers::<T>(T::MaxWorkers::get())?;
		let requester = funded::<T>("requester", 0);
		let first_round = usize::from(T::MaxReplication::get()).max(2) & !1;
		let assigned = all.get(..first_round.min(all.len())).ok_or(BenchmarkError::Weightless)?;
		let id = pending_job::<T>(&requester, assigned, 0)?;
		let (last, others) = assigned.split_last().ok_or(BenchmarkError::Weightless)?;
		for (i, worker) in others.iter().enumerate() {
			let hash = if i % 2 == 0 { H256::repeat_byte(1) } else { H256::repeat_byte(2) };
			report::<T>(id, worker, hash);
		}
		let payload = vec![0u8; T::MaxResultLen::get() as usize];

		#[extrinsic_call]
		submit_result(RawOrigin::Signed(last.clone()), id, H256::repeat_byte(2), payload);

		assert!(Jobs::<T>::get(id).is_some_and(|j| j.escalations == 1));
		Ok(())
	}

	/// `n` jobs expire at once; none of their workers reported, so each is slashed and replaced.
	#[benchmark]
	fn on_initialize(n: Linear<0, { T::MaxJobsPerBlock::get() }>) -> Result<(), BenchmarkError> {
		// Stakes stay above the minimum after a slash, so every worker remains drawable.
		let stake = T::MinWorkerStake::get().saturating_mul(2u32.into());
		let all = workers_with_stake::<T>(T::MaxWorkers::get(), stake)?;
		T::Currency::set_balance(&T::Treasury::get(), plenty::<T>());
		let requester = funded::<T>("requester", 0);
		let replication = usize::from(T::MaxReplication::get());
		let per_worker = T::MaxJobsPerWorker::get().saturating_sub(1) as usize;
		let mut ids = Vec::new();
		for j in 0..n as usize {
			// Spread the jobs over the workers, leaving each room for one replacement.
			let start = j.saturating_mul(replication).checked_rem(all.len()).unwrap_or(0);
			let assigned: Vec<_> =
				all.iter().cycle().skip(start).take(replication.min(all.len())).cloned().collect();
			if assigned.iter().any(|w| WorkerJobs::<T>::decode_len(w).unwrap_or(0) >= per_worker) {
				return Err(BenchmarkError::Stop("too few workers for MaxJobsPerBlock jobs"));
			}
			ids.push(pending_job::<T>(&requester, &assigned, 0)?);
		}
		let deadline =
			frame_system::Pallet::<T>::block_number().saturating_add(T::MaxTimeout::get());
		// The jobs expire as the block after their deadline starts.
		let expiry = deadline.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(expiry);
		// Every worker is alive, so each missed one is replaced (the costliest path).
		for worker in &all {
			Workers::<T>::mutate(worker, |info| {
				if let Some(info) = info {
					info.last_heartbeat = expiry;
				}
			});
		}

		#[block]
		{
			Pallet::<T>::on_initialize(expiry);
		}

		for id in ids {
			let job = Jobs::<T>::get(id);
			assert!(job.as_ref().is_some_and(|j| j.deadline != deadline), "{job:?}");
		}
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);

	/// Times each benchmark's call in the mock runtime (native, in-memory storage), the basis
	/// of the ref-time figures in `weights.rs` until the node's benchmark CLI runs.
	#[cfg(test)]
	#[allow(clippy::indexing_slicing, clippy::expect_used, clippy::arithmetic_side_effects)]
	mod timing {
		use super::*;
		use crate::mock::{new_test_ext, Test};
		use frame_benchmarking::{BenchmarkingSetup, Recording};
		use std::time::{Duration, Instant};

		#[derive(Default)]
		struct Stopwatch {
			started: Option<Instant>,
			elapsed: Duration,
		}

		impl Recording for Stopwatch {
			fn start(&mut self) {
				self.started = Some(Instant::now());
			}

			fn stop(&mut self) {
				if let Some(started) = self.started.take() {
					self.elapsed = started.elapsed();
				}
			}
		}

		/// Median of `runs` timings of the benchmark's call with `components`, in nanoseconds.
		fn time(
			benchmark: &SelectedBenchmark,
			components: &[(BenchmarkParameter, u32)],
			runs: usize,
		) -> u128 {
			let mut samples: std::vec::Vec<u128> = (0..runs)
				.map(|_| {
					new_test_ext().execute_with(|| {
						frame_system::Pallet::<Test>::set_block_number(1);
						let mut watch = Stopwatch::default();
						<SelectedBenchmark as BenchmarkingSetup<Test>>::instance(
							benchmark, &mut watch, components, true,
						)
						.expect("benchmark runs");
						watch.elapsed.as_nanos()
					})
				})
				.collect();
			samples.sort_unstable();
			samples[runs / 2]
		}

		#[test]
		#[ignore = "prints timings for weights.rs: cargo test --release --features \
		            runtime-benchmarks -- --ignored --nocapture print_call_timings"]
		fn print_call_timings() {
			let benchmarks = [
				("register_worker", SelectedBenchmark::register_worker),
				("update_capabilities", SelectedBenchmark::update_capabilities),
				("heartbeat", SelectedBenchmark::heartbeat),
				("unregister", SelectedBenchmark::unregister),
				("withdraw_stake", SelectedBenchmark::withdraw_stake),
				("create_job", SelectedBenchmark::create_job),
				("submit_result_record", SelectedBenchmark::submit_result_record),
				("submit_result_settle", SelectedBenchmark::submit_result_settle),
				("submit_result_escalate", SelectedBenchmark::submit_result_escalate),
			];
			println!("{:<24} {:>12}", "call", "median ns");
			for (name, benchmark) in &benchmarks {
				println!("{name:<24} {:>12}", time(benchmark, &[], 201));
			}
			let max = crate::mock::MAX_JOBS_PER_BLOCK;
			for n in [0, max] {
				let t = time(&SelectedBenchmark::on_initialize, &[(BenchmarkParameter::n, n)], 201);
				println!("{:<24} {t:>12}", format!("on_initialize(n = {n})"));
			}
		}
	}
}
