/* TEE challenge and session of worker.fcgi (SPEC §3.2.7). */
#include <string.h>
#include <time.h>

#include "coord_codec.h"
#include "coord_crypto.h"
#include "coord_near.h"
#include "coord_parse.h"
#include "coord_tee.h"
#include "worker.h"
#include "banned.h"

#define NEAR_ATTEMPTS 3
#define NEAR_RETRY_SECONDS 3

void worker_tee_challenge(struct coord_req *r)
{
	char challenge[65];
	enum coord_err e = coord_tee_challenge_new(r->db, r->token_hash, challenge);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "challenge", json_object_new_string(challenge));
	coord_reply_json(r, 200, o);
}

/*
 * "ed25519:<base58>" (NEAR form) or, when hex_len is given, that many hex
 * characters, decoding to exactly n bytes. Other schemes are refused.
 */
static bool decode_ed25519(const char *text, size_t hex_len, unsigned char *out, size_t n)
{
	size_t len = strlen(text), got;
	if (strncmp(text, "ed25519:", 8) == 0)
		return coord_base58_decode(text + 8, len - 8, out, n, &got) == COORD_OK && got == n;
	return len == hex_len && coord_hex_decode(text, len, out, n) == COORD_OK;
}

static void sleep_seconds(int s)
{
	for (int i = 0; i < s * 10 && !coord_shutting_down(); i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

void worker_tee_register(struct coord_req *r)
{
	static const struct coord_field fields[] = {
		{ "public_key", COORD_FT_STRING, true, 1, 256, NULL },
		/* unbounded: step 1 answers every malformed challenge 400 invalid_challenge */
		{ "challenge", COORD_FT_STRING, true, 0, 0, NULL },
		{ "signature", COORD_FT_STRING, true, 1, 256, NULL },
	};
	struct coord_value v[3];
	unsigned char pub[32], sig[64], msg[32];
	bool expired, present = false;

	if (!coord_req_json(r, fields, 3, v))
		return;
	/* 1-2. the challenge, consumed even when expired */
	if (!coord_lowerhex_valid(v[1].s, v[1].len, 64)) {
		coord_reply_error(r, 400, "invalid_challenge", "challenge must be 64 lower-case hex");
		return;
	}
	enum coord_err e = coord_tee_challenge_take(r->db, v[1].s, r->token_hash, &expired);
	if (e == COORD_ERR_NOT_FOUND) {
		coord_reply_error(r, 400, "invalid_challenge", "Unknown, used or another token's challenge");
		return;
	}
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	if (expired) {
		coord_reply_error(r, 400, "challenge_expired", "Challenge older than 60 seconds");
		return;
	}
	/* 3. the signature over the 32 raw challenge bytes */
	coord_hex_decode(v[1].s, 64, msg, 32);
	if (!decode_ed25519(v[0].s, 64, pub, 32) || !decode_ed25519(v[2].s, 128, sig, 64) ||
	    !coord_ed25519_verify(pub, msg, 32, sig)) {
		coord_reply_error(r, 403, "signature_invalid", "Public key or signature invalid");
		return;
	}
	/* 4-5. the key must be an access key of the operator's account */
	if (!r->cfg->operator_account_id || r->cfg->near_off) {
		coord_reply_error(r, 503, "tee_not_configured", "TEE registration is not configured");
		return;
	}
	char key[8 + 64];
	memcpy(key, "ed25519:", 8);
	coord_base58_encode(pub, 32, key + 8);
	for (int attempt = 1; attempt <= NEAR_ATTEMPTS; attempt++) {
		e = coord_near_access_key(r->cfg, r->cfg->operator_account_id, key, &present);
		if ((e == COORD_OK && present) || attempt == NEAR_ATTEMPTS || coord_shutting_down())
			break;
		sleep_seconds(NEAR_RETRY_SECONDS);
	}
	if (e != COORD_OK) {
		coord_reply_error(r, 502, "upstream_error", "NEAR RPC failed");
		return;
	}
	if (!present) {
		coord_reply_error(r, 403, "key_not_registered",
				  "Key is not an access key of the operator account");
		return;
	}
	/* 6. the session */
	char session_id[37], expires_at[32];
	e = coord_tee_session_open(r->db, r->token_hash, key, r->cfg->tee_session_ttl_seconds,
				   session_id, expires_at);
	if (e != COORD_OK) {
		coord_reply_backend_error(r, e);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "session_id", json_object_new_string(session_id));
	json_object_object_add(o, "expires_at", json_object_new_string(expires_at));
	coord_reply_json(r, 200, o);
}
