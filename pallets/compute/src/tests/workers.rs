//! Registering, heartbeats, capabilities, unbonding and withdrawing stake.

use super::*;
use frame_support::{assert_noop, assert_ok, dispatch::Pays};

#[test]
fn registers_worker_and_holds_stake() {
	run(|| {
		assert_ok!(Compute::register_worker(RuntimeOrigin::signed(W1), 2_000, gpu()));
		let info = Workers::<Test>::get(W1).unwrap();
		assert_eq!(info.stake, 2_000);
		assert_eq!(info.status, WorkerStatus::Active);
		assert_eq!((info.registered_at, info.last_heartbeat), (1, 1));
		assert_eq!(held_stake(W1), 2_000);
		assert_eq!(free(W1), INITIAL_BALANCE - 2_000);
		assert_eq!(Workers::<Test>::count(), 1);
		assert_eq!(
			last_event(),
			Event::WorkerRegistered { worker: W1, stake: 2_000, capabilities: gpu() }
		);
	});
}

#[test]
fn rejects_duplicate_registration() {
	run(|| {
		register(W1, MIN_STAKE);
		assert_noop!(
			Compute::register_worker(RuntimeOrigin::signed(W1), MIN_STAKE, gpu()),
			Error::<Test>::AlreadyRegistered
		);
	});
}

#[test]
fn rejects_stake_below_minimum() {
	run(|| {
		assert_noop!(
			Compute::register_worker(RuntimeOrigin::signed(W1), MIN_STAKE - 1, gpu()),
			Error::<Test>::StakeTooLow
		);
	});
}

#[test]
fn rejects_capabilities_without_job_kinds() {
	run(|| {
		let none = Capabilities { job_kinds: 0, ..gpu() };
		assert_noop!(
			Compute::register_worker(RuntimeOrigin::signed(W1), MIN_STAKE, none),
			Error::<Test>::NoJobKinds
		);
		// Bits of no known kind count as none.
		let unknown = Capabilities { job_kinds: 0b1111_0000, ..gpu() };
		assert_noop!(
			Compute::register_worker(RuntimeOrigin::signed(W1), MIN_STAKE, unknown),
			Error::<Test>::NoJobKinds
		);
	});
}

#[test]
fn rejects_stake_the_worker_cannot_pay() {
	run(|| {
		assert_noop!(
			Compute::register_worker(RuntimeOrigin::signed(W1), INITIAL_BALANCE + 1, gpu()),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn rejects_registration_beyond_max_workers() {
	run(|| {
		let workers: Vec<AccountId> = (10..10 + MAX_WORKERS as u64).collect();
		register_all(&workers);
		assert_noop!(
			Compute::register_worker(RuntimeOrigin::signed(19), MIN_STAKE, gpu()),
			Error::<Test>::TooManyWorkers
		);
	});
}

#[test]
fn updates_capabilities() {
	run(|| {
		register(W1, MIN_STAKE);
		assert_ok!(Compute::update_capabilities(RuntimeOrigin::signed(W1), verifier_only()));
		assert_eq!(Workers::<Test>::get(W1).unwrap().capabilities, verifier_only());
		assert_eq!(
			last_event(),
			Event::CapabilitiesUpdated { worker: W1, capabilities: verifier_only() }
		);
		assert_noop!(
			Compute::update_capabilities(RuntimeOrigin::signed(W2), gpu()),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			Compute::update_capabilities(
				RuntimeOrigin::signed(W1),
				Capabilities { job_kinds: 0, ..gpu() }
			),
			Error::<Test>::NoJobKinds
		);
	});
}

#[test]
fn heartbeat_is_free_and_recorded() {
	run(|| {
		register(W1, MIN_STAKE);
		run_to_block(7);
		let info = Compute::heartbeat(RuntimeOrigin::signed(W1)).unwrap();
		assert_eq!(info.pays_fee, Pays::No);
		assert_eq!(Workers::<Test>::get(W1).unwrap().last_heartbeat, 7);
		assert_eq!(last_event(), Event::Heartbeat { worker: W1 });
	});
}

#[test]
fn rejects_heartbeat_from_unregistered_account() {
	run(|| {
		assert_noop!(
			Compute::heartbeat(RuntimeOrigin::signed(STRANGER)),
			Error::<Test>::NotRegistered
		);
	});
}

#[test]
fn unregister_starts_unbonding_and_keeps_stake_held() {
	run(|| {
		register(W1, MIN_STAKE);
		assert_ok!(Compute::unregister(RuntimeOrigin::signed(W1)));
		let until = 1 + UNBONDING;
		assert_eq!(Workers::<Test>::get(W1).unwrap().status, WorkerStatus::Unbonding { until });
		assert_eq!(held_stake(W1), MIN_STAKE);
		assert_eq!(last_event(), Event::WorkerUnbonding { worker: W1, until });
		assert_noop!(
			Compute::unregister(RuntimeOrigin::signed(W1)),
			Error::<Test>::AlreadyUnbonding
		);
		assert_noop!(Compute::unregister(RuntimeOrigin::signed(W2)), Error::<Test>::NotRegistered);
	});
}

#[test]
fn withdraw_needs_unbonding_to_have_ended() {
	run(|| {
		register(W1, MIN_STAKE);
		assert_noop!(
			Compute::withdraw_stake(RuntimeOrigin::signed(W1)),
			Error::<Test>::NotUnbonding
		);
		assert_noop!(
			Compute::withdraw_stake(RuntimeOrigin::signed(W2)),
			Error::<Test>::NotRegistered
		);
		assert_ok!(Compute::unregister(RuntimeOrigin::signed(W1)));
		run_to_block(UNBONDING);
		assert_noop!(
			Compute::withdraw_stake(RuntimeOrigin::signed(W1)),
			Error::<Test>::StillUnbonding
		);
		run_to_block(1 + UNBONDING);
		assert_ok!(Compute::withdraw_stake(RuntimeOrigin::signed(W1)));
		assert!(Workers::<Test>::get(W1).is_none());
		assert_eq!(Workers::<Test>::count(), 0);
		assert_eq!(held_stake(W1), 0);
		assert_eq!(free(W1), INITIAL_BALANCE);
		assert_eq!(last_event(), Event::StakeWithdrawn { worker: W1, amount: MIN_STAKE });
	});
}

#[test]
fn withdraw_waits_for_held_jobs() {
	run(|| {
		register(W1, MIN_STAKE);
		let id = create(1);
		assert_ok!(Compute::unregister(RuntimeOrigin::signed(W1)));
		System::set_block_number(1 + UNBONDING);
		assert_noop!(
			Compute::withdraw_stake(RuntimeOrigin::signed(W1)),
			Error::<Test>::WorkerHasJobs
		);
		// An unbonding worker still finishes its job, then may leave.
		submit(W1, id, hash(1));
		assert_eq!(job(id).status, JobStatus::Completed);
		assert_ok!(Compute::withdraw_stake(RuntimeOrigin::signed(W1)));
		assert_eq!(free(W1), INITIAL_BALANCE + FEE);
	});
}

#[test]
fn unbonding_worker_is_not_given_new_jobs() {
	run(|| {
		register_all(&[W1, W2]);
		assert_ok!(Compute::unregister(RuntimeOrigin::signed(W1)));
		for _ in 0..3 {
			let id = create(1);
			assert_eq!(assigned(id), vec![W2]);
		}
	});
}
