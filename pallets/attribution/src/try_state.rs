//! Invariants checked by the `try_state` hook and after every unit test.

use frame_support::{ensure, traits::fungible::Inspect};
use sp_runtime::{
	traits::{CheckedAdd, Zero},
	TryRuntimeError,
};

use crate::{BalanceOf, Config, CurrentParams, Pallet, Rewards};

impl<T: Config> Pallet<T> {
	/// Checks that the parameters are within bounds, that no reward entry is empty, and that
	/// the pot holds at least its existential deposit plus every reward owed (reads all
	/// rewards). At least, not exactly: anyone may send the pot money.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		ensure!(CurrentParams::<T>::get().is_valid(), "attribution parameters out of bounds");
		let mut owed: BalanceOf<T> = Zero::zero();
		for (_, amount) in Rewards::<T>::iter() {
			ensure!(!amount.is_zero(), "empty reward kept in storage");
			owed = owed.checked_add(&amount).ok_or("rewards overflow")?;
		}
		let pot = <T::Currency as Inspect<T::AccountId>>::balance(&Self::pot());
		let floor = <T::Currency as Inspect<T::AccountId>>::minimum_balance();
		ensure!(
			owed.checked_add(&floor).is_some_and(|need| pot >= need),
			"the pot does not hold its existential deposit plus the rewards owed"
		);
		Ok(())
	}
}
