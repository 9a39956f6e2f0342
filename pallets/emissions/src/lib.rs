//! # Emissions pallet
//!
//! Releases the pre-minted community and ecosystem pools over a fixed schedule and pays them
//! out, era by era, to the people who make the chain useful. Supply is fixed: emissions move
//! money out of the pools, they never mint.
//!
//! ## The schedule
//!
//! The schedule starts at genesis ([`GenesisConfig`]; or at the first block, if the pallet is
//! added to a running chain) by recording what each pool holds. It runs for
//! [`Config::ScheduleLength`] eras of [`Config::EraLength`] blocks (in the runtime, 48 eras of a
//! month). At the first block of each era, the era before it closes: each pool releases
//! `remaining × w(e) / (w(e) + … + w(N − 1))` by the [`Curve`] (linear by default, or tapered:
//! front-loaded with a bounded first-to-last ratio) into the pot ([`Pallet::pot`]), and the last
//! era releases all that remains. So the pools empty exactly at the end, and rounding, a
//! shortfall or a changed curve are carried into the eras left. Then the schedule stops:
//! `PoolsEmptied`, and no more eras, events or records.
//!
//! ## The streams
//!
//! Each era's release splits by the governance-set [`StreamShares`] (within
//! [`types::bounds`], summing to the whole) between five streams:
//!
//! - **Contributors**, **workers**, **curators** and **authors** earn by points, noted during the
//!   era by other pallets through [`traits::NoteActivity`]: attribution rewards earned, job work
//!   completed, contributions accepted, blocks authored. An account's reward is
//!   `points × budget / all points` of its stream in the era, rounded down.
//! - The **treasury** takes its share, the budget of every stream nobody earned points in, and
//!   the shares' rounding; when the last account of a stream in an era is settled, the stream's
//!   rounding remainder goes to the treasury too.
//!
//! ## Lazy settlement, pull payment
//!
//! Closing an era never touches the participants: it writes the era's budgets next to its
//! point totals ([`Eras`]), a fixed amount of work. An account's points belong to one era per
//! stream ([`AccountPoints`]); they are settled into its [`Rewards`] when it earns points in a
//! later era or claims. Anyone may [`claim`](Pallet::claim) an account's rewards to it. Every
//! note, claim and era close is a bounded number of storage reads and writes.
//!
//! ## Bounds on storage
//!
//! One [`AccountPoints`] entry per stream and account at most, removed when settled; one
//! [`EraRecord`] per era, at most `2 × ScheduleLength` of them (eras after the schedule's
//! last only close while a shortfall is still being released, and never past that); one
//! [`Rewards`] and one [`Claimed`] entry per paid account.
//!
//! ## Invariants (`try_state`)
//!
//! - Total issuance never changes.
//! - Each pool holds at least what the schedule has still to release from it.
//! - The pot holds its base plus everything released and not paid; of that, exactly the
//!   settled rewards plus the unsettled budgets are owed: so
//!   `paid + (pot − base) + pools = initial pools` (plus anything someone sent them).
//! - The era totals match the accounts' points.

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
	use frame_support::{pallet_prelude::*, traits::fungible::Mutate, PalletId};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::Zero;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency the pools hold.
		type Currency: Mutate<Self::AccountId>;

		/// The community pool's (keyless) account.
		type CommunityPool: Get<Self::AccountId>;

		/// The ecosystem pool's (keyless) account.
		type EcosystemPool: Get<Self::AccountId>;

		/// Where the treasury's stream goes.
		type Treasury: Get<Self::AccountId>;

		/// The pot's id: released emissions wait there until claimed.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Finds a block's author, from its pre-runtime digest (Aura in the runtime), for the
		/// authors stream; `()` finds none.
		type FindAuthor: frame_support::traits::FindAuthor<Self::AccountId>;

		/// Blocks per era: each era's release is paid when it ends.
		#[pallet::constant]
		type EraLength: Get<BlockNumberFor<Self>>;

		/// Eras in the schedule: the pools are empty when the last one closes.
		#[pallet::constant]
		type ScheduleLength: Get<u32>;

		/// Sets the curve and the streams' shares (governance).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Weights of this pallet's calls, notes and era closes.
		type WeightInfo: WeightInfo;
	}

	/// Where the schedule is; `None` until it starts.
	#[pallet::storage]
	pub type Schedule<T: Config> = StorageValue<_, StatusOf<T>>;

	/// The pools' initial and released amounts, what claims paid, and the pot's base.
	#[pallet::storage]
	pub type Pools<T: Config> = StorageValue<_, LedgerOf<T>, ValueQuery>;

	/// How the pools' release is spread over the eras: [`Curve::Linear`] until governance
	/// sets it.
	#[pallet::storage]
	pub type CurrentCurve<T> = StorageValue<_, Curve, ValueQuery>;

	/// How each era's release is split between the streams: [`StreamShares::default`] until
	/// governance sets them.
	#[pallet::storage]
	pub type CurrentShares<T> = StorageValue<_, StreamShares, ValueQuery>;

	/// Each account's unsettled points per stream, all in one era.
	#[pallet::storage]
	pub type Activity<T: Config> =
		StorageDoubleMap<_, Twox64Concat, Stream, Blake2_128Concat, T::AccountId, AccountPoints>;

	/// Per era: its point totals (while open), then what it released and how it was split.
	#[pallet::storage]
	pub type Eras<T: Config> = StorageMap<_, Twox64Concat, EraIndex, EraRecordOf<T>>;

	/// What each account may claim (settled rewards). An entry exists while something is owed.
	#[pallet::storage]
	pub type Rewards<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>>;

	/// What each account has claimed, in total.
	#[pallet::storage]
	pub type Claimed<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>>;

	/// The release curve and the streams' shares to start with; the pools' amounts are read
	/// from their balances when the schedule starts (the balances pallet must build its genesis
	/// first).
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The release curve.
		pub curve: Curve,
		/// The streams' shares.
		pub shares: StreamShares,
		/// Blocks per era, if not [`Config::EraLength`] (a dev chain's eras last minutes).
		pub era_length: Option<BlockNumberFor<T>>,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			assert!(self.curve.is_valid(), "the emissions curve is out of bounds");
			assert!(self.shares.is_valid(), "the emissions stream shares are out of bounds");
			CurrentCurve::<T>::put(self.curve);
			CurrentShares::<T>::put(self.shares);
			let era_length = self.era_length.unwrap_or_else(T::EraLength::get);
			assert!(!era_length.is_zero(), "an era must last at least a block");
			Pallet::<T>::start_schedule(Zero::zero(), era_length);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The schedule started at block `start`, to release what the pools hold.
		ScheduleStarted {
			start: BlockNumberFor<T>,
			community: BalanceOf<T>,
			ecosystem: BalanceOf<T>,
		},
		/// `era` closed: it released `from_community` and `from_ecosystem` into the pot and gave
		/// each points stream its budget (zero if nobody earned points in it) and the treasury
		/// `to_treasury` (its share, the unearned streams, rounding, anything swept).
		EraPaid {
			era: EraIndex,
			from_community: BalanceOf<T>,
			from_ecosystem: BalanceOf<T>,
			contributors: BalanceOf<T>,
			workers: BalanceOf<T>,
			curators: BalanceOf<T>,
			authors: BalanceOf<T>,
			to_treasury: BalanceOf<T>,
		},
		/// `who`'s points in `stream` in `era` were settled: `amount` added to its rewards.
		RewardSettled { who: T::AccountId, stream: Stream, era: EraIndex, amount: BalanceOf<T> },
		/// The last account of `stream` in `era` was settled; the stream's rounding remainder
		/// `amount` went to the treasury.
		RemainderToTreasury { era: EraIndex, stream: Stream, amount: BalanceOf<T> },
		/// `amount` of `who`'s rewards was paid out to it.
		Claimed { who: T::AccountId, amount: BalanceOf<T> },
		/// Governance set the streams' shares.
		SharesSet { shares: StreamShares },
		/// Governance set the release curve.
		CurveSet { curve: Curve },
		/// Everything was released; `era` was the last. Emitted once.
		PoolsEmptied { era: EraIndex },
		/// The schedule ended with `unreleased` left that the pools could not pay (something
		/// took it from them). Emitted once, instead of `PoolsEmptied`.
		EmissionsStopped { era: EraIndex, unreleased: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account has no rewards to claim.
		NothingToClaim,
		/// The rewards cannot be paid out yet (below the existential deposit of an account that
		/// does not exist): more must accrue first.
		ClaimTooSmall,
		/// The shares do not sum to the whole, or one is out of its bound.
		SharesOutOfBounds,
		/// The curve is out of its bounds.
		CurveOutOfBounds,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Closes and pays the open era at its end (one era per block at most), or starts the
		/// schedule if it has not started.
		/// Then notes the block's author (if [`Config::FindAuthor`] finds one) to the authors
		/// stream.
		fn on_initialize(n: BlockNumberFor<T>) -> Weight {
			let weight = Self::on_block(n);
			let digest = frame_system::Pallet::<T>::digest();
			let pre_runtime = digest.logs().iter().filter_map(|d| d.as_pre_runtime());
			match <T::FindAuthor as frame_support::traits::FindAuthor<T::AccountId>>::find_author(
				pre_runtime,
			) {
				Some(author) => {
					<Self as traits::NoteActivity<T::AccountId, BalanceOf<T>>>::note_author(
						&author,
					);
					weight.saturating_add(T::WeightInfo::note())
				}
				None => weight,
			}
		}

		fn integrity_test() {
			assert!(!T::EraLength::get().is_zero(), "an era must last at least a block");
			assert!(T::ScheduleLength::get() > 0, "the schedule needs at least one era");
			assert!(StreamShares::default().is_valid(), "the default shares are within bounds");
			assert!(
				T::CommunityPool::get() != T::EcosystemPool::get(),
				"the two pools must be different accounts"
			);
			assert!(
				Self::pot() != T::CommunityPool::get() && Self::pot() != T::EcosystemPool::get(),
				"the pot must not be a pool"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Settles `who`'s points from closed eras, then pays out all of its rewards to it.
		/// Anyone may call it for anyone: the money only goes to its owner.
		///
		/// Emits `RewardSettled` for each settled stream, then `Claimed`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::claim())]
		pub fn claim(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_claim(who)
		}

		/// Sets how each era's release is split between the streams (governance). The shares
		/// must sum to the whole and each be within its bound. Applies from the open era on
		/// (when it closes).
		///
		/// Emits `SharesSet`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_stream_shares())]
		pub fn set_stream_shares(origin: OriginFor<T>, shares: StreamShares) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(shares.is_valid(), Error::<T>::SharesOutOfBounds);
			CurrentShares::<T>::put(shares);
			Self::deposit_event(Event::SharesSet { shares });
			Ok(())
		}

		/// Sets the release curve (governance). What remains is spread over the eras left by
		/// the new curve, from the open era on; the pools still empty at the schedule's end.
		///
		/// Emits `CurveSet`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_curve())]
		pub fn set_curve(origin: OriginFor<T>, curve: Curve) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(curve.is_valid(), Error::<T>::CurveOutOfBounds);
			CurrentCurve::<T>::put(curve);
			Self::deposit_event(Event::CurveSet { curve });
			Ok(())
		}
	}
}
