//! What this pallet offers the rest of the runtime, and asks of it:
//!
//! - [`Payout`]: splits every settled fee (the attribution pallet);
//! - [`BenchmarkHelper`]: sets up a model and a worker for this pallet's benchmarks, which only
//!   the runtime (that knows the models and compute pallets) can do.

use frame_support::weights::Weight;

use sp_runtime::DispatchError;

use crate::types::{AttributionEntry, ModelId, VersionIndex};

/// Where fees go. This pallet moves each settled fee, whole, from the payer's hold into
/// [`Payout::pot`] and then asks [`Payout::distribute`] to split it (the attribution pallet:
/// model owner, data contributors by attribution, workers, treasury). Both run in one storage
/// layer: if `distribute` fails, the fee goes back on hold and nothing of the receipt stays.
pub trait Payout<AccountId, Balance: Copy> {
	/// The account fees are moved into before they are distributed.
	fn pot() -> AccountId;

	/// Splits `fee`, now in [`Self::pot`], paid for `workers` serving `version` of `model`,
	/// by `attribution` (well formed: see [`crate::attribution_well_formed`]). Returns the
	/// weight used, at most [`Self::max_weight`].
	fn distribute(
		model: ModelId,
		version: VersionIndex,
		workers: &[AccountId],
		fee: Balance,
		attribution: &[AttributionEntry],
	) -> Result<Weight, DispatchError>;

	/// The most [`Self::distribute`] may use for `workers` workers and `Config::MaxAttribution`
	/// entries; charged up front for every receipt of a batch (one worker) and every on-chain
	/// job (`u32::MAX`: as many as the payout ever pays).
	fn max_weight(workers: u32) -> Weight;

	/// Splits every fee of `fees` (all in [`Self::pot`] already), served by `workers`, as
	/// [`Self::distribute`] would one after another; an implementation may credit each account
	/// once for the whole batch. Returns the weight used, at most [`Self::max_weight`] of
	/// `workers` per fee. On an error nothing of the batch is split (the caller's storage
	/// layer undoes it).
	fn distribute_batch(
		workers: &[AccountId],
		fees: &[BatchFee<'_, Balance>],
	) -> Result<Weight, DispatchError> {
		distribute_each::<Self, AccountId, Balance>(workers, fees)
	}
}

/// [`Payout::distribute_batch`] fee by fee: each fee through `P`'s [`Payout::distribute`].
pub fn distribute_each<P, AccountId, Balance>(
	workers: &[AccountId],
	fees: &[BatchFee<'_, Balance>],
) -> Result<Weight, DispatchError>
where
	P: Payout<AccountId, Balance> + ?Sized,
	Balance: Copy,
{
	let mut used = Weight::zero();
	for f in fees {
		used =
			used.saturating_add(P::distribute(f.model, f.version, workers, f.fee, f.attribution)?);
	}
	Ok(used)
}

/// One fee of a [`Payout::distribute_batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchFee<'a, Balance> {
	/// The model served.
	pub model: ModelId,
	/// Its version.
	pub version: VersionIndex,
	/// The fee, in the pot.
	pub fee: Balance,
	/// Its attribution (well formed: see [`crate::attribution_well_formed`]).
	pub attribution: &'a [AttributionEntry],
}

/// Sets up what the benchmarks need outside this pallet.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// A model owned by `owner` with at least one version; returns the model and a version.
	fn create_model(owner: &AccountId) -> (ModelId, VersionIndex);

	/// Makes `who` a worker that `Config::Workers` contains (funding it as needed).
	fn register_worker(who: &AccountId);
}
