//! The logic: offerings (create, buy, finalize, settle), the escrow, revenue accounting and
//! claims, share transfers, governance, and the `ModelRevenue` other pallets use.

use frame_support::{
	ensure,
	traits::{
		fungible::{self, Inspect as _},
		fungibles,
		tokens::Preservation,
		Get,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{
		AccountIdConversion, CheckedAdd, CheckedDiv, CheckedMul, Convert, One, Saturating, Zero,
	},
	DispatchError, DispatchResult,
};

use crate::{
	traits::{ModelControl, ModelRevenue},
	BalanceOf, Config, Error, Event, HoldingOf, Holdings, ModelId, ModelOfferings, NextOfferingId,
	NextProposalId, Offering, OfferingId, OfferingOf, OfferingStatus, OfferingTermsOf, Offerings,
	OpenProposals, Pallet, Proposal, ProposalId, ProposalKind, ProposalStatus, Proposals,
	Purchases, Votes, ACC_SCALE,
};

/// Revenue that arrived at an offering's revenue account and is not yet accounted, and how it
/// would be split.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Accrual<Balance> {
	/// All of it.
	pub amount: Balance,
	/// The shareholders' part (the accumulator's increment times the shares sold, plus dust).
	pub to_holders: Balance,
	/// The owner's part.
	pub to_owner: Balance,
	/// The accumulator after it.
	pub acc_per_share: u128,
}

fn to_u128<T: Config>(b: BalanceOf<T>) -> u128 {
	sp_runtime::traits::UniqueSaturatedInto::<u128>::unique_saturated_into(b)
}

fn from_u128<T: Config>(v: u128) -> BalanceOf<T> {
	sp_runtime::traits::UniqueSaturatedFrom::<u128>::unique_saturated_from(v)
}

/// `a × b / c` rounded down, `None` if it does not fit or `c` is zero.
fn mul_div(a: u128, b: u128, c: u128) -> Option<u128> {
	if c == 0 {
		return None;
	}
	sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
		a,
		b,
		c,
		sp_runtime::Rounding::Down,
	)
}

/// What `shares` have earned at `acc_per_share`, in total (rounded down; saturating, which
/// only ever pays less: claims are capped by the shareholders' pool anyway).
pub(crate) fn earned<T: Config>(shares: BalanceOf<T>, acc_per_share: u128) -> BalanceOf<T> {
	from_u128::<T>(mul_div(to_u128::<T>(shares), acc_per_share, ACC_SCALE).unwrap_or(u128::MAX))
}

/// Moves what `holding` earned since its last settlement into `owed`, at `acc_per_share`.
pub(crate) fn settle<T: Config>(holding: &mut HoldingOf<T>, acc_per_share: u128) {
	let now = earned::<T>(holding.shares, acc_per_share);
	holding.owed = holding.owed.saturating_add(now.saturating_sub(holding.reward_debt));
	holding.reward_debt = now;
}

impl<T: Config> Pallet<T> {
	/// The account an offering's purchases, and then its escrow, sit in.
	pub fn fund_account(offering: OfferingId) -> T::AccountId {
		T::PalletId::get().into_sub_account_truncating((b'f', offering))
	}

	/// The account an offering's revenue is paid to.
	pub fn revenue_account_of(offering: OfferingId) -> T::AccountId {
		T::PalletId::get().into_sub_account_truncating((b'r', offering))
	}

	/// How long proposals are open to votes.
	pub fn voting_period() -> BlockNumberFor<T> {
		crate::GovernanceTimes::<T>::get().map_or_else(T::VotingPeriod::get, |(voting, _)| voting)
	}

	/// How long a passed proposal waits before it may be executed.
	pub fn enactment_delay() -> BlockNumberFor<T> {
		crate::GovernanceTimes::<T>::get().map_or_else(T::EnactmentDelay::get, |(_, delay)| delay)
	}

	/// The share assets' admin.
	pub fn admin_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	fn now() -> BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number()
	}

	fn get_offering(offering: OfferingId) -> Result<OfferingOf<T>, DispatchError> {
		Offerings::<T>::get(offering).ok_or_else(|| Error::<T>::UnknownOffering.into())
	}

	fn succeeded(offering: OfferingId) -> Result<OfferingOf<T>, DispatchError> {
		let o = Self::get_offering(offering)?;
		ensure!(o.status == OfferingStatus::Succeeded, Error::<T>::NotSucceeded);
		Ok(o)
	}

	pub(crate) fn do_create_offering(
		who: T::AccountId,
		model: ModelId,
		terms: OfferingTermsOf<T>,
	) -> DispatchResult {
		ensure!(T::Models::owner(model).as_ref() == Some(&who), Error::<T>::NotModelOwner);
		ensure!(!ModelOfferings::<T>::contains_key(model), Error::<T>::ModelHasOffering);
		let all = terms.total_shares.checked_mul(&terms.price).ok_or(Error::<T>::Overflow)?;
		ensure!(
			!terms.total_shares.is_zero()
				&& !terms.price.is_zero()
				&& terms.soft_cap >= terms.price
				&& terms.soft_cap <= terms.hard_cap
				&& terms.hard_cap <= all,
			Error::<T>::InvalidCaps
		);
		ensure!(
			terms.start >= Self::now()
				&& terms.end >= terms.start
				&& terms.end.saturating_sub(terms.start) <= T::MaxWindow::get(),
			Error::<T>::InvalidWindow
		);
		ensure!(terms.tranches_valid(), Error::<T>::InvalidTranches);

		let id = NextOfferingId::<T>::get();
		let next = id.checked_add(1).ok_or(Error::<T>::Overflow)?;
		let asset = T::ShareAssetId::convert(id);
		<T::Assets as fungibles::Create<T::AccountId>>::create(
			asset.clone(),
			Self::admin_account(),
			true,
			One::one(),
		)?;
		// The accounts' existential deposits, so that any amount may be paid into them.
		let ed = T::Currency::minimum_balance();
		for account in [Self::fund_account(id), Self::revenue_account_of(id)] {
			<T::Currency as fungible::Mutate<T::AccountId>>::transfer(
				&who,
				&account,
				ed,
				Preservation::Preserve,
			)?;
		}
		NextOfferingId::<T>::put(next);
		ModelOfferings::<T>::insert(model, id);
		Offerings::<T>::insert(
			id,
			Offering {
				model,
				owner: who.clone(),
				asset: asset.clone(),
				terms: terms.clone(),
				status: OfferingStatus::Raising,
				raised: Zero::zero(),
				shares_sold: Zero::zero(),
				backers: 0,
				refunded: Zero::zero(),
				escrow_left: Zero::zero(),
				tranches_released: 0,
				acc_per_share: 0,
				holders_pool: Zero::zero(),
				owner_revenue: Zero::zero(),
				revenue_total: Zero::zero(),
			},
		);
		Self::deposit_event(Event::OfferingCreated {
			offering: id,
			model,
			owner: who,
			asset,
			terms,
		});
		Ok(())
	}

	pub(crate) fn do_buy(
		who: T::AccountId,
		offering: OfferingId,
		shares: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!shares.is_zero(), Error::<T>::ZeroShares);
		let mut o = Self::get_offering(offering)?;
		ensure!(o.status == OfferingStatus::Raising, Error::<T>::NotRaising);
		let now = Self::now();
		ensure!(now >= o.terms.start && now <= o.terms.end, Error::<T>::OutsideWindow);
		let cost = shares.checked_mul(&o.terms.price).ok_or(Error::<T>::Overflow)?;
		let raised = o.raised.checked_add(&cost).ok_or(Error::<T>::Overflow)?;
		ensure!(raised <= o.terms.hard_cap, Error::<T>::OverHardCap);
		let previous = Purchases::<T>::get(offering, &who);
		let paid =
			previous.unwrap_or_else(Zero::zero).checked_add(&cost).ok_or(Error::<T>::Overflow)?;
		o.shares_sold = o.shares_sold.checked_add(&shares).ok_or(Error::<T>::Overflow)?;
		<T::Currency as fungible::Mutate<T::AccountId>>::transfer(
			&who,
			&Self::fund_account(offering),
			cost,
			Preservation::Preserve,
		)?;
		if previous.is_none() {
			o.backers = o.backers.saturating_add(1);
		}
		o.raised = raised;
		Purchases::<T>::insert(offering, &who, paid);
		Offerings::<T>::insert(offering, o);
		Self::deposit_event(Event::Purchased { offering, who, shares, cost, raised });
		Ok(())
	}

	pub(crate) fn do_finalize(offering: OfferingId) -> DispatchResult {
		let mut o = Self::get_offering(offering)?;
		ensure!(o.status == OfferingStatus::Raising, Error::<T>::AlreadyFinalized);
		ensure!(Self::now() > o.terms.end || o.raised >= o.terms.hard_cap, Error::<T>::TooEarly);
		if o.raised >= o.terms.soft_cap {
			o.status = OfferingStatus::Succeeded;
			o.escrow_left = o.raised;
			Self::deposit_event(Event::OfferingSucceeded {
				offering,
				raised: o.raised,
				shares_sold: o.shares_sold,
			});
			// Should the first tranche not go through now (the owner's account cannot take
			// it), it stays in escrow for a `ReleaseTranche` proposal: finalizing must not
			// fail, or the backers' money would wait on the owner.
			let _ = Self::release_tranche(offering, &mut o);
		} else {
			o.status = OfferingStatus::Failed;
			ModelOfferings::<T>::remove(o.model);
			Self::deposit_event(Event::OfferingFailed { offering, raised: o.raised });
		}
		Offerings::<T>::insert(offering, o);
		Ok(())
	}

	/// Pays the next tranche of the escrow to the owner (the last tranche pays what is left,
	/// so the tranches add up to the raise exactly). Changes `o` only if the transfer went.
	pub(crate) fn release_tranche(offering: OfferingId, o: &mut OfferingOf<T>) -> DispatchResult {
		let index = o.tranches_released;
		let part = *o.terms.tranches.get(index as usize).ok_or(Error::<T>::NoTrancheLeft)?;
		let next = index.checked_add(1).ok_or(Error::<T>::Overflow)?;
		let amount = if next as usize >= o.terms.tranches.len() {
			o.escrow_left
		} else {
			part.mul_floor(o.raised).min(o.escrow_left)
		};
		if !amount.is_zero() {
			<T::Currency as fungible::Mutate<T::AccountId>>::transfer(
				&Self::fund_account(offering),
				&o.owner,
				amount,
				Preservation::Preserve,
			)?;
		}
		o.escrow_left = o.escrow_left.saturating_sub(amount);
		o.tranches_released = next;
		Self::deposit_event(Event::TrancheReleased {
			offering,
			index,
			amount,
			owner: o.owner.clone(),
			escrow_left: o.escrow_left,
		});
		Ok(())
	}

	pub(crate) fn do_claim_shares(offering: OfferingId, who: T::AccountId) -> DispatchResult {
		let mut o = Self::succeeded(offering)?;
		let paid = Purchases::<T>::get(offering, &who).ok_or(Error::<T>::NoPurchase)?;
		let shares = paid.checked_div(&o.terms.price).ok_or(Error::<T>::Overflow)?;
		<T::Assets as fungibles::Mutate<T::AccountId>>::mint_into(o.asset.clone(), &who, shares)?;
		Purchases::<T>::remove(offering, &who);
		Self::accrue(offering, &mut o);
		let acc = o.acc_per_share;
		let mut h = Holdings::<T>::get(offering, &who).unwrap_or_default();
		settle::<T>(&mut h, acc);
		// Bought shares earn from the offering's success on, whenever they are claimed.
		h.owed = h.owed.saturating_add(earned::<T>(shares, acc));
		h.shares = h.shares.checked_add(&shares).ok_or(Error::<T>::Overflow)?;
		h.reward_debt = earned::<T>(h.shares, acc);
		Holdings::<T>::insert(offering, &who, h);
		Offerings::<T>::insert(offering, o);
		Self::deposit_event(Event::SharesClaimed { offering, who, shares });
		Ok(())
	}

	pub(crate) fn do_refund(offering: OfferingId, who: T::AccountId) -> DispatchResult {
		let mut o = Self::get_offering(offering)?;
		ensure!(o.status == OfferingStatus::Failed, Error::<T>::NotFailed);
		let amount = Purchases::<T>::get(offering, &who).ok_or(Error::<T>::NoPurchase)?;
		// The fund keeps its existential deposit, which is never owed: the refund always fits.
		<T::Currency as fungible::Mutate<T::AccountId>>::transfer(
			&Self::fund_account(offering),
			&who,
			amount,
			Preservation::Preserve,
		)?;
		Purchases::<T>::remove(offering, &who);
		o.refunded = o.refunded.saturating_add(amount);
		Offerings::<T>::insert(offering, o);
		Self::deposit_event(Event::Refunded { offering, who, amount });
		Ok(())
	}

	/// The revenue that arrived at the offering's revenue account and is not accounted yet,
	/// and its split. Reads, never writes.
	pub(crate) fn pending_accrual(
		offering: OfferingId,
		o: &OfferingOf<T>,
	) -> Option<Accrual<BalanceOf<T>>> {
		if o.status != OfferingStatus::Succeeded || o.shares_sold.is_zero() {
			return None;
		}
		let balance = T::Currency::balance(&Self::revenue_account_of(offering));
		let accounted = T::Currency::minimum_balance()
			.saturating_add(o.holders_pool)
			.saturating_add(o.owner_revenue);
		let amount = balance.saturating_sub(accounted);
		if amount.is_zero() {
			return None;
		}
		let mut to_holders = o.terms.revenue_share.mul_floor(amount);
		let increment = mul_div(to_u128::<T>(to_holders), ACC_SCALE, to_u128::<T>(o.shares_sold));
		let acc_per_share = match increment.and_then(|i| o.acc_per_share.checked_add(i)) {
			Some(acc) => acc,
			None => {
				// The accumulator is full: the owner takes it rather than nobody.
				to_holders = Zero::zero();
				o.acc_per_share
			}
		};
		Some(Accrual {
			amount,
			to_holders,
			to_owner: amount.saturating_sub(to_holders),
			acc_per_share,
		})
	}

	/// Accounts the revenue that arrived (into `o`, which the caller writes back). Returns
	/// the amount.
	pub(crate) fn accrue(offering: OfferingId, o: &mut OfferingOf<T>) -> BalanceOf<T> {
		let Some(a) = Self::pending_accrual(offering, o) else { return Zero::zero() };
		o.acc_per_share = a.acc_per_share;
		o.holders_pool = o.holders_pool.saturating_add(a.to_holders);
		o.owner_revenue = o.owner_revenue.saturating_add(a.to_owner);
		o.revenue_total = o.revenue_total.saturating_add(a.amount);
		Self::deposit_event(Event::RevenueDistributed {
			offering,
			amount: a.amount,
			to_holders: a.to_holders,
			to_owner: a.to_owner,
			acc_per_share: a.acc_per_share,
		});
		a.amount
	}

	pub(crate) fn do_distribute_revenue(offering: OfferingId) -> DispatchResult {
		let mut o = Self::succeeded(offering)?;
		let amount = Self::accrue(offering, &mut o);
		ensure!(!amount.is_zero(), Error::<T>::NoNewRevenue);
		Offerings::<T>::insert(offering, o);
		Ok(())
	}

	/// What `who` may claim of `o`'s revenue (accounted in `o`): its shares' part (capped by
	/// the shareholders' pool) and, for the owner, the owner's part.
	pub(crate) fn claimable(
		o: &OfferingOf<T>,
		holding: Option<HoldingOf<T>>,
		who: &T::AccountId,
	) -> (BalanceOf<T>, BalanceOf<T>) {
		let holder_part = holding.map_or_else(Zero::zero, |mut h| {
			settle::<T>(&mut h, o.acc_per_share);
			h.owed.min(o.holders_pool)
		});
		let owner_part = if *who == o.owner { o.owner_revenue } else { Zero::zero() };
		(holder_part, owner_part)
	}

	pub(crate) fn do_claim_revenue(offering: OfferingId, who: T::AccountId) -> DispatchResult {
		let mut o = Self::succeeded(offering)?;
		Self::accrue(offering, &mut o);
		let holding = Holdings::<T>::get(offering, &who);
		let (holder_part, owner_part) = Self::claimable(&o, holding, &who);
		let amount = holder_part.saturating_add(owner_part);
		ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
		<T::Currency as fungible::Mutate<T::AccountId>>::transfer(
			&Self::revenue_account_of(offering),
			&who,
			amount,
			Preservation::Preserve,
		)?;
		if let Some(mut h) = holding {
			settle::<T>(&mut h, o.acc_per_share);
			h.owed = h.owed.saturating_sub(holder_part);
			Self::put_holding(offering, &who, h);
		}
		o.holders_pool = o.holders_pool.saturating_sub(holder_part);
		o.owner_revenue = o.owner_revenue.saturating_sub(owner_part);
		Offerings::<T>::insert(offering, o);
		Self::deposit_event(Event::RevenueClaimed { offering, who, amount });
		Ok(())
	}

	/// Stores a holding, or removes it once it holds and is owed nothing.
	fn put_holding(offering: OfferingId, who: &T::AccountId, h: HoldingOf<T>) {
		if h.shares.is_zero() && h.owed.is_zero() && h.locked_until < Self::now() {
			Holdings::<T>::remove(offering, who);
		} else {
			Holdings::<T>::insert(offering, who, h);
		}
	}

	pub(crate) fn do_transfer_shares(
		offering: OfferingId,
		from: T::AccountId,
		to: T::AccountId,
		shares: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!shares.is_zero(), Error::<T>::ZeroShares);
		ensure!(from != to, Error::<T>::SelfTransfer);
		let mut o = Self::succeeded(offering)?;
		let mut sender = Holdings::<T>::get(offering, &from)
			.filter(|h| !h.shares.is_zero())
			.ok_or(Error::<T>::NoShares)?;
		ensure!(sender.shares >= shares, Error::<T>::InsufficientShares);
		ensure!(sender.locked_until < Self::now(), Error::<T>::SharesLocked);
		Self::accrue(offering, &mut o);
		let acc = o.acc_per_share;
		let mut receiver = Holdings::<T>::get(offering, &to).unwrap_or_default();
		settle::<T>(&mut sender, acc);
		settle::<T>(&mut receiver, acc);
		receiver.shares = receiver.shares.checked_add(&shares).ok_or(Error::<T>::Overflow)?;
		sender.shares = sender.shares.saturating_sub(shares);
		<T::Assets as fungibles::Mutate<T::AccountId>>::transfer(
			o.asset.clone(),
			&from,
			&to,
			shares,
			Preservation::Expendable,
		)?;
		sender.reward_debt = earned::<T>(sender.shares, acc);
		receiver.reward_debt = earned::<T>(receiver.shares, acc);
		Self::put_holding(offering, &from, sender);
		Holdings::<T>::insert(offering, &to, receiver);
		Offerings::<T>::insert(offering, o);
		Self::deposit_event(Event::SharesTransferred { offering, from, to, shares });
		Ok(())
	}

	pub(crate) fn do_propose(
		who: T::AccountId,
		offering: OfferingId,
		kind: ProposalKind,
	) -> DispatchResult {
		let o = Self::succeeded(offering)?;
		ensure!(
			Holdings::<T>::get(offering, &who).is_some_and(|h| !h.shares.is_zero()),
			Error::<T>::NoShares
		);
		match kind {
			ProposalKind::ActivateVersion(version) => {
				ensure!(T::Models::version_exists(o.model, version), Error::<T>::UnknownVersion)
			}
			ProposalKind::ReleaseTranche => ensure!(
				(o.tranches_released as usize) < o.terms.tranches.len(),
				Error::<T>::NoTrancheLeft
			),
		}
		let proposal = NextProposalId::<T>::get();
		let next = proposal.checked_add(1).ok_or(Error::<T>::Overflow)?;
		OpenProposals::<T>::try_mutate(offering, |open| open.try_push(proposal))
			.map_err(|_| Error::<T>::TooManyProposals)?;
		let voting_ends = Self::now().saturating_add(Self::voting_period());
		NextProposalId::<T>::put(next);
		Proposals::<T>::insert(
			proposal,
			Proposal {
				offering,
				kind,
				proposer: who.clone(),
				ayes: Zero::zero(),
				nays: Zero::zero(),
				voting_ends,
				status: ProposalStatus::Voting,
			},
		);
		Self::deposit_event(Event::Proposed {
			proposal,
			offering,
			proposer: who,
			kind,
			voting_ends,
		});
		Ok(())
	}

	pub(crate) fn do_vote(who: T::AccountId, proposal: ProposalId, aye: bool) -> DispatchResult {
		let mut p = Proposals::<T>::get(proposal).ok_or(Error::<T>::UnknownProposal)?;
		ensure!(
			p.status == ProposalStatus::Voting && Self::now() <= p.voting_ends,
			Error::<T>::VotingClosed
		);
		ensure!(!Votes::<T>::contains_key(proposal, &who), Error::<T>::AlreadyVoted);
		let mut h = Holdings::<T>::get(p.offering, &who)
			.filter(|h| !h.shares.is_zero())
			.ok_or(Error::<T>::NoShares)?;
		let shares = h.shares;
		if aye {
			p.ayes = p.ayes.saturating_add(shares);
		} else {
			p.nays = p.nays.saturating_add(shares);
		}
		// Locked until the vote ends, so the same shares cannot vote twice from another
		// account.
		h.locked_until = h.locked_until.max(p.voting_ends);
		Holdings::<T>::insert(p.offering, &who, h);
		Votes::<T>::insert(proposal, &who, (aye, shares));
		Proposals::<T>::insert(proposal, p);
		Self::deposit_event(Event::Voted { proposal, who, aye, shares });
		Ok(())
	}

	pub(crate) fn do_close(proposal: ProposalId) -> DispatchResult {
		let mut p = Proposals::<T>::get(proposal).ok_or(Error::<T>::UnknownProposal)?;
		ensure!(p.status == ProposalStatus::Voting, Error::<T>::AlreadyClosed);
		let now = Self::now();
		ensure!(now > p.voting_ends, Error::<T>::VotingOngoing);
		let o = Self::get_offering(p.offering)?;
		let quorum = T::Quorum::get().mul_ceil(o.shares_sold);
		let passed = p.ayes.saturating_add(p.nays) >= quorum && p.ayes > p.nays;
		let executable_at = passed.then(|| now.saturating_add(Self::enactment_delay()));
		if let Some(executable_at) = executable_at {
			p.status = ProposalStatus::Passed { executable_at };
		} else {
			p.status = ProposalStatus::Rejected;
			OpenProposals::<T>::mutate(p.offering, |open| open.retain(|id| *id != proposal));
		}
		Self::deposit_event(Event::ProposalClosed {
			proposal,
			ayes: p.ayes,
			nays: p.nays,
			executable_at,
		});
		Proposals::<T>::insert(proposal, p);
		Ok(())
	}

	pub(crate) fn do_execute(proposal: ProposalId) -> DispatchResult {
		let mut p = Proposals::<T>::get(proposal).ok_or(Error::<T>::UnknownProposal)?;
		let ProposalStatus::Passed { executable_at } = p.status else {
			return Err(Error::<T>::NotPassed.into());
		};
		ensure!(Self::now() >= executable_at, Error::<T>::TooEarlyToExecute);
		let mut o = Self::get_offering(p.offering)?;
		// The action runs in its own storage layer: if it fails, it leaves nothing behind,
		// and the proposal is done either way (it cannot clog the open proposals).
		let result = frame_support::storage::with_storage_layer(|| match p.kind {
			ProposalKind::ActivateVersion(version) => T::Models::activate_version(o.model, version),
			ProposalKind::ReleaseTranche => Self::release_tranche(p.offering, &mut o),
		});
		if result.is_ok() {
			Offerings::<T>::insert(p.offering, o);
		}
		p.status = ProposalStatus::Executed;
		OpenProposals::<T>::mutate(p.offering, |open| open.retain(|id| *id != proposal));
		Proposals::<T>::insert(proposal, p);
		Self::deposit_event(Event::Executed { proposal, result });
		Ok(())
	}
}

/// A successful offering takes over its model's owner share of revenue.
impl<T: Config> ModelRevenue<T::AccountId> for Pallet<T> {
	fn revenue_account(model: ModelId) -> Option<T::AccountId> {
		let offering = ModelOfferings::<T>::get(model)?;
		Offerings::<T>::get(offering)
			.filter(|o| o.status == OfferingStatus::Succeeded)
			.map(|_| Self::revenue_account_of(offering))
	}
}
