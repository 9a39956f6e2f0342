//! Money is conserved: stakes, escrow, payouts, slashes and refunds only move funds.

use super::*;
use frame_support::assert_ok;

fn everyone() -> Vec<AccountId> {
	[REQUESTER, OTHER_REQUESTER, STRANGER, TREASURY].into_iter().chain(10..20).collect()
}

fn total_of_everyone() -> Balance {
	everyone()
		.into_iter()
		.map(|who| <Balances as frame_support::traits::fungible::Inspect<_>>::total_balance(&who))
		.sum()
}

#[test]
fn total_issuance_is_conserved_on_every_path() {
	run(|| {
		let issuance = Balances::total_issuance();
		let sum = total_of_everyone();
		register_all(&[W1, W2, W3, W4, W5, W6]);

		// Completed with a disagreeing minority.
		let agreed = create(3);
		let workers = assigned(agreed);
		submit(workers[0], agreed, hash(1));
		submit(workers[1], agreed, hash(2));
		submit(workers[2], agreed, hash(1));
		assert_eq!(Balances::total_issuance(), issuance);

		// Escalated on a tie, then failed with a refund.
		let tied = create_by(OTHER_REQUESTER, 2, 200);
		for _ in 0..=MAX_ESCALATIONS {
			let fresh: Vec<_> = assigned(tied)
				.into_iter()
				.filter(|w| !Results::<Test>::contains_key(tied, w))
				.collect();
			if fresh.len() < 2 {
				break;
			}
			submit(fresh[0], tied, hash(1));
			submit(fresh[1], tied, hash(2));
		}
		assert_eq!(Balances::total_issuance(), issuance);

		// Missed deadlines, reassignment and settlement on what was reported.
		let missed = create(2);
		submit(assigned(missed)[0], missed, hash(4));
		let mut block = System::block_number();
		while job(missed).is_pending() {
			block += 1;
			run_to_block(block);
		}
		assert_eq!(Balances::total_issuance(), issuance);

		// A worker leaves.
		let leaver = W6;
		if Workers::<Test>::get(leaver).unwrap().is_active() {
			assert_ok!(Compute::unregister(RuntimeOrigin::signed(leaver)));
		}
		while !WorkerJobs::<Test>::get(leaver).is_empty() {
			block += 1;
			run_to_block(block);
		}
		let WorkerStatus::Unbonding { until } = Workers::<Test>::get(leaver).unwrap().status else {
			panic!("the leaver is unbonding");
		};
		run_to_block(until.max(block));
		assert_ok!(Compute::withdraw_stake(RuntimeOrigin::signed(leaver)));

		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(total_of_everyone(), sum);
		for who in [REQUESTER, OTHER_REQUESTER] {
			assert_eq!(held_escrow(who), 0);
		}
	});
}

#[test]
fn issuance_is_conserved_when_the_treasury_cannot_take_a_share() {
	run(|| {
		TreasuryAccount::set(98);
		ExistentialDeposit::set(60);
		let issuance = Balances::total_issuance();
		register_all(&[W1, W2, W3]);
		let id = create(3);
		submit(W1, id, hash(1));
		submit(W2, id, hash(2));
		submit(W3, id, hash(1));
		let late = create(1);
		run_to_block(job(late).deadline);
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(free(98), 0);
	});
}
