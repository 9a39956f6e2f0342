//! The Merkle tree functions on their own.

use crate::{merkle::*, MerklePeaks};
use sp_core::H256;

fn leaves(n: u32) -> Vec<H256> {
	(0..n)
		.map(|i| leaf_hash(u64::from(i), &H256::repeat_byte(i as u8), u64::from(i) * 10))
		.collect()
}

#[test]
fn root_of_no_leaves_is_none_and_of_one_leaf_is_the_leaf() {
	assert_eq!(merkle_root(&[]), None);
	let one = leaves(1);
	assert_eq!(merkle_root(&one), Some(one[0]));
	assert_eq!(peaks_root(&[]), None);
}

#[test]
fn odd_node_is_promoted_not_duplicated() {
	let l = leaves(3);
	let expected = node_hash(&node_hash(&l[0], &l[1]), &l[2]);
	assert_eq!(merkle_root(&l), Some(expected));
	let duplicated = node_hash(&node_hash(&l[0], &l[1]), &node_hash(&l[2], &l[2]));
	assert_ne!(merkle_root(&l), Some(duplicated));
	// So repeating the last leaf changes the root.
	let mut repeated = l.clone();
	repeated.push(l[2]);
	assert_ne!(merkle_root(&repeated), merkle_root(&l));
}

#[test]
fn five_leaves_build_the_documented_tree() {
	let l = leaves(5);
	let left = node_hash(&node_hash(&l[0], &l[1]), &node_hash(&l[2], &l[3]));
	assert_eq!(merkle_root(&l), Some(node_hash(&left, &l[4])));
}

#[test]
fn leaf_commits_to_id_hash_and_size() {
	let hash = H256::repeat_byte(1);
	let leaf = leaf_hash(3, &hash, 100);
	assert_ne!(leaf, leaf_hash(4, &hash, 100));
	assert_ne!(leaf, leaf_hash(3, &H256::repeat_byte(2), 100));
	assert_ne!(leaf, leaf_hash(3, &hash, 101));
	let mut preimage = Vec::new();
	preimage.extend_from_slice(&3u64.to_le_bytes());
	preimage.extend_from_slice(hash.as_bytes());
	preimage.extend_from_slice(&100u64.to_le_bytes());
	assert_eq!(leaf, H256(sp_io::hashing::blake2_256(&preimage)));
}

#[test]
fn incremental_peaks_give_the_full_tree_root() {
	let all = leaves(70);
	let mut peaks = MerklePeaks::default();
	for (count, leaf) in all.iter().enumerate() {
		push_leaf(&mut peaks, count as u32, *leaf).unwrap();
		assert_eq!(peaks.len() as u32, (count as u32 + 1).count_ones());
		assert_eq!(peaks_root(&peaks), merkle_root(&all[..=count]), "{} leaves", count + 1);
	}
}

#[test]
fn push_leaf_refuses_peaks_that_do_not_match_the_count() {
	let mut peaks = MerklePeaks::default();
	assert!(push_leaf(&mut peaks, 1, H256::zero()).is_err());
	assert!(peaks.is_empty());
}

#[test]
fn every_proof_verifies_for_every_tree_size() {
	for n in 1..=33 {
		let l = leaves(n);
		let root = merkle_root(&l).unwrap();
		for index in 0..n {
			let proof = merkle_proof(&l, index).unwrap();
			assert_eq!((proof.leaf_index, proof.leaf_count), (index, n));
			assert!(verify_proof(&root, &l[index as usize], &proof), "leaf {index} of {n}");
		}
		assert_eq!(merkle_proof(&l, n), None);
	}
}

#[test]
fn proof_fails_for_other_leaf_root_or_position() {
	let l = leaves(9);
	let root = merkle_root(&l).unwrap();
	let proof = merkle_proof(&l, 4).unwrap();
	assert!(verify_proof(&root, &l[4], &proof));
	assert!(!verify_proof(&root, &l[5], &proof));
	assert!(!verify_proof(&H256::zero(), &l[4], &proof));
	for index in [0, 3, 5, 8, 9, 100] {
		let moved = MerkleProof { leaf_index: index, ..proof.clone() };
		assert!(!verify_proof(&root, &l[4], &moved), "claimed index {index}");
	}
	// A count that changes where nodes are promoted on this leaf's path breaks the proof. (One
	// that does not, such as 10 or 16 here, proves the same leaf at the same index, which is why
	// `verify_contribution` pins the count to the snapshot's.)
	for count in [0, 4, 5, 8] {
		let resized = MerkleProof { leaf_count: count, ..proof.clone() };
		assert!(!verify_proof(&root, &l[4], &resized), "claimed count {count}");
	}
	let mut extra = proof.clone();
	extra.siblings.push(H256::zero());
	assert!(!verify_proof(&root, &l[4], &extra));
	for i in 0..proof.siblings.len() {
		let mut flipped = proof.clone();
		flipped.siblings[i].0[0] ^= 1;
		assert!(!verify_proof(&root, &l[4], &flipped), "sibling {i} flipped");
	}
}

#[test]
fn contribution_check_pins_the_snapshot_count() {
	let l = leaves(4);
	let root = merkle_root(&l).unwrap();
	let proof = merkle_proof(&l, 1).unwrap();
	assert!(verify_contribution(&root, 4, 1, &H256::repeat_byte(1), 10, &proof));
	assert!(!verify_contribution(&root, 5, 1, &H256::repeat_byte(1), 10, &proof));
	assert!(!verify_contribution(&root, 4, 2, &H256::repeat_byte(1), 10, &proof));
	// An inner node passed off as leaf 0 of a two-leaf tree fools a bare path check...
	let inner = node_hash(&l[0], &l[1]);
	let forged =
		MerkleProof { leaf_index: 0, leaf_count: 2, siblings: vec![node_hash(&l[2], &l[3])] };
	assert!(verify_proof(&root, &inner, &forged));
	// ...but not the contribution check: the count is the snapshot's, and a leaf is only ever
	// computed from a contribution (48 bytes hashed, never 64).
	assert!(!verify_contribution(&root, 4, 0, &H256::repeat_byte(0), 0, &forged));
}
