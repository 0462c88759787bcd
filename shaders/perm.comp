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

// What the proposal leaves for the one inner loop.
#define JOB_NONE 0
#define JOB_REVERSE 1
#define JOB_SHIFT 2

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

// The inner loop's job, set by a move: a reversal of cnt swaps from
// positions (ri, rj) inwards, or a shift of cnt cities (forward from ps,
// or backward ending at pd) followed by the segment seg0..seg2 of len
// cities put at sp.
int job;
uint cnt;
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
  job = JOB_REVERSE;
  cnt = uint(len / 2);
  ri = i;
  rj = j;
}

int64_t two_opt(uint u, int a, int b, int64_t dab, int side, uvec4 sc)
{
  int pa = P(a), pb = P(b), step = side != 0 ? n - 1 : 1;
  int ia = wrap(pa + step);
  int na = T(ia), nb = T(wrap(pb + step));
  if (na == b || nb == a)
    return 0;
  int64_t delta = dab + d(na, nb) - d(a, na) - d(b, nb);
  if (!accept(delta, sc.y, sc.z, u) || too_long(unwrap(pb - ia) + 1, n))
    return 0;
  plan_reverse(side != 0 ? pb : ia, side != 0 ? ia : pb);
  return delta;
}

// perm.c move_segment(), as a plan for the inner loop.
void plan_shift(int s, int len, int c, int dd)
{
  int xlen = unwrap(P(c) - wrap(s + len)) + 1;
  int ylen = n - len - xlen;
  job = JOB_SHIFT;
  ps = s;
  slen = len;
  fwd = xlen <= ylen;
  if (fwd) {
    cnt = uint(xlen);
    sp = wrap(s + xlen);
  } else {
    pd = P(dd);
    cnt = uint(ylen);
    sp = pd;
  }
}

int64_t or_opt(uint u, int a, int b, int64_t dab, int side, int end,
               int len, uvec4 sc)
{
  int pb = P(b);
  int s = end != 0 ? unwrap(P(a) - len + 1) : P(a);
  if (n < len + 2 || unwrap(pb - s) < len)
    return 0;
  int o = T(wrap(pb + (side != 0 ? n - 1 : 1)));
  if (unwrap(P(o) - s) < len)
    return 0;
  int c = side != 0 ? o : b;
  int dd = side != 0 ? b : o;
  int s1 = T(s);
  int sl = T(wrap(s + len - 1));
  int p = T(unwrap(s - 1));
  int q = T(wrap(s + len));
  int far = a == s1 ? sl : s1;
  int first = side != 0 ? far : a;
  int64_t delta = d(p, q) - d(p, s1) - d(sl, q) - d(c, dd) + dab
                  + d(o, far);
  if (!accept(delta, sc.y, sc.z, u)
      || too_long(unwrap(P(c) - wrap(s + len)) + 1, n - len))
    return 0;
  bool same = first == s1;
  seg0 = T(same ? s : wrap(s + len - 1));
  seg1 = len > 1 ? T(same ? wrap(s + 1) : wrap(s + len - 2)) : 0;
  seg2 = len > 2 ? T(same ? wrap(s + 2) : s) : 0;
  plan_shift(s, len, c, dd);
  return delta;
}

// perm.c propose(): the move of proposal i from its draws h and u.
int64_t propose(uint i, uint h, uint u, uvec4 sc)
{
  uint a = rng_mulhi(h, pc.n);
  uint f = rng_mullo(h, pc.n);
  uint j = rng_mulhi(f, pc.k);
  ivec2 e = nbx[a * pc.k + j];
  uint kind = i % PERM_MOVE_PERIOD;
  f = rng_mullo(f, pc.k);
  int side = int(f >> 31);
  int end = int(f >> 30) & 1;
  if (kind < PERM_OR_MOVES)
    return or_opt(u, int(a), e.x, int64_t(e.y), side, end,
                  1 + int(kind % OR_MAX_LEN), sc);
  return two_opt(u, int(a), e.x, int64_t(e.y), side, sc);
}

// The one inner loop: a reversal or a shift, whichever was planned.
// Returns the iterations it ran.
uint run_job()
{
  uint t = 0;
  for (; t < cnt; t++) {
    if (job == JOB_REVERSE) {
      int ci = T(ri), cj = T(rj);
      put(ri, cj);
      put(rj, ci);
      ri = wrap(ri + 1);
      rj = unwrap(rj - 1);
    } else if (fwd) {
      put(wrap(ps + int(t)), T(wrap(ps + slen + int(t))));
    } else {
      int kk = int(cnt - 1u - t);
      put(wrap(wrap(pd + slen) + kk), T(wrap(pd + kk)));
    }
  }
  if (job == JOB_SHIFT) {
    put(sp, seg0);
    if (slen > 1)
      put(wrap(sp + 1), seg1);
    if (slen > 2)
      put(wrap(sp + 2), seg2);
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
  // side), counted as at least 1 even when no invocation enters it.
  uint worst = 2u + min(pc.n / 2u, uint(PERM_MAX_SPAN));
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
    job = JOB_NONE;
    cnt = 0u;
    e += propose(i, rng_draw(sk, i, 0u), rng_draw(sk, i, 1u), sc);
    uint ran = run_job();
    if (ran != cnt)
      flags |= FLAG_INNER_CUT;
    used += 1u + max(1u, subgroupMax(cnt));
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
