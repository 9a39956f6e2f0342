//! The HTTP service: hyper 1 over tokio, HTTP/1.1, routes to the engine and the ledger.
//!
//! | request                          | answer                                                  |
//! |----------------------------------|---------------------------------------------------------|
//! | `POST /v1/completions`           | a completion, or server-sent events with `stream: true` |
//! | `POST /v1/chat/completions`      | the same for chats (ChatML template)                    |
//! | `GET /v1/models`                 | `base` and the model versions served so far             |
//! | `GET /v1/adapters`               | the engine's adapters: tier, rank, pinned (admin)       |
//! | `POST /v1/adapters`              | `{"adapter": "0x..", "pin": bool}`: load (admin)        |
//! | `DELETE /v1/adapters/0x<hash>`   | unload (admin)                                          |
//! | `GET /health`                    | `{"status":"ok"}` and the engine's counters             |
//!
//! Admin routes need `Authorization: Bearer <token>` when the server has an admin token.

use super::{
	payments::{Authorization, Ledger},
	protocol::{self, ApiError, CompletionRequest, ModelRef, PaymentHeaders, Prompt, TextStream},
};
use crate::{
	attribution::{
		index::AnswerTrace,
		service::{AttributionService, PendingCapture},
	},
	chain::{
		inference::{self, AttributionEntry, ServedVersion},
		Chain,
	},
	model::tokenizer::Tokenizer,
	net::{accept_loop, collect_capped},
	openlora::{self, AdapterId, EngineHandle, Event, FinishReason},
};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::{
	body::{Frame, Incoming},
	header::{HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE},
	server::conn::http1,
	service::service_fn,
	Method, Request, Response, StatusCode,
};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{json, Value};
use std::{
	collections::BTreeMap,
	convert::Infallible,
	future::Future,
	io,
	net::SocketAddr,
	pin::Pin,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex,
	},
	task::{Context, Poll},
	time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::{
	net::{TcpListener, TcpStream, ToSocketAddrs},
	sync::mpsc,
};

/// Largest request body.
pub const MAX_BODY: u64 = 1 << 20;

/// How the API serves.
#[derive(Debug, Clone)]
pub struct ApiConfig {
	/// Serve requests without payment headers (local use and benchmarks). Off on a network.
	pub allow_unpaid: bool,
	/// The token admin routes need; `None` leaves them open (bind to loopback then).
	pub admin_token: Option<String>,
	/// blake2-256 of the base Model file the engine serves: versions of other bases are refused.
	pub base_hash: [u8; 32],
	/// Connections served at once.
	pub max_connections: usize,
}

/// What the handlers share.
pub struct ApiState {
	engine: EngineHandle,
	tokenizer: Arc<Tokenizer>,
	chain: Option<Arc<dyn Chain>>,
	ledger: Option<Arc<Ledger>>,
	config: ApiConfig,
	stop_tokens: Vec<u32>,
	next_id: AtomicU64,
	/// Model versions served so far, by name, for `/v1/models`.
	served: Mutex<BTreeMap<String, ServedVersion>>,
	/// Attributes answers of versions that have an attribution index.
	attribution: Option<Arc<AttributionService>>,
}

impl ApiState {
	/// The API over `engine` (serving `tokenizer`'s Model). With a chain, model ids resolve to
	/// versions on-chain and paid requests are checked and receipted through `ledger`.
	pub fn new(
		engine: EngineHandle,
		tokenizer: Arc<Tokenizer>,
		chain: Option<Arc<dyn Chain>>,
		ledger: Option<Arc<Ledger>>,
		config: ApiConfig,
	) -> Self {
		let stop_tokens = super::stop_tokens(&tokenizer);
		Self {
			engine,
			tokenizer,
			chain,
			ledger,
			config,
			stop_tokens,
			next_id: AtomicU64::new(1),
			served: Mutex::new(BTreeMap::new()),
			attribution: None,
		}
	}

	/// Attributes every answer of a version with an attribution index through `service`: the
	/// response and the receipt carry the attribution.
	pub fn with_attribution(mut self, service: Arc<AttributionService>) -> Self {
		self.attribution = Some(service);
		self
	}
}

/// A bound, not yet running, API server.
pub struct ApiServer {
	listener: TcpListener,
	state: Arc<ApiState>,
}

impl ApiServer {
	/// Binds `addr`.
	pub async fn bind(addr: impl ToSocketAddrs, state: ApiState) -> io::Result<Self> {
		Ok(Self { listener: TcpListener::bind(addr).await?, state: Arc::new(state) })
	}

	/// The address bound.
	pub fn local_addr(&self) -> io::Result<SocketAddr> {
		self.listener.local_addr()
	}

	/// Serves until `shutdown` completes.
	pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
		let max = self.state.config.max_connections;
		let state = self.state;
		accept_loop(&self.listener, max, "openai", shutdown, move |stream| {
			serve_connection(stream, state.clone())
		})
		.await
	}
}

type Body = BoxBody<Bytes, Infallible>;

async fn serve_connection(stream: TcpStream, state: Arc<ApiState>) {
	let _ = stream.set_nodelay(true);
	let service = service_fn(move |request| {
		let state = state.clone();
		async move { Ok::<_, Infallible>(handle(request, state).await) }
	});
	let connection = http1::Builder::new()
		.timer(TokioTimer::new())
		.header_read_timeout(Duration::from_secs(30))
		.serve_connection(TokioIo::new(stream), service);
	let _ = tokio::time::timeout(Duration::from_secs(3600), connection).await;
}

fn json_response(status: u16, body: &Value) -> Response<Body> {
	let mut response = Response::new(Full::new(Bytes::from(body.to_string())).boxed());
	*response.status_mut() =
		StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
	response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
	response
}

fn error_response(e: &ApiError) -> Response<Body> {
	json_response(e.status(), &e.body())
}

async fn handle(request: Request<Incoming>, state: Arc<ApiState>) -> Response<Body> {
	let path = request.uri().path().to_owned();
	let method = request.method().clone();
	let result = match (method.clone(), path.as_str()) {
		(Method::POST, "/v1/completions") => completions(request, state, false).await,
		(Method::POST, "/v1/chat/completions") => completions(request, state, true).await,
		(Method::GET, "/v1/models") => Ok(models(&state)),
		(Method::GET, "/health") => Ok(health(&state)),
		(Method::GET, "/v1/adapters") => {
			admin(&request, &state).map(|()| json_response(200, &adapters(&state)))
		}
		(Method::POST, "/v1/adapters") => match admin(&request, &state) {
			Ok(()) => load(request, &state).await,
			Err(e) => Err(e),
		},
		(Method::DELETE, p) if p.starts_with("/v1/adapters/") => match admin(&request, &state) {
			Ok(()) => unload(p.trim_start_matches("/v1/adapters/"), &state).await,
			Err(e) => Err(e),
		},
		_ => Err(ApiError::NotFound(format!("no route {method} {path}"))),
	};
	result.unwrap_or_else(|e| error_response(&e))
}

fn admin(request: &Request<Incoming>, state: &ApiState) -> Result<(), ApiError> {
	let Some(token) = &state.config.admin_token else { return Ok(()) };
	let sent = request
		.headers()
		.get(AUTHORIZATION)
		.and_then(|v| v.to_str().ok())
		.and_then(|v| v.strip_prefix("Bearer "));
	if sent == Some(token.as_str()) {
		Ok(())
	} else {
		Err(ApiError::Forbidden("admin routes need Authorization: Bearer <admin token>".into()))
	}
}

fn parse_adapter_id(text: &str) -> Result<AdapterId, ApiError> {
	hex::decode(text.trim_start_matches("0x"))
		.ok()
		.and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
		.map(AdapterId::from)
		.ok_or_else(|| ApiError::BadRequest(format!("{text:?} is not 0x and 64 hex digits")))
}

fn adapter_json(info: &openlora::AdapterInfo) -> Value {
	json!({
		"adapter": format!("{:?}", info.id),
		"rank": info.rank,
		"tier": format!("{:?}", info.tier).to_lowercase(),
		"pinned": info.pinned,
		"bytes": info.bytes,
	})
}

fn adapters(state: &ApiState) -> Value {
	let data: Vec<Value> = state.engine.adapters().iter().map(adapter_json).collect();
	json!({ "object": "list", "data": data })
}

async fn load(request: Request<Incoming>, state: &ApiState) -> Result<Response<Body>, ApiError> {
	let body = read_body(request).await?;
	let body: Value = serde_json::from_slice(&body)
		.map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?;
	let id = parse_adapter_id(body.get("adapter").and_then(Value::as_str).unwrap_or_default())?;
	let pin = body.get("pin").and_then(Value::as_bool).unwrap_or(false);
	let info = state.engine.load_adapter(id, pin).await.map_err(serve_error)?;
	Ok(json_response(200, &adapter_json(&info)))
}

async fn unload(id: &str, state: &ApiState) -> Result<Response<Body>, ApiError> {
	let id = parse_adapter_id(id)?;
	state.engine.unload_adapter(id).await.map_err(serve_error)?;
	Ok(json_response(200, &json!({ "adapter": format!("{id:?}"), "unloaded": true })))
}

fn health(state: &ApiState) -> Response<Body> {
	let stats = state.engine.stats();
	json_response(200, &json!({ "status": "ok", "engine": format!("{stats:?}") }))
}

fn models(state: &ApiState) -> Response<Body> {
	let served = state.served.lock().map(|s| s.clone()).unwrap_or_default();
	let mut data = vec![json!({ "id": "base", "object": "model", "owned_by": "openledger" })];
	data.extend(served.iter().map(|(name, v)| {
		json!({
			"id": name,
			"object": "model",
			"owned_by": "openledger",
			"openledger": { "model": v.model, "version": v.version, "adapter": format!("0x{}", hex::encode(v.adapter_hash)) },
		})
	}));
	json_response(200, &json!({ "object": "list", "data": data }))
}

fn serve_error(e: openlora::ServeError) -> ApiError {
	let message = e.to_string();
	match e {
		openlora::ServeError::UnknownAdapter(_) => ApiError::NotFound(message),
		openlora::ServeError::EmptyPrompt
		| openlora::ServeError::PromptTooLong { .. }
		| openlora::ServeError::NoTokensRequested
		| openlora::ServeError::TokenOutOfRange { .. } => ApiError::BadRequest(message),
		_ => ApiError::Unavailable(message),
	}
}

async fn read_body(request: Request<Incoming>) -> Result<Vec<u8>, ApiError> {
	collect_capped(request.into_body(), MAX_BODY)
		.await
		.map_err(|e| ApiError::BadRequest(format!("request body: {e}")))
}

/// Resolves the model a request names to the adapter to serve (none for `base`).
async fn resolve(
	state: &ApiState,
	model: ModelRef,
	name: &str,
) -> Result<Option<ServedVersion>, ApiError> {
	let ModelRef::Chain { model, version } = model else { return Ok(None) };
	let chain = state.chain.as_ref().ok_or_else(|| {
		ApiError::NotFound(format!("model {name:?}: this server has no chain to look it up on"))
	})?;
	let served = chain
		.model_version(model, version)
		.await
		.map_err(|e| ApiError::Unavailable(format!("chain: {e}")))?
		.ok_or_else(|| {
			ApiError::NotFound(format!("model {name:?} has no such version on-chain"))
		})?;
	if served.base_hash != state.config.base_hash {
		return Err(ApiError::NotFound(format!(
			"model {name:?} adapts base 0x{}, this worker serves 0x{}",
			hex::encode(served.base_hash),
			hex::encode(state.config.base_hash)
		)));
	}
	// So that a miss in the adapters directory can fetch both PEFT files from the store.
	state.engine.register_adapter_config(
		AdapterId::from(served.adapter_hash),
		sp_core::H256(served.config_hash),
	);
	if let Ok(mut known) = state.served.lock() {
		known.insert(format!("{}:{}", served.model, served.version), served);
	}
	Ok(Some(served))
}

fn header(request: &Request<Incoming>, name: &str) -> Option<String> {
	request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

async fn completions(
	request: Request<Incoming>,
	state: Arc<ApiState>,
	chat: bool,
) -> Result<Response<Body>, ApiError> {
	let payment = protocol::parse_payment(|name| header(&request, name))?;
	let body = read_body(request).await?;
	let request_hash = sp_crypto_hashing::blake2_256(&body);
	let parsed = protocol::parse_request(&body, chat)?;
	let served = resolve(&state, parsed.model, &parsed.model_name).await?;
	let auth = authorize(&state, payment, served.as_ref(), request_hash).await?;

	let text = match &parsed.prompt {
		Prompt::Text(text) => text.clone(),
		Prompt::Chat(messages) => protocol::chat_prompt(messages),
	};
	let prompt = state.tokenizer.encode(&text);
	let request = openlora::Request {
		adapter: served.as_ref().map(|s| AdapterId::from(s.adapter_hash)),
		prompt: prompt.clone(),
		max_tokens: parsed.max_tokens,
		stop_tokens: state.stop_tokens.clone(),
		temperature: parsed.temperature,
		top_p: parsed.top_p,
		seed: parsed.seed,
	};
	// Versions whose index holds gradient sketches are attributed by influence too: the engine
	// records what the answer's gradient needs.
	let started = match (&state.attribution, &served) {
		(Some(service), Some(served)) => {
			service.submit(&state.engine, &served.attribution_index, request).await
		}
		_ => state.engine.submit(request).map(|events| (events, None)),
	};
	let (events, capture) = match started {
		Ok(started) => started,
		Err(e) => {
			cancel(&state, auth.as_ref());
			return Err(serve_error(e));
		}
	};
	let id = format!(
		"{}-{}",
		if chat { "chatcmpl" } else { "cmpl" },
		state.next_id.fetch_add(1, Ordering::Relaxed)
	);
	let run = Run {
		state: state.clone(),
		parsed,
		auth,
		served,
		prompt_tokens: prompt.len() as u32,
		prompt,
		capture: std::sync::Mutex::new(capture),
		id,
		created: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
		chat,
	};
	if run.parsed.stream {
		run.stream(events).await
	} else {
		run.whole(events).await
	}
}

async fn authorize(
	state: &ApiState,
	payment: Option<PaymentHeaders>,
	served: Option<&ServedVersion>,
	request_hash: [u8; 32],
) -> Result<Option<Authorization>, ApiError> {
	match (payment, served, &state.ledger) {
		(Some(payment), Some(served), Some(ledger)) => {
			ledger.authorize(&payment, served, request_hash).await.map(Some)
		}
		(Some(_), None, _) => Err(ApiError::BadRequest(
			"the base Model is not sold: name a model version to pay for".into(),
		)),
		(Some(_), Some(_), None) => {
			Err(ApiError::Unavailable("this server takes no payments (no chain)".into()))
		}
		(None, _, _) if state.config.allow_unpaid => Ok(None),
		(None, _, _) => Err(ApiError::PaymentRequired(format!(
			"unsigned requests are refused: deposit OPEN with pallet-inference and sign the \
			 request ({} headers)",
			protocol::headers::SIGNATURE
		))),
	}
}

fn cancel(state: &ApiState, auth: Option<&Authorization>) {
	if let (Some(ledger), Some(auth)) = (&state.ledger, auth) {
		ledger.cancel(auth);
	}
}

/// One request being generated.
struct Run {
	state: Arc<ApiState>,
	parsed: CompletionRequest,
	auth: Option<Authorization>,
	served: Option<ServedVersion>,
	prompt_tokens: u32,
	prompt: Vec<u32>,
	/// What the engine records of the answer for its gradient influence, when asked.
	capture: std::sync::Mutex<Option<PendingCapture>>,
	id: String,
	created: u64,
	chat: bool,
}

/// How a generation ended, for the response.
struct Ending {
	finish: &'static str,
	completion_tokens: u32,
	/// The generated tokens.
	tokens: Vec<u32>,
}

impl Run {
	/// The answer's attribution, when its version has an index (empty otherwise), and whether
	/// its gradient sketch was scored.
	async fn attribute(&self, ending: &Ending) -> (Vec<AttributionEntry>, bool) {
		let (Some(service), Some(served)) = (&self.state.attribution, &self.served) else {
			return (Vec::new(), false);
		};
		let trace = AnswerTrace {
			prompt: self.prompt.clone(),
			answer: ending.tokens.clone(),
			sketch: None,
		};
		let capture = self.capture.lock().ok().and_then(|mut c| c.take());
		let captured = match capture {
			Some(capture) => capture.captured().await,
			None => None,
		};
		let attribution = service.attribute(&served.attribution_index, trace, captured).await;
		(inference::attribution_entries(&attribution), attribution.influence)
	}

	/// Settles the request (a receipt with the attribution when paid) and describes it for the
	/// response.
	async fn settle(&self, ending: &Ending) -> Value {
		let completion_tokens = ending.completion_tokens;
		let (attribution, influence) = self.attribute(ending).await;
		let receipt = match (&self.state.ledger, &self.auth) {
			(Some(ledger), Some(auth)) => ledger
				.settle(auth, self.prompt_tokens, completion_tokens, attribution.clone())
				.map(|(receipt, fee)| {
					json!({
						"client": format!("0x{}", hex::encode(receipt.client)),
						"model": receipt.model,
						"version": receipt.version,
						"request_hash": format!("0x{}", hex::encode(receipt.request_hash)),
						"nonce": receipt.nonce,
						"max_fee": receipt.max_fee.to_string(),
						"fee": fee.to_string(),
						"prompt_tokens": receipt.prompt_tokens,
						"completion_tokens": receipt.completion_tokens,
						"worker": self.state.chain.as_ref().map(|c| format!("0x{}", hex::encode(c.account()))),
					})
				}),
			_ => None,
		};
		json!({
			"model": self.served.map(|s| s.model),
			"version": self.served.map(|s| s.version),
			"adapter": self.served.map(|s| format!("0x{}", hex::encode(s.adapter_hash))),
			"receipt": receipt,
			"attribution": attribution
				.iter()
				.map(|e| json!({ "contribution": e.contribution, "weight": e.weight }))
				.collect::<Vec<_>>(),
			// What was looked for: verbatim spans, and the answer's gradient influence.
			"attribution_signals": match (&self.served, influence) {
				(None, _) => vec![],
				(Some(_), false) => vec!["spans"],
				(Some(_), true) => vec!["spans", "influence"],
			},
		})
	}

	/// Pulls events until the end or a stop string, handing text to `emit`.
	async fn drive(
		&self,
		mut events: mpsc::UnboundedReceiver<Event>,
		mut emit: impl FnMut(String) -> bool,
	) -> Result<Ending, ApiError> {
		let mut text = TextStream::new(self.parsed.stop.clone());
		let mut completion_tokens = 0u32;
		let mut tokens = Vec::new();
		loop {
			match events.recv().await {
				Some(Event::Token { id }) => {
					completion_tokens = completion_tokens.saturating_add(1);
					tokens.push(id);
					let bytes = self.state.tokenizer.decode_bytes(&[id]);
					let delta = text.push(&bytes);
					if !delta.is_empty() && !emit(delta) {
						// The client went away: stop generating (dropping the receiver).
						return Ok(Ending { finish: "stop", completion_tokens, tokens });
					}
					if text.stopped() {
						return Ok(Ending { finish: "stop", completion_tokens, tokens });
					}
				}
				Some(Event::Done { reason, .. }) => {
					let rest = text.finish();
					if !rest.is_empty() {
						emit(rest);
					}
					let finish = protocol::finish_reason(reason == FinishReason::Length);
					return Ok(Ending { finish, completion_tokens, tokens });
				}
				Some(Event::Error(e)) => return Err(serve_error(e)),
				None => return Err(ApiError::Unavailable("the engine stopped".into())),
			}
		}
	}

	async fn whole(
		self,
		events: mpsc::UnboundedReceiver<Event>,
	) -> Result<Response<Body>, ApiError> {
		let mut out = String::new();
		let ending = match self
			.drive(events, |delta| {
				out.push_str(&delta);
				true
			})
			.await
		{
			Ok(ending) => ending,
			Err(e) => {
				cancel(&self.state, self.auth.as_ref());
				return Err(e);
			}
		};
		let openledger = self.settle(&ending).await;
		let body = protocol::completion_body(
			self.chat,
			&self.id,
			self.created,
			&self.parsed.model_name,
			&out,
			ending.finish,
			(self.prompt_tokens, ending.completion_tokens),
			openledger,
		);
		Ok(json_response(200, &body))
	}

	async fn stream(
		self,
		events: mpsc::UnboundedReceiver<Event>,
	) -> Result<Response<Body>, ApiError> {
		// Unbounded: a response holds at most `max_tokens` chunks.
		let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
		tokio::spawn(async move {
			let frame = |value: &Value| Bytes::from(format!("data: {value}\n\n"));
			let chunk = |delta: &str, end| {
				protocol::chunk_body(
					self.chat,
					&self.id,
					self.created,
					&self.parsed.model_name,
					delta,
					end,
				)
			};
			let result =
				self.drive(events, |delta| tx.send(frame(&chunk(&delta, None))).is_ok()).await;
			match result {
				Ok(ending) => {
					let openledger = self.settle(&ending).await;
					let last = chunk(
						"",
						Some((
							ending.finish,
							(self.prompt_tokens, ending.completion_tokens),
							openledger,
						)),
					);
					let _ = tx.send(frame(&last));
					let _ = tx.send(Bytes::from_static(b"data: [DONE]\n\n"));
				}
				Err(e) => {
					cancel(&self.state, self.auth.as_ref());
					let _ = tx.send(frame(&e.body()));
				}
			}
		});
		let mut response = Response::new(SseBody { rx }.boxed());
		let headers = response.headers_mut();
		headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
		headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
		Ok(response)
	}
}

/// A response body fed by a channel of server-sent-event frames.
struct SseBody {
	rx: mpsc::UnboundedReceiver<Bytes>,
}

impl hyper::body::Body for SseBody {
	type Data = Bytes;
	type Error = Infallible;

	fn poll_frame(
		mut self: Pin<&mut Self>,
		cx: &mut Context<'_>,
	) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
		self.rx.poll_recv(cx).map(|next| next.map(|bytes| Ok(Frame::data(bytes))))
	}
}
