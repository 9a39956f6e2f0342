//! What other pallets call: the activity that earns emissions.

use frame_support::weights::Weight;

/// Activity that earns a share of the current era's emissions. Other pallets push it in as it
/// happens (pallet-attribution for contributors, the compute pallet for workers, the Datanets
/// pallet for curators, block authorship for authors); the emissions pallet implements it, and
/// `()` ignores it.
///
/// Each note is a bounded number of storage reads and writes (at most [`Self::note_weight`]),
/// whatever the account's history. Zero amounts are ignored.
pub trait NoteActivity<AccountId, Balance> {
	/// `who` earned `earned` in attribution rewards (one point per planck).
	fn note_contributor(who: &AccountId, earned: Balance);
	/// `who` earned `earned` as a worker: its part of completed jobs' fees and of served
	/// inferences' fees (one point per planck).
	fn note_worker(who: &AccountId, earned: Balance);
	/// `who` accepted `accepted` contributions as a curator.
	fn note_curator(who: &AccountId, accepted: u32);
	/// `who` authored a block.
	fn note_author(who: &AccountId);
	/// The most one note costs, for the caller to charge.
	fn note_weight() -> Weight;
	/// Notes what `contributors` and `workers` earned from one fee, together (the open era's
	/// record is updated once). Returns the weight of the settlements it made first (accounts
	/// holding points of an earlier era), at most [`Self::settling_weight`] of their number:
	/// the notes themselves belong to the caller's benchmark, which runs with this pallet in
	/// the runtime.
	fn note_earnings(
		contributors: &[(AccountId, Balance)],
		workers: &[(AccountId, Balance)],
	) -> Weight;
	/// What settling an earlier era first adds to the notes of `accounts` accounts, at most.
	fn settling_weight(accounts: u32) -> Weight;
}

impl<AccountId, Balance> NoteActivity<AccountId, Balance> for () {
	fn note_contributor(_who: &AccountId, _earned: Balance) {}
	fn note_worker(_who: &AccountId, _earned: Balance) {}
	fn note_curator(_who: &AccountId, _accepted: u32) {}
	fn note_author(_who: &AccountId) {}
	fn note_weight() -> Weight {
		Weight::zero()
	}
	fn note_earnings(
		_contributors: &[(AccountId, Balance)],
		_workers: &[(AccountId, Balance)],
	) -> Weight {
		Weight::zero()
	}
	fn settling_weight(_accounts: u32) -> Weight {
		Weight::zero()
	}
}
