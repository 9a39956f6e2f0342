#![allow(clippy::unwrap_used)]

use crate::{self as pallet_governance, EnsureParameterAdmin, GovernancePace, Origin, Pace};
use frame_support::{derive_impl, traits::EnsureOrigin};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Governance: pallet_governance,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

impl pallet_governance::Config for Test {}

fn ext(pace: GovernancePace) -> sp_io::TestExternalities {
	let storage = RuntimeGenesisConfig {
		system: Default::default(),
		governance: pallet_governance::GenesisConfig { pace, _config: Default::default() },
	}
	.build_storage()
	.unwrap();
	storage.into()
}

#[test]
fn genesis_sets_the_pace_and_public_is_the_default() {
	ext(GovernancePace::Dev).execute_with(|| {
		assert_eq!(Pace::<Test>::get(), GovernancePace::Dev);
	});
	ext(GovernancePace::Public).execute_with(|| {
		assert_eq!(Governance::pace(), GovernancePace::Public);
	});
	let default: pallet_governance::GenesisConfig<Test> = Default::default();
	assert_eq!(default.pace, GovernancePace::Public);
}

#[test]
fn only_the_parameter_admin_origin_passes() {
	ext(GovernancePace::Public).execute_with(|| {
		assert!(
			EnsureParameterAdmin::try_origin(RuntimeOrigin::from(Origin::ParameterAdmin)).is_ok()
		);
		assert!(EnsureParameterAdmin::try_origin(RuntimeOrigin::root()).is_err());
		assert!(EnsureParameterAdmin::try_origin(RuntimeOrigin::signed(1)).is_err());
		assert!(EnsureParameterAdmin::try_origin(RuntimeOrigin::none()).is_err());
	});
}
