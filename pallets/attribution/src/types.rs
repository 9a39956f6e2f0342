//! Domain types: the fee shares and their bounds, and what is recorded per contribution and
//! per model version.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::traits::fungible;
use scale_info::TypeInfo;
use sp_runtime::Perbill;

pub use pallet_inference::{AttributionEntry, ContributionId};
pub use pallet_models::{ModelId, VersionIndex};

/// The balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// What a contribution earned, as stored.
pub type ContributionRecordOf<T> =
	ContributionRecord<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;

/// What a model version's inferences paid, as stored.
pub type VersionRecordOf<T> = VersionRecord<BalanceOf<T>>;

/// The bounds governance must keep the shares within (inclusive), in percent.
pub mod bounds {
	/// The data contributors get at least this much of every fee: they are why the chain exists.
	pub const MIN_CONTRIBUTORS_PERCENT: u32 = 10;
	/// Neither the owner nor the workers take more than this.
	pub const MAX_OWNER_PERCENT: u32 = 70;
	/// See [`MAX_OWNER_PERCENT`].
	pub const MAX_WORKERS_PERCENT: u32 = 70;
	/// The treasury takes at most this (rounding and unattributed weight come on top).
	pub const MAX_TREASURY_PERCENT: u32 = 20;
	/// The per-contributor cap is at least this share of the contributors' part.
	pub const MIN_CONTRIBUTOR_CAP_PERCENT: u32 = 10;
}

/// How every fee is split. The four parts sum to exactly the whole, each within [`bounds`].
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
pub struct FeeShares {
	/// To the model's owner (later, an IAO's shareholders).
	pub owner: Perbill,
	/// To the data contributors, by attribution weight.
	pub contributors: Perbill,
	/// To the workers that served the request, in equal parts.
	pub workers: Perbill,
	/// To the treasury.
	pub treasury: Perbill,
}

impl FeeShares {
	/// Whether the parts sum to the whole and each is within [`bounds`].
	pub fn is_valid(&self) -> bool {
		let sum = [self.owner, self.contributors, self.workers, self.treasury]
			.iter()
			.map(|p| u64::from(p.deconstruct()))
			.sum::<u64>();
		sum == u64::from(Perbill::one().deconstruct())
			&& self.contributors >= Perbill::from_percent(bounds::MIN_CONTRIBUTORS_PERCENT)
			&& self.owner <= Perbill::from_percent(bounds::MAX_OWNER_PERCENT)
			&& self.workers <= Perbill::from_percent(bounds::MAX_WORKERS_PERCENT)
			&& self.treasury <= Perbill::from_percent(bounds::MAX_TREASURY_PERCENT)
	}
}

impl Default for FeeShares {
	/// 20 % owner, 35 % contributors, 40 % workers, 5 % treasury.
	fn default() -> Self {
		FeeShares {
			owner: Perbill::from_percent(20),
			contributors: Perbill::from_percent(35),
			workers: Perbill::from_percent(40),
			treasury: Perbill::from_percent(5),
		}
	}
}

/// The split's parameters, read once per fee.
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
pub struct Params {
	/// The shares of every fee.
	pub shares: FeeShares,
	/// The most one contributor may take of the contributors' part of one fee, however many
	/// of its contributions are attributed; the excess goes to the treasury.
	pub contributor_cap: Perbill,
}

impl Params {
	/// Whether the shares are valid and the cap within its bound.
	pub fn is_valid(&self) -> bool {
		self.shares.is_valid()
			&& self.contributor_cap >= Perbill::from_percent(bounds::MIN_CONTRIBUTOR_CAP_PERCENT)
	}
}

impl Default for Params {
	/// [`FeeShares::default`], and a cap of 50 %.
	fn default() -> Self {
		Params { shares: FeeShares::default(), contributor_cap: Perbill::from_percent(50) }
	}
}

/// What one contribution has earned from attributed inferences.
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
pub struct ContributionRecord<Balance, BlockNumber> {
	/// Paid inferences that attributed it (and it was eligible).
	pub inferences: u64,
	/// Its attribution weights summed, in parts per billion (1e9 is one whole answer).
	pub weight_sum: u64,
	/// What it earned its contributor, in total.
	pub earned: Balance,
	/// The block it last earned in.
	pub last_at: BlockNumber,
}

/// What one model version's paid inferences came to.
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
pub struct VersionRecord<Balance> {
	/// Paid inferences settled.
	pub inferences: u64,
	/// Their fees, in total.
	pub fees: Balance,
	/// To the model's owner.
	pub to_owner: Balance,
	/// To data contributors.
	pub to_contributors: Balance,
	/// To workers.
	pub to_workers: Balance,
	/// To the treasury (its share, rounding, unattributed and ineligible weight, capped
	/// excess).
	pub to_treasury: Balance,
}

/// How one fee was split: what the `FeeDistributed` event carries.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Split<AccountId, Balance> {
	/// To the model's owner (`None`: the model has no owner; its part went to the treasury).
	pub owner: Option<(AccountId, Balance)>,
	/// To each worker.
	pub workers: alloc::vec::Vec<(AccountId, Balance)>,
	/// Per attributed contribution that was eligible: its contributor and what it earned.
	pub contributions: alloc::vec::Vec<(ContributionId, AccountId, Balance)>,
	/// To the treasury.
	pub treasury: Balance,
}
