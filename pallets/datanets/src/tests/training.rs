//! The `DatanetsInspect` trait other pallets use: lookups and training access.

use super::*;
use crate::traits::DatanetsInspect;
use frame_support::{assert_noop, assert_ok, assert_storage_noop};
use sp_runtime::{DispatchError, TokenError};

type Inspect = Datanets;

/// A Datanet with `access`, two accepted contributions (from Alice and Bob) and one snapshot.
fn snapshot_with(access: AccessPolicyOf<Test>) -> (DatanetId, SnapshotId) {
	let d = create_with(OWNER, access);
	accept(OWNER, contribute(ALICE, d, 1));
	accept(OWNER, contribute(BOB, d, 2));
	(d, snapshot(OWNER, d))
}

#[test]
fn answers_lookups_about_datanets_contributions_and_snapshots() {
	run(|| {
		let (d, s) = snapshot_with(AccessPolicy::Public);
		let pending = contribute(CHARLIE, d, 3);
		assert!(<Inspect as DatanetsInspect<_, _>>::datanet_exists(d));
		assert!(!<Inspect as DatanetsInspect<_, _>>::datanet_exists(d + 1));
		assert_eq!(<Inspect as DatanetsInspect<_, _>>::datanet_owner(d), Some(OWNER));
		assert!(<Inspect as DatanetsInspect<_, _>>::snapshot_exists(s));
		assert!(!<Inspect as DatanetsInspect<_, _>>::snapshot_exists(s + 1));
		let header = Snapshots::<Test>::get(s).unwrap();
		assert_eq!(
			<Inspect as DatanetsInspect<_, _>>::snapshot(s),
			Some(SnapshotSummary {
				datanet: d,
				version: 1,
				root: header.root,
				count: 2,
				total_bytes: size_of(1) + size_of(2),
			})
		);
		assert_eq!(<Inspect as DatanetsInspect<_, _>>::snapshot_root(s), Some(header.root));
		assert_eq!(<Inspect as DatanetsInspect<_, _>>::snapshot_count(s), Some(2));
		assert_eq!(<Inspect as DatanetsInspect<_, _>>::contributor_of(1), Some(BOB));
		assert_eq!(<Inspect as DatanetsInspect<_, _>>::contributor_of(99), None);
		assert_eq!(<Inspect as DatanetsInspect<_, _>>::contribution_datanet(pending), Some(d));
		assert!(<Inspect as DatanetsInspect<_, _>>::is_accepted(0));
		assert!(!<Inspect as DatanetsInspect<_, _>>::is_accepted(pending));
		assert!(<Inspect as DatanetsInspect<_, _>>::is_in_snapshot(0, s));
		assert!(!<Inspect as DatanetsInspect<_, _>>::is_in_snapshot(pending, s));
		assert!(!<Inspect as DatanetsInspect<_, _>>::is_in_snapshot(0, s + 1));
	});
}

#[test]
fn later_acceptances_are_not_in_earlier_snapshots() {
	run(|| {
		let (d, s) = snapshot_with(AccessPolicy::Public);
		let late = contribute(CHARLIE, d, 3);
		accept(OWNER, late);
		let next = snapshot(OWNER, d);
		assert!(!<Inspect as DatanetsInspect<_, _>>::is_in_snapshot(late, s));
		assert!(<Inspect as DatanetsInspect<_, _>>::is_in_snapshot(late, next));
	});
}

#[test]
fn public_datanet_admits_anyone_free() {
	run(|| {
		let (_, s) = snapshot_with(AccessPolicy::Public);
		assert!(<Inspect as DatanetsInspect<_, _>>::may_train(&STRANGER, s));
		assert_eq!(<Inspect as DatanetsInspect<_, _>>::charge_training_access(&STRANGER, s), Ok(0));
		assert_eq!(free(STRANGER), INITIAL_BALANCE);
	});
}

#[test]
fn allowlist_admits_only_listed_accounts_and_owner() {
	run(|| {
		let (d, s) = snapshot_with(AccessPolicy::Allowlist(vec![CHARLIE].try_into().unwrap()));
		assert!(<Inspect as DatanetsInspect<_, _>>::may_train(&CHARLIE, s));
		assert!(<Inspect as DatanetsInspect<_, _>>::may_train(&OWNER, s));
		assert!(!<Inspect as DatanetsInspect<_, _>>::may_train(&STRANGER, s));
		assert_eq!(<Inspect as DatanetsInspect<_, _>>::charge_training_access(&CHARLIE, s), Ok(0));
		assert_eq!(
			last_event(),
			Event::TrainingAccessCharged {
				snapshot: s,
				datanet: d,
				who: CHARLIE,
				owner: OWNER,
				fee: 0
			}
		);
		assert_noop!(
			<Inspect as DatanetsInspect<_, _>>::charge_training_access(&STRANGER, s),
			Error::<Test>::TrainingNotAllowed
		);
	});
}

#[test]
fn fee_policy_pays_the_owner_per_use() {
	run(|| {
		let (d, s) = snapshot_with(AccessPolicy::FeePerUse(25));
		assert!(<Inspect as DatanetsInspect<_, _>>::may_train(&STRANGER, s));
		let owner_before = free(OWNER);
		assert_eq!(
			<Inspect as DatanetsInspect<_, _>>::charge_training_access(&STRANGER, s),
			Ok(25)
		);
		assert_eq!(
			<Inspect as DatanetsInspect<_, _>>::charge_training_access(&STRANGER, s),
			Ok(25)
		);
		assert_eq!(free(STRANGER), INITIAL_BALANCE - 50);
		assert_eq!(free(OWNER), owner_before + 50);
		assert_eq!(
			last_event(),
			Event::TrainingAccessCharged {
				snapshot: s,
				datanet: d,
				who: STRANGER,
				owner: OWNER,
				fee: 25
			}
		);
		// The owner trains free.
		assert_eq!(<Inspect as DatanetsInspect<_, _>>::charge_training_access(&OWNER, s), Ok(0));
		assert_eq!(free(OWNER), owner_before + 50);
	});
}

#[test]
fn fee_that_cannot_be_paid_changes_nothing() {
	run(|| {
		let (_, s) = snapshot_with(AccessPolicy::FeePerUse(INITIAL_BALANCE + 1));
		assert_noop!(
			<Inspect as DatanetsInspect<_, _>>::charge_training_access(&STRANGER, s),
			DispatchError::Token(TokenError::FundsUnavailable)
		);
	});
}

#[test]
fn policy_change_applies_to_existing_snapshots() {
	run(|| {
		let (d, s) = snapshot_with(AccessPolicy::Public);
		assert_ok!(Datanets::set_access_policy(
			RuntimeOrigin::signed(OWNER),
			d,
			AccessPolicy::Allowlist(Default::default())
		));
		assert!(!<Inspect as DatanetsInspect<_, _>>::may_train(&STRANGER, s));
	});
}

#[test]
fn closed_datanet_snapshots_stay_trainable() {
	run(|| {
		let (d, s) = snapshot_with(AccessPolicy::Public);
		assert_ok!(Datanets::close_datanet(RuntimeOrigin::signed(OWNER), d));
		assert_eq!(<Inspect as DatanetsInspect<_, _>>::charge_training_access(&STRANGER, s), Ok(0));
	});
}

#[test]
fn missing_snapshot_admits_no_one() {
	run(|| {
		assert!(!<Inspect as DatanetsInspect<_, _>>::may_train(&OWNER, 0));
		assert_storage_noop!(assert_eq!(
			<Inspect as DatanetsInspect<_, _>>::charge_training_access(&OWNER, 0),
			Err(Error::<Test>::SnapshotNotFound.into())
		));
	});
}

#[cfg(feature = "runtime-benchmarks")]
#[test]
fn benchmark_helper_builds_a_snapshot_for_other_pallets() {
	run(|| {
		let s = <Inspect as DatanetsInspect<_, _>>::benchmark_snapshot(&STRANGER, 3).unwrap();
		assert_eq!(<Inspect as DatanetsInspect<_, _>>::snapshot_count(s), Some(3));
		assert!(<Inspect as DatanetsInspect<_, _>>::may_train(&OWNER, s));
	});
}
