/* Counter-based random numbers for the annealing kernels.
 *
 * Nothing here keeps state: every value is a hash of a key and counters, so
 * the C reference and the GLSL shaders get the same numbers in any order.
 * Only 32-bit unsigned arithmetic is used, plus a 32x32->64 multiply whose
 * halves map to GLSL umulExtended(a, b, hi, lo). Each function below is
 * written so that it ports line for line:
 *   uint rng_mix(uint x) { x ^= x >> 16; x *= 0x7feb352du; ... }
 *
 * The mixer is lowbias32 (Chris Wellons, hash-prospector), a bijection of
 * 32-bit words with very low avalanche bias. */
#ifndef NEROX_RNG_H
#define NEROX_RNG_H

#include <stdint.h>

/* Domain separators: keys derived for different purposes never collide. */
#define RNG_DOMAIN_SLOT 0x68e31da4u
#define RNG_DOMAIN_EXCHANGE 0xb5297a4du
#define RNG_DOMAIN_INIT 0x1b56c4e9u

/* lowbias32: one round of xor-shift-multiply mixing. */
static inline uint32_t rng_mix(uint32_t x)
{
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

/* Hash of a key and two counters: mix(k ^ mix(a ^ mix(b))). */
static inline uint32_t rng_hash3(uint32_t k, uint32_t a, uint32_t b)
{
  return rng_mix(k ^ rng_mix(a ^ rng_mix(b)));
}

/* High word of the 32x32 product: a uniform integer in [0, range) when h
 * is a uniform 32-bit word (GLSL: umulExtended(h, range, hi, lo); hi). */
static inline uint32_t rng_mulhi(uint32_t h, uint32_t range)
{
  return (uint32_t)(((uint64_t)h * range) >> 32);
}

/* Low word of the same product: the fraction left after rng_mulhi, which
 * is again close to uniform and feeds the next small draw (GLSL: lo). */
static inline uint32_t rng_mullo(uint32_t h, uint32_t range)
{
  return h * range;
}

/* Key of a run: both halves of the 64-bit seed. */
static inline uint32_t rng_seed_key(uint32_t seed_lo, uint32_t seed_hi)
{
  return rng_mix(seed_lo ^ rng_mix(seed_hi ^ 0x9e3779b9u));
}

/* Key of one replica (temperature slot) of a run. */
static inline uint32_t rng_slot_key(uint32_t seed_key, uint32_t slot)
{
  return rng_hash3(seed_key, RNG_DOMAIN_SLOT, slot);
}

/* Key of one sweep of one slot: hashed once per sweep. */
static inline uint32_t rng_sweep_key(uint32_t slot_key, uint32_t sweep_lo,
                                     uint32_t sweep_hi)
{
  return rng_hash3(slot_key, sweep_lo, sweep_hi);
}

/* Draw `d` (0 or 1) of proposal `i` within a sweep. */
static inline uint32_t rng_draw(uint32_t sweep_key, uint32_t i, uint32_t d)
{
  return rng_mix(sweep_key ^ rng_mix(2u * i + d));
}

/* Draw of exchange round `round` (split in halves) for pair `pair`. */
static inline uint32_t rng_exchange(uint32_t seed_key, uint32_t round_lo,
                                    uint32_t round_hi, uint32_t pair)
{
  uint32_t k = rng_hash3(seed_key ^ RNG_DOMAIN_EXCHANGE, round_lo, round_hi);
  return rng_mix(k ^ rng_mix(pair));
}

#endif
