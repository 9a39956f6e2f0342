//! Benchmarks for every call and for the job hooks, each in its worst case: the longest fields,
//! a fine-tune that adds to an existing model with the most workers to draw from, a result that
//! creates a model and lists the most workers.

#![cfg(feature = "runtime-benchmarks")]

use crate::{traits::Inspect, *};
use alloc::{vec, vec::Vec};
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect as _, Mutate},
		Get,
	},
	BoundedVec,
};
use frame_system::RawOrigin;
use pallet_compute::{
	traits::{JobCreator, JobHooks},
	JobId, JobKind,
};
use pallet_datanets::traits::DatanetsInspect;
use sp_core::H256;
use sp_runtime::traits::{Saturating, StaticLookup};

const SEED: u32 = 0;

fn assert_last_event<T: Config>(event: Event<T>) {
	let event: <T as Config>::RuntimeEvent = event.into();
	frame_system::Pallet::<T>::assert_last_event(event.into());
}

/// Enough for any deposit and fee a benchmark asks for.
fn plenty<T: Config>() -> BalanceOf<T> {
	let (fee, _, _) = T::Jobs::benchmark_job_terms();
	T::BaseModelDeposit::get()
		.saturating_add(fee)
		.saturating_mul(1_000u32.into())
		.saturating_add(T::Currency::minimum_balance())
}

fn funded<T: Config>(name: &'static str) -> T::AccountId {
	let who = account(name, 0, SEED);
	T::Currency::set_balance(&who, plenty::<T>());
	who
}

fn max_bytes(len: u32) -> Vec<u8> {
	vec![b'x'; len as usize]
}

/// Hyperparameters at their largest.
fn hyper<T: Config>() -> LoraHyperparams {
	LoraHyperparams {
		rank: 64,
		alpha: 1024,
		dropout_permille: 500,
		targets: targets::ALL,
		learning_rate_micro: 100_000,
		warmup_steps: T::MaxTrainSteps::get(),
		steps: T::MaxTrainSteps::get(),
		batch_size: 64,
		grad_accum: 64,
		seq_len: 2048,
		heldout_permille: 500,
		seed: u64::MAX,
	}
}

/// Registers a base model of `owner` with the longest fields.
fn base_model<T: Config>(owner: &T::AccountId) -> Result<BaseModelId, BenchmarkError> {
	Ok(Pallet::<T>::do_register_base_model(
		owner.clone(),
		max_bytes(T::MaxNameLen::get()),
		H256::repeat_byte(0xba),
		max_bytes(T::MaxArchitectureLen::get()),
		u64::MAX,
		max_bytes(T::MaxLicenseLen::get()),
	)?)
}

/// Writes a model of `owner` on `base` with `versions` versions directly.
fn model<T: Config>(owner: &T::AccountId, base: BaseModelId, versions: u32) -> ModelId {
	let id = NextModelId::<T>::get();
	NextModelId::<T>::put(id.saturating_add(1));
	let now = frame_system::Pallet::<T>::block_number();
	let workers: Vec<T::AccountId> =
		(0..T::MaxVersionWorkers::get()).map(|i| account("worker", i, SEED)).collect();
	for version in 1..=versions {
		ModelVersions::<T>::insert(
			id,
			version,
			ModelVersion {
				base,
				base_hash: H256::repeat_byte(0xba),
				snapshot: 0,
				snapshot_root: H256::zero(),
				adapter_hash: H256::repeat_byte(1),
				config_hash: H256::repeat_byte(2),
				attribution_index: H256::repeat_byte(3),
				hyper: hyper::<T>(),
				metrics: TrainMetrics {
					train_examples: 1,
					heldout_examples: 1,
					heldout_loss_before_micro: 2,
					heldout_loss_after_micro: 1,
					steps: 1,
				},
				workers: BoundedVec::truncate_from(workers.clone()),
				job: 0,
				created_at: now,
			},
		);
	}
	ModelRecords::<T>::insert(
		id,
		Model {
			owner: owner.clone(),
			base,
			name: Some(BoundedVec::truncate_from(max_bytes(T::MaxNameLen::get()))),
			status: ModelStatus::Draft,
			versions,
			active: Some(1),
			created_at: now,
		},
	);
	id
}

/// A pending fine-tune of a new model, for job `job`, with the spec its job would carry.
fn pending<T: Config>(
	requester: &T::AccountId,
	job: JobId,
) -> Result<(BaseModelId, Vec<u8>), BenchmarkError> {
	let base = base_model::<T>(requester)?;
	let snapshot = T::Datanets::benchmark_snapshot(requester, 1)?;
	let snapshot_root = T::Datanets::snapshot_root(snapshot).ok_or(BenchmarkError::Weightless)?;
	PendingFinetunes::<T>::insert(
		job,
		Finetune { requester: requester.clone(), base, snapshot, hyper: hyper::<T>(), model: None },
	);
	let spec = TrainSpec {
		base,
		base_hash: H256::repeat_byte(0xba),
		snapshot,
		snapshot_root,
		hyper: hyper::<T>(),
		agreement: Agreement::HeldOutLoss { tolerance_ppm: bounds::MAX_LOSS_TOLERANCE_PPM },
	};
	Ok((base, spec.encode()))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_base_model() -> Result<(), BenchmarkError> {
		let who = funded::<T>("owner");
		let hash = H256::repeat_byte(0xba);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(who.clone()),
			max_bytes(T::MaxNameLen::get()),
			hash,
			max_bytes(T::MaxArchitectureLen::get()),
			u64::MAX,
			max_bytes(T::MaxLicenseLen::get()),
		);

		assert_last_event::<T>(Event::BaseModelRegistered {
			base: 0,
			owner: who,
			content_hash: hash,
			deposit: T::BaseModelDeposit::get(),
		});
		Ok(())
	}

	/// A new version of an existing model, drawing from the most workers compute allows.
	#[benchmark]
	fn request_finetune() -> Result<(), BenchmarkError> {
		let who = funded::<T>("requester");
		let base = base_model::<T>(&who)?;
		let snapshot = T::Datanets::benchmark_snapshot(&who, 1)?;
		T::Currency::set_balance(&who, plenty::<T>());
		let existing = model::<T>(&who, base, T::MaxVersionsPerModel::get().saturating_sub(1));
		T::Jobs::benchmark_register_workers(u32::MAX)?;
		let (fee, replication, timeout) = T::Jobs::benchmark_job_terms();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(who.clone()),
			base,
			snapshot,
			hyper::<T>(),
			Agreement::HeldOutLoss { tolerance_ppm: bounds::MAX_LOSS_TOLERANCE_PPM },
			fee,
			replication,
			timeout,
			Some(existing),
		);

		assert_eq!(PendingFinetunes::<T>::count(), 1);
		Ok(())
	}

	#[benchmark]
	fn publish() -> Result<(), BenchmarkError> {
		let who = funded::<T>("owner");
		let base = base_model::<T>(&who)?;
		let id = model::<T>(&who, base, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), id);

		assert_last_event::<T>(Event::ModelPublished { model: id });
		Ok(())
	}

	#[benchmark]
	fn deprecate() -> Result<(), BenchmarkError> {
		let who = funded::<T>("owner");
		let base = base_model::<T>(&who)?;
		let id = model::<T>(&who, base, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), id);

		assert_last_event::<T>(Event::ModelDeprecated { model: id });
		Ok(())
	}

	#[benchmark]
	fn transfer_model() -> Result<(), BenchmarkError> {
		let who = funded::<T>("owner");
		let to: T::AccountId = account("recipient", 0, SEED);
		let base = base_model::<T>(&who)?;
		let id = model::<T>(&who, base, 1);
		let lookup = T::Lookup::unlookup(to.clone());

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), id, lookup);

		assert_eq!(Pallet::<T>::model_owner(id), Some(to));
		Ok(())
	}

	#[benchmark]
	fn set_active_version() -> Result<(), BenchmarkError> {
		let who = funded::<T>("owner");
		let base = base_model::<T>(&who)?;
		let versions = T::MaxVersionsPerModel::get().max(2);
		let id = model::<T>(&who, base, versions);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), id, versions);

		assert_last_event::<T>(Event::ActiveVersionSet { model: id, version: versions });
		Ok(())
	}

	#[benchmark]
	fn set_model_name() -> Result<(), BenchmarkError> {
		let who = funded::<T>("owner");
		let base = base_model::<T>(&who)?;
		let id = model::<T>(&who, base, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), id, Some(max_bytes(T::MaxNameLen::get())));

		assert!(ModelRecords::<T>::get(id).is_some_and(|m| m.name.is_some()));
		Ok(())
	}

	/// A valid result that creates a model, listing the most workers.
	#[benchmark]
	fn on_completed() -> Result<(), BenchmarkError> {
		let requester = funded::<T>("requester");
		let job: JobId = 7;
		let (_, spec) = pending::<T>(&requester, job)?;
		let payload = TrainResult {
			adapter_hash: H256::repeat_byte(1),
			config_hash: H256::repeat_byte(2),
			train_examples: u32::MAX,
			heldout_examples: u32::MAX,
			heldout_loss_before_micro: u64::MAX,
			heldout_loss_after_micro: u64::MAX,
			steps: u32::MAX,
			attribution_index: H256::repeat_byte(3),
		}
		.encode();
		let outcome = H256(sp_io::hashing::blake2_256(&payload));
		let workers: Vec<T::AccountId> =
			(0..T::MaxVersionWorkers::get()).map(|i| account("worker", i, SEED)).collect();

		#[block]
		{
			<Pallet<T> as JobHooks<T::AccountId>>::on_completed(
				job,
				&requester,
				JobKind::Train,
				&spec,
				outcome,
				&payload,
				&workers,
			);
		}

		assert!(Pallet::<T>::model_version(0, 1).is_some());
		Ok(())
	}

	#[benchmark]
	fn on_failed() -> Result<(), BenchmarkError> {
		let requester = funded::<T>("requester");
		let job: JobId = 7;
		let (_, spec) = pending::<T>(&requester, job)?;

		#[block]
		{
			<Pallet<T> as JobHooks<T::AccountId>>::on_failed(
				job,
				&requester,
				JobKind::Train,
				&spec,
			);
		}

		assert_last_event::<T>(Event::FinetuneFailed { job });
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
