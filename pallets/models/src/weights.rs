//! Weights for `pallet_models`.
//!
//! Hand-estimated defaults until the benchmark CLI regenerates the runtime's weights from
//! `benchmarking.rs` (`scripts/bench-weights.sh`). Each call is a handful of reads and writes
//! plus a little SCALE work, so the ref time below is the `pallet_compute` figure for a call of
//! the same shape (its `heartbeat`, 25 µs, for one read and one write; its `register_worker`,
//! 130 µs, for a call that holds funds), and the storage is counted from the code (listed per
//! function) and charged at `T::DbWeight`. `request_finetune` adds what
//! [`pallet_compute::traits::JobCreator::create_job_weight`] says creating the job costs, and a
//! transfer for a per-use access fee. Proof size is 0, as in `pallet_compute` (OpenLedger is a
//! solochain without a proof-size limit).

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]
#![allow(dead_code)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;
use pallet_compute::traits::JobCreator;

/// Weight functions needed for `pallet_models`.
pub trait WeightInfo {
	fn register_base_model() -> Weight;
	fn request_finetune() -> Weight;
	fn publish() -> Weight;
	fn deprecate() -> Weight;
	fn transfer_model() -> Weight;
	fn set_active_version() -> Weight;
	fn set_model_name() -> Weight;
	fn on_completed() -> Weight;
	fn on_failed() -> Weight;
}

/// Weights for `pallet_models` on the runtime's database.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: crate::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Models::BaseModelHashes` (r:1 w:1)
	/// Storage: `Models::NextBaseModelId` (r:1 w:1)
	/// Storage: `System::Account` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `Models::BaseModels` (r:0 w:1)
	fn register_base_model() -> Weight {
		Weight::from_parts(130_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Models::BaseModels` (r:1 w:0)
	/// Storage: `Models::Models` (r:1 w:0)
	/// Storage: `Models::CounterForPendingFinetunes` (r:1 w:1)
	/// Storage: `Datanets::Snapshots` (r:1 w:0)
	/// Storage: `Datanets::DatanetRecords` (r:1 w:0)
	/// Storage: `System::Account` (r:2 w:2) (the access fee: requester, Datanet owner)
	/// Storage: `Models::PendingFinetunes` (r:1 w:1)
	/// Plus the compute job: `JobCreator::create_job_weight`.
	fn request_finetune() -> Weight {
		Weight::from_parts(130_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
			.saturating_add(T::Jobs::create_job_weight())
	}
	/// Storage: `Models::Models` (r:1 w:1)
	fn publish() -> Weight {
		Weight::from_parts(25_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1)
	fn deprecate() -> Weight {
		Weight::from_parts(25_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1)
	fn transfer_model() -> Weight {
		Weight::from_parts(25_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1)
	fn set_active_version() -> Weight {
		Weight::from_parts(25_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1)
	fn set_model_name() -> Weight {
		Weight::from_parts(25_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Models::PendingFinetunes` (r:1 w:1)
	/// Storage: `Models::CounterForPendingFinetunes` (r:1 w:1)
	/// Storage: `Models::NextModelId` (r:1 w:1)
	/// Storage: `Models::Models` (r:0 w:1)
	/// Storage: `Models::ModelVersions` (r:0 w:1)
	/// Worst case: a new model, a version listing `MaxVersionWorkers` workers; hashing and
	/// decoding the payload.
	fn on_completed() -> Weight {
		Weight::from_parts(60_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Models::PendingFinetunes` (r:1 w:1)
	/// Storage: `Models::CounterForPendingFinetunes` (r:1 w:1)
	fn on_failed() -> Weight {
		Weight::from_parts(25_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
}

// For tests.
impl WeightInfo for () {
	fn register_base_model() -> Weight {
		Weight::from_parts(130_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(4_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
	}
	fn request_finetune() -> Weight {
		Weight::from_parts(130_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(8_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	fn publish() -> Weight {
		Weight::from_parts(25_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn deprecate() -> Weight {
		Weight::from_parts(25_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn transfer_model() -> Weight {
		Weight::from_parts(25_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn set_active_version() -> Weight {
		Weight::from_parts(25_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn set_model_name() -> Weight {
		Weight::from_parts(25_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn on_completed() -> Weight {
		Weight::from_parts(60_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
	}
	fn on_failed() -> Weight {
		Weight::from_parts(25_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
}
