//! Creating jobs: validation, escrow, assignment and deadlines.

use super::*;
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchResult;

#[test]
fn creates_job_escrows_fee_and_assigns_workers() {
	run(|| {
		register_all(&[W1, W2, W3, W4]);
		let id = create(3);
		let job = job(id);
		assert_eq!(id, 0);
		assert_eq!(NextJobId::<Test>::get(), 1);
		assert_eq!(job.requester, REQUESTER);
		assert_eq!(job.kind, JobKind::VerifySnapshot);
		assert_eq!(job.spec.to_vec(), snapshot_spec(1));
		assert_eq!((job.fee, job.replication, job.timeout), (FEE, 3, TIMEOUT));
		assert_eq!((job.created_at, job.deadline), (1, 1 + TIMEOUT));
		assert_eq!(job.assigned.len(), 3);
		assert_eq!((job.escalations, job.status, job.outcome), (0, JobStatus::Pending, None));
		assert_eq!(held_escrow(REQUESTER), FEE);
		assert_eq!(free(REQUESTER), INITIAL_BALANCE - FEE);
		assert_eq!(Deadlines::<Test>::get(1 + TIMEOUT).into_inner(), vec![id]);
		for worker in &job.assigned {
			assert_eq!(WorkerJobs::<Test>::get(worker).into_inner(), vec![id]);
		}
		assert_eq!(
			last_event(),
			Event::JobCreated {
				job: id,
				requester: REQUESTER,
				kind: JobKind::VerifySnapshot,
				fee: FEE,
				replication: 3,
				deadline: 1 + TIMEOUT,
				assigned: job.assigned.to_vec(),
			}
		);
	});
}

fn create_with(
	kind: JobKind,
	spec: Vec<u8>,
	fee: Balance,
	replication: u8,
	timeout: u64,
) -> DispatchResult {
	Compute::create_job(RuntimeOrigin::signed(REQUESTER), kind, spec, fee, replication, timeout)
}

#[test]
fn rejects_invalid_job_parameters() {
	run(|| {
		register_all(&[W1, W2, W3, W4]);
		let kind = JobKind::Train;
		assert_noop!(
			create_with(kind, vec![0; MAX_SPEC as usize + 1], FEE, 1, TIMEOUT),
			Error::<Test>::SpecTooLarge
		);
		for replication in [0, MAX_REPLICATION + 1] {
			assert_noop!(
				create_with(kind, vec![], FEE, replication, TIMEOUT),
				Error::<Test>::ReplicationOutOfRange
			);
		}
		for timeout in [MIN_TIMEOUT - 1, MAX_TIMEOUT + 1] {
			assert_noop!(
				create_with(kind, vec![], FEE, 1, timeout),
				Error::<Test>::TimeoutOutOfRange
			);
		}
		assert_noop!(create_with(kind, vec![], MIN_FEE - 1, 1, TIMEOUT), Error::<Test>::FeeTooLow);
		assert_noop!(
			create_with(kind, vec![], INITIAL_BALANCE + 1, 1, TIMEOUT),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(create_with(kind, vec![0; MAX_SPEC as usize], MIN_FEE, 1, MIN_TIMEOUT));
	});
}

#[test]
fn checks_the_spec_with_the_runtime() {
	run(|| {
		register_all(&[W1, W2]);
		let kind = JobKind::VerifySnapshot;
		assert_noop!(create_with(kind, vec![1, 2], FEE, 1, TIMEOUT), Error::<Test>::InvalidSpec);
		assert_noop!(
			create_with(kind, snapshot_spec(KNOWN_SNAPSHOTS), FEE, 1, TIMEOUT),
			Error::<Test>::UnknownSnapshot
		);
		assert_ok!(create_with(kind, snapshot_spec(KNOWN_SNAPSHOTS - 1), FEE, 1, TIMEOUT));
	});
}

#[test]
fn rejects_job_without_enough_workers() {
	run(|| {
		register_all(&[W1, W2]);
		assert_noop!(
			create_with(JobKind::Train, vec![], FEE, 3, TIMEOUT),
			Error::<Test>::NotEnoughWorkers
		);
	});
}

#[test]
fn rejects_job_when_deadline_block_is_full() {
	run(|| {
		register_all(&[W1, W2]);
		for _ in 0..MAX_JOBS_PER_BLOCK {
			assert_ok!(create_with(JobKind::Train, vec![], FEE, 1, TIMEOUT));
		}
		assert_noop!(
			create_with(JobKind::Train, vec![], FEE, 1, TIMEOUT),
			Error::<Test>::TooManyJobsAtDeadline
		);
		assert_ok!(create_with(JobKind::Train, vec![], FEE, 1, TIMEOUT + 1));
	});
}

#[test]
fn skips_workers_whose_job_list_is_full() {
	run(|| {
		register_all(&[W1]);
		for t in 0..MAX_JOBS_PER_WORKER as u64 {
			assert_ok!(create_with(JobKind::Train, vec![], FEE, 1, TIMEOUT + t));
		}
		assert_eq!(WorkerJobs::<Test>::get(W1).len(), MAX_JOBS_PER_WORKER as usize);
		assert_noop!(
			create_with(JobKind::Train, vec![], FEE, 1, TIMEOUT + 10),
			Error::<Test>::NotEnoughWorkers
		);
		register_all(&[W2]);
		let id = NextJobId::<Test>::get();
		assert_ok!(create_with(JobKind::Train, vec![], FEE, 1, TIMEOUT + 10));
		assert_eq!(assigned(id), vec![W2]);
	});
}

#[test]
fn runtime_api_shows_jobs_and_assignments() {
	run(|| {
		register_all(&[W1, W2]);
		let id = create(2);
		let view = Compute::api_job(id).unwrap();
		assert_eq!(view.id, id);
		assert_eq!(view.spec, snapshot_spec(1));
		assert_eq!(view.assigned.len(), 2);
		assert!(view.reported.is_empty());
		assert_eq!(Compute::api_assigned_jobs(W1).len(), 1);
		submit(W1, id, hash(1));
		assert_eq!(Compute::api_job(id).unwrap().reported, vec![W1]);
		assert!(Compute::api_assigned_jobs(W1).is_empty());
		assert_eq!(Compute::api_assigned_jobs(W2)[0].id, id);
		assert_eq!(Compute::api_job_results(id), vec![(W1, hash(1))]);
		assert_eq!(Compute::api_workers().len(), 2);
		assert_eq!(Compute::api_worker(W1).unwrap().stake, MIN_STAKE);
		assert!(Compute::api_job(id + 1).is_none());
	});
}
