//! Settling jobs: agreement, majority with slashing, ties and escalation, failure with refund.

use super::*;

#[test]
fn unanimous_results_complete_the_job_and_split_the_fee() {
	run(|| {
		register_all(&[W1, W2, W3]);
		let id = create(3);
		for w in assigned(id) {
			submit(w, id, hash(7));
		}
		let job = job(id);
		assert_eq!((job.status, job.outcome), (JobStatus::Completed, Some(hash(7))));
		assert_eq!(held_escrow(REQUESTER), 0);
		assert_eq!(free(REQUESTER), INITIAL_BALANCE - FEE);
		for w in [W1, W2, W3] {
			assert_eq!(free(w), INITIAL_BALANCE - MIN_STAKE + FEE / 3);
			assert_eq!(stake_of(w), MIN_STAKE);
			assert!(WorkerJobs::<Test>::get(w).is_empty());
		}
		assert!(Results::<Test>::iter_prefix(id).next().is_none());
		assert!(Deadlines::<Test>::get(job.deadline).is_empty());
		assert_eq!(
			last_event(),
			Event::JobCompleted {
				job: id,
				outcome: hash(7),
				paid: vec![(W1, 100), (W2, 100), (W3, 100)],
			}
		);
	});
}

#[test]
fn majority_wins_and_minority_is_slashed() {
	run(|| {
		register_all(&[W1, W2, W3]);
		let id = create(3);
		submit(W1, id, hash(1));
		submit(W2, id, hash(2));
		let treasury = free(TREASURY);
		submit(W3, id, hash(1));

		// W2 loses 10% of 1,000: 50 to the treasury, 25 each to W1 and W3.
		assert_eq!(job(id).outcome, Some(hash(1)));
		assert_eq!(stake_of(W2), MIN_STAKE - 100);
		assert_eq!(held_stake(W2), MIN_STAKE - 100);
		assert_eq!(free(TREASURY), treasury + 50);
		for w in [W1, W3] {
			assert_eq!(free(w), INITIAL_BALANCE - MIN_STAKE + 150 + 25);
		}
		let events = events();
		assert!(events.contains(&Event::WorkerSlashed {
			worker: W2,
			job: id,
			amount: 100,
			to_treasury: 50,
			reason: SlashReason::Disagreed,
		}));
		assert_eq!(
			last_event(),
			Event::JobCompleted { job: id, outcome: hash(1), paid: vec![(W1, 175), (W3, 175)] }
		);
	});
}

#[test]
fn slash_below_minimum_stake_starts_unbonding() {
	run(|| {
		register_all(&[W1, W2, W3]);
		let id = create(3);
		submit(W1, id, hash(1));
		submit(W2, id, hash(1));
		submit(W3, id, hash(2));
		assert_eq!(
			Workers::<Test>::get(W3).unwrap().status,
			WorkerStatus::Unbonding { until: 1 + UNBONDING }
		);
		assert!(events().contains(&Event::WorkerUnbonding { worker: W3, until: 1 + UNBONDING }));
		// The others stay active.
		assert!(Workers::<Test>::get(W1).unwrap().is_active());
	});
}

#[test]
fn fee_remainder_goes_to_first_majority_worker() {
	run(|| {
		register_all(&[W1, W2]);
		let id = create_by(REQUESTER, 2, 301);
		submit(W2, id, hash(1));
		submit(W1, id, hash(1));
		assert_eq!(
			last_event(),
			Event::JobCompleted { job: id, outcome: hash(1), paid: vec![(W1, 151), (W2, 150)] }
		);
	});
}

#[test]
fn tie_escalates_to_more_workers() {
	run(|| {
		register_all(&[W1, W2, W3, W4]);
		let id = create(2);
		let first = assigned(id);
		submit(first[0], id, hash(1));
		run_to_block(3);
		submit(first[1], id, hash(2));

		let job = job(id);
		assert_eq!(job.status, JobStatus::Pending);
		assert_eq!(job.escalations, 1);
		assert_eq!(job.assigned.len(), 4);
		assert_eq!(job.deadline, 3 + TIMEOUT);
		assert!(Deadlines::<Test>::get(1 + TIMEOUT).is_empty());
		assert_eq!(Deadlines::<Test>::get(3 + TIMEOUT).into_inner(), vec![id]);
		let added = job.assigned[2..].to_vec();
		assert_eq!(
			last_event(),
			Event::JobEscalated { job: id, added: added.clone(), deadline: 3 + TIMEOUT }
		);
		// Nobody is slashed on a tie.
		for w in [W1, W2, W3, W4] {
			assert_eq!(stake_of(w), MIN_STAKE);
		}

		// The new workers side with hash 1: 3 of 4 is a strict majority.
		submit(added[0], id, hash(1));
		submit(added[1], id, hash(1));
		assert_eq!(Jobs::<Test>::get(id).unwrap().outcome, Some(hash(1)));
		assert_eq!(stake_of(first[1]), MIN_STAKE - 100);
	});
}

#[test]
fn exhausted_escalations_fail_the_job_and_refund() {
	run(|| {
		register_all(&[W1, W2, W3, W4, W5, W6]);
		let id = create(2);
		// Every round splits evenly between two hashes.
		for round in 0..=MAX_ESCALATIONS {
			let workers = assigned(id);
			let fresh: Vec<_> = workers
				.iter()
				.filter(|w| !Results::<Test>::contains_key(id, **w))
				.copied()
				.collect();
			assert_eq!(fresh.len(), 2, "round {round} adds two workers");
			submit(fresh[0], id, hash(1));
			submit(fresh[1], id, hash(2));
		}
		let job = job(id);
		assert_eq!((job.status, job.outcome), (JobStatus::Failed, None));
		assert_eq!(job.escalations, MAX_ESCALATIONS);
		assert_eq!(held_escrow(REQUESTER), 0);
		assert_eq!(free(REQUESTER), INITIAL_BALANCE);
		for w in [W1, W2, W3, W4, W5, W6] {
			assert_eq!(stake_of(w), MIN_STAKE);
			assert!(WorkerJobs::<Test>::get(w).is_empty());
		}
		assert_eq!(last_event(), Event::JobFailed { job: id, refunded: FEE });
	});
}

#[test]
fn tie_without_spare_workers_fails_the_job() {
	run(|| {
		register_all(&[W1, W2]);
		let id = create(2);
		submit(W1, id, hash(1));
		submit(W2, id, hash(2));
		assert_eq!(job(id).status, JobStatus::Failed);
		assert_eq!(free(REQUESTER), INITIAL_BALANCE);
	});
}

#[test]
fn disagreement_share_goes_to_majority_when_treasury_cannot_take_it() {
	run(|| {
		// An empty treasury account that cannot be created with 50.
		TreasuryAccount::set(98);
		ExistentialDeposit::set(60);
		register_all(&[W1, W2, W3]);
		let id = create(3);
		submit(W1, id, hash(1));
		submit(W2, id, hash(2));
		submit(W3, id, hash(1));
		assert_eq!(free(98), 0);
		assert!(events().contains(&Event::WorkerSlashed {
			worker: W2,
			job: id,
			amount: 100,
			to_treasury: 0,
			reason: SlashReason::Disagreed,
		}));
		assert_eq!(
			last_event(),
			Event::JobCompleted { job: id, outcome: hash(1), paid: vec![(W1, 200), (W3, 200)] }
		);
	});
}
