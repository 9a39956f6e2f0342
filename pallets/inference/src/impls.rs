//! The logic behind the calls: deposits and withdrawals, prices, and checking and settling
//! receipts, with the fee formula, the fee split and the message clients sign.

use alloc::vec::Vec;
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
use pallet_models::traits::Inspect as ModelsInspect;
use sp_core::H256;
use sp_runtime::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, One, Saturating, Verify, Zero},
	ArithmeticError, DispatchError, DispatchResult,
};

use crate::{
	traits::InferenceHooks, BalanceOf, Config, DepositInfoOf, Deposits, Error, Event, HoldReason,
	ModelId, Nonces, Pallet, Prices, ReceiptOf, RejectReason, VersionIndex, WeightInfo, Withdrawal,
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
		let tokens = BalanceOf::<T>::try_from(tokens).map_err(|_| RejectReason::FeeOverflow)?;
		let per: BalanceOf<T> = TOKENS_PER_PRICE.into();
		let raw = price_per_1k_tokens.checked_mul(&tokens).ok_or(RejectReason::FeeOverflow)?;
		let whole = raw.checked_div(&per).ok_or(RejectReason::FeeOverflow)?;
		// `whole * 1000 <= raw`, and `whole` is at most `MAX / 1000`: neither saturates.
		let part = raw.saturating_sub(whole.saturating_mul(per));
		let fee = if part.is_zero() { whole } else { whole.saturating_add(One::one()) };
		let fee = fee.min(max_fee);
		ensure!(!fee.is_zero(), RejectReason::ZeroFee);
		Ok(fee)
	}

	/// What `submit_receipts` is charged for `n` receipts up front: the benchmarked batch and
	/// the most the hook may use per receipt.
	pub fn submit_receipts_weight(n: u32) -> Weight {
		T::WeightInfo::submit_receipts(n)
			.saturating_add(T::Hooks::max_weight().saturating_mul(u64::from(n)))
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
		let mut used = T::WeightInfo::submit_receipts(count);
		for (index, receipt) in (0u32..).zip(receipts) {
			let settled = Self::check_receipt(&worker, &genesis, &receipt).and_then(|fee| {
				with_storage_layer(|| Self::settle(&worker, &receipt, fee))
					.map(|()| fee)
					.map_err(|_| RejectReason::PaymentFailed)
			});
			match settled {
				Ok(fee) => {
					let hook = T::Hooks::on_paid(
						receipt.model,
						receipt.version,
						&receipt.client,
						&worker,
						fee,
					);
					used = used.saturating_add(hook.min(T::Hooks::max_weight()));
				}
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

	/// Pays `fee` for a checked receipt out of the client's deposit and records its nonce. Run
	/// in a storage layer: if a transfer fails, nothing of the receipt stays.
	fn settle(worker: &T::AccountId, receipt: &ReceiptOf<T>, fee: BalanceOf<T>) -> DispatchResult {
		let client = &receipt.client;
		let mut info: DepositInfoOf<T> = Deposits::<T>::get(client).ok_or(Error::<T>::NoDeposit)?;
		info.held = info.held.checked_sub(&fee).ok_or(ArithmeticError::Underflow)?;
		// Receipts come first: a pending withdrawal gets what they leave.
		if let Some(withdrawal) = info.withdrawal.as_mut() {
			withdrawal.amount = withdrawal.amount.min(info.held);
		}
		Self::pay(client, worker, receipt.model, receipt.version, fee)?;
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
		Ok(())
	}

	/// The fee split: moves `fee`, held from `client`, [`Config::WorkerShare`] (rounded down)
	/// to `worker` and the rest to the model's owner. The one place the split is decided; the
	/// attribution pallet's split replaces it.
	///
	/// Emits `FeePaid`.
	fn pay(
		client: &T::AccountId,
		worker: &T::AccountId,
		model: ModelId,
		_version: VersionIndex,
		fee: BalanceOf<T>,
	) -> DispatchResult {
		let owner = T::Models::model_owner(model).ok_or(Error::<T>::UnknownModel)?;
		let to_worker = T::WorkerShare::get().mul_floor(fee);
		let to_owner = fee.saturating_sub(to_worker);
		for (who, amount) in [(worker, to_worker), (&owner, to_owner)] {
			if !amount.is_zero() {
				T::Currency::transfer_on_hold(
					&HoldReason::InferenceDeposit.into(),
					client,
					who,
					amount,
					Precision::Exact,
					Restriction::Free,
					Fortitude::Force,
				)?;
			}
		}
		Self::deposit_event(Event::FeePaid { worker: worker.clone(), to_worker, owner, to_owner });
		Ok(())
	}
}
