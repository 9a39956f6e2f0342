//! Withdrawing pending contributions.

use super::*;
use frame_support::{assert_noop, assert_ok};

#[test]
fn withdrawing_returns_deposit_and_frees_hash() {
	run(|| {
		let d = create_curated();
		let id = contribute(ALICE, d, 1);
		assert_ok!(Datanets::withdraw(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(status_of(id), ContributionStatus::Withdrawn { at: 1 });
		assert_eq!(held_for_contributions(ALICE), 0);
		assert_eq!(free(ALICE), INITIAL_BALANCE);
		assert_eq!(datanet(d).counters.pending, 0);
		assert_eq!(contributor(d, ALICE).pending, 0);
		assert_eq!(contributor(d, ALICE).reputation, 0);
		assert_eq!(ContentHashes::<Test>::get(d, content(1)), None);
		assert_eq!(
			last_event(),
			Event::ContributionWithdrawn {
				contribution: id,
				datanet: d,
				contributor: ALICE,
				deposit_released: CONTRIBUTION_DEPOSIT,
			}
		);
		// The same content may come again, as a new contribution.
		let again = contribute(ALICE, d, 1);
		assert_ne!(again, id);
		assert_eq!(ContentHashes::<Test>::get(d, content(1)), Some(again));
	});
}

#[test]
fn withdrawal_works_while_paused() {
	run(|| {
		let d = create(OWNER);
		let id = contribute(ALICE, d, 1);
		assert_ok!(Datanets::pause_datanet(RuntimeOrigin::signed(OWNER), d));
		assert_ok!(Datanets::withdraw(RuntimeOrigin::signed(ALICE), id));
		assert_ok!(Datanets::close_datanet(RuntimeOrigin::signed(OWNER), d));
	});
}

#[test]
fn rejects_withdrawal_by_someone_else() {
	run(|| {
		let d = create_curated();
		let id = contribute(ALICE, d, 1);
		for who in [BOB, CURATOR, OWNER] {
			assert_noop!(
				Datanets::withdraw(RuntimeOrigin::signed(who), id),
				Error::<Test>::NotContributor
			);
		}
	});
}

#[test]
fn rejects_withdrawal_of_curated_contribution() {
	run(|| {
		let d = create_curated();
		let accepted = contribute(ALICE, d, 1);
		let rejected = contribute(ALICE, d, 2);
		let withdrawn = contribute(ALICE, d, 3);
		accept(CURATOR, accepted);
		reject(CURATOR, rejected);
		assert_ok!(Datanets::withdraw(RuntimeOrigin::signed(ALICE), withdrawn));
		for id in [accepted, rejected, withdrawn] {
			assert_noop!(
				Datanets::withdraw(RuntimeOrigin::signed(ALICE), id),
				Error::<Test>::ContributionNotPending
			);
		}
	});
}

#[test]
fn rejects_withdrawal_of_missing_contribution() {
	run(|| {
		assert_noop!(
			Datanets::withdraw(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::ContributionNotFound
		);
	});
}
