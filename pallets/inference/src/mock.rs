//! A test runtime: System, Balances and Inference, with real `AccountId32` accounts and
//! `MultiSignature` sr25519 signatures (as in the runtime), a fake model registry, a fake
//! worker set and a fake compute job creator kept in thread-locals, and a payout that splits
//! each fee between the workers and the model's owner and records what it is told.

#![allow(clippy::arithmetic_side_effects, clippy::expect_used, clippy::unwrap_used)]

use crate as pallet_inference;
use crate::{AttributionEntry, JobId, ModelId, VersionIndex};
use alloc::collections::{btree_map::BTreeMap, btree_set::BTreeSet};
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Contains},
	weights::Weight,
};
use pallet_compute::JobKind;
use sp_core::{sr25519, Pair};
use sp_keystore::{testing::MemoryKeystore, KeystoreExt};
use sp_runtime::{traits::IdentityLookup, AccountId32, BuildStorage, MultiSignature, MultiSigner};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = AccountId32;
pub type Balance = u128;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Inference: pallet_inference,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

parameter_types! {
	pub static ExistentialDeposit: Balance = 1;
	pub static WorkerShare: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(WORKER_PERCENT);
	pub const AttributionAgreement: sp_runtime::Perbill = sp_runtime::Perbill::from_percent(AGREEMENT_PERCENT);
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ExistentialDeposit;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const INITIAL_BALANCE: Balance = 1_000_000;
pub const WORKER_PERCENT: u32 = 70;
pub const WITHDRAW_DELAY: u64 = 10;
pub const MAX_RECEIPTS: u32 = 4;
pub const MAX_ATTRIBUTION: u32 = 4;
pub const AGREEMENT_PERCENT: u32 = 75;
/// The most weight the test payout claims per receipt, and what it uses.
pub const HOOK_MAX: Weight = Weight::from_parts(1_000, 0);
pub const HOOK_USED: Weight = Weight::from_parts(400, 0);
pub const MAX_PROMPT_LEN: u32 = 960;
pub const MAX_INFER_TOKENS: u32 = 256;
pub const MAX_PENDING_INFERS: u32 = 3;

/// The keypair behind a named test account (`//Alice`, `//Worker1`, ...).
pub fn pair(name: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(&alloc::format!("//{name}"), None).expect("a valid dev seed")
}

/// The account of [`pair`]`(name)`.
pub fn account(name: &str) -> AccountId {
	pair(name).public().into()
}

/// What the payout was told about one fee: (model, version, workers, fee, attribution).
pub type Paid =
	(ModelId, VersionIndex, alloc::vec::Vec<AccountId>, Balance, alloc::vec::Vec<AttributionEntry>);

thread_local! {
	/// Model id -> (owner, number of versions, numbered from 1).
	static MODELS: RefCell<BTreeMap<ModelId, (AccountId, VersionIndex)>> =
		const { RefCell::new(BTreeMap::new()) };
	static WORKERS: RefCell<BTreeSet<AccountId>> = const { RefCell::new(BTreeSet::new()) };
	static PAID: RefCell<alloc::vec::Vec<Paid>> = const { RefCell::new(alloc::vec::Vec::new()) };
	static JOBS: RefCell<alloc::vec::Vec<CreatedJob>> = const { RefCell::new(alloc::vec::Vec::new()) };
	static JOBS_FAIL: RefCell<bool> = const { RefCell::new(false) };
}

/// A job the fake job creator was asked for.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CreatedJob {
	pub id: JobId,
	pub requester: AccountId,
	pub kind: JobKind,
	pub spec: alloc::vec::Vec<u8>,
	pub fee: Balance,
	pub replication: u8,
	pub timeout: u64,
}

/// The jobs created so far, in order.
pub fn created_jobs() -> alloc::vec::Vec<CreatedJob> {
	JOBS.with(|j| j.borrow().clone())
}

/// Makes the fake job creator refuse (with [`JOBS_REFUSED`]) or accept every job.
pub fn set_jobs_fail(fail: bool) {
	JOBS_FAIL.with(|f| *f.borrow_mut() = fail);
}

/// What the fake job creator fails with when told to.
pub const JOBS_REFUSED: sp_runtime::DispatchError = sp_runtime::DispatchError::Other("no workers");
/// The first job id the fake job creator hands out.
pub const FIRST_JOB: JobId = 100;
/// The weight the fake job creator claims.
pub const CREATE_JOB_WEIGHT: Weight = Weight::from_parts(5_000, 0);

/// A compute job creator in a thread-local: records each job and returns ids from
/// [`FIRST_JOB`] up. Escrows nothing.
pub struct MockJobs;
impl pallet_compute::traits::JobCreator<AccountId, Balance, u64> for MockJobs {
	fn create_job(
		requester: AccountId,
		kind: JobKind,
		spec: alloc::vec::Vec<u8>,
		fee: Balance,
		replication: u8,
		timeout: u64,
	) -> Result<JobId, sp_runtime::DispatchError> {
		if JOBS_FAIL.with(|f| *f.borrow()) {
			return Err(JOBS_REFUSED);
		}
		Ok(JOBS.with(|j| {
			let mut jobs = j.borrow_mut();
			let id = FIRST_JOB + jobs.len() as JobId;
			jobs.push(CreatedJob { id, requester, kind, spec, fee, replication, timeout });
			id
		}))
	}

	fn create_job_weight() -> Weight {
		CREATE_JOB_WEIGHT
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_register_workers(n: u32) -> Result<u32, sp_runtime::DispatchError> {
		Ok(n.min(8))
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_job_terms() -> (Balance, u8, u64) {
		(10, 3, 20)
	}
}

/// Adds (or replaces) `model`, owned by `owner`, with versions `1..=versions`.
pub fn add_model(model: ModelId, owner: AccountId, versions: VersionIndex) {
	MODELS.with(|m| m.borrow_mut().insert(model, (owner, versions)));
}

/// Removes `model` from the registry.
pub fn remove_model(model: ModelId) {
	MODELS.with(|m| m.borrow_mut().remove(&model));
}

/// Makes `who` a registered worker.
pub fn add_worker(who: AccountId) {
	WORKERS.with(|w| w.borrow_mut().insert(who));
}

/// Unregisters `who`.
pub fn remove_worker(who: &AccountId) {
	WORKERS.with(|w| w.borrow_mut().remove(who));
}

/// What the hook was told so far.
pub fn paid() -> alloc::vec::Vec<Paid> {
	PAID.with(|p| p.borrow().clone())
}

/// A model registry in a thread-local.
pub struct MockModels;
impl pallet_models::traits::Inspect<AccountId> for MockModels {
	type Version = ();

	fn model_owner(model: ModelId) -> Option<AccountId> {
		MODELS.with(|m| m.borrow().get(&model).map(|(owner, _)| owner.clone()))
	}

	fn model_version(model: ModelId, version: VersionIndex) -> Option<()> {
		MODELS.with(|m| {
			m.borrow()
				.get(&model)
				.filter(|(_, versions)| version >= 1 && version <= *versions)
				.map(|_| ())
		})
	}

	fn active_version(model: ModelId) -> Option<VersionIndex> {
		MODELS.with(|m| m.borrow().get(&model).map(|(_, versions)| *versions))
	}

	fn version_snapshot(_model: ModelId, _version: VersionIndex) -> Option<u32> {
		None
	}
}

/// A worker set in a thread-local.
pub struct MockWorkers;
impl Contains<AccountId> for MockWorkers {
	fn contains(who: &AccountId) -> bool {
		WORKERS.with(|w| w.borrow().contains(who))
	}
}

/// Splits each fee: [`WorkerShare`] (rounded down) to the workers in equal parts (the first
/// takes the rounding), the rest to the model's owner; records every call.
pub struct MockPayout;
impl crate::traits::Payout<AccountId, Balance> for MockPayout {
	fn pot() -> AccountId {
		account("Pot")
	}

	fn distribute(
		model: ModelId,
		version: VersionIndex,
		workers: &[AccountId],
		fee: Balance,
		attribution: &[AttributionEntry],
	) -> Result<Weight, sp_runtime::DispatchError> {
		use frame_support::traits::{fungible::Mutate, tokens::Preservation};
		let owner = MODELS
			.with(|m| m.borrow().get(&model).map(|(owner, _)| owner.clone()))
			.ok_or(sp_runtime::DispatchError::Other("no owner"))?;
		let to_workers = WorkerShare::get().mul_floor(fee);
		let each = to_workers / workers.len().max(1) as Balance;
		let mut transfers = alloc::vec![(owner, fee - to_workers)];
		for (i, worker) in workers.iter().enumerate() {
			let extra = if i == 0 { to_workers - each * workers.len() as Balance } else { 0 };
			transfers.push((worker.clone(), each + extra));
		}
		for (who, amount) in transfers {
			if amount > 0 {
				Balances::transfer(&Self::pot(), &who, amount, Preservation::Preserve)?;
			}
		}
		PAID.with(|p| {
			p.borrow_mut().push((model, version, workers.to_vec(), fee, attribution.to_vec()))
		});
		Ok(HOOK_USED)
	}

	fn max_weight(_workers: u32) -> Weight {
		HOOK_MAX
	}
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::traits::BenchmarkHelper<AccountId> for MockBenchmarkHelper {
	fn create_model(owner: &AccountId) -> (ModelId, VersionIndex) {
		add_model(BENCH_MODEL, owner.clone(), 1);
		(BENCH_MODEL, 1)
	}

	fn register_worker(who: &AccountId) {
		add_worker(who.clone());
	}
}

#[cfg(feature = "runtime-benchmarks")]
pub const BENCH_MODEL: ModelId = 100;

impl pallet_inference::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = MockModels;
	type Workers = MockWorkers;
	type Signature = MultiSignature;
	type Signer = MultiSigner;
	type Payout = MockPayout;
	type MaxAttribution = ConstU32<MAX_ATTRIBUTION>;
	type AttributionAgreement = AttributionAgreement;
	type WithdrawDelay = ConstU64<WITHDRAW_DELAY>;
	type MaxReceipts = ConstU32<MAX_RECEIPTS>;
	type Jobs = MockJobs;
	type MaxPromptLen = ConstU32<MAX_PROMPT_LEN>;
	type MaxInferTokens = ConstU32<MAX_INFER_TOKENS>;
	type MaxPendingInfers = ConstU32<MAX_PENDING_INFERS>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

/// The funded test accounts.
pub const FUNDED: [&str; 7] = ["Alice", "Bob", "Owner", "Owner2", "Worker1", "Worker2", "Stranger"];

/// What the payout pot starts with: its existential deposit, so that it exists.
pub const POT_START: Balance = 1;

/// Every account in [`FUNDED`] with [`INITIAL_BALANCE`], a keystore for the benchmarks' signing,
/// block 1 (so events are recorded). Genesis leaves block 0's hash at `[69; 32]`.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: FUNDED
			.iter()
			.map(|name| (account(name), INITIAL_BALANCE))
			.chain([(account("Pot"), POT_START)])
			.collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` in a fresh externality with fresh fake registries, then checks Inference's
/// invariants.
pub fn run(test: impl FnOnce()) {
	MODELS.with(|m| m.borrow_mut().clear());
	WORKERS.with(|w| w.borrow_mut().clear());
	PAID.with(|p| p.borrow_mut().clear());
	JOBS.with(|j| j.borrow_mut().clear());
	set_jobs_fail(false);
	new_test_ext().execute_with(|| {
		ExistentialDeposit::set(1);
		WorkerShare::set(sp_runtime::Perbill::from_percent(WORKER_PERCENT));
		test();
		Inference::do_try_state().expect("Inference's invariants hold after the test");
	});
}

/// Moves to block `n`.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		System::set_block_number(System::block_number() + 1);
	}
}
