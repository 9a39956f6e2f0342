//! Invariants checked by the `try_state` hook and after every unit test.

use frame_support::{
	ensure,
	traits::{fungible::Inspect, fungibles},
};
use sp_runtime::{
	traits::{CheckedAdd, CheckedDiv, CheckedSub, Saturating, Zero},
	TryRuntimeError,
};

use crate::{
	BalanceOf, Config, Holdings, OfferingStatus, Offerings, OpenProposals, Pallet, ProposalStatus,
	Proposals, Purchases,
};

impl<T: Config> Pallet<T> {
	/// Per offering (reads everything): the fund account holds its existential deposit plus
	/// what it owes (the raise while raising, the unrefunded purchases of a failed offering,
	/// the escrow left of a successful one), and the unsettled purchases sum to what is owed
	/// backers; shares held plus shares still to claim equal the shares sold, and the share
	/// asset's supply equals the shares held; the revenue account holds its existential
	/// deposit plus the revenue accounted and unclaimed, and what holders may claim stays
	/// within the shareholders' pool (up to one unit of rounding per holder); the tranches sum
	/// to the whole; open proposals are within their bound and open.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let ed = T::Currency::minimum_balance();
		for (id, o) in Offerings::<T>::iter() {
			ensure!(o.terms.tranches_valid(), "tranches do not sum to the whole");
			let mut unsettled: BalanceOf<T> = Zero::zero();
			let mut unclaimed_shares: BalanceOf<T> = Zero::zero();
			for (_, paid) in Purchases::<T>::iter_prefix(id) {
				ensure!(!paid.is_zero(), "an empty purchase kept in storage");
				unsettled = unsettled.checked_add(&paid).ok_or("purchases overflow")?;
				let shares = paid.checked_div(&o.terms.price).ok_or("zero price")?;
				unclaimed_shares =
					unclaimed_shares.checked_add(&shares).ok_or("shares overflow")?;
			}
			let owed = match o.status {
				OfferingStatus::Raising => {
					ensure!(unsettled == o.raised, "purchases do not sum to the raise");
					o.raised
				}
				OfferingStatus::Failed => {
					let left =
						o.raised.checked_sub(&o.refunded).ok_or("refunded over the raise")?;
					ensure!(unsettled == left, "purchases do not sum to what is refundable");
					left
				}
				OfferingStatus::Succeeded => o.escrow_left,
			};
			let fund = T::Currency::balance(&Self::fund_account(id));
			ensure!(
				owed.checked_add(&ed).is_some_and(|need| fund >= need),
				"a fund account holds less than it owes"
			);

			let mut held: BalanceOf<T> = Zero::zero();
			let mut claimable: BalanceOf<T> = Zero::zero();
			let mut holders: u128 = 0;
			for (_, h) in Holdings::<T>::iter_prefix(id) {
				held = held.checked_add(&h.shares).ok_or("holdings overflow")?;
				let mut h = h;
				crate::impls::settle::<T>(&mut h, o.acc_per_share);
				claimable = claimable.saturating_add(h.owed);
				holders = holders.saturating_add(1);
			}
			let supply =
				<T::Assets as fungibles::Inspect<T::AccountId>>::total_issuance(o.asset.clone());
			ensure!(supply == held, "the share asset's supply differs from the shares held");
			if o.status == OfferingStatus::Succeeded {
				ensure!(
					held.checked_add(&unclaimed_shares) == Some(o.shares_sold),
					"shares held and to claim differ from the shares sold"
				);
			} else {
				ensure!(held.is_zero(), "shares held in an offering that did not succeed");
			}
			let revenue = T::Currency::balance(&Self::revenue_account_of(id));
			ensure!(
				o.holders_pool
					.checked_add(&o.owner_revenue)
					.and_then(|r| r.checked_add(&ed))
					.is_some_and(|need| revenue >= need),
				"a revenue account holds less than the revenue owed"
			);
			let slack = sp_runtime::traits::UniqueSaturatedFrom::unique_saturated_from(holders);
			ensure!(
				claimable <= o.holders_pool.saturating_add(slack),
				"holders may claim more than the shareholders' pool"
			);

			let open = OpenProposals::<T>::get(id);
			for proposal in open.iter() {
				let p = Proposals::<T>::get(proposal).ok_or("an open proposal does not exist")?;
				ensure!(p.offering == id, "an open proposal of another offering");
				ensure!(
					matches!(p.status, ProposalStatus::Voting | ProposalStatus::Passed { .. }),
					"a closed proposal in the open list"
				);
			}
		}
		Ok(())
	}
}
