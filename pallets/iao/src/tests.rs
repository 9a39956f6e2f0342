//! Unit tests. Every test runs through [`run`], which checks the pallet's invariants
//! (`try_state`) afterwards, and [`conserving`], which checks that total issuance is unchanged.

#![allow(
	clippy::arithmetic_side_effects,
	clippy::expect_used,
	clippy::indexing_slicing,
	clippy::unwrap_used
)]

use crate::{mock::*, traits::ModelRevenue, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Inspect, Mutate},
		fungibles::Inspect as AssetsInspect,
		tokens::Preservation,
	},
	BoundedVec,
};
use sp_runtime::{DispatchError, Perbill};

const MODEL: ModelId = 1;
const OWNER: AccountId = 10;
const ALICE: AccountId = 1;
const BOB: AccountId = 2;
const CAROL: AccountId = 3;
/// Pays revenue in the tests (as pallet-attribution would).
const PAYER: AccountId = 9;
const OFFERING: OfferingId = 0;
const PRICE: Balance = 10;
const END: u64 = 20;

fn tranches(percents: &[u32]) -> TranchesOf<Test> {
	BoundedVec::truncate_from(percents.iter().map(|p| Perbill::from_percent(*p)).collect())
}

/// 1000 shares at 10, soft cap 2000, hard cap 8000, blocks 1..=20, 80 % of revenue to
/// shareholders, escrow in tranches of 40/30/30 %.
fn terms() -> OfferingTermsOf<Test> {
	OfferingTerms {
		total_shares: 1_000,
		price: PRICE,
		soft_cap: 2_000,
		hard_cap: 8_000,
		start: 1,
		end: END,
		revenue_share: Perbill::from_percent(80),
		tranches: tranches(&[40, 30, 30]),
	}
}

/// Model 1 (owner 10, versions 1 and 2, 1 active) with offering 0 on [`terms`].
fn create() {
	add_model(MODEL, OWNER, &[1, 2]);
	assert_ok!(Iao::create_offering(RuntimeOrigin::signed(OWNER), MODEL, terms()));
}

fn buy(who: AccountId, shares: Balance) {
	assert_ok!(Iao::buy(RuntimeOrigin::signed(who), OFFERING, shares));
}

fn go_to(n: u64) {
	System::set_block_number(n);
}

/// [`create`], Alice buys 300 shares and Bob 100 (4000 raised), finalized after the window,
/// both claim their shares.
fn succeed() {
	create();
	buy(ALICE, 300);
	buy(BOB, 100);
	go_to(END + 1);
	assert_ok!(Iao::finalize(RuntimeOrigin::signed(CAROL), OFFERING));
	assert_ok!(Iao::claim_shares(RuntimeOrigin::signed(CAROL), OFFERING, ALICE));
	assert_ok!(Iao::claim_shares(RuntimeOrigin::signed(CAROL), OFFERING, BOB));
}

fn pay_revenue(amount: Balance) {
	assert_ok!(Balances::transfer(
		&PAYER,
		&Iao::revenue_account_of(OFFERING),
		amount,
		Preservation::Preserve
	));
}

fn balance(who: AccountId) -> Balance {
	Balances::balance(&who)
}

fn shares(who: AccountId) -> Balance {
	Assets::balance(ASSET_BASE + OFFERING, who)
}

fn offering() -> OfferingOf<Test> {
	Offerings::<Test>::get(OFFERING).unwrap()
}

fn iao_events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Iao(e) => Some(e),
			_ => None,
		})
		.collect()
}

/// Runs `test` through [`run`] and checks that total issuance did not change.
fn conserving(test: impl FnOnce()) {
	run(|| {
		let before = Balances::total_issuance();
		test();
		assert_eq!(Balances::total_issuance(), before, "total issuance conserved");
	});
}

/// Proposes `kind` as Alice (300 of 400 shares); returns its id.
fn propose(kind: ProposalKind) -> ProposalId {
	let id = NextProposalId::<Test>::get();
	assert_ok!(Iao::propose(RuntimeOrigin::signed(ALICE), OFFERING, kind));
	id
}

// ---- Creating ------------------------------------------------------------------------------

#[test]
fn creates_offering_with_share_asset_and_account_deposits() {
	conserving(|| {
		create();
		let o = offering();
		assert_eq!(o.status, OfferingStatus::Raising);
		assert_eq!((o.model, o.owner, o.asset), (MODEL, OWNER, ASSET_BASE));
		assert!(Assets::asset_exists(ASSET_BASE));
		assert_eq!(ModelOfferings::<Test>::get(MODEL), Some(OFFERING));
		assert_eq!(balance(OWNER), INITIAL_BALANCE - 2 * ED);
		assert_eq!(Balances::balance(&Iao::fund_account(OFFERING)), ED);
		assert_eq!(Balances::balance(&Iao::revenue_account_of(OFFERING)), ED);
		assert_ne!(Iao::fund_account(OFFERING), Iao::revenue_account_of(OFFERING));
		assert_eq!(NextOfferingId::<Test>::get(), 1);
		assert!(matches!(
			iao_events().last(),
			Some(Event::OfferingCreated { offering: OFFERING, model: MODEL, owner: OWNER, .. })
		));
	});
}

#[test]
fn rejects_offering_by_non_owner_or_for_unknown_model() {
	conserving(|| {
		add_model(MODEL, OWNER, &[1]);
		assert_noop!(
			Iao::create_offering(RuntimeOrigin::signed(ALICE), MODEL, terms()),
			Error::<Test>::NotModelOwner
		);
		assert_noop!(
			Iao::create_offering(RuntimeOrigin::signed(OWNER), 7, terms()),
			Error::<Test>::NotModelOwner
		);
	});
}

#[test]
fn rejects_second_offering_for_the_same_model() {
	conserving(|| {
		create();
		assert_noop!(
			Iao::create_offering(RuntimeOrigin::signed(OWNER), MODEL, terms()),
			Error::<Test>::ModelHasOffering
		);
	});
}

#[test]
fn rejects_bad_caps() {
	conserving(|| {
		add_model(MODEL, OWNER, &[1]);
		let bad = [
			OfferingTerms { price: 0, ..terms() },
			OfferingTerms { total_shares: 0, ..terms() },
			OfferingTerms { soft_cap: PRICE - 1, ..terms() },
			OfferingTerms { soft_cap: 9_000, ..terms() },
			OfferingTerms { hard_cap: 10_001, ..terms() },
		];
		for t in bad {
			assert_noop!(
				Iao::create_offering(RuntimeOrigin::signed(OWNER), MODEL, t),
				Error::<Test>::InvalidCaps
			);
		}
		assert_noop!(
			Iao::create_offering(
				RuntimeOrigin::signed(OWNER),
				MODEL,
				OfferingTerms { total_shares: Balance::MAX, price: 2, ..terms() }
			),
			Error::<Test>::Overflow
		);
	});
}

#[test]
fn rejects_bad_window() {
	conserving(|| {
		add_model(MODEL, OWNER, &[1]);
		go_to(5);
		let bad = [
			OfferingTerms { start: 4, ..terms() },
			OfferingTerms { start: 10, end: 9, ..terms() },
			OfferingTerms { start: 10, end: 10 + MAX_WINDOW + 1, ..terms() },
		];
		for t in bad {
			assert_noop!(
				Iao::create_offering(RuntimeOrigin::signed(OWNER), MODEL, t),
				Error::<Test>::InvalidWindow
			);
		}
	});
}

#[test]
fn rejects_bad_tranches() {
	conserving(|| {
		add_model(MODEL, OWNER, &[1]);
		for t in [tranches(&[]), tranches(&[50, 40]), tranches(&[60, 50])] {
			assert_noop!(
				Iao::create_offering(
					RuntimeOrigin::signed(OWNER),
					MODEL,
					OfferingTerms { tranches: t, ..terms() }
				),
				Error::<Test>::InvalidTranches
			);
		}
	});
}

// ---- Buying --------------------------------------------------------------------------------

#[test]
fn buy_moves_open_into_the_fund_and_records_the_purchase() {
	conserving(|| {
		create();
		buy(ALICE, 30);
		buy(ALICE, 20);
		buy(BOB, 10);
		assert_eq!(balance(ALICE), INITIAL_BALANCE - 500);
		assert_eq!(Balances::balance(&Iao::fund_account(OFFERING)), ED + 600);
		assert_eq!(Purchases::<Test>::get(OFFERING, ALICE), Some(500));
		let o = offering();
		assert_eq!((o.raised, o.shares_sold, o.backers), (600, 60, 2));
		assert_eq!(
			iao_events().last(),
			Some(&Event::Purchased {
				offering: OFFERING,
				who: BOB,
				shares: 10,
				cost: 100,
				raised: 600
			})
		);
	});
}

#[test]
fn rejects_purchase_outside_the_window() {
	conserving(|| {
		add_model(MODEL, OWNER, &[1]);
		assert_ok!(Iao::create_offering(
			RuntimeOrigin::signed(OWNER),
			MODEL,
			OfferingTerms { start: 5, ..terms() }
		));
		assert_noop!(
			Iao::buy(RuntimeOrigin::signed(ALICE), OFFERING, 1),
			Error::<Test>::OutsideWindow
		);
		go_to(END + 1);
		assert_noop!(
			Iao::buy(RuntimeOrigin::signed(ALICE), OFFERING, 1),
			Error::<Test>::OutsideWindow
		);
		go_to(END);
		buy(ALICE, 1);
	});
}

#[test]
fn rejects_purchase_over_the_hard_cap_zero_or_of_unknown_offering() {
	conserving(|| {
		create();
		buy(ALICE, 700);
		assert_noop!(
			Iao::buy(RuntimeOrigin::signed(BOB), OFFERING, 101),
			Error::<Test>::OverHardCap
		);
		assert_noop!(Iao::buy(RuntimeOrigin::signed(BOB), OFFERING, 0), Error::<Test>::ZeroShares);
		assert_noop!(Iao::buy(RuntimeOrigin::signed(BOB), 5, 1), Error::<Test>::UnknownOffering);
		assert_noop!(
			Iao::buy(RuntimeOrigin::signed(BOB), OFFERING, Balance::MAX),
			Error::<Test>::Overflow
		);
		buy(BOB, 100);
		assert_eq!(offering().raised, 8_000);
	});
}

// ---- Finalizing ----------------------------------------------------------------------------

#[test]
fn finalize_is_refused_before_the_end_and_twice() {
	conserving(|| {
		create();
		buy(ALICE, 300);
		go_to(END);
		assert_noop!(Iao::finalize(RuntimeOrigin::signed(BOB), OFFERING), Error::<Test>::TooEarly);
		go_to(END + 1);
		assert_ok!(Iao::finalize(RuntimeOrigin::signed(BOB), OFFERING));
		assert_noop!(
			Iao::finalize(RuntimeOrigin::signed(BOB), OFFERING),
			Error::<Test>::AlreadyFinalized
		);
		assert_noop!(Iao::buy(RuntimeOrigin::signed(BOB), OFFERING, 1), Error::<Test>::NotRaising);
		assert_noop!(Iao::finalize(RuntimeOrigin::signed(BOB), 9), Error::<Test>::UnknownOffering);
	});
}

#[test]
fn finalize_is_allowed_early_once_the_hard_cap_is_reached() {
	conserving(|| {
		create();
		buy(ALICE, 800);
		assert_ok!(Iao::finalize(RuntimeOrigin::signed(BOB), OFFERING));
		assert_eq!(offering().status, OfferingStatus::Succeeded);
	});
}

#[test]
fn successful_offering_issues_shares_and_releases_the_first_tranche() {
	conserving(|| {
		create();
		buy(ALICE, 300);
		buy(BOB, 100);
		go_to(END + 1);
		let owner_before = balance(OWNER);
		assert_ok!(Iao::finalize(RuntimeOrigin::signed(CAROL), OFFERING));
		let o = offering();
		assert_eq!(o.status, OfferingStatus::Succeeded);
		// 40 % of 4000 to the owner, 2400 left in escrow.
		assert_eq!(balance(OWNER), owner_before + 1_600);
		assert_eq!((o.escrow_left, o.tranches_released), (2_400, 1));
		assert_eq!(Balances::balance(&Iao::fund_account(OFFERING)), ED + 2_400);
		assert!(iao_events().contains(&Event::OfferingSucceeded {
			offering: OFFERING,
			raised: 4_000,
			shares_sold: 400
		}));

		assert_ok!(Iao::claim_shares(RuntimeOrigin::signed(CAROL), OFFERING, ALICE));
		assert_eq!(shares(ALICE), 300);
		assert_eq!(Holdings::<Test>::get(OFFERING, ALICE).unwrap().shares, 300);
		assert_eq!(Purchases::<Test>::get(OFFERING, ALICE), None);
		assert_noop!(
			Iao::claim_shares(RuntimeOrigin::signed(CAROL), OFFERING, ALICE),
			Error::<Test>::NoPurchase
		);
		assert_noop!(
			Iao::refund(RuntimeOrigin::signed(CAROL), OFFERING, BOB),
			Error::<Test>::NotFailed
		);
		assert_ok!(Iao::claim_shares(RuntimeOrigin::signed(CAROL), OFFERING, BOB));
		assert_eq!(Assets::total_issuance(ASSET_BASE), 400);
	});
}

#[test]
fn failed_offering_refunds_every_backer_in_full_and_the_owner_gets_nothing() {
	conserving(|| {
		create();
		buy(ALICE, 100);
		buy(BOB, 50);
		buy(ALICE, 40);
		go_to(END + 1);
		let owner_before = balance(OWNER);
		assert_ok!(Iao::finalize(RuntimeOrigin::signed(CAROL), OFFERING));
		assert_eq!(offering().status, OfferingStatus::Failed);
		assert_eq!(ModelOfferings::<Test>::get(MODEL), None);
		assert_noop!(
			Iao::claim_shares(RuntimeOrigin::signed(CAROL), OFFERING, ALICE),
			Error::<Test>::NotSucceeded
		);
		assert_ok!(Iao::refund(RuntimeOrigin::signed(CAROL), OFFERING, ALICE));
		assert_ok!(Iao::refund(RuntimeOrigin::signed(CAROL), OFFERING, BOB));
		assert_eq!(balance(ALICE), INITIAL_BALANCE);
		assert_eq!(balance(BOB), INITIAL_BALANCE);
		assert_eq!(balance(OWNER), owner_before);
		assert_eq!(Balances::balance(&Iao::fund_account(OFFERING)), ED);
		assert_eq!(offering().refunded, 1_900);
		assert_eq!(Assets::total_issuance(ASSET_BASE), 0);
		assert_noop!(
			Iao::refund(RuntimeOrigin::signed(CAROL), OFFERING, ALICE),
			Error::<Test>::NoPurchase
		);
		assert_noop!(
			Iao::refund(RuntimeOrigin::signed(CAROL), OFFERING, CAROL),
			Error::<Test>::NoPurchase
		);
		// The owner may try again.
		assert_ok!(Iao::create_offering(
			RuntimeOrigin::signed(OWNER),
			MODEL,
			OfferingTerms { start: END + 1, end: END + 30, ..terms() }
		));
	});
}

#[test]
fn refund_is_refused_while_raising() {
	conserving(|| {
		create();
		buy(ALICE, 10);
		assert_noop!(
			Iao::refund(RuntimeOrigin::signed(ALICE), OFFERING, ALICE),
			Error::<Test>::NotFailed
		);
	});
}

// ---- Revenue -------------------------------------------------------------------------------

#[test]
fn model_revenue_goes_to_the_offering_only_once_it_succeeded() {
	conserving(|| {
		create();
		assert_eq!(<Iao as ModelRevenue<AccountId>>::revenue_account(MODEL), None);
		buy(ALICE, 300);
		go_to(END + 1);
		assert_ok!(Iao::finalize(RuntimeOrigin::signed(CAROL), OFFERING));
		assert_eq!(
			<Iao as ModelRevenue<AccountId>>::revenue_account(MODEL),
			Some(Iao::revenue_account_of(OFFERING))
		);
		assert_eq!(<Iao as ModelRevenue<AccountId>>::revenue_account(2), None);
	});
}

#[test]
fn revenue_is_claimed_pro_rata_and_the_owner_takes_its_part() {
	conserving(|| {
		succeed();
		pay_revenue(1_000);
		// 800 to shareholders: Alice 300/400, Bob 100/400; 200 to the owner.
		assert_eq!(Iao::api_position(OFFERING, ALICE).claimable_revenue, 600);
		let (alice, bob, owner) = (balance(ALICE), balance(BOB), balance(OWNER));
		assert_ok!(Iao::claim_revenue(RuntimeOrigin::signed(CAROL), OFFERING, ALICE));
		assert_ok!(Iao::claim_revenue(RuntimeOrigin::signed(CAROL), OFFERING, BOB));
		assert_ok!(Iao::claim_revenue(RuntimeOrigin::signed(CAROL), OFFERING, OWNER));
		assert_eq!(balance(ALICE), alice + 600);
		assert_eq!(balance(BOB), bob + 200);
		assert_eq!(balance(OWNER), owner + 200);
		assert_eq!(Balances::balance(&Iao::revenue_account_of(OFFERING)), ED);
		assert_noop!(
			Iao::claim_revenue(RuntimeOrigin::signed(CAROL), OFFERING, ALICE),
			Error::<Test>::NothingToClaim
		);
		assert_noop!(
			Iao::claim_revenue(RuntimeOrigin::signed(CAROL), OFFERING, CAROL),
			Error::<Test>::NothingToClaim
		);
		assert!(iao_events().contains(&Event::RevenueDistributed {
			offering: OFFERING,
			amount: 1_000,
			to_holders: 800,
			to_owner: 200,
			acc_per_share: 2 * ACC_SCALE,
		}));
	});
}

#[test]
fn rounding_dust_stays_in_the_revenue_account() {
	conserving(|| {
		create();
		buy(ALICE, 100);
		buy(BOB, 100);
		buy(CAROL, 100);
		go_to(END + 1);
		assert_ok!(Iao::finalize(RuntimeOrigin::signed(CAROL), OFFERING));
		for who in [ALICE, BOB, CAROL] {
			assert_ok!(Iao::claim_shares(RuntimeOrigin::signed(who), OFFERING, who));
		}
		// 101 × 80 % = 80 to 300 shares: 80 / 3 is 26 each (26.66…), 2 units of dust.
		pay_revenue(101);
		for who in [ALICE, BOB, CAROL] {
			let before = balance(who);
			assert_ok!(Iao::claim_revenue(RuntimeOrigin::signed(who), OFFERING, who));
			assert_eq!(balance(who), before + 26);
		}
		assert_ok!(Iao::claim_revenue(RuntimeOrigin::signed(OWNER), OFFERING, OWNER));
		assert_eq!(offering().holders_pool, 2);
		assert_eq!(Balances::balance(&Iao::revenue_account_of(OFFERING)), ED + 2);
	});
}

#[test]
fn unclaimed_shares_earn_revenue_from_the_offerings_success() {
	conserving(|| {
		create();
		buy(ALICE, 300);
		buy(BOB, 100);
		go_to(END + 1);
		assert_ok!(Iao::finalize(RuntimeOrigin::signed(CAROL), OFFERING));
		assert_ok!(Iao::claim_shares(RuntimeOrigin::signed(ALICE), OFFERING, ALICE));
		pay_revenue(1_000);
		assert_ok!(Iao::claim_revenue(RuntimeOrigin::signed(ALICE), OFFERING, ALICE));
		pay_revenue(500);
		// Bob claims his shares only now: 200 + 100 of the two payments are his.
		assert_ok!(Iao::claim_shares(RuntimeOrigin::signed(BOB), OFFERING, BOB));
		let before = balance(BOB);
		assert_ok!(Iao::claim_revenue(RuntimeOrigin::signed(BOB), OFFERING, BOB));
		assert_eq!(balance(BOB), before + 300);
	});
}

#[test]
fn distribute_revenue_accounts_new_revenue_and_refuses_when_there_is_none() {
	conserving(|| {
		succeed();
		assert_noop!(
			Iao::distribute_revenue(RuntimeOrigin::signed(CAROL), OFFERING),
			Error::<Test>::NoNewRevenue
		);
		pay_revenue(400);
		assert_ok!(Iao::distribute_revenue(RuntimeOrigin::signed(CAROL), OFFERING));
		let o = offering();
		assert_eq!((o.holders_pool, o.owner_revenue, o.revenue_total), (320, 80, 400));
		assert_eq!(o.acc_per_share, 320 * ACC_SCALE / 400);
		assert_noop!(
			Iao::distribute_revenue(RuntimeOrigin::signed(CAROL), OFFERING),
			Error::<Test>::NoNewRevenue
		);
	});
}

#[test]
fn revenue_calls_are_refused_unless_the_offering_succeeded() {
	conserving(|| {
		create();
		buy(ALICE, 300);
		assert_noop!(
			Iao::distribute_revenue(RuntimeOrigin::signed(CAROL), OFFERING),
			Error::<Test>::NotSucceeded
		);
		assert_noop!(
			Iao::claim_revenue(RuntimeOrigin::signed(CAROL), OFFERING, ALICE),
			Error::<Test>::NotSucceeded
		);
		assert_noop!(
			Iao::transfer_shares(RuntimeOrigin::signed(ALICE), OFFERING, BOB, 1),
			Error::<Test>::NotSucceeded
		);
		assert_noop!(
			Iao::propose(RuntimeOrigin::signed(ALICE), OFFERING, ProposalKind::ReleaseTranche),
			Error::<Test>::NotSucceeded
		);
	});
}

// ---- Share transfers -----------------------------------------------------------------------

#[test]
fn a_share_transfer_keeps_revenue_claims_correct() {
	conserving(|| {
		succeed();
		pay_revenue(1_000); // Alice 600, Bob 200.
		assert_ok!(Iao::transfer_shares(RuntimeOrigin::signed(ALICE), OFFERING, CAROL, 100));
		assert_eq!((shares(ALICE), shares(CAROL)), (200, 100));
		pay_revenue(2_000); // 1600 to holders, 4 per share: Alice 800, Bob 400, Carol 400.
		let before = [ALICE, BOB, CAROL].map(balance);
		for who in [ALICE, BOB, CAROL] {
			assert_ok!(Iao::claim_revenue(RuntimeOrigin::signed(who), OFFERING, who));
		}
		let after = [ALICE, BOB, CAROL].map(balance);
		assert_eq!(after[0] - before[0], 1_400);
		assert_eq!(after[1] - before[1], 600);
		assert_eq!(after[2] - before[2], 400);
		assert!(iao_events().contains(&Event::SharesTransferred {
			offering: OFFERING,
			from: ALICE,
			to: CAROL,
			shares: 100
		}));
	});
}

#[test]
fn transferring_all_shares_keeps_the_revenue_owed() {
	conserving(|| {
		succeed();
		pay_revenue(1_000);
		assert_ok!(Iao::transfer_shares(RuntimeOrigin::signed(BOB), OFFERING, CAROL, 100));
		assert_eq!(Holdings::<Test>::get(OFFERING, BOB).unwrap().owed, 200);
		let before = balance(BOB);
		assert_ok!(Iao::claim_revenue(RuntimeOrigin::signed(BOB), OFFERING, BOB));
		assert_eq!(balance(BOB), before + 200);
		assert_eq!(Holdings::<Test>::get(OFFERING, BOB), None);
	});
}

#[test]
fn rejects_bad_share_transfers() {
	conserving(|| {
		succeed();
		let t = |from, to, n| Iao::transfer_shares(RuntimeOrigin::signed(from), OFFERING, to, n);
		assert_noop!(t(ALICE, BOB, 0), Error::<Test>::ZeroShares);
		assert_noop!(t(ALICE, ALICE, 1), Error::<Test>::SelfTransfer);
		assert_noop!(t(CAROL, ALICE, 1), Error::<Test>::NoShares);
		assert_noop!(t(ALICE, BOB, 301), Error::<Test>::InsufficientShares);
		let p = propose(ProposalKind::ReleaseTranche);
		assert_ok!(Iao::vote(RuntimeOrigin::signed(ALICE), p, true));
		assert_noop!(t(ALICE, CAROL, 100), Error::<Test>::SharesLocked);
		go_to(System::block_number() + VOTING_PERIOD + 1);
		assert_ok!(t(ALICE, CAROL, 100));
	});
}

// ---- Governance ----------------------------------------------------------------------------

#[test]
fn a_vote_activates_a_new_version_after_the_delay() {
	conserving(|| {
		succeed();
		assert_eq!(active_version(MODEL), Some(1));
		let p = propose(ProposalKind::ActivateVersion(2));
		assert_ok!(Iao::vote(RuntimeOrigin::signed(ALICE), p, true));
		assert_ok!(Iao::vote(RuntimeOrigin::signed(BOB), p, false));
		assert_eq!(Proposals::<Test>::get(p).unwrap().ayes, 300);
		assert_noop!(Iao::close(RuntimeOrigin::signed(CAROL), p), Error::<Test>::VotingOngoing);
		let ends = Proposals::<Test>::get(p).unwrap().voting_ends;
		go_to(ends + 1);
		assert_ok!(Iao::close(RuntimeOrigin::signed(CAROL), p));
		let at = ends + 1 + ENACTMENT_DELAY;
		assert_eq!(
			Proposals::<Test>::get(p).unwrap().status,
			ProposalStatus::Passed { executable_at: at }
		);
		assert_noop!(Iao::close(RuntimeOrigin::signed(CAROL), p), Error::<Test>::AlreadyClosed);
		go_to(at - 1);
		assert_noop!(
			Iao::execute(RuntimeOrigin::signed(CAROL), p),
			Error::<Test>::TooEarlyToExecute
		);
		go_to(at);
		assert_ok!(Iao::execute(RuntimeOrigin::signed(CAROL), p));
		assert_eq!(active_version(MODEL), Some(2));
		assert_eq!(iao_events().last(), Some(&Event::Executed { proposal: p, result: Ok(()) }));
		assert!(OpenProposals::<Test>::get(OFFERING).is_empty());
		assert_noop!(Iao::execute(RuntimeOrigin::signed(CAROL), p), Error::<Test>::NotPassed);
	});
}

#[test]
fn tranches_are_released_by_vote_until_the_escrow_is_empty() {
	conserving(|| {
		succeed();
		let owner_before = balance(OWNER);
		for expected in [1_200, 1_200] {
			let p = propose(ProposalKind::ReleaseTranche);
			assert_ok!(Iao::vote(RuntimeOrigin::signed(BOB), p, true));
			go_to(System::block_number() + VOTING_PERIOD + 1);
			assert_ok!(Iao::close(RuntimeOrigin::signed(CAROL), p));
			go_to(System::block_number() + ENACTMENT_DELAY);
			let before = balance(OWNER);
			assert_ok!(Iao::execute(RuntimeOrigin::signed(CAROL), p));
			assert_eq!(balance(OWNER), before + expected);
		}
		assert_eq!(balance(OWNER), owner_before + 2_400);
		let o = offering();
		assert_eq!((o.escrow_left, o.tranches_released), (0, 3));
		assert_eq!(Balances::balance(&Iao::fund_account(OFFERING)), ED);
		assert_noop!(
			Iao::propose(RuntimeOrigin::signed(ALICE), OFFERING, ProposalKind::ReleaseTranche),
			Error::<Test>::NoTrancheLeft
		);
	});
}

#[test]
fn a_proposal_without_quorum_is_rejected() {
	conserving(|| {
		create();
		buy(ALICE, 300);
		buy(BOB, 30);
		buy(CAROL, 470);
		go_to(END + 1);
		assert_ok!(Iao::finalize(RuntimeOrigin::signed(CAROL), OFFERING));
		assert_ok!(Iao::claim_shares(RuntimeOrigin::signed(BOB), OFFERING, BOB));
		assert_ok!(Iao::claim_shares(RuntimeOrigin::signed(BOB), OFFERING, ALICE));
		// Bob's 30 of 800 shares is below the 20 % quorum (160).
		let p = NextProposalId::<Test>::get();
		assert_ok!(Iao::propose(
			RuntimeOrigin::signed(BOB),
			OFFERING,
			ProposalKind::ReleaseTranche
		));
		assert_ok!(Iao::vote(RuntimeOrigin::signed(BOB), p, true));
		go_to(System::block_number() + VOTING_PERIOD + 1);
		assert_ok!(Iao::close(RuntimeOrigin::signed(CAROL), p));
		assert_eq!(Proposals::<Test>::get(p).unwrap().status, ProposalStatus::Rejected);
		assert!(OpenProposals::<Test>::get(OFFERING).is_empty());
		go_to(System::block_number() + ENACTMENT_DELAY);
		assert_noop!(Iao::execute(RuntimeOrigin::signed(CAROL), p), Error::<Test>::NotPassed);
		assert_eq!(offering().tranches_released, 1);
	});
}

#[test]
fn a_proposal_with_more_nays_is_rejected() {
	conserving(|| {
		succeed();
		let p = propose(ProposalKind::ActivateVersion(2));
		assert_ok!(Iao::vote(RuntimeOrigin::signed(ALICE), p, false));
		assert_ok!(Iao::vote(RuntimeOrigin::signed(BOB), p, true));
		go_to(System::block_number() + VOTING_PERIOD + 1);
		assert_ok!(Iao::close(RuntimeOrigin::signed(CAROL), p));
		assert_eq!(Proposals::<Test>::get(p).unwrap().status, ProposalStatus::Rejected);
		assert_eq!(active_version(MODEL), Some(1));
	});
}

#[test]
fn rejects_bad_proposals_and_votes() {
	conserving(|| {
		succeed();
		assert_noop!(
			Iao::propose(RuntimeOrigin::signed(CAROL), OFFERING, ProposalKind::ReleaseTranche),
			Error::<Test>::NoShares
		);
		assert_noop!(
			Iao::propose(RuntimeOrigin::signed(ALICE), OFFERING, ProposalKind::ActivateVersion(9)),
			Error::<Test>::UnknownVersion
		);
		let p = propose(ProposalKind::ActivateVersion(2));
		propose(ProposalKind::ReleaseTranche);
		assert_noop!(
			Iao::propose(RuntimeOrigin::signed(ALICE), OFFERING, ProposalKind::ReleaseTranche),
			Error::<Test>::TooManyProposals
		);
		assert_ok!(Iao::vote(RuntimeOrigin::signed(ALICE), p, true));
		assert_noop!(
			Iao::vote(RuntimeOrigin::signed(ALICE), p, false),
			Error::<Test>::AlreadyVoted
		);
		assert_noop!(Iao::vote(RuntimeOrigin::signed(CAROL), p, true), Error::<Test>::NoShares);
		assert_noop!(
			Iao::vote(RuntimeOrigin::signed(BOB), 99, true),
			Error::<Test>::UnknownProposal
		);
		assert_noop!(Iao::close(RuntimeOrigin::signed(BOB), 99), Error::<Test>::UnknownProposal);
		assert_noop!(Iao::execute(RuntimeOrigin::signed(BOB), 99), Error::<Test>::UnknownProposal);
		assert_noop!(Iao::execute(RuntimeOrigin::signed(BOB), p), Error::<Test>::NotPassed);
		go_to(System::block_number() + VOTING_PERIOD + 1);
		assert_noop!(Iao::vote(RuntimeOrigin::signed(BOB), p, true), Error::<Test>::VotingClosed);
		assert_ok!(Iao::close(RuntimeOrigin::signed(BOB), p));
		assert_noop!(Iao::vote(RuntimeOrigin::signed(BOB), p, true), Error::<Test>::VotingClosed);
	});
}

#[test]
fn a_failing_action_still_ends_the_proposal() {
	conserving(|| {
		succeed();
		let p = propose(ProposalKind::ActivateVersion(2));
		assert_ok!(Iao::vote(RuntimeOrigin::signed(ALICE), p, true));
		go_to(System::block_number() + VOTING_PERIOD + 1);
		assert_ok!(Iao::close(RuntimeOrigin::signed(CAROL), p));
		add_model(MODEL, OWNER, &[1]); // version 2 is gone from the registry
		go_to(System::block_number() + ENACTMENT_DELAY);
		assert_ok!(Iao::execute(RuntimeOrigin::signed(CAROL), p));
		// Events keep a `DispatchError::Other`'s variant, not its message.
		assert!(matches!(
			iao_events().last(),
			Some(Event::Executed { proposal, result: Err(DispatchError::Other(_)) }) if *proposal == p
		));
		assert_eq!(Proposals::<Test>::get(p).unwrap().status, ProposalStatus::Executed);
		assert!(OpenProposals::<Test>::get(OFFERING).is_empty());
	});
}

// ---- Runtime API ---------------------------------------------------------------------------

#[test]
fn the_runtime_api_shows_offering_position_and_proposals() {
	conserving(|| {
		create();
		buy(ALICE, 300);
		assert_eq!(
			Iao::api_position(OFFERING, ALICE),
			Position { purchased: 3_000, shares: 0, claimable_revenue: 0 }
		);
		buy(BOB, 100);
		go_to(END + 1);
		assert_ok!(Iao::finalize(RuntimeOrigin::signed(CAROL), OFFERING));
		assert_ok!(Iao::claim_shares(RuntimeOrigin::signed(CAROL), OFFERING, ALICE));
		pay_revenue(1_000);
		let view = Iao::api_offering(OFFERING).unwrap();
		assert_eq!(view.status, OfferingStatus::Succeeded);
		assert_eq!((view.raised, view.shares_sold, view.escrow_left), (4_000, 400, 2_400));
		assert_eq!(view.revenue_per_share, 2 * ACC_SCALE);
		assert_eq!(view.terms.tranches.len(), 3);
		assert_eq!(
			Iao::api_position(OFFERING, ALICE),
			Position { purchased: 0, shares: 300, claimable_revenue: 600 }
		);
		assert_eq!(Iao::api_position(OFFERING, OWNER).claimable_revenue, 200);
		assert_eq!(Iao::api_model_offering(MODEL), Some(OFFERING));
		let p = propose(ProposalKind::ActivateVersion(2));
		let open = Iao::api_open_proposals(OFFERING);
		assert_eq!(open.len(), 1);
		assert_eq!(open[0].0, p);
		assert_eq!(Iao::api_offering(7), None);
	});
}

#[test]
fn try_state_catches_a_fund_that_holds_less_than_it_owes() {
	run(|| {
		create();
		buy(ALICE, 300);
		assert_ok!(Iao::do_try_state());
		let fund = Iao::fund_account(OFFERING);
		assert_ok!(Balances::burn_from(
			&fund,
			ED,
			Preservation::Expendable,
			frame_support::traits::tokens::Precision::Exact,
			frame_support::traits::tokens::Fortitude::Force
		));
		assert!(Iao::do_try_state().is_err());
		assert_ok!(Balances::mint_into(&fund, ED));
	});
}

#[test]
fn the_genesis_config_may_shorten_voting_and_enactment() {
	use sp_runtime::BuildStorage;
	new_test_ext().execute_with(|| {
		assert_eq!(
			(Iao::voting_period(), Iao::enactment_delay()),
			(VOTING_PERIOD, ENACTMENT_DELAY)
		);
	});
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	crate::GenesisConfig::<Test> { voting_period: Some(3), enactment_delay: None }
		.assimilate_storage(&mut storage)
		.unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		assert_eq!((Iao::voting_period(), Iao::enactment_delay()), (3, ENACTMENT_DELAY));
	});
}
