//! The runtime API wallets, explorers and participants read the schedule, each era's payout and
//! their earnings through, and the queries behind it.

use alloc::vec::Vec;
use codec::Codec;
use frame_support::traits::Get;
use sp_runtime::traits::{Saturating, Zero};

use crate::{
	impls::scale, types::*, Activity, Claimed, Config, CurrentCurve, CurrentShares, Eras, Pallet,
	Pools, Rewards, Schedule,
};

sp_api::decl_runtime_apis! {
	/// Read access to the emissions schedule, each era's payout per stream, and what an
	/// account has earned.
	pub trait EmissionsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// The schedule: eras, where it is, the curve and shares, each pool's initial and
		/// released amounts, what is left and what claims paid.
		fn schedule() -> ScheduleInfo<Balance, BlockNumber>;

		/// What each era from the open one to the schedule's last will release from each pool,
		/// by the current curve (empty once finished).
		fn projected_releases() -> Vec<ProjectedRelease<Balance>>;

		/// What a closed era released and how it was split per stream (for the open era: its
		/// points so far), if it has a record.
		fn era(era: EraIndex) -> Option<EraRecord<Balance>>;

		/// What the account has earned: claimable, unsettled, accruing points, claimed.
		fn earnings(who: AccountId) -> Earnings<Balance>;

		/// The pot's account.
		fn pot() -> AccountId;
	}
}

impl<T: Config> Pallet<T> {
	/// See [`EmissionsApi::schedule`].
	pub fn api_schedule() -> ScheduleInfoOf<T> {
		let status = Schedule::<T>::get();
		let ledger = Pools::<T>::get();
		let (start, open_era, finished) =
			status.map_or((Zero::zero(), 0, false), |s| (s.start, s.open_era, s.finished));
		let open_era_ends_at = status.map_or(Zero::zero(), |s| Self::era_end(&s, s.open_era));
		ScheduleInfo {
			started: status.is_some(),
			start,
			era_length: status.map_or_else(T::EraLength::get, |s| s.era_length),
			eras: T::ScheduleLength::get(),
			open_era,
			open_era_ends_at,
			finished,
			curve: CurrentCurve::<T>::get(),
			shares: CurrentShares::<T>::get(),
			community: ledger.community,
			ecosystem: ledger.ecosystem,
			remaining: ledger.remaining(),
			paid: ledger.paid,
		}
	}

	/// See [`EmissionsApi::projected_releases`].
	pub fn api_projected_releases() -> Vec<ProjectedRelease<BalanceOf<T>>> {
		let Some(status) = Schedule::<T>::get().filter(|s| !s.finished) else {
			return Vec::new();
		};
		let eras = T::ScheduleLength::get();
		let curve = CurrentCurve::<T>::get();
		let ledger = Pools::<T>::get();
		let mut community = ledger.community.remaining();
		let mut ecosystem = ledger.ecosystem.remaining();
		let last = eras.saturating_sub(1).max(status.open_era);
		(status.open_era..=last)
			.map(|era| {
				let (this, rest) = curve.era_weights(era, eras);
				let from_community = scale::<T>(community, this, rest);
				let from_ecosystem = scale::<T>(ecosystem, this, rest);
				community = community.saturating_sub(from_community);
				ecosystem = ecosystem.saturating_sub(from_ecosystem);
				ProjectedRelease { era, community: from_community, ecosystem: from_ecosystem }
			})
			.collect()
	}

	/// See [`EmissionsApi::era`].
	pub fn api_era(era: EraIndex) -> Option<EraRecordOf<T>> {
		Eras::<T>::get(era)
	}

	/// See [`EmissionsApi::earnings`].
	pub fn api_earnings(who: T::AccountId) -> Earnings<BalanceOf<T>> {
		let open = Schedule::<T>::get().map_or(0, |s| s.open_era);
		let mut unsettled: BalanceOf<T> = Zero::zero();
		let mut accruing = StreamPoints::default();
		for stream in Stream::ALL {
			if let Some(entry) = Activity::<T>::get(stream, &who) {
				if entry.era < open {
					unsettled = unsettled.saturating_add(Self::worth(stream, &entry));
				} else {
					*accruing.of_mut(stream) = entry.points;
				}
			}
		}
		Earnings {
			claimable: Rewards::<T>::get(&who).unwrap_or_else(Zero::zero),
			unsettled,
			accruing,
			claimed: Claimed::<T>::get(&who).unwrap_or_else(Zero::zero),
		}
	}
}
