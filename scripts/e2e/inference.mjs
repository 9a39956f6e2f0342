// A paid-inference client for the worker's OpenAI-compatible API: it signs each request with the
// client's sr25519 key over pallet-inference's signing payload and sends it with the
// x-openledger-* headers.
import { blake2AsU8a } from '@polkadot/util-crypto';
import { bnToU8a, stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';

/**
 * The bytes a client signs (pallet-inference's `signing_payload`): SCALE of
 * (b"openledger/infer/v1", genesis, worker, model u32, version u32, request_hash, nonce u64,
 * max_fee u128).
 */
export function signingPayload({ genesis, worker, model, version, requestHash, nonce, maxFee }) {
  const le = (value, bitLength) => bnToU8a(BigInt(value), { bitLength, isLe: true });
  return u8aConcat(
    stringToU8a('openledger/infer/v1'),
    genesis, worker,
    le(model, 32), le(version, 32),
    requestHash,
    le(nonce, 64), le(maxFee, 128),
  );
}

/**
 * POSTs `body` to `url + path` as `pair`, paying for model `model` version `version` served by
 * the worker whose public key is `worker`. Resolves with `{ status, json }` (or `{ status, text }`
 * for an event stream).
 */
export async function paidRequest({ url, path = '/v1/chat/completions', body, pair, genesis, worker, model, version, nonce, maxFee, tamper }) {
  const text = JSON.stringify(body);
  const requestHash = blake2AsU8a(stringToU8a(text), 256);
  const message = signingPayload({ genesis, worker, model, version, requestHash, nonce, maxFee });
  const signature = pair.sign(message);
  const headers = {
    'content-type': 'application/json',
    'x-openledger-client': u8aToHex(pair.publicKey),
    'x-openledger-nonce': String(nonce),
    'x-openledger-max-fee': String(maxFee),
    'x-openledger-signature': u8aToHex(signature),
    ...(tamper || {}),
  };
  const response = await fetch(url + path, { method: 'POST', headers, body: text });
  const contentType = response.headers.get('content-type') || '';
  if (contentType.includes('event-stream')) return { status: response.status, text: await response.text() };
  return { status: response.status, json: await response.json() };
}

/** Parses a server-sent-event body into its JSON chunks (without the final `[DONE]`). */
export function sseChunks(text) {
  return text
    .split('\n\n')
    .map((frame) => frame.trim())
    .filter((frame) => frame.startsWith('data: ') && frame !== 'data: [DONE]')
    .map((frame) => JSON.parse(frame.slice('data: '.length)));
}
