//! The binary Merkle tree that commits a snapshot to its contributions.
//!
//! Pure functions, usable in the runtime, in the runtime API and in the node (std).
//!
//! - **Leaf** of contribution `id`: `blake2_256(SCALE(id: u64, content_hash: [u8; 32], size: u64))`,
//!   48 bytes of input.
//! - **Inner node**: `blake2_256(left ++ right)`, 64 bytes of input. Leaves and inner nodes hash
//!   inputs of different lengths, so a leaf can never be passed off as an inner node.
//! - **Levels** are built left to right by pairing neighbours; a level with an odd number of nodes
//!   **promotes** its last node unchanged to the next level (it is not duplicated, so no two
//!   different leaf lists share a root by repeating the last leaf).
//! - The root of one leaf is the leaf. There is no root of zero leaves.
//!
//! Because the left part of such a tree is always perfect, the root of `n` leaves equals the
//! right-to-left "bagging" of the perfect subtrees (peaks) given by the binary digits of `n`:
//! `root = H(P_1, H(P_2, ... H(P_{k-1}, P_k)))`, largest peak first. The pallet keeps those peaks
//! per Datanet ([`push_leaf`]), so cutting a snapshot costs `O(log n)` hashes, not `O(n)` reads.

use alloc::vec::Vec;
use codec::{Decode, Encode};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_io::hashing::blake2_256;

use crate::types::ContributionId;

/// A Merkle path from a leaf to the root.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct MerkleProof {
	/// The leaf's position among the leaves, from 0.
	pub leaf_index: u32,
	/// How many leaves the tree has; needed to know where a node was promoted.
	pub leaf_count: u32,
	/// The sibling hashes from the bottom level up, skipping levels where the node was promoted.
	pub siblings: Vec<H256>,
}

/// The leaf of contribution `id` with this content hash and size.
pub fn leaf_hash(id: ContributionId, content_hash: &H256, size: u64) -> H256 {
	H256((id, content_hash.0, size).using_encoded(blake2_256))
}

/// The parent of two nodes.
pub fn node_hash(left: &H256, right: &H256) -> H256 {
	let mut input = [0u8; 64];
	let (l, r) = input.split_at_mut(32);
	l.copy_from_slice(left.as_bytes());
	r.copy_from_slice(right.as_bytes());
	H256(blake2_256(&input))
}

/// The level above `level`: neighbours paired, an odd last node promoted.
fn parent_level(level: &[H256]) -> Vec<H256> {
	level
		.chunks(2)
		.map(|pair| match pair {
			[left, right] => node_hash(left, right),
			[single] => *single,
			// `chunks(2)` yields one or two nodes.
			_ => H256::zero(),
		})
		.collect()
}

/// The root of these leaves, or `None` for no leaves.
pub fn merkle_root(leaves: &[H256]) -> Option<H256> {
	let mut level = leaves.to_vec();
	while level.len() > 1 {
		level = parent_level(&level);
	}
	level.first().copied()
}

/// The proof for the leaf at `index`, or `None` if there is no such leaf (or more than `u32::MAX`
/// leaves).
pub fn merkle_proof(leaves: &[H256], index: u32) -> Option<MerkleProof> {
	let leaf_count = u32::try_from(leaves.len()).ok()?;
	if index >= leaf_count {
		return None;
	}
	let mut siblings = Vec::new();
	let mut level = leaves.to_vec();
	let mut position = usize::try_from(index).ok()?;
	while level.len() > 1 {
		// The sibling is the other node of the pair; a promoted last node has none.
		if let Some(sibling) = level.get(position ^ 1) {
			siblings.push(*sibling);
		}
		level = parent_level(&level);
		position >>= 1;
	}
	Some(MerkleProof { leaf_index: index, leaf_count, siblings })
}

/// Whether `proof` shows that `leaf` is at `proof.leaf_index` in the tree with this `root`. The
/// proof's `leaf_count` is taken as given; [`verify_contribution`] pins it to the snapshot's.
pub fn verify_proof(root: &H256, leaf: &H256, proof: &MerkleProof) -> bool {
	if proof.leaf_index >= proof.leaf_count {
		return false;
	}
	let mut node = *leaf;
	let mut position = proof.leaf_index;
	let mut width = proof.leaf_count;
	let mut siblings = proof.siblings.iter();
	while width > 1 {
		let is_right = position & 1 == 1;
		let has_right_sibling = position.checked_add(1).is_some_and(|next| next < width);
		if is_right {
			let Some(sibling) = siblings.next() else { return false };
			node = node_hash(sibling, &node);
		} else if has_right_sibling {
			let Some(sibling) = siblings.next() else { return false };
			node = node_hash(&node, sibling);
		}
		position >>= 1;
		width = width.div_ceil(2);
	}
	siblings.next().is_none() && node == *root
}

/// Whether `proof` shows that contribution `id`, with this content hash and size, is in the
/// snapshot with this root and count. Prefer this to [`verify_proof`]: it pins the leaf count to the
/// snapshot's and computes the leaf itself.
pub fn verify_contribution(
	root: &H256,
	count: u32,
	id: ContributionId,
	content_hash: &H256,
	size: u64,
	proof: &MerkleProof,
) -> bool {
	proof.leaf_count == count && verify_proof(root, &leaf_hash(id, content_hash, size), proof)
}

/// [`push_leaf`] was given peaks that do not belong to a tree of that many leaves (or a full tree).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PeaksMismatch;

/// Appends a leaf to a tree of `count` leaves kept as its peaks (largest first). Fails, changing
/// nothing, only if the peaks do not match `count` or `count` is `u32::MAX`.
pub fn push_leaf(
	peaks: &mut crate::types::MerklePeaks,
	count: u32,
	leaf: H256,
) -> Result<(), PeaksMismatch> {
	if count == u32::MAX || peaks.len() != count.count_ones() as usize {
		return Err(PeaksMismatch);
	}
	// Each trailing one bit of `count` is a peak of the same height as the new node: merge them.
	let mut node = leaf;
	let mut rest = count;
	while rest & 1 == 1 {
		let left = peaks.pop().ok_or(PeaksMismatch)?;
		node = node_hash(&left, &node);
		rest >>= 1;
	}
	peaks.try_push(node).map_err(|_| PeaksMismatch)
}

/// The root of the tree whose peaks these are (largest first), or `None` for no peaks.
pub fn peaks_root(peaks: &[H256]) -> Option<H256> {
	let mut from_smallest = peaks.iter().rev();
	let mut root = *from_smallest.next()?;
	for peak in from_smallest {
		root = node_hash(peak, &root);
	}
	Some(root)
}
