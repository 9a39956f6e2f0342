//! # Validators
//!
//! The validator set of an OpenLedger chain, chosen by OPEN governance.
//!
//! - A referendum (the runtime's root track; [`Config::ManagerOrigin`]) adds a validator with
//!   [`Pallet::add_validator`] or removes one with [`Pallet::remove_validator`]. The list is
//!   bounded by [`Config::MaxValidators`] and never falls under [`Config::MinValidators`].
//! - Each validator sets its own session keys (Aura and GRANDPA) with `session.set_keys`, and
//!   rotates them the same way; new keys take effect two sessions later, as pallet-session
//!   queues them.
//! - At every session change ([`pallet_session::SessionManager`]) the next set is the listed
//!   validators that have session keys. A listed validator without keys is left out until it
//!   sets them; a set that would fall under the minimum is not taken (the current one stays).
//!
//! Removing a validator takes effect at the session after next; its keys stay registered until
//! it purges them (`session.purge_keys`), which returns its key deposit.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

// The pallet macros expand to `expect`s on values they build themselves.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::WeightInfo;
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	#[pallet::config]
	pub trait Config:
		frame_system::Config
		+ pallet_session::Config<ValidatorId = <Self as frame_system::Config>::AccountId>
	{
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;
		/// Who may add and remove validators (a root-track referendum).
		type ManagerOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The most validators listed.
		#[pallet::constant]
		type MaxValidators: Get<u32>;
		/// The fewest validators listed (and taken into a session).
		#[pallet::constant]
		type MinValidators: Get<u32>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The validators chosen by governance, in the order they were added.
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The first validators (their session keys come from pallet-session's genesis).
		pub validators: Vec<T::AccountId>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let mut validators = BoundedVec::<T::AccountId, T::MaxValidators>::default();
			for who in &self.validators {
				assert!(!validators.contains(who), "a genesis validator is listed twice");
				assert!(
					validators.try_push(who.clone()).is_ok(),
					"more genesis validators than MaxValidators"
				);
			}
			Validators::<T>::put(validators);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A validator was listed; it joins the session after next once it has session keys.
		ValidatorAdded { who: T::AccountId },
		/// A validator was delisted; it leaves at the session after next.
		ValidatorRemoved { who: T::AccountId },
		/// The next session's validators were chosen (listed and with session keys).
		NextSetChosen { session: u32, validators: u32 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a validator.
		AlreadyValidator,
		/// The account is not a validator.
		NotValidator,
		/// The list holds `MaxValidators` already.
		TooManyValidators,
		/// Removing it would leave fewer than `MinValidators`.
		TooFewValidators,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Lists `who` as a validator. It authors and votes from the session after next, once
		/// it has set its session keys.
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::add_validator())]
		pub fn add_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::ManagerOrigin::ensure_origin(origin)?;
			Validators::<T>::try_mutate(|validators| {
				ensure!(!validators.contains(&who), Error::<T>::AlreadyValidator);
				validators.try_push(who.clone()).map_err(|_| Error::<T>::TooManyValidators)
			})?;
			Self::deposit_event(Event::ValidatorAdded { who });
			Ok(())
		}

		/// Delists validator `who`; it stops authoring and voting at the session after next.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::remove_validator())]
		pub fn remove_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::ManagerOrigin::ensure_origin(origin)?;
			Validators::<T>::try_mutate(|validators| {
				let position =
					validators.iter().position(|v| v == &who).ok_or(Error::<T>::NotValidator)?;
				ensure!(
					validators.len() > T::MinValidators::get() as usize,
					Error::<T>::TooFewValidators
				);
				validators.remove(position);
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::ValidatorRemoved { who });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The listed validators that have session keys, if they are at least `MinValidators`
		/// (and at least one).
		pub fn next_set() -> Option<Vec<T::AccountId>> {
			let set: Vec<T::AccountId> = Validators::<T>::get()
				.into_iter()
				.filter(|who| pallet_session::NextKeys::<T>::contains_key(who))
				.collect();
			let least = T::MinValidators::get().max(1) as usize;
			(set.len() >= least).then_some(set)
		}
	}

	impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
		fn new_session(new_index: u32) -> Option<Vec<T::AccountId>> {
			let set = Self::next_set()?;
			// Only a changed set is handed over: an unchanged one would make GRANDPA look for
			// a new authority set every session.
			let queued: Vec<T::AccountId> =
				pallet_session::QueuedKeys::<T>::get().into_iter().map(|(who, _)| who).collect();
			if set == queued {
				return None;
			}
			Self::deposit_event(Event::NextSetChosen {
				session: new_index,
				validators: u32::try_from(set.len()).unwrap_or(u32::MAX),
			});
			Some(set)
		}

		fn new_session_genesis(_new_index: u32) -> Option<Vec<T::AccountId>> {
			Self::next_set()
		}

		fn end_session(_end_index: u32) {}

		fn start_session(_start_index: u32) {}
	}
}
