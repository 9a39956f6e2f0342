//! The logic: splitting a fee by attribution ([`Pallet::split`], the one place the split is
//! decided), crediting it, claiming, and pallet-inference's `Payout` on top of it.

use alloc::vec::Vec;
use frame_support::{
	ensure,
	traits::{fungible::Mutate, tokens::Preservation, Get},
	weights::Weight,
};
use pallet_datanets::traits::DatanetsInspect;
use pallet_emissions::traits::NoteActivity;
use pallet_inference::traits::Payout;
use pallet_models::traits::Inspect as ModelsInspect;
use sp_runtime::{
	traits::{AccountIdConversion, Saturating, Zero},
	DispatchError, DispatchResult, Perbill,
};

use crate::{
	traits::OwnerShareRoute, AttributionEntry, BalanceOf, Config, ContributionRecords,
	CurrentParams, Error, Event, ModelId, Pallet, Rewards, Split, VersionIndex, VersionRecords,
	WeightInfo,
};

impl<T: Config> Pallet<T> {
	/// The pot: fees wait here, split and credited, until claimed.
	pub fn pot() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// How `fee` for `version` of `model`, served by `workers`, splits by `attribution`
	/// (well formed, see [`pallet_inference::attribution_well_formed`]). Reads, never writes.
	/// The parts sum to `fee` exactly: the treasury takes what the others do not.
	pub fn split(
		model: ModelId,
		version: VersionIndex,
		workers: &[T::AccountId],
		fee: BalanceOf<T>,
		attribution: &[AttributionEntry],
	) -> Split<T::AccountId, BalanceOf<T>> {
		let params = CurrentParams::<T>::get();
		let shares = params.shares;
		let mut paid: BalanceOf<T> = Zero::zero();

		let owner = T::Models::model_owner(model)
			.map(|owner| T::OwnerShareRoute::owner_share_to(model).unwrap_or(owner))
			.map(|owner| (owner, shares.owner.mul_floor(fee)));
		if let Some((_, amount)) = &owner {
			paid = paid.saturating_add(*amount);
		}

		let workers = workers.get(..MAX_PAID_WORKERS as usize).unwrap_or(workers);
		let mut worker_parts = Vec::with_capacity(workers.len());
		let count = workers.len() as u32;
		if count > 0 {
			let each = Perbill::from_rational(1, count).mul_floor(shares.workers.mul_floor(fee));
			for worker in workers {
				worker_parts.push((worker.clone(), each));
				paid = paid.saturating_add(each);
			}
		}

		let part = shares.contributors.mul_floor(fee);
		let contributions =
			Self::contributor_parts(model, version, part, params.contributor_cap, attribution);
		for (_, _, amount) in &contributions {
			paid = paid.saturating_add(*amount);
		}

		Split { owner, workers: worker_parts, contributions, treasury: fee.saturating_sub(paid) }
	}

	/// The contributors' `part` of a fee by `attribution`: eligible entries only, each
	/// contributor capped at `cap × part` (its entries scaled down together). The amounts sum
	/// to at most `part`.
	fn contributor_parts(
		model: ModelId,
		version: VersionIndex,
		part: BalanceOf<T>,
		cap: Perbill,
		attribution: &[AttributionEntry],
	) -> Vec<(crate::ContributionId, T::AccountId, BalanceOf<T>)> {
		if attribution.is_empty() || part.is_zero() {
			return Vec::new();
		}
		let Some(snapshot) =
			T::Models::version_snapshot(model, version).and_then(T::Datanets::snapshot)
		else {
			return Vec::new();
		};
		let mut parts: Vec<(crate::ContributionId, T::AccountId, BalanceOf<T>)> = attribution
			.iter()
			.filter_map(|entry| {
				T::Datanets::attributable(entry.contribution, &snapshot)
					.map(|who| (entry.contribution, who, entry.weight.mul_floor(part)))
			})
			.collect();
		// The cap, per contributor: scale its entries by `cap / total` when over it.
		let limit = cap.mul_floor(part);
		let accounts: Vec<T::AccountId> = {
			let mut accounts: Vec<T::AccountId> = Vec::new();
			for (_, who, _) in &parts {
				if !accounts.contains(who) {
					accounts.push(who.clone());
				}
			}
			accounts
		};
		for who in accounts {
			let total = parts
				.iter()
				.filter(|(_, w, _)| *w == who)
				.fold(BalanceOf::<T>::zero(), |sum, (_, _, amount)| sum.saturating_add(*amount));
			if total > limit {
				for (_, w, amount) in parts.iter_mut() {
					if *w == who {
						*amount = scale_down::<T>(*amount, limit, total);
					}
				}
			}
		}
		parts
	}

	/// Splits `fee` (already in the pot) and credits every part: rewards, the contribution and
	/// version records. Emits `FeeDistributed`.
	/// Returns the weight the emissions notes used.
	pub(crate) fn do_distribute(
		model: ModelId,
		version: VersionIndex,
		workers: &[T::AccountId],
		fee: BalanceOf<T>,
		attribution: &[AttributionEntry],
	) -> Weight {
		let split = Self::split(model, version, workers, fee, attribution);
		let credit = |who: &T::AccountId, amount: BalanceOf<T>| {
			if !amount.is_zero() {
				Rewards::<T>::mutate(who, |owed| {
					*owed = Some(owed.unwrap_or_else(Zero::zero).saturating_add(amount))
				});
			}
		};
		let mut to_owner = Zero::zero();
		if let Some((owner, amount)) = &split.owner {
			credit(owner, *amount);
			to_owner = *amount;
		}
		let mut to_workers: BalanceOf<T> = Zero::zero();
		for (worker, amount) in &split.workers {
			credit(worker, *amount);
			to_workers = to_workers.saturating_add(*amount);
		}
		let now = frame_system::Pallet::<T>::block_number();
		let mut to_contributors: BalanceOf<T> = Zero::zero();
		for (contribution, who, amount) in &split.contributions {
			credit(who, *amount);
			to_contributors = to_contributors.saturating_add(*amount);
			let weight = attribution
				.iter()
				.find(|e| e.contribution == *contribution)
				.map_or(0, |e| u64::from(e.weight.deconstruct()));
			ContributionRecords::<T>::mutate(contribution, |record| {
				let mut r = record.unwrap_or_default();
				r.inferences = r.inferences.saturating_add(1);
				r.weight_sum = r.weight_sum.saturating_add(weight);
				r.earned = r.earned.saturating_add(*amount);
				r.last_at = now;
				*record = Some(r);
			});
		}
		credit(&T::Treasury::get(), split.treasury);
		// Emissions points: one note per contributor (its entries summed) and per worker.
		let mut earned: Vec<(T::AccountId, BalanceOf<T>)> = Vec::new();
		for (_, who, amount) in &split.contributions {
			match earned.iter_mut().find(|(w, _)| w == who) {
				Some((_, sum)) => *sum = sum.saturating_add(*amount),
				None => earned.push((who.clone(), *amount)),
			}
		}
		let noted = T::Emissions::note_earnings(&earned, &split.workers);
		VersionRecords::<T>::mutate(model, version, |record| {
			let mut r = record.unwrap_or_default();
			r.inferences = r.inferences.saturating_add(1);
			r.fees = r.fees.saturating_add(fee);
			r.to_owner = r.to_owner.saturating_add(to_owner);
			r.to_contributors = r.to_contributors.saturating_add(to_contributors);
			r.to_workers = r.to_workers.saturating_add(to_workers);
			r.to_treasury = r.to_treasury.saturating_add(split.treasury);
			*record = Some(r);
		});
		Self::deposit_event(Event::FeeDistributed {
			model,
			version,
			fee,
			owner: split.owner,
			workers: split.workers,
			contributions: split.contributions,
			treasury: split.treasury,
		});
		noted
	}

	/// Pays `who` everything it is owed, out of the pot (which keeps its existential deposit).
	pub(crate) fn do_claim(who: T::AccountId) -> DispatchResult {
		let amount = Rewards::<T>::get(&who).ok_or(Error::<T>::NothingToClaim)?;
		ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
		T::Currency::transfer(&Self::pot(), &who, amount, Preservation::Preserve)
			.map_err(|_| Error::<T>::ClaimTooSmall)?;
		Rewards::<T>::remove(&who);
		Self::deposit_event(Event::Claimed { who, amount });
		Ok(())
	}
}

impl<T: Config> Pallet<T> {
	/// The most a split of `entries` attribution entries paying `workers` workers costs: the
	/// benchmarked split (in the runtime it includes the emissions notes of its accounts),
	/// plus every worker and every entry's contributor settling an earlier era first.
	pub fn distribute_weight(entries: u32, workers: u32) -> Weight {
		T::WeightInfo::distribute(entries, workers)
			.saturating_add(T::Emissions::settling_weight(entries.saturating_add(workers)))
	}
}

/// `amount * numerator / denominator`, rounded down (`numerator <= denominator`, so it fits).
fn scale_down<T: Config>(
	amount: BalanceOf<T>,
	numerator: BalanceOf<T>,
	denominator: BalanceOf<T>,
) -> BalanceOf<T> {
	use sp_runtime::traits::{UniqueSaturatedFrom, UniqueSaturatedInto};
	let [a, n, d]: [u128; 3] =
		[amount, numerator, denominator].map(UniqueSaturatedInto::unique_saturated_into);
	let scaled = sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
		a,
		n,
		d,
		sp_runtime::Rounding::Down,
	)
	.unwrap_or(0);
	BalanceOf::<T>::unique_saturated_from(scaled)
}

/// Fees from pallet-inference: moved into [`Pallet::pot`], then split here.
impl<T: Config> Payout<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn pot() -> T::AccountId {
		Pallet::<T>::pot()
	}

	fn distribute(
		model: ModelId,
		version: VersionIndex,
		workers: &[T::AccountId],
		fee: BalanceOf<T>,
		attribution: &[AttributionEntry],
	) -> Result<Weight, DispatchError> {
		let entries = u32::try_from(attribution.len()).unwrap_or(u32::MAX);
		let paid_workers = workers.len().min(MAX_PAID_WORKERS as usize) as u32;
		let noted = Self::do_distribute(model, version, workers, fee, attribution);
		Ok(T::WeightInfo::distribute(entries, paid_workers).saturating_add(noted))
	}

	fn max_weight(workers: u32) -> Weight {
		Self::distribute_weight(T::MaxAttribution::get(), workers.min(MAX_PAID_WORKERS))
	}
}

/// The most workers one fee pays (the first ones given, in the caller's order; an on-chain
/// job's agreeing workers are never more in this runtime). Bounds a split's work.
pub const MAX_PAID_WORKERS: u32 = 16;
