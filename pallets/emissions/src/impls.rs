//! The logic: starting the schedule, closing an era (the one place a release is decided),
//! noting activity, settling points lazily, and claiming.

use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		tokens::{Fortitude, Preservation},
		Get,
	},
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{
		AccountIdConversion, One, Saturating, UniqueSaturatedFrom, UniqueSaturatedInto, Zero,
	},
	DispatchResult, Rounding,
};

use crate::{
	traits::NoteActivity, AccountPoints, Activity, BalanceOf, Claimed, CurrentCurve, CurrentShares,
	EraIndex, Eras, Error, Event, Pallet, PoolLedger, Pools, Rewards, Schedule, Status, StatusOf,
	Stream, WeightInfo,
};

impl<T: crate::Config> Pallet<T> {
	/// The pot: released emissions wait here until claimed.
	pub fn pot() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// The first block of era `era + 1`, whose start closes `era`.
	pub fn era_end(status: &StatusOf<T>, era: EraIndex) -> BlockNumberFor<T> {
		let eras = BlockNumberFor::<T>::from(era.saturating_add(1));
		status.start.saturating_add(status.era_length.max(One::one()).saturating_mul(eras))
	}

	/// Starts the schedule at block `start`: gives the pot its existential deposit (out of the
	/// ecosystem pool, else the community pool, if it has less), then records what each pool
	/// holds and the total issuance, with eras of `era_length` blocks. Does nothing if the
	/// schedule has started.
	pub(crate) fn start_schedule(start: BlockNumberFor<T>, era_length: BlockNumberFor<T>) {
		if Schedule::<T>::exists() {
			return;
		}
		let pot = Self::pot();
		let floor = T::Currency::minimum_balance();
		let held = T::Currency::balance(&pot);
		if held < floor {
			let need = floor.saturating_sub(held);
			// Keep-alive: a pool too small to give it is left alone.
			let _ =
				T::Currency::transfer(&T::EcosystemPool::get(), &pot, need, Preservation::Preserve)
					.or_else(|_| {
						T::Currency::transfer(
							&T::CommunityPool::get(),
							&pot,
							need,
							Preservation::Preserve,
						)
					});
		}
		let releasable = |pool: &T::AccountId| {
			T::Currency::reducible_balance(pool, Preservation::Expendable, Fortitude::Polite)
		};
		let community = releasable(&T::CommunityPool::get());
		let ecosystem = releasable(&T::EcosystemPool::get());
		Pools::<T>::mutate(|ledger| {
			ledger.community = PoolLedger { initial: community, released: Zero::zero() };
			ledger.ecosystem = PoolLedger { initial: ecosystem, released: Zero::zero() };
			ledger.paid = Zero::zero();
			ledger.swept = Zero::zero();
			ledger.pot_base = T::Currency::balance(&pot);
			ledger.issuance = T::Currency::total_issuance();
		});
		let finished = community.is_zero() && ecosystem.is_zero();
		Schedule::<T>::put(Status { start, era_length, open_era: 0, finished });
		Self::deposit_event(Event::ScheduleStarted { start, community, ecosystem });
		if finished {
			Self::deposit_event(Event::PoolsEmptied { era: 0 });
		}
	}

	/// The block hook: starts the schedule if it has not started, else closes the open era if
	/// it has ended (one era per block: a backlog is worked off one block at a time).
	pub(crate) fn on_block(now: BlockNumberFor<T>) -> Weight {
		let Some(mut status) = Schedule::<T>::get() else {
			Self::start_schedule(now, T::EraLength::get());
			return T::WeightInfo::on_initialize_era();
		};
		if status.finished || now < Self::era_end(&status, status.open_era) {
			return T::WeightInfo::on_initialize_idle();
		}
		Self::close_era(&mut status);
		Schedule::<T>::put(status);
		T::WeightInfo::on_initialize_era()
	}

	/// Closes the open era: releases its share of each pool into the pot, gives each points
	/// stream its budget (to the treasury if nobody earned points in it) and the treasury the
	/// rest, and opens the next era (or finishes the schedule).
	pub(crate) fn close_era(status: &mut StatusOf<T>) {
		let era = status.open_era;
		let eras = T::ScheduleLength::get();
		let (this, rest) = CurrentCurve::<T>::get().era_weights(era, eras);
		let mut ledger = Pools::<T>::get();
		let (from_community, community_swept) =
			Self::release(&T::CommunityPool::get(), &mut ledger.community, this, rest);
		let (from_ecosystem, ecosystem_swept) =
			Self::release(&T::EcosystemPool::get(), &mut ledger.ecosystem, this, rest);
		let released = from_community.saturating_add(from_ecosystem);
		let swept = community_swept.saturating_add(ecosystem_swept);
		ledger.swept = ledger.swept.saturating_add(swept);

		let shares = CurrentShares::<T>::get();
		let mut record = Eras::<T>::get(era).unwrap_or_default();
		record.from_community = from_community;
		record.from_ecosystem = from_ecosystem;
		let mut allocated: BalanceOf<T> = Zero::zero();
		for stream in Stream::ALL {
			let tally = record.tally_mut(stream);
			// Nobody earned in the stream: its budget stays with the treasury's part.
			tally.budget = if tally.points == 0 {
				Zero::zero()
			} else {
				shares.of(stream).mul_floor(released)
			};
			allocated = allocated.saturating_add(tally.budget);
		}
		// The shares sum to the whole and each part is rounded down: `allocated <= released`.
		let to_treasury = released.saturating_sub(allocated).saturating_add(swept);
		record.to_treasury = to_treasury;
		Self::credit(&T::Treasury::get(), to_treasury);
		Eras::<T>::insert(era, record);

		status.open_era = era.saturating_add(1);
		let remaining = ledger.remaining();
		Pools::<T>::put(ledger);
		if !released.is_zero() || !swept.is_zero() {
			Self::deposit_event(Event::EraPaid {
				era,
				from_community,
				from_ecosystem,
				contributors: record.contributors.budget,
				workers: record.workers.budget,
				curators: record.curators.budget,
				authors: record.authors.budget,
				to_treasury,
			});
		}
		let past_schedule = status.open_era >= eras;
		if remaining.is_zero() {
			status.finished = true;
			Self::deposit_event(Event::PoolsEmptied { era });
		} else if past_schedule && (released.is_zero() || status.open_era >= eras.saturating_mul(2))
		{
			// The pools cannot pay what is left (something took it from them): stop.
			status.finished = true;
			Self::deposit_event(Event::EmissionsStopped { era, unreleased: remaining });
		}
	}

	/// Releases `remaining × this / rest` of a pool into the pot, at most what the pool can
	/// give. Returns what was released within the schedule, and what was swept beyond it.
	///
	/// A pool is never left with less than the existential deposit but more than nothing (the
	/// rest would be burned as dust): then all of it is released, and anything beyond the
	/// schedule (someone sent it to the pool) is swept to the treasury. If the transfer fails
	/// (a pot without its existential deposit receiving less), nothing is released: it is
	/// carried into the next eras.
	fn release(
		pool: &T::AccountId,
		ledger: &mut PoolLedger<BalanceOf<T>>,
		this: u128,
		rest: u128,
	) -> (BalanceOf<T>, BalanceOf<T>) {
		let nothing = (Zero::zero(), Zero::zero());
		let remaining = ledger.remaining();
		let due = if this >= rest { remaining } else { scale::<T>(remaining, this, rest) };
		if due.is_zero() {
			return nothing;
		}
		let balance = T::Currency::balance(pool);
		let reducible =
			T::Currency::reducible_balance(pool, Preservation::Expendable, Fortitude::Polite);
		let mut amount = due.min(reducible);
		let left = balance.saturating_sub(amount);
		if !left.is_zero() && left < T::Currency::minimum_balance() {
			amount = reducible;
		}
		if amount.is_zero()
			|| T::Currency::transfer(pool, &Self::pot(), amount, Preservation::Expendable).is_err()
		{
			return nothing;
		}
		let within = amount.min(remaining);
		ledger.released = ledger.released.saturating_add(within);
		(within, amount.saturating_sub(within))
	}

	/// Adds `amount` to what `who` may claim.
	fn credit(who: &T::AccountId, amount: BalanceOf<T>) {
		if !amount.is_zero() {
			Rewards::<T>::mutate(who, |owed| {
				*owed = Some(owed.unwrap_or_else(Zero::zero).saturating_add(amount))
			});
		}
	}

	/// The era activity counts for, unless the schedule has not started or has finished.
	fn open_era() -> Option<EraIndex> {
		Schedule::<T>::get().filter(|status| !status.finished).map(|status| status.open_era)
	}

	/// Notes `points` for `who` in `stream`, in the open era: settles its points from an
	/// earlier era first. A stream's era total never overflows: points beyond it are dropped.
	pub(crate) fn note(stream: Stream, who: &T::AccountId, points: u128) {
		Self::note_many(core::iter::once((stream, who, points)));
	}

	/// [`Self::note`] for several accounts at once: the open era's record is read and written
	/// once. Returns how many accounts were noted and how many of those settled an earlier era
	/// first.
	pub(crate) fn note_many<'a>(
		notes: impl IntoIterator<Item = (Stream, &'a T::AccountId, u128)>,
	) -> (u32, u32)
	where
		T::AccountId: 'a,
	{
		let Some(open) = Self::open_era() else {
			return (0, 0);
		};
		let mut record = Eras::<T>::get(open).unwrap_or_default();
		let (mut noted, mut settled) = (0u32, 0u32);
		for (stream, who, points) in notes {
			if points == 0 {
				continue;
			}
			let held = match Activity::<T>::get(stream, who) {
				Some(entry) if entry.era == open => entry.points,
				Some(entry) => {
					// An earlier era's record, never the open one held here.
					Self::settle(stream, who, entry);
					settled = settled.saturating_add(1);
					0
				}
				None => 0,
			};
			let tally = record.tally_mut(stream);
			let added = points.min(u128::MAX.saturating_sub(tally.points));
			if added == 0 {
				continue;
			}
			tally.points = tally.points.saturating_add(added);
			if held == 0 {
				tally.accounts = tally.accounts.saturating_add(1);
			}
			Activity::<T>::insert(
				stream,
				who,
				AccountPoints { era: open, points: held.saturating_add(added) },
			);
			noted = noted.saturating_add(1);
		}
		if noted > 0 {
			Eras::<T>::insert(open, record);
		}
		(noted, settled.min(noted))
	}

	/// What `entry` (an account's points in `stream`, in a closed era) is worth:
	/// `points × budget / all points`, rounded down.
	pub fn worth(stream: Stream, entry: &AccountPoints) -> BalanceOf<T> {
		Eras::<T>::get(entry.era)
			.map(|record| {
				let tally = record.tally(stream);
				let budget: u128 = tally.budget.unique_saturated_into();
				BalanceOf::<T>::unique_saturated_from(
					sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
						entry.points,
						budget,
						tally.points.max(1),
						Rounding::Down,
					)
					.unwrap_or(0),
				)
			})
			.unwrap_or_else(Zero::zero)
	}

	/// Settles `who`'s points in `stream` (`entry`, in a closed era) into its rewards, and the
	/// stream's rounding remainder into the treasury's if `who` was its era's last account.
	fn settle(stream: Stream, who: &T::AccountId, entry: AccountPoints) {
		Activity::<T>::remove(stream, who);
		let Some(mut record) = Eras::<T>::get(entry.era) else {
			return;
		};
		let amount = Self::worth(stream, &entry);
		let tally = record.tally_mut(stream);
		tally.settled = tally.settled.saturating_add(amount);
		tally.accounts = tally.accounts.saturating_sub(1);
		let remainder = if tally.accounts == 0 {
			tally.budget.saturating_sub(tally.settled)
		} else {
			Zero::zero()
		};
		if !remainder.is_zero() {
			tally.settled = tally.budget;
			record.to_treasury = record.to_treasury.saturating_add(remainder);
		}
		Eras::<T>::insert(entry.era, record);
		Self::credit(who, amount);
		Self::deposit_event(Event::RewardSettled {
			who: who.clone(),
			stream,
			era: entry.era,
			amount,
		});
		if !remainder.is_zero() {
			Self::credit(&T::Treasury::get(), remainder);
			Self::deposit_event(Event::RemainderToTreasury {
				era: entry.era,
				stream,
				amount: remainder,
			});
		}
	}

	/// Settles `who`'s points of every stream in closed eras.
	fn settle_all(who: &T::AccountId) {
		let open = Schedule::<T>::get().map_or(0, |status| status.open_era);
		for stream in Stream::ALL {
			if let Some(entry) = Activity::<T>::get(stream, who).filter(|entry| entry.era < open) {
				Self::settle(stream, who, entry);
			}
		}
	}

	/// Settles `who`'s closed eras, then pays it everything it is owed, out of the pot (which
	/// keeps its base).
	pub(crate) fn do_claim(who: T::AccountId) -> DispatchResult {
		Self::settle_all(&who);
		let amount = Rewards::<T>::get(&who).unwrap_or_else(Zero::zero);
		frame_support::ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
		T::Currency::transfer(&Self::pot(), &who, amount, Preservation::Preserve)
			.map_err(|_| Error::<T>::ClaimTooSmall)?;
		Rewards::<T>::remove(&who);
		Claimed::<T>::mutate(&who, |total| {
			*total = Some(total.unwrap_or_else(Zero::zero).saturating_add(amount))
		});
		Pools::<T>::mutate(|ledger| ledger.paid = ledger.paid.saturating_add(amount));
		Self::deposit_event(Event::Claimed { who, amount });
		Ok(())
	}
}

/// `amount × numerator / denominator`, rounded down (`numerator <= denominator`, so it fits).
pub(crate) fn scale<T: crate::Config>(
	amount: BalanceOf<T>,
	numerator: u128,
	denominator: u128,
) -> BalanceOf<T> {
	let a: u128 = amount.unique_saturated_into();
	let scaled = sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
		a,
		numerator,
		denominator.max(1),
		Rounding::Down,
	)
	.unwrap_or(0);
	BalanceOf::<T>::unique_saturated_from(scaled)
}

/// Activity from other pallets, as points: one per planck of attribution reward, per unit of
/// job work, per accepted contribution, per authored block.
impl<T: crate::Config> NoteActivity<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn note_contributor(who: &T::AccountId, earned: BalanceOf<T>) {
		Self::note(Stream::Contributors, who, earned.unique_saturated_into());
	}

	fn note_worker(who: &T::AccountId, earned: BalanceOf<T>) {
		Self::note(Stream::Workers, who, earned.unique_saturated_into());
	}

	fn note_curator(who: &T::AccountId, accepted: u32) {
		Self::note(Stream::Curators, who, u128::from(accepted));
	}

	fn note_author(who: &T::AccountId) {
		Self::note(Stream::Authors, who, 1);
	}

	fn note_weight() -> Weight {
		T::WeightInfo::note()
	}

	fn note_earnings(
		contributors: &[(T::AccountId, BalanceOf<T>)],
		workers: &[(T::AccountId, BalanceOf<T>)],
	) -> Weight {
		let notes =
			contributors
				.iter()
				.map(|(who, earned)| (Stream::Contributors, who, (*earned).unique_saturated_into()))
				.chain(workers.iter().map(|(who, earned)| {
					(Stream::Workers, who, (*earned).unique_saturated_into())
				}));
		let (_, settled) = Self::note_many(notes);
		Self::settling_weight(settled)
	}

	fn settling_weight(accounts: u32) -> Weight {
		T::WeightInfo::note_many(0, accounts).saturating_sub(T::WeightInfo::note_many(accounts, 0))
	}
}
