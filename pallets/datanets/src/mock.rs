//! A test runtime: System, Balances and Datanets with small limits.

#![allow(clippy::arithmetic_side_effects, clippy::expect_used, clippy::unwrap_used)]

use crate as pallet_datanets;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
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
}

pub const OWNER: AccountId = 1;
pub const CURATOR: AccountId = 2;
pub const ALICE: AccountId = 3;
pub const BOB: AccountId = 4;
pub const CHARLIE: AccountId = 5;
pub const DAVE: AccountId = 6;
pub const STRANGER: AccountId = 7;
/// Funded with nothing at genesis: it comes into existence with its first slash share.
pub const TREASURY: AccountId = 99;
pub const INITIAL_BALANCE: Balance = 10_000;

pub const DATANET_DEPOSIT: Balance = 100;
pub const CONTRIBUTION_DEPOSIT: Balance = 10;
pub const MAX_ACCEPTED: u32 = 10;
pub const MAX_PENDING: u32 = 3;
pub const MAX_CURATORS: u32 = 3;
pub const REWARD: i32 = 1;
pub const PENALTY: i32 = 2;
/// Two rejections (reputation -4) bar a new contributor; one (-2) does not.
pub const BAR_THRESHOLD: i32 = -3;

impl pallet_datanets::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type DatanetDeposit = ConstU64<DATANET_DEPOSIT>;
	type ContributionDeposit = ConstU64<CONTRIBUTION_DEPOSIT>;
	type TreasuryAccount = TreasuryAccount;
	/// 30% of a slash to the treasury (3 of 10), 70% (7) to the curator.
	type SlashToTreasury = SlashToTreasury;
	type ReputationReward = ConstU32<{ REWARD as u32 }>;
	type ReputationPenalty = ConstU32<{ PENALTY as u32 }>;
	type BarThreshold = BarThreshold;
	type MaxNameLen = ConstU32<32>;
	type MaxDescriptionLen = ConstU32<128>;
	type MaxTagLen = ConstU32<16>;
	type MaxTags = ConstU32<4>;
	type MaxLicenseLen = ConstU32<32>;
	type MaxMediaTypeLen = ConstU32<32>;
	type MaxMediaTypes = ConstU32<4>;
	type MaxAllowlist = ConstU32<4>;
	type MaxCurators = ConstU32<MAX_CURATORS>;
	type MaxLocatorLen = ConstU32<64>;
	type MaxMetadataLen = ConstU32<64>;
	type MaxPendingPerContributor = ConstU32<MAX_PENDING>;
	type MaxAcceptedPerDatanet = ConstU32<MAX_ACCEPTED>;
	type OnAccepted = ();
	type WeightInfo = ();
}

parameter_types! {
	pub const SlashToTreasury: Perbill = Perbill::from_percent(30);
	pub const BarThreshold: i32 = BAR_THRESHOLD;
}

/// Accounts 1 to 7 with [`INITIAL_BALANCE`] each; block 1 (so events are recorded).
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (OWNER..=STRANGER).map(|who| (who, INITIAL_BALANCE)).collect(),
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
		test();
		Datanets::do_try_state().expect("invariants hold after the test");
	});
}
