//! Unit tests. Every test built through [`run`] or [`ExtBuilder::run`] checks the pallet's
//! invariants (`try_state`) afterwards, and [`run_to_block`] checks them after every block.

#![allow(
	clippy::arithmetic_side_effects,
	clippy::expect_used,
	clippy::indexing_slicing,
	clippy::unwrap_used
)]

use crate::{mock::*, traits::NoteActivity, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::Mutate, tokens::Preservation, Hooks},
	weights::Weight,
};
use sp_runtime::{DispatchError, Perbill};

const A: AccountId = 21;
const B: AccountId = 22;
const C: AccountId = 23;
const D: AccountId = 24;

fn emissions_events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Emissions(e) => Some(e),
			_ => None,
		})
		.collect()
}

fn last_event() -> Event<Test> {
	emissions_events().pop().expect("an emissions event")
}

fn ledger() -> Ledger<Balance> {
	Pools::<Test>::get()
}

fn pools() -> Balance {
	balance(COMMUNITY) + balance(ECOSYSTEM)
}

/// `paid + (pot − base) + pools == initial`, exactly (no one sent the pools or the pot money),
/// and total issuance is what it was at genesis.
fn assert_conserved() {
	let l = ledger();
	assert_eq!(l.paid + balance(Emissions::pot()) - l.pot_base + pools(), l.initial());
	assert_eq!(Balances::total_issuance(), l.issuance);
	assert_eq!(l.released() - l.paid, balance(Emissions::pot()) - l.pot_base);
}

fn claim(who: AccountId) {
	assert_ok!(Emissions::claim(RuntimeOrigin::signed(ALICE), who));
}

fn owed(who: AccountId) -> Balance {
	Rewards::<Test>::get(who).unwrap_or_default()
}

fn era(e: EraIndex) -> EraRecord<Balance> {
	Eras::<Test>::get(e).expect("an era record")
}

/// What era `e` released from both pools.
fn released_in(e: EraIndex) -> Balance {
	let r = era(e);
	r.from_community + r.from_ecosystem
}

/// `a × b / c`, rounded down, in u128 without overflow for the mock's amounts.
fn floor(a: u128, b: u128, c: u128) -> u128 {
	a * b / c
}

// ---- Genesis and start ----------------------------------------------------------------------

#[test]
fn genesis_records_the_pools_and_gives_the_pot_its_existential_deposit() {
	run(|| {
		let l = ledger();
		assert_eq!(l.community, PoolLedger { initial: COMMUNITY_GENESIS, released: 0 });
		// The pot's existential deposit came out of the ecosystem pool.
		assert_eq!(l.ecosystem, PoolLedger { initial: ECOSYSTEM_GENESIS - ED, released: 0 });
		assert_eq!(balance(ECOSYSTEM), ECOSYSTEM_GENESIS - ED);
		assert_eq!(balance(Emissions::pot()), ED);
		assert_eq!(l.pot_base, ED);
		assert_eq!(l.issuance, COMMUNITY_GENESIS + ECOSYSTEM_GENESIS + ALICE_BALANCE);
		let status = Schedule::<Test>::get().unwrap();
		assert_eq!(
			status,
			Status { start: 0, era_length: EraLength::get(), open_era: 0, finished: false }
		);
		assert_conserved();
	});
}

#[test]
fn without_genesis_the_schedule_starts_at_the_first_block() {
	ExtBuilder { genesis: false, ..Default::default() }.run(|| {
		assert_eq!(Schedule::<Test>::get(), None);
		// Activity before the start is not recorded.
		Emissions::note_worker(&A, 5);
		assert_eq!(Activity::<Test>::iter().count(), 0);
		run_to_block(2);
		assert_eq!(Schedule::<Test>::get().unwrap().start, 2);
		assert_eq!(ledger().community.initial, COMMUNITY_GENESIS);
		assert_eq!(
			last_event(),
			Event::ScheduleStarted {
				start: 2,
				community: COMMUNITY_GENESIS,
				ecosystem: ECOSYSTEM_GENESIS - ED,
			}
		);
		// Era 0 ends at block 2 + 10.
		run_to_block(11);
		assert_eq!(Schedule::<Test>::get().unwrap().open_era, 0);
		run_to_block(12);
		assert_eq!(Schedule::<Test>::get().unwrap().open_era, 1);
		assert_conserved();
	});
}

// ---- The schedule ---------------------------------------------------------------------------

#[test]
fn a_linear_schedule_releases_the_pools_exactly_in_equal_eras() {
	run(|| {
		let l = ledger();
		let n = u128::from(ERAS);
		for e in 0..ERAS {
			close_era(e);
			let r = era(e);
			for (amount, initial) in
				[(r.from_community, l.community.initial), (r.from_ecosystem, l.ecosystem.initial)]
			{
				assert!(
					amount == initial / n || amount == initial / n + 1,
					"era {e} released {amount} of {initial}"
				);
			}
			assert_conserved();
		}
		let released: Balance = (0..ERAS).map(released_in).sum();
		assert_eq!(released, l.initial());
		assert_eq!(pools(), 0);
		assert_eq!(ledger().remaining(), 0);
		assert!(Schedule::<Test>::get().unwrap().finished);
		// Nobody earned points: everything went to the treasury.
		assert_eq!(owed(TREASURY), l.initial());
		let emptied: Vec<_> = emissions_events()
			.into_iter()
			.filter(|e| matches!(e, Event::PoolsEmptied { .. }))
			.collect();
		assert_eq!(emptied, vec![Event::PoolsEmptied { era: ERAS - 1 }]);
		// After the end: no more eras, no more events.
		let count = emissions_events().len();
		run_to_block(ERA * u64::from(ERAS) * 2);
		assert_eq!(emissions_events().len(), count);
		assert_eq!(Eras::<Test>::iter().count(), ERAS as usize);
		assert_conserved();
	});
}

#[test]
fn the_genesis_era_length_overrides_the_constant_for_the_whole_schedule() {
	let short = ERA / 2;
	ExtBuilder { era_length: Some(short), ..Default::default() }.run(|| {
		assert_eq!(Schedule::<Test>::get().unwrap().era_length, short);
		run_to_block(short - 1);
		assert!(Eras::<Test>::get(0).is_none_or(|r| r.from_community == 0));
		run_to_block(short);
		assert!(era(0).from_community > 0, "era 0 closes after `short` blocks");
		assert_eq!(Schedule::<Test>::get().unwrap().open_era, 1);
		// The constant changing later does not move the schedule's eras.
		EraLength::set(ERA * 10);
		run_to_block(2 * short);
		assert_eq!(Schedule::<Test>::get().unwrap().open_era, 2);
		assert_eq!(Emissions::api_schedule().era_length, short);
		assert_conserved();
	});
}

#[test]
fn each_block_notes_its_author_to_the_authors_stream() {
	run(|| {
		use codec::Encode;
		for n in 2..5u64 {
			System::reset_events();
			System::initialize(&n, &Default::default(), &Default::default());
			System::deposit_log(sp_runtime::DigestItem::PreRuntime(*b"test", A.encode()));
			let used = Emissions::on_initialize(n);
			assert!(used.all_gte(<() as crate::WeightInfo>::note()), "the note is charged");
		}
		assert_eq!(Activity::<Test>::get(Stream::Authors, A).unwrap().points, 3);
		assert_eq!(era(0).tally(Stream::Authors).points, 3);
		// A block without an author's digest notes nobody.
		System::initialize(&5, &Default::default(), &Default::default());
		Emissions::on_initialize(5);
		assert_eq!(era(0).tally(Stream::Authors).points, 3);
		// The era's authors budget is all A's.
		close_era(0);
		let budget = era(0).tally(Stream::Authors).budget;
		assert!(budget > 0);
		assert_eq!(Emissions::api_earnings(A).unsettled, budget);
	});
}

#[test]
fn earnings_of_a_fee_are_noted_together_and_charged_for_what_settled() {
	run(|| {
		Emissions::note_worker(&C, 5);
		close_era(0);
		// A and B are new; C settles its era-0 points first.
		let used = Emissions::note_earnings(&[(A, 30), (B, 10)], &[(C, 7)]);
		assert_eq!(used, Emissions::settling_weight(1), "one account settled first");
		assert!(used.ref_time() > 0);
		assert!(used.all_lte(Emissions::settling_weight(3)));
		let open = era(1);
		assert_eq!(open.tally(Stream::Contributors).points, 40);
		assert_eq!(open.tally(Stream::Contributors).accounts, 2);
		assert_eq!(open.tally(Stream::Workers).points, 7);
		assert_eq!(Activity::<Test>::get(Stream::Workers, C).unwrap().era, 1);
		assert_eq!(owed(C), era(0).tally(Stream::Workers).budget, "C's era 0 settled");
		// Zero amounts note nothing.
		assert_eq!(Emissions::note_earnings(&[(D, 0)], &[]), Weight::zero());
		assert_eq!(Activity::<Test>::get(Stream::Contributors, D), None);
		assert_conserved();
	});
}

#[test]
fn a_tapered_schedule_front_loads_and_still_empties_the_pools_exactly() {
	let curve = Curve::Tapered { first_to_last_percent: 300 };
	ExtBuilder { curve, ..Default::default() }.run(|| {
		let initial = ledger().community.initial;
		close_era(ERAS - 1);
		let amounts: Vec<Balance> = (0..ERAS).map(|e| era(e).from_community).collect();
		assert_eq!(amounts.iter().sum::<Balance>(), initial);
		assert!(amounts.windows(2).all(|w| w[0] >= w[1]), "releases never grow");
		// First over last is 3, up to rounding.
		let ratio = amounts[0] as f64 / amounts[ERAS as usize - 1] as f64;
		assert!((ratio - 3.0).abs() < 0.001, "first/last = {ratio}");
		// Each era is within a few plancks of the ideal curve's cumulative release.
		let (n, slope) = (u128::from(ERAS), 200u128);
		let w = |e: u128| 100 * (n - 1) + slope * (n - 1 - e);
		let total: u128 = (0..n).map(w).sum();
		let mut ideal_cum = 0u128;
		let mut cum = 0u128;
		for e in 0..n {
			ideal_cum += w(e);
			cum += amounts[e as usize];
			let ideal = floor(initial, ideal_cum, total);
			assert!(cum.abs_diff(ideal) <= n, "era {e}: {cum} vs {ideal}");
		}
		assert_eq!(pools(), 0);
		assert_conserved();
	});
}

#[test]
fn curve_weights_release_any_amount_exactly_over_any_length() {
	for curve in [
		Curve::Linear,
		Curve::Tapered { first_to_last_percent: 101 },
		Curve::Tapered { first_to_last_percent: 250 },
		Curve::Tapered { first_to_last_percent: bounds::MAX_TAPER_PERCENT },
	] {
		for eras in [1u32, 2, 3, 7, 48, 1_000] {
			for initial in [0u128, 1, 47, 999_999_999_999, 517_100_000_000_000_000_000_000_000] {
				let mut remaining = initial;
				let mut previous = None;
				for e in 0..eras {
					let (this, rest) = curve.era_weights(e, eras);
					assert!(this > 0 && this <= rest);
					let amount = crate::impls::scale::<Test>(remaining, this, rest);
					remaining -= amount;
					// Before the last era (which takes the carried rounding), no era releases
					// more than the one before it, give or take a planck of rounding.
					if let Some(p) = previous.filter(|_| e + 1 < eras) {
						assert!(amount <= p + 1, "{curve:?}: era {e} grew");
					}
					previous = Some(amount);
				}
				assert_eq!(remaining, 0, "{curve:?} over {eras} eras left {remaining}");
			}
		}
	}
}

#[test]
fn a_curve_changed_mid_schedule_still_empties_the_pools_exactly() {
	run(|| {
		let initial = ledger().initial();
		close_era(9);
		let curve = Curve::Tapered { first_to_last_percent: 500 };
		assert_ok!(Emissions::set_curve(RuntimeOrigin::root(), curve));
		assert_eq!(last_event(), Event::CurveSet { curve });
		close_era(10);
		assert!(released_in(10) > released_in(9), "the new curve front-loads what is left");
		close_era(ERAS - 1);
		assert_eq!((0..ERAS).map(released_in).sum::<Balance>(), initial);
		assert_eq!(pools(), 0);
		assert_conserved();
	});
}

#[test]
fn empty_pools_pay_nothing_and_nothing_panics() {
	ExtBuilder { community: 0, ecosystem: 0, ..Default::default() }.run(|| {
		assert!(Schedule::<Test>::get().unwrap().finished);
		Emissions::note_contributor(&A, 1_000);
		Emissions::note_author(&B);
		assert_eq!(Activity::<Test>::iter().count(), 0);
		close_era(ERAS + 2);
		assert!(emissions_events().is_empty());
		assert_eq!(Eras::<Test>::iter().count(), 0);
		assert_noop!(
			Emissions::claim(RuntimeOrigin::signed(ALICE), A),
			Error::<Test>::NothingToClaim
		);
		assert_eq!(Emissions::api_projected_releases(), vec![]);
	});
}

#[test]
fn a_pool_emptied_early_stops_the_schedule_cleanly() {
	ExtBuilder { ecosystem: 0, ..Default::default() }.run(|| {
		// The pot's existential deposit came from the community pool instead.
		assert_eq!(ledger().community.initial, COMMUNITY_GENESIS - ED);
		assert_eq!(ledger().ecosystem.initial, 0);
		close_era(ERAS - 1);
		assert_eq!(pools(), 0);
		assert_eq!(owed(TREASURY), COMMUNITY_GENESIS - ED);
		assert!(matches!(last_event(), Event::PoolsEmptied { era } if era == ERAS - 1));
		assert_conserved();
	});
}

#[test]
fn a_pool_short_of_its_schedule_stops_after_paying_what_it_has() {
	// The invariants are broken on purpose here (the pool holds less than its schedule), so
	// this test does not check them.
	new_test_ext().execute_with(|| {
		let taken = ledger().ecosystem.initial / 2;
		// As a forced transfer by root would.
		assert_ok!(Balances::transfer(&ECOSYSTEM, &ALICE, taken, Preservation::Expendable));
		for block in 2..=ERA * u64::from(ERAS + 3) {
			System::set_block_number(block);
			Emissions::on_initialize(block);
		}
		let l = ledger();
		assert_eq!(l.community.released, l.community.initial);
		assert_eq!(l.ecosystem.released, l.ecosystem.initial - taken);
		assert_eq!(pools(), 0);
		let status = Schedule::<Test>::get().unwrap();
		assert!(status.finished);
		// The last era (47) and one more that found nothing left to pay.
		assert_eq!(status.open_era, ERAS + 1);
		assert_eq!(last_event(), Event::EmissionsStopped { era: ERAS, unreleased: taken });
		assert_eq!(Balances::total_issuance(), l.issuance);
	});
}

#[test]
fn money_sent_to_a_pool_is_not_scheduled_but_dust_is_swept_to_the_treasury() {
	run(|| {
		let initial = ledger().initial();
		// Less than the existential deposit: at the end it would be burned as dust.
		assert_ok!(Balances::transfer(&ALICE, &COMMUNITY, 7, Preservation::Preserve));
		close_era(ERAS - 1);
		assert_eq!(pools(), 0);
		assert_eq!(ledger().swept, 7);
		assert_eq!(ledger().released(), initial);
		assert_eq!(owed(TREASURY), initial + 7);
		assert_eq!(era(ERAS - 1).to_treasury, released_in(ERAS - 1) + 7);
		assert_eq!(Balances::total_issuance(), ledger().issuance);
	});
}

#[test]
fn eras_close_one_per_block_when_behind() {
	run(|| {
		// The chain jumps (as after a long stall or a longer era length): one era per block.
		System::set_block_number(ERA * 5);
		let weight = Emissions::on_initialize(ERA * 5);
		assert_eq!(Schedule::<Test>::get().unwrap().open_era, 1);
		assert_eq!(weight, <() as WeightInfo>::on_initialize_era());
		run_to_block(ERA * 5 + 3);
		assert_eq!(Schedule::<Test>::get().unwrap().open_era, 4);
		run_to_block(ERA * 5 + 4);
		assert_eq!(Schedule::<Test>::get().unwrap().open_era, 5);
		// Caught up: the next blocks are idle.
		System::set_block_number(ERA * 5 + 5);
		let weight = Emissions::on_initialize(ERA * 5 + 5);
		assert_eq!(weight, <() as WeightInfo>::on_initialize_idle());
		assert_eq!(Schedule::<Test>::get().unwrap().open_era, 5);
		assert_conserved();
	});
}

// ---- Streams --------------------------------------------------------------------------------

#[test]
fn streams_are_paid_pro_rata_to_points() {
	run(|| {
		Emissions::note_contributor(&A, 300);
		Emissions::note_contributor(&B, 100);
		Emissions::note_worker(&C, 7);
		Emissions::note_curator(&A, 2);
		Emissions::note_curator(&D, 1);
		for _ in 0..3 {
			Emissions::note_author(&D);
		}
		Emissions::note_author(&C);
		close_era(0);
		let released = released_in(0);
		let shares = StreamShares::default();
		let budget = |s: Stream| shares.of(s).mul_floor(released);
		let r = era(0);
		assert_eq!(r.contributors.budget, budget(Stream::Contributors));
		assert_eq!(r.contributors.points, 400);
		assert_eq!(r.authors.points, 4);
		for who in [A, B, C, D] {
			claim(who);
		}
		let contributors = budget(Stream::Contributors);
		let curators = budget(Stream::Curators);
		let authors = budget(Stream::Authors);
		assert_eq!(
			Claimed::<Test>::get(A).unwrap(),
			floor(contributors, 300, 400) + floor(curators, 2, 3)
		);
		assert_eq!(balance(B), floor(contributors, 100, 400));
		assert_eq!(balance(C), budget(Stream::Workers) + floor(authors, 1, 4));
		assert_eq!(balance(D), floor(curators, 1, 3) + floor(authors, 3, 4));
		assert_eq!(
			last_event(),
			Event::Claimed { who: D, amount: floor(curators, 1, 3) + floor(authors, 3, 4) }
		);
		assert!(emissions_events().contains(&Event::EraPaid {
			era: 0,
			from_community: r.from_community,
			from_ecosystem: r.from_ecosystem,
			contributors,
			workers: budget(Stream::Workers),
			curators,
			authors,
			to_treasury: released - contributors - budget(Stream::Workers) - curators - authors,
		}));
		// Everyone settled: all of the era is owed to nobody but the treasury.
		assert_eq!(Activity::<Test>::iter().count(), 0);
		assert_eq!(owed(TREASURY), released - ledger().paid);
		assert_conserved();
	});
}

#[test]
fn a_stream_nobody_earned_in_goes_to_the_treasury() {
	run(|| {
		Emissions::note_contributor(&A, 5);
		close_era(0);
		let released = released_in(0);
		let contributors = StreamShares::default().contributors.mul_floor(released);
		let r = era(0);
		assert_eq!(r.contributors.budget, contributors);
		assert_eq!((r.workers.budget, r.curators.budget, r.authors.budget), (0, 0, 0));
		assert_eq!(r.to_treasury, released - contributors);
		assert_eq!(owed(TREASURY), released - contributors);
		claim(A);
		assert_eq!(balance(A), contributors);
		assert_conserved();
	});
}

#[test]
fn rounding_remainders_go_to_the_treasury_when_the_last_account_settles() {
	run(|| {
		for who in [A, B, C] {
			Emissions::note_worker(&who, 1);
		}
		close_era(0);
		let budget = era(0).workers.budget;
		assert_ne!(budget % 3, 0, "the test needs a remainder");
		let treasury = owed(TREASURY);
		claim(A);
		claim(B);
		assert_eq!(owed(TREASURY), treasury);
		claim(C);
		let remainder = budget - 3 * (budget / 3);
		assert_eq!(owed(TREASURY), treasury + remainder);
		assert!(emissions_events().contains(&Event::RemainderToTreasury {
			era: 0,
			stream: Stream::Workers,
			amount: remainder,
		}));
		let tally = era(0).workers;
		assert_eq!((tally.settled, tally.accounts), (budget, 0));
		assert_eq!(era(0).to_treasury, released_in(0) - budget + remainder);
		assert_conserved();
	});
}

#[test]
fn new_points_settle_the_accounts_earlier_era_first() {
	run(|| {
		Emissions::note_worker(&A, 1);
		Emissions::note_worker(&B, 3);
		close_era(0);
		let budget = era(0).workers.budget;
		Emissions::note_worker(&A, 10);
		assert_eq!(owed(A), budget / 4);
		assert_eq!(
			Activity::<Test>::get(Stream::Workers, A),
			Some(AccountPoints { era: 1, points: 10 })
		);
		assert_eq!(era(1).workers.points, 10);
		assert!(emissions_events().contains(&Event::RewardSettled {
			who: A,
			stream: Stream::Workers,
			era: 0,
			amount: budget / 4,
		}));
		// More points in the same era add up.
		Emissions::note_worker(&A, 5);
		assert_eq!(Activity::<Test>::get(Stream::Workers, A).unwrap().points, 15);
		assert_eq!(era(1).workers.accounts, 1);
		assert_conserved();
	});
}

#[test]
fn zero_activity_records_nothing() {
	run(|| {
		Emissions::note_contributor(&A, 0);
		Emissions::note_worker(&A, 0);
		Emissions::note_curator(&A, 0);
		assert_eq!(Activity::<Test>::iter().count(), 0);
		assert_eq!(Eras::<Test>::iter().count(), 0);
	});
}

#[test]
fn a_stream_total_never_overflows() {
	run(|| {
		Emissions::note_contributor(&A, u128::MAX - 1);
		Emissions::note_contributor(&B, 5);
		Emissions::note_contributor(&C, 7);
		assert_eq!(era(0).contributors.points, u128::MAX);
		assert_eq!(Activity::<Test>::get(Stream::Contributors, B).unwrap().points, 1);
		assert_eq!(Activity::<Test>::get(Stream::Contributors, C), None);
		close_era(0);
		claim(A);
		assert_conserved();
	});
}

#[test]
fn activity_after_the_schedule_finished_is_ignored() {
	run(|| {
		Emissions::note_author(&A);
		close_era(ERAS - 1);
		assert!(Schedule::<Test>::get().unwrap().finished);
		Emissions::note_author(&B);
		Emissions::note_worker(&A, 3);
		assert_eq!(Activity::<Test>::get(Stream::Authors, B), None);
		assert_eq!(Activity::<Test>::get(Stream::Workers, A), None);
		// A's era-0 points are still paid.
		claim(A);
		assert_eq!(balance(A), era(0).authors.budget);
		assert_conserved();
	});
}

// ---- Claims ---------------------------------------------------------------------------------

#[test]
fn claiming_nothing_fails_and_changes_nothing() {
	run(|| {
		assert_noop!(
			Emissions::claim(RuntimeOrigin::signed(ALICE), A),
			Error::<Test>::NothingToClaim
		);
		// Points in the open era are not worth anything yet.
		Emissions::note_worker(&A, 3);
		assert_noop!(
			Emissions::claim(RuntimeOrigin::signed(ALICE), A),
			Error::<Test>::NothingToClaim
		);
		assert_noop!(Emissions::claim(RuntimeOrigin::none(), A), DispatchError::BadOrigin);
		close_era(0);
		claim(A);
		assert_noop!(
			Emissions::claim(RuntimeOrigin::signed(ALICE), A),
			Error::<Test>::NothingToClaim
		);
	});
}

#[test]
fn a_claim_below_the_existential_deposit_waits_until_more_accrues() {
	run(|| {
		Emissions::note_worker(&A, 1);
		Emissions::note_worker(&B, 10_000_000);
		close_era(0);
		let worth = Emissions::api_earnings(A).unsettled;
		assert!(worth > 0 && worth < ED, "the test needs a reward below ED: {worth}");
		// The settlement is rolled back with the failed claim.
		assert_noop!(
			Emissions::claim(RuntimeOrigin::signed(ALICE), A),
			Error::<Test>::ClaimTooSmall
		);
		assert!(Activity::<Test>::get(Stream::Workers, A).is_some());
		Emissions::note_worker(&A, 10_000_000);
		close_era(1);
		claim(A);
		assert!(balance(A) >= ED);
		assert_conserved();
	});
}

#[test]
fn claims_keep_the_pot_at_its_base() {
	run(|| {
		Emissions::note_contributor(&A, 10);
		Emissions::note_author(&B);
		close_era(0);
		for who in [A, B, TREASURY] {
			claim(who);
		}
		assert_eq!(balance(Emissions::pot()), ED);
		assert_eq!(ledger().paid, released_in(0));
		assert_eq!(Claimed::<Test>::get(TREASURY).unwrap(), balance(TREASURY));
		assert_conserved();
	});
}

// ---- Governance -----------------------------------------------------------------------------

fn shares(
	contributors: u32,
	workers: u32,
	curators: u32,
	authors: u32,
	treasury: u32,
) -> StreamShares {
	StreamShares {
		contributors: Perbill::from_percent(contributors),
		workers: Perbill::from_percent(workers),
		curators: Perbill::from_percent(curators),
		authors: Perbill::from_percent(authors),
		treasury: Perbill::from_percent(treasury),
	}
}

#[test]
fn governance_sets_shares_within_bounds() {
	run(|| {
		let new = shares(60, 20, 5, 5, 10);
		assert_noop!(
			Emissions::set_stream_shares(RuntimeOrigin::signed(ALICE), new),
			DispatchError::BadOrigin
		);
		assert_ok!(Emissions::set_stream_shares(RuntimeOrigin::root(), new));
		assert_eq!(CurrentShares::<Test>::get(), new);
		assert_eq!(last_event(), Event::SharesSet { shares: new });
		// They apply when the open era closes.
		Emissions::note_contributor(&A, 1);
		close_era(0);
		assert_eq!(era(0).contributors.budget, Perbill::from_percent(60).mul_floor(released_in(0)));

		let out_of_bounds = [
			shares(40, 25, 10, 10, 16), // sums to 101 %
			shares(40, 25, 10, 10, 14), // sums to 99 %
			shares(19, 40, 10, 10, 21), // contributors below 20 %
			shares(20, 51, 10, 10, 9),  // workers above 50 %
			shares(40, 10, 26, 10, 14), // curators above 25 %
			shares(40, 10, 10, 26, 14), // authors above 25 %
			shares(40, 10, 10, 9, 31),  // treasury above 30 %
		];
		for bad in out_of_bounds {
			assert_noop!(
				Emissions::set_stream_shares(RuntimeOrigin::root(), bad),
				Error::<Test>::SharesOutOfBounds
			);
		}
		// The bounds themselves are allowed.
		for edge in [shares(20, 50, 0, 0, 30), shares(25, 0, 25, 25, 25), shares(100, 0, 0, 0, 0)] {
			assert_ok!(Emissions::set_stream_shares(RuntimeOrigin::root(), edge));
		}
	});
}

#[test]
fn governance_sets_the_curve_within_bounds() {
	run(|| {
		let tapered = Curve::Tapered { first_to_last_percent: bounds::MAX_TAPER_PERCENT };
		assert_noop!(
			Emissions::set_curve(RuntimeOrigin::signed(ALICE), tapered),
			DispatchError::BadOrigin
		);
		for bad in [100, 0, bounds::MAX_TAPER_PERCENT + 1] {
			assert_noop!(
				Emissions::set_curve(
					RuntimeOrigin::root(),
					Curve::Tapered { first_to_last_percent: bad }
				),
				Error::<Test>::CurveOutOfBounds
			);
		}
		assert_ok!(Emissions::set_curve(RuntimeOrigin::root(), tapered));
		assert_eq!(CurrentCurve::<Test>::get(), tapered);
		assert_ok!(Emissions::set_curve(RuntimeOrigin::root(), Curve::Linear));
		assert_eq!(CurrentCurve::<Test>::get(), Curve::Linear);
	});
}

// ---- Runtime API ----------------------------------------------------------------------------

#[test]
fn the_schedule_api_reports_progress_and_projects_what_is_left() {
	run(|| {
		let projected = Emissions::api_projected_releases();
		assert_eq!(projected.len(), ERAS as usize);
		let total: Balance = projected.iter().map(|p| p.community + p.ecosystem).sum();
		assert_eq!(total, ledger().initial());
		close_era(2);
		let info = Emissions::api_schedule();
		assert!(info.started && !info.finished);
		assert_eq!((info.eras, info.era_length, info.open_era), (ERAS, ERA, 3));
		assert_eq!(info.open_era_ends_at, ERA * 4);
		assert_eq!(info.remaining, ledger().initial() - (0..3).map(released_in).sum::<Balance>());
		assert_eq!(info.community.released, (0..3).map(|e| era(e).from_community).sum());
		// What was projected is what was released.
		for p in &projected[..3] {
			assert_eq!(
				(p.community, p.ecosystem),
				(era(p.era).from_community, era(p.era).from_ecosystem)
			);
		}
		let projected = Emissions::api_projected_releases();
		assert_eq!(projected.first().unwrap().era, 3);
		assert_eq!(projected.len(), ERAS as usize - 3);
		assert_eq!(
			projected.iter().map(|p| p.community + p.ecosystem).sum::<Balance>(),
			info.remaining
		);
	});
}

#[test]
fn the_earnings_api_reports_claimable_unsettled_accruing_and_claimed() {
	run(|| {
		Emissions::note_worker(&A, 1);
		Emissions::note_worker(&B, 1);
		Emissions::note_author(&A);
		let e = Emissions::api_earnings(A);
		assert_eq!(e.accruing, StreamPoints { workers: 1, authors: 1, ..Default::default() });
		assert_eq!((e.claimable, e.unsettled, e.claimed), (0, 0, 0));
		close_era(0);
		let r = era(0);
		let worth = r.workers.budget / 2 + r.authors.budget;
		assert_eq!(Emissions::api_earnings(A).unsettled, worth);
		Emissions::note_curator(&A, 2);
		let e = Emissions::api_earnings(A);
		assert_eq!(e.accruing, StreamPoints { curators: 2, ..Default::default() });
		// Settling the curators' era-0 entry did not happen (there was none); the others wait.
		assert_eq!(e.unsettled, worth);
		claim(A);
		let e = Emissions::api_earnings(A);
		assert_eq!((e.claimable, e.unsettled, e.claimed), (0, 0, worth));
		let settled = Emissions::api_era(0).unwrap();
		assert_eq!(settled.workers.settled, r.workers.budget / 2);
		assert_eq!((settled.authors.settled, settled.authors.accounts), (r.authors.budget, 0));
		assert_eq!(Emissions::api_era(99), None);
	});
}

// ---- Weights --------------------------------------------------------------------------------

#[test]
fn the_block_hook_charges_the_era_close_only_at_an_era_end() {
	run(|| {
		for block in 2..ERA {
			System::set_block_number(block);
			assert_eq!(Emissions::on_initialize(block), <() as WeightInfo>::on_initialize_idle());
		}
		System::set_block_number(ERA);
		assert_eq!(Emissions::on_initialize(ERA), <() as WeightInfo>::on_initialize_era());
		assert!(
			<() as WeightInfo>::on_initialize_idle().ref_time()
				< <() as WeightInfo>::on_initialize_era().ref_time()
		);
		assert_eq!(
			<Emissions as NoteActivity<AccountId, Balance>>::note_weight(),
			<() as WeightInfo>::note()
		);
		assert_eq!(<() as NoteActivity<AccountId, Balance>>::note_weight(), Weight::zero());
	});
}

// ---- The whole schedule ---------------------------------------------------------------------

/// A small linear congruential generator: deterministic randomness without dependencies.
struct Lcg(u64);

impl Lcg {
	fn next(&mut self, bound: u64) -> u64 {
		self.0 =
			self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
		(self.0 >> 33) % bound
	}
}

fn simulate(curve: Curve, seed: u64) {
	ExtBuilder { curve, ..Default::default() }.run(|| {
		let initial = ledger().initial();
		let issuance = Balances::total_issuance();
		let mut rng = Lcg(seed);
		let accounts: Vec<AccountId> = (100..112).collect();
		let end = ERA * u64::from(ERAS) + 3;
		for block in 2..=end {
			run_to_block(block);
			let author = accounts[rng.next(accounts.len() as u64) as usize];
			Emissions::note_author(&author);
			for _ in 0..rng.next(4) {
				let who = accounts[rng.next(accounts.len() as u64) as usize];
				match rng.next(4) {
					0 => Emissions::note_contributor(&who, u128::from(rng.next(1_000_000))),
					1 => Emissions::note_worker(&who, u128::from(rng.next(50))),
					2 => Emissions::note_curator(&who, rng.next(3) as u32),
					_ => {
						let _ = Emissions::claim(RuntimeOrigin::signed(ALICE), who);
					}
				}
			}
			if rng.next(10) == 0 {
				let _ = Emissions::claim(RuntimeOrigin::signed(ALICE), TREASURY);
			}
			assert_conserved();
			assert_eq!(Balances::total_issuance(), issuance);
			Emissions::do_try_state().unwrap();
		}
		assert!(Schedule::<Test>::get().unwrap().finished);
		assert_eq!(pools(), 0);
		assert_eq!(ledger().released(), initial);
		// Everyone claims: every planck released reaches an account, the pot keeps its base.
		for who in accounts.iter().chain([TREASURY].iter()) {
			let _ = Emissions::claim(RuntimeOrigin::signed(ALICE), *who);
		}
		assert_eq!(Activity::<Test>::iter().count(), 0);
		assert_eq!(Rewards::<Test>::iter().count(), 0);
		assert_eq!(ledger().paid, initial);
		assert_eq!(balance(Emissions::pot()), ED);
		let received: Balance =
			accounts.iter().chain([TREASURY].iter()).map(|who| balance(*who)).sum();
		assert_eq!(received, initial);
		assert_conserved();
	});
}

#[test]
fn a_full_linear_schedule_with_random_activity_pays_out_every_planck() {
	simulate(Curve::Linear, 7);
}

#[test]
fn a_full_tapered_schedule_with_random_activity_pays_out_every_planck() {
	simulate(Curve::Tapered { first_to_last_percent: 400 }, 12_345);
}
