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
// before a proposal that could take it past `budget`. On exit ctl[s].z is
// where the slot meant to stop; ctl[s].w collects flags (sticky) the host
// turns into a "cut short" error: a loop that ended early.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "rng.glsl"

// host/anneal/perm_internal.h and perm.c, the same values.
#define PERM_NEGLOG_BITS 12
#define PERM_MOVE_PERIOD 8u
#define PERM_OR_MOVES 3u
#define PERM_MAX_SPAN 5000
#define OR_MAX_LEN 3u

// ctl[s].w flags.
#define FLAG_INNER_CUT 1u   // an inner loop stopped before its count
#define FLAG_OUTER_CUT 2u   // the proposal loop stopped before its plan

layout(local_size_x = 8) in;

layout(std430, set = 0, binding = 0) readonly buffer Dist { int dist[]; };
layout(std430, set = 0, binding = 1) readonly buffer Nbx { ivec2 nbx[]; };
layout(std430, set = 0, binding = 2) readonly buffer Neglog {
  uint neglog[];
};
// Per slot: key, tq, thr_max, unused.
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
} pc;

int n;
uint base;

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

bool accept(int64_t delta, uint tq, uint thr_max, uint u)
{
  if (delta <= 0)
    return true;
  if (delta > int64_t(thr_max))
    return false;
  uint hi, lo;
  umulExtended(tq, neglog[u >> (32 - PERM_NEGLOG_BITS)], hi, lo);
  return delta <= int64_t(hi);
}

// llvmpipe runs both sides of every branch, masked, and each load or
// store costs a loop over the lanes; so a proposal computes the addresses
// of both move kinds and loads one shared set of words (17), and one loop
// does the edit. The kind (proposal i % PERM_MOVE_PERIOD) is the same in
// every invocation, so on a real GPU nothing diverges there either.

// The edit a proposal leaves for the loop: `rev`: cnt swaps of positions
// (ri, rj) inwards; else cnt shifted cities (forward from ps, or backward
// ending at pd), then the segment seg0..seg2 of slen cities put at sp.
bool rev;
uint cnt, steps;
int ri, rj;
bool fwd;
int ps, pd, slen, sp;
int seg0, seg1, seg2;

// perm.c reverse(): the shorter of the two stretches.
void plan_reverse(int i, int j)
{
  int len = unwrap(j - i) + 1;
  if (2 * len > n) {
    int ni = wrap(j + 1);
    j = unwrap(i - 1);
    i = ni;
    len = n - len;
  }
  rev = true;
  cnt = uint(len / 2);
  steps = cnt;
  ri = i;
  rj = j;
}

// perm.c propose(), two_opt() and or_opt(), merged as described above.
// Returns the change of length (0 when rejected).
int64_t propose(uint i, uint h, uint u, uvec4 sc)
{
  uint a = rng_mulhi(h, pc.n);
  uint f = rng_mullo(h, pc.n);
  uint j = rng_mulhi(f, pc.k);
  ivec2 e = nbx[a * pc.k + j];
  int b = e.x;
  uint kind = i % PERM_MOVE_PERIOD;
  f = rng_mullo(f, pc.k);
  int side = int(f >> 31);
  int end = int(f >> 30) & 1;
  bool orm = kind < PERM_OR_MOVES;
  int len = 1 + int(kind % OR_MAX_LEN);
  int pa = P(int(a)), pb = P(b);
  int step = side != 0 ? n - 1 : 1;
  // 2-opt: na follows a, nb follows b (side 0; precede for side 1).
  int ia = wrap(pa + step);
  // Or-opt: the segment s..s+len-1 holds a at one end; o neighbours b.
  int s = end != 0 ? unwrap(pa - len + 1) : pa;
  int v1 = T(orm ? wrap(pb + step) : ia);       // o, or na
  int v2 = T(orm ? s : wrap(pb + step));        // s1, or nb
  int sl = T(wrap(s + len - 1));
  int p = T(unwrap(s - 1));
  int q = T(wrap(s + len));
  int mid = T(wrap(s + 1));
  int po = P(v1);                                // pos[o]
  int s1 = v2, o = v1;
  int c = side != 0 ? o : b;
  int dd = side != 0 ? b : o;
  int pc_ = side != 0 ? po : pb;                 // pos[c]
  int pdd = side != 0 ? pb : po;                 // pos[dd]
  int far = int(a) == s1 ? sl : s1;
  int first = side != 0 ? far : int(a);
  bool ok = orm ? !(n < len + 2 || unwrap(pb - s) < len
                    || unwrap(po - s) < len)
                : !(v1 == b || v2 == int(a));
  int64_t x1 = orm ? d(p, q) : d(v1, v2);
  int64_t x2 = orm ? d(p, s1) : d(int(a), v1);
  int64_t x3 = orm ? d(sl, q) : d(b, v2);
  int64_t x4 = d(c, dd);
  int64_t x5 = d(o, far);
  int64_t dab = int64_t(e.y);
  int64_t delta = orm ? x1 - x2 - x3 - x4 + dab + x5 : dab + x1 - x2 - x3;
  int xlen = unwrap(pc_ - wrap(s + len)) + 1;
  ok = ok && accept(delta, sc.y, sc.z, u)
       && !(orm ? too_long(xlen, n - len)
                : too_long(unwrap(pb - ia) + 1, n));
  if (!ok)
    return 0;
  if (!orm) {
    plan_reverse(side != 0 ? pb : ia, side != 0 ? ia : pb);
    return delta;
  }
  // perm.c move_segment(): shift the shorter stretch, then the segment.
  bool same = first == s1;
  seg0 = same ? s1 : sl;
  seg1 = len == 2 ? (same ? sl : s1) : mid;
  seg2 = same ? sl : s1;
  int ylen = n - len - xlen;
  rev = false;
  ps = s;
  slen = len;
  fwd = xlen <= ylen;
  pd = pdd;
  cnt = uint(fwd ? xlen : ylen);
  sp = fwd ? wrap(s + xlen) : pdd;
  steps = cnt + uint(len);
  return delta;
}

// The one inner loop: a reversal, or a shift and the segment. Returns
// the iterations it ran.
uint run_edit()
{
  uint t = 0;
  for (; t < steps; t++) {
    int x, y, v;
    if (rev) {
      x = ri;
      y = rj;
    } else if (t < cnt) {
      int kk = int(cnt - 1u - t);
      y = fwd ? wrap(ps + int(t)) : wrap(wrap(pd + slen) + kk);
      x = fwd ? wrap(ps + slen + int(t)) : wrap(pd + kk);
    } else {
      y = wrap(sp + int(t - cnt));
      x = y;
    }
    int cx = T(x), cy = T(y);
    uint k = t - cnt;
    v = rev || t < cnt ? cx : k == 0u ? seg0 : k == 1u ? seg1 : seg2;
    put(y, v);
    if (rev) {
      put(x, cy);
      ri = wrap(ri + 1);
      rj = unwrap(rj - 1);
    }
  }
  return t;
}

void main()
{
  uint s = gl_GlobalInvocationID.x;
  if (s >= pc.replicas)
    return;
  uvec4 c = ctl[s];
  uvec4 sc = slots[s];
  n = int(pc.n);
  base = c.x * pc.n;
  uint q = c.y, stop_at = pc.total, flags = c.w;
  uint used = 0u;
  // The most iterations one proposal can take: itself and a loop of at
  // most min(n / 2, PERM_MAX_SPAN) (perm.c: too_long bounds the shorter
  // side) plus the segment, counted as 1 even when no invocation enters.
  uint worst = 2u + min(pc.n / 2u, uint(PERM_MAX_SPAN)) + OR_MAX_LEN;
  uint i = q % pc.n;
  uint64_t w = packUint2x32(uvec2(pc.sweep_lo, pc.sweep_hi))
               + uint64_t(q / pc.n);
  uvec2 wv = unpackUint2x32(w);
  uint sk = rng_sweep_key(sc.x, wv.x, wv.y);
  int64_t e = energy[c.x];
  for (; q < pc.total; q++) {
    if (used + worst > pc.budget) {
      stop_at = q;
      break;
    }
    if (pc.cut != 0u && q == pc.cut)
      break;
    rev = false;
    cnt = 0u;
    steps = 0u;
    e += propose(i, rng_draw(sk, i, 0u), rng_draw(sk, i, 1u), sc);
    uint ran = run_edit();
    if (ran != steps)
      flags |= FLAG_INNER_CUT;
    used += 1u + max(1u, subgroupMax(steps));
    i++;
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
