//! The logic behind the calls: deposits and withdrawals, prices, checking and settling
//! receipts, with the fee formula, the fee split and the message clients sign, and on-chain
//! inference: requesting the compute job and settling it when compute says how it ended.

use alloc::vec::Vec;
use codec::{DecodeAll, Encode};
use frame_support::{
	ensure,
	storage::with_storage_layer,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
		Contains, Get,
	},
	weights::Weight,
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_compute::{
	traits::{JobCreator, JobHooks},
	JobKind,
};
use pallet_models::traits::Inspect as ModelsInspect;
use sp_core::H256;
use sp_runtime::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, One, Saturating, Verify, Zero},
	ArithmeticError, DispatchError, DispatchResult, Perbill,
};

use crate::{
	traits::{BatchFee, Payout},
	AttributionEntry, BalanceOf, Config, DepositInfoOf, Deposits, Error, Event, HoldReason,
	InferResult, InferSpec, JobId, ModelId, Nonces, Pallet, PendingInfer, PendingInferOf,
	PendingInfers, Prices, ReceiptOf, RejectReason, VersionIndex, WeightInfo, Withdrawal,
	TOKENS_PER_PRICE,
};

impl<T: Config> Pallet<T> {
	fn now() -> BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number()
	}

	// ---- Deposits ---------------------------------------------------------------------------

	pub(crate) fn do_deposit(who: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut info = Deposits::<T>::get(&who).unwrap_or_default();
		info.held = info.held.checked_add(&amount).ok_or(ArithmeticError::Overflow)?;
		T::Currency::hold(&HoldReason::InferenceDeposit.into(), &who, amount)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		let held = info.held;
		Deposits::<T>::insert(&who, info);
		Self::deposit_event(Event::Deposited { who, amount, held });
		Ok(())
	}

	pub(crate) fn do_request_withdrawal(who: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let unlock_at = Self::now().saturating_add(T::WithdrawDelay::get());
		let pending = Deposits::<T>::try_mutate(&who, |info| {
			let info = info.as_mut().ok_or(Error::<T>::NoDeposit)?;
			let pending = info
				.withdrawal
				.map_or(Zero::zero(), |w| w.amount)
				.checked_add(&amount)
				.filter(|pending| *pending <= info.held)
				.ok_or(Error::<T>::WithdrawalExceedsDeposit)?;
			info.withdrawal = Some(Withdrawal { amount: pending, unlock_at });
			Ok::<_, Error<T>>(pending)
		})?;
		Self::deposit_event(Event::WithdrawalRequested { who, amount: pending, unlock_at });
		Ok(())
	}

	pub(crate) fn do_withdraw(who: T::AccountId) -> DispatchResult {
		let mut info = Deposits::<T>::get(&who).ok_or(Error::<T>::NoWithdrawal)?;
		let withdrawal = info.withdrawal.ok_or(Error::<T>::NoWithdrawal)?;
		ensure!(Self::now() >= withdrawal.unlock_at, Error::<T>::WithdrawalLocked);
		let amount = withdrawal.amount.min(info.held);
		if !amount.is_zero() {
			T::Currency::release(
				&HoldReason::InferenceDeposit.into(),
				&who,
				amount,
				Precision::Exact,
			)?;
		}
		info.held = info.held.saturating_sub(amount);
		info.withdrawal = None;
		let held = info.held;
		Self::store_deposit(&who, info);
		Self::deposit_event(Event::Withdrawn { who, amount, held });
		Ok(())
	}

	/// Stores `info`, or removes the entry when nothing is held any more.
	fn store_deposit(who: &T::AccountId, info: DepositInfoOf<T>) {
		if info.held.is_zero() {
			Deposits::<T>::remove(who);
		} else {
			Deposits::<T>::insert(who, info);
		}
	}

	// ---- Prices -----------------------------------------------------------------------------

	/// Fails unless `who` owns `model`.
	fn ensure_owner(who: &T::AccountId, model: ModelId) -> DispatchResult {
		let owner = T::Models::model_owner(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(owner == *who, Error::<T>::NotOwner);
		Ok(())
	}

	pub(crate) fn do_set_price(
		who: T::AccountId,
		model: ModelId,
		price_per_1k_tokens: BalanceOf<T>,
	) -> DispatchResult {
		Self::ensure_owner(&who, model)?;
		ensure!(!price_per_1k_tokens.is_zero(), Error::<T>::ZeroPrice);
		Prices::<T>::insert(model, price_per_1k_tokens);
		Self::deposit_event(Event::PriceSet { model, price_per_1k_tokens });
		Ok(())
	}

	pub(crate) fn do_clear_price(who: T::AccountId, model: ModelId) -> DispatchResult {
		Self::ensure_owner(&who, model)?;
		ensure!(Prices::<T>::contains_key(model), Error::<T>::NoPrice);
		Prices::<T>::remove(model);
		Self::deposit_event(Event::PriceCleared { model });
		Ok(())
	}

	// ---- Receipts ---------------------------------------------------------------------------

	/// The chain's genesis block hash, as clients sign it.
	pub fn genesis_hash() -> T::Hash {
		frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero())
	}

	/// The bytes a client signs for a request `worker` serves on this chain; see
	/// [`crate::signing_payload`] for the layout.
	pub fn signing_payload(
		worker: &T::AccountId,
		model: ModelId,
		version: VersionIndex,
		request_hash: &H256,
		nonce: u64,
		max_fee: &BalanceOf<T>,
	) -> Vec<u8> {
		crate::signing_payload(
			&Self::genesis_hash(),
			worker,
			model,
			version,
			request_hash,
			nonce,
			max_fee,
		)
	}

	/// What a request costs: `min(max_fee, ceil(price * (prompt + completion) / 1000))`.
	/// Refuses a request without tokens, a product that does not fit the balance type and a
	/// fee of zero.
	pub fn fee(
		price_per_1k_tokens: BalanceOf<T>,
		prompt_tokens: u32,
		completion_tokens: u32,
		max_fee: BalanceOf<T>,
	) -> Result<BalanceOf<T>, RejectReason> {
		let tokens = u64::from(prompt_tokens).saturating_add(u64::from(completion_tokens));
		ensure!(tokens != 0, RejectReason::ZeroTokens);
		let fee = Self::token_cost(price_per_1k_tokens, tokens).ok_or(RejectReason::FeeOverflow)?;
		let fee = fee.min(max_fee);
		ensure!(!fee.is_zero(), RejectReason::ZeroFee);
		Ok(fee)
	}

	/// `ceil(price * tokens / 1000)`, or `None` if the product does not fit the balance type.
	pub fn token_cost(price_per_1k_tokens: BalanceOf<T>, tokens: u64) -> Option<BalanceOf<T>> {
		let tokens = BalanceOf::<T>::try_from(tokens).ok()?;
		let per: BalanceOf<T> = TOKENS_PER_PRICE.into();
		let raw = price_per_1k_tokens.checked_mul(&tokens)?;
		let whole = raw.checked_div(&per)?;
		// `whole * 1000 <= raw`, and `whole` is at most `MAX / 1000`: neither saturates.
		let part = raw.saturating_sub(whole.saturating_mul(per));
		Some(if part.is_zero() { whole } else { whole.saturating_add(One::one()) })
	}

	/// What `submit_receipts` is charged for `n` receipts up front: the benchmarked batch and
	/// the most the payout may use per receipt.
	pub fn submit_receipts_weight(n: u32) -> Weight {
		T::WeightInfo::submit_receipts(n)
			.saturating_add(T::Payout::max_weight(1).saturating_mul(u64::from(n)))
	}

	/// Settles what it can of a batch `worker` submitted; returns the weight used.
	pub(crate) fn do_submit_receipts(
		worker: T::AccountId,
		receipts: BoundedVec<ReceiptOf<T>, T::MaxReceipts>,
	) -> Result<Weight, DispatchError> {
		ensure!(T::Workers::contains(&worker), Error::<T>::NotWorker);
		ensure!(!receipts.is_empty(), Error::<T>::EmptyBatch);
		let genesis = Self::genesis_hash();
		let count = receipts.len() as u32;
		let base = T::WeightInfo::submit_receipts(count);
		// First as one batch: each receipt's fee moved into the pot, then all split together
		// (the payout may credit each account once).
		let batch = with_storage_layer(|| -> Result<Weight, DispatchError> {
			let mut settled: Vec<(&ReceiptOf<T>, BalanceOf<T>)> = Vec::new();
			for (index, receipt) in (0u32..).zip(receipts.iter()) {
				let paid = Self::check_receipt(&worker, &genesis, receipt).and_then(|fee| {
					with_storage_layer(|| Self::settle(&worker, receipt, fee))
						.map_err(|_| RejectReason::PaymentFailed)
				});
				match paid {
					Ok(fee) => settled.push((receipt, fee)),
					Err(reason) => Self::deposit_event(Event::ReceiptRejected { index, reason }),
				}
			}
			let fees: Vec<BatchFee<'_, BalanceOf<T>>> = settled
				.iter()
				.map(|(r, fee)| BatchFee {
					model: r.model,
					version: r.version,
					fee: *fee,
					attribution: &r.attribution,
				})
				.collect();
			let most = T::Payout::max_weight(1).saturating_mul(fees.len() as u64);
			let payout = T::Payout::distribute_batch(core::slice::from_ref(&worker), &fees)?;
			Ok(payout.min(most))
		});
		if let Ok(payout) = batch {
			return Ok(base.saturating_add(payout));
		}
		// The batch's payout failed, so none of it happened: receipt by receipt, each payment
		// in its own layer, so that only the receipts whose payout fails are rejected.
		let mut used = base;
		for (index, receipt) in (0u32..).zip(receipts.iter()) {
			let paid = Self::check_receipt(&worker, &genesis, receipt).and_then(|fee| {
				with_storage_layer(|| {
					Self::settle(&worker, receipt, fee)?;
					T::Payout::distribute(
						receipt.model,
						receipt.version,
						core::slice::from_ref(&worker),
						fee,
						&receipt.attribution,
					)
				})
				.map_err(|_| RejectReason::PaymentFailed)
			});
			match paid {
				Ok(payout) => used = used.saturating_add(payout.min(T::Payout::max_weight(1))),
				Err(reason) => Self::deposit_event(Event::ReceiptRejected { index, reason }),
			}
		}
		Ok(used)
	}

	/// Checks `receipt` against the chain, cheapest checks first, without changing anything;
	/// returns its fee.
	fn check_receipt(
		worker: &T::AccountId,
		genesis: &T::Hash,
		receipt: &ReceiptOf<T>,
	) -> Result<BalanceOf<T>, RejectReason> {
		ensure!(
			receipt.prompt_tokens != 0 || receipt.completion_tokens != 0,
			RejectReason::ZeroTokens
		);
		ensure!(
			T::Models::model_version(receipt.model, receipt.version).is_some(),
			RejectReason::UnknownVersion
		);
		let price = Prices::<T>::get(receipt.model).ok_or(RejectReason::NoPrice)?;
		ensure!(
			receipt.nonce > Nonces::<T>::get(&receipt.client, worker),
			RejectReason::StaleNonce
		);
		let fee =
			Self::fee(price, receipt.prompt_tokens, receipt.completion_tokens, receipt.max_fee)?;
		ensure!(
			Deposits::<T>::get(&receipt.client).is_some_and(|d| d.held >= fee),
			RejectReason::InsufficientDeposit
		);
		ensure!(crate::attribution_well_formed(&receipt.attribution), RejectReason::BadAttribution);
		let payload = crate::signing_payload(
			genesis,
			worker,
			receipt.model,
			receipt.version,
			&receipt.request_hash,
			receipt.nonce,
			&receipt.max_fee,
		);
		ensure!(
			receipt.signature.verify(&payload[..], &receipt.client),
			RejectReason::BadSignature
		);
		Ok(fee)
	}

	/// Moves `fee` for a checked receipt out of the client's deposit into the payout pot and
	/// records its nonce; returns the fee (the batch splits it). Run in a storage layer: if a
	/// transfer fails, nothing of the receipt stays.
	fn settle(
		worker: &T::AccountId,
		receipt: &ReceiptOf<T>,
		fee: BalanceOf<T>,
	) -> Result<BalanceOf<T>, DispatchError> {
		let client = &receipt.client;
		let mut info: DepositInfoOf<T> = Deposits::<T>::get(client).ok_or(Error::<T>::NoDeposit)?;
		info.held = info.held.checked_sub(&fee).ok_or(ArithmeticError::Underflow)?;
		// Receipts come first: a pending withdrawal gets what they leave.
		if let Some(withdrawal) = info.withdrawal.as_mut() {
			withdrawal.amount = withdrawal.amount.min(info.held);
		}
		Self::into_pot(&HoldReason::InferenceDeposit, client, fee)?;
		Self::store_deposit(client, info);
		Nonces::<T>::insert(client, worker, receipt.nonce);
		Self::deposit_event(Event::ReceiptSettled {
			client: client.clone(),
			worker: worker.clone(),
			model: receipt.model,
			version: receipt.version,
			request_hash: receipt.request_hash,
			fee,
			nonce: receipt.nonce,
		});
		Ok(fee)
	}

	/// Moves `fee`, held from `payer` under `reason`, into the payout pot and has
	/// [`Config::Payout`] split it; returns the weight the payout used. The caller runs it in a
	/// storage layer, so a failure undoes the move.
	#[allow(clippy::too_many_arguments)]
	fn pay(
		reason: &HoldReason,
		payer: &T::AccountId,
		workers: &[T::AccountId],
		model: ModelId,
		version: VersionIndex,
		fee: BalanceOf<T>,
		attribution: &[AttributionEntry],
	) -> Result<Weight, DispatchError> {
		Self::into_pot(reason, payer, fee)?;
		T::Payout::distribute(model, version, workers, fee, attribution)
	}

	/// Moves `fee`, held from `payer` under `reason`, whole into the payout pot.
	fn into_pot(reason: &HoldReason, payer: &T::AccountId, fee: BalanceOf<T>) -> DispatchResult {
		T::Currency::transfer_on_hold(
			&(*reason).into(),
			payer,
			&T::Payout::pot(),
			fee,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Force,
		)
		.map(|_| ())
	}
}

impl<T: Config> Pallet<T> {
	// ---- On-chain inference -----------------------------------------------------------------

	/// Checks a request, holds its most token cost and creates its compute job; returns the
	/// job. Checks the cheapest first. Run inside the call's storage layer: a failure after the
	/// hold (creating the job, say) undoes it.
	#[allow(clippy::too_many_arguments)]
	pub(crate) fn do_request_inference(
		who: T::AccountId,
		model: ModelId,
		version: Option<VersionIndex>,
		prompt: Vec<u8>,
		max_tokens: u32,
		fee: BalanceOf<T>,
		replication: u8,
		timeout: BlockNumberFor<T>,
	) -> Result<JobId, DispatchError> {
		ensure!(!prompt.is_empty(), Error::<T>::EmptyPrompt);
		let prompt_len = u32::try_from(prompt.len()).map_err(|_| Error::<T>::PromptTooLong)?;
		ensure!(prompt_len <= T::MaxPromptLen::get(), Error::<T>::PromptTooLong);
		ensure!(core::str::from_utf8(&prompt).is_ok(), Error::<T>::PromptNotUtf8);
		ensure!(
			(1..=T::MaxInferTokens::get()).contains(&max_tokens),
			Error::<T>::MaxTokensOutOfRange
		);
		ensure!(
			PendingInfers::<T>::count() < T::MaxPendingInfers::get(),
			Error::<T>::TooManyPendingInfers
		);
		let version = match version {
			Some(version) => version,
			None => T::Models::active_version(model).ok_or(Error::<T>::UnknownVersion)?,
		};
		ensure!(T::Models::model_version(model, version).is_some(), Error::<T>::UnknownVersion);
		let price = Prices::<T>::get(model).ok_or(Error::<T>::NoPrice)?;
		// A token is at least one byte: the prompt's bytes bound its tokens.
		let tokens = u64::from(prompt_len).saturating_add(u64::from(max_tokens));
		let held = Self::token_cost(price, tokens).ok_or(Error::<T>::CostOverflow)?;
		T::Currency::hold(&HoldReason::InferJob.into(), &who, held)
			.map_err(|_| Error::<T>::InsufficientBalance)?;

		let spec = InferSpec { model, version, prompt, max_tokens };
		let job = T::Jobs::create_job(
			who.clone(),
			JobKind::Infer,
			spec.encode(),
			fee,
			replication,
			timeout,
		)?;
		PendingInfers::<T>::insert(
			job,
			PendingInfer {
				requester: who.clone(),
				model,
				version,
				price_per_1k_tokens: price,
				held,
			},
		);
		Self::deposit_event(Event::InferenceRequested {
			job,
			requester: who,
			model,
			version,
			held,
		});
		Ok(job)
	}

	/// Releases `amount` of `who`'s inference job holds. Best effort: never more than is held.
	fn release_infer(who: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		// Cannot fail with `BestEffort` for what this pallet holds; nothing to undo if it did.
		let _released =
			T::Currency::release(&HoldReason::InferJob.into(), who, amount, Precision::BestEffort);
	}

	/// A result payload as this pallet accepts it: it decodes, its completion is UTF-8 and its
	/// attribution has at most `MaxAttribution` well-formed entries.
	pub fn decode_infer_result(payload: &[u8]) -> Option<InferResult> {
		InferResult::decode_all(&mut &payload[..]).ok().filter(|result| {
			core::str::from_utf8(&result.completion).is_ok()
				&& result.attribution.len() <= T::MaxAttribution::get() as usize
				&& crate::attribution_well_formed(&result.attribution)
		})
	}

	/// Whether two results of one on-chain inference agree: equal completions and token
	/// counts, and top-k sets overlapping by at least `AttributionAgreement` of the larger.
	pub fn infer_results_agree(a: &InferResult, b: &InferResult) -> bool {
		if a.completion != b.completion
			|| a.prompt_tokens != b.prompt_tokens
			|| a.completion_tokens != b.completion_tokens
		{
			return false;
		}
		let larger = a.attribution.len().max(b.attribution.len());
		let shared = a
			.attribution
			.iter()
			.filter(|x| b.attribution.iter().any(|y| y.contribution == x.contribution))
			.count();
		// `shared / larger >= agreement`, in integers: `shared * 1e9 >= agreement * larger`.
		let need =
			u64::from(T::AttributionAgreement::get().deconstruct()).saturating_mul(larger as u64);
		(shared as u64).saturating_mul(u64::from(Perbill::one().deconstruct())) >= need
	}

	/// Settles a completed job's hold from its agreed result: the token fee through the payout
	/// and the rest back to the requester, or all back if the result is invalid.
	fn settle_infer(
		job: JobId,
		pending: PendingInferOf<T>,
		outcome: H256,
		payload: &[u8],
		workers: &[T::AccountId],
	) {
		let requester = &pending.requester;
		let result = (H256(sp_io::hashing::blake2_256(payload)) == outcome)
			.then(|| Self::decode_infer_result(payload))
			.flatten();
		let Some(result) = result else {
			Self::release_infer(requester, pending.held);
			Self::deposit_event(Event::InferenceResultInvalid { job });
			return;
		};

		let tokens =
			u64::from(result.prompt_tokens).saturating_add(u64::from(result.completion_tokens));
		let fee = Self::token_cost(pending.price_per_1k_tokens, tokens)
			.unwrap_or(pending.held)
			.min(pending.held);
		// The payout may refuse (a share below the existential deposit to an account that does
		// not exist): then nobody is paid.
		let paid = if fee.is_zero() {
			Zero::zero()
		} else {
			with_storage_layer(|| {
				Self::pay(
					&HoldReason::InferJob,
					requester,
					workers,
					pending.model,
					pending.version,
					fee,
					&result.attribution,
				)
			})
			.map_or(Zero::zero(), |_| fee)
		};
		Self::release_infer(requester, pending.held.saturating_sub(paid));
		Self::deposit_event(Event::InferenceCompleted {
			job,
			model: pending.model,
			version: pending.version,
			completion: result.completion,
			prompt_tokens: result.prompt_tokens,
			completion_tokens: result.completion_tokens,
			fee: paid,
			workers: u32::try_from(workers.len()).unwrap_or(u32::MAX),
		});
	}
}

/// Compute tells this pallet how its inference jobs ended. Other kinds, and `Infer` jobs it did
/// not create, are ignored.
impl<T: Config> JobHooks<T::AccountId> for Pallet<T> {
	fn on_completed(
		job: JobId,
		_requester: &T::AccountId,
		kind: JobKind,
		_spec: &[u8],
		outcome: H256,
		payload: &[u8],
		workers: &[T::AccountId],
	) -> Weight {
		if kind != JobKind::Infer {
			return Weight::zero();
		}
		let Some(pending) = PendingInfers::<T>::take(job) else {
			return T::DbWeight::get().reads(1);
		};
		Self::settle_infer(job, pending, outcome, payload, workers);
		T::WeightInfo::on_completed().saturating_add(T::Payout::max_weight(u32::MAX))
	}

	fn on_failed(job: JobId, _requester: &T::AccountId, kind: JobKind, _spec: &[u8]) -> Weight {
		if kind != JobKind::Infer {
			return Weight::zero();
		}
		let Some(pending) = PendingInfers::<T>::take(job) else {
			return T::DbWeight::get().reads(1);
		};
		Self::release_infer(&pending.requester, pending.held);
		Self::deposit_event(Event::InferenceFailed { job });
		T::WeightInfo::on_failed()
	}

	fn max_weight() -> Weight {
		T::WeightInfo::on_completed()
			.saturating_add(T::Payout::max_weight(u32::MAX))
			.max(T::WeightInfo::on_failed())
	}

	/// Infer results agree by [`Pallet::infer_results_agree`]; a payload that does not hash to
	/// its claimed hash or does not decode agrees with nothing. Other kinds agree by hash.
	fn agree(kind: JobKind, _spec: &[u8], a: (H256, &[u8]), b: (H256, &[u8])) -> bool {
		if kind != JobKind::Infer {
			return a.0 == b.0;
		}
		let decode = |(hash, payload): (H256, &[u8])| {
			(H256(sp_io::hashing::blake2_256(payload)) == hash)
				.then(|| Self::decode_infer_result(payload))
				.flatten()
		};
		match (decode(a), decode(b)) {
			(Some(a), Some(b)) => Self::infer_results_agree(&a, &b),
			_ => false,
		}
	}
}
