//! Team and investor vesting: locked for 12 months, then linear over 36 months.

use super::*;
use crate::{genesis::dev_holders, tokenomics::*, MONTHS};
use frame_support::traits::VestingSchedule;
use sp_runtime::DispatchError;

/// What the vesting schedule still locks for `who` at block `n`.
fn locked_at(who: &AccountId, n: u32) -> Balance {
	System::set_block_number(n);
	<pallet_vesting::Pallet<Runtime> as VestingSchedule<AccountId>>::vesting_balance(who)
		.unwrap_or(0)
}

fn vested_holders() -> Vec<(AccountId, Balance)> {
	let holders = dev_holders();
	holders.team.iter().chain(&holders.investors).map(|who| (who.clone(), free(who))).collect()
}

#[test]
fn a_month_is_432_000_blocks_and_the_timeline_spans_48_months() {
	assert_eq!(MONTHS, 432_000);
	assert_eq!(VESTING_CLIFF, 12 * 432_000);
	assert_eq!(VESTING_CLIFF + VESTING_DURATION, 48 * 432_000);
}

#[test]
fn everything_stays_locked_until_the_cliff() {
	dev_ext().execute_with(|| {
		for (who, share) in vested_holders() {
			assert_eq!(locked_at(&who, 0), share, "block 0");
			assert_eq!(locked_at(&who, VESTING_CLIFF - 1), share, "cliff minus one block");
			assert_eq!(locked_at(&who, VESTING_CLIFF), share, "the cliff block itself");
			assert!(locked_at(&who, VESTING_CLIFF + 1) < share, "release starts after the cliff");
		}
	});
}

#[test]
fn half_is_released_half_way_through_the_linear_period() {
	dev_ext().execute_with(|| {
		for (who, share) in vested_holders() {
			let per_block = share / VESTING_DURATION as Balance;
			let half_way = VESTING_CLIFF + VESTING_DURATION / 2;
			let locked = locked_at(&who, half_way);
			assert_eq!(locked, share - per_block * (VESTING_DURATION / 2) as Balance);
			// Integer division of the per-block release leaves less than one planck per block
			// still locked: within VESTING_DURATION plancks of exactly half.
			assert!(locked >= share / 2);
			assert!(locked - share / 2 < VESTING_DURATION as Balance);
		}
	});
}

#[test]
fn everything_is_released_after_48_months() {
	dev_ext().execute_with(|| {
		for (who, share) in vested_holders() {
			let per_block = share / VESTING_DURATION as Balance;
			let end = 48 * MONTHS;
			// At the 48-month block only the rounding dust of the per-block rate remains...
			assert!(locked_at(&who, end) < per_block);
			assert!(locked_at(&who, end) < OPEN / 1_000_000);
			// ...and one block later nothing.
			assert_eq!(locked_at(&who, end + 1), 0);
			assert_eq!(locked_at(&who, end + 12 * MONTHS), 0);
		}
	});
}

#[test]
fn a_team_account_cannot_transfer_before_the_cliff() {
	dev_ext().execute_with(|| {
		let eve = Sr25519Keyring::Eve;
		let alice = Sr25519Keyring::Alice;
		let share = free(&eve.to_account_id());
		start_block(1);

		// Fully locked: Eve cannot even pay a transaction fee.
		let xt = signed(eve, transfer(&alice.to_account_id(), OPEN));
		assert!(Executive::apply_extrinsic(xt).is_err());

		// Given 10 free OPEN for fees, Eve can spend those but not one planck of her share.
		let gift = 10 * OPEN;
		let xt = signed(alice, transfer(&eve.to_account_id(), gift));
		assert_eq!(Executive::apply_extrinsic(xt), Ok(Ok(())));
		let before = free(&eve.to_account_id());
		let xt = signed(eve, transfer(&alice.to_account_id(), gift + OPEN));
		let outcome = Executive::apply_extrinsic(xt).expect("valid: the fee is payable");
		assert!(matches!(outcome, Err(DispatchError::Token(_))), "{outcome:?}");
		let after = free(&eve.to_account_id());
		assert!(after < before, "the fee was charged");
		assert!(after > share, "but the locked share was not touched");
		assert_eq!(frozen(&eve.to_account_id()), share);
	});
}

#[test]
fn a_team_account_can_transfer_what_has_vested() {
	dev_ext().execute_with(|| {
		let eve = Sr25519Keyring::Eve;
		let dave = Sr25519Keyring::Dave.to_account_id();
		let share = free(&eve.to_account_id());
		// One block past the half (a session change fills its block with the session's weight).
		start_block(VESTING_CLIFF + VESTING_DURATION / 2 + 1);

		// Eve's whole balance is still frozen until someone updates the lock, so Alice pays
		// for `vest_other`; then Eve moves a quarter of her share.
		let target = eve.to_account_id().into();
		let xt = signed(
			Sr25519Keyring::Alice,
			RuntimeCall::Vesting(pallet_vesting::Call::vest_other { target }),
		);
		assert_eq!(Executive::apply_extrinsic(xt), Ok(Ok(())));
		assert!(frozen(&eve.to_account_id()) <= share / 2 + VESTING_DURATION as Balance);
		let dave_before = free(&dave);
		let xt = signed(eve, transfer(&dave, share / 4));
		assert_eq!(Executive::apply_extrinsic(xt), Ok(Ok(())));
		assert_eq!(free(&dave), dave_before + share / 4);

		// More than has vested is still refused.
		let xt = signed(eve, transfer(&dave, share / 2));
		assert!(matches!(Executive::apply_extrinsic(xt), Ok(Err(_))));
		// The schedule itself is still running.
		assert!(pallet_vesting::Vesting::<Runtime>::get(eve.to_account_id()).is_some());
	});
}
