//! Transaction fees go to the treasury; issuance never changes.

use super::*;
use crate::{tokenomics::*, Balances, RuntimeEvent};

fn fee_paid_by(who: &AccountId) -> Balance {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid {
					who: payer,
					actual_fee,
					..
				},
			) if &payer == who => Some(actual_fee),
			_ => None,
		})
		.sum()
}

#[test]
fn a_transfer_pays_its_fee_to_the_treasury_and_conserves_issuance() {
	dev_ext().execute_with(|| {
		let alice = Sr25519Keyring::Alice;
		let fresh = Sr25519Keyring::One.to_account_id();
		let alice_before = free(&alice.to_account_id());
		start_block(1);

		let xt = signed(alice, transfer(&fresh, 25 * OPEN));
		assert_eq!(Executive::apply_extrinsic(xt), Ok(Ok(())));

		let fee = fee_paid_by(&alice.to_account_id());
		assert!(fee > 0);
		assert_eq!(free(&fresh), 25 * OPEN);
		assert_eq!(free(&alice.to_account_id()), alice_before - 25 * OPEN - fee);
		assert_eq!(free(&treasury_account()), fee);
		assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
		// A plain transfer costs between 0.1 and 10 milli-OPEN.
		assert!(fee > MILLI_OPEN / 10 && fee < 10 * MILLI_OPEN, "fee {fee}");
	});
}

#[test]
fn fees_below_the_existential_deposit_are_not_burned() {
	dev_ext().execute_with(|| {
		// A fee smaller than the existential deposit cannot open the treasury account; it
		// lands in the community pool instead of being destroyed.
		use frame_support::traits::{
			fungible::Balanced, tokens::Fortitude, tokens::Precision, tokens::Preservation,
			OnUnbalanced,
		};
		let alice = Sr25519Keyring::Alice.to_account_id();
		let pool_before = free(&community_pool_account());
		let credit = <Balances as Balanced<AccountId>>::withdraw(
			&alice,
			EXISTENTIAL_DEPOSIT / 2,
			Precision::Exact,
			Preservation::Preserve,
			Fortitude::Polite,
		)
		.unwrap();
		crate::configs::FeesToTreasury::on_unbalanced(credit);
		assert_eq!(free(&treasury_account()), 0);
		assert_eq!(free(&community_pool_account()), pool_before + EXISTENTIAL_DEPOSIT / 2);
		assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY);
	});
}
