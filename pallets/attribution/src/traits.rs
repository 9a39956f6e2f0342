//! What this pallet asks of the runtime for its benchmarks.

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
