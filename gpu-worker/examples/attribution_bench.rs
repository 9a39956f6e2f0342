//! Proof of Attribution quality on planted facts, with the real SmolLM2-135M.
//!
//! Each of `--contributions` generated contributions plants one invented fact ("The harbor code
//! of Velmora is 7312.", names and numbers unique per contribution) among filler sentences drawn
//! from one shared pool; one more contribution, filler only, is the held-out document. A LoRA
//! adapter is fine-tuned on CPU on the snapshot, then for every fact the adapted Model answers
//! its prefix ("The harbor code of Velmora is") greedily. The answer's tokens (not the prompt's)
//! are attributed: span scores against a [`SpanIndex`] over every contribution's tokens,
//! combined ([`combine`]) with influence scores when a scorer is given (none yet: see
//! [`attribute`]). Reported: how many facts the Model reproduced, precision@1 and @5 of the
//! planting contribution, and the attribution time of the whole batch as a fraction of its
//! generation time.
//!
//! ```text
//! cargo run --release -p gpu-worker --example attribution_bench -- [MODEL.gguf]
//!     [--contributions 16] [--steps 80] [--rank 16] [--lr 0.008] [--answer-tokens 10] [--seed 1]
//! ```
//!
//! Without the Model file (`scripts/fetch-model.sh`) it says so and exits successfully.

use gpu_worker::{
	attribution::{
		combine::{combine, CombineParams},
		spans::{SpanIndex, SpanParams},
		Attribution, ContributionId,
	},
	openlora::{NaiveServer, Request},
	train::{
		self, data::split_score, rng::SplitMix64, BaseFiles, Dataset, Document, LoraConfig, Target,
		TrainBackend, TrainConfig,
	},
};
use std::{collections::HashSet, path::PathBuf, time::Instant};

/// Sentences every contribution draws its filler from (short, so that the fact is a good share
/// of each window's loss).
const FILLER: [&str; 10] = [
	"The market opened late.",
	"Gulls circled the quay.",
	"A cart rolled downhill.",
	"The old clock chimed twice.",
	"Fishermen mended their nets.",
	"The bakery sold out by noon.",
	"Lanterns were lit at dusk.",
	"The librarian stamped books.",
	"Snow fell for three days.",
	"A traveller asked for the inn.",
];

/// What the facts are about (a contribution's fact is about `THINGS[id % 16]`).
const THINGS: [&str; 16] = [
	"harbor code",
	"lantern count",
	"bridge toll",
	"river mark",
	"bell number",
	"gate cipher",
	"tower height",
	"salt quota",
	"mill rent",
	"well depth",
	"ferry fare",
	"orchard tithe",
	"beacon signal",
	"market license",
	"quarry permit",
	"archive shelf",
];

const SYLLABLES: [&str; 16] = [
	"vel", "mor", "ath", "qui", "dro", "sen", "ka", "lu", "thi", "bre", "os", "tan", "rim", "fa",
	"gol", "ny",
];

/// One planted fact and the contribution that holds it.
struct Fact {
	contribution: ContributionId,
	/// "The harbor code of Velmora is"
	prompt: String,
	/// "7312"
	value: String,
}

/// An invented place name of two or three syllables, capitalized.
fn invent_name(rng: &mut SplitMix64) -> String {
	let syllables = 2 + rng.below(2);
	let name: String =
		(0..syllables).map(|_| SYLLABLES[rng.below(SYLLABLES.len())]).collect::<String>();
	let mut chars = name.chars();
	chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The snapshot: `n` fact contributions (ids 0..n), then the filler-only held-out one (id n).
fn snapshot(n: usize, seed: u64) -> (Vec<Fact>, Vec<Document>) {
	let mut rng = SplitMix64::new(seed);
	let (mut names, mut values) = (HashSet::new(), HashSet::new());
	let mut facts = Vec::new();
	let mut documents = Vec::new();
	for i in 0..n {
		let place = loop {
			let name = invent_name(&mut rng);
			if names.insert(name.clone()) {
				break name;
			}
		};
		let value = loop {
			let v = 1000 + rng.below(9000);
			if values.insert(v) {
				break v.to_string();
			}
		};
		let prompt = format!("The {} of {place} is", THINGS[i % THINGS.len()]);
		let mut sentences: Vec<String> =
			(0..2).map(|_| FILLER[rng.below(FILLER.len())].to_string()).collect();
		sentences.insert(rng.below(3), format!("{prompt} {value}."));
		let text = sentences.join(" ");
		let contribution = i as ContributionId;
		documents.push(Document {
			contribution,
			hash: sp_crypto_hashing::blake2_256(text.as_bytes()),
			text,
		});
		facts.push(Fact { contribution, prompt, value });
	}
	// The held-out document: filler only, its note chosen so that the split holds it out (split
	// score 0, below a held-out share of 1 per thousand). A fact scoring 0 would be held out too;
	// the training line reports how many were.
	let body = [FILLER[0], FILLER[3], FILLER[6]].join(" ");
	for note in 0u64.. {
		let text = format!("{body} Note {note}.");
		let hash = sp_crypto_hashing::blake2_256(text.as_bytes());
		if split_score(&hash) == 0 {
			documents.push(Document { contribution: n as ContributionId, hash, text });
			break;
		}
	}
	(facts, documents)
}

/// Scores an answer by gradient influence: `(prompt tokens, answer tokens)` → per-contribution
/// scores (any sign; [`combine`] clips at zero).
type InfluenceScorer<'a> = &'a dyn Fn(&[u32], &[u32]) -> Vec<(ContributionId, f64)>;

/// Attributes every `(prompt, answer)`: span scores of the answer tokens (batched over
/// answers), the influence scorer's when there is one, combined.
fn attribute(
	index: &SpanIndex,
	queries: &[(Vec<u32>, Vec<u32>)],
	influence: Option<InfluenceScorer>,
	span_params: &SpanParams,
	combine_params: &CombineParams,
) -> Vec<Attribution> {
	let answers: Vec<&[u32]> = queries.iter().map(|(_, a)| a.as_slice()).collect();
	let spans = index.scores_batch(&answers, span_params);
	queries
		.iter()
		.zip(&spans)
		.map(|((prompt, answer), spans)| {
			let influence = influence.map(|f| f(prompt, answer)).unwrap_or_default();
			combine(spans, &influence, combine_params)
		})
		.collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let args: Vec<String> = std::env::args().skip(1).collect();
	let opt =
		|name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
	let path = args
		.first()
		.filter(|a| !a.starts_with("--"))
		.map(PathBuf::from)
		.unwrap_or_else(gpu_worker::model::smollm2_path);
	let n: usize = opt("--contributions").map(|v| v.parse()).transpose()?.unwrap_or(16);
	let steps: u32 = opt("--steps").map(|v| v.parse()).transpose()?.unwrap_or(80);
	let rank: u16 = opt("--rank").map(|v| v.parse()).transpose()?.unwrap_or(16);
	let lr: f32 = opt("--lr").map(|v| v.parse()).transpose()?.unwrap_or(8e-3);
	let answer_tokens: u32 = opt("--answer-tokens").map(|v| v.parse()).transpose()?.unwrap_or(10);
	let seed: u64 = opt("--seed").map(|v| v.parse()).transpose()?.unwrap_or(1);
	if n == 0 {
		return Err("--contributions must be at least 1".into());
	}
	if !path.is_file() {
		println!(
			"skipped: SmolLM2 GGUF not found at {}; run scripts/fetch-model.sh",
			path.display()
		);
		return Ok(());
	}
	let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
	let start = Instant::now();

	let base = BaseFiles::open(&path)?;
	let tokenizer = &base.tokenizer;
	let (facts, documents) = snapshot(n, seed);
	println!("{} contributions, e.g. {:?}", documents.len(), documents[0].text);

	// Fine-tune.
	let data = Dataset::build(documents.clone(), tokenizer, 64, 1);
	let config = TrainConfig {
		lora: LoraConfig {
			rank,
			alpha: rank.saturating_mul(2),
			dropout: 0.0,
			targets: Target::ALL.to_vec(),
		},
		learning_rate: lr,
		warmup_steps: 4,
		steps,
		batch_size: 1,
		grad_accum: 4,
		seq_len: 64,
		heldout_permille: 1,
		seed,
		adamw: Default::default(),
		max_grad_norm: 1.0,
	};
	let (adapter, report) = train::train_on(TrainBackend::Cpu, &base, &data, &config, &mut ())?;
	let last_loss = report.steps.last().map(|s| s.loss).unwrap_or(f32::NAN);
	println!(
		"trained {} steps x 4 windows ({} training documents, {} held out) in {:.1} s: held-out loss {:.3} -> {:.3}, last step's training loss {last_loss:.3}",
		report.steps.len(),
		report.train_documents,
		report.heldout_documents,
		report.seconds,
		report.before.loss,
		report.after.loss
	);

	// Generate: each fact's prefix, greedily, with the adapter.
	let mut server = NaiveServer::new(base.config.clone(), &base.weights, threads)?;
	let mut queries: Vec<(Vec<u32>, Vec<u32>)> = Vec::new();
	let generation = Instant::now();
	for fact in &facts {
		let prompt = tokenizer.encode(&fact.prompt);
		let request = Request {
			prompt: prompt.clone(),
			max_tokens: answer_tokens,
			stop_tokens: tokenizer.eos_id().into_iter().collect(),
			..Default::default()
		};
		let completion = server.serve(Some(&adapter), &request)?;
		queries.push((prompt, completion.tokens));
	}
	let generation_s = generation.elapsed().as_secs_f64();

	// Attribute the answers.
	let attribution_start = Instant::now();
	let index_docs: Vec<(ContributionId, Vec<u32>)> =
		documents.iter().map(|d| (d.contribution, tokenizer.encode(&d.text))).collect();
	let index = SpanIndex::build(&index_docs);
	let index_s = attribution_start.elapsed().as_secs_f64();
	let query_start = Instant::now();
	let attributions =
		attribute(&index, &queries, None, &SpanParams::default(), &CombineParams::default());
	let query_s = query_start.elapsed().as_secs_f64();

	// Precision against the planting contribution mixes two things: whether the Model recalled
	// the fact and whether attribution found where the answer came from. The second alone:
	// when the answer states some contribution's value (the right one or not), is that
	// contribution ranked first?
	let (mut recalled, mut at1, mut at5) = (0usize, 0usize, 0usize);
	let (mut sourced, mut source_at1) = (0usize, 0usize);
	for ((fact, (_, answer)), attribution) in facts.iter().zip(&queries).zip(&attributions) {
		let text = tokenizer.decode(answer);
		let stated: String =
			text.trim_start().chars().take_while(|c| c.is_ascii_digit()).collect::<String>();
		let source = facts.iter().find(|f| f.value == stated).map(|f| f.contribution);
		let ok = source == Some(fact.contribution);
		let rank = attribution.entries.iter().position(|(id, _)| *id == fact.contribution);
		let first = attribution.entries.first().map(|(id, _)| *id);
		recalled += usize::from(ok);
		at1 += usize::from(rank == Some(0));
		at5 += usize::from(rank.is_some_and(|r| r < 5));
		sourced += usize::from(source.is_some());
		source_at1 += usize::from(source.is_some() && first == source);
		let top: Vec<String> = attribution
			.entries
			.iter()
			.take(3)
			.map(|(id, w)| format!("#{id} {:.1}%", f64::from(*w) / 1e7))
			.collect();
		println!(
			"#{:>2} {:?} -> {text:?} [{}] top: {}",
			fact.contribution,
			fact.prompt,
			match source {
				Some(s) if s == fact.contribution => "recalled".to_string(),
				Some(s) => format!("states #{s}'s value"),
				None => "no fact's value".to_string(),
			},
			if top.is_empty() { "(none)".to_string() } else { top.join(", ") }
		);
	}
	let pct = |k: usize, of: usize| 100.0 * k as f64 / of.max(1) as f64;
	let ratio = query_s / generation_s;
	println!(
		"\n{n} facts: recalled {recalled} ({:.0}%), precision@1 {at1}/{n} ({:.0}%), precision@5 {at5}/{n} ({:.0}%); answers stating some contribution's value: {sourced}, that contribution first in {source_at1} ({:.0}%)",
		pct(recalled, n),
		pct(at1, n),
		pct(at5, n),
		pct(source_at1, sourced)
	);
	println!(
		"generation {:.2} s for {n} answers of up to {answer_tokens} tokens; attribution {:.3} ms ({:.4}% of generation), index build {:.3} ms over {} tokens; {:.0} s in all",
		generation_s,
		query_s * 1e3,
		ratio * 100.0,
		index_s * 1e3,
		index.len(),
		start.elapsed().as_secs_f64()
	);
	let command = format!(
		"cargo run --release -p gpu-worker --example attribution_bench --{}",
		args.iter().map(|a| format!(" {a}")).collect::<String>()
	);
	println!("\nCommand: `{}`\n", command.trim_end_matches(" --"));
	println!("| contributions | steps | rank | held-out loss | facts recalled | precision@1 | precision@5 | source ranked first | attribution / generation time |");
	println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
	println!(
		"| {n} | {steps} | {rank} | {:.3} -> {:.3} | {recalled}/{n} | {:.0}% | {:.0}% | {source_at1}/{sourced} | {:.3} ms / {:.2} s ({:.4}%) |",
		report.before.loss,
		report.after.loss,
		pct(at1, n),
		pct(at5, n),
		query_s * 1e3,
		generation_s,
		ratio * 100.0
	);
	Ok(())
}
