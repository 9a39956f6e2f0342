//! Invariants checked by the `try_state` hook and after every unit test (and every block of the
//! simulated schedules).

use alloc::collections::btree_map::BTreeMap;
use frame_support::{
	ensure,
	traits::{fungible::Inspect, Get},
};
use sp_runtime::{
	traits::{CheckedAdd, CheckedSub, Saturating, Zero},
	TryRuntimeError,
};

use crate::{
	Activity, BalanceOf, Config, CurrentCurve, CurrentShares, Eras, Pallet, Pools, Rewards,
	Schedule, Stream,
};

impl<T: Config> Pallet<T> {
	/// Checks that:
	///
	/// - the curve and the shares are within bounds;
	/// - total issuance is what it was when the schedule started;
	/// - no pool has released more than it held, and each holds at least what it has still to
	///   release;
	/// - the pot holds at least its base plus everything released (and swept) and not paid, and
	///   exactly that much is owed: settled rewards plus the closed eras' unsettled budgets;
	/// - every era's point totals and account counts match the accounts' points, no points
	///   belong to a future era, and no more eras are recorded than the bound.
	///
	/// "At least", not "exactly", for balances: anyone may send money to a pool or the pot.
	/// Reads every era, reward and points entry.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		ensure!(CurrentCurve::<T>::get().is_valid(), "emissions curve out of bounds");
		ensure!(CurrentShares::<T>::get().is_valid(), "emissions shares out of bounds");
		let Some(status) = Schedule::<T>::get() else {
			ensure!(Activity::<T>::iter().next().is_none(), "points before the schedule started");
			return Ok(());
		};
		let ledger = Pools::<T>::get();
		ensure!(
			T::Currency::total_issuance() == ledger.issuance,
			"total issuance changed since the schedule started"
		);
		for (pool, account) in [
			(ledger.community, T::CommunityPool::get()),
			(ledger.ecosystem, T::EcosystemPool::get()),
		] {
			ensure!(pool.released <= pool.initial, "a pool released more than it held");
			ensure!(
				T::Currency::balance(&account) >= pool.remaining(),
				"a pool holds less than it has still to release"
			);
		}

		let in_pot = ledger
			.released()
			.checked_add(&ledger.swept)
			.and_then(|r| r.checked_sub(&ledger.paid))
			.ok_or("claims paid more than was released")?;
		ensure!(
			T::Currency::balance(&Self::pot()) >= ledger.pot_base.saturating_add(in_pot),
			"the pot holds less than its base plus what was released and not paid"
		);

		let mut owed: BalanceOf<T> = Zero::zero();
		for (_, amount) in Rewards::<T>::iter() {
			ensure!(!amount.is_zero(), "empty reward kept in storage");
			owed = owed.checked_add(&amount).ok_or("rewards overflow")?;
		}
		let mut eras = 0u32;
		// (era, stream) -> (points, accounts), from the accounts' side.
		let mut tallies: BTreeMap<(u32, Stream), (u128, u32)> = BTreeMap::new();
		for (stream, _, entry) in Activity::<T>::iter() {
			ensure!(entry.points > 0, "empty points kept in storage");
			ensure!(entry.era <= status.open_era, "points in a future era");
			ensure!(!status.finished || entry.era < status.open_era, "points after the end");
			let tally = tallies.entry((entry.era, stream)).or_default();
			tally.0 = tally.0.checked_add(entry.points).ok_or("points overflow")?;
			tally.1 = tally.1.saturating_add(1);
		}
		for (era, record) in Eras::<T>::iter() {
			eras = eras.saturating_add(1);
			ensure!(era <= status.open_era, "a record of a future era");
			for stream in Stream::ALL {
				let tally = record.tally(stream);
				let (points, accounts) = tallies.remove(&(era, stream)).unwrap_or_default();
				ensure!(tally.accounts == accounts, "an era's account count is off");
				// Settling removes points: only the open era still has all of them.
				if era == status.open_era {
					ensure!(tally.points == points, "the open era's points total is off");
				} else {
					ensure!(tally.points >= points, "a closed era's points total is off");
				}
				ensure!(tally.settled <= tally.budget, "a stream settled more than its budget");
				ensure!(
					era < status.open_era || tally.budget.is_zero(),
					"an open era has a budget"
				);
				owed = owed
					.checked_add(&tally.budget.saturating_sub(tally.settled))
					.ok_or("owed overflow")?;
			}
		}
		ensure!(tallies.is_empty(), "points in an era without a record");
		ensure!(owed == in_pot, "what is owed differs from what was released and not paid");
		ensure!(
			eras <= T::ScheduleLength::get().saturating_mul(2).saturating_add(1),
			"more era records than the bound"
		);
		Ok(())
	}
}
