/* SHA-256 (FIPS 180-4), small and self-contained: used to store API keys
 * hashed and to fingerprint request bodies for idempotency. */
#ifndef NEROX_SHA256_H
#define NEROX_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_HEX_LEN 64 /* without the terminating NUL */

typedef struct sha256_ctx {
  uint32_t state[8];
  uint64_t bytes;       /* message length so far */
  uint8_t block[64];
  size_t fill;          /* bytes waiting in block */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
void sha256_final(sha256_ctx *c, uint8_t out[SHA256_DIGEST_LEN]);

/* One-shot digest of data as lowercase hex, NUL-terminated. */
void sha256_hex(const void *data, size_t len,
                char out[SHA256_HEX_LEN + 1]);

#endif
