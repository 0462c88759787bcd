// The `perm` kernel: one invocation anneals one temperature slot for (part
// of) one exchange round, exactly as host/anneal/perm.c does on the CPU:
// the same draws (rng.glsl), the same moves in the same order, the same
// integer acceptance. host/vk/perm_gpu.c runs the rounds, the exchanges
// and the best-tracking between dispatches.
//
// Slot s holds state ctl[s].x: its tour at tour[state * n ..] and inverse
// at pos[state * n ..], its length in energy[state]. A round is `total`
// proposals per slot, numbered q = 0.. from sweep `sweep0`; ctl[s].y is how
// many the slot has made, so a dispatch resumes where the last stopped.
//
// Loop budget: llvmpipe ends all of a shader's loops once their iterations,
// counted together per SIMD batch of invocations, reach 65,535 in one
// dispatch. So every proposal runs one inner loop (a reversal or a shift),
// the batch's iterations are counted with subgroupMax, and a dispatch stops
// before a block of proposals that could take it past `budget`. On exit
// ctl[s].z is where the slot meant to stop; ctl[s].w collects flags
// (sticky) the host turns into a "cut short" error: a loop that ended
// early.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "rng.glsl"

// host/anneal/perm_internal.h and perm.c, the same values. The block
// below is written for PERM_MOVE_PERIOD 8 and PERM_OR_MOVES 3: proposal i
// of a sweep is an or-opt of 1 + i % 8 cities for i % 8 < 3, else a 2-opt.
#define PERM_NEGLOG_BITS 12
#define PERM_MOVE_PERIOD 8u
#define PERM_MAX_SPAN 5000

// ctl[s].w flags.
#define FLAG_INNER_CUT 1u   // an inner loop stopped before its count
#define FLAG_OUTER_CUT 2u   // the proposal loop stopped before its plan

layout(local_size_x = 8) in;

layout(std430, set = 0, binding = 0) readonly buffer Dist { int dist[]; };
// Neighbour (city, distance) pairs (ivec2 on the host side), read as one
// 64-bit word: llvmpipe loads each component of a vector with its own
// loop over the lanes.
layout(std430, set = 0, binding = 1) readonly buffer Nbx { uint64_t nbx[]; };
layout(std430, set = 0, binding = 2) readonly buffer Neglog {
  uint neglog[];
};
// Per slot: key, tq, two unused words.
layout(std430, set = 0, binding = 3) readonly buffer Slots {
  uvec4 slots[];
};
layout(std430, set = 0, binding = 4) buffer Tours { int tour[]; };
layout(std430, set = 0, binding = 5) buffer Positions { int pos[]; };
// Per slot: state, proposals made this round, planned stop, flags.
layout(std430, set = 0, binding = 6) buffer Ctl { uvec4 ctl[]; };
layout(std430, set = 0, binding = 7) buffer Energy { int64_t energy[]; };

layout(push_constant) uniform Push {
  uint n;
  uint k;
  uint replicas;
  uint total;      // proposals per slot in this round
  uint sweep_lo;   // the round's first sweep
  uint sweep_hi;
  uint budget;     // loop iterations one dispatch may use
  uint cut;        // tests: end the proposal loop at this q (0: never)
  uint flip;       // 1: invocation i runs slot replicas - 1 - i (the host
                   // balances llvmpipe's threads with it)
} pc;

// Why the shader looks the way it does: llvmpipe runs both sides of every
// branch under a mask, and every buffer load or store is a loop over the
// 8 lanes, taken or not; so the cost of a proposal is the number of
// memory instructions it contains. The move kind follows only the
// proposal's index within its sweep, so the proposal loop runs in blocks
// of PERM_MOVE_PERIOD proposals that start at an index divisible by it,
// each proposal written out with its kind fixed: no code of the other
// kinds runs masked, and each kind loads only what it needs (a 2-opt 9
// loads, an or-opt 12 to 14) and edits with its own loop (a reversal
// swaps, an or-opt shifts and then places its segment without a loop).
// On a GPU the same holds: the kind never diverges between lanes.

int n;
uint base;
uint tq;           // the slot's temperature
uint sk;           // the sweep's key
int64_t e;         // the state's length
uint used;         // loop iterations this dispatch, as llvmpipe counts
uint flags;

int wrap(int i)
{
  return i >= n ? i - n : i;
}

int unwrap(int i)
{
  return i < 0 ? i + n : i;
}

int64_t d(int i, int j)
{
  return int64_t(dist[uint(i) * uint(n) + uint(j)]);
}

int T(int p)
{
  return tour[base + uint(p)];
}

int P(int c)
{
  return pos[base + uint(c)];
}

void put(int at, int city)
{
  tour[base + uint(at)] = city;
  pos[base + uint(city)] = at;
}

bool too_long(int len, int total)
{
  return len > PERM_MAX_SPAN && total - len > PERM_MAX_SPAN;
}

// perm_accept. Its threshold never exceeds thr_max (neglog[0] is the
// table's largest entry), so perm.c's early rejection above thr_max
// changes nothing and is left out here; delta <= 0 passes too.
bool accept(int64_t delta, uint u)
{
  uint hi, lo;
  umulExtended(tq, neglog[u >> (32 - PERM_NEGLOG_BITS)], hi, lo);
  return delta <= int64_t(hi);
}

// The draws of proposal i (perm.c propose()).
int a, b, side, end_;
int64_t dab;
uint u;

void draw(uint i)
{
  uint h = rng_draw(sk, i, 0u);
  u = rng_draw(sk, i, 1u);
  uint ua = rng_mulhi(h, uint(n));
  uint f = rng_mullo(h, uint(n));
  uint j = rng_mulhi(f, pc.k);
  ivec2 nb = ivec2(unpackUint2x32(nbx[ua * pc.k + j]));
  f = rng_mullo(f, pc.k);
  a = int(ua);
  b = nb.x;
  dab = int64_t(nb.y);
  side = int(f >> 31);
  end_ = int(f >> 30) & 1;
}

// Counts an inner loop that ran `ran` of its `steps` iterations: llvmpipe
// runs a loop's body at least once, for the whole batch.
void count(uint steps, uint ran)
{
  if (ran != steps)
    flags |= FLAG_INNER_CUT;
  used += max(1u, subgroupMax(steps));
}

// perm.c two_opt() and reverse(); `on` false: past the sweep's end.
void two_opt(uint i, bool on)
{
  draw(i);
  int pa = P(a), pb = P(b);
  int step = side != 0 ? n - 1 : 1;
  int ia = wrap(pa + step);
  int na = T(ia);
  int nb = T(wrap(pb + step));
  int64_t delta = dab + d(na, nb) - d(a, na) - d(b, nb);
  bool acc = accept(delta, u);
  bool ok = on && na != b && nb != a && acc
            && !too_long(unwrap(pb - ia) + 1, n);
  // The shorter of the stretch ri..rj and its complement.
  int ri = side != 0 ? pb : ia;
  int rj = side != 0 ? ia : pb;
  int len = unwrap(rj - ri) + 1;
  if (2 * len > n) {
    int ni = wrap(rj + 1);
    rj = unwrap(ri - 1);
    ri = ni;
    len = n - len;
  }
  uint steps = ok ? uint(len / 2) : 0u;
  uint t = 0u;
  for (; t < steps; t++) {
    int ci = T(ri), cj = T(rj);
    put(ri, cj);
    put(rj, ci);
    ri = wrap(ri + 1);
    rj = unwrap(rj - 1);
  }
  count(steps, t);
  if (ok)
    e += delta;
}

// perm.c or_opt() and move_segment() for a segment of L cities (a
// constant at every call, so each copy keeps only its own loads).
void or_opt(int L, uint i, bool on)
{
  draw(i);
  int pa = P(a), pb = P(b);
  int ps = end_ != 0 ? unwrap(pa - L + 1) : pa;
  int step = side != 0 ? n - 1 : 1;
  // o's position is where it was read from: no load of pos[o].
  int po = wrap(pb + step);
  int o = T(po);
  int p = T(unwrap(ps - 1));
  int q = T(wrap(ps + L));
  // a is one end of the segment (tour[pa] == a); only the other is read.
  int s1 = a, sl = a, mid = a;
  if (L > 1) {
    int other = T(end_ != 0 ? ps : wrap(ps + L - 1));
    s1 = end_ != 0 ? other : a;
    sl = end_ != 0 ? a : other;
  }
  if (L > 2)
    mid = T(wrap(ps + 1));
  int c = side != 0 ? o : b;
  int dd = side != 0 ? b : o;
  int pcc = side != 0 ? po : pb;     // pos[c]
  int pdd = side != 0 ? pb : po;     // pos[dd]
  int far = a == s1 ? sl : s1;
  int first = side != 0 ? far : a;
  int64_t delta = d(p, q) - d(p, s1) - d(sl, q) - d(c, dd) + dab
                  + d(o, far);
  bool acc = accept(delta, u);
  int xlen = unwrap(pcc - wrap(ps + L)) + 1;
  bool ok = on && n >= L + 2 && unwrap(pb - ps) >= L
            && unwrap(po - ps) >= L && acc && !too_long(xlen, n - L);
  // Shift the shorter stretch by L: forward from ps, or backward ending
  // at pos[dd]; then the segment, turned so that `first` leads, at sp.
  int ylen = n - L - xlen;
  bool fwd = xlen <= ylen;
  uint steps = ok ? uint(fwd ? xlen : ylen) : 0u;
  int dst = fwd ? ps : wrap(pdd + L);
  int src = fwd ? wrap(ps + L) : pdd;
  if (!fwd && steps > 0u) {
    dst = wrap(dst + int(steps) - 1);
    src = wrap(src + int(steps) - 1);
  }
  uint t = 0u;
  for (; t < steps; t++) {
    put(dst, T(src));
    dst = fwd ? wrap(dst + 1) : unwrap(dst - 1);
    src = fwd ? wrap(src + 1) : unwrap(src - 1);
  }
  count(steps, t);
  if (ok) {
    bool same = first == s1;
    int sp = fwd ? wrap(ps + xlen) : pdd;
    put(sp, same ? s1 : sl);
    if (L == 2)
      put(wrap(sp + 1), same ? sl : s1);
    if (L == 3) {
      put(wrap(sp + 1), mid);
      put(wrap(sp + 2), same ? sl : s1);
    }
    e += delta;
  }
}

void main()
{
  uint s = gl_GlobalInvocationID.x;
  if (s >= pc.replicas)
    return;
  if (pc.flip != 0u)
    s = pc.replicas - 1u - s;
  uvec4 c = ctl[s];
  uvec4 sc = slots[s];
  n = int(pc.n);
  base = c.x * pc.n;
  tq = sc.y;
  uint q = c.y, stop_at = pc.total;
  flags = c.w;
  used = 0u;
  // The most iterations one block can take: itself and eight loops of at
  // most min(n / 2, PERM_MAX_SPAN) each (perm.c: too_long bounds the
  // shorter side), counted as 1 even when no invocation enters.
  uint worst = 1u + PERM_MOVE_PERIOD
               * max(1u, min(pc.n / 2u, uint(PERM_MAX_SPAN)));
  // Dispatches stop only between blocks, so i is a multiple of 8 here.
  uint i = q % pc.n;
  uint64_t w = packUint2x32(uvec2(pc.sweep_lo, pc.sweep_hi))
               + uint64_t(q / pc.n);
  uvec2 wv = unpackUint2x32(w);
  sk = rng_sweep_key(sc.x, wv.x, wv.y);
  e = energy[c.x];
  while (q < pc.total) {
    if (used + worst > pc.budget) {
      stop_at = q;
      break;
    }
    if (pc.cut != 0u && q >= pc.cut)
      break;
    // The block: proposals i .. i + m - 1, cut at the sweep's end.
    uint m = min(PERM_MOVE_PERIOD, pc.n - i);
    used += 1u;
    or_opt(1, i, true);
    or_opt(2, i + 1u, m > 1u);
    or_opt(3, i + 2u, m > 2u);
    two_opt(i + 3u, m > 3u);
    two_opt(i + 4u, m > 4u);
    two_opt(i + 5u, m > 5u);
    two_opt(i + 6u, m > 6u);
    two_opt(i + 7u, m > 7u);
    q += m;
    i += m;
    if (i == pc.n) {
      i = 0u;
      w += 1ul;
      wv = unpackUint2x32(w);
      sk = rng_sweep_key(sc.x, wv.x, wv.y);
    }
  }
  if (q != stop_at)
    flags |= FLAG_OUTER_CUT;
  energy[c.x] = e;
  ctl[s] = uvec4(c.x, q, stop_at, flags);
}
