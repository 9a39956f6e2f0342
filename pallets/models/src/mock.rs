//! A test runtime: System, Balances, Datanets, Compute and Models wired as in the real runtime
//! (Models creates its jobs through Compute and hears back through Compute's job hooks), with
//! small limits and helpers to move between blocks.

#![allow(clippy::arithmetic_side_effects, clippy::expect_used, clippy::unwrap_used)]

use crate as pallet_models;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, ConstU8, Hooks},
};
use sp_runtime::{BuildStorage, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Datanets: pallet_datanets,
		Compute: pallet_compute,
		Models: pallet_models,
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

/// Owns the Datanets trained on.
pub const DATA_OWNER: AccountId = 1;
/// Asks for fine-tunes.
pub const ALICE: AccountId = 2;
pub const BOB: AccountId = 3;
/// Contributes the Datanets' data.
pub const CONTRIBUTOR: AccountId = 4;
pub const STRANGER: AccountId = 5;
/// Workers are accounts 10 to 14.
pub const W1: AccountId = 10;
pub const W2: AccountId = 11;
pub const W3: AccountId = 12;
pub const TREASURY: AccountId = 99;
pub const INITIAL_BALANCE: Balance = 100_000;

pub const BASE_DEPOSIT: Balance = 500;
pub const MAX_TRAIN_STEPS: u32 = 1_000;
pub const MAX_VERSIONS: u32 = 3;
pub const MAX_PENDING: u32 = 3;
pub const MAX_VERSION_WORKERS: u32 = 2;
pub const MAX_NAME: u32 = 16;

pub const MIN_STAKE: Balance = 1_000;
pub const MIN_FEE: Balance = 10;
pub const MAX_TIMEOUT: u64 = 100;

impl pallet_datanets::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type DatanetDeposit = ConstU64<100>;
	type ContributionDeposit = ConstU64<10>;
	type TreasuryAccount = TreasuryAccount;
	type SlashToTreasury = DatanetSlashToTreasury;
	type ReputationReward = ConstU32<1>;
	type ReputationPenalty = ConstU32<2>;
	type BarThreshold = BarThreshold;
	type MaxNameLen = ConstU32<32>;
	type MaxDescriptionLen = ConstU32<64>;
	type MaxTagLen = ConstU32<16>;
	type MaxTags = ConstU32<4>;
	type MaxLicenseLen = ConstU32<32>;
	type MaxMediaTypeLen = ConstU32<32>;
	type MaxMediaTypes = ConstU32<4>;
	type MaxAllowlist = ConstU32<4>;
	type MaxCurators = ConstU32<3>;
	type MaxLocatorLen = ConstU32<64>;
	type MaxMetadataLen = ConstU32<64>;
	type MaxPendingPerContributor = ConstU32<8>;
	type MaxAcceptedPerDatanet = ConstU32<16>;
	type OnAccepted = ();
	type WeightInfo = ();
}

parameter_types! {
	pub const DatanetSlashToTreasury: Perbill = Perbill::from_percent(50);
	pub const BarThreshold: i32 = -10;
	pub const SlashDisagree: Perbill = Perbill::from_percent(10);
	pub const SlashMissed: Perbill = Perbill::from_percent(5);
	pub const ComputeSlashToTreasury: Perbill = Perbill::from_percent(50);
}

impl pallet_compute::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type SpecCheck = ();
	type Hooks = Models;
	type Treasury = TreasuryAccount;
	type MinWorkerStake = ConstU64<MIN_STAKE>;
	type MinJobFee = ConstU64<MIN_FEE>;
	type UnbondingPeriod = ConstU64<10>;
	type HeartbeatTimeout = ConstU64<50>;
	type MinTimeout = ConstU64<2>;
	type MaxTimeout = ConstU64<MAX_TIMEOUT>;
	type MaxWorkers = ConstU32<5>;
	type MaxSpecLen = ConstU32<256>;
	type MaxResultLen = ConstU32<128>;
	type MaxReplication = ConstU8<3>;
	type MaxAssigned = ConstU32<9>;
	type MaxEscalations = ConstU8<2>;
	type MaxJobsPerBlock = ConstU32<4>;
	type MaxJobsPerWorker = ConstU32<4>;
	type SlashDisagreeFraction = SlashDisagree;
	type SlashMissedFraction = SlashMissed;
	type SlashToTreasury = ComputeSlashToTreasury;
	type WeightInfo = ();
}

impl pallet_models::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Datanets = Datanets;
	type Jobs = Compute;
	type BaseModelDeposit = ConstU64<BASE_DEPOSIT>;
	type MaxTrainSteps = ConstU32<MAX_TRAIN_STEPS>;
	type MaxVersionsPerModel = ConstU32<MAX_VERSIONS>;
	type MaxPendingFinetunes = ConstU32<MAX_PENDING>;
	type MaxVersionWorkers = ConstU32<MAX_VERSION_WORKERS>;
	type MaxNameLen = ConstU32<MAX_NAME>;
	type MaxArchitectureLen = ConstU32<16>;
	type MaxLicenseLen = ConstU32<16>;
	type WeightInfo = ();
}

/// Accounts 1 to 5, the workers 10 to 14 and the treasury with [`INITIAL_BALANCE`] each; block 1
/// (so events are recorded).
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let accounts = (DATA_OWNER..=STRANGER).chain(10..15).chain([TREASURY]);
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

/// Runs `test` in a fresh externality, then checks Models' invariants.
pub fn run(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		ExistentialDeposit::set(1);
		TreasuryAccount::set(TREASURY);
		test();
		Models::do_try_state().expect("Models' invariants hold after the test");
	});
}

/// Moves to block `n`, running Compute's `on_initialize` for every block on the way.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Compute::on_initialize(next);
	}
}
