//! Domain types: an offering's terms and state, a backer's holding, governance proposals, and
//! the views the runtime API returns.

use crate::Config;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::{fungible, fungibles, Get},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_runtime::Perbill;

pub use pallet_models::{ModelId, VersionIndex};

/// An offering's id, in creation order from 0.
pub type OfferingId = u32;

/// A governance proposal's id, in creation order from 0 (across all offerings).
pub type ProposalId = u32;

/// The balance type of the pallet's currency (OPEN). Shares are counted in it too.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// The asset id type of the shares' assets pallet.
pub type AssetIdOf<T> =
	<<T as Config>::Assets as fungibles::Inspect<<T as frame_system::Config>::AccountId>>::AssetId;

/// The escrow's release schedule, as stored.
pub type TranchesOf<T> = BoundedVec<Perbill, <T as Config>::MaxTranches>;

/// An offering's terms, as given to `create_offering`.
pub type OfferingTermsOf<T> = OfferingTerms<BalanceOf<T>, BlockNumberFor<T>, TranchesOf<T>>;

/// An offering, as stored.
pub type OfferingOf<T> = Offering<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	TranchesOf<T>,
	AssetIdOf<T>,
>;

/// A shareholder's holding, as stored.
pub type HoldingOf<T> = Holding<BalanceOf<T>, BlockNumberFor<T>>;

/// A proposal, as stored.
pub type ProposalOf<T> =
	Proposal<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

/// The fixed-point scale of [`Offering::acc_per_share`]: revenue per share times `ACC_SCALE`.
/// The accumulator is at most `revenue × 1e12 / shares_sold`, within `u128` for any revenue
/// the OPEN supply (1e27 units) can pay to at least 3 shares; should it ever overflow, that
/// revenue goes to the owner's part instead. Each distribution loses below
/// `shares_sold / 1e12` units to rounding; that dust stays in the revenue account.
pub const ACC_SCALE: u128 = 1_000_000_000_000;

/// What the owner asks for: the sale, the window, the revenue share and the escrow schedule.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct OfferingTerms<Balance, BlockNumber, Tranches> {
	/// The most shares for sale. Only sold shares are ever minted.
	pub total_shares: Balance,
	/// The price of one share, in OPEN units.
	pub price: Balance,
	/// The least raise (OPEN) for the offering to succeed; at least one share's price.
	pub soft_cap: Balance,
	/// The most the offering may raise (OPEN); at most `total_shares × price`.
	pub hard_cap: Balance,
	/// The first block purchases are accepted in.
	pub start: BlockNumber,
	/// The last block purchases are accepted in.
	pub end: BlockNumber,
	/// The part of the model's revenue (what arrives at the offering's revenue account) that
	/// goes to shareholders; the owner may claim the rest.
	pub revenue_share: Perbill,
	/// The escrow's release schedule: parts of the raise, summing to exactly the whole. The
	/// first is released to the owner when the offering succeeds; each later one by a passed
	/// `ReleaseTranche` proposal.
	pub tranches: Tranches,
}

impl<Balance, BlockNumber, S: Get<u32>>
	OfferingTerms<Balance, BlockNumber, BoundedVec<Perbill, S>>
{
	/// Whether the tranches are non-empty and sum to exactly the whole.
	pub fn tranches_valid(&self) -> bool {
		let sum = self.tranches.iter().map(|p| u64::from(p.deconstruct())).sum::<u64>();
		!self.tranches.is_empty() && sum == u64::from(Perbill::one().deconstruct())
	}
}

/// Where an offering stands.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum OfferingStatus {
	/// Created; purchases are accepted within the window.
	Raising,
	/// Finalized with the soft cap reached: backers claim shares, the raise is in escrow.
	Succeeded,
	/// Finalized below the soft cap: backers claim refunds, the owner gets nothing.
	Failed,
}

/// An offering and its running totals.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct Offering<AccountId, Balance, BlockNumber, Tranches, AssetId> {
	/// The model whose revenue and upgrades the shares govern.
	pub model: ModelId,
	/// Who created it (the model's owner then): receives the escrow tranches and the owner's
	/// part of the revenue.
	pub owner: AccountId,
	/// The shares' asset.
	pub asset: AssetId,
	/// What the owner asked for.
	pub terms: OfferingTerms<Balance, BlockNumber, Tranches>,
	/// Where it stands.
	pub status: OfferingStatus,
	/// OPEN paid by backers, in total.
	pub raised: Balance,
	/// Shares bought, in total (the shares' total supply once all are claimed).
	pub shares_sold: Balance,
	/// Distinct backers.
	pub backers: u32,
	/// OPEN refunded so far (a failed offering).
	pub refunded: Balance,
	/// The raise still in escrow (a successful offering).
	pub escrow_left: Balance,
	/// Tranches released so far.
	pub tranches_released: u32,
	/// Revenue per share, accumulated, times [`ACC_SCALE`].
	pub acc_per_share: u128,
	/// Revenue accounted to shareholders and not yet claimed (rounding dust included).
	pub holders_pool: Balance,
	/// Revenue accounted to the owner and not yet claimed.
	pub owner_revenue: Balance,
	/// Revenue accounted, in total.
	pub revenue_total: Balance,
}

/// A shareholder's position in one offering's revenue and votes. The shares themselves are an
/// asset; this keeps what revenue they have been credited with.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Holding<Balance, BlockNumber> {
	/// Shares held (equal to the holder's asset balance: shares move only through this pallet).
	pub shares: Balance,
	/// `shares × acc_per_share / ACC_SCALE` when last settled: revenue not owed to it.
	pub reward_debt: Balance,
	/// Revenue settled to it and not yet claimed.
	pub owed: Balance,
	/// The shares may not be transferred before this block's end (the last vote it cast ends).
	pub locked_until: BlockNumber,
}

/// What a proposal would do.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum ProposalKind {
	/// Make this version (an adapter upgrade) the model's active one.
	ActivateVersion(VersionIndex),
	/// Release the next escrow tranche to the owner.
	ReleaseTranche,
}

/// Where a proposal stands.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum ProposalStatus<BlockNumber> {
	/// Shareholders vote until the voting period ends.
	Voting,
	/// Passed: executable from this block.
	Passed {
		/// The first block it may be executed in.
		executable_at: BlockNumber,
	},
	/// Closed without quorum or majority.
	Rejected,
	/// Passed and executed (whether its action succeeded is in the `Executed` event).
	Executed,
}

/// A shareholder proposal about an offering's model or escrow.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct Proposal<AccountId, Balance, BlockNumber> {
	/// The offering whose shareholders vote.
	pub offering: OfferingId,
	/// What it would do.
	pub kind: ProposalKind,
	/// Who proposed it (a shareholder).
	pub proposer: AccountId,
	/// Shares voting aye.
	pub ayes: Balance,
	/// Shares voting nay.
	pub nays: Balance,
	/// The last block votes are accepted in.
	pub voting_ends: BlockNumber,
	/// Where it stands.
	pub status: ProposalStatus<BlockNumber>,
}

/// An offering as the runtime API shows it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct OfferingView<AccountId, Balance, BlockNumber> {
	/// The model.
	pub model: ModelId,
	/// The owner.
	pub owner: AccountId,
	/// Where it stands.
	pub status: OfferingStatus,
	/// The terms, tranches unbounded.
	pub terms: OfferingTerms<Balance, BlockNumber, Vec<Perbill>>,
	/// OPEN raised.
	pub raised: Balance,
	/// Shares sold.
	pub shares_sold: Balance,
	/// Distinct backers.
	pub backers: u32,
	/// The raise still in escrow.
	pub escrow_left: Balance,
	/// Tranches released.
	pub tranches_released: u32,
	/// Revenue per share times [`ACC_SCALE`], with revenue that arrived since the last
	/// accounting included.
	pub revenue_per_share: u128,
	/// Revenue accounted in total (likewise).
	pub revenue_total: Balance,
	/// The account purchases and the escrow sit in.
	pub fund_account: AccountId,
	/// The account the model's revenue is paid to.
	pub revenue_account: AccountId,
}

/// A backer's position as the runtime API shows it.
#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug, Default, TypeInfo)]
pub struct Position<Balance> {
	/// OPEN paid for shares not yet claimed (or refunded).
	pub purchased: Balance,
	/// Shares held.
	pub shares: Balance,
	/// Revenue it may claim now (the owner's part included for the owner).
	pub claimable_revenue: Balance,
}
