//! Placeholder until `./scripts/bench-weights.sh pallet_validators` regenerates this file.

#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::Weight};

/// Weight functions for `pallet_validators`.
pub struct WeightInfo<T>(PhantomData<T>);
impl<T: frame_system::Config> pallet_validators::WeightInfo for WeightInfo<T> {
	fn add_validator() -> Weight {
		Weight::from_parts(20_000_000, 3_500).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
	fn remove_validator() -> Weight {
		Weight::from_parts(20_000_000, 3_500).saturating_add(T::DbWeight::get().reads_writes(1, 1))
	}
}
