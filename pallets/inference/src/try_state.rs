//! Invariants checked by the `try_state` hook and after every unit test.

use frame_support::{ensure, traits::fungible::InspectHold};
use pallet_models::traits::Inspect as ModelsInspect;
use sp_runtime::{traits::Zero, TryRuntimeError};

use crate::{Config, Deposits, HoldReason, Pallet, Prices};

impl<T: Config> Pallet<T> {
	/// Checks that every deposit is exactly what is held under this pallet's reason, that no
	/// withdrawal asks for more than is held, and that prices are set on existing models only.
	/// Reads all deposits and prices (not the nonces, which hold no invariant of their own).
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
		Ok(())
	}
}
