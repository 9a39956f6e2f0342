//! The store's HTTP API against a real server on 127.0.0.1.

mod common;

use common::{json, TestStore};
use gpu_worker::store::{ContentHash, DEFAULT_MAX_OBJECT_BYTES};
use hyper::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NOTE: &[u8] = br#"{"id":"wr-0001","pattern":"mixer-funded","risk":"high"}"#;

#[tokio::test]
async fn put_then_get_round_trips() {
	let s = TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await;
	let hash = ContentHash::of(NOTE);

	let put = s.put(&hash, NOTE).await;
	assert_eq!(put.status, StatusCode::CREATED);
	let body = json(&put);
	assert_eq!(body["hash"], hash.to_string());
	assert_eq!(body["size"], NOTE.len());

	let get = s.get(&hash).await;
	assert_eq!(get.status, StatusCode::OK);
	assert_eq!(get.body, NOTE);
	assert_eq!(get.headers["content-type"], "application/octet-stream");
	assert_eq!(get.headers["etag"], format!("\"{hash}\""));
}

#[tokio::test]
async fn repeated_put_is_ok_not_created() {
	let s = TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await;
	let hash = ContentHash::of(NOTE);
	assert_eq!(s.put(&hash, NOTE).await.status, StatusCode::CREATED);
	let again = s.put(&hash, NOTE).await;
	assert_eq!(again.status, StatusCode::OK);
	assert_eq!(json(&again)["hash"], hash.to_string());
	assert_eq!(s.get(&hash).await.body, NOTE);
}

#[tokio::test]
async fn refuses_bytes_that_do_not_match_the_hash_and_stores_nothing() {
	let s = TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await;
	let claimed = ContentHash::of(b"the note the chain registered");
	let sent = b"some other bytes";

	let put = s.put(&claimed, sent).await;
	assert_eq!(put.status, StatusCode::UNPROCESSABLE_ENTITY);
	let body = json(&put);
	assert_eq!(body["error"], "hash mismatch");
	assert_eq!(body["expected"], claimed.to_string());
	assert_eq!(body["actual"], ContentHash::of(sent).to_string());

	assert_eq!(s.get(&claimed).await.status, StatusCode::NOT_FOUND);
	assert_eq!(s.get(&ContentHash::of(sent)).await.status, StatusCode::NOT_FOUND);
	assert!(!s.store.object_path(&claimed).exists());
}

#[tokio::test]
async fn missing_content_is_404() {
	let s = TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await;
	let get = s.get(&ContentHash::of(b"never stored")).await;
	assert_eq!(get.status, StatusCode::NOT_FOUND);
	assert_eq!(json(&get)["error"], "not found");
	let head = s.send(Method::HEAD, &format!("/content/{}", ContentHash::of(b"x")), b"").await;
	assert_eq!(head.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn too_large_is_413_and_not_stored() {
	let s = TestStore::start(1024).await;
	let at_limit = vec![7u8; 1024];
	assert_eq!(s.put(&ContentHash::of(&at_limit), &at_limit).await.status, StatusCode::CREATED);

	let over = vec![7u8; 1025];
	let hash = ContentHash::of(&over);
	let put = s.put(&hash, &over).await;
	assert_eq!(put.status, StatusCode::PAYLOAD_TOO_LARGE);
	assert_eq!(json(&put)["limit"], 1024);
	let post = s.send(Method::POST, "/content", &over).await;
	assert_eq!(post.status, StatusCode::PAYLOAD_TOO_LARGE);
	assert_eq!(s.get(&hash).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn chunked_upload_without_length_is_cut_off_at_the_limit() {
	let s = TestStore::start(1024).await;
	let over = vec![b'a'; 2000];
	let hash = ContentHash::of(&over);
	// Raw HTTP, so the body has no content-length and the server must count as it reads.
	let mut request = format!(
		"PUT /content/{hash} HTTP/1.1\r\nhost: {}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n",
		s.addr,
		over.len()
	)
	.into_bytes();
	request.extend_from_slice(&over);
	request.extend_from_slice(b"\r\n0\r\n\r\n");
	let mut tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
	tcp.write_all(&request).await.unwrap();
	let mut response = Vec::new();
	tcp.read_to_end(&mut response).await.unwrap();
	let response = String::from_utf8_lossy(&response);
	assert!(response.starts_with("HTTP/1.1 413"), "{response}");
	assert_eq!(s.get(&hash).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn malformed_hash_is_400() {
	let s = TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await;
	for path in
		["/content/0x1234", "/content/not-a-hash", &format!("/content/0x{}", "z".repeat(64))]
	{
		let put = s.send(Method::PUT, path, NOTE).await;
		assert_eq!(put.status, StatusCode::BAD_REQUEST, "PUT {path}");
		assert_eq!(json(&put)["error"], "malformed content hash");
		assert_eq!(
			s.send(Method::GET, path, b"").await.status,
			StatusCode::BAD_REQUEST,
			"GET {path}"
		);
	}
}

#[tokio::test]
async fn corrupted_file_is_500_and_not_served() {
	let s = TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await;
	let hash = ContentHash::of(NOTE);
	assert_eq!(s.put(&hash, NOTE).await.status, StatusCode::CREATED);
	let mut damaged = NOTE.to_vec();
	damaged[10] ^= 0x01;
	std::fs::write(s.store.object_path(&hash), &damaged).unwrap();

	let get = s.get(&hash).await;
	assert_eq!(get.status, StatusCode::INTERNAL_SERVER_ERROR);
	assert_eq!(json(&get)["error"], "stored content is corrupted");
	assert!(!get.body.windows(damaged.len()).any(|w| w == damaged.as_slice()));
	let head = s.send(Method::HEAD, &format!("/content/{hash}"), b"").await;
	assert_eq!(head.status, StatusCode::INTERNAL_SERVER_ERROR);

	// Uploading the genuine bytes again repairs the object.
	assert_eq!(s.put(&hash, NOTE).await.status, StatusCode::CREATED);
	assert_eq!(s.get(&hash).await.body, NOTE);
}

#[tokio::test]
async fn post_stores_under_the_computed_hash() {
	let s = TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await;
	let post = s.send(Method::POST, "/content", NOTE).await;
	assert_eq!(post.status, StatusCode::CREATED);
	let body = json(&post);
	let hash = ContentHash::of(NOTE);
	assert_eq!(body["hash"], hash.to_string());
	assert_eq!(body["size"], NOTE.len());
	assert_eq!(s.get(&hash).await.body, NOTE);
	assert_eq!(s.send(Method::POST, "/content", NOTE).await.status, StatusCode::OK);
}

#[tokio::test]
async fn head_reports_the_size_without_a_body() {
	let s = TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await;
	let hash = ContentHash::of(NOTE);
	s.put(&hash, NOTE).await;
	let head = s.send(Method::HEAD, &format!("/content/{hash}"), b"").await;
	assert_eq!(head.status, StatusCode::OK);
	assert_eq!(head.headers["content-length"], NOTE.len().to_string());
	assert!(head.body.is_empty());
}

#[tokio::test]
async fn health_and_unknown_routes() {
	let s = TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await;
	let health = s.send(Method::GET, "/health", b"").await;
	assert_eq!(health.status, StatusCode::OK);
	assert_eq!(json(&health)["status"], "ok");
	assert_eq!(s.send(Method::GET, "/nope", b"").await.status, StatusCode::NOT_FOUND);
	let delete = s.send(Method::DELETE, &format!("/content/{}", ContentHash::of(NOTE)), b"").await;
	assert_eq!(delete.status, StatusCode::METHOD_NOT_ALLOWED);
	assert_eq!(delete.headers["allow"], "GET, HEAD, PUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_puts_of_the_same_content_store_it_once() {
	let s = std::sync::Arc::new(TestStore::start(DEFAULT_MAX_OBJECT_BYTES).await);
	let bytes: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
	let hash = ContentHash::of(&bytes);

	let uploads: Vec<_> = (0..16)
		.map(|_| {
			let (s, bytes) = (s.clone(), bytes.clone());
			tokio::spawn(async move { s.put(&hash, &bytes).await.status })
		})
		.collect();
	let mut statuses = Vec::new();
	for upload in uploads {
		statuses.push(upload.await.unwrap());
	}
	assert!(
		statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::OK),
		"{statuses:?}"
	);
	assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");

	assert_eq!(s.get(&hash).await.body, bytes);
	let leftovers = std::fs::read_dir(s.dir.path().join("tmp")).unwrap().count();
	assert_eq!(leftovers, 0, "temporary upload files left behind");
}
