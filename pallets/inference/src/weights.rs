//! Weights for `pallet_inference`.
//!
//! PLACEHOLDERS until the benchmark CLI replaces them: the runtime's weights are to be generated
//! from `benchmarking.rs` on the wasm runtime (`scripts/bench-weights.sh`, writing
//! `runtime/src/weights/pallet_inference.rs`). These are the defaults for other runtimes and the
//! pallet's mock, estimated without the CLI from the same `frame_benchmarking::v2` benchmarks
//! run in the mock runtime, by the method `pallet_compute`'s weights use:
//!
//! - Ref time: `cargo test --release -p pallet-inference --features runtime-benchmarks --
//!   --ignored --nocapture print_call_timings` times each benchmark's call (worst case, median of
//!   101 runs) natively on in-memory storage. Each figure below is that median times 4, rounded
//!   up to the next 5 µs, to cover Wasm execution and slower reference hardware. The sr25519
//!   verification that dominates a receipt is a host function, so it runs natively in Wasm too.
//!   `submit_receipts` is `base + n * per_receipt`, both from `n = 1` and `n = 4`:
//!   `per_receipt = (t(4) - t(1)) / 3`, `base = t(1) - per_receipt`. `request_inference` is
//!   timed with the mock's job creator, which does nothing: `SubstrateWeight` adds compute's
//!   `create_job` weight (`JobCreator::create_job_weight`) to it; the CLI-generated weight
//!   measures the real one as part of the call.
//! - Storage: the reads and writes each call makes, counted from the code (listed per function)
//!   and charged at `T::DbWeight`; in-memory timings include no database cost.
//! - Proof size: 0, as in `pallet_compute` (OpenLedger is a solochain whose blocks have no
//!   proof-size limit); the CLI-generated weights carry it.
//!
//! Measured: 2026-11-23 on `AMD EPYC` (2 cores).

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]
#![allow(dead_code)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use pallet_compute::traits::JobCreator;
use core::marker::PhantomData;

/// Weight functions needed for `pallet_inference`.
pub trait WeightInfo {
	fn deposit() -> Weight;
	fn request_withdrawal() -> Weight;
	fn withdraw() -> Weight;
	fn set_price() -> Weight;
	fn clear_price() -> Weight;
	fn submit_receipts(n: u32) -> Weight;
	fn request_inference() -> Weight;
	fn on_completed() -> Weight;
	fn on_failed() -> Weight;
}

/// Weights for `pallet_inference` on the runtime's database.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: crate::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Inference::Deposits` (r:1 w:1)
	/// Storage: `System::Account` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	fn deposit() -> Weight {
		// Measured median: 25_318 ns (native, in-memory).
		Weight::from_parts(105_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Inference::Deposits` (r:1 w:1)
	fn request_withdrawal() -> Weight {
		// Measured median: 11_547 ns (native, in-memory).
		Weight::from_parts(80_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Inference::Deposits` (r:1 w:1)
	/// Storage: `System::Account` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	fn withdraw() -> Weight {
		// Measured median: 22_454 ns (native, in-memory).
		Weight::from_parts(90_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Models::ModelRecords` (r:1 w:0)
	/// Storage: `Inference::Prices` (r:0 w:1)
	fn set_price() -> Weight {
		// Measured median: 11_607 ns (native, in-memory).
		Weight::from_parts(50_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Models::ModelRecords` (r:1 w:0)
	/// Storage: `Inference::Prices` (r:1 w:1)
	fn clear_price() -> Weight {
		// Measured median: 10_265 ns (native, in-memory).
		Weight::from_parts(45_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Compute::Workers` (r:1 w:0)
	/// Storage: `System::BlockHash` (r:1 w:0)
	/// Per receipt:
	/// Storage: `Models::ModelVersions` (r:1 w:0)
	/// Storage: `Inference::Prices` (r:1 w:0)
	/// Storage: `Inference::Nonces` (r:1 w:1)
	/// Storage: `Inference::Deposits` (r:1 w:1)
	/// Storage: `Models::ModelRecords` (r:1 w:0)
	/// Storage: `System::Account` (r:3 w:3) (client, worker, model owner)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// The range of component `n` is `[1, MaxReceipts]`.
	fn submit_receipts(n: u32) -> Weight {
		let n = u64::from(n);
		// Measured medians: 107_039 ns at n = 1, 322_902 ns at n = 4 (native, in-memory):
		// 71_955 ns per receipt, 35_084 ns base.
		Weight::from_parts(145_000_000, 0)
			.saturating_add(Weight::from_parts(290_000_000, 0).saturating_mul(n))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().reads(9_u64.saturating_mul(n)))
			.saturating_add(T::DbWeight::get().writes(6_u64.saturating_mul(n)))
	}
	/// Storage: `Inference::CounterForPendingInfers` (r:1 w:1)
	/// Storage: `Models::ModelRecords` (r:1 w:0)
	/// Storage: `Models::ModelVersions` (r:1 w:0)
	/// Storage: `Inference::Prices` (r:1 w:0)
	/// Storage: `System::Account` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `Inference::PendingInfers` (r:1 w:1)
	/// And compute's `create_job` (`JobCreator::create_job_weight`), which the CLI-generated
	/// weight measures as part of the call.
	fn request_inference() -> Weight {
		// Measured median: 27_081 ns (native, in-memory, a `MaxPromptLen` prompt, the
		// mock's job creator).
		Weight::from_parts(110_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(7_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
			.saturating_add(T::Jobs::create_job_weight())
	}
	/// Storage: `Inference::PendingInfers` (r:1 w:1)
	/// Storage: `Inference::CounterForPendingInfers` (r:1 w:1)
	/// Storage: `Models::ModelRecords` (r:1 w:0)
	/// Storage: `System::Account` (r:2 w:2) (requester, model owner)
	/// Storage: `Balances::Holds` (r:1 w:1)
	fn on_completed() -> Weight {
		// Measured median: 55_502 ns (native, in-memory, a 4,000-byte completion).
		Weight::from_parts(225_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Inference::PendingInfers` (r:1 w:1)
	/// Storage: `Inference::CounterForPendingInfers` (r:1 w:1)
	/// Storage: `System::Account` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	fn on_failed() -> Weight {
		// Measured median: 19_849 ns (native, in-memory).
		Weight::from_parts(80_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
}

// For tests.
impl WeightInfo for () {
	fn deposit() -> Weight {
		Weight::from_parts(105_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn request_withdrawal() -> Weight {
		Weight::from_parts(50_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn withdraw() -> Weight {
		Weight::from_parts(90_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn set_price() -> Weight {
		Weight::from_parts(50_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn clear_price() -> Weight {
		Weight::from_parts(45_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn submit_receipts(n: u32) -> Weight {
		let n = u64::from(n);
		Weight::from_parts(145_000_000, 0)
			.saturating_add(Weight::from_parts(290_000_000, 0).saturating_mul(n))
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().reads(9_u64.saturating_mul(n)))
			.saturating_add(RocksDbWeight::get().writes(6_u64.saturating_mul(n)))
	}
	fn request_inference() -> Weight {
		Weight::from_parts(110_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(7_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
	}
	fn on_completed() -> Weight {
		Weight::from_parts(225_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(6_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
	}
	fn on_failed() -> Weight {
		Weight::from_parts(80_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
}
