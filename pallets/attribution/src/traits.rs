//! What this pallet asks of the runtime: where a model's owner share goes, and what its
//! benchmarks need.

/// Where a model's owner share of each fee goes when not to its owner: the runtime routes it
/// to a successful Initial AI Offering's revenue account (pallet-iao), whose shareholders
/// then claim it. `()` routes nothing.
pub trait OwnerShareRoute<AccountId> {
	/// The account to credit with `model`'s owner share instead of its owner, if any.
	fn owner_share_to(model: crate::ModelId) -> Option<AccountId>;
}

impl<AccountId> OwnerShareRoute<AccountId> for () {
	fn owner_share_to(_model: crate::ModelId) -> Option<AccountId> {
		None
	}
}

/// Sets up what the benchmarks need outside this pallet.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// A model owned by `owner` with a version trained on a snapshot that covers `n` accepted
	/// contributions, each by a different contributor; returns the model, the version and the
	/// contributions.
	fn attributable_version(
		owner: &AccountId,
		n: u32,
	) -> (crate::ModelId, crate::VersionIndex, alloc::vec::Vec<crate::ContributionId>);
}
