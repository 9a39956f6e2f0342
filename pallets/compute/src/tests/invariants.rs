//! `try_state` notices broken invariants (every other test checks that it passes).

use super::*;
use frame_support::{assert_ok, traits::fungible::MutateHold};

/// Two workers and a pending job.
fn populated() -> JobId {
	register_all(&[W1, W2]);
	let id = create(1);
	assert_ok!(Compute::do_try_state());
	id
}

#[test]
fn try_state_catches_stake_held_outside_the_records() {
	new_test_ext().execute_with(|| {
		populated();
		assert_ok!(Balances::hold(&HoldReason::WorkerStake.into(), &W1, 1));
		assert!(Compute::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_escrow_without_a_job() {
	new_test_ext().execute_with(|| {
		populated();
		assert_ok!(Balances::hold(&HoldReason::JobEscrow.into(), &REQUESTER, 1));
		assert!(Compute::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_a_job_missing_from_its_worker() {
	new_test_ext().execute_with(|| {
		let id = populated();
		WorkerJobs::<Test>::remove(assigned(id)[0]);
		assert!(Compute::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_a_lost_deadline() {
	new_test_ext().execute_with(|| {
		let id = populated();
		Deadlines::<Test>::remove(job(id).deadline);
		assert!(Compute::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_a_deadline_of_a_settled_job() {
	new_test_ext().execute_with(|| {
		let id = populated();
		submit(assigned(id)[0], id, hash(1));
		Deadlines::<Test>::insert(5, DeadlineJobsOf::<Test>::truncate_from(vec![id]));
		assert!(Compute::do_try_state().is_err());
	});
}
