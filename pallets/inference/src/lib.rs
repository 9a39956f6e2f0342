//! # Inference pallet
//!
//! Paid off-chain inference: clients keep OPEN on deposit and sign each request; the worker that
//! serves them collects the signed requests and submits them in batches as receipts; the chain
//! checks every receipt and pays its fee out of the client's deposit, split by
//! [`Config::Payout`] (the attribution pallet) between the model's owner, the contributors whose
//! data shaped the answer, the worker and the treasury.
//!
//! ## Flow
//!
//! 1. A model's owner (per [`Config::Models`]) [`set_price`](Pallet::set_price)s it: a price per
//!    1,000 tokens (prompt and completion alike). A model without a price is not served paid;
//!    [`clear_price`](Pallet::clear_price) takes it off.
//! 2. A client [`deposit`](Pallet::deposit)s: the amount is held from its free balance under
//!    [`HoldReason::InferenceDeposit`].
//! 3. For each request the client signs [`signing_payload`] (chain, worker, model, version,
//!    request hash, nonce, the most it will pay) with its account key and sends it with the
//!    request. The worker serves it and keeps the signature.
//! 4. A registered worker (per [`Config::Workers`]) [`submit_receipts`](Pallet::submit_receipts)
//!    up to [`Config::MaxReceipts`] [`Receipt`]s at once. Each one is checked on its own, in
//!    order, cheapest check first: the receipt counts tokens, the version exists, the model has a
//!    price, the nonce is above the last one settled for this client and worker, the fee
//!    `min(max_fee, ceil(price * (prompt_tokens + completion_tokens) / 1000))` is not zero and
//!    the deposit covers it, the attribution is well formed ([`attribution_well_formed`]) and
//!    the client's signature is good (the first failed check is the [`RejectReason`]). A good
//!    receipt is settled (`ReceiptSettled`): the fee moves out of the held deposit into
//!    [`Config::Payout`]'s pot, which splits it by the receipt's attribution, and the nonce is
//!    recorded. A bad one is skipped (`ReceiptRejected` with a
//!    [`RejectReason`]) and changes nothing; the rest of the batch still settles. Only a caller
//!    that is not a worker or an empty batch fails the whole call.
//! 5. A client [`request_withdrawal`](Pallet::request_withdrawal)s part or all of its deposit
//!    and, [`Config::WithdrawDelay`] blocks later, [`withdraw`](Pallet::withdraw)s it.
//!
//! ## On-chain inference
//!
//! Small, trust-minimized requests run as replicated compute jobs instead: the answer is what a
//! majority of independently drawn workers computed, and it lands on chain.
//!
//! 1. A client [`request_inference`](Pallet::request_inference)s a prompt (UTF-8, at most
//!    [`Config::MaxPromptLen`] bytes) with at most `max_tokens` ([`Config::MaxInferTokens`])
//!    tokens of a priced model's version (its active one by default). The most it can cost,
//!    `ceil(price * (prompt bytes + max_tokens) / 1000)` (a token is at least one byte, so the
//!    prompt's bytes bound its tokens), is held from the client under [`HoldReason::InferJob`],
//!    and a `JobKind::Infer` job with the [`InferSpec`] is created through [`Config::Jobs`]:
//!    compute escrows the client's `fee` for the workers, draws `replication` of them and
//!    sets the deadline. The job is recorded in [`PendingInfers`].
//! 2. Workers run the spec (greedy decoding) and submit an [`InferResult`] with its attribution
//!    as their payload; two results agree when their completions and token counts are equal and
//!    their attributions' top-k sets overlap by [`Config::AttributionAgreement`]. Compute
//!    settles the job by the most agreed-with result and tells this pallet through its
//!    [`pallet_compute::traits::JobHooks`].
//! 3. On completion the payload must decode, hash to the agreed outcome, hold UTF-8 text and a
//!    well-formed attribution; the token fee
//!    `min(held, ceil(price * (prompt_tokens + completion_tokens) / 1000))` is paid out through
//!    [`Config::Payout`] (the agreeing workers share the worker part) and the rest of the hold
//!    is released (`InferenceCompleted`, which
//!    carries the completion). An invalid payload, a failed job or a model that no longer has
//!    an owner releases the whole hold.
//!
//! The node, workers and dApps read deposits, prices and nonces, and build the signed message,
//! through the [`runtime_api::InferenceApi`] runtime API.
//!
//! ## Rules worth knowing
//!
//! - A withdrawal stays held, and keeps paying receipts, until it is withdrawn: a client cannot
//!   be served and leave before the worker's receipt lands. Receipts take from the held deposit;
//!   a pending withdrawal is capped at what is left, so `withdraw` may release less than was
//!   asked (nothing, if receipts used it all). A new request adds to the pending amount and
//!   restarts the delay.
//! - Nonces are per (client, worker) and start above 0: a client's first receipt with a worker
//!   has nonce 1 or more. Receipts of a batch are processed in order, so one batch may carry
//!   several receipts of a client, in increasing nonce order.
//! - The client signs what it is willing to pay (`max_fee`), not the token counts: those are the
//!   worker's claim, and the fee never exceeds `max_fee`. Clients pick `max_fee` per request
//!   from the price and the longest answer they asked for.
//! - [`Nonces`] keeps one entry per (client, worker) pair that ever settled a receipt; each was
//!   paid for by a fee.
//! - The split is not this pallet's: [`Config::Payout`] decides it.
//! - Money only moves: fees are transfers out of holds, so total issuance never changes.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod traits;
#[cfg(any(feature = "try-runtime", test))]
mod try_state;
pub mod types;
pub mod weights;

// FRAME's pallet macros expand to `expect` (storage prefixes, pallet names); the hand-written
// modules (`impls`, `types`, ...) keep the workspace's lints.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use crate::traits::Payout;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{InspectHold, Mutate, MutateHold},
			Contains,
		},
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;
	use sp_runtime::{
		traits::{IdentifyAccount, Verify},
		Perbill,
	};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A client's deposit for paid inference: pays its receipts, released on withdrawal.
		#[codec(index = 0)]
		InferenceDeposit,
		/// The most an on-chain inference job can cost its requester in token fees: pays the
		/// model's owner when the job completes, the rest is released.
		#[codec(index = 1)]
		InferJob,
	}

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency deposits are held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, which include this pallet's.
		type RuntimeHoldReason: From<HoldReason>;

		/// Models, their owners and versions (the models pallet).
		type Models: pallet_models::traits::Inspect<Self::AccountId>;

		/// The accounts that may submit receipts: the registered compute workers.
		type Workers: Contains<Self::AccountId>;

		/// A client's signature over a request (`MultiSignature` in the runtime).
		type Signature: Verify<Signer = Self::Signer> + Parameter + MaxEncodedLen + TypeInfo;

		/// What signs: its account id is the client's (`MultiSigner` in the runtime).
		type Signer: IdentifyAccount<AccountId = Self::AccountId>;

		/// Splits every settled fee (the attribution pallet).
		type Payout: Payout<Self::AccountId, BalanceOf<Self>>;

		/// Most attribution entries a receipt or an on-chain inference result carries.
		#[pallet::constant]
		type MaxAttribution: Get<u32>;

		/// How much two replicated on-chain inference results' attributions must overlap to
		/// agree: the share of the larger top-k set found in the other. Their completions and
		/// token counts must be equal.
		#[pallet::constant]
		type AttributionAgreement: Get<Perbill>;

		/// Blocks between asking for a withdrawal and being able to withdraw it.
		#[pallet::constant]
		type WithdrawDelay: Get<BlockNumberFor<Self>>;

		/// Most receipts per `submit_receipts`.
		#[pallet::constant]
		type MaxReceipts: Get<u32>;

		/// Creates the compute jobs on-chain inference runs as (the compute pallet).
		type Jobs: pallet_compute::traits::JobCreator<
			Self::AccountId,
			BalanceOf<Self>,
			BlockNumberFor<Self>,
		>;

		/// Most bytes of an on-chain inference prompt. The encoded [`InferSpec`] (prompt plus
		/// 11 bytes at most) must fit compute's `MaxSpecLen`.
		#[pallet::constant]
		type MaxPromptLen: Get<u32>;

		/// Most tokens an on-chain inference may generate.
		#[pallet::constant]
		type MaxInferTokens: Get<u32>;

		/// Most on-chain inference jobs pending at once.
		#[pallet::constant]
		type MaxPendingInfers: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Sets up models and workers for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::traits::BenchmarkHelper<Self::AccountId>;
	}

	/// Every client's deposit. An entry exists while something is held.
	#[pallet::storage]
	pub type Deposits<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, DepositInfoOf<T>>;

	/// Each priced model's price per 1,000 tokens. Never zero.
	#[pallet::storage]
	pub type Prices<T: Config> = StorageMap<_, Twox64Concat, ModelId, BalanceOf<T>>;

	/// The nonce of the last receipt settled per `(client, worker)`; 0 before the first.
	#[pallet::storage]
	pub type Nonces<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		T::AccountId,
		u64,
		ValueQuery,
	>;

	/// The on-chain inference jobs this pallet created that have not settled yet.
	#[pallet::storage]
	pub type PendingInfers<T: Config> =
		CountedStorageMap<_, Twox64Concat, JobId, PendingInferOf<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A client put `amount` on deposit; `held` is its whole deposit now.
		Deposited { who: T::AccountId, amount: BalanceOf<T>, held: BalanceOf<T> },
		/// A client asked for `amount` of its deposit back (all it has pending now), to be
		/// withdrawn from block `unlock_at`.
		WithdrawalRequested {
			who: T::AccountId,
			amount: BalanceOf<T>,
			unlock_at: BlockNumberFor<T>,
		},
		/// A client's pending withdrawal was released: `amount` (capped at what receipts left)
		/// is free again and `held` stays on deposit.
		Withdrawn { who: T::AccountId, amount: BalanceOf<T>, held: BalanceOf<T> },
		/// A model's owner set its price per 1,000 tokens.
		PriceSet { model: ModelId, price_per_1k_tokens: BalanceOf<T> },
		/// A model's owner took its price off: it is no longer served paid.
		PriceCleared { model: ModelId },
		/// A receipt was settled: `fee` left the client's deposit (split by `Config::Payout`)
		/// and `nonce` is the last one of this client with this worker.
		ReceiptSettled {
			client: T::AccountId,
			worker: T::AccountId,
			model: ModelId,
			version: VersionIndex,
			request_hash: H256,
			fee: BalanceOf<T>,
			nonce: u64,
		},
		/// The receipt at `index` (from 0) of a batch was skipped; nothing of it changed.
		ReceiptRejected { index: u32, reason: RejectReason },
		/// `requester` asked for an on-chain inference, run as compute job `job`; `held` is held
		/// from it for the token fee.
		InferenceRequested {
			job: JobId,
			requester: T::AccountId,
			model: ModelId,
			version: VersionIndex,
			held: BalanceOf<T>,
		},
		/// An on-chain inference completed: the workers agreed on `completion` (UTF-8), `fee` of
		/// the hold was paid out by `Config::Payout` with the result's attribution (0 if that
		/// failed) and the rest was released. `workers` is how many agreed.
		InferenceCompleted {
			job: JobId,
			model: ModelId,
			version: VersionIndex,
			completion: Vec<u8>,
			prompt_tokens: u32,
			completion_tokens: u32,
			fee: BalanceOf<T>,
			workers: u32,
		},
		/// The agreed result of an on-chain inference does not decode, does not hash to its
		/// outcome, is not UTF-8 or carries a malformed attribution: the whole hold was
		/// released.
		InferenceResultInvalid { job: JobId },
		/// An on-chain inference job failed: the whole hold was released.
		InferenceFailed { job: JobId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The amount must not be zero.
		ZeroAmount,
		/// The account cannot hold this much.
		InsufficientBalance,
		/// The account has no deposit.
		NoDeposit,
		/// The withdrawals asked for would exceed the deposit.
		WithdrawalExceedsDeposit,
		/// No withdrawal is pending.
		NoWithdrawal,
		/// The pending withdrawal unlocks at a later block.
		WithdrawalLocked,
		/// No model has this id.
		UnknownModel,
		/// The caller does not own the model.
		NotOwner,
		/// A price must not be zero.
		ZeroPrice,
		/// The model has no price: it is not served paid.
		NoPrice,
		/// Only registered workers submit receipts.
		NotWorker,
		/// A batch must hold a receipt.
		EmptyBatch,
		/// The model has no such version, or (when none was named) no active version.
		UnknownVersion,
		/// A prompt must not be empty.
		EmptyPrompt,
		/// The prompt is longer than `MaxPromptLen` bytes.
		PromptTooLong,
		/// The prompt is not UTF-8 text.
		PromptNotUtf8,
		/// `max_tokens` must be from 1 to `MaxInferTokens`.
		MaxTokensOutOfRange,
		/// `MaxPendingInfers` jobs are pending already.
		TooManyPendingInfers,
		/// Price times tokens does not fit the balance type.
		CostOverflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxReceipts::get() > 0, "a batch must take a receipt");
			assert!(T::MaxPromptLen::get() > 0, "a prompt must fit");
			assert!(T::MaxInferTokens::get() > 0, "an inference must generate a token");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Holds `amount` of the caller's free balance as its inference deposit, adding to what
		/// it has on deposit.
		///
		/// Emits `Deposited`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::deposit())]
		pub fn deposit(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deposit(who, amount)
		}

		/// Asks for `amount` of the caller's deposit back, in addition to any withdrawal
		/// pending; the whole pending amount unlocks `WithdrawDelay` blocks from now. Until it
		/// is withdrawn it stays held and keeps paying receipts.
		///
		/// Emits `WithdrawalRequested`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::request_withdrawal())]
		pub fn request_withdrawal(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_request_withdrawal(who, amount)
		}

		/// Releases the caller's unlocked withdrawal: what was asked for, or what receipts left
		/// of the deposit if that is less.
		///
		/// Emits `Withdrawn`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::withdraw())]
		pub fn withdraw(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw(who)
		}

		/// Sets the price per 1,000 tokens of the caller's model, which serves it paid.
		///
		/// Emits `PriceSet`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_price())]
		pub fn set_price(
			origin: OriginFor<T>,
			model: ModelId,
			price_per_1k_tokens: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_price(who, model, price_per_1k_tokens)
		}

		/// Takes the price off the caller's model: receipts for it are rejected from now on.
		///
		/// Emits `PriceCleared`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::clear_price())]
		pub fn clear_price(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_clear_price(who, model)
		}

		/// Settles a batch of receipts for requests the caller (a registered worker) served.
		/// Each receipt is checked and settled on its own, in order; a bad one is skipped.
		/// Fails, changing nothing, only if the caller is not a worker or the batch is empty.
		///
		/// Emits `ReceiptSettled` (and what `Config::Payout` emits), or `ReceiptRejected`, for
		/// each receipt.
		#[pallet::call_index(5)]
		#[pallet::weight(Pallet::<T>::submit_receipts_weight(receipts.len() as u32))]
		pub fn submit_receipts(
			origin: OriginFor<T>,
			receipts: BoundedVec<ReceiptOf<T>, T::MaxReceipts>,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			let used = Self::do_submit_receipts(worker, receipts)?;
			Ok(Some(used).into())
		}

		/// Runs `prompt` (UTF-8) through `version` of `model` (its active version if `None`),
		/// generating up to `max_tokens` tokens, as a replicated compute job of kind `Infer`:
		/// holds the most its tokens can cost at the model's price, and creates the job with
		/// `fee` (escrowed by compute for the workers), `replication` workers and `timeout`
		/// blocks. Fails, changing nothing, if any check or the job's creation fails.
		///
		/// Emits `InferenceRequested`; `InferenceCompleted`, `InferenceResultInvalid` or
		/// `InferenceFailed` follow when the job settles.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::request_inference())]
		#[allow(clippy::too_many_arguments)]
		pub fn request_inference(
			origin: OriginFor<T>,
			model: ModelId,
			version: Option<VersionIndex>,
			prompt: Vec<u8>,
			max_tokens: u32,
			fee: BalanceOf<T>,
			replication: u8,
			timeout: BlockNumberFor<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_request_inference(
				who,
				model,
				version,
				prompt,
				max_tokens,
				fee,
				replication,
				timeout,
			)
			.map(|_| ())
		}
	}
}
