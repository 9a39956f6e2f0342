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
	/// `who` completed `work` units of job work.
	fn note_worker(who: &AccountId, work: u64);
	/// `who` accepted `accepted` contributions as a curator.
	fn note_curator(who: &AccountId, accepted: u32);
	/// `who` authored a block.
	fn note_author(who: &AccountId);
	/// The most one note costs, for the caller to charge.
	fn note_weight() -> Weight;
}

impl<AccountId, Balance> NoteActivity<AccountId, Balance> for () {
	fn note_contributor(_who: &AccountId, _earned: Balance) {}
	fn note_worker(_who: &AccountId, _work: u64) {}
	fn note_curator(_who: &AccountId, _accepted: u32) {}
	fn note_author(_who: &AccountId) {}
	fn note_weight() -> Weight {
		Weight::zero()
	}
}
