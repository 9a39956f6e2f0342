//! Prices: set and cleared by the model's owner only.

use super::*;
use frame_support::assert_noop;

#[test]
fn the_owner_sets_and_clears_the_price() {
	run(|| {
		add_model(MODEL, owner(), 1);
		let origin = || RuntimeOrigin::signed(owner());
		assert_ok!(Inference::set_price(origin(), MODEL, 2_500));
		assert_eq!(Prices::<Test>::get(MODEL), Some(2_500));
		assert_eq!(last_event(), Event::PriceSet { model: MODEL, price_per_1k_tokens: 2_500 });
		assert_ok!(Inference::set_price(origin(), MODEL, 3_000));
		assert_eq!(Prices::<Test>::get(MODEL), Some(3_000));
		assert_ok!(Inference::clear_price(origin(), MODEL));
		assert_eq!(Prices::<Test>::get(MODEL), None);
		assert_eq!(last_event(), Event::PriceCleared { model: MODEL });
		assert_noop!(Inference::clear_price(origin(), MODEL), Error::<Test>::NoPrice);
	});
}

#[test]
fn only_the_owner_prices_a_model() {
	run(|| {
		add_model(MODEL, owner(), 1);
		let other = || RuntimeOrigin::signed(stranger());
		assert_noop!(Inference::set_price(other(), MODEL, 1), Error::<Test>::NotOwner);
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(owner()), MODEL, 1));
		assert_noop!(Inference::clear_price(other(), MODEL), Error::<Test>::NotOwner);
		assert_noop!(Inference::set_price(other(), MODEL + 1, 1), Error::<Test>::UnknownModel);
		assert_noop!(Inference::clear_price(other(), MODEL + 1), Error::<Test>::UnknownModel);
	});
}

#[test]
fn refuses_a_zero_price() {
	run(|| {
		add_model(MODEL, owner(), 1);
		assert_noop!(
			Inference::set_price(RuntimeOrigin::signed(owner()), MODEL, 0),
			Error::<Test>::ZeroPrice
		);
	});
}

#[test]
fn a_new_owner_takes_over_the_price() {
	run(|| {
		add_model(MODEL, owner(), 1);
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(owner()), MODEL, 1_000));
		add_model(MODEL, bob(), 1);
		assert_noop!(
			Inference::clear_price(RuntimeOrigin::signed(owner()), MODEL),
			Error::<Test>::NotOwner
		);
		assert_ok!(Inference::clear_price(RuntimeOrigin::signed(bob()), MODEL));
	});
}

#[test]
fn a_model_without_a_price_is_not_served_paid() {
	run(|| {
		setup_with_deposit(10_000);
		assert_ok!(Inference::clear_price(RuntimeOrigin::signed(owner()), MODEL));
		assert_eq!(rejection_of(Request::new(1).signed()), RejectReason::NoPrice);
		assert_eq!(held(&alice()), 10_000);
	});
}
