//! # IAO pallet
//!
//! Initial AI Offerings: a community funds a model and shares its revenue and its governance.
//!
//! ## The flow
//!
//! 1. **Create**: the model's owner calls [`create_offering`](Pallet::create_offering) with
//!    [`OfferingTerms`]: shares for sale, price (OPEN per share), soft and hard caps (OPEN),
//!    the purchase window, the shareholders' part of the model's revenue, and the development
//!    escrow's tranches. The shares' asset is created (in the runtime's assets pallet, id
//!    [`Config::ShareAssetId`]); the owner pays the existential deposit of the offering's two
//!    accounts (its fund and revenue accounts), which stays there.
//! 2. **Buy**: within the window, [`buy`](Pallet::buy) moves the price of the shares from the
//!    backer into the offering's fund account; purchases beyond the hard cap are refused.
//! 3. **Finalize**: after the window (or once the hard cap is reached) anyone may
//!    [`finalize`](Pallet::finalize). With the soft cap reached the offering succeeds: the
//!    raise becomes the escrow and its first tranche is released to the owner; otherwise it
//!    fails and the owner gets nothing.
//! 4. **Settle, pulled**: each backer's purchase is settled by [`claim_shares`](Pallet::claim_shares)
//!    (success: the shares are minted to it) or [`refund`](Pallet::refund) (failure: its OPEN
//!    back, in full). Anyone may call either for anyone, so finalization does no per-backer work
//!    and no backer's money can be stuck: every purchase ends in shares or a refund.
//! 5. **Revenue**: once successful, the offering's revenue account is the model's
//!    [`traits::ModelRevenue::revenue_account`]: pallet-attribution pays the model owner's
//!    share of each attributed fee there. Whatever arrives is accounted lazily (on any claim,
//!    transfer or [`distribute_revenue`](Pallet::distribute_revenue)) into a reward-per-share
//!    accumulator: `revenue_share` of it for shareholders, the rest for the owner. Holders
//!    [`claim_revenue`](Pallet::claim_revenue) pro rata, with a per-holder reward debt, so no
//!    snapshot is ever taken.
//! 6. **Governance**: shareholders [`propose`](Pallet::propose) to activate a new model version
//!    or to release the next escrow tranche, [`vote`](Pallet::vote) with their shares,
//!    [`close`](Pallet::close) after the voting period (passed with turnout at least
//!    [`Config::Quorum`] of the shares sold and more ayes than nays) and
//!    [`execute`](Pallet::execute) after [`Config::EnactmentDelay`].
//!
//! ## Money: transfers into keyless accounts
//!
//! Purchases are transferred (not held) into a per-offering fund account derived from
//! [`Config::PalletId`]. On success the raise is already where the escrow must be, without a
//! second move, and the escrow is plainly visible on chain and checkable (`try_state`); on
//! failure each refund is one transfer back. A hold would have kept the money in each backer's
//! account, where it cannot become an escrow that outlives the purchase.
//!
//! ## Shares move only through this pallet
//!
//! Revenue and votes need to know when shares move. The shares may be moved only by
//! [`transfer_shares`](Pallet::transfer_shares), which settles both sides' revenue first and is
//! refused while the sender's shares are locked by a vote still open (no double votes). The
//! runtime must keep the share assets out of the assets pallet's own transfer calls (a call
//! filter on the share asset ids). [`Holdings`] is what revenue and votes count.
//!
//! ## Invariants (`try_state`)
//!
//! - A fund account holds its existential deposit plus what it owes: the raise while raising,
//!   the unrefunded purchases of a failed offering, the escrow left of a successful one.
//! - Unsettled purchases sum to what the fund owes backers; shares held plus unclaimed shares
//!   equal the shares sold, and the asset's supply equals the shares held.
//! - A revenue account holds its existential deposit plus the unclaimed revenue accounted.
//! - Tranches sum to the whole; open proposals are bounded and open.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod traits;
#[cfg(any(feature = "try-runtime", test))]
mod try_state;
pub mod types;
pub mod weights;

// FRAME's pallet macros expand to `expect` (storage prefixes, pallet names); the hand-written
// modules (`impls`, `types`, ...) keep the workspace's lints.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungible, fungibles},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{traits::Convert, Perbill};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency (OPEN) shares are bought with and revenue is paid in.
		type Currency: fungible::Mutate<Self::AccountId>;

		/// The assets pallet the shares are minted in (pallet-assets), counted in the
		/// currency's balance type.
		type Assets: fungibles::Create<Self::AccountId>
			+ fungibles::Mutate<Self::AccountId>
			+ fungibles::Inspect<Self::AccountId, Balance = BalanceOf<Self>>;

		/// The asset id an offering's shares get (runtime: `1_000_000 + offering`, clear of
		/// other assets' ids).
		type ShareAssetId: Convert<OfferingId, AssetIdOf<Self>>;

		/// The model registry: owners, versions, activation.
		type Models: traits::ModelControl<Self::AccountId>;

		/// Derives the offerings' fund and revenue accounts and the share assets' admin
		/// (runtime: `PalletId(*b"ol/iao__")`).
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// The most escrow tranches per offering (runtime: 12).
		#[pallet::constant]
		type MaxTranches: Get<u32>;

		/// The longest purchase window, in blocks (runtime: 30 days, 432_000).
		#[pallet::constant]
		type MaxWindow: Get<BlockNumberFor<Self>>;

		/// The most proposals open (voting or passed, not executed) per offering (runtime: 8).
		#[pallet::constant]
		type MaxOpenProposals: Get<u32>;

		/// How long a proposal is open to votes, in blocks (runtime: 7 days, 100_800).
		#[pallet::constant]
		type VotingPeriod: Get<BlockNumberFor<Self>>;

		/// How long a passed proposal waits before it may be executed (runtime: 2 days,
		/// 28_800).
		#[pallet::constant]
		type EnactmentDelay: Get<BlockNumberFor<Self>>;

		/// The least turnout for a proposal to pass, as a part of the shares sold
		/// (runtime: 20 %).
		#[pallet::constant]
		type Quorum: Get<Perbill>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// The id the next offering gets.
	#[pallet::storage]
	pub type NextOfferingId<T> = StorageValue<_, OfferingId, ValueQuery>;

	/// Every offering, by id; kept after it ends (its shares and revenue live on).
	#[pallet::storage]
	pub type Offerings<T: Config> = StorageMap<_, Twox64Concat, OfferingId, OfferingOf<T>>;

	/// The offering of a model (raising or successful); a failed one is removed, so the owner
	/// may try again.
	#[pallet::storage]
	pub type ModelOfferings<T> = StorageMap<_, Twox64Concat, ModelId, OfferingId>;

	/// What each backer paid and has not yet settled (into shares or a refund).
	#[pallet::storage]
	pub type Purchases<T: Config> =
		StorageDoubleMap<_, Twox64Concat, OfferingId, Blake2_128Concat, T::AccountId, BalanceOf<T>>;

	/// Each shareholder's shares, revenue settlement and vote lock.
	#[pallet::storage]
	pub type Holdings<T: Config> =
		StorageDoubleMap<_, Twox64Concat, OfferingId, Blake2_128Concat, T::AccountId, HoldingOf<T>>;

	/// The id the next proposal gets.
	#[pallet::storage]
	pub type NextProposalId<T> = StorageValue<_, ProposalId, ValueQuery>;

	/// Every proposal, by id.
	#[pallet::storage]
	pub type Proposals<T: Config> = StorageMap<_, Twox64Concat, ProposalId, ProposalOf<T>>;

	/// Per offering, its proposals not yet rejected or executed.
	#[pallet::storage]
	pub type OpenProposals<T: Config> = StorageMap<
		_,
		Twox64Concat,
		OfferingId,
		BoundedVec<ProposalId, T::MaxOpenProposals>,
		ValueQuery,
	>;

	/// Each vote cast: aye or nay, and the shares it carried.
	#[pallet::storage]
	pub type Votes<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		ProposalId,
		Blake2_128Concat,
		T::AccountId,
		(bool, BalanceOf<T>),
	>;

	/// The voting period and enactment delay, when the genesis config set them instead of
	/// [`Config::VotingPeriod`] and [`Config::EnactmentDelay`] (dev chains vote in minutes).
	#[pallet::storage]
	pub type GovernanceTimes<T: Config> =
		StorageValue<_, (BlockNumberFor<T>, BlockNumberFor<T>), OptionQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Blocks a proposal is open to votes, if not [`Config::VotingPeriod`].
		pub voting_period: Option<BlockNumberFor<T>>,
		/// Blocks a passed proposal waits, if not [`Config::EnactmentDelay`].
		pub enactment_delay: Option<BlockNumberFor<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if self.voting_period.is_some() || self.enactment_delay.is_some() {
				let voting = self.voting_period.unwrap_or_else(T::VotingPeriod::get);
				assert!(!voting.is_zero(), "votes need a period");
				let delay = self.enactment_delay.unwrap_or_else(T::EnactmentDelay::get);
				GovernanceTimes::<T>::put((voting, delay));
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `owner` opened `offering` for `model`, its shares being `asset`.
		OfferingCreated {
			offering: OfferingId,
			model: ModelId,
			owner: T::AccountId,
			asset: AssetIdOf<T>,
			terms: OfferingTermsOf<T>,
		},
		/// `who` bought `shares` for `cost`; the offering has raised `raised`.
		Purchased {
			offering: OfferingId,
			who: T::AccountId,
			shares: BalanceOf<T>,
			cost: BalanceOf<T>,
			raised: BalanceOf<T>,
		},
		/// The offering reached its soft cap: `raised` is in escrow, `shares_sold` to claim.
		OfferingSucceeded { offering: OfferingId, raised: BalanceOf<T>, shares_sold: BalanceOf<T> },
		/// The offering missed its soft cap: every backer may claim a refund of `raised` in all.
		OfferingFailed { offering: OfferingId, raised: BalanceOf<T> },
		/// `who` received the `shares` it bought.
		SharesClaimed { offering: OfferingId, who: T::AccountId, shares: BalanceOf<T> },
		/// `who` got back the `amount` it paid.
		Refunded { offering: OfferingId, who: T::AccountId, amount: BalanceOf<T> },
		/// Tranche `index` (from 0) of the escrow, `amount`, went to `owner`; `escrow_left`
		/// remains.
		TrancheReleased {
			offering: OfferingId,
			index: u32,
			amount: BalanceOf<T>,
			owner: T::AccountId,
			escrow_left: BalanceOf<T>,
		},
		/// `amount` of new revenue was accounted: `to_holders` pro rata, `to_owner` for the
		/// owner; revenue per share is now `acc_per_share` (times `ACC_SCALE`).
		RevenueDistributed {
			offering: OfferingId,
			amount: BalanceOf<T>,
			to_holders: BalanceOf<T>,
			to_owner: BalanceOf<T>,
			acc_per_share: u128,
		},
		/// `who` was paid `amount` of revenue.
		RevenueClaimed { offering: OfferingId, who: T::AccountId, amount: BalanceOf<T> },
		/// `shares` moved from `from` to `to`, both sides' revenue settled.
		SharesTransferred {
			offering: OfferingId,
			from: T::AccountId,
			to: T::AccountId,
			shares: BalanceOf<T>,
		},
		/// `proposer` proposed `kind` for `offering`; votes are open until `voting_ends`.
		Proposed {
			proposal: ProposalId,
			offering: OfferingId,
			proposer: T::AccountId,
			kind: ProposalKind,
			voting_ends: BlockNumberFor<T>,
		},
		/// `who` voted `aye` (or nay) with `shares`.
		Voted { proposal: ProposalId, who: T::AccountId, aye: bool, shares: BalanceOf<T> },
		/// Voting ended: `executable_at` if passed, `None` if rejected (no quorum or no
		/// majority).
		ProposalClosed {
			proposal: ProposalId,
			ayes: BalanceOf<T>,
			nays: BalanceOf<T>,
			executable_at: Option<BlockNumberFor<T>>,
		},
		/// A passed proposal was executed; `result` is its action's outcome.
		Executed { proposal: ProposalId, result: DispatchResult },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The caller does not own the model.
		NotModelOwner,
		/// The model already has an offering raising or successful.
		ModelHasOffering,
		/// Zero shares or price, a soft cap below one share's price or above the hard cap, or
		/// a hard cap above all the shares' price.
		InvalidCaps,
		/// The window starts in the past, ends before it starts, or is longer than
		/// `MaxWindow`.
		InvalidWindow,
		/// The tranches are empty or do not sum to the whole.
		InvalidTranches,
		/// No offering has this id.
		UnknownOffering,
		/// The offering is no longer raising.
		NotRaising,
		/// The offering's purchase window is not open.
		OutsideWindow,
		/// Zero shares asked for or moved.
		ZeroShares,
		/// The purchase would raise more than the hard cap.
		OverHardCap,
		/// An amount does not fit its type.
		Overflow,
		/// The window has not ended (and the hard cap is not reached).
		TooEarly,
		/// The offering was already finalized.
		AlreadyFinalized,
		/// The offering did not succeed.
		NotSucceeded,
		/// The offering did not fail.
		NotFailed,
		/// The account has no unsettled purchase in this offering.
		NoPurchase,
		/// Nothing to claim.
		NothingToClaim,
		/// No revenue arrived since it was last accounted.
		NoNewRevenue,
		/// The account holds no shares of this offering.
		NoShares,
		/// The sender holds fewer shares than it would move.
		InsufficientShares,
		/// The sender's shares are locked by a vote still open.
		SharesLocked,
		/// Shares cannot be sent to their holder.
		SelfTransfer,
		/// The model has no such version.
		UnknownVersion,
		/// Every escrow tranche has been released.
		NoTrancheLeft,
		/// The offering has `MaxOpenProposals` open proposals.
		TooManyProposals,
		/// No proposal has this id.
		UnknownProposal,
		/// The proposal is not open to votes (closed, or its voting period has ended).
		VotingClosed,
		/// The account already voted on this proposal.
		AlreadyVoted,
		/// The voting period has not ended.
		VotingOngoing,
		/// The proposal was already closed.
		AlreadyClosed,
		/// The proposal did not pass (or was already executed).
		NotPassed,
		/// The enactment delay has not passed.
		TooEarlyToExecute,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxTranches::get() > 0, "an escrow needs a tranche");
			assert!(T::MaxOpenProposals::get() > 0, "shareholders must be able to propose");
			assert!(!T::VotingPeriod::get().is_zero(), "votes need a period");
			assert!(!T::MaxWindow::get().is_zero(), "purchases need a window");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Opens an offering of shares in the caller's `model` on `terms`, creating the share
		/// asset. The caller pays the existential deposit of the offering's two accounts.
		///
		/// Emits `OfferingCreated`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_offering(terms.tranches.len() as u32))]
		pub fn create_offering(
			origin: OriginFor<T>,
			model: ModelId,
			terms: OfferingTermsOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_create_offering(who, model, terms)
		}

		/// Buys `shares` of `offering` at its price, moving the OPEN into its fund account.
		/// Refused outside the window or beyond the hard cap.
		///
		/// Emits `Purchased`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::buy())]
		pub fn buy(
			origin: OriginFor<T>,
			offering: OfferingId,
			shares: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_buy(who, offering, shares)
		}

		/// Ends `offering` after its window (or once its hard cap is reached): success with
		/// the soft cap reached (the first tranche goes to the owner), failure otherwise.
		/// Anyone may call it.
		///
		/// Emits `OfferingSucceeded` (and `TrancheReleased`) or `OfferingFailed`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::finalize())]
		pub fn finalize(origin: OriginFor<T>, offering: OfferingId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_finalize(offering)
		}

		/// Mints `who`'s purchased shares of a successful `offering` to it. Anyone may call it
		/// for anyone.
		///
		/// Emits `SharesClaimed`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::claim_shares())]
		pub fn claim_shares(
			origin: OriginFor<T>,
			offering: OfferingId,
			who: T::AccountId,
		) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_claim_shares(offering, who)
		}

		/// Pays back everything `who` paid into a failed `offering`. Anyone may call it for
		/// anyone.
		///
		/// Emits `Refunded`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::refund())]
		pub fn refund(
			origin: OriginFor<T>,
			offering: OfferingId,
			who: T::AccountId,
		) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_refund(offering, who)
		}

		/// Accounts the revenue that arrived at `offering`'s revenue account since last time.
		/// Anyone may call it; claims and transfers do it too.
		///
		/// Emits `RevenueDistributed`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::distribute_revenue())]
		pub fn distribute_revenue(origin: OriginFor<T>, offering: OfferingId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_distribute_revenue(offering)
		}

		/// Pays `who` its revenue from `offering`: its shares' part, and for the owner the
		/// owner's part. Anyone may call it for anyone.
		///
		/// Emits `RevenueClaimed` (after `RevenueDistributed` if new revenue arrived).
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::claim_revenue())]
		pub fn claim_revenue(
			origin: OriginFor<T>,
			offering: OfferingId,
			who: T::AccountId,
		) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_claim_revenue(offering, who)
		}

		/// Moves `shares` of `offering` from the caller to `to`, settling both sides' revenue
		/// first. Refused while the caller's shares are locked by an open vote.
		///
		/// Emits `SharesTransferred`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::transfer_shares())]
		pub fn transfer_shares(
			origin: OriginFor<T>,
			offering: OfferingId,
			to: T::AccountId,
			shares: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_transfer_shares(offering, who, to, shares)
		}

		/// Proposes `kind` to `offering`'s shareholders. The caller must hold shares.
		///
		/// Emits `Proposed`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::propose())]
		pub fn propose(
			origin: OriginFor<T>,
			offering: OfferingId,
			kind: ProposalKind,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_propose(who, offering, kind)
		}

		/// Votes on `proposal` with all the caller's shares, which stay locked until voting
		/// ends. One vote per account.
		///
		/// Emits `Voted`.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::vote())]
		pub fn vote(origin: OriginFor<T>, proposal: ProposalId, aye: bool) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_vote(who, proposal, aye)
		}

		/// Counts `proposal`'s votes after its voting period: passed with turnout at least the
		/// quorum and more ayes than nays, rejected otherwise. Anyone may call it.
		///
		/// Emits `ProposalClosed`.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::close())]
		pub fn close(origin: OriginFor<T>, proposal: ProposalId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_close(proposal)
		}

		/// Executes a passed `proposal` after its enactment delay. Anyone may call it.
		///
		/// Emits `Executed` (and `TrancheReleased` for a released tranche).
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::execute())]
		pub fn execute(origin: OriginFor<T>, proposal: ProposalId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_execute(proposal)
		}
	}
}
