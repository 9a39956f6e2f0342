//! Benchmarks: a claim, setting the parameters, and a split (`distribute`) with `n` eligible
//! entries by `n` different contributors and `w` workers, every account credited for the first
//! time (the costliest writes).

use crate::{traits::BenchmarkHelper, *};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, EnsureOrigin, Get};
use frame_system::RawOrigin;
use pallet_inference::traits::{BatchFee, Payout};
use sp_runtime::{
	traits::{Saturating, Zero},
	Perbill,
};

const SEED: u32 = 0;

/// A fee large enough that every part is above zero.
fn fee<T: Config>() -> BalanceOf<T> {
	BalanceOf::<T>::from(1_000_000_000u32)
}

/// Puts `amount` in the pot (and its existential deposit, if it has none).
fn fund_pot<T: Config>(amount: BalanceOf<T>) {
	let pot = Pallet::<T>::pot();
	let ed =
		<T::Currency as frame_support::traits::fungible::Inspect<T::AccountId>>::minimum_balance();
	let _ = T::Currency::mint_into(&pot, amount.saturating_add(ed));
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn claim() -> Result<(), BenchmarkError> {
		let who: T::AccountId = account("contributor", 0, SEED);
		// A first payment to a new account must reach the existential deposit.
		let ed =
			<T::Currency as frame_support::traits::fungible::Inspect<T::AccountId>>::minimum_balance();
		let amount = fee::<T>().max(ed.saturating_mul(10u32.into()));
		fund_pot::<T>(amount);
		Rewards::<T>::insert(&who, amount);
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), who.clone());

		assert!(Rewards::<T>::get(&who).is_none());
		Ok(())
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let params = Params { contributor_cap: Perbill::from_percent(60), ..Params::default() };
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(CurrentParams::<T>::get(), params);
		Ok(())
	}

	#[benchmark]
	fn distribute(
		n: Linear<0, { T::MaxAttribution::get() }>,
		w: Linear<1, { crate::impls::MAX_PAID_WORKERS }>,
	) -> Result<(), BenchmarkError> {
		let owner: T::AccountId = account("owner", 0, SEED);
		let (model, version, contributions) = T::BenchmarkHelper::attributable_version(&owner, n);
		let attribution: Vec<AttributionEntry> = contributions
			.iter()
			.map(|c| AttributionEntry {
				contribution: *c,
				weight: Perbill::from_rational(1, n.max(1)),
			})
			.collect();
		let workers: Vec<T::AccountId> = (0..w).map(|i| account("worker", i, SEED)).collect();
		let fee = fee::<T>();
		fund_pot::<T>(fee);

		#[block]
		{
			<Pallet<T> as Payout<T::AccountId, BalanceOf<T>>>::distribute(
				model,
				version,
				&workers,
				fee,
				&attribution,
			)
			.map_err(|_| BenchmarkError::Stop("distribute failed"))?;
		}

		let record = VersionRecords::<T>::get(model, version).ok_or("no version record")?;
		assert_eq!(record.fees, fee);
		if n > 0 {
			assert!(!record.to_contributors.is_zero());
		}
		Ok(())
	}

	/// One worker's batch of `r` fees for one version, each attributed to `MaxAttribution`
	/// contributions of different contributors (none shared between fees).
	#[benchmark]
	fn distribute_batch(r: Linear<1, 128>) -> Result<(), BenchmarkError> {
		let owner: T::AccountId = account("owner", 0, SEED);
		let k = T::MaxAttribution::get();
		let (model, version, contributions) =
			T::BenchmarkHelper::attributable_version(&owner, r.saturating_mul(k));
		let entries: Vec<Vec<AttributionEntry>> = contributions
			.chunks(k as usize)
			.map(|chunk| {
				chunk
					.iter()
					.map(|c| AttributionEntry {
						contribution: *c,
						weight: Perbill::from_rational(1, k),
					})
					.collect()
			})
			.collect();
		let fee = fee::<T>();
		let fees: Vec<BatchFee<'_, BalanceOf<T>>> = entries
			.iter()
			.map(|attribution| BatchFee { model, version, fee, attribution })
			.collect();
		let worker: T::AccountId = account("worker", 0, SEED);
		fund_pot::<T>(fee.saturating_mul(r.into()));

		#[block]
		{
			<Pallet<T> as Payout<T::AccountId, BalanceOf<T>>>::distribute_batch(
				core::slice::from_ref(&worker),
				&fees,
			)
			.map_err(|_| BenchmarkError::Stop("distribute_batch failed"))?;
		}

		let record = VersionRecords::<T>::get(model, version).ok_or("no version record")?;
		assert_eq!(record.inferences, u64::from(r));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
