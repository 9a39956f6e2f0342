//! Paid inference on the chain side (pallet-inference), as the serving API needs it: the message
//! a client signs for a request, the receipt the worker submits for it, and mirrors of the
//! pallet's deposit and the served model version.
//!
//! Wire formats are the pallet's: the signed message is the SCALE encoding of
//! `(b"openledger/infer/v1" (19 raw bytes), genesis_hash, worker, model: u32, version: u32,
//! request_hash, nonce: u64, max_fee: u128)`, and a [`Receipt`] is SCALE in field order with a
//! `MultiSignature` (index 1, sr25519) and the attribution at the end.

use codec::{Decode, Encode};
use sp_core::{
	sr25519::{Public, Signature},
	Pair as _,
};

/// The pallet-inference index in the runtime (`#[runtime::pallet_index(23)]`).
pub const INFERENCE_PALLET_INDEX: u8 = 23;

/// `submit_receipts(receipts)`'s call index.
pub const SUBMIT_RECEIPTS: u8 = 5;

/// The domain separator at the start of every signed request.
pub const SIGNING_CONTEXT: &[u8; 19] = b"openledger/infer/v1";

/// The bytes a client signs for a request `worker` serves: see the module docs.
#[allow(clippy::too_many_arguments)]
pub fn signing_payload(
	genesis: &[u8; 32],
	worker: &[u8; 32],
	model: u32,
	version: u32,
	request_hash: &[u8; 32],
	nonce: u64,
	max_fee: u128,
) -> Vec<u8> {
	(SIGNING_CONTEXT, genesis, worker, model, version, request_hash, nonce, max_fee).encode()
}

/// Whether `signature` is `client`'s sr25519 signature of `message`.
pub fn verify(client: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
	sp_core::sr25519::Pair::verify(
		&Signature::from_raw(*signature),
		message,
		&Public::from_raw(*client),
	)
}

/// A client's signature as the runtime's `MultiSignature` carries it.
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MultiSignature {
	/// An ed25519 signature (not produced here).
	#[codec(index = 0)]
	Ed25519([u8; 64]),
	/// An sr25519 signature: what clients sign requests with.
	#[codec(index = 1)]
	Sr25519([u8; 64]),
}

/// The most contributions an answer's attribution names (the runtime's `MAX_ATTRIBUTION`).
pub const MAX_ATTRIBUTION: usize = 4;

/// One contribution's share of an answer (pallet-inference's `AttributionEntry`): SCALE
/// `contribution: u64, weight: u32` (parts per billion; an answer's entries sum to at most
/// 1e9, every weight above zero, no contribution twice).
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttributionEntry {
	/// The contribution's on-chain id.
	pub contribution: u64,
	/// Its share, parts per billion.
	pub weight: u32,
}

/// The entries of an [`crate::attribution::Attribution`], at most [`MAX_ATTRIBUTION`] (the
/// largest first), as receipts and infer results carry them.
pub fn attribution_entries(attribution: &crate::attribution::Attribution) -> Vec<AttributionEntry> {
	attribution
		.entries
		.iter()
		.take(MAX_ATTRIBUTION)
		.filter(|(_, weight)| *weight > 0)
		.map(|&(contribution, weight)| AttributionEntry { contribution, weight })
		.collect()
}

/// A served request, submitted on-chain in a batch of receipts (pallet-inference's `Receipt`).
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
	/// Who asked and pays.
	pub client: [u8; 32],
	/// The model served.
	pub model: u32,
	/// Its version.
	pub version: u32,
	/// blake2-256 of the request body.
	pub request_hash: [u8; 32],
	/// The client's nonce with this worker.
	pub nonce: u64,
	/// The most the client agreed to pay, in plancks.
	pub max_fee: u128,
	/// Tokens of the prompt.
	pub prompt_tokens: u32,
	/// Tokens generated.
	pub completion_tokens: u32,
	/// The client's signature of [`signing_payload`].
	pub signature: MultiSignature,
	/// Which contributions shaped the answer (the worker's, not signed by the client).
	pub attribution: Vec<AttributionEntry>,
}

/// A client's deposit (pallet-inference's `DepositInfo`).
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct DepositInfo {
	/// Held for inference, in plancks; receipts are paid from it.
	pub held: u128,
	/// A withdrawal waiting for its unlock block: (amount, unlock block).
	pub withdrawal: Option<(u128, u32)>,
}

impl DepositInfo {
	/// What requests may still spend: the held amount less a pending withdrawal.
	pub fn spendable(&self) -> u128 {
		self.held.saturating_sub(self.withdrawal.map_or(0, |(amount, _)| amount))
	}
}

/// The fee the chain will charge for a receipt: `min(max_fee, ceil(price * tokens / 1000))`.
pub fn fee(price_per_1k_tokens: u128, tokens: u32, max_fee: u128) -> u128 {
	let product = price_per_1k_tokens.saturating_mul(u128::from(tokens));
	product.div_ceil(1000).min(max_fee)
}

/// A model version the worker can serve: what the chain recorded for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServedVersion {
	/// The model.
	pub model: u32,
	/// The version.
	pub version: u32,
	/// The base Model file's blake2-256.
	pub base_hash: [u8; 32],
	/// blake2-256 of the adapter's `adapter_model.safetensors`.
	pub adapter_hash: [u8; 32],
	/// blake2-256 of its `adapter_config.json`.
	pub config_hash: [u8; 32],
	/// blake2-256 of its attribution index (zero: none).
	pub attribution_index: [u8; 32],
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::Pair;

	#[test]
	fn the_signed_message_has_the_pallet_layout() {
		let message = signing_payload(&[1; 32], &[2; 32], 3, 4, &[5; 32], 6, 7);
		assert_eq!(message.len(), 19 + 32 + 32 + 4 + 4 + 32 + 8 + 16);
		assert_eq!(&message[..19], b"openledger/infer/v1");
		assert_eq!(&message[83..87], &3u32.to_le_bytes());
		assert_eq!(&message[123..131], &6u64.to_le_bytes());
		assert_eq!(&message[131..], &7u128.to_le_bytes());
	}

	#[test]
	fn signatures_verify_for_the_signer_and_the_message_only() {
		let alice = sp_core::sr25519::Pair::from_string("//Alice", None).unwrap();
		let bob = sp_core::sr25519::Pair::from_string("//Bob", None).unwrap();
		let message = signing_payload(&[1; 32], &bob.public().0, 0, 1, &[9; 32], 1, 100);
		let signature = alice.sign(&message).0;
		assert!(verify(&alice.public().0, &message, &signature));
		assert!(!verify(&bob.public().0, &message, &signature));
		let mut other = message.clone();
		other[140] ^= 1;
		assert!(!verify(&alice.public().0, &other, &signature));
	}

	#[test]
	fn receipts_encode_field_by_field() {
		let receipt = Receipt {
			client: [1; 32],
			model: 2,
			version: 3,
			request_hash: [4; 32],
			nonce: 5,
			max_fee: 6,
			prompt_tokens: 7,
			completion_tokens: 8,
			signature: MultiSignature::Sr25519([9; 64]),
			attribution: vec![AttributionEntry { contribution: 0x0102, weight: 0x0304 }],
		};
		let bytes = receipt.encode();
		assert_eq!(bytes.len(), 32 + 4 + 4 + 32 + 8 + 16 + 4 + 4 + 1 + 64 + 1 + 12);
		assert_eq!(bytes[104], 1, "sr25519 is MultiSignature's variant 1");
		assert_eq!(&bytes[169..], &[4, 2, 1, 0, 0, 0, 0, 0, 0, 4, 3, 0, 0]);
	}

	#[test]
	fn fees_round_up_and_stop_at_the_cap() {
		assert_eq!(fee(1000, 7, u128::MAX), 7);
		assert_eq!(fee(1500, 1, u128::MAX), 2);
		assert_eq!(fee(1500, 1000, 10), 10);
		assert_eq!(fee(0, 100, 10), 0);
	}
}
