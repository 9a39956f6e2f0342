//! Snapshots: contents, Merkle roots and proofs, immutability.

use super::*;
use frame_support::{assert_noop, assert_ok};

/// Accepts contributions `0..n` from a rotating set of contributors; returns their ids in
/// acceptance order.
fn accept_many(d: DatanetId, n: u64) -> Vec<ContributionId> {
	let contributors = [ALICE, BOB, CHARLIE, DAVE];
	(0..n)
		.map(|i| {
			let id = contribute(contributors[(i % 4) as usize], d, i);
			accept(CURATOR, id);
			id
		})
		.collect()
}

fn leaves(ids: &[ContributionId]) -> Vec<H256> {
	ids.iter()
		.map(|&id| {
			let c = Contributions::<Test>::get(id).unwrap();
			merkle::leaf_hash(id, &c.content_hash, c.size)
		})
		.collect()
}

#[test]
fn snapshot_commits_to_accepted_contributions_in_order() {
	run(|| {
		let d = create_curated();
		let ids = accept_many(d, 5);
		// Neither pending nor rejected contributions are in it.
		contribute(ALICE, d, 100);
		reject(CURATOR, contribute(BOB, d, 101));

		let s = snapshot(CURATOR, d);
		let header = Snapshots::<Test>::get(s).unwrap();
		let expected_root = merkle::merkle_root(&leaves(&ids)).unwrap();
		assert_eq!(
			header,
			Snapshot {
				datanet: d,
				version: 1,
				root: expected_root,
				count: 5,
				total_bytes: (0..5).map(size_of).sum(),
				created_by: CURATOR,
				created_at: 1,
			}
		);
		assert_eq!(DatanetSnapshots::<Test>::get(d, 1), Some(s));
		assert_eq!(datanet(d).counters.snapshots, 1);
		assert_eq!(datanet(d).counters.snapshotted, 5);
		assert_eq!(
			last_event(),
			Event::SnapshotCreated {
				snapshot: s,
				datanet: d,
				version: 1,
				root: expected_root,
				count: 5,
				total_bytes: header.total_bytes,
				created_by: CURATOR,
			}
		);
	});
}

#[test]
fn snapshot_root_matches_full_tree_for_every_size() {
	run(|| {
		let d = create_curated();
		let mut ids = Vec::new();
		for n in 0..u64::from(MAX_ACCEPTED) {
			let id = contribute([ALICE, BOB, CHARLIE][(n % 3) as usize], d, n);
			accept(CURATOR, id);
			ids.push(id);
			let s = snapshot(OWNER, d);
			assert_eq!(
				Snapshots::<Test>::get(s).unwrap().root,
				merkle::merkle_root(&leaves(&ids)).unwrap(),
				"root of {} leaves",
				ids.len()
			);
		}
	});
}

#[test]
fn snapshot_stays_unchanged_after_more_acceptances() {
	run(|| {
		let d = create_curated();
		let first_ids = accept_many(d, 3);
		let first = snapshot(CURATOR, d);
		let before = Snapshots::<Test>::get(first).unwrap();

		let more = contribute(ALICE, d, 50);
		accept(CURATOR, more);
		let second = snapshot(OWNER, d);

		assert_eq!(Snapshots::<Test>::get(first).unwrap(), before);
		let after = Snapshots::<Test>::get(second).unwrap();
		assert_eq!((after.version, after.count), (2, 4));
		assert_ne!(after.root, before.root);
		// Contributions keep their place: the first snapshot's proofs still hold.
		for id in first_ids {
			let proof = Datanets::api_contribution_proof(first, id).unwrap();
			assert!(merkle::verify_proof(&before.root, &proof.leaf, &proof.proof));
		}
		assert_eq!(Datanets::api_contribution_proof(first, more), None);
		assert!(Datanets::api_contribution_proof(second, more).is_some());
	});
}

#[test]
fn proof_verifies_for_each_contribution_in_snapshot() {
	run(|| {
		let d = create_curated();
		let ids = accept_many(d, 7);
		let s = snapshot(CURATOR, d);
		let root = Snapshots::<Test>::get(s).unwrap().root;
		for (position, &id) in ids.iter().enumerate() {
			let proof = Datanets::api_contribution_proof(s, id).unwrap();
			let c = Contributions::<Test>::get(id).unwrap();
			assert_eq!(proof.leaf, merkle::leaf_hash(id, &c.content_hash, c.size));
			assert_eq!(proof.root, root);
			assert_eq!(proof.proof.leaf_index as usize, position);
			assert_eq!(proof.proof.leaf_count, 7);
			assert!(merkle::verify_proof(&root, &proof.leaf, &proof.proof));
		}
	});
}

#[test]
fn tampered_proof_fails() {
	run(|| {
		let d = create_curated();
		let ids = accept_many(d, 6);
		let s = snapshot(CURATOR, d);
		let good = Datanets::api_contribution_proof(s, ids[2]).unwrap();
		assert!(merkle::verify_proof(&good.root, &good.leaf, &good.proof));

		let mut sibling = good.proof.clone();
		sibling.siblings[0] = H256::repeat_byte(7);
		assert!(!merkle::verify_proof(&good.root, &good.leaf, &sibling));

		let wrong_size = merkle::leaf_hash(ids[2], &good.content_hash, good.size + 1);
		assert!(!merkle::verify_proof(&good.root, &wrong_size, &good.proof));

		let mut moved = good.proof.clone();
		moved.leaf_index = 3;
		assert!(!merkle::verify_proof(&good.root, &good.leaf, &moved));

		let mut short = good.proof.clone();
		short.siblings.pop();
		assert!(!merkle::verify_proof(&good.root, &good.leaf, &short));
	});
}

#[test]
fn no_proof_for_contribution_outside_snapshot() {
	run(|| {
		let d = create_curated();
		let other = create(OWNER);
		accept_many(d, 2);
		let s = snapshot(CURATOR, d);
		let pending = contribute(ALICE, d, 77);
		let elsewhere = contribute(ALICE, other, 78);
		accept(OWNER, elsewhere);
		assert_eq!(Datanets::api_contribution_proof(s, pending), None);
		assert_eq!(Datanets::api_contribution_proof(s, elsewhere), None);
		assert_eq!(Datanets::api_contribution_proof(s, 999), None);
		assert_eq!(Datanets::api_contribution_proof(9, 0), None);
	});
}

#[test]
fn rejects_snapshot_with_nothing_new() {
	run(|| {
		let d = create_curated();
		assert_noop!(
			Datanets::snapshot(RuntimeOrigin::signed(OWNER), d),
			Error::<Test>::NothingNewToSnapshot
		);
		accept_many(d, 1);
		snapshot(OWNER, d);
		// A pending contribution is nothing new either.
		contribute(BOB, d, 40);
		assert_noop!(
			Datanets::snapshot(RuntimeOrigin::signed(CURATOR), d),
			Error::<Test>::NothingNewToSnapshot
		);
	});
}

#[test]
fn rejects_snapshot_by_non_curator() {
	run(|| {
		let d = create_curated();
		accept_many(d, 1);
		assert_noop!(
			Datanets::snapshot(RuntimeOrigin::signed(ALICE), d),
			Error::<Test>::NotCurator
		);
		assert_noop!(
			Datanets::snapshot(RuntimeOrigin::signed(OWNER), 4),
			Error::<Test>::DatanetNotFound
		);
	});
}

#[test]
fn closed_datanet_can_cut_its_last_snapshot() {
	run(|| {
		let d = create_curated();
		accept_many(d, 2);
		assert_ok!(Datanets::close_datanet(RuntimeOrigin::signed(OWNER), d));
		let s = snapshot(CURATOR, d);
		assert_eq!(Snapshots::<Test>::get(s).unwrap().count, 2);
	});
}
