//! The `gpu-worker` binary as scripts use it: start a store on port 0, read the port from the
//! first line of stdout, upload with `store-put`, check with `hash` and `fetch`.

use std::{
	io::{BufRead, BufReader},
	path::Path,
	process::{Child, Command, Output, Stdio},
};

const BIN: &str = env!("CARGO_BIN_EXE_gpu-worker");

/// The store process; killed when the test ends, whether it passed or not.
struct Running(Child);

impl Drop for Running {
	fn drop(&mut self) {
		let _ = self.0.kill();
		let _ = self.0.wait();
	}
}

fn run(args: &[&str]) -> Output {
	let out = Command::new(BIN).args(args).output().unwrap();
	assert!(
		out.status.success(),
		"gpu-worker {args:?} failed: {}",
		String::from_utf8_lossy(&out.stderr)
	);
	out
}

fn stdout(out: &Output) -> String {
	String::from_utf8(out.stdout.clone()).unwrap()
}

fn start_store(dir: &Path) -> (Running, String) {
	let mut child = Command::new(BIN)
		.args(["store", "--dir", dir.to_str().unwrap(), "--listen", "127.0.0.1:0"])
		.stdout(Stdio::piped())
		.stderr(Stdio::null())
		.spawn()
		.unwrap();
	let stdout = child.stdout.take().unwrap();
	let running = Running(child);
	// Blocks until the server has bound its port: the line is printed after the bind.
	let mut line = String::new();
	BufReader::new(stdout).read_line(&mut line).unwrap();
	let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line:?}"));
	assert!(base.starts_with("http://127.0.0.1:"), "{base}");
	(running, base.to_owned())
}

#[test]
fn store_put_prints_hash_size_and_locator() {
	let dir = tempfile::tempdir().unwrap();
	let (_store, base) = start_store(&dir.path().join("store"));
	let a = dir.path().join("a.jsonl");
	let b = dir.path().join("b.jsonl");
	std::fs::write(&a, b"{\"pattern\":\"dust attack\"}\n").unwrap();
	std::fs::write(&b, b"{\"pattern\":\"address poisoning\"}\n").unwrap();

	let out = run(&["store-put", "--url", &base, a.to_str().unwrap(), b.to_str().unwrap()]);
	let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
	assert_eq!(lines.len(), 2, "{lines:?}");
	for (line, file) in lines.iter().zip([&a, &b]) {
		let fields: Vec<&str> = line.split(' ').collect();
		let [hash, size, locator] = fields[..] else { panic!("{line:?}") };
		let expected_hash = stdout(&run(&["hash", file.to_str().unwrap()]));
		assert_eq!(hash, expected_hash.trim());
		assert_eq!(size, std::fs::metadata(file).unwrap().len().to_string());
		assert_eq!(locator, format!("{base}/content/{hash}"));

		let fetched = run(&["fetch", locator, "--expect", hash]);
		assert_eq!(fetched.stdout, std::fs::read(file).unwrap());
	}
}

#[test]
fn fetch_refuses_the_wrong_hash() {
	let dir = tempfile::tempdir().unwrap();
	let file = dir.path().join("note.txt");
	std::fs::write(&file, b"approval phishing").unwrap();
	let wrong = format!("0x{}", "00".repeat(32));
	let out = Command::new(BIN)
		.args(["fetch", &format!("file://{}", file.display()), "--expect", &wrong])
		.output()
		.unwrap();
	assert!(!out.status.success());
	assert!(out.stdout.is_empty());
	assert!(String::from_utf8_lossy(&out.stderr).contains("expected 0x0000"));
}

#[test]
fn hash_matches_the_chain_for_empty_input() {
	let dir = tempfile::tempdir().unwrap();
	let file = dir.path().join("empty");
	std::fs::write(&file, b"").unwrap();
	let out = run(&["hash", file.to_str().unwrap()]);
	assert_eq!(
		stdout(&out).trim(),
		"0x0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
	);
}

#[test]
fn serve_documents_its_options_and_hides_fault_injection() {
	let help = stdout(&run(&["serve", "--help"]));
	for option in ["--node", "--key", "--listen", "--stake", "--backend", "--poll-ms", "--max-jobs"]
	{
		assert!(help.contains(option), "{option} missing from:\n{help}");
	}
	assert!(help.contains("--heartbeat-blocks"));
	assert!(!help.contains("--corrupt-results"), "{help}");
}

#[test]
fn serve_refuses_a_malformed_stake_before_connecting() {
	let out = Command::new(BIN)
		.args(["serve", "--node", "ws://127.0.0.1:1", "--key", "//Bob", "--stake", "1e3"])
		.output()
		.unwrap();
	assert!(!out.status.success());
	assert!(String::from_utf8_lossy(&out.stderr).contains("is not an amount of OPEN"));
}
