//! Unit tests, one file per area. Every test runs through [`run`], which checks the pallet's
//! invariants (`try_state`) after the test body.

#![allow(
	clippy::arithmetic_side_effects,
	clippy::expect_used,
	clippy::indexing_slicing,
	clippy::panic,
	clippy::unwrap_used
)]

mod assignment;
mod deadlines;
mod hooks;
mod invariants;
mod issuance;
mod jobs;
mod offchain;
mod results;
mod settlement;
mod workers;

use crate::{mock::*, *};
use codec::Encode;
use frame_support::{assert_ok, traits::fungible::InspectHold};
use sp_core::H256;

pub use crate::mock::run;

/// A CUDA worker that runs every job kind.
pub fn gpu() -> Capabilities {
	Capabilities {
		backend: Backend::Cuda,
		gpu_memory_mib: 24_576,
		max_resident_adapters: 8,
		job_kinds: JobKind::all_bits(),
	}
}

/// A CPU worker that only verifies snapshots.
pub fn verifier_only() -> Capabilities {
	Capabilities {
		backend: Backend::Cpu,
		gpu_memory_mib: 0,
		max_resident_adapters: 0,
		job_kinds: JobKind::VerifySnapshot.bit(),
	}
}

pub fn register(who: AccountId, stake: Balance) {
	assert_ok!(Compute::register_worker(RuntimeOrigin::signed(who), stake, gpu()));
}

/// Registers `workers` with the minimum stake.
pub fn register_all(workers: &[AccountId]) {
	for who in workers {
		register(*who, MIN_STAKE);
	}
}

/// The spec of a job verifying snapshot `n`.
pub fn snapshot_spec(n: u32) -> Vec<u8> {
	VerifySnapshotSpec { snapshot: n }.encode()
}

pub const FEE: Balance = 300;
pub const TIMEOUT: u64 = 10;

/// [`REQUESTER`] creates a verify-snapshot job with [`FEE`] and [`TIMEOUT`].
pub fn create(replication: u8) -> JobId {
	create_by(REQUESTER, replication, FEE)
}

pub fn create_by(requester: AccountId, replication: u8, fee: Balance) -> JobId {
	let id = NextJobId::<Test>::get();
	assert_ok!(Compute::create_job(
		RuntimeOrigin::signed(requester),
		JobKind::VerifySnapshot,
		snapshot_spec(1),
		fee,
		replication,
		TIMEOUT,
	));
	id
}

pub fn job(id: JobId) -> JobOf<Test> {
	Jobs::<Test>::get(id).expect("the job exists")
}

pub fn assigned(id: JobId) -> Vec<AccountId> {
	job(id).assigned.into_inner()
}

pub fn hash(n: u8) -> H256 {
	H256::repeat_byte(n)
}

pub fn submit(who: AccountId, id: JobId, result: H256) {
	assert_ok!(Compute::submit_result(RuntimeOrigin::signed(who), id, result, b"root".to_vec()));
}

pub fn stake_of(who: AccountId) -> Balance {
	Workers::<Test>::get(who).map(|w| w.stake).unwrap_or_default()
}

pub fn held_stake(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::WorkerStake.into(), &who)
}

pub fn held_escrow(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::JobEscrow.into(), &who)
}

pub fn free(who: AccountId) -> Balance {
	Balances::free_balance(who)
}

/// This pallet's events so far.
pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Compute(event) => Some(event),
			_ => None,
		})
		.collect()
}

pub fn last_event() -> Event<Test> {
	events().pop().expect("an event was emitted")
}
