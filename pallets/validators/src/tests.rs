#![allow(clippy::unwrap_used)]

use crate::{mock::*, Error, Event, Validators as List};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::{testing::UintAuthorityId, DispatchError};

fn listed() -> Vec<u64> {
	List::<Test>::get().into_inner()
}

/// The validators of the current session.
fn active() -> Vec<u64> {
	pallet_session::Validators::<Test>::get()
}

fn rotate() {
	Session::rotate_session();
}

#[test]
fn genesis_validators_are_listed_and_active() {
	new_test_ext().execute_with(|| {
		assert_eq!(listed(), vec![1, 2, 3]);
		assert_eq!(active(), vec![1, 2, 3]);
	});
}

#[test]
fn only_the_manager_adds_and_removes() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::signed(1), 4),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Validators::remove_validator(RuntimeOrigin::signed(1), 3),
			DispatchError::BadOrigin
		);
		assert_ok!(Validators::add_validator(RuntimeOrigin::root(), 4));
		System::assert_last_event(Event::ValidatorAdded { who: 4 }.into());
		assert_eq!(listed(), vec![1, 2, 3, 4]);
	});
}

#[test]
fn bad_additions_and_removals_are_refused_and_change_nothing() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::root(), 2),
			Error::<Test>::AlreadyValidator
		);
		assert_noop!(
			Validators::remove_validator(RuntimeOrigin::root(), 7),
			Error::<Test>::NotValidator
		);
		assert_ok!(Validators::add_validator(RuntimeOrigin::root(), 4));
		// MaxValidators is 4.
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::root(), 5),
			Error::<Test>::TooManyValidators
		);
		assert_ok!(Validators::remove_validator(RuntimeOrigin::root(), 1));
		assert_ok!(Validators::remove_validator(RuntimeOrigin::root(), 4));
		System::assert_last_event(Event::ValidatorRemoved { who: 4 }.into());
		// MinValidators is 2.
		assert_noop!(
			Validators::remove_validator(RuntimeOrigin::root(), 2),
			Error::<Test>::TooFewValidators
		);
		assert_eq!(listed(), vec![2, 3]);
	});
}

#[test]
fn an_added_validator_joins_two_sessions_after_it_sets_keys() {
	new_test_ext().execute_with(|| {
		assert_ok!(Validators::add_validator(RuntimeOrigin::root(), 4));
		// Without session keys it is left out.
		rotate();
		rotate();
		assert_eq!(active(), vec![1, 2, 3]);
		assert_ok!(Session::set_keys(RuntimeOrigin::signed(4), UintAuthorityId(4), vec![]));
		// Queued at the next session, active at the one after.
		rotate();
		assert_eq!(active(), vec![1, 2, 3]);
		rotate();
		assert_eq!(active(), vec![1, 2, 3, 4]);
		assert!(System::events().iter().any(|record| matches!(
			record.event,
			RuntimeEvent::Validators(Event::NextSetChosen { validators: 4, .. })
		)));
	});
}

#[test]
fn a_removed_validator_leaves_at_the_session_after_next() {
	new_test_ext().execute_with(|| {
		assert_ok!(Validators::remove_validator(RuntimeOrigin::root(), 2));
		rotate();
		assert_eq!(active(), vec![1, 2, 3]);
		rotate();
		assert_eq!(active(), vec![1, 3]);
		// An unchanged list hands no new set to the session.
		System::reset_events();
		rotate();
		rotate();
		assert_eq!(active(), vec![1, 3]);
		assert!(!System::events().iter().any(|record| matches!(
			record.event,
			RuntimeEvent::Validators(Event::NextSetChosen { .. })
		)));
	});
}

#[test]
fn validators_that_purge_their_keys_leave_but_no_set_under_the_minimum_is_proposed() {
	new_test_ext().execute_with(|| {
		// Validators 2 and 3 drop their keys: only 1 would be left, under the minimum of 2, so
		// the pallet proposes no set.
		assert_ok!(Session::purge_keys(RuntimeOrigin::signed(2)));
		assert_ok!(Session::purge_keys(RuntimeOrigin::signed(3)));
		assert_eq!(crate::Pallet::<Test>::next_set(), None);
		// pallet-session itself leaves out validators without keys: purging is how a validator
		// steps down on its own; it stays listed until governance delists it.
		rotate();
		rotate();
		assert_eq!(active(), vec![1]);
		assert_eq!(listed(), vec![1, 2, 3]);
	});
}
