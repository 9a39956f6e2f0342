//! Deposits, withdrawal requests and withdrawals after the delay.

use super::*;
use frame_support::assert_noop;

#[test]
fn deposit_holds_from_the_free_balance() {
	run(|| {
		assert_ok!(Inference::deposit(RuntimeOrigin::signed(alice()), 10_000));
		assert_eq!(free(&alice()), INITIAL_BALANCE - 10_000);
		assert_eq!(held(&alice()), 10_000);
		assert_eq!(last_event(), Event::Deposited { who: alice(), amount: 10_000, held: 10_000 });
		assert_ok!(Inference::deposit(RuntimeOrigin::signed(alice()), 5_000));
		assert_eq!(held(&alice()), 15_000);
		assert_eq!(Deposits::<Test>::get(alice()).unwrap().held, 15_000);
		assert_eq!(last_event(), Event::Deposited { who: alice(), amount: 5_000, held: 15_000 });
	});
}

#[test]
fn refuses_empty_and_unaffordable_deposits() {
	run(|| {
		let origin = || RuntimeOrigin::signed(alice());
		assert_noop!(Inference::deposit(origin(), 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			Inference::deposit(origin(), INITIAL_BALANCE + 1),
			Error::<Test>::InsufficientBalance
		);
		let nobody = account("Nobody");
		assert_noop!(
			Inference::deposit(RuntimeOrigin::signed(nobody), 1),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn withdrawal_unlocks_exactly_after_the_delay() {
	run(|| {
		let origin = || RuntimeOrigin::signed(alice());
		assert_ok!(Inference::deposit(origin(), 10_000));
		assert_ok!(Inference::request_withdrawal(origin(), 4_000));
		let unlock_at = 1 + WITHDRAW_DELAY;
		assert_eq!(
			last_event(),
			Event::WithdrawalRequested { who: alice(), amount: 4_000, unlock_at }
		);
		// Still held while it waits.
		assert_eq!(held(&alice()), 10_000);
		assert_noop!(Inference::withdraw(origin()), Error::<Test>::WithdrawalLocked);
		run_to_block(unlock_at - 1);
		assert_noop!(Inference::withdraw(origin()), Error::<Test>::WithdrawalLocked);
		run_to_block(unlock_at);
		assert_ok!(Inference::withdraw(origin()));
		assert_eq!(last_event(), Event::Withdrawn { who: alice(), amount: 4_000, held: 6_000 });
		assert_eq!(held(&alice()), 6_000);
		assert_eq!(free(&alice()), INITIAL_BALANCE - 6_000);
		assert_eq!(Deposits::<Test>::get(alice()).unwrap().withdrawal, None);
		assert_noop!(Inference::withdraw(origin()), Error::<Test>::NoWithdrawal);
	});
}

#[test]
fn withdrawing_everything_removes_the_deposit() {
	run(|| {
		let origin = || RuntimeOrigin::signed(alice());
		assert_ok!(Inference::deposit(origin(), 10_000));
		assert_ok!(Inference::request_withdrawal(origin(), 10_000));
		run_to_block(1 + WITHDRAW_DELAY);
		assert_ok!(Inference::withdraw(origin()));
		assert_eq!(Deposits::<Test>::get(alice()), None);
		assert_eq!(held(&alice()), 0);
		assert_eq!(free(&alice()), INITIAL_BALANCE);
	});
}

#[test]
fn another_request_adds_to_the_pending_withdrawal_and_restarts_the_delay() {
	run(|| {
		let origin = || RuntimeOrigin::signed(alice());
		assert_ok!(Inference::deposit(origin(), 10_000));
		assert_ok!(Inference::request_withdrawal(origin(), 3_000));
		run_to_block(5);
		assert_ok!(Inference::request_withdrawal(origin(), 2_000));
		let unlock_at = 5 + WITHDRAW_DELAY;
		assert_eq!(
			last_event(),
			Event::WithdrawalRequested { who: alice(), amount: 5_000, unlock_at }
		);
		run_to_block(1 + WITHDRAW_DELAY);
		assert_noop!(Inference::withdraw(origin()), Error::<Test>::WithdrawalLocked);
		run_to_block(unlock_at);
		assert_ok!(Inference::withdraw(origin()));
		assert_eq!(held(&alice()), 5_000);
	});
}

#[test]
fn refuses_bad_withdrawal_requests() {
	run(|| {
		let origin = || RuntimeOrigin::signed(alice());
		assert_noop!(Inference::request_withdrawal(origin(), 1), Error::<Test>::NoDeposit);
		assert_noop!(Inference::withdraw(origin()), Error::<Test>::NoWithdrawal);
		assert_ok!(Inference::deposit(origin(), 1_000));
		assert_noop!(Inference::request_withdrawal(origin(), 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			Inference::request_withdrawal(origin(), 1_001),
			Error::<Test>::WithdrawalExceedsDeposit
		);
		assert_ok!(Inference::request_withdrawal(origin(), 600));
		assert_noop!(
			Inference::request_withdrawal(origin(), 401),
			Error::<Test>::WithdrawalExceedsDeposit
		);
		assert_noop!(Inference::withdraw(origin()), Error::<Test>::WithdrawalLocked);
	});
}

#[test]
fn a_pending_withdrawal_still_pays_receipts_and_shrinks_to_what_is_left() {
	run(|| {
		setup_with_deposit(1_000);
		let origin = || RuntimeOrigin::signed(alice());
		assert_ok!(Inference::request_withdrawal(origin(), 1_000));
		// Served after asking to leave: the receipt still lands and is paid.
		submit(vec![Request::new(1).signed()]);
		assert_eq!(settled(), vec![(1, FEE)]);
		let info = Deposits::<Test>::get(alice()).unwrap();
		assert_eq!(info.held, 1_000 - FEE);
		assert_eq!(info.withdrawal.unwrap().amount, 1_000 - FEE);
		run_to_block(1 + WITHDRAW_DELAY);
		assert_ok!(Inference::withdraw(origin()));
		assert_eq!(last_event(), Event::Withdrawn { who: alice(), amount: 1_000 - FEE, held: 0 });
		assert_eq!(Deposits::<Test>::get(alice()), None);
		assert_eq!(free(&alice()), INITIAL_BALANCE - FEE);
	});
}

#[test]
fn receipts_that_use_the_whole_deposit_leave_nothing_to_withdraw() {
	run(|| {
		setup_with_deposit(FEE);
		assert_ok!(Inference::request_withdrawal(RuntimeOrigin::signed(alice()), FEE));
		submit(vec![Request::new(1).signed()]);
		assert_eq!(Deposits::<Test>::get(alice()), None);
		assert_eq!(held(&alice()), 0);
		run_to_block(1 + WITHDRAW_DELAY);
		assert_noop!(
			Inference::withdraw(RuntimeOrigin::signed(alice())),
			Error::<Test>::NoWithdrawal
		);
	});
}
