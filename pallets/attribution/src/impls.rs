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
use pallet_inference::traits::{BatchFee, Payout};
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
	/// version records. Emits `FeeDistributed`. Returns the weight of the emissions
	/// settlements it caused (see [`Self::distribute_weight`]).
	pub(crate) fn do_distribute(
		model: ModelId,
		version: VersionIndex,
		workers: &[T::AccountId],
		fee: BalanceOf<T>,
		attribution: &[AttributionEntry],
	) -> Weight {
		Self::do_distribute_batch(workers, &[BatchFee { model, version, fee, attribution }]).0
	}

	/// Splits every fee of `fees` (already in the pot) as [`Self::do_distribute`] would one
	/// after another, but sums the credits in memory first: each account's rewards, each
	/// contribution's and each version's record, and the emissions notes are written once for
	/// the batch. Emits `FeeDistributed` per fee. Returns the weight of the emissions
	/// settlements it caused and how many distinct model versions the batch paid for.
	pub(crate) fn do_distribute_batch(
		workers: &[T::AccountId],
		fees: &[BatchFee<'_, BalanceOf<T>>],
	) -> (Weight, u32) {
		use alloc::collections::BTreeMap;
		let now = frame_system::Pallet::<T>::block_number();
		let mut rewards: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut contributions: BTreeMap<crate::ContributionId, (u64, u64, BalanceOf<T>)> =
			BTreeMap::new();
		let mut versions: BTreeMap<(ModelId, VersionIndex), crate::VersionRecordOf<T>> =
			BTreeMap::new();
		let mut contributors: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut serving: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let add = |map: &mut BTreeMap<T::AccountId, BalanceOf<T>>,
		           who: &T::AccountId,
		           amount: BalanceOf<T>| {
			if !amount.is_zero() {
				let sum = map.entry(who.clone()).or_insert_with(Zero::zero);
				*sum = sum.saturating_add(amount);
			}
		};
		for f in fees {
			let split = Self::split(f.model, f.version, workers, f.fee, f.attribution);
			let mut to_owner: BalanceOf<T> = Zero::zero();
			if let Some((owner, amount)) = &split.owner {
				add(&mut rewards, owner, *amount);
				to_owner = *amount;
			}
			let mut to_workers: BalanceOf<T> = Zero::zero();
			for (worker, amount) in &split.workers {
				add(&mut rewards, worker, *amount);
				add(&mut serving, worker, *amount);
				to_workers = to_workers.saturating_add(*amount);
			}
			let mut to_contributors: BalanceOf<T> = Zero::zero();
			for (contribution, who, amount) in &split.contributions {
				add(&mut rewards, who, *amount);
				add(&mut contributors, who, *amount);
				to_contributors = to_contributors.saturating_add(*amount);
				let weight = f
					.attribution
					.iter()
					.find(|e| e.contribution == *contribution)
					.map_or(0, |e| u64::from(e.weight.deconstruct()));
				let c = contributions.entry(*contribution).or_insert((0, 0, Zero::zero()));
				c.0 = c.0.saturating_add(1);
				c.1 = c.1.saturating_add(weight);
				c.2 = c.2.saturating_add(*amount);
			}
			add(&mut rewards, &T::Treasury::get(), split.treasury);
			let r = versions.entry((f.model, f.version)).or_default();
			r.inferences = r.inferences.saturating_add(1);
			r.fees = r.fees.saturating_add(f.fee);
			r.to_owner = r.to_owner.saturating_add(to_owner);
			r.to_contributors = r.to_contributors.saturating_add(to_contributors);
			r.to_workers = r.to_workers.saturating_add(to_workers);
			r.to_treasury = r.to_treasury.saturating_add(split.treasury);
			Self::deposit_event(Event::FeeDistributed {
				model: f.model,
				version: f.version,
				fee: f.fee,
				owner: split.owner,
				workers: split.workers,
				contributions: split.contributions,
				treasury: split.treasury,
			});
		}
		for (who, amount) in rewards {
			Rewards::<T>::mutate(&who, |owed| {
				*owed = Some(owed.unwrap_or_else(Zero::zero).saturating_add(amount))
			});
		}
		for (contribution, (inferences, weight, earned)) in contributions {
			ContributionRecords::<T>::mutate(contribution, |record| {
				let mut r = record.unwrap_or_default();
				r.inferences = r.inferences.saturating_add(inferences);
				r.weight_sum = r.weight_sum.saturating_add(weight);
				r.earned = r.earned.saturating_add(earned);
				r.last_at = now;
				*record = Some(r);
			});
		}
		let distinct = versions.len() as u32;
		for ((model, version), delta) in versions {
			VersionRecords::<T>::mutate(model, version, |record| {
				let mut r = record.unwrap_or_default();
				r.inferences = r.inferences.saturating_add(delta.inferences);
				r.fees = r.fees.saturating_add(delta.fees);
				r.to_owner = r.to_owner.saturating_add(delta.to_owner);
				r.to_contributors = r.to_contributors.saturating_add(delta.to_contributors);
				r.to_workers = r.to_workers.saturating_add(delta.to_workers);
				r.to_treasury = r.to_treasury.saturating_add(delta.to_treasury);
				*record = Some(r);
			});
		}
		let contributors: Vec<(T::AccountId, BalanceOf<T>)> = contributors.into_iter().collect();
		let serving: Vec<(T::AccountId, BalanceOf<T>)> = serving.into_iter().collect();
		(T::Emissions::note_earnings(&contributors, &serving), distinct)
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

	/// One worker's batch (a `submit_receipts`): the benchmarked batch of that many fees for
	/// one version, each with `MaxAttribution` entries of different contributors, plus a
	/// zero-entry split per further version and the settlements. Several workers: fee by fee.
	fn distribute_batch(
		workers: &[T::AccountId],
		fees: &[BatchFee<'_, BalanceOf<T>>],
	) -> Result<Weight, DispatchError> {
		if workers.len() != 1 {
			return pallet_inference::traits::distribute_each::<Self, _, _>(workers, fees);
		}
		let (settling, versions) = Self::do_distribute_batch(workers, fees);
		let count = u32::try_from(fees.len()).unwrap_or(u32::MAX);
		Ok(T::WeightInfo::distribute_batch(count)
			.saturating_add(
				T::WeightInfo::distribute(0, 1)
					.saturating_mul(u64::from(versions.saturating_sub(1))),
			)
			.saturating_add(settling))
	}
}

/// The most workers one fee pays (the first ones given, in the caller's order; an on-chain
/// job's agreeing workers are never more in this runtime). Bounds a split's work.
pub const MAX_PAID_WORKERS: u32 = 16;
