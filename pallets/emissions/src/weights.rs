//! Weights for `pallet_emissions`.
//!
//! PLACEHOLDERS until the benchmark CLI replaces them (`scripts/bench-weights.sh
//! pallet_emissions`, writing `runtime/src/weights/pallet_emissions.rs`). Estimated, by the
//! method `pallet_inference`'s defaults use, from this pallet's `frame_benchmarking::v2`
//! benchmarks run in the mock runtime:
//!
//! - Ref time: `cargo test --release -p pallet-emissions --features runtime-benchmarks --
//!   --ignored --nocapture print_call_timings` times each benchmark (worst case, median of 201
//!   runs) natively on in-memory storage; each figure is that median times 4, rounded up to the
//!   next 5 µs.
//! - Storage: the reads and writes each function makes, counted from the code (listed per
//!   function) and charged at `T::DbWeight`.
//! - Proof size: 0, as in the other pallets (a solochain without proof-size limits).

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]
#![allow(dead_code)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions needed for `pallet_emissions`.
pub trait WeightInfo {
	fn claim() -> Weight;
	fn set_stream_shares() -> Weight;
	fn set_curve() -> Weight;
	fn on_initialize_idle() -> Weight;
	fn on_initialize_era() -> Weight;
	fn note() -> Weight;
	fn note_many(n: u32, s: u32) -> Weight;
}

/// Weights for `pallet_emissions` on the runtime's database.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: crate::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Emissions::Schedule` (r:1 w:0)
	/// Storage: `Emissions::Activity` (r:4 w:4) one per stream
	/// Storage: `Emissions::Eras` (r:4 w:4) one per stream's era
	/// Storage: `Emissions::Rewards` (r:2 w:2) the claimant and the treasury
	/// Storage: `Emissions::Claimed` (r:1 w:1)
	/// Storage: `Emissions::Pools` (r:1 w:1)
	/// Storage: `System::Account` (r:2 w:2) the pot and the claimant
	fn claim() -> Weight {
		Weight::from_parts(CLAIM, 0)
			.saturating_add(T::DbWeight::get().reads(15_u64))
			.saturating_add(T::DbWeight::get().writes(14_u64))
	}
	/// Storage: `Emissions::CurrentShares` (r:0 w:1)
	fn set_stream_shares() -> Weight {
		Weight::from_parts(SET_STREAM_SHARES, 0)
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Emissions::CurrentCurve` (r:0 w:1)
	fn set_curve() -> Weight {
		Weight::from_parts(SET_CURVE, 0)
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Emissions::Schedule` (r:1 w:0)
	fn on_initialize_idle() -> Weight {
		Weight::from_parts(ON_INITIALIZE_IDLE, 0)
			.saturating_add(T::DbWeight::get().reads(1_u64))
	}
	/// Storage: `Emissions::Schedule` (r:1 w:1)
	/// Storage: `Emissions::CurrentCurve` (r:1 w:0)
	/// Storage: `Emissions::CurrentShares` (r:1 w:0)
	/// Storage: `Emissions::Pools` (r:1 w:1)
	/// Storage: `Emissions::Eras` (r:1 w:1)
	/// Storage: `Emissions::Rewards` (r:1 w:1) the treasury
	/// Storage: `System::Account` (r:3 w:3) both pools and the pot
	fn on_initialize_era() -> Weight {
		Weight::from_parts(ON_INITIALIZE_ERA, 0)
			.saturating_add(T::DbWeight::get().reads(9_u64))
			.saturating_add(T::DbWeight::get().writes(7_u64))
	}
	/// Storage: `Emissions::Schedule` (r:1 w:0)
	/// Storage: `Emissions::Activity` (r:1 w:1)
	/// Storage: `Emissions::Eras` (r:2 w:2) the settled era and the open era
	/// Storage: `Emissions::Rewards` (r:2 w:2) the account and the treasury
	fn note() -> Weight {
		Weight::from_parts(NOTE, 0)
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Emissions::Schedule` (r:1 w:0)
	/// Storage: `Emissions::Eras` (r:1 w:1) the open era
	/// Storage: `Emissions::Activity` (r:1 w:1) per account
	/// Per settling account: `Emissions::Eras` (r:1 w:1), `Emissions::Rewards` (r:2 w:2)
	fn note_many(n: u32, s: u32) -> Weight {
		Weight::from_parts(NOTE_MANY, 0)
			.saturating_add(Weight::from_parts(NOTE_MANY_PER_ACCOUNT, 0).saturating_mul(n.into()))
			.saturating_add(Weight::from_parts(NOTE_MANY_PER_SETTLING, 0).saturating_mul(s.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().reads((4_u64).saturating_mul(s.into())))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((4_u64).saturating_mul(s.into())))
	}
}

// For tests and other runtimes.
impl WeightInfo for () {
	fn claim() -> Weight {
		Weight::from_parts(CLAIM, 0)
			.saturating_add(RocksDbWeight::get().reads(15_u64))
			.saturating_add(RocksDbWeight::get().writes(14_u64))
	}
	fn set_stream_shares() -> Weight {
		Weight::from_parts(SET_STREAM_SHARES, 0)
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn set_curve() -> Weight {
		Weight::from_parts(SET_CURVE, 0)
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn on_initialize_idle() -> Weight {
		Weight::from_parts(ON_INITIALIZE_IDLE, 0)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
	}
	fn on_initialize_era() -> Weight {
		Weight::from_parts(ON_INITIALIZE_ERA, 0)
			.saturating_add(RocksDbWeight::get().reads(9_u64))
			.saturating_add(RocksDbWeight::get().writes(7_u64))
	}
	fn note() -> Weight {
		Weight::from_parts(NOTE, 0)
			.saturating_add(RocksDbWeight::get().reads(6_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
	}
	fn note_many(n: u32, s: u32) -> Weight {
		Weight::from_parts(NOTE_MANY, 0)
			.saturating_add(Weight::from_parts(NOTE_MANY_PER_ACCOUNT, 0).saturating_mul(n.into()))
			.saturating_add(Weight::from_parts(NOTE_MANY_PER_SETTLING, 0).saturating_mul(s.into()))
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().reads((4_u64).saturating_mul(s.into())))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
			.saturating_add(RocksDbWeight::get().writes((1_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes((4_u64).saturating_mul(s.into())))
	}
}

// Ref times in picoseconds (see the module docs for how they were estimated). Medians measured
// (ns): claim 104,775; set_stream_shares 9,788; set_curve 9,879; on_initialize_idle 1,132;
// on_initialize_era 137,937; note 17,062.
const CLAIM: u64 = 420_000_000;
const SET_STREAM_SHARES: u64 = 40_000_000;
const SET_CURVE: u64 = 40_000_000;
const ON_INITIALIZE_IDLE: u64 = 5_000_000;
const ON_INITIALIZE_ERA: u64 = 555_000_000;
const NOTE: u64 = 70_000_000;
// `note_many`: not timed in the mock; the era record's update and the per-account parts of
// `note` (its 17 µs median covers a settling account), times 4 as above.
const NOTE_MANY: u64 = 20_000_000;
const NOTE_MANY_PER_ACCOUNT: u64 = 25_000_000;
const NOTE_MANY_PER_SETTLING: u64 = 50_000_000;
