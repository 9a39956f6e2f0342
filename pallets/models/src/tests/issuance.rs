//! Money only moves: deposits, access fees and job fees never change total issuance.

use super::*;

#[test]
fn every_path_conserves_total_issuance() {
	run(|| {
		let issuance = Balances::total_issuance();
		register_workers(&[W1, W2]);
		let base = register_base(0);
		let (_, snapshot) = snapshot_with(AccessPolicy::FeePerUse(250));
		// Completed.
		let job = request(BOB, base, snapshot, 1, None);
		complete_with(job, train_result(1));
		// Failed on disagreement.
		let job = request(BOB, base, snapshot, 2, None);
		submit_payload(assigned(job)[0], job, train_result(1).encode());
		submit_payload(assigned(job)[1], job, train_result(2).encode());
		// Failed on expiry: its worker is replaced by the other until the rounds run out.
		let job = request(BOB, base, snapshot, 1, None);
		run_to_block(1 + 4 * (TIMEOUT + 1));
		assert_eq!(last_event(), Event::FinetuneFailed { job });
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(PendingFinetunes::<Test>::count(), 0);
	});
}
