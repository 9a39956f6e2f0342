//! A test runtime: System, Balances and Emissions, with time scaled down (eras of 10 blocks,
//! 48 of them) and the proportions of the real pools (51.71 % and 10 % of a supply of 10^10,
//! the ecosystem pool less an existential deposit, as in the runtime's genesis).

#![allow(clippy::arithmetic_side_effects, clippy::expect_used, clippy::unwrap_used)]

use crate as pallet_emissions;
use crate::{Curve, StreamShares};
use frame_support::{
	derive_impl, parameter_types,
	traits::{fungible::Inspect, Hooks},
	PalletId,
};
use frame_system::EnsureRoot;
use sp_runtime::{traits::IdentityLookup, BuildStorage};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Emissions: pallet_emissions,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

pub const ED: Balance = 10;
pub const COMMUNITY: AccountId = 1_001;
pub const ECOSYSTEM: AccountId = 1_002;
pub const TREASURY: AccountId = 900;
/// A funded account that pays for calls.
pub const ALICE: AccountId = 1;
pub const ALICE_BALANCE: Balance = 1_000_000;
/// The supply's scale: 10^10 plancks.
pub const SUPPLY: Balance = 10_000_000_000;
/// 51.71 % of the supply.
pub const COMMUNITY_GENESIS: Balance = SUPPLY / 10_000 * 5_171;
/// 10 % of the supply, less the existential deposit another pot took.
pub const ECOSYSTEM_GENESIS: Balance = SUPPLY / 10 - ED;
pub const ERA: u64 = 10;
pub const ERAS: u32 = 48;

parameter_types! {
	pub static ExistentialDeposit: Balance = ED;
	pub const EmissionsPalletId: PalletId = PalletId(*b"ol/emiss");
	pub const CommunityPool: AccountId = COMMUNITY;
	pub const EcosystemPool: AccountId = ECOSYSTEM;
	pub const TreasuryAccount: AccountId = TREASURY;
	pub static EraLength: u64 = ERA;
	pub static ScheduleLength: u32 = ERAS;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ExistentialDeposit;
}

impl pallet_emissions::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type CommunityPool = CommunityPool;
	type EcosystemPool = EcosystemPool;
	type Treasury = TreasuryAccount;
	type PalletId = EmissionsPalletId;
	type FindAuthor = AuthorFromDigest;
	type EraLength = EraLength;
	type ScheduleLength = ScheduleLength;
	type AdminOrigin = EnsureRoot<AccountId>;
	type WeightInfo = ();
}

/// The author is the account whose id a `b"test"` pre-runtime digest carries (SCALE u64).
pub struct AuthorFromDigest;
impl frame_support::traits::FindAuthor<AccountId> for AuthorFromDigest {
	fn find_author<'a, I>(digests: I) -> Option<AccountId>
	where
		I: 'a + IntoIterator<Item = (frame_support::ConsensusEngineId, &'a [u8])>,
	{
		use codec::Decode;
		digests
			.into_iter()
			.find(|(id, _)| id == b"test")
			.and_then(|(_, mut data)| AccountId::decode(&mut data).ok())
	}
}

/// How a test chain starts.
pub struct ExtBuilder {
	pub community: Balance,
	pub ecosystem: Balance,
	pub curve: Curve,
	pub shares: StreamShares,
	/// Whether the emissions genesis is built (else the schedule starts at the first block).
	pub genesis: bool,
	pub eras: u32,
	/// The genesis config's era length (`None`: the `EraLength` constant).
	pub era_length: Option<u64>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		ExtBuilder {
			community: COMMUNITY_GENESIS,
			ecosystem: ECOSYSTEM_GENESIS,
			curve: Curve::Linear,
			shares: StreamShares::default(),
			genesis: true,
			eras: ERAS,
			era_length: None,
		}
	}
}

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		ScheduleLength::set(self.eras);
		EraLength::set(ERA);
		ExistentialDeposit::set(ED);
		let mut balances = vec![(ALICE, ALICE_BALANCE)];
		for (pool, amount) in [(COMMUNITY, self.community), (ECOSYSTEM, self.ecosystem)] {
			if amount > 0 {
				balances.push((pool, amount));
			}
		}
		let balances = pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() };
		let storage = if self.genesis {
			RuntimeGenesisConfig {
				system: Default::default(),
				balances,
				emissions: pallet_emissions::GenesisConfig {
					curve: self.curve,
					shares: self.shares,
					era_length: self.era_length,
					..Default::default()
				},
			}
			.build_storage()
			.unwrap()
		} else {
			let mut storage =
				frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
			balances.assimilate_storage(&mut storage).unwrap();
			storage
		};
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Builds the chain, runs `test`, then checks the pallet's invariants.
	pub fn run(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Emissions::do_try_state().expect("the emissions invariants hold after the test");
		});
	}
}

/// The default chain at block 1.
pub fn new_test_ext() -> sp_io::TestExternalities {
	ExtBuilder::default().build()
}

/// Runs `test` on the default chain, then checks the pallet's invariants.
pub fn run(test: impl FnOnce()) {
	ExtBuilder::default().run(test)
}

/// Moves to block `n`, running `on_initialize` for every block on the way and checking the
/// invariants after each.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Emissions::on_initialize(next);
		Emissions::do_try_state().expect("the emissions invariants hold after every block");
	}
}

/// Moves to the first block of era `era + 1`, which closes (and pays) era `era`.
pub fn close_era(era: u32) {
	run_to_block(ERA * (u64::from(era) + 1));
}

/// The free balance of `who`.
pub fn balance(who: AccountId) -> Balance {
	Balances::balance(&who)
}
