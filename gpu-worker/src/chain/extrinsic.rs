//! Signed extrinsics for the OpenLedger runtime, built without linking the runtime.
//!
//! The worker sends a handful of calls (register, heartbeat, submit a result). Each is encoded
//! by hand as `pallet index ++ call index ++ SCALE arguments`, wrapped in a signed (format 4)
//! extrinsic whose transaction extensions mirror the runtime's `TxExtension` tuple:
//!
//! | extension                 | explicit (in the extrinsic) | implicit (signed only)   |
//! |---------------------------|-----------------------------|--------------------------|
//! | CheckNonZeroSender        | -                           | -                        |
//! | CheckSpecVersion          | -                           | spec_version: u32        |
//! | CheckTxVersion            | -                           | transaction_version: u32 |
//! | CheckGenesis              | -                           | genesis hash             |
//! | CheckEra (mortal, 64)     | era                         | hash of the era's birth  |
//! | CheckNonce                | compact nonce               | -                        |
//! | CheckWeight               | -                           | -                        |
//! | ChargeTransactionPayment  | compact tip (0)             | -                        |
//!
//! If the runtime's tuple changes, the node refuses these transactions as invalid
//! (`BadProof`), which the end-to-end tests would show at once.

use codec::{Compact, Encode};
use sp_core::{crypto::Pair as _, sr25519, H256};
use sp_runtime::{generic::Era, MultiAddress, MultiSignature};

/// The compute pallet's index in the runtime (`#[runtime::pallet_index(21)]`).
pub const COMPUTE_PALLET_INDEX: u8 = 21;

/// Call indexes of pallet-compute that the worker uses.
pub mod call_index {
	/// `register_worker(stake, capabilities)`.
	pub const REGISTER_WORKER: u8 = 0;
	/// `heartbeat()`.
	pub const HEARTBEAT: u8 = 2;
	/// `submit_result(job, payload_hash, payload)`.
	pub const SUBMIT_RESULT: u8 = 6;
}

/// How many blocks a worker's transaction stays valid.
pub const MORTALITY_PERIOD: u64 = 64;

/// A call of the runtime: `pallet index ++ call index ++ arguments`, already SCALE-encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedCall(pub Vec<u8>);

impl EncodedCall {
	/// A call of pallet-compute with SCALE-encoded arguments.
	pub fn compute(call: u8, args: impl Encode) -> Self {
		let mut bytes = vec![COMPUTE_PALLET_INDEX, call];
		args.encode_to(&mut bytes);
		Self(bytes)
	}
}

/// What a signature commits to besides the call: fetched from the node before signing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigningContext {
	/// The runtime's `spec_version`.
	pub spec_version: u32,
	/// The runtime's `transaction_version`.
	pub transaction_version: u32,
	/// The genesis block hash.
	pub genesis: H256,
	/// The block the transaction's mortality counts from.
	pub birth_number: u64,
	/// That block's hash.
	pub birth_hash: H256,
	/// The sender's next nonce.
	pub nonce: u32,
}

/// Builds and signs a format-4 extrinsic carrying `call`, ready for `author_submitExtrinsic`.
pub fn sign(call: &EncodedCall, signer: &sr25519::Pair, context: &SigningContext) -> Vec<u8> {
	let era = Era::mortal(MORTALITY_PERIOD, context.birth_number);
	let tip = Compact(0u128);
	let explicit = (era, Compact(context.nonce), tip);
	let implicit =
		(context.spec_version, context.transaction_version, context.genesis, context.birth_hash);

	let mut payload = call.0.clone();
	explicit.encode_to(&mut payload);
	implicit.encode_to(&mut payload);
	// The runtime signs the hash of payloads longer than 256 bytes.
	let signature = if payload.len() > 256 {
		signer.sign(&sp_crypto_hashing::blake2_256(&payload))
	} else {
		signer.sign(&payload)
	};

	let address: MultiAddress<sp_runtime::AccountId32, ()> =
		MultiAddress::Id(signer.public().into());
	let mut body = vec![0x80 | 4u8];
	address.encode_to(&mut body);
	MultiSignature::Sr25519(signature).encode_to(&mut body);
	explicit.encode_to(&mut body);
	body.extend_from_slice(&call.0);

	let mut extrinsic = Compact(body.len() as u32).encode();
	extrinsic.extend_from_slice(&body);
	extrinsic
}

/// Parses a signing key: a secret URI (`//Bob`, a mnemonic, `0x` + hex seed), or the path of a
/// file that holds one.
pub fn parse_key(key: &str) -> Result<sr25519::Pair, String> {
	let text = match std::fs::read_to_string(key) {
		Ok(contents) => contents.trim().to_string(),
		Err(_) => key.to_string(),
	};
	sr25519::Pair::from_string(&text, None).map_err(|e| format!("not a key or key file: {e:?}"))
}

#[cfg(test)]
mod tests {
	use super::*;
	use codec::Decode;
	use sp_runtime::traits::Verify;

	fn context() -> SigningContext {
		SigningContext {
			spec_version: 100,
			transaction_version: 1,
			genesis: H256::repeat_byte(7),
			birth_number: 1000,
			birth_hash: H256::repeat_byte(9),
			nonce: 5,
		}
	}

	/// Splits a signed extrinsic back into its parts, as the runtime's decoder does.
	fn decode(
		extrinsic: &[u8],
	) -> (MultiAddress<sp_runtime::AccountId32, ()>, MultiSignature, Era, u32, u128, Vec<u8>) {
		let mut input = extrinsic;
		let Compact(len) = Compact::<u32>::decode(&mut input).unwrap();
		assert_eq!(len as usize, input.len());
		assert_eq!(u8::decode(&mut input).unwrap(), 0x84);
		let address = MultiAddress::decode(&mut input).unwrap();
		let signature = MultiSignature::decode(&mut input).unwrap();
		let era = Era::decode(&mut input).unwrap();
		let Compact(nonce) = Compact::<u32>::decode(&mut input).unwrap();
		let Compact(tip) = Compact::<u128>::decode(&mut input).unwrap();
		(address, signature, era, nonce, tip, input.to_vec())
	}

	#[test]
	fn signed_extrinsic_carries_the_call_and_a_valid_signature() {
		let pair = parse_key("//Bob").unwrap();
		let call = EncodedCall::compute(call_index::SUBMIT_RESULT, (7u64, H256::zero(), vec![1u8]));
		let extrinsic = sign(&call, &pair, &context());
		let (address, signature, era, nonce, tip, rest) = decode(&extrinsic);

		assert_eq!(address, MultiAddress::Id(pair.public().into()));
		assert_eq!(era, Era::mortal(MORTALITY_PERIOD, 1000));
		assert_eq!((nonce, tip), (5, 0));
		assert_eq!(rest, call.0);
		assert_eq!(&rest[..2], &[COMPUTE_PALLET_INDEX, call_index::SUBMIT_RESULT]);

		let mut payload = call.0.clone();
		(era, Compact(5u32), Compact(0u128)).encode_to(&mut payload);
		(100u32, 1u32, H256::repeat_byte(7), H256::repeat_byte(9)).encode_to(&mut payload);
		assert!(signature.verify(&payload[..], &pair.public().into()));
		// A different context (another chain) does not verify.
		let mut other = payload.clone();
		let last = other.len() - 1;
		other[last] ^= 1;
		assert!(!signature.verify(&other[..], &pair.public().into()));
	}

	#[test]
	fn long_payloads_are_signed_by_hash() {
		let pair = parse_key("//Alice").unwrap();
		let call =
			EncodedCall::compute(call_index::SUBMIT_RESULT, (1u64, H256::zero(), vec![0u8; 400]));
		let extrinsic = sign(&call, &pair, &context());
		let (_, signature, era, _, _, _) = decode(&extrinsic);
		let mut payload = call.0.clone();
		(era, Compact(5u32), Compact(0u128)).encode_to(&mut payload);
		(100u32, 1u32, H256::repeat_byte(7), H256::repeat_byte(9)).encode_to(&mut payload);
		assert!(!signature.verify(&payload[..], &pair.public().into()));
		let hashed = sp_crypto_hashing::blake2_256(&payload);
		assert!(signature.verify(&hashed[..], &pair.public().into()));
	}

	#[test]
	fn keys_come_from_uris_and_files() {
		let bob = parse_key("//Bob").unwrap();
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("key");
		std::fs::write(&path, "//Bob\n").unwrap();
		assert_eq!(parse_key(path.to_str().unwrap()).unwrap().public(), bob.public());
		assert!(parse_key("not a key at all").is_err());
	}
}
