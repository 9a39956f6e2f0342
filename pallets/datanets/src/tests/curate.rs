//! Accepting and rejecting pending contributions.

use super::*;
use frame_support::{assert_noop, assert_ok};

#[test]
fn accepting_releases_deposit_and_raises_reputation() {
	run(|| {
		let d = create_curated();
		let id = contribute(ALICE, d, 1);
		accept(CURATOR, id);
		assert_eq!(status_of(id), ContributionStatus::Accepted { position: 0, at: 1 });
		assert_eq!(held_for_contributions(ALICE), 0);
		assert_eq!(free(ALICE), INITIAL_BALANCE);
		assert_eq!(
			contributor(d, ALICE),
			ContributorInfo {
				reputation: REWARD,
				pending: 0,
				accepted: 1,
				rejected: 0,
				barred: false
			}
		);
		let counters = datanet(d).counters;
		assert_eq!((counters.pending, counters.accepted), (0, 1));
		assert_eq!(counters.accepted_bytes, size_of(1));
		assert_eq!(AcceptedContributions::<Test>::get(d, 0), Some(id));
		assert_eq!(
			last_event(),
			Event::ContributionAccepted {
				contribution: id,
				datanet: d,
				contributor: ALICE,
				curator: CURATOR,
				position: 0,
				leaf: merkle::leaf_hash(id, &content(1), size_of(1)),
				deposit_released: CONTRIBUTION_DEPOSIT,
				reputation: REWARD,
			}
		);
	});
}

#[test]
fn owner_curates_too() {
	run(|| {
		let d = create(OWNER);
		let id = contribute(ALICE, d, 1);
		accept(OWNER, id);
		assert_eq!(status_of(id), ContributionStatus::Accepted { position: 0, at: 1 });
	});
}

#[test]
fn acceptance_order_is_curation_order() {
	run(|| {
		let d = create_curated();
		let first = contribute(ALICE, d, 1);
		let second = contribute(BOB, d, 2);
		accept(CURATOR, second);
		accept(CURATOR, first);
		assert_eq!(AcceptedContributions::<Test>::get(d, 0), Some(second));
		assert_eq!(AcceptedContributions::<Test>::get(d, 1), Some(first));
		assert_eq!(Contributions::<Test>::get(first).unwrap().accepted_position(), Some(1));
	});
}

#[test]
fn rejecting_slashes_deposit_to_treasury_and_curator() {
	run(|| {
		let d = create_curated();
		let id = contribute(ALICE, d, 1);
		let curator_before = free(CURATOR);
		assert_ok!(Datanets::curate(RuntimeOrigin::signed(CURATOR), id, Verdict::Reject(4)));
		// 30% of 10 to the treasury, the rest to the curator.
		assert_eq!(free(TREASURY), 3);
		assert_eq!(free(CURATOR), curator_before + 7);
		assert_eq!(held_for_contributions(ALICE), 0);
		assert_eq!(free(ALICE), INITIAL_BALANCE - CONTRIBUTION_DEPOSIT);
		assert_eq!(status_of(id), ContributionStatus::Rejected { reason: 4, at: 1 });
		assert_eq!(contributor(d, ALICE).reputation, -PENALTY);
		assert_eq!(contributor(d, ALICE).rejected, 1);
		assert_eq!(datanet(d).counters.pending, 0);
		assert_eq!(datanet(d).counters.accepted, 0);
		assert_eq!(
			last_event(),
			Event::ContributionRejected {
				contribution: id,
				datanet: d,
				contributor: ALICE,
				curator: CURATOR,
				reason: 4,
				to_treasury: 3,
				to_curator: 7,
				reputation: -PENALTY,
			}
		);
	});
}

#[test]
fn treasury_share_goes_to_curator_when_treasury_cannot_receive_it() {
	run(|| {
		let d = create_curated();
		let id = contribute(ALICE, d, 1);
		// The treasury does not exist and 3 is below the existential deposit.
		ExistentialDeposit::set(5);
		let curator_before = free(CURATOR);
		reject(CURATOR, id);
		assert_eq!(free(TREASURY), 0);
		assert_eq!(free(CURATOR), curator_before + CONTRIBUTION_DEPOSIT);
		assert!(matches!(
			last_event(),
			Event::ContributionRejected { to_treasury: 0, to_curator: CONTRIBUTION_DEPOSIT, .. }
		));
	});
}

#[test]
fn curation_goes_on_while_paused() {
	run(|| {
		let d = create_curated();
		let first = contribute(ALICE, d, 1);
		let second = contribute(ALICE, d, 2);
		assert_ok!(Datanets::pause_datanet(RuntimeOrigin::signed(OWNER), d));
		accept(CURATOR, first);
		reject(CURATOR, second);
	});
}

#[test]
fn rejects_curating_missing_contribution() {
	run(|| {
		create_curated();
		assert_noop!(
			Datanets::curate(RuntimeOrigin::signed(CURATOR), 5, Verdict::Accept),
			Error::<Test>::ContributionNotFound
		);
	});
}

#[test]
fn rejects_curating_twice() {
	run(|| {
		let d = create_curated();
		let accepted = contribute(ALICE, d, 1);
		let rejected = contribute(ALICE, d, 2);
		accept(CURATOR, accepted);
		reject(CURATOR, rejected);
		for id in [accepted, rejected] {
			for verdict in [Verdict::Accept, Verdict::Reject(1)] {
				assert_noop!(
					Datanets::curate(RuntimeOrigin::signed(CURATOR), id, verdict),
					Error::<Test>::ContributionNotPending
				);
			}
		}
	});
}

#[test]
fn rejects_curation_by_non_curator() {
	run(|| {
		let d = create_curated();
		let id = contribute(ALICE, d, 1);
		assert_noop!(
			Datanets::curate(RuntimeOrigin::signed(STRANGER), id, Verdict::Reject(1)),
			Error::<Test>::NotCurator
		);
		// A removed curator loses the right.
		assert_ok!(Datanets::remove_curator(RuntimeOrigin::signed(OWNER), d, CURATOR));
		assert_noop!(
			Datanets::curate(RuntimeOrigin::signed(CURATOR), id, Verdict::Accept),
			Error::<Test>::NotCurator
		);
	});
}

#[test]
fn rejects_curating_own_contribution() {
	run(|| {
		let d = create_curated();
		let by_curator = contribute(CURATOR, d, 1);
		let by_owner = contribute(OWNER, d, 2);
		assert_noop!(
			Datanets::curate(RuntimeOrigin::signed(CURATOR), by_curator, Verdict::Accept),
			Error::<Test>::CannotCurateOwnContribution
		);
		assert_noop!(
			Datanets::curate(RuntimeOrigin::signed(OWNER), by_owner, Verdict::Reject(1)),
			Error::<Test>::CannotCurateOwnContribution
		);
		// Each may curate the other's.
		accept(OWNER, by_curator);
		accept(CURATOR, by_owner);
	});
}
