//! # Attribution pallet
//!
//! Proof of Attribution payouts. Every paid inference (a receipt settled by pallet-inference,
//! or an on-chain inference job) carries the serving worker's attribution: the top-k
//! contributions of the model version's training snapshot that shaped the answer, with weights
//! (`Perbill`, summing to at most the whole). This pallet is pallet-inference's
//! [`pallet_inference::traits::Payout`]: it receives each fee in its pot and splits it.
//!
//! ## The split
//!
//! With the governance-set [`Params`] (shares within [`types::bounds`], summing to the whole):
//!
//! 1. **Workers**: `shares.workers` of the fee, in equal parts to the workers that served it
//!    (one for a receipt, the agreeing workers for an on-chain job).
//! 2. **Owner**: `shares.owner` to the model's owner (to the treasury if it has none), or,
//!    once an Initial AI Offering for the model succeeded, to the offering's revenue account
//!    ([`Config::OwnerShareRoute`]), where its shareholders claim their part.
//! 3. **Contributors**: `shares.contributors` of the fee is the contributors' part. Each
//!    attribution entry is checked against Datanets ([`Config::Datanets`]): the contribution
//!    must be accepted into the Datanet of the version's snapshot at a position the snapshot
//!    covers. An eligible entry earns `weight × part` for its contributor; ineligible entries
//!    (rejected, withdrawn, pending, not in the snapshot, unknown) earn nothing. One
//!    contributor earns at most `contributor_cap × part` per fee, however many of its
//!    contributions are attributed (its entries are scaled down together).
//! 4. **Treasury**: `shares.treasury`, plus everything the above did not pay: unattributed
//!    weight, ineligible entries, capped excess and rounding (every part is rounded down).
//!
//! So every fee is conserved: owner + workers + contributors + treasury = fee, exactly.
//!
//! What each contributor is credited is also noted to [`Config::Emissions`]: the emissions
//! pallet's contributor stream pays each era pro rata to the attribution rewards earned in it.
//!
//! ## Pull, not push
//!
//! Nothing is transferred while splitting: every share is credited to its account in
//! [`Rewards`] and the money stays in the pot. Anyone may [`claim`](Pallet::claim) an account's
//! rewards to it. Per-fee work is a bounded number of storage writes, whatever the accounts'
//! state, and an account that cannot exist yet (below the existential deposit) simply
//! accumulates until it can be paid.
//!
//! ## History
//!
//! [`ContributionRecords`] keeps, per contribution, how many paid inferences attributed it, its
//! summed weight and what it earned; [`VersionRecords`] keeps each model version's totals. Each
//! split emits `FeeDistributed` with every part. The [`runtime_api::AttributionApi`] runtime
//! API reads rewards, records and parameters.
//!
//! ## Invariants (`try_state`)
//!
//! - The pot holds its existential deposit plus exactly the sum of all [`Rewards`].
//! - [`Params`] are valid.
//! - Money only moves: fees enter the pot by transfer and leave it by claims.

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
	use alloc::vec::Vec;
	use frame_support::{pallet_prelude::*, traits::fungible::Mutate, PalletId};
	use frame_system::pallet_prelude::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency fees are paid in.
		type Currency: Mutate<Self::AccountId>;

		/// Contributions and snapshots (the Datanets pallet).
		type Datanets: pallet_datanets::traits::DatanetsInspect<Self::AccountId, BalanceOf<Self>>;

		/// Models, their owners and the snapshots their versions were trained on.
		type Models: pallet_models::traits::Inspect<Self::AccountId>;

		/// Where a model's owner share goes instead of its owner (an offering's revenue
		/// account).
		type OwnerShareRoute: crate::traits::OwnerShareRoute<Self::AccountId>;

		/// Told what each contributor earned, as it is credited (pallet-emissions pays its
		/// contributor stream pro rata to it).
		type Emissions: pallet_emissions::traits::NoteActivity<Self::AccountId, BalanceOf<Self>>;

		/// The pot's id: fees wait there, split, until claimed.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Where the treasury's part goes.
		type Treasury: Get<Self::AccountId>;

		/// Most attribution entries per fee (pallet-inference's `MaxAttribution`).
		#[pallet::constant]
		type MaxAttribution: Get<u32>;

		/// Sets the split's parameters (governance).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Weights of this pallet's calls and of a split.
		type WeightInfo: WeightInfo;

		/// Sets up a model version with attributable contributions for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::traits::BenchmarkHelper<Self::AccountId>;
	}

	/// How fees are split: [`Params::default`] until governance sets them.
	#[pallet::storage]
	pub type CurrentParams<T> = StorageValue<_, Params, ValueQuery>;

	/// What each account may claim. An entry exists while something is owed; each was credited
	/// by a fee.
	#[pallet::storage]
	pub type Rewards<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>>;

	/// Per contribution, what paid inferences attributed to it and what it earned.
	#[pallet::storage]
	pub type ContributionRecords<T: Config> =
		StorageMap<_, Twox64Concat, ContributionId, ContributionRecordOf<T>>;

	/// Per model version, what its paid inferences came to.
	#[pallet::storage]
	pub type VersionRecords<T: Config> =
		StorageDoubleMap<_, Twox64Concat, ModelId, Twox64Concat, VersionIndex, VersionRecordOf<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A paid inference's `fee` for `version` of `model` was split and credited:
		/// `owner` (`None`: no owner, its part went to the treasury; the account is the
		/// model's offering revenue account when an offering took the owner share over), each
		/// worker, each
		/// eligible attributed contribution (with its contributor) and the treasury.
		FeeDistributed {
			model: ModelId,
			version: VersionIndex,
			fee: BalanceOf<T>,
			owner: Option<(T::AccountId, BalanceOf<T>)>,
			workers: Vec<(T::AccountId, BalanceOf<T>)>,
			contributions: Vec<(ContributionId, T::AccountId, BalanceOf<T>)>,
			treasury: BalanceOf<T>,
		},
		/// `amount` of `who`'s rewards was paid out to it.
		Claimed { who: T::AccountId, amount: BalanceOf<T> },
		/// Governance set the split's parameters.
		ParamsSet { params: Params },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account has no rewards to claim.
		NothingToClaim,
		/// The shares do not sum to the whole, one is out of its bound, or the cap is below its
		/// bound.
		ParamsOutOfBounds,
		/// The rewards cannot be paid out yet (below the existential deposit of an account that
		/// does not exist): more must accrue first.
		ClaimTooSmall,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxAttribution::get() > 0, "a fee must be attributable");
			assert!(Params::default().is_valid(), "the default parameters are within bounds");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Pays out all of `who`'s rewards to `who`. Anyone may call it for anyone: the money
		/// only goes to its owner.
		///
		/// Emits `Claimed`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::claim())]
		pub fn claim(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_claim(who)
		}

		/// Sets how fees are split (governance). The shares must sum to the whole and each be
		/// within its bound; the cap must be within its bound. Applies to fees from now on.
		///
		/// Emits `ParamsSet`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: Params) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(params.is_valid(), Error::<T>::ParamsOutOfBounds);
			CurrentParams::<T>::put(params);
			Self::deposit_event(Event::ParamsSet { params });
			Ok(())
		}
	}
}
