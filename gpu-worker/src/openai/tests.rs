//! The API end to end in process: the real SmolLM2 base, a random adapter on disk, the OpenLoRA
//! engine, the HTTP server, and the in-memory chain settling receipts as pallet-inference does.
//! Skipped (with the reason) without the model file.

use super::{ApiConfig, ApiServer, ApiState, Ledger};
use crate::{
	chain::{
		inference::{self, DepositInfo, ServedVersion},
		testing::{FakeChain, GENESIS},
		Chain,
	},
	model::{config::LlamaConfig, gguf::GgufFile, reference::Weights, tokenizer::Tokenizer},
	openlora::{EngineHandle, EngineOptions, NaiveServer, Request as EngineRequest},
	train::{rng::SplitMix64, Adapter, LoraConfig, Target},
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use sp_core::{sr25519, Pair};
use std::{net::SocketAddr, sync::Arc};

const WORKER: [u8; 32] = [0x77; 32];
const PRICE: u128 = 1_000_000;

struct Setup {
	addr: SocketAddr,
	chain: Arc<FakeChain>,
	ledger: Arc<Ledger>,
	client: sr25519::Pair,
	tokenizer: Arc<Tokenizer>,
	config: LlamaConfig,
	weights: Weights,
	adapter: Adapter,
	engine: EngineHandle,
	base_hash: [u8; 32],
	_dir: tempfile::TempDir,
}

async fn setup() -> Option<Setup> {
	let path = crate::model::smollm2_path();
	if !path.is_file() {
		println!("skipped: {} not found; run scripts/fetch-model.sh", path.display());
		return None;
	}
	let base_hash = sp_crypto_hashing::blake2_256(&std::fs::read(&path).unwrap());
	let file = GgufFile::open(&path).unwrap();
	let config = LlamaConfig::from_gguf(file.gguf()).unwrap();
	let weights = Weights::load(&file, &config).unwrap();
	let tokenizer = Arc::new(Tokenizer::from_gguf(file.gguf()).unwrap());

	// A rank-4 adapter on q and v whose `b` is not zero, so it changes the answers.
	let lora = LoraConfig { rank: 4, alpha: 8, dropout: 0.0, targets: vec![Target::Q, Target::V] };
	let mut adapter = Adapter::init(lora, &config, 11).unwrap();
	let mut rng = SplitMix64::new(11);
	for w in adapter.blocks.iter_mut().flatten().flatten() {
		w.b.iter_mut().for_each(|v| *v = rng.uniform(-0.02, 0.02));
	}
	let dir = tempfile::tempdir().unwrap();
	let adapter_hash = sp_crypto_hashing::blake2_256(&adapter.to_safetensors(&config));
	let (_, config_json) = adapter
		.save_peft(&dir.path().join(format!("0x{}", hex::encode(adapter_hash))), &config, "base")
		.unwrap();

	let chain = Arc::new(FakeChain::registered(WORKER, 1));
	let client = sr25519::Pair::from_string("//Alice", None).unwrap();
	chain.update(|s| {
		let version = ServedVersion {
			model: 3,
			version: 1,
			base_hash,
			adapter_hash,
			config_hash: sp_crypto_hashing::blake2_256(&config_json),
			attribution_index: [0; 32],
		};
		s.versions.insert((3, 1), version);
		s.versions.insert((4, 1), ServedVersion { model: 4, base_hash: [9; 32], ..version });
		s.active.insert(3, 1);
		s.prices.insert(3, PRICE);
		s.deposits.insert(client.public().0, DepositInfo { held: 10_000_000, withdrawal: None });
	});
	let engine = EngineHandle::start(
		config.clone(),
		weights.clone(),
		EngineOptions { adapters_dir: dir.path().into(), threads: 2, ..EngineOptions::default() },
	)
	.unwrap();
	let ledger = Arc::new(Ledger::new(chain.clone()));
	let state = ApiState::new(
		engine.clone(),
		tokenizer.clone(),
		Some(chain.clone() as Arc<dyn Chain>),
		Some(ledger.clone()),
		ApiConfig {
			allow_unpaid: false,
			admin_token: Some("secret".into()),
			base_hash,
			max_connections: 8,
		},
	);
	let server = ApiServer::bind("127.0.0.1:0", state).await.unwrap();
	let addr = server.local_addr().unwrap();
	tokio::spawn(server.run_until(std::future::pending()));
	Some(Setup {
		addr,
		chain,
		ledger,
		client,
		tokenizer,
		config,
		weights,
		adapter,
		engine,
		base_hash,
		_dir: dir,
	})
}

/// Sends a request; returns the status and the whole body.
async fn send(
	addr: SocketAddr,
	method: &str,
	path: &str,
	body: &str,
	headers: &[(&str, String)],
) -> (u16, String) {
	let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
	let (mut sender, connection) =
		hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
	tokio::spawn(connection);
	let mut request = hyper::Request::builder()
		.method(method)
		.uri(path)
		.header("host", "localhost")
		.header("content-type", "application/json");
	for (name, value) in headers {
		request = request.header(*name, value);
	}
	let response = sender
		.send_request(request.body(Full::new(Bytes::from(body.to_owned()))).unwrap())
		.await
		.unwrap();
	let status = response.status().as_u16();
	let bytes = response.into_body().collect().await.unwrap().to_bytes();
	(status, String::from_utf8_lossy(&bytes).into_owned())
}

/// The headers of `client`'s request for `body` to model 3 version 1.
fn paid(
	client: &sr25519::Pair,
	body: &str,
	nonce: u64,
	max_fee: u128,
) -> Vec<(&'static str, String)> {
	let hash = sp_crypto_hashing::blake2_256(body.as_bytes());
	let message = inference::signing_payload(&GENESIS, &WORKER, 3, 1, &hash, nonce, max_fee);
	vec![
		("x-openledger-client", format!("0x{}", hex::encode(client.public().0))),
		("x-openledger-nonce", nonce.to_string()),
		("x-openledger-max-fee", max_fee.to_string()),
		("x-openledger-signature", format!("0x{}", hex::encode(client.sign(&message).0))),
	]
}

fn chat(stream: bool) -> String {
	json!({
		"model": "3:1",
		"messages": [{ "role": "user", "content": "What is the capital of France?" }],
		"max_tokens": 12,
		"temperature": 0,
		"stream": stream,
	})
	.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_chat_completion_is_the_merged_models_answer_and_settles_on_chain() {
	let Some(s) = setup().await else { return };
	let body = chat(false);
	let (status, text) =
		send(s.addr, "POST", "/v1/chat/completions", &body, &paid(&s.client, &body, 1, 50_000))
			.await;
	assert_eq!(status, 200, "{text}");
	let answer: Value = serde_json::from_str(&text).unwrap();
	let content = answer["choices"][0]["message"]["content"].as_str().unwrap().to_owned();

	// The same prompt served alone with the adapter merged into the base weights.
	let prompt = s.tokenizer.encode(
		"<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
	);
	let stops: Vec<u32> =
		["<|im_end|>", "<|endoftext|>"].iter().filter_map(|t| s.tokenizer.token_id(t)).collect();
	let mut naive = NaiveServer::new(s.config.clone(), &s.weights, 2).unwrap();
	let expected = naive
		.serve(
			Some(&s.adapter),
			&EngineRequest {
				prompt: prompt.clone(),
				max_tokens: 12,
				stop_tokens: stops,
				..Default::default()
			},
		)
		.unwrap();
	assert_eq!(content, s.tokenizer.decode(&expected.tokens));
	assert!(!content.is_empty());

	// Usage, fee and receipt.
	let (prompt_tokens, completion_tokens) = (
		answer["usage"]["prompt_tokens"].as_u64().unwrap() as u32,
		answer["usage"]["completion_tokens"].as_u64().unwrap() as u32,
	);
	assert_eq!(prompt_tokens as usize, prompt.len());
	assert_eq!(completion_tokens as usize, expected.tokens.len());
	let fee = inference::fee(PRICE, prompt_tokens + completion_tokens, 50_000);
	let receipt = &answer["openledger"]["receipt"];
	assert_eq!(receipt["fee"], fee.to_string());
	assert_eq!(receipt["nonce"], 1);
	assert_eq!(s.ledger.flush().await.unwrap().submitted, 1);
	let settled = s.chain.read(|c| c.settled.clone());
	assert_eq!(settled.len(), 1);
	assert_eq!(settled[0].1, fee);
	assert_eq!(s.chain.read(|c| c.deposits[&s.client.public().0].held), 10_000_000 - fee);

	// Streamed, the same text arrives in chunks, the receipt with the last one.
	let body = chat(true);
	let (status, text) =
		send(s.addr, "POST", "/v1/chat/completions", &body, &paid(&s.client, &body, 2, 50_000))
			.await;
	assert_eq!(status, 200, "{text}");
	let chunks: Vec<Value> = text
		.split("\n\n")
		.filter_map(|frame| frame.strip_prefix("data: "))
		.filter(|data| *data != "[DONE]")
		.map(|data| serde_json::from_str(data).unwrap())
		.collect();
	assert!(text.trim_end().ends_with("data: [DONE]"));
	let streamed: String =
		chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
	assert_eq!(streamed, content);
	let last = chunks.last().unwrap();
	assert_eq!(last["choices"][0]["finish_reason"], answer["choices"][0]["finish_reason"]);
	assert_eq!(last["openledger"]["receipt"]["nonce"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpaid_forged_replayed_and_unfunded_requests_are_refused_by_status() {
	let Some(s) = setup().await else { return };
	let body = chat(false);
	let post = |headers: Vec<(&'static str, String)>, body: String| async move {
		send(s.addr, "POST", "/v1/chat/completions", &body, &headers).await
	};
	// No payment headers: 402.
	assert_eq!(post(vec![], body.clone()).await.0, 402);
	// Signed for another body: 401.
	let other = chat(true);
	assert_eq!(post(paid(&s.client, &other, 1, 50_000), body.clone()).await.0, 401);
	// More than the deposit: 402.
	assert_eq!(post(paid(&s.client, &body, 1, 20_000_000), body.clone()).await.0, 402);
	// Served once, then replayed: 409.
	assert_eq!(post(paid(&s.client, &body, 5, 50_000), body.clone()).await.0, 200);
	let (status, text) = post(paid(&s.client, &body, 5, 50_000), body.clone()).await;
	assert_eq!(status, 409, "{text}");
	assert!(text.contains("above 5"), "{text}");
	// A version that does not exist, or of another base model: 404.
	let missing = body.replace("\"3:1\"", "\"3:9\"");
	assert_eq!(post(paid(&s.client, &missing, 6, 50_000), missing).await.0, 404);
	let foreign = body.replace("\"3:1\"", "\"4:1\"");
	assert_eq!(post(paid(&s.client, &foreign, 7, 50_000), foreign).await.0, 404);
	// Malformed: 400.
	let bad = r#"{"model":"3:1","messages":[]}"#.to_owned();
	assert_eq!(post(paid(&s.client, &bad, 8, 50_000), bad).await.0, 400);
	// Admin routes want the token.
	assert_eq!(send(s.addr, "GET", "/v1/adapters", "", &[]).await.0, 403);
	let (status, text) =
		send(s.addr, "GET", "/v1/adapters", "", &[("authorization", "Bearer secret".into())]).await;
	assert_eq!(status, 200);
	let list: Value = serde_json::from_str(&text).unwrap();
	assert_eq!(list["data"][0]["rank"], 4);
	// The served version is listed.
	let (_, models) = send(s.addr, "GET", "/v1/models", "", &[]).await;
	assert!(models.contains("\"3:1\""), "{models}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infer_job_answers_as_the_merged_model_reproducibly() {
	use crate::{
		chain::types::{AssignedJob, InferResult, InferSpec, JobKind},
		jobs::{infer::completion_text, Executor, InferExecutor, JobError},
	};
	use codec::{Decode, Encode};
	let Some(s) = setup().await else { return };
	let executor =
		InferExecutor::new(s.chain.clone(), s.engine.clone(), s.tokenizer.clone(), s.base_hash);
	let job = |spec: &InferSpec| AssignedJob {
		id: 9,
		kind: JobKind::Infer,
		spec: spec.encode(),
		round: 0,
		deadline: 100,
	};
	let spec = InferSpec {
		model: 3,
		version: 1,
		prompt: b"The capital of France is".to_vec(),
		max_tokens: 10,
	};
	let first = executor.execute(&job(&spec)).await.unwrap();
	let second = executor.execute(&job(&spec)).await.unwrap();
	assert_eq!(first, second, "greedy answers are reproducible, so replicas agree by hash");
	assert_eq!(first.payload_hash, sp_crypto_hashing::blake2_256(&first.payload));
	let result = InferResult::decode(&mut &first.payload[..]).unwrap();

	let prompt = s.tokenizer.encode("The capital of France is");
	let mut naive = NaiveServer::new(s.config.clone(), &s.weights, 2).unwrap();
	let expected = naive
		.serve(
			Some(&s.adapter),
			&EngineRequest {
				prompt: prompt.clone(),
				max_tokens: 10,
				stop_tokens: super::stop_tokens(&s.tokenizer),
				..Default::default()
			},
		)
		.unwrap();
	assert_eq!(result.completion, completion_text(&s.tokenizer, &expected.tokens).into_bytes());
	assert_eq!(
		(result.prompt_tokens as usize, result.completion_tokens as usize),
		(prompt.len(), expected.tokens.len())
	);

	// Refusals, by name: an unknown version, another base's version, a bad spec.
	let missing = InferSpec { version: 7, ..spec.clone() };
	assert!(
		matches!(executor.execute(&job(&missing)).await, Err(JobError::Failed(m)) if m.contains("no version"))
	);
	let foreign = InferSpec { model: 4, ..spec.clone() };
	assert!(
		matches!(executor.execute(&job(&foreign)).await, Err(JobError::Failed(m)) if m.contains("adapts base"))
	);
	let garbage = AssignedJob { spec: vec![1, 2, 3], ..job(&spec) };
	assert!(matches!(executor.execute(&garbage).await, Err(JobError::InvalidSpec(_))));
	let binary = InferSpec { prompt: vec![0xff, 0xfe], ..spec };
	assert!(matches!(executor.execute(&job(&binary)).await, Err(JobError::InvalidSpec(_))));
}
