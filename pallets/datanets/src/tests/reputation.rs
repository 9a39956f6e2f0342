//! Reputation and barring.

use super::*;
use frame_support::assert_noop;

#[test]
fn bars_contributor_whose_reputation_falls_below_threshold() {
	run(|| {
		let d = create_curated();
		let first = contribute(ALICE, d, 1);
		let second = contribute(ALICE, d, 2);
		let third = contribute(ALICE, d, 3);
		reject(CURATOR, first);
		assert!(!contributor(d, ALICE).barred, "-2 is not below -3");
		reject(CURATOR, second);
		assert_eq!(contributor(d, ALICE).reputation, -2 * PENALTY);
		assert!(contributor(d, ALICE).barred);
		assert_eq!(
			last_event(),
			Event::ContributorBarred { datanet: d, contributor: ALICE, reputation: -2 * PENALTY }
		);
		assert_noop!(
			Datanets::contribute(
				RuntimeOrigin::signed(ALICE),
				d,
				content(9),
				10,
				text(),
				bytes(b"x"),
				bytes(b"")
			),
			Error::<Test>::ContributorBarred
		);
		// What was already pending is still curated.
		accept(CURATOR, third);
		assert!(contributor(d, ALICE).barred, "acceptance does not lift a bar");
	});
}

#[test]
fn barring_is_per_datanet() {
	run(|| {
		let d = create_curated();
		let other = create(BOB);
		reject(CURATOR, contribute(ALICE, d, 1));
		reject(CURATOR, contribute(ALICE, d, 2));
		assert!(contributor(d, ALICE).barred);
		contribute(ALICE, other, 1);
		assert_eq!(contributor(other, ALICE).reputation, 0);
	});
}

#[test]
fn acceptances_offset_rejections() {
	run(|| {
		let d = create_curated();
		for n in 0..3 {
			accept(CURATOR, contribute(ALICE, d, n));
		}
		assert_eq!(contributor(d, ALICE).reputation, 3 * REWARD);
		reject(CURATOR, contribute(ALICE, d, 10));
		reject(CURATOR, contribute(ALICE, d, 11));
		// 3 - 4 = -1: not below -3.
		assert_eq!(contributor(d, ALICE).reputation, 3 * REWARD - 2 * PENALTY);
		assert!(!contributor(d, ALICE).barred);
		assert_eq!(contributor(d, ALICE).accepted, 3);
		assert_eq!(contributor(d, ALICE).rejected, 2);
	});
}
