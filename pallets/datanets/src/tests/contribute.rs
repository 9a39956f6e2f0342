//! Submitting contributions and every reason one is refused.

use super::*;
use frame_support::{assert_noop, assert_ok};
use sp_runtime::{DispatchError, TokenError};

fn try_contribute(
	who: AccountId,
	datanet: DatanetId,
	hash: H256,
	size: u64,
	media_type: MediaTypeOf<Test>,
) -> sp_runtime::DispatchResult {
	Datanets::contribute(
		RuntimeOrigin::signed(who),
		datanet,
		hash,
		size,
		media_type,
		bytes(b"https://example.org/data.txt"),
		bytes(b""),
	)
}

#[test]
fn contribution_holds_deposit_and_records_everything() {
	run(|| {
		let d = create(OWNER);
		let id = contribute(ALICE, d, 7);
		assert_eq!(id, 0);
		let c = Contributions::<Test>::get(id).unwrap();
		assert_eq!(c.datanet, d);
		assert_eq!(c.index, 0);
		assert_eq!(c.contributor, ALICE);
		assert_eq!(c.content_hash, content(7));
		assert_eq!(c.size, size_of(7));
		assert_eq!(c.media_type, text());
		assert_eq!(c.locator.to_vec(), b"ipfs://bafy/contribution".to_vec());
		assert_eq!(c.deposit, CONTRIBUTION_DEPOSIT);
		assert_eq!(c.status, ContributionStatus::Pending);
		assert_eq!(held_for_contributions(ALICE), CONTRIBUTION_DEPOSIT);
		assert_eq!(free(ALICE), INITIAL_BALANCE - CONTRIBUTION_DEPOSIT);
		assert_eq!(DatanetContributions::<Test>::get(d, 0), Some(id));
		assert_eq!(ContentHashes::<Test>::get(d, content(7)), Some(id));
		assert_eq!(datanet(d).counters.submitted, 1);
		assert_eq!(datanet(d).counters.pending, 1);
		assert_eq!(contributor(d, ALICE).pending, 1);
		assert_eq!(
			last_event(),
			Event::ContributionSubmitted {
				contribution: id,
				datanet: d,
				index: 0,
				contributor: ALICE,
				content_hash: content(7),
				size: size_of(7),
				media_type: text(),
				locator: c.locator,
				metadata: c.metadata,
				deposit: CONTRIBUTION_DEPOSIT,
			}
		);
	});
}

#[test]
fn contribution_ids_are_global_and_indexes_per_datanet() {
	run(|| {
		let first = create(OWNER);
		let second = create(OWNER);
		assert_eq!(contribute(ALICE, first, 1), 0);
		assert_eq!(contribute(ALICE, second, 2), 1);
		assert_eq!(contribute(BOB, first, 3), 2);
		assert_eq!(Contributions::<Test>::get(2).unwrap().index, 1);
		assert_eq!(Contributions::<Test>::get(1).unwrap().index, 0);
	});
}

#[test]
fn accepts_contribution_at_the_size_limit() {
	run(|| {
		let d = create(OWNER);
		assert_ok!(try_contribute(ALICE, d, content(1), 1_000, jsonl()));
	});
}

#[test]
fn rejects_contribution_to_missing_datanet() {
	run(|| {
		assert_noop!(
			try_contribute(ALICE, 3, content(1), 10, text()),
			Error::<Test>::DatanetNotFound
		);
	});
}

#[test]
fn rejects_contribution_to_paused_or_closed_datanet() {
	run(|| {
		let d = create(OWNER);
		assert_ok!(Datanets::pause_datanet(RuntimeOrigin::signed(OWNER), d));
		assert_noop!(
			try_contribute(ALICE, d, content(1), 10, text()),
			Error::<Test>::DatanetNotOpen
		);
		assert_ok!(Datanets::close_datanet(RuntimeOrigin::signed(OWNER), d));
		assert_noop!(
			try_contribute(ALICE, d, content(1), 10, text()),
			Error::<Test>::DatanetNotOpen
		);
	});
}

#[test]
fn rejects_empty_contribution() {
	run(|| {
		let d = create(OWNER);
		assert_noop!(
			try_contribute(ALICE, d, content(1), 0, text()),
			Error::<Test>::EmptyContribution
		);
	});
}

#[test]
fn rejects_contribution_over_size_limit() {
	run(|| {
		let d = create(OWNER);
		assert_noop!(
			try_contribute(ALICE, d, content(1), 1_001, text()),
			Error::<Test>::ContributionTooLarge
		);
	});
}

#[test]
fn rejects_media_type_not_allowed() {
	run(|| {
		let d = create(OWNER);
		assert_noop!(
			try_contribute(ALICE, d, content(1), 10, bytes(b"image/png")),
			Error::<Test>::MediaTypeNotAllowed
		);
	});
}

#[test]
fn rejects_duplicate_contribution() {
	run(|| {
		let d = create_curated();
		let id = contribute(ALICE, d, 1);
		// Pending, from anyone.
		assert_noop!(
			try_contribute(BOB, d, content(1), 10, text()),
			Error::<Test>::DuplicateContribution
		);
		// Accepted.
		accept(CURATOR, id);
		assert_noop!(
			try_contribute(ALICE, d, content(1), 10, text()),
			Error::<Test>::DuplicateContribution
		);
	});
}

#[test]
fn rejected_content_stays_refused() {
	run(|| {
		let d = create_curated();
		let id = contribute(ALICE, d, 1);
		reject(CURATOR, id);
		assert_noop!(
			try_contribute(BOB, d, content(1), 10, text()),
			Error::<Test>::DuplicateContribution
		);
	});
}

#[test]
fn same_content_may_go_to_different_datanets() {
	run(|| {
		let first = create(OWNER);
		let second = create(OWNER);
		contribute(ALICE, first, 1);
		contribute(ALICE, second, 1);
		assert_eq!(held_for_contributions(ALICE), 2 * CONTRIBUTION_DEPOSIT);
	});
}

#[test]
fn rejects_too_many_pending_contributions_from_one_account() {
	run(|| {
		let d = create_curated();
		for n in 0..u64::from(MAX_PENDING) {
			contribute(ALICE, d, n);
		}
		assert_noop!(
			try_contribute(ALICE, d, content(99), 10, text()),
			Error::<Test>::TooManyPendingContributions
		);
		// Others are not affected, and curation frees a slot.
		contribute(BOB, d, 99);
		accept(CURATOR, 0);
		contribute(ALICE, d, 100);
	});
}

#[test]
fn rejects_contribution_to_full_datanet() {
	run(|| {
		let d = create_curated();
		let contributors = [ALICE, BOB, CHARLIE, DAVE];
		for n in 0..u64::from(MAX_ACCEPTED) {
			let id = contribute(contributors[(n % 4) as usize], d, n);
			if n % 2 == 0 {
				accept(CURATOR, id);
			}
		}
		// Five accepted and five pending fill it.
		assert_noop!(
			try_contribute(STRANGER, d, content(1_000), 10, text()),
			Error::<Test>::DatanetFull
		);
		// A rejection frees room; acceptances never do.
		reject(CURATOR, 1);
		assert_ok!(try_contribute(STRANGER, d, content(1_000), 10, text()));
	});
}

#[test]
fn rejects_contribution_when_deposit_cannot_be_paid() {
	run(|| {
		let d = create(OWNER);
		let poor = 42;
		assert_ok!(Balances::force_set_balance(RuntimeOrigin::root(), poor, CONTRIBUTION_DEPOSIT));
		assert_noop!(
			try_contribute(poor, d, content(1), 10, text()),
			DispatchError::Token(TokenError::FundsUnavailable)
		);
	});
}
