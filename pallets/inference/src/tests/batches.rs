//! Batches: mixed batches, call-level errors, the batch bound and the weight charged.

use super::*;
use codec::{Decode, Encode};
use frame_support::{assert_noop, dispatch::GetDispatchInfo, BoundedVec};

#[test]
fn a_mixed_batch_settles_the_good_receipts_only() {
	run(|| {
		setup_with_deposit(900);
		assert_ok!(Inference::deposit(RuntimeOrigin::signed(bob()), 10_000));
		let (worker_before, owner_before) = (free(&worker()), free(&owner()));
		submit(vec![
			Request::new(1).signed(),
			// Alice signs a request that bills Bob.
			Request { signer: "Alice", ..Request::new(5).by("Bob") }.signed(),
			Request::new(2).by("Bob").signed(),
			// Alice has 400 left: not enough for another.
			Request::new(3).signed(),
		]);
		assert_eq!(
			rejected(),
			vec![(1, RejectReason::BadSignature), (3, RejectReason::InsufficientDeposit)]
		);
		assert_eq!(settled(), vec![(1, FEE), (2, FEE)]);
		assert_eq!(held(&alice()), 900 - FEE);
		assert_eq!(held(&bob()), 10_000 - FEE);
		assert_eq!(free(&worker()), worker_before + 2 * TO_WORKER);
		assert_eq!(free(&owner()), owner_before + 2 * TO_OWNER);
		assert_eq!(Nonces::<Test>::get(alice(), worker()), 1);
		assert_eq!(Nonces::<Test>::get(bob(), worker()), 2);
	});
}

#[test]
fn refuses_a_caller_that_is_not_a_worker() {
	run(|| {
		setup_with_deposit(10_000);
		let receipt = Request { worker: stranger(), ..Request::new(1) }.signed();
		assert_noop!(submit_as(stranger(), vec![receipt.clone()]), Error::<Test>::NotWorker);
		// A worker that left cannot submit any more either.
		remove_worker(&worker());
		assert_noop!(submit_as(worker(), vec![Request::new(1).signed()]), Error::<Test>::NotWorker);
	});
}

#[test]
fn refuses_an_empty_batch() {
	run(|| {
		setup();
		assert_noop!(submit_as(worker(), vec![]), Error::<Test>::EmptyBatch);
	});
}

#[test]
fn a_batch_holds_at_most_max_receipts() {
	run(|| {
		setup_with_deposit(10_000);
		let full: Vec<_> =
			(1..=u64::from(MAX_RECEIPTS)).map(|n| Request::new(n).signed()).collect();
		let over = [full.clone(), vec![Request::new(99).signed()]].concat();
		assert!(BoundedVec::<ReceiptOf<Test>, <Test as Config>::MaxReceipts>::try_from(
			over.clone()
		)
		.is_err());
		// An encoded call (index 5) with one receipt too many does not decode.
		assert!(crate::Call::<Test>::decode(&mut &(5u8, over).encode()[..]).is_err());
		assert!(crate::Call::<Test>::decode(&mut &(5u8, full.clone()).encode()[..]).is_ok());
		submit(full);
		assert_eq!(settled().len(), MAX_RECEIPTS as usize);
	});
}

#[test]
fn charges_per_receipt_and_refunds_unused_hook_weight() {
	run(|| {
		setup_with_deposit(10_000);
		let receipts =
			vec![Request::new(1).signed(), Request { signer: "Bob", ..Request::new(2) }.signed()];
		let call =
			crate::Call::<Test>::submit_receipts { receipts: receipts.clone().try_into().unwrap() };
		let declared = call.get_dispatch_info().call_weight;
		let base = <() as crate::WeightInfo>::submit_receipts(2);
		assert_eq!(declared, base + HOOK_MAX * 2);
		let post = submit_as(worker(), receipts).unwrap();
		// One receipt settled: its hook used HOOK_USED.
		assert_eq!(post.actual_weight, Some(base + HOOK_USED));
		assert!(
			<() as crate::WeightInfo>::submit_receipts(2).ref_time()
				> <() as crate::WeightInfo>::submit_receipts(1).ref_time()
		);
	});
}
