//! Deadlines: slashing and replacing workers that miss them, and ending jobs that cannot go on.

use super::*;
use frame_support::assert_noop;

#[test]
fn slashes_worker_that_misses_deadline_and_reassigns() {
	run(|| {
		register_all(&[W1, W2, W3]);
		let id = create(2);
		let first = assigned(id);
		let spare = [W1, W2, W3].into_iter().find(|w| !first.contains(w)).unwrap();
		submit(first[0], id, hash(1));
		let treasury = free(TREASURY);
		// The deadline block still takes results; the job expires as the next block starts.
		run_to_block(1 + TIMEOUT);
		assert_eq!(job(id).escalations, 0);
		run_to_block(2 + TIMEOUT);

		// 5% of 1,000, all to the treasury.
		assert_eq!(stake_of(first[1]), MIN_STAKE - 50);
		assert_eq!(held_stake(first[1]), MIN_STAKE - 50);
		assert_eq!(free(TREASURY), treasury + 50);
		assert!(WorkerJobs::<Test>::get(first[1]).is_empty());
		let job = job(id);
		let deadline = 2 + 2 * TIMEOUT;
		assert_eq!(job.assigned.to_vec(), vec![first[0], spare]);
		assert_eq!((job.deadline, job.escalations), (deadline, 1));
		assert_eq!(Deadlines::<Test>::get(deadline).into_inner(), vec![id]);
		let events = events();
		assert!(events.contains(&Event::WorkerSlashed {
			worker: first[1],
			job: id,
			amount: 50,
			to_treasury: 50,
			reason: SlashReason::MissedDeadline,
		}));
		assert_eq!(
			last_event(),
			Event::JobReassigned { job: id, missed: first[1], replacement: Some(spare), deadline }
		);

		// The missed worker's late result is refused and changes nothing.
		assert_noop!(
			Compute::submit_result(RuntimeOrigin::signed(first[1]), id, hash(1), vec![1]),
			Error::<Test>::DeadlinePassed
		);

		// The replacement agrees: the job completes and the fee goes to the two who reported.
		submit(spare, id, hash(1));
		assert_eq!(Jobs::<Test>::get(id).unwrap().status, JobStatus::Completed);
		assert_eq!(free(spare), INITIAL_BALANCE - MIN_STAKE + FEE / 2);
	});
}

#[test]
fn fails_job_when_nobody_reported_and_no_replacement() {
	run(|| {
		register_all(&[W1]);
		let id = create(1);
		run_to_block(2 + TIMEOUT);
		let job = job(id);
		assert_eq!(job.status, JobStatus::Failed);
		assert_eq!(stake_of(W1), MIN_STAKE - 50);
		assert_eq!(free(REQUESTER), INITIAL_BALANCE);
		assert_eq!(held_escrow(REQUESTER), 0);
		assert!(WorkerJobs::<Test>::get(W1).is_empty());
		let events = events();
		assert!(events.contains(&Event::JobReassigned {
			job: id,
			missed: W1,
			replacement: None,
			deadline: 2 + TIMEOUT,
		}));
		// Refused as late even though the job is over.
		assert_noop!(
			Compute::submit_result(RuntimeOrigin::signed(W1), id, hash(1), vec![1]),
			Error::<Test>::DeadlinePassed
		);
		assert_eq!(last_event(), Event::JobFailed { job: id, refunded: FEE });
	});
}

#[test]
fn settles_on_reported_results_when_no_replacement() {
	run(|| {
		register_all(&[W1, W2]);
		let id = create(2);
		submit(W1, id, hash(3));
		run_to_block(2 + TIMEOUT);
		let job = job(id);
		assert_eq!((job.status, job.outcome), (JobStatus::Completed, Some(hash(3))));
		assert_eq!(free(W1), INITIAL_BALANCE - MIN_STAKE + FEE);
		assert_eq!(stake_of(W2), MIN_STAKE - 50);
	});
}

#[test]
fn reassignment_rounds_are_bounded() {
	run(|| {
		register_all(&[W1, W2, W3, W4, W5, W6]);
		let id = create(1);
		for round in 1..=MAX_ESCALATIONS {
			// Keep the idle workers' heartbeats fresh so that each round finds a replacement.
			for w in [W1, W2, W3, W4, W5, W6] {
				let _ = Compute::heartbeat(RuntimeOrigin::signed(w));
			}
			run_to_block(job(id).deadline + 1);
			assert_eq!(job(id).escalations, round);
			assert_eq!(job(id).status, JobStatus::Pending);
		}
		run_to_block(job(id).deadline + 1);
		assert_eq!(job(id).status, JobStatus::Failed);
		assert_eq!(free(REQUESTER), INITIAL_BALANCE);
		// Each of the 1 + MAX_ESCALATIONS workers that held it was slashed once.
		let slashed = events()
			.into_iter()
			.filter(|e| {
				matches!(e, Event::WorkerSlashed { reason: SlashReason::MissedDeadline, .. })
			})
			.count();
		assert_eq!(slashed, 1 + MAX_ESCALATIONS as usize);
	});
}

#[test]
fn deadline_hook_reports_weight_per_expiring_job() {
	use crate::weights::WeightInfo;
	use frame_support::traits::Hooks;
	run(|| {
		register_all(&[W1, W2]);
		create(1);
		create(1);
		System::set_block_number(2 + TIMEOUT);
		let weight = Compute::on_initialize(2 + TIMEOUT);
		assert_eq!(weight, <() as WeightInfo>::on_initialize(2));
		assert_eq!(Compute::on_initialize(3 + TIMEOUT), <() as WeightInfo>::on_initialize(0));
	});
}

#[test]
fn accepts_results_in_the_deadline_block_and_refuses_them_after() {
	run(|| {
		register_all(&[W1, W2]);
		let id = create(2);
		let [a, b] = [assigned(id)[0], assigned(id)[1]];
		run_to_block(1 + TIMEOUT);
		assert_eq!(job(id).deadline, 1 + TIMEOUT);
		submit(a, id, hash(4));
		// Past the deadline but before the hook has run (as a block's extrinsics never are).
		System::set_block_number(2 + TIMEOUT);
		assert_noop!(
			Compute::submit_result(RuntimeOrigin::signed(b), id, hash(4), vec![1]),
			Error::<Test>::DeadlinePassed
		);
	});
}
