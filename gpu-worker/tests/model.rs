//! The model readers against the real SmolLM2-135M-Instruct (Q4_1) GGUF file.
//!
//! The file is found at `$OPENLEDGER_SMOLLM2`, or where `scripts/fetch-model.sh` puts it
//! (`${OPENLEDGER_MODELS:-$HOME/.cache/openledger/models}`). Without it each test says so and
//! passes without checking anything.

use gpu_worker::model::{
	gguf::{GgufFile, TensorType},
	reference::{argmax, ReferenceModel},
	tokenizer::{PreTokenizer, TokenKind},
	LlamaConfig, Tokenizer,
};
use std::time::Instant;

/// The opened file, or `None` (after saying why) when it is not there.
fn smollm2() -> Option<GgufFile> {
	let path = gpu_worker::model::smollm2_path();
	if !path.is_file() {
		println!(
			"skipped: SmolLM2 GGUF not found at {}; run scripts/fetch-model.sh",
			path.display()
		);
		return None;
	}
	Some(GgufFile::open(&path).unwrap())
}

#[test]
fn reads_smollm2_config() {
	let Some(file) = smollm2() else { return };
	let gguf = file.gguf();
	assert_eq!(gguf.version(), 3);
	assert_eq!(gguf.metadata().get("general.architecture").and_then(|v| v.as_str()), Some("llama"));
	let config = LlamaConfig::from_gguf(gguf).unwrap();
	assert_eq!(config.block_count, 30);
	assert_eq!(config.embedding_length, 576);
	assert_eq!(config.feed_forward_length, 1536);
	assert_eq!(config.head_count, 9);
	assert_eq!(config.head_count_kv, 3);
	assert_eq!(config.head_dim(), 64);
	assert_eq!(config.vocab_size, 49152);
	assert_eq!(config.context_length, 8192);
	assert_eq!(config.rope_freq_base, 100_000.0);
	assert!((config.rms_norm_eps - 1e-5).abs() < 1e-9);
	assert!(config.tied_embeddings, "SmolLM2 has no output.weight");
}

#[test]
fn every_smollm2_tensor_lies_within_the_file() {
	let Some(file) = smollm2() else { return };
	let gguf = file.gguf();
	let file_len = std::fs::metadata(file.path()).unwrap().len();
	assert_eq!(gguf.file_len(), file_len);
	// token_embd, output_norm, and 9 per block (2 norms, q, k, v, o, gate, up, down).
	assert_eq!(gguf.tensors().len(), 2 + 30 * 9);
	let mut covered = 0;
	for info in gguf.tensors() {
		let range = gguf.tensor_range(info);
		assert!(range.start >= gguf.data_offset(), "{} starts before the data", info.name());
		assert!(range.end <= file_len, "{} ends past the file", info.name());
		assert_eq!(range.start % gguf.alignment(), 0, "{} is misaligned", info.name());
		covered += info.byte_len();
	}
	assert!(covered <= file_len - gguf.data_offset());
	let q = gguf.tensor("blk.0.attn_q.weight").unwrap();
	assert_eq!(q.dims(), &[576, 576]);
	assert_eq!(q.tensor_type(), TensorType::Q4_1);
	let k = gguf.tensor("blk.29.attn_k.weight").unwrap();
	assert_eq!(k.dims(), &[576, 192]);
}

#[test]
fn dequantizes_smollm2_weights_to_plausible_values() {
	let Some(file) = smollm2() else { return };
	let embd = file.gguf().tensor("token_embd.weight").unwrap();
	assert_eq!(embd.dims(), &[576, 49152]);
	assert_eq!(embd.tensor_type(), TensorType::Q8_0);
	let values = file.read_tensor_f32("token_embd.weight").unwrap();
	assert_eq!(values.len(), 576 * 49152);
	assert!(values.iter().all(|v| v.is_finite()));
	let mean_square =
		values.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / values.len() as f64;
	let rms = mean_square.sqrt();
	let max = values.iter().fold(0f32, |m, v| m.max(v.abs()));
	// Embedding weights of a small trained model: spread around 1e-1, none enormous.
	assert!((0.01..1.0).contains(&rms), "rms {rms}");
	assert!(max < 100.0, "max {max}");
	assert!(values.iter().filter(|v| **v == 0.0).count() < values.len() / 4, "mostly zeros");

	// A Q4_1 projection and an f32 norm.
	let q = file.read_tensor_f32("blk.0.attn_q.weight").unwrap();
	assert_eq!(q.len(), 576 * 576);
	assert!(q.iter().all(|v| v.is_finite()) && q.iter().any(|v| *v != 0.0));
	let norm = file.read_tensor_f32("output_norm.weight").unwrap();
	assert_eq!(norm.len(), 576);
	let mean = norm.iter().sum::<f32>() / 576.0;
	assert!(mean > 0.0 && mean < 10.0, "RMSNorm gains average {mean}");
}

#[test]
fn tokenizes_with_the_smollm2_vocabulary() {
	let Some(file) = smollm2() else { return };
	let t = Tokenizer::from_gguf(file.gguf()).unwrap();
	assert_eq!(t.vocab_size(), 49152);
	assert_eq!(t.pre_tokenizer(), PreTokenizer::SmolLm);
	assert_eq!(t.token(t.bos_id().unwrap()), Some("<|im_start|>"));
	assert_eq!(t.token(t.eos_id().unwrap()), Some("<|im_end|>"));

	let hello = t.encode("Hello, world!");
	assert_eq!(t.decode(&hello), "Hello, world!");
	let expected: Vec<u32> =
		["Hello", ",", "Ġworld", "!"].iter().map(|s| t.token_id(s).unwrap()).collect();
	assert_eq!(hello, expected);
	assert_eq!(t.encode("Hello"), [t.token_id("Hello").unwrap()]);

	let im_start = t.token_id("<|im_start|>").unwrap();
	assert_eq!(t.kind(im_start), Some(TokenKind::Control));
	assert_eq!(t.encode("<|im_start|>"), [im_start]);
	let chat = "<|im_start|>user\nWhat is 12+7?<|im_end|>\n";
	let ids = t.encode(chat);
	assert_eq!(ids.first(), Some(&im_start));
	assert!(ids.contains(&t.token_id("<|im_end|>").unwrap()));
	assert_eq!(t.decode(&ids), chat);
	// SmolLM2 tokenizes numbers digit by digit.
	let digits = t.encode("12");
	assert_eq!(digits, [t.token_id("1").unwrap(), t.token_id("2").unwrap()]);
	// Every numeric character stands alone, the space before it too (as Hugging Face splits).
	let half = t.encode(" ½");
	assert_eq!(half, [t.token_id("Ġ").unwrap(), t.token_id("Â½").unwrap()]);

	for text in [
		"The quick brown fox jumps over the lazy dog.",
		"  indented\n\tcode() { return x; }\n",
		"naïve café, 東京, emoji 🦀🚀, math ∑x²",
		"It's we'll they've, I'D",
	] {
		let ids = t.encode(text);
		assert!(ids.len() < text.len(), "BPE should merge something in {text:?}");
		assert_eq!(t.decode(&ids), text);
	}
}

/// SmolLM2's chat template around one user message, ready for the assistant's answer.
fn chat(question: &str) -> String {
	format!("<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n")
}

/// Greedy answer (up to 24 tokens, stopping at `<|im_end|>`) of the reference forward pass.
fn answer(model: &mut ReferenceModel, tokenizer: &Tokenizer, question: &str) -> String {
	let prompt = tokenizer.encode(&chat(question));
	let stop = tokenizer.token_id("<|im_end|>");
	let start = Instant::now();
	let ids = model.generate_greedy(&prompt, 24, stop).unwrap();
	let elapsed = start.elapsed();
	let text = tokenizer.decode(&ids);
	let steps = prompt.len() + ids.len().saturating_sub(1);
	println!(
		"Q: {question}\nA: {text}\n({} prompt + {} generated tokens in {:.2?}, {:.1?} per token)",
		prompt.len(),
		ids.len(),
		elapsed,
		elapsed / u32::try_from(steps.max(1)).unwrap()
	);
	text
}

#[test]
fn reference_forward_pass_answers_questions() {
	let Some(file) = smollm2() else { return };
	let tokenizer = Tokenizer::from_gguf(file.gguf()).unwrap();
	let start = Instant::now();
	let mut model = ReferenceModel::load(&file).unwrap();
	println!("loaded and dequantized in {:.2?}", start.elapsed());

	let paris = answer(&mut model, &tokenizer, "What is the capital of France?");
	assert!(paris.contains("Paris"), "{paris:?}");
	let colours = answer(&mut model, &tokenizer, "What color is the sky on a clear day?");
	assert!(colours.to_lowercase().contains("blue"), "{colours:?}");
}

#[test]
fn reference_logits_are_finite_and_repeatable() {
	let Some(file) = smollm2() else { return };
	let tokenizer = Tokenizer::from_gguf(file.gguf()).unwrap();
	let mut model = ReferenceModel::load(&file).unwrap();
	let prompt = tokenizer.encode(&chat("What is the capital of France?"));
	let run = |model: &mut ReferenceModel| {
		let mut logits = Vec::new();
		for (pos, &token) in prompt.iter().enumerate() {
			logits = model.logits(token, pos).unwrap();
		}
		logits
	};
	let first = run(&mut model);
	assert_eq!(first.len(), 49152);
	assert!(first.iter().all(|v| v.is_finite()));
	let spread = first.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v))
		- first.iter().fold(f32::INFINITY, |m, v| m.min(*v));
	assert!(spread > 1.0, "logits barely vary: spread {spread}");
	// Starting over at position 0 rewinds the cache; one thread gives the same numbers.
	model.set_threads(1);
	let second = run(&mut model);
	assert_eq!(argmax(&first), argmax(&second));
	assert_eq!(first, second);
	let top = argmax(&first).and_then(|i| u32::try_from(i).ok()).unwrap();
	println!("after the prompt the most likely token is {:?}", tokenizer.decode(&[top]));
}
