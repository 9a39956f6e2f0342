//! Checking and settling single receipts: amounts, the fee formula, and every reason to
//! reject one.

use super::*;

#[test]
fn a_valid_receipt_pays_worker_and_owner_from_the_deposit() {
	run(|| {
		setup_with_deposit(10_000);
		let (worker_before, owner_before) = (free(&worker()), free(&owner()));
		let request = Request::new(1);
		submit(vec![request.signed()]);

		assert_eq!(held(&alice()), 10_000 - FEE);
		assert_eq!(Deposits::<Test>::get(alice()).unwrap().held, 10_000 - FEE);
		assert_eq!(free(&alice()), INITIAL_BALANCE - 10_000);
		assert_eq!(free(&worker()), worker_before + TO_WORKER);
		assert_eq!(free(&owner()), owner_before + TO_OWNER);
		assert_eq!(Nonces::<Test>::get(alice(), worker()), 1);
		assert_eq!(
			events().last(),
			Some(&Event::ReceiptSettled {
				client: alice(),
				worker: worker(),
				model: MODEL,
				version: 1,
				request_hash: request.request_hash,
				fee: FEE,
				nonce: 1,
			})
		);
		// The payout was given the whole fee, the worker and the receipt's attribution, and
		// the pot passed it all on.
		assert_eq!(paid(), vec![(MODEL, 1, vec![worker()], FEE, request.attribution.clone())]);
		assert_eq!(free(&account("Pot")), POT_START);
	});
}

#[test]
fn any_existing_version_is_served() {
	run(|| {
		setup_with_deposit(10_000);
		submit(vec![Request { version: 2, ..Request::new(1) }.signed()]);
		assert_eq!(settled(), vec![(1, FEE)]);
	});
}

#[test]
fn the_fee_rounds_up_to_whole_units() {
	run(|| {
		let fee = Inference::fee;
		// 1,000 tokens at 1,000 per 1k: exact.
		assert_eq!(fee(1_000, 600, 400, u128::MAX), Ok(1_000));
		// 1 token at 1,500 per 1k is 1.5 units: 2.
		assert_eq!(fee(1_500, 1, 0, u128::MAX), Ok(2));
		// 1 token at 1 per 1k is a thousandth of a unit: 1.
		assert_eq!(fee(1, 0, 1, u128::MAX), Ok(1));
		// 1,999 tokens at 1 per 1k: 2.
		assert_eq!(fee(1, 1_000, 999, u128::MAX), Ok(2));
		// Both token counts at their largest do not overflow the count.
		assert_eq!(fee(1_000, u32::MAX, u32::MAX, u128::MAX), Ok(2 * u128::from(u32::MAX)));
	});
}

#[test]
fn the_fee_is_capped_by_max_fee() {
	run(|| {
		assert_eq!(Inference::fee(1_000, 300, 200, 100), Ok(100));
		setup_with_deposit(10_000);
		submit(vec![Request { max_fee: 100, ..Request::new(1) }.signed()]);
		assert_eq!(settled(), vec![(1, 100)]);
		assert_eq!(held(&alice()), 10_000 - 100);
	});
}

#[test]
fn rejects_receipts_without_tokens_or_without_a_fee() {
	run(|| {
		assert_eq!(Inference::fee(1_000, 0, 0, 10), Err(RejectReason::ZeroTokens));
		assert_eq!(Inference::fee(1_000, 1, 1, 0), Err(RejectReason::ZeroFee));
		setup_with_deposit(10_000);
		let no_tokens = Request { prompt_tokens: 0, completion_tokens: 0, ..Request::new(1) };
		assert_eq!(rejection_of(no_tokens.signed()), RejectReason::ZeroTokens);
		let no_fee = Request { max_fee: 0, ..Request::new(1) };
		assert_eq!(rejection_of(no_fee.signed()), RejectReason::ZeroFee);
		assert_eq!(held(&alice()), 10_000);
	});
}

#[test]
fn rejects_a_fee_that_overflows() {
	run(|| {
		assert_eq!(Inference::fee(u128::MAX / 2, 2, 1, 10), Err(RejectReason::FeeOverflow));
		setup();
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(owner()), MODEL, u128::MAX / 100));
		assert_ok!(Inference::deposit(RuntimeOrigin::signed(alice()), 10_000));
		assert_eq!(rejection_of(Request::new(1).signed()), RejectReason::FeeOverflow);
	});
}

#[test]
fn rejects_unknown_versions() {
	run(|| {
		setup_with_deposit(10_000);
		for version in [0, 3] {
			let request = Request { version, ..Request::new(1) };
			assert_eq!(rejection_of(request.signed()), RejectReason::UnknownVersion);
		}
		let request = Request { model: MODEL + 1, ..Request::new(1) };
		assert_eq!(rejection_of(request.signed()), RejectReason::UnknownVersion);
	});
}

#[test]
fn rejects_a_receipt_the_deposit_cannot_pay() {
	run(|| {
		setup_with_deposit(FEE - 1);
		assert_eq!(rejection_of(Request::new(1).signed()), RejectReason::InsufficientDeposit);
		// Bob has no deposit at all.
		assert_eq!(
			rejection_of(Request::new(1).by("Bob").signed()),
			RejectReason::InsufficientDeposit
		);
		assert_eq!(held(&alice()), FEE - 1);
		// Exactly enough is enough.
		assert_ok!(Inference::deposit(RuntimeOrigin::signed(alice()), 1));
		submit(vec![Request::new(1).signed()]);
		assert_eq!(settled(), vec![(1, FEE)]);
		assert_eq!(Deposits::<Test>::get(alice()), None);
	});
}

#[test]
fn rejects_a_signature_by_someone_else() {
	run(|| {
		setup_with_deposit(10_000);
		// Bob signs a request that bills Alice.
		let forged = Request { signer: "Bob", ..Request::new(1) };
		assert_eq!(rejection_of(forged.signed()), RejectReason::BadSignature);
		assert_eq!(held(&alice()), 10_000);
		assert_eq!(Nonces::<Test>::get(alice(), worker()), 0);
	});
}

#[test]
fn rejects_a_request_signed_for_another_worker() {
	run(|| {
		setup_with_deposit(10_000);
		let for_worker2 = Request { worker: worker2(), ..Request::new(1) }.signed();
		assert_eq!(rejection_of(for_worker2.clone()), RejectReason::BadSignature);
		// Its own worker may submit it.
		assert_ok!(submit_as(worker2(), vec![for_worker2]));
		assert_eq!(settled(), vec![(1, FEE)]);
	});
}

#[test]
fn rejects_a_request_signed_for_another_chain() {
	run(|| {
		setup_with_deposit(10_000);
		let other_chain = Request { genesis: H256::repeat_byte(1), ..Request::new(1) };
		assert_eq!(rejection_of(other_chain.signed()), RejectReason::BadSignature);
	});
}

#[test]
fn rejects_every_tampered_signed_field() {
	run(|| {
		setup_with_deposit(10_000);
		add_model(MODEL + 1, owner(), 1);
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(owner()), MODEL + 1, PRICE));
		let tampered: [fn(&mut ReceiptOf<Test>); 6] = [
			|r| r.model = MODEL + 1,
			|r| r.version = 2,
			|r| r.request_hash = H256::repeat_byte(0xee),
			|r| r.nonce = 2,
			|r| r.max_fee = 20_000,
			|r| r.client = bob(),
		];
		assert_ok!(Inference::deposit(RuntimeOrigin::signed(bob()), 10_000));
		for tamper in tampered {
			let mut receipt = Request::new(1).signed();
			tamper(&mut receipt);
			assert_eq!(rejection_of(receipt), RejectReason::BadSignature);
		}
		assert!(settled().is_empty());
		assert_eq!(held(&alice()), 10_000);
		assert_eq!(held(&bob()), 10_000);
	});
}

#[test]
fn token_counts_are_the_workers_claim_bounded_by_max_fee() {
	run(|| {
		setup_with_deposit(10_000);
		// Token counts are not signed: a worker that inflates them is held to `max_fee`.
		let mut receipt = Request { max_fee: 800, ..Request::new(1) }.signed();
		receipt.completion_tokens = 1_000_000;
		submit(vec![receipt]);
		assert_eq!(settled(), vec![(1, 800)]);
	});
}

#[test]
fn a_failed_payment_rejects_the_receipt_and_moves_nothing() {
	run(|| {
		setup_with_deposit(10_000);
		// The owner's share (150) cannot open an account with an existential deposit of 200.
		let nobody = account("Nobody");
		add_model(MODEL, nobody.clone(), 2);
		ExistentialDeposit::set(200);
		let worker_before = free(&worker());
		assert_eq!(rejection_of(Request::new(1).signed()), RejectReason::PaymentFailed);
		assert_eq!(free(&worker()), worker_before);
		assert_eq!(held(&alice()), 10_000);
		assert_eq!(Nonces::<Test>::get(alice(), worker()), 0);
		assert!(paid().is_empty());
		assert_eq!(free(&account("Pot")), POT_START);
		assert_eq!(free(&nobody), 0);
	});
}

#[test]
fn the_whole_fee_goes_to_the_owner_at_a_zero_share() {
	run(|| {
		WorkerShare::set(sp_runtime::Perbill::zero());
		setup_with_deposit(10_000);
		let (worker_before, owner_before) = (free(&worker()), free(&owner()));
		submit(vec![Request::new(1).signed()]);
		assert_eq!(free(&worker()), worker_before);
		assert_eq!(free(&owner()), owner_before + FEE);
	});
}

#[test]
fn an_owner_or_worker_serving_itself_pays_its_own_share() {
	run(|| {
		setup();
		// The owner uses its own model through worker 1.
		assert_ok!(Inference::deposit(RuntimeOrigin::signed(owner()), 10_000));
		let owner_total = || free(&owner()) + held(&owner());
		let before = owner_total();
		submit(vec![Request::new(1).by("Owner").signed()]);
		assert_eq!(settled(), vec![(1, FEE)]);
		assert_eq!(owner_total(), before - TO_WORKER);
		// Worker 1 is a client of its own.
		assert_ok!(Inference::deposit(RuntimeOrigin::signed(worker()), 10_000));
		let worker_total = || free(&worker()) + held(&worker());
		let before = worker_total();
		submit(vec![Request::new(1).by("Worker1").signed()]);
		assert_eq!(worker_total(), before - TO_OWNER);
		assert_eq!(held(&worker()), 10_000 - FEE);
	});
}

#[test]
fn a_malformed_attribution_rejects_the_receipt() {
	run(|| {
		setup_with_deposit(10_000);
		let cases = [
			vec![entry(1, 60), entry(2, 41)], // over the whole
			vec![entry(1, 50), entry(1, 10)], // a contribution twice
			vec![entry(1, 50), entry(2, 0)],  // a zero weight
		];
		for (nonce, attribution) in (1..).zip(cases) {
			let receipt = Request { attribution, ..Request::new(nonce) }.signed();
			assert_eq!(rejection_of(receipt), RejectReason::BadAttribution);
		}
		assert_eq!(held(&alice()), 10_000);
		assert!(paid().is_empty());
		// Part of the whole, or none, is well formed: the rest is unattributed.
		submit(vec![
			Request { attribution: vec![entry(3, 30)], ..Request::new(1) }.signed(),
			Request { attribution: vec![], ..Request::new(2) }.signed(),
		]);
		assert_eq!(settled(), vec![(1, FEE), (2, FEE)]);
	});
}

#[test]
fn well_formedness_is_exact_at_the_whole() {
	let whole = AttributionEntry { contribution: 1, weight: sp_runtime::Perbill::one() };
	assert!(attribution_well_formed(&[whole]));
	assert!(attribution_well_formed(&[]));
	let half = sp_runtime::Perbill::from_parts(500_000_000);
	let over = sp_runtime::Perbill::from_parts(500_000_001);
	assert!(attribution_well_formed(&[
		AttributionEntry { contribution: 1, weight: half },
		AttributionEntry { contribution: 2, weight: half },
	]));
	assert!(!attribution_well_formed(&[
		AttributionEntry { contribution: 1, weight: half },
		AttributionEntry { contribution: 2, weight: over },
	]));
}
