//! [`JobKind::Infer`]: complete a prompt with a model version, on-chain: the trust-minimized path
//! for small calls, where replicated workers must agree on the answer.
//!
//! The flow of a job: decode its [`InferSpec`]; look the version up on-chain (its adapter and
//! base hashes); run the prompt through the OpenLoRA engine with the version's adapter, greedy
//! (temperature 0), so every worker computes the same tokens; report an [`InferResult`] (the
//! completion's text and the token counts), whose blake2-256 replicated workers agree on.
//!
//! The completion is UTF-8, cut at a character boundary so that the payload fits the chain's
//! result bound ([`MAX_COMPLETION_BYTES`]).

use super::{Executor, JobError, JobOutput};
use crate::{
	attribution::{index::AnswerTrace, service::AttributionService},
	chain::inference::attribution_entries,
};
use crate::{
	chain::{
		types::{AssignedJob, InferResult, InferSpec, JobKind},
		Chain,
	},
	model::tokenizer::Tokenizer,
	openlora::{AdapterId, EngineHandle, Event, Request},
};
use async_trait::async_trait;
use codec::{DecodeAll, Encode};
use std::sync::Arc;

/// Largest completion reported, in bytes (the chain keeps result payloads up to 4096 bytes).
pub const MAX_COMPLETION_BYTES: usize = 4000;

/// Runs [`JobKind::Infer`] jobs on the serving engine.
pub struct InferExecutor {
	chain: Arc<dyn Chain>,
	engine: EngineHandle,
	tokenizer: Arc<Tokenizer>,
	base_hash: [u8; 32],
	stop_tokens: Vec<u32>,
	attribution: Option<Arc<AttributionService>>,
}

impl InferExecutor {
	/// An executor serving versions of the base Model whose file hashes to `base_hash` (the
	/// one `engine` holds, read by `tokenizer`).
	pub fn new(
		chain: Arc<dyn Chain>,
		engine: EngineHandle,
		tokenizer: Arc<Tokenizer>,
		base_hash: [u8; 32],
	) -> Self {
		let stop_tokens = crate::openai::stop_tokens(&tokenizer);
		Self { chain, engine, tokenizer, base_hash, stop_tokens, attribution: None }
	}

	/// Attributes every answer of a version with an attribution index through `service`.
	pub fn with_attribution(mut self, service: Arc<AttributionService>) -> Self {
		self.attribution = Some(service);
		self
	}
}

/// The completion's text for `tokens`: UTF-8 (a byte sequence the tokens leave incomplete
/// becomes U+FFFD), cut at a character boundary to at most [`MAX_COMPLETION_BYTES`].
pub fn completion_text(tokenizer: &Tokenizer, tokens: &[u32]) -> String {
	let mut text = String::from_utf8_lossy(&tokenizer.decode_bytes(tokens)).into_owned();
	if text.len() > MAX_COMPLETION_BYTES {
		let cut = (0..=MAX_COMPLETION_BYTES).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
		text.truncate(cut);
	}
	text
}

#[async_trait]
impl Executor for InferExecutor {
	fn kind(&self) -> JobKind {
		JobKind::Infer
	}

	async fn execute(&self, job: &AssignedJob) -> Result<JobOutput, JobError> {
		let spec = InferSpec::decode_all(&mut &job.spec[..])
			.map_err(|e| JobError::InvalidSpec(format!("not an infer spec: {e}")))?;
		let prompt = std::str::from_utf8(&spec.prompt)
			.map_err(|_| JobError::InvalidSpec("the prompt is not UTF-8".into()))?;
		let version = self
			.chain
			.model_version(spec.model, Some(spec.version))
			.await
			.map_err(|e| JobError::Inputs(format!("looking up the model version: {e}")))?
			.ok_or_else(|| {
				JobError::Failed(format!("model {} has no version {}", spec.model, spec.version))
			})?;
		if version.base_hash != self.base_hash {
			return Err(JobError::Failed(format!(
				"model {} adapts base 0x{}, this worker serves 0x{}",
				spec.model,
				hex::encode(version.base_hash),
				hex::encode(self.base_hash)
			)));
		}
		let adapter = AdapterId::from(version.adapter_hash);
		self.engine.register_adapter_config(adapter, sp_core::H256(version.config_hash));
		let tokens = self.tokenizer.encode(prompt);
		let request = Request {
			adapter: Some(adapter),
			prompt: tokens.clone(),
			max_tokens: spec.max_tokens,
			stop_tokens: self.stop_tokens.clone(),
			temperature: 0.0,
			..Request::default()
		};
		let (mut events, capture) = match &self.attribution {
			Some(service) => {
				service.submit(&self.engine, &version.attribution_index, request).await
			}
			None => self.engine.submit(request).map(|events| (events, None)),
		}
		.map_err(|e| JobError::Failed(e.to_string()))?;
		let mut generated = Vec::new();
		loop {
			match events.recv().await {
				Some(Event::Token { id }) => generated.push(id),
				Some(Event::Done { .. }) => break,
				Some(Event::Error(e)) => return Err(JobError::Failed(e.to_string())),
				None => return Err(JobError::Failed("the engine stopped".into())),
			}
		}
		let attribution = match &self.attribution {
			Some(service) => {
				let trace =
					AnswerTrace { prompt: tokens.clone(), answer: generated.clone(), sketch: None };
				let captured = match capture {
					Some(capture) => capture.captured().await,
					None => None,
				};
				attribution_entries(
					&service.attribute(&version.attribution_index, trace, captured).await,
				)
			}
			None => Vec::new(),
		};
		let result = InferResult {
			completion: completion_text(&self.tokenizer, &generated).into_bytes(),
			prompt_tokens: tokens.len() as u32,
			completion_tokens: generated.len() as u32,
			attribution,
		};
		Ok(JobOutput::new(result.encode()))
	}
}
