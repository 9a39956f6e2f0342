//! What this pallet offers the rest of the runtime, and asks of it:
//!
//! - [`InferenceHooks`]: tells another pallet (attribution) about every settled receipt;
//! - [`BenchmarkHelper`]: sets up a model and a worker for this pallet's benchmarks, which only
//!   the runtime (that knows the models and compute pallets) can do.

use frame_support::weights::Weight;

use crate::types::{ModelId, VersionIndex};

/// Told about every settled receipt, after its fee has moved. Called inside `submit_receipts`;
/// it cannot fail the receipt, so it must not panic and should record its own failures.
pub trait InferenceHooks<AccountId, Balance> {
	/// `client` paid `fee` for `worker` serving `version` of `model`. Returns the weight used,
	/// at most [`Self::max_weight`].
	fn on_paid(
		model: ModelId,
		version: VersionIndex,
		client: &AccountId,
		worker: &AccountId,
		fee: Balance,
	) -> Weight;

	/// The most [`Self::on_paid`] may use; charged up front for every receipt of a batch.
	fn max_weight() -> Weight;
}

/// Nobody listens.
impl<AccountId, Balance> InferenceHooks<AccountId, Balance> for () {
	fn on_paid(
		_model: ModelId,
		_version: VersionIndex,
		_client: &AccountId,
		_worker: &AccountId,
		_fee: Balance,
	) -> Weight {
		Weight::zero()
	}

	fn max_weight() -> Weight {
		Weight::zero()
	}
}

/// Sets up what the benchmarks need outside this pallet.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// A model owned by `owner` with at least one version; returns the model and a version.
	fn create_model(owner: &AccountId) -> (ModelId, VersionIndex);

	/// Makes `who` a worker that `Config::Workers` contains (funding it as needed).
	fn register_worker(who: &AccountId);
}
