//! Drawing workers: deterministic, stake-weighted, and only from active, capable workers.

use super::*;
use frame_support::assert_ok;

fn draw(job: JobId, count: u32) -> Vec<AccountId> {
	Compute::select_workers(job, 0, JobKind::VerifySnapshot, &[], count)
}

#[test]
fn draw_is_deterministic_from_chain_state() {
	let picks = || {
		let mut out = Vec::new();
		run(|| {
			register_all(&[W1, W2, W3, W4, W5, W6]);
			out = (0..20).map(|job| draw(job, 3)).collect::<Vec<_>>();
		});
		out
	};
	let first = picks();
	assert_eq!(first, picks());
	// Different jobs draw differently.
	assert!(first.iter().any(|p| *p != first[0]));
	// A draw never repeats a worker.
	for p in &first {
		let mut sorted = p.clone();
		sorted.sort();
		sorted.dedup();
		assert_eq!(sorted.len(), 3);
	}
}

#[test]
fn parent_hash_changes_the_draw() {
	run(|| {
		register_all(&[W1, W2, W3, W4, W5, W6]);
		let before: Vec<_> = (0..10).map(|job| draw(job, 2)).collect();
		System::initialize(&2, &H256::repeat_byte(9), &Default::default());
		let after: Vec<_> = (0..10).map(|job| draw(job, 2)).collect();
		assert_ne!(before, after);
	});
}

#[test]
fn larger_stake_is_drawn_more_often() {
	run(|| {
		register(W1, 3 * MIN_STAKE);
		register(W2, MIN_STAKE);
		let mut rich = 0;
		let mut poor = 0;
		for job in 0..2_000 {
			match draw(job, 1)[0] {
				W1 => rich += 1,
				_ => poor += 1,
			}
		}
		// Expected 1,500 to 500; allow a wide margin.
		assert!(rich > 1_350 && poor > 350, "rich {rich}, poor {poor}");
	});
}

#[test]
fn never_draws_inactive_unbonding_or_incapable_workers() {
	run(|| {
		register_all(&[W1, W2, W3]);
		assert_ok!(Compute::register_worker(
			RuntimeOrigin::signed(W4),
			MIN_STAKE,
			Capabilities { job_kinds: JobKind::Train.bit(), ..gpu() }
		));
		assert_ok!(Compute::unregister(RuntimeOrigin::signed(W2)));
		// W3 keeps its heartbeat fresh; W1's goes stale.
		run_to_block(1 + HEARTBEAT_TIMEOUT + 1);
		assert_ok!(Compute::heartbeat(RuntimeOrigin::signed(W3)));
		assert_ok!(Compute::heartbeat(RuntimeOrigin::signed(W4)));
		for job in 0..200 {
			assert_eq!(draw(job, 3), vec![W3]);
		}
		// W1 is drawn again once it sends a heartbeat.
		assert_ok!(Compute::heartbeat(RuntimeOrigin::signed(W1)));
		assert_eq!(draw(0, 3).len(), 2);
		// The Train-only worker is drawn for training.
		assert!(Compute::select_workers(0, 0, JobKind::Train, &[], 3).contains(&W4));
	});
}

#[test]
fn excluded_workers_are_not_drawn() {
	run(|| {
		register_all(&[W1, W2, W3]);
		for job in 0..50 {
			let picks = Compute::select_workers(job, 0, JobKind::Infer, &[W1, W3], 3);
			assert_eq!(picks, vec![W2]);
		}
	});
}
