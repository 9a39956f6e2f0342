//! Benchmarks: a claim that settles every stream (each the last account of its era, so the
//! rounding remainder goes to the treasury too), setting the shares and the curve, the block
//! hook on an ordinary block and at an era's end (every stream with points), and a note that
//! settles an earlier era first.

use crate::{traits::NoteActivity, *};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	EnsureOrigin, Get, Hooks,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::{
	traits::{Saturating, Zero},
	Perbill,
};

const SEED: u32 = 0;

/// Starts the schedule if it has not started, with pools large enough that every era releases
/// something to every stream.
fn started<T: Config>() -> Result<(), BenchmarkError> {
	if Schedule::<T>::get().is_none() {
		let amount = T::Currency::minimum_balance().saturating_mul(1_000_000_000u32.into());
		let _ = T::Currency::mint_into(&T::CommunityPool::get(), amount);
		let _ = T::Currency::mint_into(&T::EcosystemPool::get(), amount);
		Pallet::<T>::start_schedule(frame_system::Pallet::<T>::block_number(), T::EraLength::get());
	}
	let status = Schedule::<T>::get().ok_or(BenchmarkError::Stop("no schedule"))?;
	if status.finished || Pools::<T>::get().remaining().is_zero() {
		return Err(BenchmarkError::Stop("the schedule has finished"));
	}
	Ok(())
}

/// Closes the open era now.
fn close_open_era<T: Config>() -> Result<(), BenchmarkError> {
	let mut status = Schedule::<T>::get().ok_or(BenchmarkError::Stop("no schedule"))?;
	Pallet::<T>::close_era(&mut status);
	Schedule::<T>::put(status);
	Ok(())
}

/// Notes points for `who` in every stream.
fn note_everywhere<T: Config>(who: &T::AccountId, points: u32) {
	Pallet::<T>::note_contributor(who, points.into());
	Pallet::<T>::note_worker(who, points.into());
	Pallet::<T>::note_curator(who, points);
	for _ in 0..points {
		Pallet::<T>::note_author(who);
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn claim() -> Result<(), BenchmarkError> {
		started::<T>()?;
		let who: T::AccountId = account("participant", 0, SEED);
		let other: T::AccountId = account("participant", 1, SEED);
		// Two accounts, 1 and 2 points: `other` settles first, so `who` is each stream's last.
		note_everywhere::<T>(&who, 1);
		note_everywhere::<T>(&other, 2);
		close_open_era::<T>()?;
		Pallet::<T>::do_claim(other).map_err(|_| BenchmarkError::Stop("claim failed"))?;
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), who.clone());

		assert!(Rewards::<T>::get(&who).is_none());
		assert!(Claimed::<T>::get(&who).is_some_and(|c| !c.is_zero()));
		Ok(())
	}

	#[benchmark]
	fn set_stream_shares() -> Result<(), BenchmarkError> {
		let shares = StreamShares {
			contributors: Perbill::from_percent(50),
			workers: Perbill::from_percent(20),
			curators: Perbill::from_percent(10),
			authors: Perbill::from_percent(10),
			treasury: Perbill::from_percent(10),
		};
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, shares);

		assert_eq!(CurrentShares::<T>::get(), shares);
		Ok(())
	}

	#[benchmark]
	fn set_curve() -> Result<(), BenchmarkError> {
		let curve = Curve::Tapered { first_to_last_percent: 300 };
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, curve);

		assert_eq!(CurrentCurve::<T>::get(), curve);
		Ok(())
	}

	#[benchmark]
	fn on_initialize_idle() -> Result<(), BenchmarkError> {
		started::<T>()?;
		let status = Schedule::<T>::get().ok_or(BenchmarkError::Stop("no schedule"))?;
		let now: BlockNumberFor<T> = status.start;

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}

		assert_eq!(Schedule::<T>::get().map(|s| s.open_era), Some(status.open_era));
		Ok(())
	}

	#[benchmark]
	fn on_initialize_era() -> Result<(), BenchmarkError> {
		started::<T>()?;
		let who: T::AccountId = account("participant", 0, SEED);
		note_everywhere::<T>(&who, 1);
		let status = Schedule::<T>::get().ok_or(BenchmarkError::Stop("no schedule"))?;
		let end = Pallet::<T>::era_end(&status, status.open_era);
		frame_system::Pallet::<T>::set_block_number(end);

		#[block]
		{
			Pallet::<T>::on_initialize(end);
		}

		let record = Eras::<T>::get(status.open_era).ok_or("no era record")?;
		assert!(!record.workers.budget.is_zero());
		assert!(Rewards::<T>::get(T::Treasury::get()).is_some());
		Ok(())
	}

	#[benchmark]
	fn note() -> Result<(), BenchmarkError> {
		started::<T>()?;
		let who: T::AccountId = account("participant", 0, SEED);
		let other: T::AccountId = account("participant", 1, SEED);
		Pallet::<T>::note_worker(&who, 1u32.into());
		Pallet::<T>::note_worker(&other, 2u32.into());
		close_open_era::<T>()?;
		Pallet::<T>::do_claim(other).map_err(|_| BenchmarkError::Stop("claim failed"))?;

		#[block]
		{
			Pallet::<T>::note_worker(&who, 5u32.into());
		}

		let open = Schedule::<T>::get().map(|s| s.open_era);
		assert_eq!(
			Activity::<T>::get(Stream::Workers, &who).map(|e| (Some(e.era), e.points)),
			Some((open, 5))
		);
		assert!(Rewards::<T>::get(&who).is_some());
		Ok(())
	}

	/// `n` accounts already noted in the open era and `s` accounts holding points of a closed
	/// era (each settled first), all noted at once.
	#[benchmark]
	fn note_many(n: Linear<0, 32>, s: Linear<0, 32>) -> Result<(), BenchmarkError> {
		started::<T>()?;
		let settling: Vec<T::AccountId> = (0..s).map(|i| account("settling", i, SEED)).collect();
		let accruing: Vec<T::AccountId> = (0..n).map(|i| account("accruing", i, SEED)).collect();
		for who in &settling {
			Pallet::<T>::note_worker(who, 1u32.into());
		}
		close_open_era::<T>()?;
		for who in &accruing {
			Pallet::<T>::note_worker(who, 1u32.into());
		}
		let notes: Vec<(Stream, &T::AccountId, u128)> =
			accruing.iter().chain(&settling).map(|who| (Stream::Workers, who, 2)).collect();

		#[block]
		{
			let (noted, settled) = Pallet::<T>::note_many(notes);
			assert_eq!((noted, settled), (n.saturating_add(s), s));
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

		/// Median and minimum of `runs` timings of the benchmark's call, in nanoseconds.
		fn time(benchmark: &SelectedBenchmark, runs: usize) -> (u128, u128) {
			let mut samples: std::vec::Vec<u128> = (0..runs)
				.map(|_| {
					new_test_ext().execute_with(|| {
						frame_system::Pallet::<Test>::set_block_number(1);
						let mut watch = Stopwatch::default();
						<SelectedBenchmark as BenchmarkingSetup<Test>>::instance(
							benchmark,
							&mut watch,
							&[],
							true,
						)
						.expect("benchmark runs");
						watch.elapsed.as_nanos()
					})
				})
				.collect();
			samples.sort_unstable();
			(samples[runs / 2], samples[0])
		}

		#[test]
		#[ignore = "prints timings for weights.rs: cargo test --release --features \
		            runtime-benchmarks -- --ignored --nocapture print_call_timings"]
		fn print_call_timings() {
			let benchmarks = [
				("claim", SelectedBenchmark::claim),
				("set_stream_shares", SelectedBenchmark::set_stream_shares),
				("set_curve", SelectedBenchmark::set_curve),
				("on_initialize_idle", SelectedBenchmark::on_initialize_idle),
				("on_initialize_era", SelectedBenchmark::on_initialize_era),
				("note", SelectedBenchmark::note),
			];
			println!("{:<20} {:>12} {:>12}", "call", "median ns", "min ns");
			for (name, benchmark) in &benchmarks {
				let (median, min) = time(benchmark, 201);
				println!("{name:<20} {median:>12} {min:>12}");
			}
		}
	}
}
