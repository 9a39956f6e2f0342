//! A runtime with sessions whose manager is this pallet; validator ids are account ids (u64)
//! and session keys are `UintAuthorityId`s.

#![allow(clippy::unwrap_used)]

use crate as pallet_validators;
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use sp_runtime::{testing::UintAuthorityId, traits::ConvertInto, BuildStorage};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Validators: pallet_validators,
		Session: pallet_session,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
}

parameter_types! {
	pub const Period: u64 = 5;
	pub const Offset: u64 = 0;
	pub const KeyDeposit: u64 = 10;
}

impl pallet_session::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = u64;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = pallet_session::PeriodicSessions<Period, Offset>;
	type NextSessionRotation = pallet_session::PeriodicSessions<Period, Offset>;
	type SessionManager = Validators;
	type SessionHandler = pallet_session::TestSessionHandler;
	type Keys = UintAuthorityId;
	type DisablingStrategy = ();
	type WeightInfo = ();
	type Currency = Balances;
	type KeyDeposit = KeyDeposit;
}

impl pallet_validators::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type ManagerOrigin = frame_system::EnsureRoot<u64>;
	type MaxValidators = ConstU32<4>;
	type MinValidators = ConstU32<2>;
	type WeightInfo = ();
}

/// Accounts 1, 2 and 3 validate from genesis with keys 1, 2, 3; accounts 1 to 9 hold 1,000.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..10).map(|who| (who, 1_000)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_validators::GenesisConfig::<Test> { validators: vec![1, 2, 3] }
		.assimilate_storage(&mut storage)
		.unwrap();
	pallet_session::GenesisConfig::<Test> {
		keys: (1..4).map(|who| (who, who, UintAuthorityId(who))).collect(),
		non_authority_keys: vec![],
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}
