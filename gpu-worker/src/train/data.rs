//! Training data from a Datanet snapshot: each contribution's text becomes token windows, and
//! contributions are split into train and held-out sets by their content hash, so every worker
//! makes the same split without coordinating.

use crate::model::Tokenizer;
use sp_crypto_hashing::blake2_256;

/// One contribution's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
	/// The contribution's on-chain id.
	pub contribution: u64,
	/// Its content hash (blake2-256 of its bytes).
	pub hash: [u8; 32],
	/// Its text.
	pub text: String,
}

/// One training sequence: a window of a document's tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
	/// Index of its document in the data set's documents.
	pub document: usize,
	/// The contribution it came from.
	pub contribution: u64,
	/// Tokens, at least two (the first predicts the second, and so on).
	pub tokens: Vec<u32>,
}

/// Documents tokenized and split.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
	/// Every document, in the order given.
	pub documents: Vec<Document>,
	/// Windows of the training documents.
	pub train: Vec<Example>,
	/// Windows of the held-out documents.
	pub heldout: Vec<Example>,
}

/// A document's place in the split: `blake2_256("openledger/heldout" ++ hash)`'s first eight
/// bytes, little-endian, modulo 1000. Documents scoring below `heldout_permille` are held out.
pub fn split_score(hash: &[u8; 32]) -> u64 {
	let mut input = b"openledger/heldout".to_vec();
	input.extend_from_slice(hash);
	let digest = blake2_256(&input);
	let mut first = [0u8; 8];
	first.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
	u64::from_le_bytes(first) % 1000
}

impl Dataset {
	/// Tokenizes `documents` (text, then the end-of-sequence token when the tokenizer has one)
	/// into windows of at most `seq_len + 1` tokens that overlap by one, so each token after the
	/// first is predicted exactly once. Documents whose [`split_score`] is below
	/// `heldout_permille` are held out; with two or more documents, at least one is held out and
	/// at least one trains (the lowest score and the highest, ties broken by hash).
	pub fn build(
		documents: Vec<Document>,
		tokenizer: &Tokenizer,
		seq_len: usize,
		heldout_permille: u16,
	) -> Self {
		let seq_len = seq_len.max(1);
		let scores: Vec<(u64, [u8; 32])> =
			documents.iter().map(|d| (split_score(&d.hash), d.hash)).collect();
		let mut held: Vec<bool> =
			scores.iter().map(|(s, _)| *s < u64::from(heldout_permille)).collect();
		if documents.len() >= 2 {
			let lowest = (0..scores.len()).min_by_key(|i| scores.get(*i).copied());
			let highest = (0..scores.len()).max_by_key(|i| scores.get(*i).copied());
			if !held.iter().any(|h| *h) {
				if let Some(slot) = lowest.and_then(|i| held.get_mut(i)) {
					*slot = true;
				}
			}
			if held.iter().all(|h| *h) {
				if let Some(slot) = highest.and_then(|i| held.get_mut(i)) {
					*slot = false;
				}
			}
		}
		let mut set = Self { documents: Vec::new(), train: Vec::new(), heldout: Vec::new() };
		for (index, (doc, is_held)) in documents.into_iter().zip(held).enumerate() {
			let mut tokens = tokenizer.encode(&doc.text);
			tokens.extend(tokenizer.eos_id());
			let mut start = 0;
			while start + 1 < tokens.len() {
				let end = (start + seq_len + 1).min(tokens.len());
				let example = Example {
					document: index,
					contribution: doc.contribution,
					tokens: tokens.get(start..end).unwrap_or(&[]).to_vec(),
				};
				match is_held {
					true => set.heldout.push(example),
					false => set.train.push(example),
				}
				start += seq_len;
			}
			set.documents.push(doc);
		}
		set
	}

	/// Predicted tokens in the training windows.
	pub fn train_tokens(&self) -> usize {
		self.train.iter().map(|e| e.tokens.len().saturating_sub(1)).sum()
	}
}

/// A contribution's bytes as training text: a JSON object's `"text"` field when the bytes are
/// one (the common shape of dataset records), else the bytes as UTF-8 (invalid sequences
/// replaced).
pub fn contribution_text(bytes: &[u8]) -> String {
	if bytes.first() == Some(&b'{') {
		if let Ok(serde_json::Value::Object(map)) =
			serde_json::from_slice::<serde_json::Value>(bytes)
		{
			if let Some(serde_json::Value::String(text)) = map.get("text") {
				return text.clone();
			}
		}
	}
	String::from_utf8_lossy(bytes).into_owned()
}

/// Documents from local files, for the command line: every non-hidden file of a directory
/// (sorted by name) is one document, and a `.jsonl` file holds one per line. Contribution ids
/// are positions, hashes the blake2-256 of each document's bytes.
pub fn read_documents(path: &std::path::Path) -> std::io::Result<Vec<Document>> {
	let mut raw: Vec<Vec<u8>> = Vec::new();
	if path.is_dir() {
		let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(path)?
			.filter_map(|e| e.ok().map(|e| e.path()))
			.filter(|p| p.is_file())
			.filter(|p| !p.file_name().and_then(|n| n.to_str()).unwrap_or(".").starts_with('.'))
			.collect();
		files.sort();
		for file in files {
			raw.push(std::fs::read(file)?);
		}
	} else {
		let bytes = std::fs::read(path)?;
		match path.extension().and_then(|e| e.to_str()) {
			Some("jsonl") => raw.extend(
				bytes
					.split(|b| *b == b'\n')
					.filter(|l| !l.iter().all(u8::is_ascii_whitespace))
					.map(<[u8]>::to_vec),
			),
			_ => raw.push(bytes),
		}
	}
	Ok(raw
		.into_iter()
		.enumerate()
		.map(|(i, bytes)| Document {
			contribution: i as u64,
			hash: blake2_256(&bytes),
			text: contribution_text(&bytes),
		})
		.collect())
}
