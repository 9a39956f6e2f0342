//! Paid requests: checking a client's signed request against the chain before serving it, and
//! the receipts that get the worker paid.
//!
//! Before a paid request is served, [`Ledger::authorize`] checks, in order: the client's
//! sr25519 signature over pallet-inference's signing payload (this chain's genesis, this worker,
//! the model version, the body's blake2-256, the nonce and the fee cap); that the model has a
//! price; that the nonce is above both the last one the chain settled and the last one this
//! worker accepted (so a request cannot be replayed, here or on-chain); and that the client's
//! spendable deposit covers the fee cap on top of what this worker is already owed by the client
//! and has not yet seen settled. The fee cap is then reserved.
//!
//! When generation ends, [`Ledger::settle`] turns the reservation into a [`Receipt`] with the
//! real token counts (the fee is `min(max_fee, ceil(price * tokens / 1000))`, as the chain
//! computes it) and queues it. [`Ledger::flush`] submits queued receipts in batches, in nonce
//! order per client, and releases what the chain has settled (the client's nonce on-chain has
//! reached the receipt's) or dropped (not settled within [`SETTLE_WINDOW`] blocks).

use super::protocol::{ApiError, PaymentHeaders};
use crate::chain::{
	inference::{self, AttributionEntry, MultiSignature, Receipt, ServedVersion},
	Chain,
};
use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
};

/// Blocks a submitted receipt has to show up as settled before it is given up on.
pub const SETTLE_WINDOW: u32 = 20;

/// Receipts per `submit_receipts` transaction: the runtime's bound (`MaxReceipts`, 128), since
/// one batch goes out per flush. (Batches of 32 would pack a full block slightly better, 1,120
/// against 1,024 settlements: docs/PERFORMANCE.md.)
pub const MAX_BATCH: usize = 128;

/// A paid request that may be served: the reservation [`Ledger::settle`] turns into a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorization {
	/// Who pays.
	pub client: [u8; 32],
	/// The model version served.
	pub model: u32,
	/// Its version.
	pub version: u32,
	/// blake2-256 of the request body.
	pub request_hash: [u8; 32],
	/// The client's nonce.
	pub nonce: u64,
	/// The fee cap.
	pub max_fee: u128,
	/// The client's signature.
	pub signature: [u8; 64],
	/// The model's price per 1,000 tokens when authorized.
	pub price: u128,
}

/// What a flush did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushReport {
	/// Receipts handed to the chain.
	pub submitted: usize,
	/// Receipts the chain shows as settled since the last flush.
	pub settled: usize,
	/// Receipts given up on (not settled within [`SETTLE_WINDOW`] blocks).
	pub dropped: usize,
}

#[derive(Default)]
struct State {
	/// The highest nonce accepted from each client.
	nonces: HashMap<[u8; 32], u64>,
	/// Per client, what is reserved or owed to this worker and not yet settled on-chain.
	outstanding: HashMap<[u8; 32], u128>,
	/// Receipts waiting to be submitted, with their fee.
	queued: Vec<(Receipt, u128)>,
	/// Submitted receipts, with their fee and the best block at submission.
	in_flight: Vec<(Receipt, u128, u32)>,
}

impl State {
	fn release(&mut self, client: &[u8; 32], amount: u128) {
		if let Some(owed) = self.outstanding.get_mut(client) {
			*owed = owed.saturating_sub(amount);
			if *owed == 0 {
				self.outstanding.remove(client);
			}
		}
	}
}

/// The worker's book of paid requests.
pub struct Ledger {
	chain: Arc<dyn Chain>,
	state: Mutex<State>,
}

impl Ledger {
	/// A ledger against `chain` (the worker's account receives the fees).
	pub fn new(chain: Arc<dyn Chain>) -> Self {
		Self { chain, state: Mutex::new(State::default()) }
	}

	fn state(&self) -> std::sync::MutexGuard<'_, State> {
		// A poisoned lock only means a panic elsewhere; the book itself stays consistent.
		self.state.lock().unwrap_or_else(|e| e.into_inner())
	}

	/// Checks a paid request for `version` whose body hashes to `request_hash` and reserves its
	/// fee cap; see the module docs for the checks.
	pub async fn authorize(
		&self,
		payment: &PaymentHeaders,
		version: &ServedVersion,
		request_hash: [u8; 32],
	) -> Result<Authorization, ApiError> {
		let message = inference::signing_payload(
			&self.chain.genesis(),
			&self.chain.account(),
			version.model,
			version.version,
			&request_hash,
			payment.nonce,
			payment.max_fee,
		);
		if !inference::verify(&payment.client, &message, &payment.signature) {
			return Err(ApiError::Unauthorized(format!(
				"the signature does not verify: sign pallet-inference's signing payload for this \
				 worker (0x{}), model {} version {}, the body's blake2-256 (0x{}), nonce {} and max \
				 fee {}",
				hex::encode(self.chain.account()),
				version.model,
				version.version,
				hex::encode(request_hash),
				payment.nonce,
				payment.max_fee
			)));
		}
		let unavailable =
			|e: crate::chain::ChainError| ApiError::Unavailable(format!("chain: {e}"));
		let price =
			self.chain.inference_price(version.model).await.map_err(unavailable)?.ok_or_else(
				|| {
					ApiError::PaymentRequired(format!(
						"model {} has no price: it is not served paid",
						version.model
					))
				},
			)?;
		let settled_nonce =
			self.chain.inference_nonce(payment.client).await.map_err(unavailable)?;
		let deposit = self.chain.inference_deposit(payment.client).await.map_err(unavailable)?;

		let mut state = self.state();
		let last = state.nonces.get(&payment.client).copied().unwrap_or(0).max(settled_nonce);
		if payment.nonce <= last {
			return Err(ApiError::Replayed(format!(
				"nonce {} was used: the next request needs a nonce above {last}",
				payment.nonce
			)));
		}
		let owed = state.outstanding.get(&payment.client).copied().unwrap_or(0);
		let spendable = deposit.spendable();
		if owed.saturating_add(payment.max_fee) > spendable {
			return Err(ApiError::PaymentRequired(format!(
				"the deposit cannot cover this request: {spendable} plancks spendable, {owed} \
				 owed to this worker, max fee {}",
				payment.max_fee
			)));
		}
		state.nonces.insert(payment.client, payment.nonce);
		*state.outstanding.entry(payment.client).or_default() =
			owed.saturating_add(payment.max_fee);
		Ok(Authorization {
			client: payment.client,
			model: version.model,
			version: version.version,
			request_hash,
			nonce: payment.nonce,
			max_fee: payment.max_fee,
			signature: payment.signature,
			price,
		})
	}

	/// The request was served with these token counts: queues its receipt and returns it with
	/// its fee. A request whose fee is zero (a zero price) has no receipt.
	pub fn settle(
		&self,
		auth: &Authorization,
		prompt_tokens: u32,
		completion_tokens: u32,
		attribution: Vec<AttributionEntry>,
	) -> Option<(Receipt, u128)> {
		let fee = inference::fee(
			auth.price,
			prompt_tokens.saturating_add(completion_tokens),
			auth.max_fee,
		);
		let mut state = self.state();
		state.release(&auth.client, auth.max_fee.saturating_sub(fee));
		if fee == 0 {
			return None;
		}
		let receipt = Receipt {
			client: auth.client,
			model: auth.model,
			version: auth.version,
			request_hash: auth.request_hash,
			nonce: auth.nonce,
			max_fee: auth.max_fee,
			prompt_tokens,
			completion_tokens,
			signature: MultiSignature::Sr25519(auth.signature),
			attribution,
		};
		state.queued.push((receipt.clone(), fee));
		Some((receipt, fee))
	}

	/// Nothing was served: releases the reservation (the nonce stays used).
	pub fn cancel(&self, auth: &Authorization) {
		self.state().release(&auth.client, auth.max_fee);
	}

	/// What `client` owes this worker that the chain has not settled yet (reserved included).
	pub fn outstanding(&self, client: &[u8; 32]) -> u128 {
		self.state().outstanding.get(client).copied().unwrap_or(0)
	}

	/// Receipts queued and not yet submitted.
	pub fn queued(&self) -> usize {
		self.state().queued.len()
	}

	/// Releases settled and expired receipts, then submits up to [`MAX_BATCH`] queued ones.
	pub async fn flush(&self) -> Result<FlushReport, crate::chain::ChainError> {
		let mut report = FlushReport::default();
		let best = self.chain.best_block().await?;
		let clients: Vec<[u8; 32]> = {
			let state = self.state();
			let mut clients: Vec<_> = state.in_flight.iter().map(|(r, _, _)| r.client).collect();
			clients.sort();
			clients.dedup();
			clients
		};
		let mut settled_nonces = HashMap::new();
		for client in clients {
			settled_nonces.insert(client, self.chain.inference_nonce(client).await?);
		}
		{
			let mut state = self.state();
			let in_flight = std::mem::take(&mut state.in_flight);
			for (receipt, fee, at) in in_flight {
				let settled =
					settled_nonces.get(&receipt.client).is_some_and(|&n| n >= receipt.nonce);
				if settled {
					report.settled += 1;
					state.release(&receipt.client, fee);
				} else if best.saturating_sub(at) > SETTLE_WINDOW {
					report.dropped += 1;
					state.release(&receipt.client, fee);
				} else {
					state.in_flight.push((receipt, fee, at));
				}
			}
		}
		let batch: Vec<(Receipt, u128)> = {
			let mut state = self.state();
			state.queued.sort_by_key(|(r, _)| (r.client, r.nonce));
			let take = state.queued.len().min(MAX_BATCH);
			state.queued.drain(..take).collect()
		};
		if batch.is_empty() {
			return Ok(report);
		}
		let receipts: Vec<Receipt> = batch.iter().map(|(r, _)| r.clone()).collect();
		match self.chain.submit_receipts(receipts).await {
			Ok(()) => {
				report.submitted = batch.len();
				let mut state = self.state();
				state.in_flight.extend(batch.into_iter().map(|(r, fee)| (r, fee, best)));
				Ok(report)
			}
			Err(e) => {
				// Back in the queue for the next flush.
				let mut state = self.state();
				state.queued.extend(batch);
				Err(e)
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::chain::{
		inference::DepositInfo,
		testing::{FakeChain, GENESIS},
	};
	use sp_core::{sr25519, Pair};

	const WORKER: [u8; 32] = [0x77; 32];

	fn version() -> ServedVersion {
		ServedVersion {
			model: 3,
			version: 1,
			base_hash: [1; 32],
			adapter_hash: [2; 32],
			config_hash: [3; 32],
			attribution_index: [4; 32],
		}
	}

	fn setup(held: u128) -> (Arc<FakeChain>, Ledger, sr25519::Pair) {
		let chain = Arc::new(FakeChain::registered(WORKER, 1));
		let client = sr25519::Pair::from_string("//Alice", None).unwrap();
		chain.update(|s| {
			s.versions.insert((3, 1), version());
			s.prices.insert(3, 2_000);
			s.deposits.insert(client.public().0, DepositInfo { held, withdrawal: None });
		});
		let ledger = Ledger::new(chain.clone());
		(chain, ledger, client)
	}

	fn signed(client: &sr25519::Pair, hash: [u8; 32], nonce: u64, max_fee: u128) -> PaymentHeaders {
		let message = inference::signing_payload(&GENESIS, &WORKER, 3, 1, &hash, nonce, max_fee);
		PaymentHeaders {
			client: client.public().0,
			nonce,
			max_fee,
			signature: client.sign(&message).0,
		}
	}

	#[tokio::test]
	async fn a_signed_funded_request_is_served_and_its_receipt_settles_on_chain() {
		let (chain, ledger, client) = setup(1_000);
		let auth =
			ledger.authorize(&signed(&client, [9; 32], 1, 500), &version(), [9; 32]).await.unwrap();
		assert_eq!(ledger.outstanding(&client.public().0), 500);
		// 60 tokens at 2,000 per 1,000: 120.
		let (receipt, fee) = ledger.settle(&auth, 20, 40, Vec::new()).unwrap();
		assert_eq!((fee, receipt.prompt_tokens, receipt.completion_tokens), (120, 20, 40));
		assert_eq!(ledger.outstanding(&client.public().0), 120);

		let report = ledger.flush().await.unwrap();
		assert_eq!(report.submitted, 1);
		assert_eq!(chain.read(|s| s.settled.clone()), vec![(receipt, 120)]);
		assert_eq!(chain.read(|s| s.deposits[&client.public().0].held), 880);
		// The next flush sees the chain's nonce and releases what was owed.
		chain.advance();
		assert_eq!(ledger.flush().await.unwrap().settled, 1);
		assert_eq!(ledger.outstanding(&client.public().0), 0);
	}

	#[tokio::test]
	async fn bad_signatures_replays_and_unfunded_requests_are_refused() {
		let (chain, ledger, client) = setup(1_000);
		let v = version();
		// Signed for another body.
		let other = signed(&client, [8; 32], 1, 500);
		assert!(matches!(
			ledger.authorize(&other, &v, [9; 32]).await,
			Err(ApiError::Unauthorized(_))
		));
		// Signed by someone else for this client.
		let bob = sr25519::Pair::from_string("//Bob", None).unwrap();
		let forged = PaymentHeaders { client: client.public().0, ..signed(&bob, [9; 32], 1, 500) };
		assert!(matches!(
			ledger.authorize(&forged, &v, [9; 32]).await,
			Err(ApiError::Unauthorized(_))
		));
		// More than the deposit.
		let greedy = signed(&client, [9; 32], 1, 1_001);
		assert!(matches!(
			ledger.authorize(&greedy, &v, [9; 32]).await,
			Err(ApiError::PaymentRequired(_))
		));
		// Reservations add up: two of 500 fit, a third does not.
		for nonce in [1, 2] {
			ledger.authorize(&signed(&client, [9; 32], nonce, 500), &v, [9; 32]).await.unwrap();
		}
		assert!(matches!(
			ledger.authorize(&signed(&client, [9; 32], 3, 1), &v, [9; 32]).await,
			Err(ApiError::PaymentRequired(_))
		));
		// A used nonce, here or settled on-chain, is a replay.
		assert!(matches!(
			ledger.authorize(&signed(&client, [9; 32], 2, 1), &v, [9; 32]).await,
			Err(ApiError::Replayed(_))
		));
		chain.update(|s| s.nonces.insert(client.public().0, 10));
		assert!(matches!(
			ledger.authorize(&signed(&client, [9; 32], 10, 1), &v, [9; 32]).await,
			Err(ApiError::Replayed(_))
		));
		// No price: not served paid.
		chain.update(|s| s.prices.clear());
		assert!(matches!(
			ledger.authorize(&signed(&client, [9; 32], 11, 1), &v, [9; 32]).await,
			Err(ApiError::PaymentRequired(_))
		));
	}

	#[tokio::test]
	async fn cancelled_requests_release_their_reservation_and_failed_submits_retry() {
		let (chain, ledger, client) = setup(1_000);
		let v = version();
		let auth = ledger.authorize(&signed(&client, [9; 32], 1, 400), &v, [9; 32]).await.unwrap();
		ledger.cancel(&auth);
		assert_eq!(ledger.outstanding(&client.public().0), 0);

		let auth = ledger.authorize(&signed(&client, [9; 32], 2, 400), &v, [9; 32]).await.unwrap();
		ledger.settle(&auth, 10, 10, Vec::new()).unwrap();
		chain.update(|s| s.failing_receipt_submits = 1);
		assert!(ledger.flush().await.is_err());
		assert_eq!(ledger.queued(), 1);
		assert_eq!(chain.read(|s| s.settled.len()), 0);
		assert_eq!(ledger.flush().await.unwrap().submitted, 1);
		assert_eq!(chain.read(|s| s.settled.len()), 1);
	}

	#[tokio::test]
	async fn receipts_the_chain_never_settles_are_dropped_after_the_window() {
		let (chain, ledger, client) = setup(1_000);
		let auth =
			ledger.authorize(&signed(&client, [9; 32], 1, 400), &version(), [9; 32]).await.unwrap();
		ledger.settle(&auth, 10, 10, Vec::new()).unwrap();
		// The chain refuses it (its deposit is gone by then).
		chain.update(|s| s.deposits.clear());
		assert_eq!(ledger.flush().await.unwrap().submitted, 1);
		assert_eq!(chain.read(|s| s.rejected.len()), 1);
		for _ in 0..SETTLE_WINDOW {
			chain.advance();
		}
		assert_eq!(ledger.flush().await.unwrap().dropped, 0);
		chain.advance();
		assert_eq!(ledger.flush().await.unwrap().dropped, 1);
		assert_eq!(ledger.outstanding(&client.public().0), 0);
	}
}
