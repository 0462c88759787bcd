// Counter-based random numbers: host/anneal/rng.h, line for line.
//
// Include after `#extension GL_GOOGLE_include_directive : require`. Only
// 32-bit uint arithmetic (wrapping, as in C) and umulExtended for the
// 32x32->64 product, so every value equals the C reference bit for bit;
// tests/c/test_vk.c holds them to it through rng_test.comp.
#ifndef NEROX_RNG_GLSL
#define NEROX_RNG_GLSL

// Domain separators: keys derived for different purposes never collide.
#define RNG_DOMAIN_SLOT 0x68e31da4u
#define RNG_DOMAIN_EXCHANGE 0xb5297a4du
#define RNG_DOMAIN_INIT 0x1b56c4e9u

// lowbias32: one round of xor-shift-multiply mixing.
uint rng_mix(uint x)
{
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// Hash of a key and two counters: mix(k ^ mix(a ^ mix(b))).
uint rng_hash3(uint k, uint a, uint b)
{
  return rng_mix(k ^ rng_mix(a ^ rng_mix(b)));
}

// High word of the 32x32 product: uniform in [0, range).
uint rng_mulhi(uint h, uint range)
{
  uint hi, lo;
  umulExtended(h, range, hi, lo);
  return hi;
}

// Low word of the same product: the fraction left after rng_mulhi.
uint rng_mullo(uint h, uint range)
{
  return h * range;
}

// Key of a run: both halves of the 64-bit seed.
uint rng_seed_key(uint seed_lo, uint seed_hi)
{
  return rng_mix(seed_lo ^ rng_mix(seed_hi ^ 0x9e3779b9u));
}

// Key of one replica (temperature slot) of a run.
uint rng_slot_key(uint seed_key, uint slot)
{
  return rng_hash3(seed_key, RNG_DOMAIN_SLOT, slot);
}

// Key of one sweep of one slot: hashed once per sweep.
uint rng_sweep_key(uint slot_key, uint sweep_lo, uint sweep_hi)
{
  return rng_hash3(slot_key, sweep_lo, sweep_hi);
}

// Draw `d` (0 or 1) of proposal `i` within a sweep.
uint rng_draw(uint sweep_key, uint i, uint d)
{
  return rng_mix(sweep_key ^ rng_mix(2u * i + d));
}

// Draw of exchange round `round` (split in halves) for pair `pair`.
uint rng_exchange(uint seed_key, uint round_lo, uint round_hi, uint pair)
{
  uint k = rng_hash3(seed_key ^ RNG_DOMAIN_EXCHANGE, round_lo, round_hi);
  return rng_mix(k ^ rng_mix(pair));
}

#endif
