//! Money is conserved: deposits, releases, slashes and fees only move funds.

use super::*;
use crate::traits::DatanetsInspect;
use frame_support::assert_ok;

#[test]
fn total_issuance_is_conserved_on_every_path() {
	run(|| {
		let issuance = Balances::total_issuance();
		let d = create_with(OWNER, AccessPolicy::FeePerUse(40));
		assert_ok!(Datanets::add_curator(RuntimeOrigin::signed(OWNER), d, CURATOR));
		let accepted = contribute(ALICE, d, 1);
		let rejected = contribute(BOB, d, 2);
		let withdrawn = contribute(CHARLIE, d, 3);
		assert_eq!(Balances::total_issuance(), issuance);

		accept(CURATOR, accepted);
		reject(CURATOR, rejected);
		assert_ok!(Datanets::withdraw(RuntimeOrigin::signed(CHARLIE), withdrawn));
		let s = snapshot(CURATOR, d);
		assert_ok!(<Datanets as DatanetsInspect<_, _>>::charge_training_access(&STRANGER, s));
		assert_ok!(Datanets::close_datanet(RuntimeOrigin::signed(OWNER), d));
		assert_eq!(Balances::total_issuance(), issuance);

		// Where each unit went: Bob's deposit to the treasury and the curator, the fee to the owner.
		assert_eq!(free(BOB), INITIAL_BALANCE - CONTRIBUTION_DEPOSIT);
		assert_eq!(free(TREASURY) + free(CURATOR), INITIAL_BALANCE + CONTRIBUTION_DEPOSIT);
		assert_eq!(free(OWNER), INITIAL_BALANCE + 40);
		assert_eq!(free(STRANGER), INITIAL_BALANCE - 40);
		for who in [ALICE, CHARLIE] {
			assert_eq!(free(who), INITIAL_BALANCE);
		}
		for who in [OWNER, ALICE, BOB, CHARLIE] {
			assert_eq!(held_for_datanets(who) + held_for_contributions(who), 0);
		}
	});
}

#[test]
fn issuance_is_conserved_when_the_treasury_share_goes_to_the_curator() {
	run(|| {
		let issuance = Balances::total_issuance();
		let d = create_curated();
		let id = contribute(ALICE, d, 1);
		ExistentialDeposit::set(5);
		reject(CURATOR, id);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}
