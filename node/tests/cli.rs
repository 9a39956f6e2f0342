//! The node's command line, run as a real process.

use std::process::Command;

fn node() -> Command {
	Command::new(env!("CARGO_BIN_EXE_openledger-node"))
}

fn run(args: &[&str]) -> (bool, String, String) {
	let out = node().args(args).output().expect("the node binary runs");
	(
		out.status.success(),
		String::from_utf8_lossy(&out.stdout).into_owned(),
		String::from_utf8_lossy(&out.stderr).into_owned(),
	)
}

#[test]
fn rejects_an_unknown_argument_with_a_clear_error() {
	let (ok, _, stderr) = run(&["--no-such-flag"]);
	assert!(!ok);
	assert!(stderr.contains("unexpected argument '--no-such-flag'"), "{stderr}");
}

#[test]
fn rejects_an_unknown_chain_name_with_a_clear_error() {
	let (ok, _, stderr) = run(&["build-spec", "--chain", "moonbase"]);
	assert!(!ok);
	assert!(stderr.contains("unknown chain `moonbase`"), "{stderr}");
	assert!(stderr.contains("expected `dev`, `local`"), "{stderr}");
}

#[test]
fn builds_the_local_spec_with_three_validators_and_the_open_token() {
	let (ok, stdout, stderr) = run(&["build-spec", "--chain", "local"]);
	assert!(ok, "{stderr}");
	let spec: serde_json::Value = serde_json::from_str(&stdout).expect("the spec is JSON");
	assert_eq!(spec["id"], "openledger_local");
	assert_eq!(spec["properties"]["tokenSymbol"], "OPEN");
	assert_eq!(spec["properties"]["tokenDecimals"], 18);
	assert_eq!(spec["properties"]["ss58Format"], 1612);
	let patch = &spec["genesis"]["runtimeGenesis"]["patch"];
	// Three validators with their session keys (Aura and GRANDPA take theirs from the session).
	assert_eq!(patch["validators"]["validators"].as_array().map(Vec::len), Some(3));
	let keys = patch["session"]["keys"].as_array().expect("session keys");
	assert_eq!(keys.len(), 3);
	assert!(keys.iter().all(|k| k[2]["aura"].is_string() && k[2]["grandpa"].is_string()));
	// No sudo key: the local chain is governed by referenda, at the dev pace.
	assert!(patch["sudo"]["key"].is_null(), "{}", patch["sudo"]);
	assert_eq!(patch["governance"]["pace"], "Dev");
}

#[test]
fn builds_a_raw_dev_spec_that_a_node_can_load_back() {
	let dir = tempfile::tempdir().expect("a temp dir");
	let path = dir.path().join("dev-raw.json");
	let (ok, stdout, stderr) = run(&["build-spec", "--chain", "dev", "--raw"]);
	assert!(ok, "{stderr}");
	std::fs::write(&path, &stdout).expect("write the spec");
	let spec: serde_json::Value = serde_json::from_str(&stdout).expect("the spec is JSON");
	assert!(spec["genesis"]["raw"]["top"].as_object().map_or(0, |top| top.len()) > 10);

	// The file path form of --chain loads it again.
	let (ok, again, stderr) = run(&["build-spec", "--chain", path.to_str().expect("utf-8")]);
	assert!(ok, "{stderr}");
	let again: serde_json::Value = serde_json::from_str(&again).expect("JSON");
	assert_eq!(again["id"], "openledger_dev");
}

#[test]
fn rejects_a_gpu_worker_that_is_not_an_http_url() {
	let (ok, _, stderr) = run(&["--dev", "--tmp", "--gpu-worker", "ws://127.0.0.1:8091"]);
	assert!(!ok);
	assert!(stderr.contains("a GPU worker URL starts with http:// or https://"), "{stderr}");
}

#[test]
fn prints_keys_with_the_openledger_address_prefix() {
	let (ok, stdout, stderr) = run(&["key", "inspect", "//Alice"]);
	assert!(ok, "{stderr}");
	// Alice's public key under prefix 1612 (the generic prefix 42 would print 5Grw...).
	assert!(
		stdout.contains("SS58 Address:      dZogzts8TRSZ81Da4XKEEb8nBKgYGRwiXcMtbWqX2MEDXfU1A"),
		"{stdout}"
	);
}
