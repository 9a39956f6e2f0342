//! Weights for `pallet_attribution`.
//!
//! PLACEHOLDERS until the benchmark CLI replaces them (`scripts/bench-weights.sh
//! pallet_attribution`, writing `runtime/src/weights/pallet_attribution.rs`). Estimated, by the
//! method `pallet_inference`'s defaults use, from this pallet's `frame_benchmarking::v2`
//! benchmarks run in the mock runtime:
//!
//! - Ref time: `cargo test --release -p pallet-attribution --features runtime-benchmarks --
//!   --ignored --nocapture print_call_timings` times each benchmark (worst case, median of 101
//!   runs) natively on in-memory storage; each figure is that median times 4, rounded up to the
//!   next 5 µs. `distribute` is `base + n * per_entry + w * per_worker`, from `(n, w)` at
//!   `(0, 1)`, `(MaxAttribution, 1)` and `(0, 16)`.
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

/// Weight functions needed for `pallet_attribution`.
pub trait WeightInfo {
	fn claim() -> Weight;
	fn set_params() -> Weight;
	fn distribute(n: u32, w: u32) -> Weight;
	fn distribute_batch(r: u32) -> Weight;
}

/// Weights for `pallet_attribution` on the runtime's database.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: crate::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Attribution::Rewards` (r:1 w:1)
	/// Storage: `System::Account` (r:2 w:2)
	fn claim() -> Weight {
		Weight::from_parts(120_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Attribution::CurrentParams` (r:0 w:1)
	fn set_params() -> Weight {
		Weight::from_parts(20_000_000, 0)
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Attribution::CurrentParams` (r:1 w:0)
	/// Storage: `Models::ModelRecords` (r:1 w:0)
	/// Storage: `Models::ModelVersions` (r:1 w:0)
	/// Storage: `Datanets::Snapshots` (r:1 w:0)
	/// Storage: `Attribution::Rewards` (r:2 w:2) owner and treasury
	/// Storage: `Attribution::VersionRecords` (r:1 w:1)
	/// Per entry `n`: `Datanets::Contributions` (r:1), `Attribution::Rewards` (r:1 w:1),
	/// `Attribution::ContributionRecords` (r:1 w:1).
	/// Per worker `w`: `Attribution::Rewards` (r:1 w:1).
	fn distribute(n: u32, w: u32) -> Weight {
		Weight::from_parts(60_000_000, 0)
			.saturating_add(Weight::from_parts(25_000_000, 0).saturating_mul(n.into()))
			.saturating_add(Weight::from_parts(10_000_000, 0).saturating_mul(w.into()))
			.saturating_add(T::DbWeight::get().reads(7_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().reads(w.into()))
			.saturating_add(T::DbWeight::get().writes(3_u64))
			.saturating_add(T::DbWeight::get().writes((2_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(w.into()))
	}
	/// `r` fees of one version served by one worker, each with 4 entries of different
	/// contributors: per fee the reads of a split, per contribution a contributor's rewards and
	/// the contribution's record; the owner, worker, treasury and version once.
	fn distribute_batch(r: u32) -> Weight {
		Weight::from_parts(60_000_000, 0)
			.saturating_add(Weight::from_parts(110_000_000, 0).saturating_mul(r.into()))
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().reads((12_u64).saturating_mul(r.into())))
			.saturating_add(T::DbWeight::get().writes(4_u64))
			.saturating_add(T::DbWeight::get().writes((8_u64).saturating_mul(r.into())))
	}
}

// For tests and other runtimes.
impl WeightInfo for () {
	fn claim() -> Weight {
		Weight::from_parts(120_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn set_params() -> Weight {
		Weight::from_parts(20_000_000, 0)
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn distribute(n: u32, w: u32) -> Weight {
		Weight::from_parts(60_000_000, 0)
			.saturating_add(Weight::from_parts(25_000_000, 0).saturating_mul(n.into()))
			.saturating_add(Weight::from_parts(10_000_000, 0).saturating_mul(w.into()))
			.saturating_add(RocksDbWeight::get().reads(7_u64))
			.saturating_add(RocksDbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().reads(w.into()))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
			.saturating_add(RocksDbWeight::get().writes((2_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes(w.into()))
	}
	fn distribute_batch(r: u32) -> Weight {
		Weight::from_parts(60_000_000, 0)
			.saturating_add(Weight::from_parts(110_000_000, 0).saturating_mul(r.into()))
			.saturating_add(RocksDbWeight::get().reads(8_u64))
			.saturating_add(RocksDbWeight::get().reads((12_u64).saturating_mul(r.into())))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
			.saturating_add(RocksDbWeight::get().writes((8_u64).saturating_mul(r.into())))
	}
}
