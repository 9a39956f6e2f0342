//! Invariants checked by the `try_state` hook and after every unit test.

use alloc::collections::btree_map::BTreeMap;
use frame_support::{ensure, traits::fungible::InspectHold, traits::Get};
use pallet_models::traits::Inspect as ModelsInspect;
use sp_runtime::{
	traits::{CheckedAdd, Zero},
	TryRuntimeError,
};

use crate::{BalanceOf, Config, Deposits, HoldReason, Pallet, PendingInfers, Prices};

impl<T: Config> Pallet<T> {
	/// Checks that every deposit is exactly what is held under this pallet's reason, that no
	/// withdrawal asks for more than is held, that prices are set on existing models only, and
	/// that the pending inference jobs are counted right, no more than `MaxPendingInfers`, and
	/// covered, per requester, by what is held under `HoldReason::InferJob`. Reads all deposits,
	/// prices and pending jobs (not the nonces, which hold no invariant of their own).
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let reason = HoldReason::InferenceDeposit.into();
		for (who, info) in Deposits::<T>::iter() {
			ensure!(!info.held.is_zero(), "empty deposit kept in storage");
			ensure!(
				T::Currency::balance_on_hold(&reason, &who) == info.held,
				"held balance disagrees with the deposit"
			);
			if let Some(withdrawal) = info.withdrawal {
				ensure!(!withdrawal.amount.is_zero(), "empty withdrawal pending");
				ensure!(withdrawal.amount <= info.held, "withdrawal exceeds the deposit");
			}
		}
		for (model, price) in Prices::<T>::iter() {
			ensure!(!price.is_zero(), "zero price stored");
			ensure!(T::Models::model_owner(model).is_some(), "price of an unknown model");
		}

		let mut pending = 0u32;
		let mut held: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (_, infer) in PendingInfers::<T>::iter() {
			pending = pending.saturating_add(1);
			ensure!(!infer.held.is_zero(), "pending inference holds nothing");
			let sum = held.entry(infer.requester).or_insert_with(Zero::zero);
			*sum = sum.checked_add(&infer.held).ok_or("pending inference holds overflow")?;
		}
		ensure!(pending == PendingInfers::<T>::count(), "pending inference count is wrong");
		ensure!(pending <= T::MaxPendingInfers::get(), "too many pending inferences");
		let reason = HoldReason::InferJob.into();
		for (who, sum) in held {
			ensure!(
				T::Currency::balance_on_hold(&reason, &who) >= sum,
				"pending inferences hold more than the currency does"
			);
		}
		Ok(())
	}
}
