//! The signed message's layout and the runtime API queries.

use super::*;
use codec::Encode;

#[test]
fn the_signing_payload_has_the_documented_layout() {
	run(|| {
		let request_hash = H256::repeat_byte(0xab);
		let payload =
			Inference::signing_payload(&worker(), 0x0102_0304, 5, &request_hash, 0x0a0b, &0x0c0d);
		assert_eq!(payload.len(), 19 + 32 + 32 + 4 + 4 + 32 + 8 + 16);
		assert_eq!(&payload[..19], b"openledger/infer/v1");
		// Genesis leaves block 0's hash at [69; 32] in tests.
		assert_eq!(Inference::genesis_hash(), H256::repeat_byte(69));
		assert_eq!(&payload[19..51], &[69u8; 32]);
		assert_eq!(&payload[51..83], worker().as_ref() as &[u8]);
		assert_eq!(&payload[83..87], &[4, 3, 2, 1]);
		assert_eq!(&payload[87..91], &[5, 0, 0, 0]);
		assert_eq!(&payload[91..123], &[0xab; 32]);
		assert_eq!(&payload[123..131], &0x0a0bu64.to_le_bytes());
		assert_eq!(&payload[131..147], &0x0c0du128.to_le_bytes());
		assert_eq!(
			Inference::api_signing_payload(worker(), 0x0102_0304, 5, request_hash, 0x0a0b, 0x0c0d),
			payload
		);
	});
}

#[test]
fn a_signature_over_the_api_payload_settles() {
	run(|| {
		setup_with_deposit(10_000);
		// As a client would: ask the chain for the bytes, sign them.
		let payload = Inference::api_signing_payload(worker(), MODEL, 1, H256::zero(), 1, 900);
		let receipt = Receipt {
			client: alice(),
			model: MODEL,
			version: 1,
			request_hash: H256::zero(),
			nonce: 1,
			max_fee: 900,
			prompt_tokens: 300,
			completion_tokens: 200,
			signature: sp_runtime::MultiSignature::Sr25519(pair("Alice").sign(&payload)),
			attribution: Default::default(),
		};
		submit(vec![receipt]);
		assert_eq!(settled(), vec![(1, FEE)]);
	});
}

#[test]
fn queries_report_deposits_prices_and_nonces() {
	run(|| {
		assert_eq!(Inference::api_deposit_of(alice()), DepositInfo { held: 0, withdrawal: None });
		assert_eq!(Inference::api_price_of(MODEL), None);
		setup_with_deposit(10_000);
		assert_ok!(Inference::request_withdrawal(RuntimeOrigin::signed(alice()), 1_000));
		submit(vec![Request::new(3).signed()]);
		assert_eq!(
			Inference::api_deposit_of(alice()),
			DepositInfo {
				held: 10_000 - FEE,
				withdrawal: Some(Withdrawal { amount: 1_000, unlock_at: 1 + WITHDRAW_DELAY })
			}
		);
		assert_eq!(Inference::api_price_of(MODEL), Some(PRICE));
		assert_eq!(Inference::api_nonce_of(alice(), worker()), 3);
		assert_eq!(Inference::api_nonce_of(alice(), worker2()), 0);
	});
}

#[test]
fn receipts_encode_in_the_documented_field_order() {
	run(|| {
		let receipt = Request::new(1).signed();
		let mut expected = alice().encode();
		expected.extend(MODEL.encode());
		expected.extend(1u32.encode());
		expected.extend(receipt.request_hash.encode());
		expected.extend(1u64.encode());
		expected.extend(10_000u128.encode());
		expected.extend(300u32.encode());
		expected.extend(200u32.encode());
		expected.extend(receipt.signature.encode());
		// The attribution: compact length 2, then (u64 contribution, u32 parts per billion) each.
		expected.push(2 << 2);
		expected.extend(11u64.to_le_bytes());
		expected.extend(600_000_000u32.to_le_bytes());
		expected.extend(12u64.to_le_bytes());
		expected.extend(400_000_000u32.to_le_bytes());
		assert_eq!(receipt.encode(), expected);
	});
}
