//! A test runtime: System, Balances and Attribution, with a fake Datanets (contributions and
//! snapshots) and a fake model registry kept in thread-locals.

#![allow(clippy::arithmetic_side_effects, clippy::expect_used, clippy::unwrap_used)]

use crate as pallet_attribution;
use crate::{ContributionId, ModelId, VersionIndex};
use alloc::collections::btree_map::BTreeMap;
use core::cell::RefCell;
use frame_support::{derive_impl, parameter_types, traits::ConstU32, PalletId};
use frame_system::EnsureRoot;
use pallet_datanets::{DatanetId, SnapshotId, SnapshotSummary};
use sp_core::H256;
use sp_runtime::{traits::IdentityLookup, BuildStorage, DispatchError};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Attribution: pallet_attribution,
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
	pub static ExistentialDeposit: Balance = ED;
	pub const AttributionPalletId: PalletId = PalletId(*b"ol/attrb");
	pub const TreasuryAccount: AccountId = TREASURY;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ExistentialDeposit;
}

pub const ED: Balance = 10;
pub const MAX_ATTRIBUTION: u32 = 6;
pub const TREASURY: AccountId = 900;
pub const INITIAL_BALANCE: Balance = 100_000_000;

/// A contribution as the fake Datanets keeps it.
#[derive(Clone)]
pub struct FakeContribution {
	pub datanet: DatanetId,
	pub contributor: AccountId,
	/// Its acceptance position, if accepted.
	pub accepted: Option<u32>,
}

/// A model: its owner and each version's snapshot.
type FakeModel = (AccountId, BTreeMap<VersionIndex, SnapshotId>);

thread_local! {
	static CONTRIBUTIONS: RefCell<BTreeMap<ContributionId, FakeContribution>> =
		const { RefCell::new(BTreeMap::new()) };
	static SNAPSHOTS: RefCell<BTreeMap<SnapshotId, SnapshotSummary>> =
		const { RefCell::new(BTreeMap::new()) };
	/// Model -> (owner, version -> snapshot).
	static MODELS: RefCell<BTreeMap<ModelId, FakeModel>> =
		const { RefCell::new(BTreeMap::new()) };
	/// Model -> the account its owner share is routed to.
	static ROUTES: RefCell<BTreeMap<ModelId, AccountId>> = const { RefCell::new(BTreeMap::new()) };
	/// Every worker note, in order.
	static WORKER_NOTES: RefCell<alloc::vec::Vec<(AccountId, Balance)>> =
		const { RefCell::new(alloc::vec::Vec::new()) };
	/// Every contributor note, in order.
	static NOTES: RefCell<alloc::vec::Vec<(AccountId, Balance)>> =
		const { RefCell::new(alloc::vec::Vec::new()) };
}

/// Routes `model`'s owner share to `to`.
pub fn route_owner_share(model: ModelId, to: AccountId) {
	ROUTES.with(|r| r.borrow_mut().insert(model, to));
}

/// The contributor notes sent to emissions so far.
pub fn contributor_notes() -> alloc::vec::Vec<(AccountId, Balance)> {
	NOTES.with(|n| n.borrow().clone())
}

/// The worker notes sent to emissions so far.
pub fn worker_notes() -> alloc::vec::Vec<(AccountId, Balance)> {
	WORKER_NOTES.with(|n| n.borrow().clone())
}

/// Owner-share routes in a thread-local.
pub struct FakeRoutes;
impl crate::traits::OwnerShareRoute<AccountId> for FakeRoutes {
	fn owner_share_to(model: ModelId) -> Option<AccountId> {
		ROUTES.with(|r| r.borrow().get(&model).copied())
	}
}

/// Records contributor notes; the other streams are not this pallet's.
pub struct FakeEmissions;
impl pallet_emissions::traits::NoteActivity<AccountId, Balance> for FakeEmissions {
	fn note_contributor(_who: &AccountId, _earned: Balance) {}
	fn note_worker(_who: &AccountId, _earned: Balance) {}
	fn note_curator(_who: &AccountId, _accepted: u32) {}
	fn note_author(_who: &AccountId) {}
	fn note_weight() -> frame_support::weights::Weight {
		frame_support::weights::Weight::from_parts(1_000, 0)
	}
	fn note_earnings(
		contributors: &[(AccountId, Balance)],
		workers: &[(AccountId, Balance)],
	) -> frame_support::weights::Weight {
		NOTES.with(|n| n.borrow_mut().extend_from_slice(contributors));
		WORKER_NOTES.with(|n| n.borrow_mut().extend_from_slice(workers));
		frame_support::weights::Weight::zero()
	}
	fn settling_weight(accounts: u32) -> frame_support::weights::Weight {
		frame_support::weights::Weight::from_parts(1_000 * u64::from(accounts), 0)
	}
}

/// Adds a contribution to `datanet` by `contributor`, accepted at `accepted` (or pending).
pub fn add_contribution(
	id: ContributionId,
	datanet: DatanetId,
	contributor: AccountId,
	accepted: Option<u32>,
) {
	CONTRIBUTIONS
		.with(|c| c.borrow_mut().insert(id, FakeContribution { datanet, contributor, accepted }));
}

/// Adds a snapshot of `datanet` covering its first `count` accepted contributions.
pub fn add_snapshot(id: SnapshotId, datanet: DatanetId, count: u32) {
	SNAPSHOTS.with(|s| {
		s.borrow_mut().insert(
			id,
			SnapshotSummary { datanet, version: 1, root: H256::zero(), count, total_bytes: 0 },
		)
	});
}

/// Adds (or replaces) `model` owned by `owner`, its `version` trained on `snapshot`.
pub fn add_version(model: ModelId, owner: AccountId, version: VersionIndex, snapshot: SnapshotId) {
	MODELS.with(|m| {
		let mut models = m.borrow_mut();
		let entry = models.entry(model).or_insert_with(|| (owner, BTreeMap::new()));
		entry.0 = owner;
		entry.1.insert(version, snapshot);
	});
}

/// Removes `model` (its owner is gone).
pub fn remove_model(model: ModelId) {
	MODELS.with(|m| m.borrow_mut().remove(&model));
}

/// Datanets in thread-locals: only what attribution asks.
pub struct FakeDatanets;
impl pallet_datanets::traits::DatanetsInspect<AccountId, Balance> for FakeDatanets {
	fn datanet_exists(_datanet: DatanetId) -> bool {
		true
	}
	fn datanet_owner(_datanet: DatanetId) -> Option<AccountId> {
		None
	}
	fn snapshot(snapshot: SnapshotId) -> Option<SnapshotSummary> {
		SNAPSHOTS.with(|s| s.borrow().get(&snapshot).cloned())
	}
	fn may_train(_who: &AccountId, _snapshot: SnapshotId) -> bool {
		true
	}
	fn charge_training_access(
		_who: &AccountId,
		_snapshot: SnapshotId,
	) -> Result<Balance, DispatchError> {
		Ok(0)
	}
	fn contribution_datanet(contribution: ContributionId) -> Option<DatanetId> {
		CONTRIBUTIONS.with(|c| c.borrow().get(&contribution).map(|c| c.datanet))
	}
	fn contributor_of(contribution: ContributionId) -> Option<AccountId> {
		CONTRIBUTIONS.with(|c| c.borrow().get(&contribution).map(|c| c.contributor))
	}
	fn is_accepted(contribution: ContributionId) -> bool {
		CONTRIBUTIONS.with(|c| c.borrow().get(&contribution).is_some_and(|c| c.accepted.is_some()))
	}
	fn is_in_snapshot(contribution: ContributionId, snapshot: SnapshotId) -> bool {
		Self::snapshot(snapshot).is_some_and(|s| Self::attributable(contribution, &s).is_some())
	}
	fn attributable(contribution: ContributionId, snapshot: &SnapshotSummary) -> Option<AccountId> {
		CONTRIBUTIONS.with(|c| {
			c.borrow()
				.get(&contribution)
				.filter(|c| {
					c.datanet == snapshot.datanet && c.accepted.is_some_and(|p| p < snapshot.count)
				})
				.map(|c| c.contributor)
		})
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_snapshot(_owner: &AccountId, _accepted: u32) -> Result<SnapshotId, DispatchError> {
		Err(DispatchError::Other("the mock has no benchmark snapshots"))
	}
}

/// Models in thread-locals.
pub struct FakeModels;
impl pallet_models::traits::Inspect<AccountId> for FakeModels {
	type Version = SnapshotId;

	fn model_owner(model: ModelId) -> Option<AccountId> {
		MODELS.with(|m| m.borrow().get(&model).map(|(owner, _)| *owner))
	}
	fn model_version(model: ModelId, version: VersionIndex) -> Option<SnapshotId> {
		Self::version_snapshot(model, version)
	}
	fn active_version(model: ModelId) -> Option<VersionIndex> {
		MODELS.with(|m| m.borrow().get(&model).and_then(|(_, v)| v.keys().last().copied()))
	}
	fn version_snapshot(model: ModelId, version: VersionIndex) -> Option<SnapshotId> {
		MODELS.with(|m| m.borrow().get(&model).and_then(|(_, v)| v.get(&version).copied()))
	}
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::traits::BenchmarkHelper<AccountId> for MockBenchmarkHelper {
	fn attributable_version(
		owner: &AccountId,
		n: u32,
	) -> (ModelId, VersionIndex, alloc::vec::Vec<ContributionId>) {
		let ids: alloc::vec::Vec<ContributionId> = (0..n).map(|i| 10_000 + u64::from(i)).collect();
		for (position, id) in (0u32..).zip(&ids) {
			add_contribution(*id, 77, 5_000 + *id, Some(position));
		}
		add_snapshot(77, 77, n);
		add_version(77, *owner, 1, 77);
		(77, 1, ids)
	}
}

impl pallet_attribution::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type Datanets = FakeDatanets;
	type Models = FakeModels;
	type OwnerShareRoute = FakeRoutes;
	type Emissions = FakeEmissions;
	type PalletId = AttributionPalletId;
	type Treasury = TreasuryAccount;
	type MaxAttribution = ConstU32<MAX_ATTRIBUTION>;
	type AdminOrigin = EnsureRoot<AccountId>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

/// The pot with its existential deposit, the default parameters, block 1.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: alloc::vec![(Attribution::pot(), ED), (1, INITIAL_BALANCE)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` with fresh fakes, then checks the pallet's invariants.
pub fn run(test: impl FnOnce()) {
	CONTRIBUTIONS.with(|c| c.borrow_mut().clear());
	SNAPSHOTS.with(|s| s.borrow_mut().clear());
	MODELS.with(|m| m.borrow_mut().clear());
	ROUTES.with(|r| r.borrow_mut().clear());
	NOTES.with(|n| n.borrow_mut().clear());
	WORKER_NOTES.with(|n| n.borrow_mut().clear());
	new_test_ext().execute_with(|| {
		ExistentialDeposit::set(ED);
		test();
		Attribution::do_try_state().expect("Attribution's invariants hold after the test");
	});
}
