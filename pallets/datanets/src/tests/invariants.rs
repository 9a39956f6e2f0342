//! `try_state` notices broken invariants (every other test checks that it passes).

use super::*;
use frame_support::{assert_ok, traits::fungible::MutateHold};

/// A Datanet with one accepted and one pending contribution and a snapshot.
fn populated() -> DatanetId {
	let d = create_curated();
	accept(CURATOR, contribute(ALICE, d, 1));
	contribute(BOB, d, 2);
	snapshot(CURATOR, d);
	assert_ok!(Datanets::do_try_state());
	d
}

#[test]
fn try_state_catches_a_wrong_counter() {
	new_test_ext().execute_with(|| {
		let d = populated();
		DatanetRecords::<Test>::mutate(d, |r| r.as_mut().unwrap().counters.pending = 0);
		assert!(Datanets::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_a_deposit_held_outside_the_records() {
	new_test_ext().execute_with(|| {
		populated();
		assert_ok!(Balances::hold(&HoldReason::ContributionDeposit.into(), &BOB, 1));
		assert!(Datanets::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_a_tampered_snapshot_root() {
	new_test_ext().execute_with(|| {
		populated();
		Snapshots::<Test>::mutate(0, |s| s.as_mut().unwrap().root = H256::zero());
		assert!(Datanets::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_a_contribution_moved_in_the_acceptance_order() {
	new_test_ext().execute_with(|| {
		let d = populated();
		AcceptedContributions::<Test>::insert(d, 0, 1);
		assert!(Datanets::do_try_state().is_err());
	});
}
