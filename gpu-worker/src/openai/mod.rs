//! The worker's OpenAI-compatible serving API over the OpenLoRA engine ([`crate::openlora`]).
//!
//! - [`protocol`]: request parsing, the chat template, payment headers, response bodies (pure).
//! - [`payments`]: signed, funded, non-replayed requests and the receipts that pay the worker
//!   (pallet-inference).
//! - [`server`]: the HTTP/1.1 service with server-sent-event streaming and adapter admin routes.
//!
//! A `model` names a model version on-chain (`"7"` for its active version, `"7:2"`), whose
//! adapter the engine serves by its content hash, or `"base"`. Paid requests carry the client's
//! account, nonce, fee cap and sr25519 signature in `x-openledger-*` headers; each answer
//! carries its receipt in an `openledger` field.

pub mod payments;
pub mod protocol;
pub mod server;

pub use payments::{Authorization, FlushReport, Ledger};

/// The tokens generation stops at: the Model's end of sequence and the chat template's end of
/// turn (`<|im_end|>`, `<|endoftext|>`) where the vocabulary has them.
pub fn stop_tokens(tokenizer: &crate::model::tokenizer::Tokenizer) -> Vec<u32> {
	let mut stops: Vec<u32> = tokenizer.eos_id().into_iter().collect();
	for special in ["<|im_end|>", "<|endoftext|>"] {
		if let Some(id) = tokenizer.token_id(special) {
			if !stops.contains(&id) {
				stops.push(id);
			}
		}
	}
	stops
}
pub use protocol::ApiError;
pub use server::{ApiConfig, ApiServer, ApiState};

#[cfg(test)]
mod tests;
