//! Submitting results.

use super::*;
use frame_support::{assert_noop, dispatch::Pays};

#[test]
fn stores_result_for_free_and_waits_for_the_others() {
	run(|| {
		register_all(&[W1, W2]);
		let id = create(2);
		let info = Compute::submit_result(RuntimeOrigin::signed(W1), id, hash(1), b"root".to_vec())
			.unwrap();
		assert_eq!(info.pays_fee, Pays::No);
		let result = Results::<Test>::get(id, W1).unwrap();
		assert_eq!(
			(result.payload_hash, result.payload.to_vec(), result.submitted_at),
			(hash(1), b"root".to_vec(), 1)
		);
		assert_eq!(job(id).status, JobStatus::Pending);
		assert_eq!(
			last_event(),
			Event::ResultSubmitted { job: id, worker: W1, payload_hash: hash(1) }
		);
	});
}

#[test]
fn rejects_bad_submissions() {
	run(|| {
		register_all(&[W1, W2, W3]);
		let id = create(2);
		let [a, _b] = [assigned(id)[0], assigned(id)[1]];
		let outsider = [W1, W2, W3].into_iter().find(|w| !assigned(id).contains(w)).unwrap();
		let submit_as = |who, job, payload: Vec<u8>| {
			Compute::submit_result(RuntimeOrigin::signed(who), job, hash(1), payload)
		};
		assert_noop!(submit_as(a, id + 1, vec![]), Error::<Test>::UnknownJob);
		assert_noop!(submit_as(outsider, id, vec![]), Error::<Test>::NotAssigned);
		assert_noop!(
			submit_as(a, id, vec![0; MAX_RESULT as usize + 1]),
			Error::<Test>::ResultTooLarge
		);
		submit(a, id, hash(1));
		assert_noop!(submit_as(a, id, vec![]), Error::<Test>::AlreadyReported);
	});
}

#[test]
fn rejects_result_after_deadline() {
	run(|| {
		register_all(&[W1]);
		let id = create(1);
		System::set_block_number(job(id).deadline + 1);
		assert_noop!(
			Compute::submit_result(RuntimeOrigin::signed(W1), id, hash(1), vec![]),
			Error::<Test>::DeadlinePassed
		);
		// Put the deadline back in reach so the job can end cleanly.
		System::set_block_number(job(id).deadline);
		submit(W1, id, hash(1));
	});
}

#[test]
fn rejects_result_for_settled_job() {
	run(|| {
		register_all(&[W1]);
		let id = create(1);
		submit(W1, id, hash(1));
		assert_noop!(
			Compute::submit_result(RuntimeOrigin::signed(W1), id, hash(1), vec![]),
			Error::<Test>::JobNotPending
		);
	});
}

#[test]
fn charges_a_recorded_result_less_than_the_settling_one() {
	use crate::weights::WeightInfo;
	run(|| {
		register_all(&[W1, W2]);
		let id = create(2);
		let [a, b] = [assigned(id)[0], assigned(id)[1]];
		let first = Compute::submit_result(RuntimeOrigin::signed(a), id, hash(1), vec![1]).unwrap();
		assert_eq!(first.actual_weight, Some(<() as WeightInfo>::submit_result_record()));
		assert_eq!(first.pays_fee, Pays::No);
		let last = Compute::submit_result(RuntimeOrigin::signed(b), id, hash(1), vec![1]).unwrap();
		let settled = <() as WeightInfo>::submit_result_settle(2);
		// The settling result also pays for what the job hook used.
		assert_eq!(last.actual_weight, Some(settled.saturating_add(HOOK_WEIGHT)));
		assert!(<() as WeightInfo>::submit_result_record().ref_time() < settled.ref_time());
		// A settlement over more workers is charged more.
		assert!(settled.ref_time() < <() as WeightInfo>::submit_result_settle(3).ref_time());
	});
}

#[test]
fn charges_an_escalating_result_for_the_escalation() {
	use crate::weights::WeightInfo;
	run(|| {
		register_all(&[W1, W2, W3]);
		let id = create(2);
		let [a, b] = [assigned(id)[0], assigned(id)[1]];
		submit(a, id, hash(1));
		let tie = Compute::submit_result(RuntimeOrigin::signed(b), id, hash(2), vec![1]).unwrap();
		assert_eq!(job(id).escalations, 1);
		assert_eq!(tie.actual_weight, Some(<() as WeightInfo>::submit_result_escalate()));
	});
}
