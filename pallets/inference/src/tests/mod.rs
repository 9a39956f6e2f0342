//! Unit tests, one file per area. Every test runs through [`run`], which checks the pallet's
//! invariants (`try_state`) after the test body. Signatures are real sr25519 signatures by dev
//! keys (`//Alice`, ...), wrapped in `MultiSignature` as in the runtime.

#![allow(
	clippy::arithmetic_side_effects,
	clippy::expect_used,
	clippy::indexing_slicing,
	clippy::panic,
	clippy::unwrap_used
)]

mod api;
mod batches;
mod deposits;
mod infer;
mod issuance;
mod prices;
mod receipts;
mod replay;

use crate::{mock::*, *};
use frame_support::{
	assert_ok,
	dispatch::DispatchResultWithPostInfo,
	traits::fungible::{Inspect, InspectHold},
};
use sp_core::{Pair, H256};
use sp_runtime::MultiSignature;

pub use crate::mock::run;

/// The priced model, owned by [`owner`], with versions 1 and 2.
pub const MODEL: ModelId = 7;
/// One unit per token.
pub const PRICE: Balance = 1_000;
/// What the default request ([`Request::new`]) costs: 300 + 200 tokens at [`PRICE`].
pub const FEE: Balance = 500;
/// The worker's and the owner's part of [`FEE`] at 70 %.
pub const TO_WORKER: Balance = 350;
pub const TO_OWNER: Balance = 150;

/// An attribution entry: `contribution` at `percent` %.
pub fn entry(contribution: ContributionId, percent: u32) -> AttributionEntry {
	AttributionEntry { contribution, weight: sp_runtime::Perbill::from_percent(percent) }
}

pub fn alice() -> AccountId {
	account("Alice")
}
pub fn bob() -> AccountId {
	account("Bob")
}
pub fn owner() -> AccountId {
	account("Owner")
}
pub fn worker() -> AccountId {
	account("Worker1")
}
pub fn worker2() -> AccountId {
	account("Worker2")
}
pub fn stranger() -> AccountId {
	account("Stranger")
}

/// [`MODEL`] with two versions and [`PRICE`], workers 1 and 2 registered.
pub fn setup() {
	add_model(MODEL, owner(), 2);
	add_worker(worker());
	add_worker(worker2());
	assert_ok!(Inference::set_price(RuntimeOrigin::signed(owner()), MODEL, PRICE));
}

/// [`setup`], and `amount` on deposit for Alice.
pub fn setup_with_deposit(amount: Balance) {
	setup();
	assert_ok!(Inference::deposit(RuntimeOrigin::signed(alice()), amount));
}

/// A request as a client signs it; [`Request::signed`] turns it into the worker's receipt.
#[derive(Clone)]
pub struct Request {
	/// The dev key name of the signer.
	pub signer: &'static str,
	pub client: AccountId,
	pub worker: AccountId,
	pub genesis: H256,
	pub model: ModelId,
	pub version: VersionIndex,
	pub request_hash: H256,
	pub nonce: u64,
	pub max_fee: Balance,
	pub prompt_tokens: u32,
	pub completion_tokens: u32,
	/// The worker's attribution (not signed by the client).
	pub attribution: Vec<AttributionEntry>,
}

impl Request {
	/// Alice asks [`worker`] for 300 + 200 tokens of [`MODEL`] v1, paying up to 10,000.
	pub fn new(nonce: u64) -> Self {
		Request {
			signer: "Alice",
			client: alice(),
			worker: worker(),
			genesis: Inference::genesis_hash(),
			model: MODEL,
			version: 1,
			request_hash: H256::from_low_u64_be(nonce),
			nonce,
			max_fee: 10_000,
			prompt_tokens: 300,
			completion_tokens: 200,
			attribution: vec![entry(11, 60), entry(12, 40)],
		}
	}

	/// The same request from `name`, signed by `name`.
	pub fn by(mut self, name: &'static str) -> Self {
		self.signer = name;
		self.client = account(name);
		self
	}

	/// The receipt, with the signer's signature over the request.
	pub fn signed(&self) -> ReceiptOf<Test> {
		let payload = signing_payload(
			&self.genesis,
			&self.worker,
			self.model,
			self.version,
			&self.request_hash,
			self.nonce,
			&self.max_fee,
		);
		Receipt {
			client: self.client.clone(),
			model: self.model,
			version: self.version,
			request_hash: self.request_hash,
			nonce: self.nonce,
			max_fee: self.max_fee,
			prompt_tokens: self.prompt_tokens,
			completion_tokens: self.completion_tokens,
			signature: MultiSignature::Sr25519(pair(self.signer).sign(&payload)),
			attribution: self.attribution.clone().try_into().expect("fits MaxAttribution"),
		}
	}
}

/// `worker` submits `receipts`.
pub fn submit_as(worker: AccountId, receipts: Vec<ReceiptOf<Test>>) -> DispatchResultWithPostInfo {
	Inference::submit_receipts(
		RuntimeOrigin::signed(worker),
		receipts.try_into().expect("the test batch fits MaxReceipts"),
	)
}

/// [`worker`] submits `receipts`, and the call succeeds.
pub fn submit(receipts: Vec<ReceiptOf<Test>>) {
	assert_ok!(submit_as(worker(), receipts));
}

/// What `who` holds on deposit, by the currency.
pub fn held(who: &AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::InferenceDeposit.into(), who)
}

pub fn free(who: &AccountId) -> Balance {
	Balances::balance(who)
}

/// This pallet's events so far.
pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Inference(event) => Some(event),
			_ => None,
		})
		.collect()
}

pub fn last_event() -> Event<Test> {
	events().pop().expect("an event was emitted")
}

/// `(index, reason)` of every rejected receipt so far.
pub fn rejected() -> Vec<(u32, RejectReason)> {
	events()
		.into_iter()
		.filter_map(|e| match e {
			Event::ReceiptRejected { index, reason } => Some((index, reason)),
			_ => None,
		})
		.collect()
}

/// `(nonce, fee)` of every settled receipt so far.
pub fn settled() -> Vec<(u64, Balance)> {
	events()
		.into_iter()
		.filter_map(|e| match e {
			Event::ReceiptSettled { nonce, fee, .. } => Some((nonce, fee)),
			_ => None,
		})
		.collect()
}

/// Submits one receipt and returns the reason it was rejected; panics if it settled.
pub fn rejection_of(receipt: ReceiptOf<Test>) -> RejectReason {
	let before = rejected().len();
	submit(vec![receipt]);
	let after = rejected();
	assert_eq!(after.len(), before + 1, "the receipt was not rejected");
	after.last().unwrap().1
}
