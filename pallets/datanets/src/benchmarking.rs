//! Benchmarks for every call, each in its worst case: longest strings, fullest lists, the most
//! Merkle work.

#![cfg(feature = "runtime-benchmarks")]

use crate::*;
use alloc::vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_core::H256;
use sp_runtime::traits::{Saturating, StaticLookup};

const SEED: u32 = 0;

fn assert_last_event<T: Config>(event: Event<T>) {
	let event: <T as Config>::RuntimeEvent = event.into();
	frame_system::Pallet::<T>::assert_last_event(event.into());
}

/// Enough to pay every deposit a benchmark asks for.
fn plenty<T: Config>() -> BalanceOf<T> {
	T::DatanetDeposit::get()
		.saturating_add(T::ContributionDeposit::get())
		.saturating_mul(1_000u32.into())
		.saturating_add(T::Currency::minimum_balance())
}

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who = account(name, index, SEED);
	T::Currency::set_balance(&who, plenty::<T>());
	who
}

/// The longest byte string `S` allows, starting with `prefix` so that strings can differ.
fn longest<S: Get<u32>>(prefix: &[u8]) -> BoundedVec<u8, S> {
	let mut bytes = vec![b'x'; S::get() as usize];
	for (byte, p) in bytes.iter_mut().zip(prefix) {
		*byte = *p;
	}
	BoundedVec::truncate_from(bytes)
}

/// The most media types, each of the longest length; the last is the slowest to find.
fn media_types<T: Config>() -> BoundedVec<MediaTypeOf<T>, T::MaxMediaTypes> {
	BoundedVec::truncate_from(
		(0..T::MaxMediaTypes::get()).map(|i| longest(&i.to_le_bytes())).collect(),
	)
}

fn last_media_type<T: Config>() -> MediaTypeOf<T> {
	longest(&T::MaxMediaTypes::get().saturating_sub(1).to_le_bytes())
}

/// The longest allowlist.
fn allowlist<T: Config>() -> AccessPolicyOf<T> {
	AccessPolicy::Allowlist(BoundedVec::truncate_from(
		(0..T::MaxAllowlist::get()).map(|i| account("member", i, SEED)).collect(),
	))
}

/// A Datanet with every field at its longest.
fn create_worst<T: Config>(owner: &T::AccountId) -> Result<DatanetId, BenchmarkError> {
	let tags = BoundedVec::truncate_from(
		(0..T::MaxTags::get()).map(|i| longest(&i.to_le_bytes())).collect(),
	);
	let rules = ContributionRules { max_bytes: u64::MAX, media_types: media_types::<T>() };
	Ok(Pallet::<T>::do_create_datanet(
		owner.clone(),
		longest(b"name"),
		longest(b"description"),
		tags,
		longest(b"license"),
		rules,
		allowlist::<T>(),
	)?)
}

/// Fills the Datanet's curator list; `last` is the last curator, the slowest to find.
fn fill_curators<T: Config>(
	owner: &T::AccountId,
	datanet: DatanetId,
	count: u32,
) -> Result<Option<T::AccountId>, BenchmarkError> {
	let mut last = None;
	for i in 0..count {
		let curator: T::AccountId = funded::<T>("curator", i);
		Pallet::<T>::do_add_curator(owner, datanet, curator.clone())?;
		last = Some(curator);
	}
	Ok(last)
}

fn contribute_worst<T: Config>(
	contributor: &T::AccountId,
	datanet: DatanetId,
	n: u32,
) -> Result<ContributionId, BenchmarkError> {
	Ok(Pallet::<T>::do_contribute(
		contributor.clone(),
		datanet,
		H256(sp_io::hashing::blake2_256(&n.to_le_bytes())),
		1,
		last_media_type::<T>(),
		longest(b"locator"),
		longest(b"metadata"),
	)?)
}

/// Pretends the Datanet has `accepted` accepted contributions, with matching (made-up) Merkle
/// peaks; writing them directly keeps large Datanets cheap to set up.
fn pretend_accepted<T: Config>(datanet: DatanetId, accepted: u32) {
	DatanetRecords::<T>::mutate(datanet, |record| {
		if let Some(record) = record {
			record.counters.accepted = accepted;
		}
	});
	let peaks = (0..accepted.count_ones()).map(|i| H256::repeat_byte(i as u8)).collect();
	AcceptedPeaks::<T>::insert(datanet, MerklePeaks::truncate_from(peaks));
}

/// `2^height - 1` for the largest such number below `bound`: the count with the most Merkle
/// work (merges on append, peaks to bag).
fn all_ones_below(bound: u32) -> u32 {
	let height = bound.checked_ilog2().unwrap_or(0);
	1u32.checked_shl(height).unwrap_or(0).saturating_sub(1)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_datanet() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let tags: TagsOf<T> = BoundedVec::truncate_from(
			(0..T::MaxTags::get()).map(|i| longest(&i.to_le_bytes())).collect(),
		);
		let rules = ContributionRules { max_bytes: u64::MAX, media_types: media_types::<T>() };

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner.clone()),
			longest(b"name"),
			longest(b"description"),
			tags,
			longest(b"license"),
			rules,
			allowlist::<T>(),
		);

		assert!(DatanetRecords::<T>::get(0).is_some_and(|d| d.owner == owner));
		Ok(())
	}

	#[benchmark]
	fn add_curator() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_worst::<T>(&owner)?;
		fill_curators::<T>(&owner, datanet, T::MaxCurators::get().saturating_sub(1))?;
		let curator: T::AccountId = account("new-curator", 0, SEED);
		let lookup = T::Lookup::unlookup(curator.clone());

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), datanet, lookup);

		assert_last_event::<T>(Event::CuratorAdded { datanet, curator });
		Ok(())
	}

	#[benchmark]
	fn remove_curator() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_worst::<T>(&owner)?;
		let curator = fill_curators::<T>(&owner, datanet, T::MaxCurators::get())?
			.ok_or(BenchmarkError::Weightless)?;
		let lookup = T::Lookup::unlookup(curator.clone());

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), datanet, lookup);

		assert_last_event::<T>(Event::CuratorRemoved { datanet, curator });
		Ok(())
	}

	#[benchmark]
	fn set_access_policy() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_worst::<T>(&owner)?;
		let access = allowlist::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), datanet, access.clone());

		assert_last_event::<T>(Event::AccessPolicySet { datanet, access });
		Ok(())
	}

	#[benchmark]
	fn pause_datanet() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_worst::<T>(&owner)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), datanet);

		assert_last_event::<T>(Event::DatanetPaused { datanet });
		Ok(())
	}

	#[benchmark]
	fn reopen_datanet() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_worst::<T>(&owner)?;
		Pallet::<T>::do_pause(&owner, datanet)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), datanet);

		assert_last_event::<T>(Event::DatanetReopened { datanet });
		Ok(())
	}

	#[benchmark]
	fn close_datanet() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_worst::<T>(&owner)?;
		Pallet::<T>::do_pause(&owner, datanet)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), datanet);

		assert_last_event::<T>(Event::DatanetClosed {
			datanet,
			owner,
			deposit_released: T::DatanetDeposit::get(),
		});
		Ok(())
	}

	#[benchmark]
	fn contribute() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let contributor = funded::<T>("contributor", 0);
		let datanet = create_worst::<T>(&owner)?;
		// The contributor already has all but one of the pending contributions allowed.
		let already = T::MaxPendingPerContributor::get().saturating_sub(1);
		for n in 0..already {
			contribute_worst::<T>(&contributor, datanet, n)?;
		}
		let content_hash = H256::repeat_byte(0xc0);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(contributor.clone()),
			datanet,
			content_hash,
			u64::MAX,
			last_media_type::<T>(),
			longest(b"locator"),
			longest(b"metadata"),
		);

		assert!(ContentHashes::<T>::contains_key(datanet, content_hash));
		Ok(())
	}

	#[benchmark]
	fn curate_accept() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let contributor = funded::<T>("contributor", 0);
		let datanet = create_worst::<T>(&owner)?;
		let curator = fill_curators::<T>(&owner, datanet, T::MaxCurators::get())?
			.unwrap_or_else(|| owner.clone());
		// Appending to `2^h - 1` leaves merges `h` peaks, the most for this Datanet size.
		pretend_accepted::<T>(datanet, all_ones_below(T::MaxAcceptedPerDatanet::get()));
		let id = contribute_worst::<T>(&contributor, datanet, 0)?;

		#[extrinsic_call]
		curate(RawOrigin::Signed(curator), id, Verdict::Accept);

		assert!(<Pallet<T> as traits::DatanetsInspect<_, _>>::is_accepted(id));
		Ok(())
	}

	#[benchmark]
	fn curate_reject() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let contributor = funded::<T>("contributor", 0);
		// Both shares of the slash are paid out.
		T::Currency::set_balance(&T::TreasuryAccount::get(), plenty::<T>());
		let datanet = create_worst::<T>(&owner)?;
		let curator = fill_curators::<T>(&owner, datanet, T::MaxCurators::get())?
			.unwrap_or_else(|| owner.clone());
		let id = contribute_worst::<T>(&contributor, datanet, 0)?;
		// This rejection bars the contributor.
		Contributors::<T>::mutate(datanet, &contributor, |info| {
			if let Some(info) = info {
				info.reputation = T::BarThreshold::get();
			}
		});

		#[extrinsic_call]
		curate(RawOrigin::Signed(curator), id, Verdict::Reject(1));

		assert!(Contributions::<T>::get(id).is_some_and(|c| !c.is_pending()));
		Ok(())
	}

	#[benchmark]
	fn withdraw() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let contributor = funded::<T>("contributor", 0);
		let datanet = create_worst::<T>(&owner)?;
		let id = contribute_worst::<T>(&contributor, datanet, 0)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(contributor.clone()), id);

		assert_last_event::<T>(Event::ContributionWithdrawn {
			contribution: id,
			datanet,
			contributor,
			deposit_released: T::ContributionDeposit::get(),
		});
		Ok(())
	}

	#[benchmark]
	fn snapshot() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_worst::<T>(&owner)?;
		let curator = fill_curators::<T>(&owner, datanet, T::MaxCurators::get())?
			.unwrap_or_else(|| owner.clone());
		// The most peaks to bag: the largest all-ones count the Datanet may hold.
		let count = all_ones_below(T::MaxAcceptedPerDatanet::get().saturating_add(1));
		pretend_accepted::<T>(datanet, count.max(1));

		#[extrinsic_call]
		_(RawOrigin::Signed(curator), datanet);

		assert!(Snapshots::<T>::get(0).is_some_and(|s| s.count == count.max(1)));
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
				("create_datanet", SelectedBenchmark::create_datanet),
				("add_curator", SelectedBenchmark::add_curator),
				("remove_curator", SelectedBenchmark::remove_curator),
				("set_access_policy", SelectedBenchmark::set_access_policy),
				("pause_datanet", SelectedBenchmark::pause_datanet),
				("reopen_datanet", SelectedBenchmark::reopen_datanet),
				("close_datanet", SelectedBenchmark::close_datanet),
				("contribute", SelectedBenchmark::contribute),
				("curate_accept", SelectedBenchmark::curate_accept),
				("curate_reject", SelectedBenchmark::curate_reject),
				("withdraw", SelectedBenchmark::withdraw),
				("snapshot", SelectedBenchmark::snapshot),
			];
			println!("{:<20} {:>12} {:>12}", "call", "median ns", "min ns");
			for (name, benchmark) in &benchmarks {
				let (median, min) = time(benchmark, 201);
				println!("{name:<20} {median:>12} {min:>12}");
			}
		}
	}
}
