//! OpenLoRA against the real SmolLM2-135M-Instruct (Q4_1) GGUF file: a mixed batch of three
//! random adapters (different ranks and targets, read from PEFT files in a content-addressed
//! adapters directory) and the base Model gives the greedy tokens of the merged-weights
//! reference, request by request.
//!
//! Without the file the test says so and passes without checking anything.

use gpu_worker::{
	model::reference::ReferenceModel,
	openlora::{
		adapters::{save_content_addressed, synthetic_adapter},
		Engine, EngineOptions, Event, NaiveServer, Request,
	},
	train::{BaseFiles, Target},
};
use std::{path::PathBuf, time::Duration};

fn model_path() -> Option<PathBuf> {
	let path = gpu_worker::model::smollm2_path();
	if !path.is_file() {
		println!(
			"skipped: SmolLM2 GGUF not found at {}; run scripts/fetch-model.sh",
			path.display()
		);
		return None;
	}
	Some(path)
}

#[test]
fn a_mixed_adapter_batch_on_smollm2_matches_the_merged_reference() {
	let Some(path) = model_path() else { return };
	let base = BaseFiles::open(&path).unwrap();
	let config = base.config.clone();
	let dir = tempfile::tempdir().unwrap();
	let specs: [(u16, &[Target]); 3] = [
		(4, &[Target::Q, Target::V]),
		(8, &[Target::Q, Target::K, Target::V, Target::O]),
		(16, &[Target::Gate, Target::Up, Target::Down, Target::O]),
	];
	let adapters: Vec<_> = specs
		.iter()
		.enumerate()
		.map(|(i, (rank, targets))| {
			synthetic_adapter(&config, *rank, targets, 0.2, i as u64).unwrap()
		})
		.collect();
	let ids: Vec<_> = adapters
		.iter()
		.map(|a| save_content_addressed(dir.path(), a, &config, "SmolLM2-135M-Instruct").unwrap())
		.collect();
	let options = EngineOptions {
		max_batch: 8,
		max_prefill_tokens: 12,
		slab_slots: 4,
		max_rank: 16,
		host_cache_bytes: 64 << 20,
		adapters_dir: dir.path().to_path_buf(),
		store: None,
		threads: 2,
	};
	let mut engine = Engine::new(config.clone(), &base.weights, options).unwrap();
	let prompts = [
		"The capital of France is",
		"Write a haiku about the sea:",
		"def fibonacci(n):",
		"Once upon a time, there",
	];
	let adapter_of = [Some(0), Some(1), Some(2), None];
	let max_tokens = 8;
	let mut streams = Vec::new();
	for (prompt, adapter) in prompts.iter().zip(adapter_of) {
		let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
		let request = Request {
			adapter: adapter.map(|i| ids[i]),
			prompt: base.tokenizer.encode(prompt),
			max_tokens,
			..Request::default()
		};
		engine.add_request(request.clone(), tx).unwrap();
		streams.push((request, rx));
	}
	engine.run_until_idle(Duration::from_secs(60)).unwrap();
	assert_eq!(engine.stats().loads, 3);
	let mut naive = NaiveServer::new(config.clone(), &base.weights, 2).unwrap();
	let mut changed = 0;
	for ((request, rx), adapter) in streams.iter_mut().zip(adapter_of) {
		let mut tokens = Vec::new();
		while let Ok(event) = rx.try_recv() {
			match event {
				Event::Token { id } => tokens.push(id),
				Event::Done { completion_tokens, .. } => assert_eq!(completion_tokens, max_tokens),
				Event::Error(e) => panic!("{e}"),
			}
		}
		let mut weights = base.weights.clone();
		if let Some(i) = adapter {
			adapters[i].merge_into(&mut weights);
		}
		let mut reference = ReferenceModel::new(config.clone(), weights);
		let expected =
			reference.generate_greedy(&request.prompt, max_tokens as usize, None).unwrap();
		println!("{:?}: {:?}", adapter, base.tokenizer.decode(&tokens));
		assert_eq!(tokens, expected, "adapter {adapter:?}");
		let alone = naive.serve(adapter.map(|i| &adapters[i]), request).unwrap();
		assert_eq!(alone.tokens, expected, "naive path, adapter {adapter:?}");
		if adapter.is_some() && naive.serve(None, request).unwrap().tokens != expected {
			changed += 1;
		}
	}
	// The adapters are not no-ops: at least one changes what the base Model would say.
	assert!(changed >= 1, "no adapter changed its request's tokens");
}
