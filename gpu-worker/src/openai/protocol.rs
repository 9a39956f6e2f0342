//! The OpenAI-compatible request and response bodies, as pure functions over JSON: parsing
//! `/v1/completions` and `/v1/chat/completions` requests, the chat template, the paid-request
//! headers, and the response objects and stream chunks.

use serde_json::{json, Value};

/// Largest `max_tokens` a request may ask for.
pub const MAX_TOKENS_LIMIT: u32 = 4096;

/// `max_tokens` when a request does not say (OpenAI's default for completions).
pub const DEFAULT_MAX_TOKENS: u32 = 16;

/// A request the API refuses, with the HTTP status it maps to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
	/// Malformed JSON, a missing or mistyped field, a value out of range.
	#[error("{0}")]
	BadRequest(String),
	/// No such model, model version or route.
	#[error("{0}")]
	NotFound(String),
	/// A paid request whose headers are missing, malformed or whose signature does not verify.
	#[error("{0}")]
	Unauthorized(String),
	/// The client's deposit cannot cover the request, or the model has no price.
	#[error("{0}")]
	PaymentRequired(String),
	/// A nonce at or below one already used.
	#[error("{0}")]
	Replayed(String),
	/// An admin call without the admin token.
	#[error("{0}")]
	Forbidden(String),
	/// The chain, the store or the engine failed.
	#[error("{0}")]
	Unavailable(String),
}

impl ApiError {
	/// The HTTP status.
	pub fn status(&self) -> u16 {
		match self {
			Self::BadRequest(_) => 400,
			Self::Unauthorized(_) => 401,
			Self::PaymentRequired(_) => 402,
			Self::Forbidden(_) => 403,
			Self::NotFound(_) => 404,
			Self::Replayed(_) => 409,
			Self::Unavailable(_) => 503,
		}
	}

	/// OpenAI's error `type` for it.
	pub fn kind(&self) -> &'static str {
		match self {
			Self::BadRequest(_) => "invalid_request_error",
			Self::Unauthorized(_) => "authentication_error",
			Self::PaymentRequired(_) => "insufficient_quota",
			Self::Forbidden(_) => "permission_error",
			Self::NotFound(_) => "not_found_error",
			Self::Replayed(_) => "replayed_request",
			Self::Unavailable(_) => "server_error",
		}
	}

	/// The error body: `{"error": {"message", "type", "code"}}`.
	pub fn body(&self) -> Value {
		json!({ "error": { "message": self.to_string(), "type": self.kind(), "code": self.status() } })
	}
}

/// Which model a request names: `"<model>"` (its active version) or `"<model>:<version>"`, or
/// `"base"` (the base Model without an adapter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelRef {
	/// The base Model alone.
	Base,
	/// A model registered on-chain; `None` for its active version.
	Chain {
		/// The model id.
		model: u32,
		/// The version, or the active one.
		version: Option<u32>,
	},
}

impl ModelRef {
	/// Parses `base`, `7`, `7:2` (and the same with a `model-` prefix).
	pub fn parse(text: &str) -> Result<Self, ApiError> {
		let bad = || {
			ApiError::BadRequest(format!(
				"model {text:?} is not \"base\", \"<model id>\" or \"<model id>:<version>\""
			))
		};
		if text == "base" {
			return Ok(Self::Base);
		}
		let text_id = text.strip_prefix("model-").unwrap_or(text);
		let (model, version) = match text_id.split_once(':') {
			Some((model, version)) => (model, Some(version.parse().map_err(|_| bad())?)),
			None => (text_id, None),
		};
		Ok(Self::Chain { model: model.parse().map_err(|_| bad())?, version })
	}
}

/// One message of a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
	/// `system`, `user` or `assistant`.
	pub role: String,
	/// Its text.
	pub content: String,
}

/// What to complete.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
	/// `/v1/completions`: raw text.
	Text(String),
	/// `/v1/chat/completions`: messages, rendered with [`chat_prompt`].
	Chat(Vec<ChatMessage>),
}

/// A parsed completion request.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionRequest {
	/// The model named.
	pub model: ModelRef,
	/// The `model` field as sent (echoed back).
	pub model_name: String,
	/// What to complete.
	pub prompt: Prompt,
	/// Most tokens to generate.
	pub max_tokens: u32,
	/// Sampling temperature; 0 is greedy.
	pub temperature: f32,
	/// Nucleus sampling mass.
	pub top_p: f32,
	/// Sampling seed.
	pub seed: u64,
	/// Send server-sent events.
	pub stream: bool,
	/// Stop strings (at most 4).
	pub stop: Vec<String>,
}

fn field_u64(body: &Value, name: &str) -> Result<Option<u64>, ApiError> {
	match body.get(name) {
		None | Some(Value::Null) => Ok(None),
		Some(value) => value
			.as_u64()
			.map(Some)
			.ok_or_else(|| ApiError::BadRequest(format!("{name} must be a non-negative integer"))),
	}
}

fn field_f32(body: &Value, name: &str, range: (f32, f32)) -> Result<Option<f32>, ApiError> {
	match body.get(name) {
		None | Some(Value::Null) => Ok(None),
		Some(value) => value
			.as_f64()
			.map(|v| v as f32)
			.filter(|v| (range.0..=range.1).contains(v))
			.map(Some)
			.ok_or_else(|| {
				ApiError::BadRequest(format!(
					"{name} must be a number in {}..={}",
					range.0, range.1
				))
			}),
	}
}

/// Parses a `/v1/completions` (`chat == false`) or `/v1/chat/completions` body.
pub fn parse_request(body: &[u8], chat: bool) -> Result<CompletionRequest, ApiError> {
	let body: Value = serde_json::from_slice(body)
		.map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?;
	if !body.is_object() {
		return Err(ApiError::BadRequest("the body must be a JSON object".into()));
	}
	let model_name = body
		.get("model")
		.and_then(Value::as_str)
		.ok_or_else(|| ApiError::BadRequest("model (a string) is required".into()))?
		.to_owned();
	let model = ModelRef::parse(&model_name)?;
	let prompt = if chat {
		let messages =
			body.get("messages").and_then(Value::as_array).filter(|m| !m.is_empty()).ok_or_else(
				|| ApiError::BadRequest("messages (a non-empty array) is required".into()),
			)?;
		let messages = messages
			.iter()
			.map(|m| {
				let role = m.get("role").and_then(Value::as_str);
				let content = m.get("content").and_then(Value::as_str);
				match (role, content) {
					(Some(role @ ("system" | "user" | "assistant")), Some(content)) =>
						Ok(ChatMessage { role: role.into(), content: content.into() }),
					_ => Err(ApiError::BadRequest(
						"each message needs a role (system, user or assistant) and a string content"
							.into(),
					)),
				}
			})
			.collect::<Result<Vec<_>, _>>()?;
		Prompt::Chat(messages)
	} else {
		match body.get("prompt") {
			Some(Value::String(text)) if !text.is_empty() => Prompt::Text(text.clone()),
			Some(Value::Array(items)) if items.len() == 1 => match items.first() {
				Some(Value::String(text)) if !text.is_empty() => Prompt::Text(text.clone()),
				_ => return Err(ApiError::BadRequest("prompt must be a non-empty string".into())),
			},
			_ => return Err(ApiError::BadRequest("prompt must be a non-empty string".into())),
		}
	};
	let max_tokens = field_u64(&body, "max_tokens")?
		.or(field_u64(&body, "max_completion_tokens")?)
		.unwrap_or(u64::from(DEFAULT_MAX_TOKENS));
	if max_tokens == 0 || max_tokens > u64::from(MAX_TOKENS_LIMIT) {
		return Err(ApiError::BadRequest(format!("max_tokens must be 1 to {MAX_TOKENS_LIMIT}")));
	}
	let stop = match body.get("stop") {
		None | Some(Value::Null) => Vec::new(),
		Some(Value::String(s)) => vec![s.clone()],
		Some(Value::Array(items)) if items.len() <= 4 => items
			.iter()
			.map(|s| s.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
			.collect::<Option<Vec<_>>>()
			.ok_or_else(|| ApiError::BadRequest("stop must be strings".into()))?,
		Some(_) => return Err(ApiError::BadRequest("stop must be a string or up to 4".into())),
	};
	let stream = match body.get("stream") {
		None | Some(Value::Null) => false,
		Some(Value::Bool(b)) => *b,
		Some(_) => return Err(ApiError::BadRequest("stream must be a boolean".into())),
	};
	Ok(CompletionRequest {
		model,
		model_name,
		prompt,
		max_tokens: max_tokens as u32,
		temperature: field_f32(&body, "temperature", (0.0, 2.0))?.unwrap_or(1.0),
		top_p: field_f32(&body, "top_p", (0.0, 1.0))?.unwrap_or(1.0),
		seed: field_u64(&body, "seed")?.unwrap_or(0),
		stream,
		stop,
	})
}

/// Renders a chat in the ChatML template the SmolLM2 instruct models were tuned on, ending with
/// the opened assistant turn.
pub fn chat_prompt(messages: &[ChatMessage]) -> String {
	let mut out = String::new();
	for m in messages {
		out.push_str("<|im_start|>");
		out.push_str(&m.role);
		out.push('\n');
		out.push_str(&m.content);
		out.push_str("<|im_end|>\n");
	}
	out.push_str("<|im_start|>assistant\n");
	out
}

/// The paid-request headers: who pays, their nonce with this worker, the most they pay, and
/// their sr25519 signature of the pallet's signing payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentHeaders {
	/// The client's account (sr25519 public key).
	pub client: [u8; 32],
	/// Greater than any nonce the client used with this worker.
	pub nonce: u64,
	/// Plancks.
	pub max_fee: u128,
	/// Over `signing_payload(genesis, worker, model, version, blake2_256(body), nonce, max_fee)`.
	pub signature: [u8; 64],
}

/// The header names.
pub mod headers {
	/// `0x` + 64 hex digits.
	pub const CLIENT: &str = "x-openledger-client";
	/// Decimal.
	pub const NONCE: &str = "x-openledger-nonce";
	/// Decimal plancks.
	pub const MAX_FEE: &str = "x-openledger-max-fee";
	/// `0x` + 128 hex digits.
	pub const SIGNATURE: &str = "x-openledger-signature";
}

fn hex_array<const N: usize>(name: &str, text: &str) -> Result<[u8; N], ApiError> {
	hex::decode(text.trim().trim_start_matches("0x"))
		.ok()
		.and_then(|bytes| <[u8; N]>::try_from(bytes).ok())
		.ok_or_else(|| {
			ApiError::Unauthorized(format!("{name} must be 0x and {} hex digits", 2 * N))
		})
}

/// Reads the payment headers through `get`; `None` when the request carries none of them.
pub fn parse_payment(
	get: impl Fn(&str) -> Option<String>,
) -> Result<Option<PaymentHeaders>, ApiError> {
	let values = [headers::CLIENT, headers::NONCE, headers::MAX_FEE, headers::SIGNATURE].map(&get);
	if values.iter().all(Option::is_none) {
		return Ok(None);
	}
	let [Some(client), Some(nonce), Some(max_fee), Some(signature)] = values else {
		return Err(ApiError::Unauthorized(format!(
			"a paid request needs all of {}, {}, {} and {}",
			headers::CLIENT,
			headers::NONCE,
			headers::MAX_FEE,
			headers::SIGNATURE
		)));
	};
	Ok(Some(PaymentHeaders {
		client: hex_array(headers::CLIENT, &client)?,
		nonce: nonce
			.trim()
			.parse()
			.map_err(|_| ApiError::Unauthorized(format!("{} must be a u64", headers::NONCE)))?,
		max_fee: max_fee
			.trim()
			.parse()
			.map_err(|_| ApiError::Unauthorized(format!("{} must be plancks", headers::MAX_FEE)))?,
		signature: hex_array(headers::SIGNATURE, &signature)?,
	}))
}

/// Why generation stopped, as OpenAI names it.
pub fn finish_reason(length: bool) -> &'static str {
	if length {
		"length"
	} else {
		"stop"
	}
}

/// A whole (non-streamed) response.
#[allow(clippy::too_many_arguments)]
pub fn completion_body(
	chat: bool,
	id: &str,
	created: u64,
	model: &str,
	text: &str,
	finish: &str,
	usage: (u32, u32),
	openledger: Value,
) -> Value {
	let choice = if chat {
		json!({ "index": 0, "message": { "role": "assistant", "content": text }, "finish_reason": finish })
	} else {
		json!({ "index": 0, "text": text, "logprobs": null, "finish_reason": finish })
	};
	json!({
		"id": id,
		"object": if chat { "chat.completion" } else { "text_completion" },
		"created": created,
		"model": model,
		"choices": [choice],
		"usage": { "prompt_tokens": usage.0, "completion_tokens": usage.1, "total_tokens": usage.0 + usage.1 },
		"openledger": openledger,
	})
}

/// One streamed chunk: new text, and on the last one the finish reason, usage and receipt.
pub fn chunk_body(
	chat: bool,
	id: &str,
	created: u64,
	model: &str,
	delta: &str,
	end: Option<(&str, (u32, u32), Value)>,
) -> Value {
	let finish = end.as_ref().map(|(finish, _, _)| *finish);
	let choice = if chat {
		json!({ "index": 0, "delta": { "content": delta }, "finish_reason": finish })
	} else {
		json!({ "index": 0, "text": delta, "logprobs": null, "finish_reason": finish })
	};
	let mut chunk = json!({
		"id": id,
		"object": if chat { "chat.completion.chunk" } else { "text_completion" },
		"created": created,
		"model": model,
		"choices": [choice],
	});
	if let Some((_, usage, openledger)) = end {
		chunk["usage"] = json!({
			"prompt_tokens": usage.0, "completion_tokens": usage.1, "total_tokens": usage.0 + usage.1
		});
		chunk["openledger"] = openledger;
	}
	chunk
}

/// Text decoded from streamed tokens: hands out only complete UTF-8, holding back a character
/// split across tokens, and cuts at the first stop string.
#[derive(Debug, Default)]
pub struct TextStream {
	bytes: Vec<u8>,
	sent: usize,
	stop: Vec<String>,
	stopped: bool,
}

impl TextStream {
	/// A stream that ends at the first of `stop`.
	pub fn new(stop: Vec<String>) -> Self {
		Self { stop, ..Self::default() }
	}

	/// Adds a token's bytes; returns the text now safe to send (maybe empty).
	pub fn push(&mut self, token_bytes: &[u8]) -> String {
		if self.stopped {
			return String::new();
		}
		self.bytes.extend_from_slice(token_bytes);
		let valid = match std::str::from_utf8(&self.bytes) {
			Ok(text) => text.len(),
			Err(e) if e.error_len().is_none() => e.valid_up_to(),
			// Invalid bytes, not a split character: send them replaced.
			Err(_) => self.bytes.len(),
		};
		let text = String::from_utf8_lossy(&self.bytes[..valid]).into_owned();
		// Hold back a tail that may be the start of a stop string.
		let cut = self.stop.iter().filter_map(|s| text.find(s.as_str())).min();
		let end = match cut {
			Some(at) => {
				self.stopped = true;
				at
			}
			None => {
				let hold = self.stop.iter().map(|s| partial_suffix(&text, s)).max().unwrap_or(0);
				text.len().saturating_sub(hold)
			}
		};
		let out = text.get(self.sent.min(end)..end).unwrap_or_default().to_owned();
		self.sent = self.sent.max(end);
		out
	}

	/// Whether a stop string was seen.
	pub fn stopped(&self) -> bool {
		self.stopped
	}

	/// The rest once generation has ended (a held-back tail that did not become a stop string).
	pub fn finish(&mut self) -> String {
		if self.stopped {
			return String::new();
		}
		let text = String::from_utf8_lossy(&self.bytes).into_owned();
		let out = text.get(self.sent.min(text.len())..).unwrap_or_default().to_owned();
		self.sent = text.len();
		out
	}
}

/// The length of the longest proper prefix of `stop` that `text` ends with (on a character
/// boundary).
fn partial_suffix(text: &str, stop: &str) -> usize {
	(1..stop.len())
		.rev()
		.find(|&n| stop.is_char_boundary(n) && stop.get(..n).is_some_and(|p| text.ends_with(p)))
		.unwrap_or(0)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn model_names_parse() {
		assert_eq!(ModelRef::parse("base"), Ok(ModelRef::Base));
		assert_eq!(ModelRef::parse("7"), Ok(ModelRef::Chain { model: 7, version: None }));
		assert_eq!(ModelRef::parse("7:2"), Ok(ModelRef::Chain { model: 7, version: Some(2) }));
		assert_eq!(
			ModelRef::parse("model-7:2"),
			Ok(ModelRef::Chain { model: 7, version: Some(2) })
		);
		for bad in ["", "gpt-4", "7:", ":2", "7:x", "-1"] {
			assert!(matches!(ModelRef::parse(bad), Err(ApiError::BadRequest(_))), "{bad}");
		}
	}

	#[test]
	fn completion_requests_parse_with_defaults_and_bounds() {
		let r = parse_request(br#"{"model":"3:1","prompt":"Hi"}"#, false).unwrap();
		assert_eq!(r.model, ModelRef::Chain { model: 3, version: Some(1) });
		assert_eq!(r.prompt, Prompt::Text("Hi".into()));
		assert_eq!((r.max_tokens, r.temperature, r.stream), (DEFAULT_MAX_TOKENS, 1.0, false));
		let r = parse_request(
			br#"{"model":"base","prompt":["Hi"],"max_tokens":5,"temperature":0,"stream":true,"stop":["\n"]}"#,
			false,
		)
		.unwrap();
		assert_eq!((r.max_tokens, r.temperature, r.stream), (5, 0.0, true));
		assert_eq!(r.stop, vec!["\n".to_string()]);
		for bad in [
			&br#"not json"#[..],
			br#"[]"#,
			br#"{"prompt":"Hi"}"#,
			br#"{"model":"base"}"#,
			br#"{"model":"base","prompt":""}"#,
			br#"{"model":"base","prompt":"Hi","max_tokens":0}"#,
			br#"{"model":"base","prompt":"Hi","max_tokens":100000}"#,
			br#"{"model":"base","prompt":"Hi","temperature":3}"#,
			br#"{"model":"base","prompt":"Hi","stream":"yes"}"#,
			br#"{"model":"base","prompt":"Hi","stop":["a","b","c","d","e"]}"#,
		] {
			assert!(matches!(parse_request(bad, false), Err(ApiError::BadRequest(_))));
		}
	}

	#[test]
	fn chat_requests_parse_and_render_as_chatml() {
		let r = parse_request(
			br#"{"model":"1","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}"#,
			true,
		)
		.unwrap();
		let Prompt::Chat(messages) = &r.prompt else { panic!("a chat") };
		assert_eq!(
			chat_prompt(messages),
			"<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
		);
		for bad in [
			&br#"{"model":"1","messages":[]}"#[..],
			br#"{"model":"1","messages":[{"role":"tool","content":"x"}]}"#,
			br#"{"model":"1","messages":[{"role":"user"}]}"#,
		] {
			assert!(matches!(parse_request(bad, true), Err(ApiError::BadRequest(_))));
		}
	}

	#[test]
	fn payment_headers_are_all_or_nothing_and_well_formed() {
		let good = |name: &str| -> Option<String> {
			match name {
				headers::CLIENT => Some(format!("0x{}", "11".repeat(32))),
				headers::NONCE => Some("7".into()),
				headers::MAX_FEE => Some("1000000".into()),
				headers::SIGNATURE => Some(format!("0x{}", "22".repeat(64))),
				_ => None,
			}
		};
		let payment = parse_payment(good).unwrap().unwrap();
		assert_eq!((payment.client, payment.nonce, payment.max_fee), ([0x11; 32], 7, 1_000_000));
		assert_eq!(parse_payment(|_| None), Ok(None));
		let missing = |name: &str| if name == headers::NONCE { None } else { good(name) };
		assert!(matches!(parse_payment(missing), Err(ApiError::Unauthorized(_))));
		let short = |name: &str| {
			if name == headers::SIGNATURE {
				Some("0x1234".into())
			} else {
				good(name)
			}
		};
		assert!(matches!(parse_payment(short), Err(ApiError::Unauthorized(_))));
	}

	#[test]
	fn text_streams_hold_split_characters_and_cut_at_stop_strings() {
		let mut s = TextStream::new(vec!["END".into()]);
		let e_acute = "é".as_bytes();
		assert_eq!(s.push(b"caf"), "caf");
		assert_eq!(s.push(&e_acute[..1]), "");
		assert_eq!(s.push(&e_acute[1..]), "é");
		assert_eq!(s.push(b" E"), " ");
		assert_eq!(s.push(b"N"), "");
		assert_eq!(s.push(b"Dx"), "");
		assert!(s.stopped());
		assert_eq!(s.push(b"more"), "");
		assert_eq!(s.finish(), "");

		let mut s = TextStream::new(vec!["END".into()]);
		assert_eq!(s.push(b"a E"), "a ");
		assert_eq!(s.push(b"N"), "");
		assert_eq!(s.finish(), "EN");
	}

	#[test]
	fn errors_map_to_statuses_and_openai_bodies() {
		let e = ApiError::PaymentRequired("deposit too small".into());
		assert_eq!(e.status(), 402);
		assert_eq!(e.body()["error"]["message"], "deposit too small");
		assert_eq!(ApiError::Replayed(String::new()).status(), 409);
	}
}
