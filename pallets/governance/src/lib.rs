//! # Governance origins
//!
//! OPEN holders steer the chain through referenda (pallet-referenda with conviction voting).
//! Each referendum track dispatches its proposal with an origin; this pallet defines the origins
//! that are not `Root`, and the pace the runtime's tracks follow:
//!
//! - [`Origin::ParameterAdmin`]: the origin of the *parameters* track. The runtime accepts it
//!   (besides `Root`) where a parameter is changed: the fee split of attribution, the emission
//!   streams, and the dynamic parameters (deposits, slash fractions, the worker stake).
//!   [`EnsureParameterAdmin`] checks for it.
//! - [`Pace`]: `Public` (periods in days) or `Dev` (periods in blocks, for dev and local chains
//!   and their tests). Set at genesis only; no call changes it.
//!
//! The pallet has no calls and no weights.

#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

#[cfg(test)]
mod tests;

// The pallet macros expand to `expect`s on values they build themselves.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
	use frame_support::pallet_prelude::*;
	use scale_info::TypeInfo;

	#[pallet::config]
	pub trait Config: frame_system::Config {}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The origins of referendum tracks other than `Root`.
	#[pallet::origin]
	#[derive(
		Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
	)]
	pub enum Origin {
		/// A referendum of the parameters track passed: fee splits, emission streams, deposits,
		/// slash fractions and the worker stake may be changed.
		ParameterAdmin,
	}

	/// How fast the referendum tracks move.
	#[derive(
		Clone,
		Copy,
		PartialEq,
		Eq,
		Default,
		Encode,
		Decode,
		DecodeWithMemTracking,
		MaxEncodedLen,
		TypeInfo,
		Debug,
		serde::Serialize,
		serde::Deserialize,
	)]
	pub enum GovernancePace {
		/// Periods in hours and days: a public chain.
		#[default]
		Public,
		/// Periods of a few blocks: dev and local chains, so that a referendum passes in about
		/// a minute.
		Dev,
	}

	/// The pace of this chain's referendum tracks, fixed at genesis.
	#[pallet::storage]
	pub type Pace<T: Config> = StorageValue<_, GovernancePace, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The pace of the referendum tracks (`Public` unless a dev or local chain says `Dev`).
		pub pace: GovernancePace,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			Pace::<T>::put(self.pace);
		}
	}

	impl<T: Config> Pallet<T> {
		/// The pace of the referendum tracks.
		pub fn pace() -> GovernancePace {
			Pace::<T>::get()
		}
	}
}

/// Accepts [`Origin::ParameterAdmin`] only.
pub struct EnsureParameterAdmin;

impl<O> frame_support::traits::EnsureOrigin<O> for EnsureParameterAdmin
where
	O: Into<Result<Origin, O>> + From<Origin>,
{
	type Success = ();

	fn try_origin(o: O) -> Result<Self::Success, O> {
		o.into().map(|Origin::ParameterAdmin| ())
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin() -> Result<O, ()> {
		Ok(O::from(Origin::ParameterAdmin))
	}
}
