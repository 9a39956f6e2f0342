//! Money only moves: every path conserves total issuance, and what a receipt takes from the
//! deposit is exactly what the worker and the owner receive.

use super::*;

#[test]
fn fees_are_conserved_on_every_path() {
	run(|| {
		setup();
		let issuance = Balances::total_issuance();
		let everyone = [alice(), bob(), owner(), worker(), worker2()];
		let total = |who: &AccountId| free(who) + held(who);
		let before: Vec<Balance> = everyone.iter().map(total).collect();

		assert_ok!(Inference::deposit(RuntimeOrigin::signed(alice()), 5_000));
		assert_ok!(Inference::deposit(RuntimeOrigin::signed(bob()), 777));
		assert_ok!(Inference::request_withdrawal(RuntimeOrigin::signed(alice()), 3_000));
		// Odd fees, so the split rounds: 333 tokens at 1,000 per 1k is 333, 70 % of it 233.1.
		let odd = |n| Request { prompt_tokens: 333, completion_tokens: 0, ..Request::new(n) };
		submit(vec![
			odd(1).signed(),
			Request::new(2).signed(),
			odd(1).by("Bob").signed(),
			Request::new(2).by("Bob").signed(), // 444 left: too little
		]);
		submit(vec![Request { max_fee: 7, ..Request::new(3) }.signed()]);
		assert_ok!(submit_as(
			worker2(),
			vec![Request { worker: worker2(), ..Request::new(1) }.signed()]
		));
		run_to_block(1 + WITHDRAW_DELAY);
		assert_ok!(Inference::withdraw(RuntimeOrigin::signed(alice())));

		let fees: Balance = settled().iter().map(|(_, fee)| fee).sum();
		assert_eq!(fees, 333 + FEE + 333 + 7 + FEE);
		let moved: Balance = paid().iter().map(|(_, _, _, fee, _)| fee).sum();
		assert_eq!(moved, fees);
		assert_eq!(free(&account("Pot")), POT_START);
		let after: Vec<Balance> = everyone.iter().map(total).collect();
		let paid_by_clients = (before[0] - after[0]) + (before[1] - after[1]);
		let received = (after[2] - before[2]) + (after[3] - before[3]) + (after[4] - before[4]);
		assert_eq!(paid_by_clients, fees);
		assert_eq!(received, fees);
		assert_eq!(after[3] - before[3], 233 + TO_WORKER + 233 + 4);
		assert_eq!(after[4] - before[4], TO_WORKER);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}
