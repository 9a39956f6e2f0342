//! Unit tests, one file per area. Every test runs through [`run`], which checks the pallet's
//! invariants (`try_state`) after the test body.

#![allow(
	clippy::arithmetic_side_effects,
	clippy::expect_used,
	clippy::indexing_slicing,
	clippy::panic,
	clippy::unwrap_used
)]

mod contribute;
mod curate;
mod datanet;
mod invariants;
mod issuance;
mod merkle_tree;
mod paging;
mod reputation;
mod snapshot;
mod training;
mod withdraw;

use crate::{mock::*, *};
use frame_support::{
	assert_ok,
	traits::{fungible::InspectHold, Get},
	BoundedVec,
};
use sp_core::H256;

pub use crate::mock::run;

/// A bounded byte string from a literal.
pub fn bytes<S: Get<u32>>(value: &[u8]) -> BoundedVec<u8, S> {
	value.to_vec().try_into().expect("test value fits its bound")
}

pub fn text() -> MediaTypeOf<Test> {
	bytes(b"text/plain")
}

pub fn jsonl() -> MediaTypeOf<Test> {
	bytes(b"application/jsonl")
}

/// At most 1,000 bytes, plain text or JSON lines.
pub fn rules() -> ContributionRulesOf<Test> {
	ContributionRules { max_bytes: 1_000, media_types: vec![text(), jsonl()].try_into().unwrap() }
}

/// Creates a public Datanet owned by `owner`.
pub fn create(owner: AccountId) -> DatanetId {
	create_with(owner, AccessPolicy::Public)
}

pub fn create_with(owner: AccountId, access: AccessPolicyOf<Test>) -> DatanetId {
	let id = NextDatanetId::<Test>::get();
	assert_ok!(Datanets::create_datanet(
		RuntimeOrigin::signed(owner),
		bytes(b"Solidity audits"),
		bytes(b"Audited smart contracts and their findings"),
		vec![bytes(b"solidity"), bytes(b"security")].try_into().unwrap(),
		bytes(b"CC-BY-4.0"),
		rules(),
		access,
	));
	id
}

/// Creates a public Datanet owned by [`OWNER`] with [`CURATOR`] as its curator.
pub fn create_curated() -> DatanetId {
	let datanet = create(OWNER);
	assert_ok!(Datanets::add_curator(RuntimeOrigin::signed(OWNER), datanet, CURATOR));
	datanet
}

/// The content hash of made-up content number `n`.
pub fn content(n: u64) -> H256 {
	H256(sp_io::hashing::blake2_256(&n.to_le_bytes()))
}

/// The size given to content number `n`.
pub fn size_of(n: u64) -> u64 {
	100 + n
}

/// `who` contributes content number `n` (plain text) to `datanet`.
pub fn contribute(who: AccountId, datanet: DatanetId, n: u64) -> ContributionId {
	let id = NextContributionId::<Test>::get();
	assert_ok!(Datanets::contribute(
		RuntimeOrigin::signed(who),
		datanet,
		content(n),
		size_of(n),
		text(),
		bytes(b"ipfs://bafy/contribution"),
		bytes(b"{\"lang\":\"en\"}"),
	));
	id
}

pub fn accept(curator: AccountId, contribution: ContributionId) {
	assert_ok!(Datanets::curate(RuntimeOrigin::signed(curator), contribution, Verdict::Accept));
}

pub fn reject(curator: AccountId, contribution: ContributionId) {
	assert_ok!(Datanets::curate(RuntimeOrigin::signed(curator), contribution, Verdict::Reject(1)));
}

pub fn snapshot(who: AccountId, datanet: DatanetId) -> SnapshotId {
	let id = NextSnapshotId::<Test>::get();
	assert_ok!(Datanets::snapshot(RuntimeOrigin::signed(who), datanet));
	id
}

/// What `who` has on hold for Datanet deposits.
pub fn held_for_datanets(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::DatanetDeposit.into(), &who)
}

/// What `who` has on hold for contribution deposits.
pub fn held_for_contributions(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ContributionDeposit.into(), &who)
}

pub fn free(who: AccountId) -> Balance {
	Balances::free_balance(who)
}

/// This pallet's events so far.
pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Datanets(event) => Some(event),
			_ => None,
		})
		.collect()
}

pub fn last_event() -> Event<Test> {
	events().pop().expect("an event was emitted")
}

pub fn contributor(datanet: DatanetId, who: AccountId) -> ContributorInfo {
	Contributors::<Test>::get(datanet, who).unwrap_or_default()
}

pub fn datanet(id: DatanetId) -> Datanet<Test> {
	DatanetRecords::<Test>::get(id).expect("the Datanet exists")
}

pub fn status_of(id: ContributionId) -> ContributionStatus<u64> {
	Contributions::<Test>::get(id).expect("the contribution exists").status
}
