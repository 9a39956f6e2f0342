//! Proof of Attribution on the worker: which contributions of a model's training snapshot
//! shaped an answer, and by how much.
//!
//! Two signals, combined:
//!
//! - [`spans`]: verbatim spans of the answer found in contributions (a suffix array over the
//!   snapshot's tokens), weighted by span length and rarity;
//! - [`influence`]: gradient sketches. At training time each contribution's per-example
//!   gradients on the LoRA parameters are projected to a few hundred dimensions and indexed;
//!   at serve time the answer's gradient sketch under its adapter is scored against the index.
//!
//! [`combine`] clips at zero, normalizes, keeps the top-k contributions and returns weights
//! in parts per billion, which is what receipts carry on-chain (`Perbill`). [`index`] keeps a
//! model version's two indexes as one blob (its hash goes on-chain) and attributes batches of
//! answers; [`service`] finds indexes by hash and batches the answers a serving worker
//! finishes.

pub mod combine;
pub mod index;
pub mod influence;
pub mod service;
pub mod spans;

/// A contribution's on-chain id (pallet-datanets' `ContributionId`).
pub type ContributionId = u64;

/// Parts per billion: `1_000_000_000` is the whole.
pub const BILLION: u32 = 1_000_000_000;

/// The attribution of one answer: contributions and their weights in parts per billion, the
/// largest first (ties by id), at most the top-k asked for. The weights sum to [`BILLION`]
/// exactly, or the list is empty (nothing in the snapshot shaped the answer measurably).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
	/// `(contribution, weight in parts per billion)`.
	pub entries: Vec<(ContributionId, u32)>,
	/// Whether the answer's gradient sketch was scored against the index (else verbatim spans
	/// alone were looked for).
	pub influence: bool,
}
