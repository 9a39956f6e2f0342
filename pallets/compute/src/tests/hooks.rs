//! The job hook (told how each job ended) and the `JobCreator` trait other pallets create jobs
//! through.

use super::*;
use crate::traits::JobCreator;
use frame_support::{
	assert_noop,
	dispatch::{GetDispatchInfo, Pays},
	traits::Hooks,
};

fn submit_with(who: AccountId, id: JobId, result: H256, payload: &[u8]) {
	assert_ok!(Compute::submit_result(RuntimeOrigin::signed(who), id, result, payload.to_vec()));
}

#[test]
fn completion_tells_the_hook_the_majority_and_the_winning_payload() {
	run(|| {
		register_all(&[W1, W2, W3]);
		let id = create(3);
		// Submitted out of account order: the payload passed on is still W1's.
		submit_with(W3, id, hash(5), b"third");
		submit_with(W2, id, hash(6), b"minority");
		assert!(HookCalls::get().is_empty());
		submit_with(W1, id, hash(5), b"first");
		assert_eq!(
			HookCalls::get(),
			vec![HookCall::Completed {
				job: id,
				requester: REQUESTER,
				kind: JobKind::VerifySnapshot,
				spec: snapshot_spec(1),
				outcome: hash(5),
				payload: b"first".to_vec(),
				workers: vec![W1, W3],
			}]
		);
		// The results were cleared after the hook read them.
		assert!(Results::<Test>::iter_prefix(id).next().is_none());
	});
}

#[test]
fn failure_after_the_last_tie_tells_the_hook() {
	run(|| {
		register_all(&[W1, W2, W3, W4, W5, W6]);
		let id = create(2);
		for round in 0..=MAX_ESCALATIONS {
			let reporters: Vec<_> = assigned(id)
				.into_iter()
				.filter(|w| !Results::<Test>::contains_key(id, w))
				.collect();
			for (i, w) in reporters.into_iter().enumerate() {
				submit(w, id, hash(if i % 2 == 0 { 1 } else { 2 }));
			}
			if round < MAX_ESCALATIONS {
				assert_eq!(job(id).status, JobStatus::Pending);
				assert!(HookCalls::get().is_empty());
			}
		}
		assert_eq!(job(id).status, JobStatus::Failed);
		assert_eq!(
			HookCalls::get(),
			vec![HookCall::Failed {
				job: id,
				requester: REQUESTER,
				kind: JobKind::VerifySnapshot,
				spec: snapshot_spec(1),
			}]
		);
	});
}

#[test]
fn expiry_with_nobody_reporting_tells_the_hook_and_charges_its_weight() {
	use crate::weights::WeightInfo;
	run(|| {
		register_all(&[W1]);
		let id = create(1);
		System::set_block_number(2 + TIMEOUT);
		let weight = Compute::on_initialize(2 + TIMEOUT);
		assert_eq!(job(id).status, JobStatus::Failed);
		assert_eq!(
			HookCalls::get(),
			vec![HookCall::Failed {
				job: id,
				requester: REQUESTER,
				kind: JobKind::VerifySnapshot,
				spec: snapshot_spec(1),
			}]
		);
		assert_eq!(weight, <() as WeightInfo>::on_initialize(1).saturating_add(HOOK_WEIGHT));
	});
}

#[test]
fn expiry_settling_on_reported_results_tells_the_hook_of_completion() {
	run(|| {
		register_all(&[W1, W2]);
		let id = create(2);
		submit_with(W2, id, hash(3), b"late-root");
		run_to_block(2 + TIMEOUT);
		assert_eq!(
			HookCalls::get(),
			vec![HookCall::Completed {
				job: id,
				requester: REQUESTER,
				kind: JobKind::VerifySnapshot,
				spec: snapshot_spec(1),
				outcome: hash(3),
				payload: b"late-root".to_vec(),
				workers: vec![W2],
			}]
		);
	});
}

#[test]
fn submit_result_declares_the_hook_weight() {
	use crate::weights::WeightInfo;
	let call =
		crate::Call::<Test>::submit_result { job: 0, payload_hash: hash(1), payload: Vec::new() };
	let declared = <() as WeightInfo>::submit_result_settle(MAX_ASSIGNED)
		.max(<() as WeightInfo>::submit_result_escalate())
		.saturating_add(HOOK_WEIGHT);
	assert_eq!(call.get_dispatch_info().call_weight, declared);
	assert_eq!(call.get_dispatch_info().pays_fee, Pays::Yes);
}

#[test]
fn job_creator_creates_jobs_like_the_call() {
	use crate::weights::WeightInfo;
	run(|| {
		register_all(&[W1, W2]);
		let id = <Compute as JobCreator<_, _, _>>::create_job(
			OTHER_REQUESTER,
			JobKind::Train,
			b"train-spec".to_vec(),
			FEE,
			2,
			TIMEOUT,
		)
		.unwrap();
		let job = job(id);
		assert_eq!((job.requester, job.kind), (OTHER_REQUESTER, JobKind::Train));
		assert_eq!(job.spec.to_vec(), b"train-spec".to_vec());
		assert_eq!(held_escrow(OTHER_REQUESTER), FEE);
		assert_eq!(
			<Compute as JobCreator<AccountId, Balance, u64>>::create_job_weight(),
			<() as WeightInfo>::create_job()
		);
	});
}

#[test]
fn job_creator_refuses_what_the_call_refuses() {
	run(|| {
		register_all(&[W1]);
		assert_noop!(
			<Compute as JobCreator<_, _, _>>::create_job(
				REQUESTER,
				JobKind::Train,
				Vec::new(),
				FEE,
				2,
				TIMEOUT,
			),
			Error::<Test>::NotEnoughWorkers
		);
		assert_noop!(
			<Compute as JobCreator<_, _, _>>::create_job(
				REQUESTER,
				JobKind::Train,
				Vec::new(),
				MIN_FEE - 1,
				1,
				TIMEOUT,
			),
			Error::<Test>::FeeTooLow
		);
	});
}

/// Submits a result whose payload is the one byte `metric` (its hash differs per worker).
fn submit_metric(who: AccountId, id: JobId, metric: u8) {
	submit_with(who, id, H256::from_low_u64_be(who), &[metric]);
}

fn completed_with() -> (H256, Vec<u8>, Vec<AccountId>) {
	match HookCalls::get().last() {
		Some(HookCall::Completed { outcome, payload, workers, .. }) => {
			(*outcome, payload.clone(), workers.clone())
		}
		other => panic!("expected a completion, got {other:?}"),
	}
}

#[test]
fn a_tolerant_hook_lets_different_hashes_agree_around_the_most_agreed_with_result() {
	run(|| {
		PayloadTolerance::set(Some(1));
		register_all(&[W1, W2, W3]);
		let id = create(3);
		let mut workers = assigned(id);
		workers.sort();
		// 10 ~ 11 ~ 12 but not 10 ~ 12: the middle result agrees with all three and wins.
		for (w, metric) in workers.iter().zip([10u8, 11, 12]) {
			submit_metric(*w, id, metric);
		}
		let (outcome, payload, majority) = completed_with();
		assert_eq!(payload, vec![11]);
		assert_eq!(outcome, H256::from_low_u64_be(workers[1]));
		assert_eq!(majority, workers);
		assert_eq!(job(id).outcome, Some(outcome));
		// Nobody was slashed.
		for w in &workers {
			assert_eq!(stake_of(*w), MIN_STAKE);
		}
	});
}

#[test]
fn a_tolerant_hook_slashes_the_result_outside_the_tolerance() {
	run(|| {
		PayloadTolerance::set(Some(1));
		register_all(&[W1, W2, W3]);
		let id = create(3);
		let mut workers = assigned(id);
		workers.sort();
		// The first two agree with each other (two votes each); the first in account order wins.
		for (w, metric) in workers.iter().zip([10u8, 11, 40]) {
			submit_metric(*w, id, metric);
		}
		let (outcome, payload, majority) = completed_with();
		assert_eq!((outcome, payload), (H256::from_low_u64_be(workers[0]), vec![10]));
		assert_eq!(majority, workers[..2].to_vec());
		assert_eq!(stake_of(workers[2]), MIN_STAKE - 100);
	});
}

#[test]
fn a_tolerant_hook_without_a_majority_escalates() {
	run(|| {
		PayloadTolerance::set(Some(1));
		register_all(&[W1, W2, W3, W4, W5, W6]);
		let id = create(3);
		for (w, metric) in assigned(id).into_iter().zip([10u8, 20, 30]) {
			submit_metric(w, id, metric);
		}
		assert!(HookCalls::get().is_empty());
		let job = job(id);
		assert_eq!((job.status, job.escalations), (JobStatus::Pending, 1));
	});
}
