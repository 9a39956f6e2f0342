//! Registering base models: the deposit, duplicate files and bounds.

use super::*;
use frame_support::{assert_noop, traits::fungible::InspectHold};

#[test]
fn registers_base_model_and_holds_deposit() {
	run(|| {
		let base = register_base(0);
		let record = BaseModels::<Test>::get(base).unwrap();
		assert_eq!(record.owner, ALICE);
		assert_eq!(record.content_hash, model_file(0));
		assert_eq!(record.architecture.to_vec(), b"llama".to_vec());
		assert_eq!(record.parameters, 134_515_008);
		assert_eq!((record.deposit, record.registered_at), (BASE_DEPOSIT, 1));
		assert_eq!(BaseModelHashes::<Test>::get(model_file(0)), Some(base));
		assert_eq!(
			Balances::balance_on_hold(&HoldReason::BaseModelDeposit.into(), &ALICE),
			BASE_DEPOSIT
		);
		assert_eq!(free(ALICE), INITIAL_BALANCE - BASE_DEPOSIT);
		assert_eq!(
			last_event(),
			Event::BaseModelRegistered {
				base,
				owner: ALICE,
				content_hash: model_file(0),
				deposit: BASE_DEPOSIT,
			}
		);
		assert_eq!(register_base(1), base + 1);
	});
}

#[test]
fn rejects_duplicate_content_hash() {
	run(|| {
		register_base(0);
		assert_noop!(
			Models::register_base_model(
				RuntimeOrigin::signed(BOB),
				b"copy".to_vec(),
				model_file(0),
				b"llama".to_vec(),
				1,
				Vec::new(),
			),
			Error::<Test>::DuplicateBaseModel
		);
	});
}

#[test]
fn rejects_overlong_fields() {
	run(|| {
		let long = vec![b'x'; 17];
		let register = |name: &[u8], arch: &[u8], license: &[u8]| {
			Models::register_base_model(
				RuntimeOrigin::signed(ALICE),
				name.to_vec(),
				model_file(0),
				arch.to_vec(),
				1,
				license.to_vec(),
			)
		};
		assert_noop!(register(&long, b"llama", b"mit"), Error::<Test>::NameTooLong);
		assert_noop!(register(b"m", &long, b"mit"), Error::<Test>::ArchitectureTooLong);
		assert_noop!(register(b"m", b"llama", &long), Error::<Test>::LicenseTooLong);
		// At the bounds they fit.
		let fits = vec![b'x'; MAX_NAME as usize];
		assert_ok!(register(&fits, &fits, &fits));
	});
}

#[test]
fn rejects_registration_without_the_deposit() {
	run(|| {
		assert_noop!(
			Models::register_base_model(
				RuntimeOrigin::signed(77),
				b"m".to_vec(),
				model_file(0),
				b"llama".to_vec(),
				1,
				Vec::new(),
			),
			Error::<Test>::InsufficientBalance
		);
	});
}
