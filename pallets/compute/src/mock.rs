//! A test runtime: System, Balances and Compute with small limits, a spec check that knows
//! snapshots 0 to 9, a job hook that records its calls, and helpers to move between blocks.

#![allow(clippy::arithmetic_side_effects, clippy::expect_used, clippy::unwrap_used)]

use crate as pallet_compute;
use crate::{
	traits::{JobHooks, JobSpecCheck, JobSpecError},
	JobId, JobKind, VerifySnapshotSpec,
};
use codec::Decode;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, ConstU8, Hooks},
	weights::Weight,
};
use sp_core::H256;
use sp_runtime::{BuildStorage, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Compute: pallet_compute,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

parameter_types! {
	pub static ExistentialDeposit: Balance = 1;
	pub static TreasuryAccount: AccountId = TREASURY;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type ExistentialDeposit = ExistentialDeposit;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const REQUESTER: AccountId = 1;
pub const OTHER_REQUESTER: AccountId = 2;
/// Workers are accounts 10 to 19.
pub const W1: AccountId = 10;
pub const W2: AccountId = 11;
pub const W3: AccountId = 12;
pub const W4: AccountId = 13;
pub const W5: AccountId = 14;
pub const W6: AccountId = 15;
pub const STRANGER: AccountId = 30;
/// Funded at genesis, so it takes any share.
pub const TREASURY: AccountId = 99;
pub const INITIAL_BALANCE: Balance = 100_000;

pub const MIN_STAKE: Balance = 1_000;
pub const MIN_FEE: Balance = 10;
pub const UNBONDING: u64 = 10;
pub const HEARTBEAT_TIMEOUT: u64 = 20;
pub const MIN_TIMEOUT: u64 = 2;
pub const MAX_TIMEOUT: u64 = 100;
pub const MAX_WORKERS: u32 = 8;
pub const MAX_SPEC: u32 = 64;
pub const MAX_RESULT: u32 = 32;
pub const MAX_REPLICATION: u8 = 3;
pub const MAX_ESCALATIONS: u8 = 2;
pub const MAX_ASSIGNED: u32 = 9;
pub const MAX_JOBS_PER_BLOCK: u32 = 4;
pub const MAX_JOBS_PER_WORKER: u32 = 4;
/// Snapshots `0..KNOWN_SNAPSHOTS` exist as far as the mock's spec check knows.
pub const KNOWN_SNAPSHOTS: u32 = 10;

/// Verify-snapshot specs must decode and name a known snapshot; other kinds take any spec.
pub struct MockSpecCheck;
impl JobSpecCheck for MockSpecCheck {
	fn check(kind: JobKind, spec: &[u8]) -> Result<(), JobSpecError> {
		if kind != JobKind::VerifySnapshot {
			return Ok(());
		}
		let spec = VerifySnapshotSpec::decode(&mut &spec[..]).map_err(|_| JobSpecError::Invalid)?;
		if spec.snapshot < KNOWN_SNAPSHOTS {
			Ok(())
		} else {
			Err(JobSpecError::UnknownSnapshot)
		}
	}
}

/// One call of the job hook, as [`RecordingHooks`] saw it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum HookCall {
	Completed {
		job: JobId,
		requester: AccountId,
		kind: JobKind,
		spec: Vec<u8>,
		outcome: H256,
		payload: Vec<u8>,
		workers: Vec<AccountId>,
	},
	Failed {
		job: JobId,
		requester: AccountId,
		kind: JobKind,
		spec: Vec<u8>,
	},
}

/// What each hook call reports it used; also its `max_weight`.
pub const HOOK_WEIGHT: Weight = Weight::from_parts(7_000_000, 0);

parameter_types! {
	/// The job hook's calls so far, oldest first.
	pub static HookCalls: Vec<HookCall> = Vec::new();
	/// When set, results agree when their payloads' first bytes differ by at most this much
	/// (a stand-in for a metric compared within a tolerance); else by payload hash.
	pub static PayloadTolerance: Option<u8> = None;
}

/// A job hook that records its calls in [`HookCalls`].
pub struct RecordingHooks;
impl JobHooks<AccountId> for RecordingHooks {
	fn on_completed(
		job: JobId,
		requester: &AccountId,
		kind: JobKind,
		spec: &[u8],
		outcome: H256,
		payload: &[u8],
		workers: &[AccountId],
	) -> Weight {
		HookCalls::mutate(|calls| {
			calls.push(HookCall::Completed {
				job,
				requester: *requester,
				kind,
				spec: spec.to_vec(),
				outcome,
				payload: payload.to_vec(),
				workers: workers.to_vec(),
			})
		});
		HOOK_WEIGHT
	}

	fn on_failed(job: JobId, requester: &AccountId, kind: JobKind, spec: &[u8]) -> Weight {
		HookCalls::mutate(|calls| {
			calls.push(HookCall::Failed { job, requester: *requester, kind, spec: spec.to_vec() })
		});
		HOOK_WEIGHT
	}

	fn max_weight() -> Weight {
		HOOK_WEIGHT
	}

	fn agree(_kind: JobKind, _spec: &[u8], a: (H256, &[u8]), b: (H256, &[u8])) -> bool {
		match (PayloadTolerance::get(), a.1.first(), b.1.first()) {
			(Some(tolerance), Some(x), Some(y)) => x.abs_diff(*y) <= tolerance,
			(Some(_), _, _) => false,
			(None, _, _) => a.0 == b.0,
		}
	}
}

parameter_types! {
	/// 10% of the stake for disagreeing.
	pub const SlashDisagree: Perbill = Perbill::from_percent(10);
	/// 5% of the stake for missing a deadline.
	pub const SlashMissed: Perbill = Perbill::from_percent(5);
	/// Half of a disagreement slash to the treasury.
	pub const SlashToTreasury: Perbill = Perbill::from_percent(50);
}

impl pallet_compute::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type SpecCheck = MockSpecCheck;
	type Hooks = RecordingHooks;
	type Treasury = TreasuryAccount;
	type MinWorkerStake = ConstU64<MIN_STAKE>;
	type MinJobFee = ConstU64<MIN_FEE>;
	type UnbondingPeriod = ConstU64<UNBONDING>;
	type HeartbeatTimeout = ConstU64<HEARTBEAT_TIMEOUT>;
	type MinTimeout = ConstU64<MIN_TIMEOUT>;
	type MaxTimeout = ConstU64<MAX_TIMEOUT>;
	type MaxWorkers = ConstU32<MAX_WORKERS>;
	type MaxSpecLen = ConstU32<MAX_SPEC>;
	type MaxResultLen = ConstU32<MAX_RESULT>;
	type MaxReplication = ConstU8<MAX_REPLICATION>;
	type MaxAssigned = ConstU32<MAX_ASSIGNED>;
	type MaxEscalations = ConstU8<MAX_ESCALATIONS>;
	type MaxJobsPerBlock = ConstU32<MAX_JOBS_PER_BLOCK>;
	type MaxJobsPerWorker = ConstU32<MAX_JOBS_PER_WORKER>;
	type SlashDisagreeFraction = SlashDisagree;
	type SlashMissedFraction = SlashMissed;
	type SlashToTreasury = SlashToTreasury;
	type WeightInfo = ();
}

/// Requesters 1 and 2, workers 10 to 19, the stranger and the treasury with [`INITIAL_BALANCE`]
/// each; block 1 (so events are recorded).
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let accounts = [REQUESTER, OTHER_REQUESTER, STRANGER, TREASURY].into_iter().chain(10..20);
	pallet_balances::GenesisConfig::<Test> {
		balances: accounts.map(|who| (who, INITIAL_BALANCE)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` in a fresh externality, then checks the pallet's invariants.
pub fn run(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		ExistentialDeposit::set(1);
		TreasuryAccount::set(TREASURY);
		HookCalls::set(Vec::new());
		PayloadTolerance::set(None);
		test();
		Compute::do_try_state().expect("invariants hold after the test");
	});
}

/// Moves to block `n`, running `on_initialize` for every block on the way.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Compute::on_initialize(next);
	}
}
