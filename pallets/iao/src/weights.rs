//! Weights for `pallet_iao`.
//!
//! PLACEHOLDERS until the benchmark CLI replaces them (`scripts/bench-weights.sh pallet_iao`,
//! writing `runtime/src/weights/pallet_iao.rs`). Estimated by the method of the other
//! pallets' defaults: the `frame_benchmarking::v2` benchmarks of every call (`benchmarking.rs`,
//! worst case of each: a full tranche schedule, a finalize that releases the first tranche,
//! claims and transfers that account new revenue, an execute that releases a tranche) set the
//! shape; ref time is a generous estimate of their native time times 4, rounded up to the next
//! 5 µs; storage is the reads and writes each call makes, counted from the code (listed per
//! function) and charged at `T::DbWeight`; proof size is 0, as in the other pallets (a
//! solochain without proof-size limits).

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]
#![allow(dead_code)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions needed for `pallet_iao`.
pub trait WeightInfo {
	fn create_offering(t: u32) -> Weight;
	fn buy() -> Weight;
	fn finalize() -> Weight;
	fn claim_shares() -> Weight;
	fn refund() -> Weight;
	fn distribute_revenue() -> Weight;
	fn claim_revenue() -> Weight;
	fn transfer_shares() -> Weight;
	fn propose() -> Weight;
	fn vote() -> Weight;
	fn close() -> Weight;
	fn execute() -> Weight;
}

/// Weights for `pallet_iao` on the runtime's database.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: crate::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: Models owner (r:1), `Iao::ModelOfferings` (r:1 w:1), `Iao::NextOfferingId` (r:1 w:1), `Assets::Asset` (r:1 w:1), `System::Account` (r:3 w:3), `Iao::Offerings` (r:0 w:1); per tranche `t`: encoding only
	fn create_offering(t: u32) -> Weight {
		Weight::from_parts(120_000_000, 0)
			.saturating_add(Weight::from_parts(5_000_000, 0).saturating_mul(t.into()))
			.saturating_add(T::DbWeight::get().reads(7_u64))
			.saturating_add(T::DbWeight::get().writes(8_u64))
	}
	/// Storage: `Iao::Offerings` (r:1 w:1), `Iao::Purchases` (r:1 w:1), `System::Account` (r:2 w:2)
	fn buy() -> Weight {
		Weight::from_parts(110_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Iao::Offerings` (r:1 w:1), `System::Account` (r:2 w:2) first tranche, `Iao::ModelOfferings` (r:0 w:1) on failure
	fn finalize() -> Weight {
		Weight::from_parts(110_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Iao::Offerings` (r:1 w:1), `Iao::Purchases` (r:1 w:1), `Assets::Asset` (r:1 w:1), `Assets::Account` (r:1 w:1), `System::Account` (r:2 w:1) revenue account and the holder's sufficients, `Iao::Holdings` (r:1 w:1)
	fn claim_shares() -> Weight {
		Weight::from_parts(140_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(7_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	/// Storage: `Iao::Offerings` (r:1 w:1), `Iao::Purchases` (r:1 w:1), `System::Account` (r:2 w:2)
	fn refund() -> Weight {
		Weight::from_parts(100_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Iao::Offerings` (r:1 w:1), `System::Account` (r:1 w:0)
	fn distribute_revenue() -> Weight {
		Weight::from_parts(60_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Iao::Offerings` (r:1 w:1), `Iao::Holdings` (r:1 w:1), `System::Account` (r:2 w:2)
	fn claim_revenue() -> Weight {
		Weight::from_parts(130_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Iao::Offerings` (r:1 w:1), `Iao::Holdings` (r:2 w:2), `System::Account` (r:2 w:1), `Assets::Asset` (r:1 w:1), `Assets::Account` (r:2 w:2)
	fn transfer_shares() -> Weight {
		Weight::from_parts(170_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(7_u64))
	}
	/// Storage: `Iao::Offerings` (r:1), `Iao::Holdings` (r:1), Models version (r:1), `Iao::NextProposalId` (r:1 w:1), `Iao::OpenProposals` (r:1 w:1), `Iao::Proposals` (r:0 w:1)
	fn propose() -> Weight {
		Weight::from_parts(70_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Iao::Proposals` (r:1 w:1), `Iao::Votes` (r:1 w:1), `Iao::Holdings` (r:1 w:1)
	fn vote() -> Weight {
		Weight::from_parts(70_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Iao::Proposals` (r:1 w:1), `Iao::Offerings` (r:1), `Iao::OpenProposals` (r:1 w:1) on rejection
	fn close() -> Weight {
		Weight::from_parts(60_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Iao::Proposals` (r:1 w:1), `Iao::Offerings` (r:1 w:1), `System::Account` (r:2 w:2) or Models record (r:1 w:1), `Iao::OpenProposals` (r:1 w:1)
	fn execute() -> Weight {
		Weight::from_parts(120_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
}

// For tests and other runtimes.
impl WeightInfo for () {
	fn create_offering(t: u32) -> Weight {
		Weight::from_parts(120_000_000, 0)
			.saturating_add(Weight::from_parts(5_000_000, 0).saturating_mul(t.into()))
			.saturating_add(RocksDbWeight::get().reads(7_u64))
			.saturating_add(RocksDbWeight::get().writes(8_u64))
	}
	fn buy() -> Weight {
		Weight::from_parts(110_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	fn finalize() -> Weight {
		Weight::from_parts(110_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	fn claim_shares() -> Weight {
		Weight::from_parts(140_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(7_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn refund() -> Weight {
		Weight::from_parts(100_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	fn distribute_revenue() -> Weight {
		Weight::from_parts(60_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn claim_revenue() -> Weight {
		Weight::from_parts(130_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	fn transfer_shares() -> Weight {
		Weight::from_parts(170_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(8_u64))
			.saturating_add(RocksDbWeight::get().writes(7_u64))
	}
	fn propose() -> Weight {
		Weight::from_parts(70_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn vote() -> Weight {
		Weight::from_parts(70_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn close() -> Weight {
		Weight::from_parts(60_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn execute() -> Weight {
		Weight::from_parts(120_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
	}
}
