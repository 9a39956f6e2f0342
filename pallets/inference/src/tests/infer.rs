//! On-chain inference: requesting a job (every refusal by name, atomically), settling it when
//! compute says it completed or failed, what is ignored, and the wire layout of the spec and the
//! result the GPU worker mirrors.

use super::*;
use codec::{DecodeAll, Encode, MaxEncodedLen};
use frame_support::{
	assert_noop,
	traits::{fungible::Mutate, Get},
	weights::{RuntimeDbWeight, Weight},
};
use pallet_compute::{traits::JobHooks, JobKind};
use sp_runtime::{DispatchError, DispatchResult};

/// The default request's prompt: 5 bytes.
const PROMPT: &[u8] = b"Hello";
/// The default request's most tokens.
const MAX_TOKENS: u32 = 100;
/// What the default request holds at [`PRICE`]: 5 + 100 tokens at one unit each.
const HELD: Balance = 105;
/// The compute fee the default request offers the workers (the fake creator escrows nothing).
const JOB_FEE: Balance = 50;
const REPLICATION: u8 = 3;
const TIMEOUT: u64 = 20;

/// [`run`] with the mock payout giving workers nothing: the owner gets each whole fee.
fn run_infer(test: impl FnOnce()) {
	run(|| {
		WorkerShare::set(sp_runtime::Perbill::zero());
		test()
	})
}

fn infer_held(who: &AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::InferJob.into(), who)
}

/// `who` asks for `prompt` with `max_tokens` of `model`'s `version`.
fn request_as(
	who: AccountId,
	model: ModelId,
	version: Option<VersionIndex>,
	prompt: &[u8],
	max_tokens: u32,
) -> DispatchResult {
	Inference::request_inference(
		RuntimeOrigin::signed(who),
		model,
		version,
		prompt.to_vec(),
		max_tokens,
		JOB_FEE,
		REPLICATION,
		TIMEOUT,
	)
}

/// Alice asks for the default request of [`MODEL`] v1; returns the job.
fn request() -> JobId {
	assert_ok!(request_as(alice(), MODEL, Some(1), PROMPT, MAX_TOKENS));
	created_jobs().last().expect("a job was created").id
}

fn result(completion: &[u8], prompt_tokens: u32, completion_tokens: u32) -> Vec<u8> {
	attributed(completion, prompt_tokens, completion_tokens, vec![entry(5, 100)])
}

fn attributed(
	completion: &[u8],
	prompt_tokens: u32,
	completion_tokens: u32,
	attribution: Vec<AttributionEntry>,
) -> Vec<u8> {
	InferResult { completion: completion.to_vec(), prompt_tokens, completion_tokens, attribution }
		.encode()
}

/// What a hook returns for a job it does not know.
fn one_read() -> Weight {
	<<Test as frame_system::Config>::DbWeight as Get<RuntimeDbWeight>>::get().reads(1)
}

fn workers() -> Vec<AccountId> {
	vec![worker(), worker2()]
}

/// Compute says `job` completed with `payload`, hashed honestly.
fn complete(job: JobId, payload: &[u8]) -> Weight {
	let outcome = H256(sp_io::hashing::blake2_256(payload));
	complete_with(job, JobKind::Infer, outcome, payload)
}

fn complete_with(job: JobId, kind: JobKind, outcome: H256, payload: &[u8]) -> Weight {
	<Inference as JobHooks<AccountId>>::on_completed(
		job,
		&alice(),
		kind,
		&[],
		outcome,
		payload,
		&workers(),
	)
}

fn fail(job: JobId, kind: JobKind) -> Weight {
	<Inference as JobHooks<AccountId>>::on_failed(job, &alice(), kind, &[])
}

// ---- Requests -------------------------------------------------------------------------------

#[test]
fn a_request_holds_its_most_cost_and_creates_the_job() {
	run_infer(|| {
		setup();
		let free_before = free(&alice());
		let job = request();

		assert_eq!(job, FIRST_JOB);
		assert_eq!(infer_held(&alice()), HELD);
		assert_eq!(free(&alice()), free_before - HELD);
		let spec = InferSpec { model: MODEL, version: 1, prompt: PROMPT.to_vec(), max_tokens: 100 };
		assert_eq!(
			created_jobs(),
			vec![CreatedJob {
				id: job,
				requester: alice(),
				kind: JobKind::Infer,
				spec: spec.encode(),
				fee: JOB_FEE,
				replication: REPLICATION,
				timeout: TIMEOUT,
			}]
		);
		let pending = PendingInfer {
			requester: alice(),
			model: MODEL,
			version: 1,
			price_per_1k_tokens: PRICE,
			held: HELD,
		};
		assert_eq!(PendingInfers::<Test>::get(job), Some(pending.clone()));
		assert_eq!(PendingInfers::<Test>::count(), 1);
		assert_eq!(Inference::api_pending_infer(job), Some(pending));
		assert_eq!(Inference::api_pending_infer(job + 1), None);
		assert_eq!(
			last_event(),
			Event::InferenceRequested {
				job,
				requester: alice(),
				model: MODEL,
				version: 1,
				held: HELD
			}
		);
	});
}

#[test]
fn the_hold_rounds_up() {
	run_infer(|| {
		setup();
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(owner()), MODEL, 1_500));
		// 3 + 4 tokens at 1.5 each: 10.5, held as 11.
		assert_ok!(request_as(alice(), MODEL, Some(1), b"abc", 4));
		assert_eq!(infer_held(&alice()), 11);
		// A multi-byte prompt counts its bytes: "é" is 2.
		assert_ok!(request_as(alice(), MODEL, Some(1), "é".as_bytes(), 1));
		assert_eq!(infer_held(&alice()), 11 + 5);
	});
}

#[test]
fn no_version_means_the_active_one() {
	run_infer(|| {
		setup();
		// The mock's active version is the latest: 2.
		assert_ok!(request_as(alice(), MODEL, None, PROMPT, MAX_TOKENS));
		let job = created_jobs()[0].id;
		assert_eq!(PendingInfers::<Test>::get(job).map(|p| p.version), Some(2));
		let spec = InferSpec::decode_all(&mut &created_jobs()[0].spec[..]).unwrap();
		assert_eq!(spec.version, 2);
	});
}

#[test]
fn the_limits_are_inclusive() {
	run_infer(|| {
		setup();
		let longest = vec![b'x'; MAX_PROMPT_LEN as usize];
		assert_ok!(request_as(alice(), MODEL, Some(1), &longest, MAX_INFER_TOKENS));
		assert_ok!(request_as(alice(), MODEL, Some(1), b"x", 1));
		assert_eq!(infer_held(&alice()), Balance::from(MAX_PROMPT_LEN + MAX_INFER_TOKENS) + 2);
		assert_eq!(created_jobs()[0].spec.len(), 4 + 4 + 2 + MAX_PROMPT_LEN as usize + 4);
	});
}

#[test]
fn bad_requests_are_refused_by_name() {
	run_infer(|| {
		setup();
		add_model(8, owner(), 1); // no price
		let refused = |model, version, prompt: &[u8], max_tokens, error: Error<Test>| {
			assert_noop!(request_as(alice(), model, version, prompt, max_tokens), error);
		};
		refused(MODEL, Some(1), b"", MAX_TOKENS, Error::EmptyPrompt);
		let too_long = vec![b'x'; MAX_PROMPT_LEN as usize + 1];
		refused(MODEL, Some(1), &too_long, MAX_TOKENS, Error::PromptTooLong);
		refused(MODEL, Some(1), &[b'a', 0xff], MAX_TOKENS, Error::PromptNotUtf8);
		refused(MODEL, Some(1), &[0xc3], MAX_TOKENS, Error::PromptNotUtf8); // a cut "é"
		refused(MODEL, Some(1), PROMPT, 0, Error::MaxTokensOutOfRange);
		refused(MODEL, Some(1), PROMPT, MAX_INFER_TOKENS + 1, Error::MaxTokensOutOfRange);
		refused(MODEL, Some(3), PROMPT, MAX_TOKENS, Error::UnknownVersion);
		refused(MODEL, Some(0), PROMPT, MAX_TOKENS, Error::UnknownVersion);
		refused(99, Some(1), PROMPT, MAX_TOKENS, Error::UnknownVersion);
		refused(99, None, PROMPT, MAX_TOKENS, Error::UnknownVersion);
		refused(8, Some(1), PROMPT, MAX_TOKENS, Error::NoPrice);
		refused(8, None, PROMPT, MAX_TOKENS, Error::NoPrice);
		assert_noop!(
			Inference::request_inference(
				RuntimeOrigin::none(),
				MODEL,
				None,
				PROMPT.to_vec(),
				MAX_TOKENS,
				JOB_FEE,
				REPLICATION,
				TIMEOUT
			),
			DispatchError::BadOrigin
		);
		assert!(created_jobs().is_empty());
	});
}

#[test]
fn a_model_without_an_active_version_is_refused() {
	run_infer(|| {
		setup();
		// A model without versions: the mock names version 0 active, which does not exist.
		add_model(9, owner(), 0);
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(owner()), 9, PRICE));
		assert_noop!(
			request_as(alice(), 9, None, PROMPT, MAX_TOKENS),
			Error::<Test>::UnknownVersion
		);
	});
}

#[test]
fn pending_jobs_are_capped() {
	run_infer(|| {
		setup();
		for _ in 0..MAX_PENDING_INFERS {
			request();
		}
		assert_noop!(
			request_as(bob(), MODEL, Some(1), PROMPT, MAX_TOKENS),
			Error::<Test>::TooManyPendingInfers
		);
		// Settling one makes room.
		fail(FIRST_JOB, JobKind::Infer);
		assert_ok!(request_as(bob(), MODEL, Some(1), PROMPT, MAX_TOKENS));
	});
}

#[test]
fn a_requester_that_cannot_hold_the_cost_is_refused() {
	run_infer(|| {
		setup();
		let poor = account("Poor");
		// Free balance minus the existential deposit is one short of the hold.
		assert_ok!(Balances::transfer_allow_death(
			RuntimeOrigin::signed(bob()),
			poor.clone(),
			HELD
		));
		assert_noop!(
			request_as(poor.clone(), MODEL, Some(1), PROMPT, MAX_TOKENS),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(Balances::transfer_allow_death(RuntimeOrigin::signed(bob()), poor.clone(), 1));
		assert_ok!(request_as(poor.clone(), MODEL, Some(1), PROMPT, MAX_TOKENS));
		assert_eq!(infer_held(&poor), HELD);
	});
}

#[test]
fn a_cost_that_overflows_is_refused() {
	run_infer(|| {
		setup();
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(owner()), MODEL, Balance::MAX / 2));
		assert_noop!(
			request_as(alice(), MODEL, Some(1), PROMPT, MAX_TOKENS),
			Error::<Test>::CostOverflow
		);
	});
}

#[test]
fn a_refused_job_undoes_the_hold() {
	run_infer(|| {
		setup();
		set_jobs_fail(true);
		assert_noop!(request_as(alice(), MODEL, Some(1), PROMPT, MAX_TOKENS), JOBS_REFUSED);
		assert_eq!(infer_held(&alice()), 0);
		assert_eq!(PendingInfers::<Test>::count(), 0);
	});
}

// ---- Settlement -----------------------------------------------------------------------------

#[test]
fn completion_pays_the_owner_the_token_fee_and_releases_the_rest() {
	run_infer(|| {
		setup();
		let issuance = Balances::total_issuance();
		let (alice_before, owner_before) = (free(&alice()), free(&owner()));
		let job = request();
		// 5 + 37 tokens at one unit each.
		let weight = complete(job, &result("Hi there!".as_bytes(), 5, 37));

		assert_eq!(weight, <() as crate::WeightInfo>::on_completed() + HOOK_MAX);
		assert_eq!(infer_held(&alice()), 0);
		assert_eq!(free(&alice()), alice_before - 42);
		assert_eq!(free(&owner()), owner_before + 42);
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(PendingInfers::<Test>::get(job), None);
		assert_eq!(PendingInfers::<Test>::count(), 0);
		assert_eq!(
			last_event(),
			Event::InferenceCompleted {
				job,
				model: MODEL,
				version: 1,
				completion: b"Hi there!".to_vec(),
				prompt_tokens: 5,
				completion_tokens: 37,
				fee: 42,
				workers: 2,
			}
		);
		// Settled once: a second report is an unknown job.
		assert_eq!(complete(job, &result(b"again", 5, 37)), one_read());
		assert_eq!(free(&owner()), owner_before + 42);
	});
}

#[test]
fn completion_pays_out_with_the_agreeing_workers_and_the_attribution() {
	run(|| {
		setup();
		let (w1, w2) = (free(&worker()), free(&worker2()));
		let job = request();
		let payload = attributed(b"Hi", 5, 37, vec![entry(4, 70), entry(6, 30)]);
		complete(job, &payload);
		assert_eq!(paid(), vec![(MODEL, 1, workers(), 42, vec![entry(4, 70), entry(6, 30)])]);
		// 70 % of 42 is 29 (rounded down), shared by the two agreeing workers.
		assert_eq!(free(&worker()) + free(&worker2()) - w1 - w2, 29);
		assert_eq!(free(&account("Pot")), POT_START);
	});
}

#[test]
fn a_result_with_a_malformed_or_oversized_attribution_is_invalid() {
	run_infer(|| {
		setup();
		let alice_before = free(&alice());
		let too_many = (1..=MAX_ATTRIBUTION as u64 + 1).map(|c| entry(c, 10)).collect();
		for attribution in [vec![entry(1, 70), entry(1, 30)], too_many] {
			let job = request();
			complete(job, &attributed(b"Hi", 5, 37, attribution));
			assert_eq!(last_event(), Event::InferenceResultInvalid { job });
		}
		assert_eq!(free(&alice()), alice_before);
		assert!(paid().is_empty());
	});
}

#[test]
fn the_fee_rounds_up_at_the_price_of_the_request() {
	run_infer(|| {
		setup();
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(owner()), MODEL, 1_500));
		let owner_before = free(&owner());
		let job = request();
		// The owner's new price does not change a pending job's.
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(owner()), MODEL, 1_000_000));
		// 1 + 2 tokens at 1.5: 4.5, paid as 5.
		complete(job, &result(b"ok", 1, 2));
		assert_eq!(free(&owner()), owner_before + 5);
		assert_eq!(infer_held(&alice()), 0);
	});
}

#[test]
fn the_fee_is_capped_at_what_is_held() {
	run_infer(|| {
		setup();
		let issuance = Balances::total_issuance();
		let (alice_before, owner_before) = (free(&alice()), free(&owner()));
		let job = request();
		complete(job, &result(b"long", 5, 10_000));
		assert_eq!(free(&owner()), owner_before + HELD);
		assert_eq!(free(&alice()), alice_before - HELD);
		assert!(matches!(last_event(), Event::InferenceCompleted { fee: HELD, .. }));
		assert_eq!(infer_held(&alice()), 0);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn token_counts_whose_cost_overflows_pay_what_is_held() {
	run_infer(|| {
		setup();
		// 2^96 per 1,000 tokens: two tokens hold about 2^87.4, and 2^33 tokens overflow u128.
		let price: Balance = 1 << 96;
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(owner()), MODEL, price));
		<Balances as Mutate<AccountId>>::set_balance(&alice(), 1 << 90);
		let issuance = Balances::total_issuance();
		let owner_before = free(&owner());
		assert_ok!(request_as(alice(), MODEL, Some(1), b"x", 1));
		let job = created_jobs()[0].id;
		let held = infer_held(&alice());
		assert_eq!(held, (2 * price).div_ceil(1_000));
		complete(job, &result(b"x", u32::MAX, u32::MAX));
		assert_eq!(free(&owner()), owner_before + held);
		assert_eq!(infer_held(&alice()), 0);
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn zero_tokens_cost_nothing() {
	run_infer(|| {
		setup();
		let (alice_before, owner_before) = (free(&alice()), free(&owner()));
		let job = request();
		complete(job, &result(b"", 0, 0));
		assert_eq!((free(&alice()), free(&owner())), (alice_before, owner_before));
		assert!(matches!(last_event(), Event::InferenceCompleted { fee: 0, .. }));
	});
}

#[test]
fn invalid_results_release_the_whole_hold() {
	run_infer(|| {
		setup();
		let (alice_before, owner_before) = (free(&alice()), free(&owner()));
		let good = result(b"fine", 5, 5);
		let mut trailing = good.clone();
		trailing.push(0);
		let cases: Vec<(H256, Vec<u8>)> = vec![
			// The payload is not what the outcome commits to.
			(H256::repeat_byte(1), good.clone()),
			// Not an `InferResult`: too short, and one with a byte left over.
			(H256(sp_io::hashing::blake2_256(&[1, 2, 3])), vec![1, 2, 3]),
			(H256(sp_io::hashing::blake2_256(&trailing)), trailing),
			// Not UTF-8.
			{
				let payload = result(&[b'o', 0xff, b'k'], 5, 5);
				(H256(sp_io::hashing::blake2_256(&payload)), payload)
			},
		];
		for (outcome, payload) in cases {
			let job = request();
			assert_eq!(infer_held(&alice()), HELD);
			let weight = complete_with(job, JobKind::Infer, outcome, &payload);
			assert_eq!(weight, <() as crate::WeightInfo>::on_completed() + HOOK_MAX);
			assert_eq!(last_event(), Event::InferenceResultInvalid { job });
			assert_eq!(infer_held(&alice()), 0);
			assert_eq!(PendingInfers::<Test>::get(job), None);
		}
		assert_eq!((free(&alice()), free(&owner())), (alice_before, owner_before));
	});
}

#[test]
fn failure_releases_the_whole_hold() {
	run_infer(|| {
		setup();
		let alice_before = free(&alice());
		let job = request();
		let weight = fail(job, JobKind::Infer);
		assert_eq!(weight, <() as crate::WeightInfo>::on_failed());
		assert_eq!(last_event(), Event::InferenceFailed { job });
		assert_eq!(infer_held(&alice()), 0);
		assert_eq!(free(&alice()), alice_before);
		assert_eq!(PendingInfers::<Test>::count(), 0);
	});
}

#[test]
fn settling_one_job_leaves_the_requesters_other_holds() {
	run_infer(|| {
		setup();
		assert_ok!(Inference::deposit(RuntimeOrigin::signed(alice()), 1_000));
		let first = request();
		let second = request();
		let third = request();
		fail(first, JobKind::Infer);
		assert_eq!(infer_held(&alice()), 2 * HELD);
		complete(second, &result(b"x", 1, 1));
		assert_eq!(infer_held(&alice()), HELD);
		complete(third, &[0xff]);
		assert_eq!(infer_held(&alice()), 0);
		// The inference deposit is another hold and stays.
		assert_eq!(held(&alice()), 1_000);
	});
}

#[test]
fn a_model_without_an_owner_is_not_paid() {
	run_infer(|| {
		setup();
		let alice_before = free(&alice());
		let job = request();
		remove_model(MODEL);
		Prices::<Test>::remove(MODEL); // a price of an unknown model breaks an invariant
		complete(job, &result(b"orphan", 5, 5));
		assert_eq!(free(&alice()), alice_before);
		assert_eq!(infer_held(&alice()), 0);
		assert!(matches!(last_event(), Event::InferenceCompleted { fee: 0, .. }));
	});
}

#[test]
fn a_refused_payment_releases_the_whole_hold() {
	run_infer(|| {
		setup();
		// An owner without an account cannot receive less than the existential deposit.
		let nobody = account("Nobody");
		add_model(MODEL, nobody.clone(), 2);
		ExistentialDeposit::set(10);
		let alice_before = free(&alice());
		let job = request();
		complete(job, &result(b"ok", 1, 1));
		assert_eq!(free(&alice()), alice_before);
		assert_eq!(free(&nobody), 0);
		assert_eq!(infer_held(&alice()), 0);
		assert!(matches!(last_event(), Event::InferenceCompleted { fee: 0, .. }));
	});
}

#[test]
fn an_owner_asking_its_own_model_pays_itself() {
	run_infer(|| {
		setup();
		let issuance = Balances::total_issuance();
		let before = free(&owner());
		assert_ok!(request_as(owner(), MODEL, Some(1), PROMPT, MAX_TOKENS));
		let job = created_jobs()[0].id;
		complete(job, &result(b"self", 5, 5));
		assert_eq!(free(&owner()), before);
		assert_eq!(infer_held(&owner()), 0);
		assert!(matches!(last_event(), Event::InferenceCompleted { fee: 10, .. }));
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

#[test]
fn other_kinds_and_unknown_jobs_are_ignored() {
	run_infer(|| {
		setup();
		let job = request();
		let events_before = events().len();
		let payload = result(b"x", 1, 1);
		let outcome = H256(sp_io::hashing::blake2_256(&payload));
		for kind in [JobKind::VerifySnapshot, JobKind::Train, JobKind::Evaluate] {
			assert_eq!(complete_with(job, kind, outcome, &payload), Weight::zero());
			assert_eq!(fail(job, kind), Weight::zero());
		}
		let read = one_read();
		assert_eq!(complete_with(job + 1, JobKind::Infer, outcome, &payload), read);
		assert_eq!(fail(job + 1, JobKind::Infer), read);
		assert_eq!(events().len(), events_before);
		assert_eq!(infer_held(&alice()), HELD);
		assert!(PendingInfers::<Test>::get(job).is_some());
	});
}

#[test]
fn the_hooks_claim_their_most_weight() {
	let completed = <() as crate::WeightInfo>::on_completed();
	let failed = <() as crate::WeightInfo>::on_failed();
	assert_eq!(
		<Inference as JobHooks<AccountId>>::max_weight(),
		(completed + HOOK_MAX).max(failed)
	);
	assert!(completed.ref_time() > 0 && failed.ref_time() > 0);
}

#[test]
fn identical_results_agree_and_others_do_not() {
	let a = result(b"a", 1, 1);
	let b = result(b"b", 1, 1);
	let hash = |p: &[u8]| H256(sp_io::hashing::blake2_256(p));
	let agree = |x: &[u8], y: &[u8]| {
		<Inference as JobHooks<AccountId>>::agree(JobKind::Infer, &[], (hash(x), x), (hash(y), y))
	};
	assert!(agree(&a, &a));
	assert!(!agree(&a, &b));
	// Token counts must match too.
	assert!(!agree(&a, &result(b"a", 1, 2)));
}

#[test]
fn attributions_agree_when_their_top_k_sets_overlap_enough() {
	let hash = |p: &[u8]| H256(sp_io::hashing::blake2_256(p));
	let agree = |x: &[u8], y: &[u8]| {
		<Inference as JobHooks<AccountId>>::agree(JobKind::Infer, &[], (hash(x), x), (hash(y), y))
	};
	let four = attributed(b"a", 1, 1, vec![entry(1, 40), entry(2, 30), entry(3, 20), entry(4, 10)]);
	// Three of four shared (75 %, the mock's bound), weights differing: agree.
	let three =
		attributed(b"a", 1, 1, vec![entry(1, 25), entry(2, 25), entry(3, 25), entry(9, 25)]);
	assert!(agree(&four, &three));
	assert!(agree(&three, &four));
	// Two of four: disagree.
	let two = attributed(b"a", 1, 1, vec![entry(1, 50), entry(2, 30), entry(8, 10), entry(9, 10)]);
	assert!(!agree(&four, &two));
	// The same set but another completion: disagree.
	let other =
		attributed(b"b", 1, 1, vec![entry(1, 40), entry(2, 30), entry(3, 20), entry(4, 10)]);
	assert!(!agree(&four, &other));
	// Both empty agree; empty against a non-empty set does not.
	let none = attributed(b"a", 1, 1, vec![]);
	assert!(agree(&none, &none));
	assert!(!agree(&none, &four));
	// A malformed attribution or a payload that is not its hash agrees with nothing.
	let bad = attributed(b"a", 1, 1, vec![entry(1, 60), entry(2, 60)]);
	assert!(!agree(&bad, &bad));
	let lying = <Inference as JobHooks<AccountId>>::agree(
		JobKind::Infer,
		&[],
		(hash(&four), &three),
		(hash(&three), &three),
	);
	assert!(!lying);
}

// ---- Wire format ----------------------------------------------------------------------------

#[test]
fn the_spec_has_the_documented_layout() {
	let spec =
		InferSpec { model: 0x0102_0304, version: 5, prompt: b"Hi".to_vec(), max_tokens: 256 };
	assert_eq!(
		spec.encode(),
		vec![
			0x04, 0x03, 0x02, 0x01, // model: u32 LE
			0x05, 0x00, 0x00, 0x00, // version: u32 LE
			0x08, b'H', b'i', // prompt: compact length 2, then the bytes
			0x00, 0x01, 0x00, 0x00, // max_tokens: u32 LE
		]
	);
	// A prompt of 960 bytes takes a two-byte compact length: (960 << 2) | 1 = 0x0f01.
	let long = InferSpec { prompt: vec![b'x'; 960], ..spec };
	let encoded = long.encode();
	assert_eq!(encoded.len(), 4 + 4 + 2 + 960 + 4);
	assert_eq!(&encoded[8..10], &[0x01, 0x0f]);
	assert_eq!(&encoded[970..], &[0x00, 0x01, 0x00, 0x00]);
	assert_eq!(InferSpec::decode_all(&mut &encoded[..]).unwrap(), long);
}

#[test]
fn the_result_has_the_documented_layout() {
	let result = InferResult {
		completion: "ok é".as_bytes().to_vec(),
		prompt_tokens: 0x0a0b,
		completion_tokens: 7,
		attribution: vec![AttributionEntry {
			contribution: 0x0102,
			weight: sp_runtime::Perbill::from_parts(0x0304),
		}],
	};
	let encoded = result.encode();
	assert_eq!(
		encoded,
		vec![
			0x14, b'o', b'k', b' ', 0xc3, 0xa9, // completion: compact length 5, then UTF-8
			0x0b, 0x0a, 0x00, 0x00, // prompt_tokens: u32 LE
			0x07, 0x00, 0x00, 0x00, // completion_tokens: u32 LE
			0x04, // attribution: compact length 1
			0x02, 0x01, 0, 0, 0, 0, 0, 0, // contribution: u64 LE
			0x04, 0x03, 0x00, 0x00, // weight: u32 LE parts per billion
		]
	);
	assert_eq!(InferResult::decode_all(&mut &encoded[..]).unwrap(), result);
}

#[test]
fn the_pending_record_has_the_documented_layout() {
	let pending = PendingInfer::<AccountId, Balance> {
		requester: AccountId::new([7; 32]),
		model: 1,
		version: 2,
		price_per_1k_tokens: 3,
		held: 4,
	};
	let mut expected = vec![7u8; 32];
	expected.extend([1, 0, 0, 0, 2, 0, 0, 0]);
	expected.extend(3u128.to_le_bytes());
	expected.extend(4u128.to_le_bytes());
	assert_eq!(pending.encode(), expected);
	assert_eq!(PendingInfer::<AccountId, Balance>::max_encoded_len(), expected.len());
}
