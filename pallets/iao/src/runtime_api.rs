//! The runtime API dApps and explorers read offerings, positions and proposals through, and
//! the queries behind it. Revenue that arrived but is not accounted yet is included, as the
//! next claim would account it.

use alloc::vec::Vec;
use codec::Codec;
use sp_runtime::traits::Saturating;

use crate::{types::*, Config, Holdings, Offerings, OpenProposals, Pallet, Proposals, Purchases};

sp_api::decl_runtime_apis! {
	/// Read access to offerings, backers' positions and open proposals.
	pub trait IaoApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// An offering: status, raised, caps, window, shares sold, escrow left, revenue per
		/// share, accounts.
		fn offering(offering: OfferingId) -> Option<OfferingView<AccountId, Balance, BlockNumber>>;

		/// The offering of a model (raising or successful), if any.
		fn model_offering(model: ModelId) -> Option<OfferingId>;

		/// An account's position in an offering: unsettled purchase, shares, claimable revenue.
		fn position(offering: OfferingId, who: AccountId) -> Position<Balance>;

		/// The offering's proposals not yet rejected or executed.
		fn open_proposals(offering: OfferingId)
			-> Vec<(ProposalId, Proposal<AccountId, Balance, BlockNumber>)>;
	}
}

impl<T: Config> Pallet<T> {
	/// `o` with the revenue that arrived accounted, in memory only.
	fn accrued(offering: OfferingId, mut o: OfferingOf<T>) -> OfferingOf<T> {
		if let Some(a) = Self::pending_accrual(offering, &o) {
			o.acc_per_share = a.acc_per_share;
			o.holders_pool = o.holders_pool.saturating_add(a.to_holders);
			o.owner_revenue = o.owner_revenue.saturating_add(a.to_owner);
			o.revenue_total = o.revenue_total.saturating_add(a.amount);
		}
		o
	}

	/// See [`IaoApi::offering`].
	pub fn api_offering(
		offering: OfferingId,
	) -> Option<
		OfferingView<T::AccountId, BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>,
	> {
		let o = Self::accrued(offering, Offerings::<T>::get(offering)?);
		Some(OfferingView {
			model: o.model,
			owner: o.owner,
			status: o.status,
			terms: OfferingTerms {
				total_shares: o.terms.total_shares,
				price: o.terms.price,
				soft_cap: o.terms.soft_cap,
				hard_cap: o.terms.hard_cap,
				start: o.terms.start,
				end: o.terms.end,
				revenue_share: o.terms.revenue_share,
				tranches: o.terms.tranches.into_inner(),
			},
			raised: o.raised,
			shares_sold: o.shares_sold,
			backers: o.backers,
			escrow_left: o.escrow_left,
			tranches_released: o.tranches_released,
			revenue_per_share: o.acc_per_share,
			revenue_total: o.revenue_total,
			fund_account: Self::fund_account(offering),
			revenue_account: Self::revenue_account_of(offering),
		})
	}

	/// See [`IaoApi::model_offering`].
	pub fn api_model_offering(model: ModelId) -> Option<OfferingId> {
		crate::ModelOfferings::<T>::get(model)
	}

	/// See [`IaoApi::position`].
	pub fn api_position(offering: OfferingId, who: T::AccountId) -> Position<BalanceOf<T>> {
		let purchased = Purchases::<T>::get(offering, &who).unwrap_or_default();
		let holding = Holdings::<T>::get(offering, &who);
		let shares = holding.map(|h| h.shares).unwrap_or_default();
		let claimable_revenue = Offerings::<T>::get(offering)
			.filter(|o| o.status == OfferingStatus::Succeeded)
			.map(|o| {
				let o = Self::accrued(offering, o);
				let (holder, owner) = Self::claimable(&o, holding, &who);
				holder.saturating_add(owner)
			})
			.unwrap_or_default();
		Position { purchased, shares, claimable_revenue }
	}

	/// See [`IaoApi::open_proposals`].
	pub fn api_open_proposals(offering: OfferingId) -> Vec<(ProposalId, ProposalOf<T>)> {
		OpenProposals::<T>::get(offering)
			.into_iter()
			.filter_map(|id| Proposals::<T>::get(id).map(|p| (id, p)))
			.collect()
	}
}
