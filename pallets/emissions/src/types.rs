//! Domain types: the release curve, the reward streams and their shares (with their bounds),
//! and what is recorded per pool, per era and per account.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::traits::fungible;
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_runtime::{traits::Saturating, Perbill};

/// The balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// The pools' ledger, as stored.
pub type LedgerOf<T> = Ledger<BalanceOf<T>>;

/// An era's record, as stored.
pub type EraRecordOf<T> = EraRecord<BalanceOf<T>>;

/// Where the schedule is, as stored.
pub type StatusOf<T> = Status<frame_system::pallet_prelude::BlockNumberFor<T>>;

/// The schedule as the runtime API reports it.
pub type ScheduleInfoOf<T> =
	ScheduleInfo<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;

/// An era number: era `e` covers blocks `[start + e × EraLength, start + (e + 1) × EraLength)`.
pub type EraIndex = u32;

/// Activity points. Contributors earn one per planck of attribution reward, workers one per
/// unit of completed job work, curators one per accepted curation, authors one per block.
pub type Points = u128;

/// The bounds governance must keep the curve and the shares within (inclusive).
pub mod bounds {
	/// Data contributors get at least this percentage of every era: they are why the chain
	/// exists.
	pub const MIN_CONTRIBUTORS_PERCENT: u32 = 20;
	/// Workers get at most this percentage.
	pub const MAX_WORKERS_PERCENT: u32 = 50;
	/// Curators get at most this percentage.
	pub const MAX_CURATORS_PERCENT: u32 = 25;
	/// Block authors get at most this percentage.
	pub const MAX_AUTHORS_PERCENT: u32 = 25;
	/// The treasury's own share is at most this percentage (empty streams and rounding come on
	/// top).
	pub const MAX_TREASURY_PERCENT: u32 = 30;
	/// A tapered curve's first era releases more than its last, at most this many percent of
	/// it (1,000 %: ten times).
	pub const MAX_TAPER_PERCENT: u32 = 1_000;
}

/// How a pool's release is spread over the schedule's `N` eras. Whatever the curve, era `e`
/// releases `remaining × w(e) / (w(e) + … + w(N − 1))` (rounded down) and the last era
/// releases all that remains, so every pool empties exactly at the end of the schedule, and a
/// shortfall or a curve changed on the way is spread over the eras left.
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
	Serialize,
	Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub enum Curve {
	/// Every era weighs the same: `w(e) = 1`.
	#[default]
	Linear,
	/// Front-loaded: the era weights fall linearly from `first_to_last_percent` % of the last
	/// era's (first era) to 100 % of it (last era):
	/// `w(e) = 100 (N − 1) + (first_to_last_percent − 100)(N − 1 − e)`.
	/// Valid for `100 < first_to_last_percent <= MAX_TAPER_PERCENT`.
	Tapered {
		/// The first era's weight over the last era's, in percent.
		first_to_last_percent: u32,
	},
}

impl Curve {
	/// Whether the curve is within [`bounds`].
	pub fn is_valid(&self) -> bool {
		match self {
			Curve::Linear => true,
			Curve::Tapered { first_to_last_percent: p } => {
				*p > 100 && *p <= bounds::MAX_TAPER_PERCENT
			}
		}
	}

	/// The weight of era `era` and the weight of all eras from `era` to the last (`eras − 1`)
	/// together: era `era` releases `remaining × this / rest`. From the last era on, `(1, 1)`:
	/// everything left.
	pub fn era_weights(&self, era: EraIndex, eras: u32) -> (u128, u128) {
		if era.saturating_add(1) >= eras {
			return (1, 1);
		}
		let n = u128::from(eras);
		let e = u128::from(era);
		// Eras from `era` to the end, at least 2 here.
		let left = n.saturating_sub(e);
		match self {
			Curve::Linear => (1, left),
			Curve::Tapered { first_to_last_percent } => {
				let slope = u128::from(*first_to_last_percent).saturating_sub(100);
				let base = n.saturating_sub(1).saturating_mul(100);
				// w(e) = base + slope (N − 1 − e).
				let this = base.saturating_add(slope.saturating_mul(left.saturating_sub(1)));
				// Σ_{k=e}^{N−1} w(k) = base (N − e) + slope (N − e)(N − e − 1) / 2.
				let rest = base.saturating_mul(left).saturating_add(
					slope.saturating_mul(left.saturating_mul(left.saturating_sub(1)) / 2),
				);
				(this, rest.max(1))
			}
		}
	}
}

/// The reward streams that earn by activity points. The fifth stream, the treasury, takes its
/// share directly.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Stream {
	/// Data contributors, pro rata to the attribution rewards they earned in the era.
	Contributors,
	/// Workers, pro rata to the job work they completed in the era.
	Workers,
	/// Curators, pro rata to the contributions they accepted in the era.
	Curators,
	/// Block authors, pro rata to the blocks they authored in the era.
	Authors,
}

impl Stream {
	/// Every stream that earns by points.
	pub const ALL: [Stream; 4] =
		[Stream::Contributors, Stream::Workers, Stream::Curators, Stream::Authors];
}

/// How every era's release is split between the streams. The five parts sum to exactly the
/// whole, each within [`bounds`].
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
	Serialize,
	Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct StreamShares {
	/// To data contributors.
	pub contributors: Perbill,
	/// To workers.
	pub workers: Perbill,
	/// To curators.
	pub curators: Perbill,
	/// To block authors.
	pub authors: Perbill,
	/// To the ecosystem treasury.
	pub treasury: Perbill,
}

impl StreamShares {
	/// Whether the parts sum to the whole and each is within [`bounds`].
	pub fn is_valid(&self) -> bool {
		let sum = [self.contributors, self.workers, self.curators, self.authors, self.treasury]
			.iter()
			.map(|p| u64::from(p.deconstruct()))
			.sum::<u64>();
		sum == u64::from(Perbill::one().deconstruct())
			&& self.contributors >= Perbill::from_percent(bounds::MIN_CONTRIBUTORS_PERCENT)
			&& self.workers <= Perbill::from_percent(bounds::MAX_WORKERS_PERCENT)
			&& self.curators <= Perbill::from_percent(bounds::MAX_CURATORS_PERCENT)
			&& self.authors <= Perbill::from_percent(bounds::MAX_AUTHORS_PERCENT)
			&& self.treasury <= Perbill::from_percent(bounds::MAX_TREASURY_PERCENT)
	}

	/// The share of a points stream.
	pub fn of(&self, stream: Stream) -> Perbill {
		match stream {
			Stream::Contributors => self.contributors,
			Stream::Workers => self.workers,
			Stream::Curators => self.curators,
			Stream::Authors => self.authors,
		}
	}
}

impl Default for StreamShares {
	/// 40 % contributors, 25 % workers, 10 % curators, 10 % authors, 15 % treasury.
	fn default() -> Self {
		StreamShares {
			contributors: Perbill::from_percent(40),
			workers: Perbill::from_percent(25),
			curators: Perbill::from_percent(10),
			authors: Perbill::from_percent(10),
			treasury: Perbill::from_percent(15),
		}
	}
}

/// One pool's schedule: what it held when the schedule started and what has left it since.
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
pub struct PoolLedger<Balance> {
	/// What the pool held when the schedule started: all of it is released by the end.
	pub initial: Balance,
	/// What eras have released from it so far (never more than `initial`).
	pub released: Balance,
}

impl<Balance: Saturating + Copy> PoolLedger<Balance> {
	/// What the schedule has still to release from the pool.
	pub fn remaining(&self) -> Balance {
		self.initial.saturating_sub(self.released)
	}
}

/// The money: both pools, and what left the pot.
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
pub struct Ledger<Balance> {
	/// The community pool.
	pub community: PoolLedger<Balance>,
	/// The ecosystem pool.
	pub ecosystem: PoolLedger<Balance>,
	/// Paid out of the pot by claims, in total.
	pub paid: Balance,
	/// Swept from a pool beyond its schedule (money someone sent to a pool, taken only so that
	/// no dust below the existential deposit is left behind to be burned); to the treasury.
	pub swept: Balance,
	/// What the pot held when the schedule started (its existential deposit): never paid out.
	pub pot_base: Balance,
	/// Total issuance when the schedule started: emissions never change it.
	pub issuance: Balance,
}

impl<Balance: Saturating + Copy> Ledger<Balance> {
	/// Released from both pools so far.
	pub fn released(&self) -> Balance {
		self.community.released.saturating_add(self.ecosystem.released)
	}

	/// What the schedule has still to release from both pools.
	pub fn remaining(&self) -> Balance {
		self.community.remaining().saturating_add(self.ecosystem.remaining())
	}

	/// What both pools held when the schedule started.
	pub fn initial(&self) -> Balance {
		self.community.initial.saturating_add(self.ecosystem.initial)
	}
}

/// Where the schedule is.
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
pub struct Status<BlockNumber> {
	/// The block the schedule started at (genesis, or the first block after the pallet was
	/// added).
	pub start: BlockNumber,
	/// Blocks per era, fixed when the schedule starts ([`crate::Config::EraLength`] unless the
	/// genesis config set another, as a dev chain does to see eras pass in minutes).
	pub era_length: BlockNumber,
	/// The era activity counts for now: every earlier era is closed and paid.
	pub open_era: EraIndex,
	/// Nothing is left to release: no era closes and no activity is recorded any more.
	pub finished: bool,
}

/// One stream in one era.
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
pub struct StreamTally<Balance> {
	/// Points noted in the era, all accounts together.
	pub points: Points,
	/// Accounts whose points in the era are not settled yet.
	pub accounts: u32,
	/// What the era gave the stream (zero while the era is open, and when nobody earned
	/// points: then it went to the treasury).
	pub budget: Balance,
	/// What of `budget` has been settled to accounts; equal to `budget` once every account is
	/// settled (the rounding remainder then went to the treasury).
	pub settled: Balance,
}

/// One era: what it released and how it was split. While the era is open, only the points are
/// filled in.
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
pub struct EraRecord<Balance> {
	/// Released from the community pool.
	pub from_community: Balance,
	/// Released from the ecosystem pool.
	pub from_ecosystem: Balance,
	/// Data contributors.
	pub contributors: StreamTally<Balance>,
	/// Workers.
	pub workers: StreamTally<Balance>,
	/// Curators.
	pub curators: StreamTally<Balance>,
	/// Block authors.
	pub authors: StreamTally<Balance>,
	/// To the treasury: its share, the streams nobody earned in, the shares' rounding, anything
	/// swept, and (as accounts settle) the streams' rounding remainders.
	pub to_treasury: Balance,
}

impl<Balance> EraRecord<Balance> {
	/// A stream's tally.
	pub fn tally(&self, stream: Stream) -> &StreamTally<Balance> {
		match stream {
			Stream::Contributors => &self.contributors,
			Stream::Workers => &self.workers,
			Stream::Curators => &self.curators,
			Stream::Authors => &self.authors,
		}
	}

	/// A stream's tally, to change it.
	pub fn tally_mut(&mut self, stream: Stream) -> &mut StreamTally<Balance> {
		match stream {
			Stream::Contributors => &mut self.contributors,
			Stream::Workers => &mut self.workers,
			Stream::Curators => &mut self.curators,
			Stream::Authors => &mut self.authors,
		}
	}
}

/// An account's points in one stream, all in one era (older points are settled before newer
/// ones are noted).
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
pub struct AccountPoints {
	/// The era they were earned in.
	pub era: EraIndex,
	/// How many.
	pub points: Points,
}

/// Points per stream.
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
pub struct StreamPoints {
	/// Data contributors' points.
	pub contributors: Points,
	/// Workers' points.
	pub workers: Points,
	/// Curators' points.
	pub curators: Points,
	/// Block authors' points.
	pub authors: Points,
}

impl StreamPoints {
	/// A stream's points, to change them.
	pub fn of_mut(&mut self, stream: Stream) -> &mut Points {
		match stream {
			Stream::Contributors => &mut self.contributors,
			Stream::Workers => &mut self.workers,
			Stream::Curators => &mut self.curators,
			Stream::Authors => &mut self.authors,
		}
	}
}

/// What an account has earned from emissions.
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
pub struct Earnings<Balance> {
	/// Settled and waiting to be claimed.
	pub claimable: Balance,
	/// Earned in closed eras, not settled yet (a claim settles it first).
	pub unsettled: Balance,
	/// Points in the open era: their worth is known when it closes.
	pub accruing: StreamPoints,
	/// Claimed so far, in total.
	pub claimed: Balance,
}

/// The schedule, as the runtime API reports it.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct ScheduleInfo<Balance, BlockNumber> {
	/// Whether the schedule has started (it starts at genesis).
	pub started: bool,
	/// The block it started at.
	pub start: BlockNumber,
	/// Blocks per era.
	pub era_length: BlockNumber,
	/// Eras in the schedule: all is released when the last one closes.
	pub eras: u32,
	/// The era activity counts for now.
	pub open_era: EraIndex,
	/// The block whose start closes the open era (and pays it).
	pub open_era_ends_at: BlockNumber,
	/// Nothing is left to release.
	pub finished: bool,
	/// The release curve.
	pub curve: Curve,
	/// The streams' shares.
	pub shares: StreamShares,
	/// The community pool: initial and released.
	pub community: PoolLedger<Balance>,
	/// The ecosystem pool: initial and released.
	pub ecosystem: PoolLedger<Balance>,
	/// Still to release, both pools.
	pub remaining: Balance,
	/// Paid out by claims, in total.
	pub paid: Balance,
}

/// One era's release as projected from now: per pool, assuming the pools can pay it.
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
pub struct ProjectedRelease<Balance> {
	/// The era.
	pub era: EraIndex,
	/// From the community pool.
	pub community: Balance,
	/// From the ecosystem pool.
	pub ecosystem: Balance,
}
