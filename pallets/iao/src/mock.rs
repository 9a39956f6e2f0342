//! A test runtime: System, Balances, Assets (the shares) and Iao, with a fake model registry
//! kept in a thread-local.

#![allow(clippy::arithmetic_side_effects, clippy::expect_used, clippy::unwrap_used)]

use crate as pallet_iao;
use crate::{ModelId, OfferingId, VersionIndex};
use alloc::collections::{btree_map::BTreeMap, btree_set::BTreeSet};
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{AsEnsureOriginWithArg, ConstU32, ConstU64},
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSigned};
use sp_runtime::{
	traits::{Convert, IdentityLookup},
	BuildStorage, DispatchError, DispatchResult, Perbill,
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u128;
pub type Balance = u128;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Assets: pallet_assets,
		Iao: pallet_iao,
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
	pub const ExistentialDeposit: Balance = ED;
	pub const IaoPalletId: PalletId = PalletId(*b"ol/iao__");
	pub const Quorum: Perbill = Perbill::from_percent(QUORUM_PERCENT);
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ExistentialDeposit;
}

#[derive_impl(pallet_assets::config_preludes::TestDefaultConfig)]
impl pallet_assets::Config for Test {
	type Balance = Balance;
	type Currency = Balances;
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type ForceOrigin = EnsureRoot<AccountId>;
	type Freezer = ();
	type Holder = ();
}

pub const ED: Balance = 10;
pub const INITIAL_BALANCE: Balance = 1_000_000;
pub const QUORUM_PERCENT: u32 = 20;
pub const VOTING_PERIOD: u64 = 10;
pub const ENACTMENT_DELAY: u64 = 5;
pub const MAX_WINDOW: u64 = 1_000;
pub const MAX_TRANCHES: u32 = 4;
pub const MAX_OPEN_PROPOSALS: u32 = 2;
/// Share asset ids: this plus the offering's id.
pub const ASSET_BASE: u32 = 1_000;

/// A model as the fake registry keeps it.
#[derive(Clone, Default)]
pub struct FakeModel {
	pub owner: AccountId,
	pub versions: BTreeSet<VersionIndex>,
	pub active: Option<VersionIndex>,
}

thread_local! {
	static MODELS: RefCell<BTreeMap<ModelId, FakeModel>> = const { RefCell::new(BTreeMap::new()) };
}

/// Adds (or replaces) `model`, owned by `owner`, with `versions`, the first active.
pub fn add_model(model: ModelId, owner: AccountId, versions: &[VersionIndex]) {
	MODELS.with(|m| {
		m.borrow_mut().insert(
			model,
			FakeModel {
				owner,
				versions: versions.iter().copied().collect(),
				active: versions.first().copied(),
			},
		)
	});
}

/// The model's active version in the fake registry.
pub fn active_version(model: ModelId) -> Option<VersionIndex> {
	MODELS.with(|m| m.borrow().get(&model).and_then(|m| m.active))
}

/// Models in a thread-local.
pub struct FakeModels;
impl crate::traits::ModelControl<AccountId> for FakeModels {
	fn owner(model: ModelId) -> Option<AccountId> {
		MODELS.with(|m| m.borrow().get(&model).map(|m| m.owner))
	}
	fn version_exists(model: ModelId, version: VersionIndex) -> bool {
		MODELS.with(|m| m.borrow().get(&model).is_some_and(|m| m.versions.contains(&version)))
	}
	fn activate_version(model: ModelId, version: VersionIndex) -> DispatchResult {
		MODELS.with(|m| {
			let mut models = m.borrow_mut();
			let entry = models.get_mut(&model).ok_or(DispatchError::Other("no model"))?;
			if !entry.versions.contains(&version) {
				return Err(DispatchError::Other("no version"));
			}
			entry.active = Some(version);
			Ok(())
		})
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_model(owner: &AccountId) -> (ModelId, VersionIndex) {
		add_model(999, *owner, &[1, 2]);
		(999, 2)
	}
}

/// Share asset ids: [`ASSET_BASE`] plus the offering.
pub struct ShareAssetId;
impl Convert<OfferingId, u32> for ShareAssetId {
	fn convert(offering: OfferingId) -> u32 {
		ASSET_BASE + offering
	}
}

impl pallet_iao::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type Assets = Assets;
	type ShareAssetId = ShareAssetId;
	type Models = FakeModels;
	type PalletId = IaoPalletId;
	type MaxTranches = ConstU32<MAX_TRANCHES>;
	type MaxWindow = ConstU64<MAX_WINDOW>;
	type MaxOpenProposals = ConstU32<MAX_OPEN_PROPOSALS>;
	type VotingPeriod = ConstU64<VOTING_PERIOD>;
	type EnactmentDelay = ConstU64<ENACTMENT_DELAY>;
	type Quorum = Quorum;
	type WeightInfo = ();
}

/// Accounts 1..=9 and 10 (a model owner) funded, block 1.
pub fn new_test_ext() -> sp_io::TestExternalities {
	MODELS.with(|m| m.borrow_mut().clear());
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=10).map(|who| (who, INITIAL_BALANCE)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` with a fresh registry, then checks the pallet's invariants.
pub fn run(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Iao::do_try_state().expect("Iao's invariants hold after the test");
	});
}
