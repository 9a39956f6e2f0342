//! The owner's calls: publish, deprecate, transfer, active version and name.

use super::*;
use frame_support::assert_noop;

#[test]
fn publishes_a_draft_once() {
	run(|| {
		let (_, _, model) = trained_model();
		assert_ok!(Models::publish(RuntimeOrigin::signed(ALICE), model));
		assert_eq!(ModelRecords::<Test>::get(model).unwrap().status, ModelStatus::Published);
		assert_eq!(last_event(), Event::ModelPublished { model });
		assert_noop!(
			Models::publish(RuntimeOrigin::signed(ALICE), model),
			Error::<Test>::AlreadyPublished
		);
	});
}

#[test]
fn deprecation_is_final() {
	run(|| {
		let (_, _, model) = trained_model();
		assert_ok!(Models::publish(RuntimeOrigin::signed(ALICE), model));
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), model));
		assert_eq!(ModelRecords::<Test>::get(model).unwrap().status, ModelStatus::Deprecated);
		assert_eq!(last_event(), Event::ModelDeprecated { model });
		let origin = || RuntimeOrigin::signed(ALICE);
		assert_noop!(Models::deprecate(origin(), model), Error::<Test>::Deprecated);
		assert_noop!(Models::publish(origin(), model), Error::<Test>::Deprecated);
		assert_noop!(Models::set_active_version(origin(), model, 1), Error::<Test>::Deprecated);
		// It can still change hands.
		assert_ok!(Models::transfer_model(origin(), model, BOB));
	});
}

#[test]
fn transfers_the_model_to_a_new_owner() {
	run(|| {
		let (base, snapshot, model) = trained_model();
		assert_ok!(Models::transfer_model(RuntimeOrigin::signed(ALICE), model, BOB));
		assert_eq!(ModelRecords::<Test>::get(model).unwrap().owner, BOB);
		assert_eq!(last_event(), Event::ModelTransferred { model, from: ALICE, to: BOB });
		// The new owner manages it; the old one no longer does.
		assert_noop!(Models::publish(RuntimeOrigin::signed(ALICE), model), Error::<Test>::NotOwner);
		assert_ok!(Models::publish(RuntimeOrigin::signed(BOB), model));
		assert_noop!(
			Models::request_finetune(
				RuntimeOrigin::signed(ALICE),
				base,
				snapshot,
				hyper(),
				Agreement::Exact,
				FEE,
				1,
				TIMEOUT,
				Some(model),
			),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Models::transfer_model(RuntimeOrigin::signed(BOB), model, BOB),
			Error::<Test>::AlreadyOwner
		);
	});
}

#[test]
fn sets_the_active_version() {
	run(|| {
		let (base, snapshot, model) = trained_model();
		add_version(base, snapshot, model, 2);
		assert_ok!(Models::set_active_version(RuntimeOrigin::signed(ALICE), model, 2));
		assert_eq!(ModelRecords::<Test>::get(model).unwrap().active, Some(2));
		assert_eq!(last_event(), Event::ActiveVersionSet { model, version: 2 });
		let origin = || RuntimeOrigin::signed(ALICE);
		assert_noop!(Models::set_active_version(origin(), model, 2), Error::<Test>::AlreadyActive);
		assert_noop!(Models::set_active_version(origin(), model, 0), Error::<Test>::UnknownVersion);
		assert_noop!(Models::set_active_version(origin(), model, 3), Error::<Test>::UnknownVersion);
	});
}

#[test]
fn names_and_unnames_the_model() {
	run(|| {
		let (_, _, model) = trained_model();
		let origin = || RuntimeOrigin::signed(ALICE);
		assert_ok!(Models::set_model_name(origin(), model, Some(b"audit-lora".to_vec())));
		assert_eq!(ModelRecords::<Test>::get(model).unwrap().name, Some(bytes(b"audit-lora")));
		assert_eq!(last_event(), Event::ModelNamed { model, name: Some(bytes(b"audit-lora")) });
		assert_ok!(Models::set_model_name(origin(), model, None));
		assert_eq!(ModelRecords::<Test>::get(model).unwrap().name, None);
		assert_noop!(
			Models::set_model_name(origin(), model, Some(vec![b'x'; MAX_NAME as usize + 1])),
			Error::<Test>::NameTooLong
		);
	});
}

#[test]
fn owner_calls_refuse_unknown_models_and_other_accounts() {
	run(|| {
		let (_, _, model) = trained_model();
		let missing = model + 1;
		let bob = || RuntimeOrigin::signed(BOB);
		let alice = || RuntimeOrigin::signed(ALICE);
		assert_noop!(Models::publish(alice(), missing), Error::<Test>::UnknownModel);
		assert_noop!(Models::deprecate(alice(), missing), Error::<Test>::UnknownModel);
		assert_noop!(Models::transfer_model(alice(), missing, BOB), Error::<Test>::UnknownModel);
		assert_noop!(Models::set_active_version(alice(), missing, 1), Error::<Test>::UnknownModel);
		assert_noop!(Models::set_model_name(alice(), missing, None), Error::<Test>::UnknownModel);
		assert_noop!(Models::publish(bob(), model), Error::<Test>::NotOwner);
		assert_noop!(Models::deprecate(bob(), model), Error::<Test>::NotOwner);
		assert_noop!(Models::transfer_model(bob(), model, BOB), Error::<Test>::NotOwner);
		assert_noop!(Models::set_active_version(bob(), model, 1), Error::<Test>::NotOwner);
		assert_noop!(Models::set_model_name(bob(), model, None), Error::<Test>::NotOwner);
	});
}
