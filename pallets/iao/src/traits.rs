//! What this pallet asks of the runtime (model control) and offers to other pallets (where a
//! model's revenue goes).

use frame_support::dispatch::DispatchResult;

use crate::{ModelId, VersionIndex};

/// What an offering needs of the model registry (pallet-models, wired by the runtime).
pub trait ModelControl<AccountId> {
	/// The model's owner, if the model exists.
	fn owner(model: ModelId) -> Option<AccountId>;

	/// Whether the model has this version.
	fn version_exists(model: ModelId, version: VersionIndex) -> bool;

	/// Makes `version` the model's active one (a passed shareholder vote). The runtime
	/// implements it with pallet-models' `set_active_version` on the owner's behalf.
	fn activate_version(model: ModelId, version: VersionIndex) -> DispatchResult;

	/// A model owned by `owner` with at least two versions, for the benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_model(owner: &AccountId) -> (ModelId, VersionIndex);
}

/// Where a model's owner share of inference fees goes: implemented by this pallet, used by
/// pallet-attribution (through its `Config`) to credit a successful offering's revenue account
/// instead of the owner.
pub trait ModelRevenue<AccountId> {
	/// The account the model's owner share is paid to, if an offering took it over.
	fn revenue_account(model: ModelId) -> Option<AccountId>;
}

impl<AccountId> ModelRevenue<AccountId> for () {
	fn revenue_account(_model: ModelId) -> Option<AccountId> {
		None
	}
}
