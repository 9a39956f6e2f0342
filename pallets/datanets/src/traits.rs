//! What other pallets may ask of Datanets. Training, attribution and payout pallets depend on
//! this trait through their `Config`, never on this pallet's storage.

use sp_core::H256;
use sp_runtime::DispatchError;

use crate::types::{ContributionId, DatanetId, SnapshotId, SnapshotSummary};

/// Read access to Datanets, contributions and snapshots, and the charge for training on a snapshot.
pub trait DatanetsInspect<AccountId, Balance> {
	/// Whether the Datanet exists (closed ones included).
	fn datanet_exists(datanet: DatanetId) -> bool;

	/// The Datanet's owner.
	fn datanet_owner(datanet: DatanetId) -> Option<AccountId>;

	/// The snapshot, if it exists.
	fn snapshot(snapshot: SnapshotId) -> Option<SnapshotSummary>;

	/// Whether the snapshot exists.
	fn snapshot_exists(snapshot: SnapshotId) -> bool {
		Self::snapshot(snapshot).is_some()
	}

	/// The snapshot's Merkle root.
	fn snapshot_root(snapshot: SnapshotId) -> Option<H256> {
		Self::snapshot(snapshot).map(|s| s.root)
	}

	/// How many contributions the snapshot covers.
	fn snapshot_count(snapshot: SnapshotId) -> Option<u32> {
		Self::snapshot(snapshot).map(|s| s.count)
	}

	/// Whether the access policy lets `who` train on the snapshot: the owner always, anyone under
	/// `Public` and `FeePerUse` (the fee is charged by [`Self::charge_training_access`]), listed
	/// accounts under `Allowlist`. False if the snapshot does not exist.
	fn may_train(who: &AccountId, snapshot: SnapshotId) -> bool;

	/// Admits `who` to one training use of the snapshot: checks the policy and, under
	/// `FeePerUse`, transfers the fee from `who` to the Datanet's owner (the owner pays nothing).
	/// Returns the fee paid. Fails, changing nothing, if the snapshot does not exist, the policy
	/// refuses `who`, or the fee cannot be paid.
	fn charge_training_access(
		who: &AccountId,
		snapshot: SnapshotId,
	) -> Result<Balance, DispatchError>;

	/// The Datanet the contribution was submitted to.
	fn contribution_datanet(contribution: ContributionId) -> Option<DatanetId>;

	/// Who submitted the contribution.
	fn contributor_of(contribution: ContributionId) -> Option<AccountId>;

	/// Whether the contribution was accepted.
	fn is_accepted(contribution: ContributionId) -> bool;

	/// Whether the snapshot covers the contribution.
	fn is_in_snapshot(contribution: ContributionId, snapshot: SnapshotId) -> bool;

	/// The contributor of `contribution` if it may earn from a model trained on `snapshot`
	/// (as [`Self::snapshot`] returned it): it was accepted into the snapshot's Datanet at a
	/// position the snapshot covers. Rejected, withdrawn, pending and later contributions earn
	/// nothing. One storage read.
	fn attributable(contribution: ContributionId, snapshot: &SnapshotSummary) -> Option<AccountId>;

	/// Builds a snapshot of `accepted` contributions, all owned by `owner`'s Datanet, for other
	/// pallets' benchmarks. Funds the accounts it needs.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_snapshot(owner: &AccountId, accepted: u32) -> Result<SnapshotId, DispatchError>;
}

/// Told of each accepted contribution (the runtime notes the curator's work to the emissions
/// pallet's curator stream). `()` does nothing.
pub trait OnContributionAccepted<AccountId> {
	/// `curator` accepted `contribution` by `contributor`.
	fn on_accepted(curator: &AccountId, contributor: &AccountId, contribution: ContributionId);
	/// The most [`Self::on_accepted`] costs, charged by `curate`.
	fn weight() -> frame_support::weights::Weight;
}

impl<AccountId> OnContributionAccepted<AccountId> for () {
	fn on_accepted(_curator: &AccountId, _contributor: &AccountId, _contribution: ContributionId) {}
	fn weight() -> frame_support::weights::Weight {
		frame_support::weights::Weight::zero()
	}
}
