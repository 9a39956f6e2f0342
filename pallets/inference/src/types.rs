//! Domain types: a client's deposit, the receipt a worker submits for a served request (which
//! the GPU worker and the JS client encode too), why a receipt was rejected, the message a
//! client signs, and the spec, result and pending record of an on-chain inference job.
//!
//! [`Receipt`], [`InferSpec`] and [`InferResult`] cross the chain boundary as SCALE bytes: their
//! field order is their wire format and must not change. The same holds for the signed message,
//! see [`signing_payload`].

use crate::Config;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::{fungible, Get},
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::Perbill;

pub use pallet_compute::JobId;
pub use pallet_models::{ModelId, VersionIndex};

/// The balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A client's deposit as stored.
pub type DepositInfoOf<T> = DepositInfo<BalanceOf<T>, BlockNumberFor<T>>;
/// An on-chain inference job waiting for its result, as stored.
pub type PendingInferOf<T> = PendingInfer<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
/// A receipt as submitted.
pub type ReceiptOf<T> = Receipt<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	<T as Config>::Signature,
	<T as Config>::MaxAttribution,
>;

/// A Datanet contribution's id (pallet-datanets' `ContributionId`).
pub type ContributionId = u64;

/// One contribution's part in shaping an answer, as the serving worker attributes it.
///
/// Wire format (SCALE, in this order): `contribution: u64, weight: u32` (parts per billion).
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct AttributionEntry {
	/// The contribution (of the served version's training snapshot).
	pub contribution: ContributionId,
	/// Its share of the answer's attribution; the entries of one answer sum to at most the whole.
	pub weight: Perbill,
}

/// Whether `entries` is a well-formed attribution: every weight above zero, no contribution
/// twice, and the weights summing to at most the whole (what is left is unattributed).
/// The number of entries is bounded by the type that carries them.
pub fn attribution_well_formed(entries: &[AttributionEntry]) -> bool {
	let mut total: u64 = 0;
	for (i, entry) in entries.iter().enumerate() {
		if entry.weight.is_zero()
			|| entries.iter().take(i).any(|e| e.contribution == entry.contribution)
		{
			return false;
		}
		total = total.saturating_add(u64::from(entry.weight.deconstruct()));
	}
	total <= u64::from(Perbill::one().deconstruct())
}

/// Domain separator at the start of every signed request: a signature over an inference request
/// can never be mistaken for one over anything else. Encoded as its 19 bytes, no length prefix.
pub const SIGNING_CONTEXT: &[u8; 19] = b"openledger/infer/v1";

/// The number of tokens a model's price is quoted for.
pub const TOKENS_PER_PRICE: u32 = 1_000;

/// What a client keeps on deposit for paid inference.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct DepositInfo<Balance, BlockNumber> {
	/// Held from the client under `HoldReason::InferenceDeposit`; receipts are paid from it.
	pub held: Balance,
	/// The part of `held` the client asked back, if any. It stays held (and keeps paying
	/// receipts) until it is withdrawn.
	pub withdrawal: Option<Withdrawal<Balance, BlockNumber>>,
}

/// A withdrawal waiting out `WithdrawDelay`.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Withdrawal<Balance, BlockNumber> {
	/// How much will be released; never more than the deposit's `held`.
	pub amount: Balance,
	/// The first block `withdraw` releases it in.
	pub unlock_at: BlockNumber,
}

/// A served request, as the worker that served it submits it. The client signed
/// [`signing_payload`] over the chain, the submitting worker, `model`, `version`,
/// `request_hash`, `nonce` and `max_fee` before the worker served it. The token counts are the
/// worker's account of what it served and are not signed: `max_fee` is what bounds the client's
/// cost, and a client that sees inflated counts stops using the worker.
///
/// The attribution is the worker's too, not signed by the client: it decides who shares the fee,
/// never how much the client pays. It must be well formed ([`attribution_well_formed`]) or the
/// receipt is rejected; entries the chain does not accept (a contribution not in the version's
/// snapshot, rejected or withdrawn) earn nothing.
///
/// Wire format (SCALE, in this order): `client: AccountId, model: u32, version: u32,
/// request_hash: H256, nonce: u64, max_fee: Balance, prompt_tokens: u32, completion_tokens: u32,
/// signature: Signature, attribution: Vec<AttributionEntry>` (compact length, then the entries).
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxAttribution))]
#[codec(mel_bound(AccountId: MaxEncodedLen, Balance: MaxEncodedLen, Signature: MaxEncodedLen))]
// The `*NoBound` derives need these bounds on the type itself; codec's derives add theirs as
// where clauses.
#[allow(clippy::multiple_bound_locations)]
pub struct Receipt<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	Signature: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxAttribution: Get<u32>,
> {
	/// Who asked and pays.
	pub client: AccountId,
	/// The model served.
	pub model: ModelId,
	/// The version of the model served (any existing version).
	pub version: VersionIndex,
	/// The hash of the request as the client sent it (the worker's API defines it); recorded,
	/// not interpreted.
	pub request_hash: H256,
	/// Greater than every nonce this client's receipts from this worker settled with so far.
	pub nonce: u64,
	/// The most the client agreed to pay for this request.
	pub max_fee: Balance,
	/// Tokens read.
	pub prompt_tokens: u32,
	/// Tokens written.
	pub completion_tokens: u32,
	/// The client's signature over [`signing_payload`].
	pub signature: Signature,
	/// Which contributions shaped the answer, the largest first.
	pub attribution: BoundedVec<AttributionEntry, MaxAttribution>,
}

/// Why a receipt of a batch was skipped. Nothing of a skipped receipt changes storage.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum RejectReason {
	/// The signature is not the client's over this receipt, this worker and this chain.
	#[codec(index = 0)]
	BadSignature,
	/// The nonce is not above the last one settled for this client and worker (a replay).
	#[codec(index = 1)]
	StaleNonce,
	/// The model has no price: it is not served paid.
	#[codec(index = 2)]
	NoPrice,
	/// The model has no such version.
	#[codec(index = 3)]
	UnknownVersion,
	/// The client's deposit cannot pay the fee.
	#[codec(index = 4)]
	InsufficientDeposit,
	/// The receipt counts no tokens.
	#[codec(index = 5)]
	ZeroTokens,
	/// Price times tokens does not fit the balance type.
	#[codec(index = 6)]
	FeeOverflow,
	/// The fee comes to zero (`max_fee` is zero).
	#[codec(index = 7)]
	ZeroFee,
	/// Moving the fee failed (for example a share below the existential deposit for an account
	/// that does not exist yet).
	#[codec(index = 8)]
	PaymentFailed,
	/// The attribution is malformed: a zero weight, a contribution twice, or weights summing
	/// to more than the whole.
	#[codec(index = 9)]
	BadAttribution,
}

/// The bytes a client signs for one request, and the chain verifies a receipt against:
/// the SCALE encoding of the tuple
///
/// ```text
/// (SIGNING_CONTEXT: [u8; 19], genesis_hash: Hash, worker: AccountId, model: u32, version: u32,
///  request_hash: H256, nonce: u64, max_fee: Balance)
/// ```
///
/// that is, concatenated with no length prefixes or separators:
///
/// | bytes | field | encoding |
/// |---|---|---|
/// | 19 | `b"openledger/infer/v1"` | ASCII, no length prefix |
/// | 32 | genesis hash | `frame_system::BlockHash` of block 0 (the chain's genesis block hash) |
/// | 32 | worker | the serving worker's account id (the receipt's submitter) |
/// | 4 | model | `u32` little-endian |
/// | 4 | version | `u32` little-endian |
/// | 32 | request hash | raw bytes |
/// | 8 | nonce | `u64` little-endian |
/// | 16 | max fee | `u128` little-endian (the runtime's `Balance`) |
///
/// 147 bytes in OpenLedger's runtime. The message is signed as is (sr25519 with the substrate
/// signing context, as `sp_core::sr25519::Pair::sign` and `@polkadot/util-crypto`'s
/// `sr25519Sign` do), not hashed first and not wrapped in `<Bytes>`.
///
/// The genesis hash binds the signature to one chain, the worker to the account that may submit
/// it, the nonce to one use.
#[allow(clippy::too_many_arguments)]
pub fn signing_payload<AccountId: Encode, Hash: Encode, Balance: Encode>(
	genesis_hash: &Hash,
	worker: &AccountId,
	model: ModelId,
	version: VersionIndex,
	request_hash: &H256,
	nonce: u64,
	max_fee: &Balance,
) -> Vec<u8> {
	(SIGNING_CONTEXT, genesis_hash, worker, model, version, request_hash, nonce, max_fee).encode()
}

/// The spec of a `JobKind::Infer` compute job: what the workers run. Greedy decoding, so that
/// every honest worker produces the same completion.
///
/// Wire format (SCALE, in this order): `model: u32, version: u32, prompt: Vec<u8>` (compact
/// length, then the bytes), `max_tokens: u32`.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct InferSpec {
	/// The model to run.
	pub model: ModelId,
	/// Its version (resolved at request time: never "the active one").
	pub version: VersionIndex,
	/// The prompt, UTF-8 text, at most `Config::MaxPromptLen` bytes.
	pub prompt: Vec<u8>,
	/// The most tokens to generate, `1..=Config::MaxInferTokens`.
	pub max_tokens: u32,
}

/// A worker's result payload for a `JobKind::Infer` job; the result's hash is
/// `blake2_256(payload)`.
///
/// Wire format (SCALE, in this order): `completion: Vec<u8>` (compact length, then the bytes),
/// `prompt_tokens: u32, completion_tokens: u32, attribution: Vec<AttributionEntry>`.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct InferResult {
	/// The generated text, UTF-8 (the prompt not repeated).
	pub completion: Vec<u8>,
	/// Tokens read.
	pub prompt_tokens: u32,
	/// Tokens written.
	pub completion_tokens: u32,
	/// Which contributions shaped the completion, the largest first; at most
	/// `Config::MaxAttribution` entries, well formed ([`attribution_well_formed`]).
	pub attribution: Vec<AttributionEntry>,
}

/// An on-chain inference job this pallet created and has not settled yet.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct PendingInfer<AccountId, Balance> {
	/// Who asked and pays.
	pub requester: AccountId,
	/// The model run.
	pub model: ModelId,
	/// The version run.
	pub version: VersionIndex,
	/// The model's price when the job was requested; the fee is computed with it.
	pub price_per_1k_tokens: Balance,
	/// Held from the requester under `HoldReason::InferJob` for this job: the most it can cost.
	pub held: Balance,
}
