//! The runtime API the node RPC, GPU workers and dApps read deposits, prices and nonces through,
//! and build the message a client signs with, and the queries behind it.
//!
//! The runtime implements it by forwarding to the `Pallet::api_*` functions:
//!
//! ```ignore
//! impl pallet_inference::runtime_api::InferenceApi<Block, AccountId, Balance, BlockNumber>
//!     for Runtime
//! {
//!     fn deposit_of(who: AccountId) -> DepositInfo<Balance, BlockNumber> {
//!         Inference::api_deposit_of(who)
//!     }
//!     // ... and so on for each function.
//! }
//! ```

// The client side of `signing_payload` takes the block to call at as well: eight arguments.
#![allow(clippy::too_many_arguments)]

use alloc::vec::Vec;
use codec::Codec;
use sp_core::H256;

use crate::{types::*, Config, Deposits, Nonces, Pallet, PendingInfers, Prices};

sp_api::decl_runtime_apis! {
	/// Read access to deposits, prices and nonces, the message clients sign, and pending
	/// on-chain inference jobs.
	pub trait InferenceApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// An account's deposit (all zero without one).
		fn deposit_of(who: AccountId) -> DepositInfo<Balance, BlockNumber>;

		/// A model's price per 1,000 tokens, if it is served paid.
		fn price_of(model: ModelId) -> Option<Balance>;

		/// The nonce of the last receipt settled for `client` with `worker` (0 before the
		/// first); the next request must sign a greater one.
		fn nonce_of(client: AccountId, worker: AccountId) -> u64;

		/// The bytes `client` signs for a request that `worker` serves (see
		/// [`crate::signing_payload`]).
		fn signing_payload(
			worker: AccountId,
			model: ModelId,
			version: VersionIndex,
			request_hash: H256,
			nonce: u64,
			max_fee: Balance,
		) -> Vec<u8>;

		/// An on-chain inference job this pallet created and that has not settled yet.
		fn pending_infer(job: JobId) -> Option<PendingInfer<AccountId, Balance>>;
	}
}

impl<T: Config> Pallet<T> {
	/// See [`InferenceApi::deposit_of`].
	pub fn api_deposit_of(who: T::AccountId) -> DepositInfoOf<T> {
		Deposits::<T>::get(who).unwrap_or_default()
	}

	/// See [`InferenceApi::price_of`].
	pub fn api_price_of(model: ModelId) -> Option<BalanceOf<T>> {
		Prices::<T>::get(model)
	}

	/// See [`InferenceApi::nonce_of`].
	pub fn api_nonce_of(client: T::AccountId, worker: T::AccountId) -> u64 {
		Nonces::<T>::get(client, worker)
	}

	/// See [`InferenceApi::signing_payload`].
	pub fn api_signing_payload(
		worker: T::AccountId,
		model: ModelId,
		version: VersionIndex,
		request_hash: H256,
		nonce: u64,
		max_fee: BalanceOf<T>,
	) -> Vec<u8> {
		Self::signing_payload(&worker, model, version, &request_hash, nonce, &max_fee)
	}

	/// See [`InferenceApi::pending_infer`].
	pub fn api_pending_infer(job: JobId) -> Option<PendingInferOf<T>> {
		PendingInfers::<T>::get(job)
	}
}
