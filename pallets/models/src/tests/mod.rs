//! Unit tests, one file per area. Every test runs through [`run`], which checks the pallet's
//! invariants (`try_state`) after the test body. The tests drive the whole flow through the
//! mock's real Datanets and Compute pallets.

#![allow(
	clippy::arithmetic_side_effects,
	clippy::expect_used,
	clippy::indexing_slicing,
	clippy::panic,
	clippy::unwrap_used
)]

mod base_models;
mod finetune;
mod inspect;
mod issuance;
mod management;
mod results;

use crate::{mock::*, *};
use codec::Encode;
use frame_support::{assert_ok, traits::Get, BoundedVec};
use pallet_compute::{Backend, Capabilities, JobId, JobKind};
use pallet_datanets::{
	AccessPolicy, AccessPolicyOf, ContributionRules, DatanetId, SnapshotId, Verdict,
};
use sp_core::H256;

pub use crate::mock::run;

/// A bounded byte string from a literal.
pub fn bytes<S: Get<u32>>(value: &[u8]) -> BoundedVec<u8, S> {
	value.to_vec().try_into().expect("test value fits its bound")
}

/// Registers `workers` as GPU workers that run every job kind, with the minimum stake.
pub fn register_workers(workers: &[AccountId]) {
	let capabilities = Capabilities {
		backend: Backend::Cuda,
		gpu_memory_mib: 24_576,
		max_resident_adapters: 8,
		job_kinds: JobKind::all_bits(),
	};
	for who in workers {
		assert_ok!(Compute::register_worker(RuntimeOrigin::signed(*who), MIN_STAKE, capabilities));
	}
}

/// A Datanet of [`DATA_OWNER`] with `access`, two accepted contributions and one snapshot.
pub fn snapshot_with(access: AccessPolicyOf<Test>) -> (DatanetId, SnapshotId) {
	let datanet = pallet_datanets::NextDatanetId::<Test>::get();
	let media: pallet_datanets::MediaTypeOf<Test> = bytes(b"text/plain");
	assert_ok!(Datanets::create_datanet(
		RuntimeOrigin::signed(DATA_OWNER),
		bytes(b"Solidity audits"),
		bytes(b"Audited contracts"),
		Default::default(),
		bytes(b"CC-BY-4.0"),
		ContributionRules {
			max_bytes: 1_000,
			media_types: vec![media.clone()].try_into().unwrap()
		},
		access,
	));
	for n in 0..2u64 {
		let contribution = pallet_datanets::NextContributionId::<Test>::get();
		assert_ok!(Datanets::contribute(
			RuntimeOrigin::signed(CONTRIBUTOR),
			datanet,
			H256(sp_io::hashing::blake2_256(&(datanet, n).encode())),
			100,
			media.clone(),
			Default::default(),
			Default::default(),
		));
		assert_ok!(Datanets::curate(
			RuntimeOrigin::signed(DATA_OWNER),
			contribution,
			Verdict::Accept
		));
	}
	let snapshot = pallet_datanets::NextSnapshotId::<Test>::get();
	assert_ok!(Datanets::snapshot(RuntimeOrigin::signed(DATA_OWNER), datanet));
	(datanet, snapshot)
}

/// A public snapshot.
pub fn public_snapshot() -> SnapshotId {
	snapshot_with(AccessPolicy::Public).1
}

/// The content hash of made-up model file number `n`.
pub fn model_file(n: u8) -> H256 {
	H256(sp_io::hashing::blake2_256(&[b'g', b'g', b'u', b'f', n]))
}

/// [`ALICE`] registers base model file `n`.
pub fn register_base(n: u8) -> BaseModelId {
	let id = NextBaseModelId::<Test>::get();
	assert_ok!(Models::register_base_model(
		RuntimeOrigin::signed(ALICE),
		b"SmolLM2-135M".to_vec(),
		model_file(n),
		b"llama".to_vec(),
		134_515_008,
		b"apache-2.0".to_vec(),
	));
	id
}

/// Hyperparameters inside every bound.
pub fn hyper() -> LoraHyperparams {
	LoraHyperparams {
		rank: 8,
		alpha: 16,
		dropout_permille: 50,
		targets: targets::Q_PROJ | targets::V_PROJ,
		learning_rate_micro: 200,
		warmup_steps: 10,
		steps: 100,
		batch_size: 4,
		grad_accum: 2,
		seq_len: 256,
		heldout_permille: 100,
		seed: 42,
	}
}

pub const FEE: Balance = 300;
pub const TIMEOUT: u64 = 10;

/// `who` asks for a fine-tune with [`FEE`] and [`TIMEOUT`], bit-for-bit agreement; returns
/// the job.
pub fn request(
	who: AccountId,
	base: BaseModelId,
	snapshot: SnapshotId,
	replication: u8,
	model: Option<ModelId>,
) -> JobId {
	request_agreeing(who, base, snapshot, replication, model, Agreement::Exact)
}

/// [`request`] with an agreement rule.
pub fn request_agreeing(
	who: AccountId,
	base: BaseModelId,
	snapshot: SnapshotId,
	replication: u8,
	model: Option<ModelId>,
	agreement: Agreement,
) -> JobId {
	let job = pallet_compute::NextJobId::<Test>::get();
	assert_ok!(Models::request_finetune(
		RuntimeOrigin::signed(who),
		base,
		snapshot,
		hyper(),
		agreement,
		FEE,
		replication,
		TIMEOUT,
		model,
	));
	job
}

/// A training result; `n` varies the adapter.
pub fn train_result(n: u8) -> TrainResult {
	TrainResult {
		adapter_hash: H256::repeat_byte(n),
		config_hash: H256::repeat_byte(0xc0),
		train_examples: 180,
		heldout_examples: 20,
		heldout_loss_before_micro: 3_100_000,
		heldout_loss_after_micro: 2_400_000,
		steps: 100,
		attribution_index: H256::repeat_byte(0xa1),
	}
}

/// `worker` submits `payload` with its blake2-256 as the payload hash.
pub fn submit_payload(worker: AccountId, job: JobId, payload: Vec<u8>) {
	let hash = H256(sp_io::hashing::blake2_256(&payload));
	assert_ok!(Compute::submit_result(RuntimeOrigin::signed(worker), job, hash, payload));
}

/// Every worker assigned to `job` submits `result`.
pub fn complete_with(job: JobId, result: TrainResult) {
	for worker in assigned(job) {
		submit_payload(worker, job, result.encode());
	}
}

pub fn assigned(job: JobId) -> Vec<AccountId> {
	pallet_compute::Jobs::<Test>::get(job).expect("the job exists").assigned.into_inner()
}

/// Registers three workers, base model 0 and a public snapshot, then runs one fine-tune by
/// [`ALICE`] to completion (replication 1). Returns `(base, snapshot, model)`.
pub fn trained_model() -> (BaseModelId, SnapshotId, ModelId) {
	register_workers(&[W1, W2, W3]);
	let base = register_base(0);
	let snapshot = public_snapshot();
	let model = NextModelId::<Test>::get();
	let job = request(ALICE, base, snapshot, 1, None);
	complete_with(job, train_result(1));
	assert!(ModelRecords::<Test>::contains_key(model));
	(base, snapshot, model)
}

/// Adds a version to `model` (which [`ALICE`] owns) through a completed fine-tune.
pub fn add_version(base: BaseModelId, snapshot: SnapshotId, model: ModelId, n: u8) {
	let job = request(ALICE, base, snapshot, 1, Some(model));
	complete_with(job, train_result(n));
}

pub fn free(who: AccountId) -> Balance {
	Balances::free_balance(who)
}

/// This pallet's events so far.
pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Models(event) => Some(event),
			_ => None,
		})
		.collect()
}

pub fn last_event() -> Event<Test> {
	events().pop().expect("an event was emitted")
}
