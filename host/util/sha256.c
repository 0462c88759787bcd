/* SHA-256 from FIPS 180-4, sections 4.1.2, 4.2.2, 5.1.1, 5.3.3 and 6.2. */
#include "util/sha256.h"

#include <string.h>

static const uint32_t sha256_k[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
  0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

static uint32_t sha256_rotr(uint32_t x, unsigned n)
{
  return (x >> n) | (x << (32 - n));
}

static uint32_t sha256_load_be(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
         (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Builds the message schedule W of one 512-bit block (6.2.2 step 1). */
static void sha256_schedule(const uint8_t *block, uint32_t w[64])
{
  for (int t = 0; t < 16; t++)
    w[t] = sha256_load_be(block + 4 * t);
  for (int t = 16; t < 64; t++) {
    uint32_t s0 = sha256_rotr(w[t - 15], 7) ^ sha256_rotr(w[t - 15], 18) ^
                  (w[t - 15] >> 3);
    uint32_t s1 = sha256_rotr(w[t - 2], 17) ^ sha256_rotr(w[t - 2], 19) ^
                  (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
}

/* Compresses one block into the state (6.2.2 steps 2 to 4). */
static void sha256_block(uint32_t h[8], const uint8_t *block)
{
  uint32_t w[64], v[8];

  sha256_schedule(block, w);
  memcpy(v, h, sizeof v);
  for (int t = 0; t < 64; t++) {
    uint32_t e = v[4], a = v[0];
    uint32_t s1 = sha256_rotr(e, 6) ^ sha256_rotr(e, 11) ^ sha256_rotr(e, 25);
    uint32_t ch = (e & v[5]) ^ (~e & v[6]);
    uint32_t t1 = v[7] + s1 + ch + sha256_k[t] + w[t];
    uint32_t s0 = sha256_rotr(a, 2) ^ sha256_rotr(a, 13) ^ sha256_rotr(a, 22);
    uint32_t maj = (a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]);
    memmove(v + 1, v, 7 * sizeof v[0]);
    v[4] += t1;
    v[0] = t1 + s0 + maj;
  }
  for (int i = 0; i < 8; i++)
    h[i] += v[i];
}

void sha256_init(sha256_ctx *c)
{
  static const uint32_t h0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  };

  memcpy(c->state, h0, sizeof h0);
  c->bytes = 0;
  c->fill = 0;
}

void sha256_update(sha256_ctx *c, const void *data, size_t len)
{
  const uint8_t *p = data;

  c->bytes += len;
  while (len > 0) {
    size_t take = sizeof c->block - c->fill;
    if (take > len)
      take = len;
    memcpy(c->block + c->fill, p, take);
    c->fill += take;
    p += take;
    len -= take;
    if (c->fill == sizeof c->block) {
      sha256_block(c->state, c->block);
      c->fill = 0;
    }
  }
}

/* Pads with 0x80, zeros and the 64-bit bit length (5.1.1). */
void sha256_final(sha256_ctx *c, uint8_t out[SHA256_DIGEST_LEN])
{
  uint64_t bits = c->bytes * 8;
  uint8_t pad[72] = { 0x80 };
  size_t padlen = (c->fill < 56 ? 56 : 120) - c->fill;

  for (int i = 0; i < 8; i++)
    pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
  sha256_update(c, pad, padlen + 8);
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(c->state[i] >> 24);
    out[4 * i + 1] = (uint8_t)(c->state[i] >> 16);
    out[4 * i + 2] = (uint8_t)(c->state[i] >> 8);
    out[4 * i + 3] = (uint8_t)c->state[i];
  }
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
  static const char digits[] = "0123456789abcdef";
  uint8_t d[SHA256_DIGEST_LEN];
  sha256_ctx c;

  sha256_init(&c);
  sha256_update(&c, data, len);
  sha256_final(&c, d);
  for (int i = 0; i < SHA256_DIGEST_LEN; i++) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 15];
  }
  out[SHA256_HEX_LEN] = '\0';
}
