//! Replay protection: nonces strictly increase per (client, worker).

use super::*;

#[test]
fn rejects_the_same_receipt_twice() {
	run(|| {
		setup_with_deposit(10_000);
		let receipt = Request::new(1).signed();
		submit(vec![receipt.clone()]);
		assert_eq!(rejection_of(receipt.clone()), RejectReason::StaleNonce);
		// Within one batch too.
		let next = Request::new(2).signed();
		submit(vec![next.clone(), next]);
		assert_eq!(rejected().last(), Some(&(1, RejectReason::StaleNonce)));
		assert_eq!(settled(), vec![(1, FEE), (2, FEE)]);
		assert_eq!(held(&alice()), 10_000 - 2 * FEE);
	});
}

#[test]
fn rejects_a_lower_nonce_after_a_higher_one() {
	run(|| {
		setup_with_deposit(10_000);
		submit(vec![Request::new(5).signed()]);
		assert_eq!(rejection_of(Request::new(4).signed()), RejectReason::StaleNonce);
		assert_eq!(rejection_of(Request::new(5).signed()), RejectReason::StaleNonce);
		submit(vec![Request::new(9).signed()]);
		assert_eq!(Nonces::<Test>::get(alice(), worker()), 9);
	});
}

#[test]
fn a_batch_is_processed_in_order() {
	run(|| {
		setup_with_deposit(10_000);
		submit(vec![Request::new(1).signed(), Request::new(3).signed(), Request::new(2).signed()]);
		assert_eq!(settled(), vec![(1, FEE), (3, FEE)]);
		assert_eq!(rejected(), vec![(2, RejectReason::StaleNonce)]);
	});
}

#[test]
fn the_first_nonce_must_be_above_zero() {
	run(|| {
		setup_with_deposit(10_000);
		assert_eq!(rejection_of(Request::new(0).signed()), RejectReason::StaleNonce);
	});
}

#[test]
fn nonces_are_kept_per_worker() {
	run(|| {
		setup_with_deposit(10_000);
		submit(vec![Request::new(1).signed()]);
		assert_ok!(submit_as(
			worker2(),
			vec![Request { worker: worker2(), ..Request::new(1) }.signed()]
		));
		assert_eq!(settled(), vec![(1, FEE), (1, FEE)]);
		assert_eq!(Nonces::<Test>::get(alice(), worker()), 1);
		assert_eq!(Nonces::<Test>::get(alice(), worker2()), 1);
	});
}

#[test]
fn a_rejected_receipt_does_not_use_up_its_nonce() {
	run(|| {
		setup_with_deposit(10_000);
		let forged = Request { signer: "Bob", ..Request::new(5) };
		assert_eq!(rejection_of(forged.signed()), RejectReason::BadSignature);
		submit(vec![Request::new(5).signed()]);
		assert_eq!(settled(), vec![(5, FEE)]);
	});
}
