//! Unit tests. Every test runs through [`run`], which checks the pallet's invariants
//! (`try_state`: the pot holds its existential deposit plus every reward owed) afterwards.

#![allow(
	clippy::arithmetic_side_effects,
	clippy::expect_used,
	clippy::indexing_slicing,
	clippy::unwrap_used
)]

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Inspect, Mutate},
		tokens::Preservation,
	},
};
use pallet_inference::traits::Payout;
use sp_runtime::{DispatchError, Perbill};

const MODEL: ModelId = 1;
const OWNER: AccountId = 10;
const WORKER: AccountId = 30;
const PAYER: AccountId = 1;

/// Model 1 (owner 10), version 1 trained on snapshot 1 of Datanet 1, which covers its first
/// three accepted contributions: 101 (by 21), 102 (by 22), 103 (by 21). Also: 104 (by 23,
/// accepted after the snapshot), 105 (by 24, pending), 106 (by 25, another Datanet).
fn setup() {
	add_version(MODEL, OWNER, 1, 1);
	add_snapshot(1, 1, 3);
	add_contribution(101, 1, 21, Some(0));
	add_contribution(102, 1, 22, Some(1));
	add_contribution(103, 1, 21, Some(2));
	add_contribution(104, 1, 23, Some(3));
	add_contribution(105, 1, 24, None);
	add_contribution(106, 2, 25, Some(0));
}

fn entry(contribution: ContributionId, percent: u32) -> AttributionEntry {
	AttributionEntry { contribution, weight: Perbill::from_percent(percent) }
}

/// What pallet-inference does for a fee: moves it into the pot, then distributes it.
fn pay(fee: Balance, workers: &[AccountId], attribution: &[AttributionEntry]) {
	assert_ok!(Balances::transfer(&PAYER, &Attribution::pot(), fee, Preservation::Preserve));
	assert_ok!(<Attribution as Payout<AccountId, Balance>>::distribute(
		MODEL,
		1,
		workers,
		fee,
		attribution
	));
}

fn owed(who: AccountId) -> Balance {
	Attribution::api_rewards_of(who)
}

fn owed_total() -> Balance {
	Rewards::<Test>::iter().map(|(_, amount)| amount).sum()
}

fn last_event() -> Event<Test> {
	System::events()
		.into_iter()
		.rev()
		.find_map(|r| match r.event {
			RuntimeEvent::Attribution(e) => Some(e),
			_ => None,
		})
		.expect("an attribution event")
}

// ---- The split ------------------------------------------------------------------------------

#[test]
fn the_default_split_credits_every_part_and_conserves_the_fee() {
	run(|| {
		setup();
		pay(10_000, &[WORKER], &[entry(101, 60), entry(102, 40)]);
		// 20 % owner, 40 % worker, 35 % contributors (3,500), 5 % treasury.
		assert_eq!(owed(OWNER), 2_000);
		assert_eq!(owed(WORKER), 4_000);
		// 101's 60 % of 3,500 is 2,100, over the 50 % cap (1,750): capped.
		assert_eq!(owed(21), 1_750);
		assert_eq!(owed(22), 1_400);
		// 500 + the capped excess (350).
		assert_eq!(owed(TREASURY), 850);
		assert_eq!(owed_total(), 10_000);
		assert_eq!(Balances::balance(&Attribution::pot()), ED + 10_000);
		assert_eq!(
			last_event(),
			Event::FeeDistributed {
				model: MODEL,
				version: 1,
				fee: 10_000,
				owner: Some((OWNER, 2_000)),
				workers: vec![(WORKER, 4_000)],
				contributions: vec![(101, 21, 1_750), (102, 22, 1_400)],
				treasury: 850,
			}
		);
	});
}

#[test]
fn ineligible_contributions_earn_nothing() {
	run(|| {
		setup();
		// After the snapshot, pending, another Datanet's, unknown.
		pay(10_000, &[WORKER], &[entry(104, 25), entry(105, 25), entry(106, 25), entry(999, 25)]);
		for contributor in [23, 24, 25] {
			assert_eq!(owed(contributor), 0);
		}
		assert_eq!(owed(TREASURY), 500 + 3_500);
		assert_eq!(ContributionRecords::<Test>::iter().count(), 0);
		assert_eq!(owed_total(), 10_000);
	});
}

#[test]
fn the_cap_holds_per_contributor_across_its_contributions() {
	run(|| {
		setup();
		// 101 and 103 are both 21's: 30 % + 30 % = 2,100, capped to 1,750 and split evenly.
		pay(10_000, &[WORKER], &[entry(101, 30), entry(103, 30), entry(102, 40)]);
		assert_eq!(owed(21), 875 + 875);
		assert_eq!(owed(22), 1_400);
		assert_eq!(ContributionRecords::<Test>::get(101).unwrap().earned, 875);
		assert_eq!(ContributionRecords::<Test>::get(103).unwrap().earned, 875);
		assert_eq!(owed_total(), 10_000);
	});
}

#[test]
fn unattributed_weight_and_rounding_go_to_the_treasury() {
	run(|| {
		setup();
		pay(10_000, &[WORKER], &[entry(102, 10)]);
		assert_eq!(owed(22), 350);
		assert_eq!(owed(TREASURY), 500 + 3_150);
		// A fee of 7: 20 % is 1.4, 40 % 2.8, 35 % 2.45 (then 100 % of it: 2), 5 % 0.35.
		pay(7, &[WORKER], &[entry(102, 100)]);
		assert_eq!(owed(OWNER), 2_000 + 1);
		assert_eq!(owed(WORKER), 4_000 + 2);
		assert_eq!(owed(22), 350 + 1); // capped at 50 % of 2: 1
		assert_eq!(owed_total(), 10_007);
	});
}

#[test]
fn an_empty_attribution_sends_the_contributors_part_to_the_treasury() {
	run(|| {
		setup();
		pay(1_000, &[WORKER], &[]);
		assert_eq!(owed(TREASURY), 50 + 350);
		assert_eq!(VersionRecords::<Test>::get(MODEL, 1).unwrap().to_contributors, 0);
	});
}

#[test]
fn a_model_without_an_owner_pays_its_part_to_the_treasury() {
	run(|| {
		setup();
		remove_model(MODEL);
		pay(1_000, &[WORKER], &[entry(101, 50)]);
		assert_eq!(owed(OWNER), 0);
		// The version is gone too, so no snapshot: nothing is attributable.
		assert_eq!(owed(TREASURY), 200 + 350 + 50);
		assert!(matches!(last_event(), Event::FeeDistributed { owner: None, .. }));
	});
}

#[test]
fn an_offering_takes_the_owner_share_over() {
	run(|| {
		setup();
		const REVENUE: AccountId = 90;
		route_owner_share(MODEL, REVENUE);
		pay(10_000, &[WORKER], &[entry(101, 60), entry(102, 40)]);
		assert_eq!(owed(REVENUE), 2_000);
		assert_eq!(owed(OWNER), 0);
		// Nothing else moves.
		assert_eq!((owed(WORKER), owed(21), owed(22), owed(TREASURY)), (4_000, 1_750, 1_400, 850));
		assert!(matches!(
			last_event(),
			Event::FeeDistributed { owner: Some((REVENUE, 2_000)), .. }
		));
		// Another model keeps paying its owner.
		add_version(2, OWNER, 1, 1);
		assert_ok!(Balances::transfer(&PAYER, &Attribution::pot(), 1_000, Preservation::Preserve));
		assert_ok!(<Attribution as Payout<AccountId, Balance>>::distribute(2, 1, &[], 1_000, &[]));
		assert_eq!(owed(OWNER), 200);
	});
}

#[test]
fn each_contributor_and_worker_is_noted_to_emissions_once_per_fee_with_what_it_earned() {
	run(|| {
		setup();
		// 21 twice (capped together), 22 once, an ineligible entry not at all.
		pay(10_000, &[WORKER], &[entry(101, 30), entry(103, 30), entry(102, 30), entry(104, 10)]);
		assert_eq!(contributor_notes(), vec![(21, 1_750), (22, 1_050)]);
		assert_eq!(worker_notes(), vec![(WORKER, 4_000)]);
		// A fee with nothing eligible notes nobody.
		pay(10_000, &[WORKER], &[entry(105, 50)]);
		assert_eq!(contributor_notes().len(), 2);
	});
}

#[test]
fn workers_share_their_part_equally() {
	run(|| {
		setup();
		pay(1_000, &[30, 31, 32], &[]);
		// 400 / 3 = 133 each (1/3 rounded down is 333,333,333 ppb: 133.33 -> 133).
		for worker in [30, 31, 32] {
			assert_eq!(owed(worker), 133);
		}
		assert_eq!(owed_total(), 1_000);
		// No worker: their part goes to the treasury.
		let before = owed(TREASURY);
		pay(1_000, &[], &[]);
		assert_eq!(owed(TREASURY), before + 50 + 350 + 400);
	});
}

#[test]
fn at_most_max_paid_workers_are_paid() {
	run(|| {
		setup();
		let workers: Vec<AccountId> = (100..120).collect();
		pay(16_000, &workers, &[]);
		let paid = workers.iter().filter(|w| owed(**w) > 0).count();
		assert_eq!(paid, crate::impls::MAX_PAID_WORKERS as usize);
		assert_eq!(owed(100), 6_400 / 16);
		assert_eq!(owed_total(), 16_000);
	});
}

#[test]
fn the_fee_is_conserved_on_every_path() {
	run(|| {
		setup();
		// A deterministic spread of fees, worker counts and attributions.
		let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
		let mut next = |m: u64| {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			seed % m
		};
		let mut total = 0;
		for _ in 0..300 {
			let fee = 1 + next(50_000) as Balance;
			let workers: Vec<AccountId> = (0..next(4)).map(|i| 30 + i).collect();
			let mut attribution = Vec::new();
			let mut left = 100u32;
			for c in [101, 102, 103, 104, 105, 999] {
				if next(2) == 0 && left > 0 {
					let percent = 1 + next(u64::from(left)) as u32;
					left -= percent;
					attribution.push(entry(c, percent));
				}
			}
			let owed_before = owed_total();
			pay(fee, &workers, &attribution);
			assert_eq!(owed_total(), owed_before + fee);
			total += fee;
		}
		assert_eq!(Balances::balance(&Attribution::pot()), ED + total);
		let record = VersionRecords::<Test>::get(MODEL, 1).unwrap();
		assert_eq!(record.inferences, 300);
		assert_eq!(record.fees, total);
		assert_eq!(
			record.to_owner + record.to_contributors + record.to_workers + record.to_treasury,
			total
		);
	});
}

#[test]
fn records_keep_the_history_of_contributions_and_versions() {
	run(|| {
		setup();
		System::set_block_number(5);
		pay(10_000, &[WORKER], &[entry(102, 40)]);
		System::set_block_number(9);
		pay(10_000, &[WORKER], &[entry(102, 20), entry(101, 20)]);
		let record = Attribution::api_contribution_record(102).unwrap();
		assert_eq!(record.inferences, 2);
		assert_eq!(record.weight_sum, 600_000_000);
		assert_eq!(record.earned, 1_400 + 700);
		assert_eq!(record.last_at, 9);
		let version = Attribution::api_version_record(MODEL, 1).unwrap();
		assert_eq!(version.inferences, 2);
		assert_eq!(version.fees, 20_000);
		assert_eq!(version.to_owner, 4_000);
		assert_eq!(version.to_workers, 8_000);
		assert_eq!(version.to_contributors, 1_400 + 700 + 700);
		assert_eq!(version.to_treasury, 20_000 - 4_000 - 8_000 - 2_800);
		assert_eq!(Attribution::api_contribution_record(103), None);
		assert_eq!(Attribution::api_version_record(MODEL, 2), None);
	});
}

#[test]
fn the_split_is_reported_without_writing() {
	run(|| {
		setup();
		let split = Attribution::split(MODEL, 1, &[WORKER], 10_000, &[entry(102, 40)]);
		assert_eq!(split.contributions, vec![(102, 22, 1_400)]);
		assert_eq!(split.treasury, 10_000 - 2_000 - 4_000 - 1_400);
		assert_eq!(owed_total(), 0);
	});
}

// ---- Claims ---------------------------------------------------------------------------------

#[test]
fn anyone_claims_rewards_to_their_owner() {
	run(|| {
		setup();
		pay(10_000, &[WORKER], &[entry(102, 40)]);
		let before = Balances::balance(&22);
		assert_ok!(Attribution::claim(RuntimeOrigin::signed(PAYER), 22));
		assert_eq!(Balances::balance(&22), before + 1_400);
		assert_eq!(owed(22), 0);
		assert_eq!(Rewards::<Test>::get(22), None);
		assert_eq!(last_event(), Event::Claimed { who: 22, amount: 1_400 });
		assert_noop!(
			Attribution::claim(RuntimeOrigin::signed(PAYER), 22),
			Error::<Test>::NothingToClaim
		);
		assert_noop!(
			Attribution::claim(RuntimeOrigin::signed(PAYER), 77),
			Error::<Test>::NothingToClaim
		);
		assert_noop!(Attribution::claim(RuntimeOrigin::none(), OWNER), DispatchError::BadOrigin);
	});
}

#[test]
fn a_claim_below_the_existential_deposit_waits_until_more_accrues() {
	run(|| {
		setup();
		pay(20, &[WORKER], &[entry(102, 100)]);
		assert_eq!(owed(22), 3); // 35 % of 20 is 7, capped at 50 %: 3
		assert_noop!(
			Attribution::claim(RuntimeOrigin::signed(PAYER), 22),
			Error::<Test>::ClaimTooSmall
		);
		pay(100, &[WORKER], &[entry(102, 100)]);
		assert_eq!(owed(22), 3 + 17);
		assert_ok!(Attribution::claim(RuntimeOrigin::signed(PAYER), 22));
		assert_eq!(Balances::balance(&22), 20);
	});
}

#[test]
fn the_pot_keeps_its_existential_deposit_after_every_claim() {
	run(|| {
		setup();
		pay(10_000, &[WORKER], &[entry(101, 40), entry(102, 40)]);
		for who in [OWNER, WORKER, 21, 22, TREASURY] {
			assert_ok!(Attribution::claim(RuntimeOrigin::signed(PAYER), who));
		}
		assert_eq!(owed_total(), 0);
		assert_eq!(Balances::balance(&Attribution::pot()), ED);
	});
}

// ---- Parameters -----------------------------------------------------------------------------

fn shares(owner: u32, contributors: u32, workers: u32, treasury: u32) -> FeeShares {
	FeeShares {
		owner: Perbill::from_percent(owner),
		contributors: Perbill::from_percent(contributors),
		workers: Perbill::from_percent(workers),
		treasury: Perbill::from_percent(treasury),
	}
}

#[test]
fn governance_sets_parameters_within_bounds() {
	run(|| {
		setup();
		let params =
			Params { shares: shares(10, 60, 25, 5), contributor_cap: Perbill::from_percent(100) };
		assert_noop!(
			Attribution::set_params(RuntimeOrigin::signed(OWNER), params),
			DispatchError::BadOrigin
		);
		assert_ok!(Attribution::set_params(RuntimeOrigin::root(), params));
		assert_eq!(Attribution::api_params(), params);
		assert_eq!(last_event(), Event::ParamsSet { params });
		pay(10_000, &[WORKER], &[entry(101, 100)]);
		assert_eq!(owed(21), 6_000);

		let out_of_bounds = [
			shares(20, 35, 40, 6),  // sums to 101 %
			shares(25, 9, 61, 5),   // contributors below 10 %
			shares(71, 10, 14, 5),  // owner above 70 %
			shares(5, 10, 71, 14),  // workers above 70 %
			shares(20, 35, 24, 21), // treasury above 20 %
		];
		for shares in out_of_bounds {
			let params = Params { shares, contributor_cap: Perbill::from_percent(50) };
			assert_noop!(
				Attribution::set_params(RuntimeOrigin::root(), params),
				Error::<Test>::ParamsOutOfBounds
			);
		}
		let low_cap =
			Params { shares: shares(20, 35, 40, 5), contributor_cap: Perbill::from_percent(9) };
		assert_noop!(
			Attribution::set_params(RuntimeOrigin::root(), low_cap),
			Error::<Test>::ParamsOutOfBounds
		);
		// The bounds themselves are allowed.
		let edge =
			Params { shares: shares(70, 10, 0, 20), contributor_cap: Perbill::from_percent(10) };
		assert_ok!(Attribution::set_params(RuntimeOrigin::root(), edge));
	});
}

// ---- Weights --------------------------------------------------------------------------------

#[test]
fn a_split_is_charged_at_most_its_declared_weight() {
	run(|| {
		setup();
		assert_ok!(Balances::transfer(&PAYER, &Attribution::pot(), 100, Preservation::Preserve));
		let used = <Attribution as Payout<AccountId, Balance>>::distribute(
			MODEL,
			1,
			&[WORKER],
			100,
			&[entry(101, 50)],
		)
		.unwrap();
		let one = <Attribution as Payout<AccountId, Balance>>::max_weight(1);
		assert!(used.all_lte(one));
		assert!(used.ref_time() < one.ref_time(), "one entry costs less than MaxAttribution");
		let many = <Attribution as Payout<AccountId, Balance>>::max_weight(u32::MAX);
		assert!(one.ref_time() < many.ref_time());
		assert_eq!(
			many,
			<Attribution as Payout<AccountId, Balance>>::max_weight(crate::impls::MAX_PAID_WORKERS)
		);
	});
}

#[test]
fn a_batch_credits_exactly_what_its_fees_one_by_one_would() {
	use pallet_inference::traits::BatchFee;
	let attributions = [
		vec![entry(101, 60), entry(102, 40)],
		vec![entry(103, 30), entry(101, 30), entry(104, 40)],
		vec![entry(102, 100)],
	];
	let fees = [10_000u128, 7_001, 333];
	type State = (
		Vec<(AccountId, Balance)>,
		Vec<(ContributionId, ContributionRecordOf<Test>)>,
		Option<VersionRecordOf<Test>>,
		usize,
	);
	let state = || -> State {
		let distributed = System::events()
			.iter()
			.filter(|r| matches!(r.event, RuntimeEvent::Attribution(Event::FeeDistributed { .. })))
			.count();
		(
			Rewards::<Test>::iter().collect::<Vec<_>>().tap_sort(),
			ContributionRecords::<Test>::iter().collect::<Vec<_>>().tap_sort(),
			VersionRecords::<Test>::get(MODEL, 1),
			distributed,
		)
	};
	let mut one_by_one: Option<State> = None;
	run(|| {
		setup();
		for (fee, attribution) in fees.iter().zip(&attributions) {
			pay(*fee, &[WORKER], attribution);
		}
		one_by_one = Some(state());
	});
	run(|| {
		setup();
		let total: Balance = fees.iter().sum();
		assert_ok!(Balances::transfer(&PAYER, &Attribution::pot(), total, Preservation::Preserve));
		let batch: Vec<BatchFee<'_, Balance>> = fees
			.iter()
			.zip(&attributions)
			.map(|(fee, attribution)| BatchFee { model: MODEL, version: 1, fee: *fee, attribution })
			.collect();
		let used = <Attribution as Payout<AccountId, Balance>>::distribute_batch(&[WORKER], &batch)
			.unwrap();
		assert!(used.all_lte(<Attribution as Payout<AccountId, Balance>>::max_weight(1) * 3));
		assert_eq!(Some(state()), one_by_one);
		// Emissions heard of each contributor and of the worker once, with their sums.
		let notes = contributor_notes();
		let mut accounts: Vec<AccountId> = notes.iter().map(|(who, _)| *who).collect();
		accounts.dedup();
		assert_eq!(accounts.len(), notes.len());
		assert_eq!(worker_notes().len(), 1);
		assert_eq!(worker_notes()[0].1, owed(WORKER));
	});
}

/// Sorts a vector in place and returns it.
trait TapSort {
	fn tap_sort(self) -> Self;
}

impl<K: Ord, V> TapSort for Vec<(K, V)> {
	fn tap_sort(mut self) -> Self {
		self.sort_by(|a, b| a.0.cmp(&b.0));
		self
	}
}
