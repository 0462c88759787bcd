// The `binary` kernel: one invocation anneals one temperature slot for
// (part of) one exchange round, exactly as host/anneal/binary.c does on
// the CPU: sites in order 0..n-1 each sweep, the same draws (rng.glsl),
// the same integer acceptance, the same field updates. The four
// shaders/binary_*.comp set BINARY_NARROW (int32 fields, else int64) and
// BINARY_DENSE (updates read the n*n matrix, else the CSR rows) and
// include this file, so no layout test runs per site.
// host/vk/binary_gpu.c runs the rounds, exchanges and best tracking.
//
// Slot s holds state ctl[s].x: its assignment at x[state * n ..], fields
// at f[state * n ..], energy (E - offset) in energy[state]. A round is
// `total` site visits per slot, numbered q = 0.. from sweep `sweep0`;
// ctl[s].y is how many the slot has made, so a dispatch resumes there.
//
// Loop budget (docs/vulkan.md): llvmpipe ends all of a shader's loops once
// their iterations, counted together per SIMD batch of invocations, reach
// 65,535 in one dispatch. Each site visit counts 1 for the site loop and
// the batch's longest field update (at least 1: a loop body runs once for
// the whole batch even when no lane enters), via subgroupMax; a dispatch
// stops before a visit that could pass `budget`. On exit ctl[s].z is
// where the slot meant to stop; ctl[s].w collects flags the host turns
// into a "cut short" error.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "rng.glsl"

// host/anneal/pt.h.
#define PT_NEGLOG_BITS 12

// ctl[s].w flags.
#define FLAG_INNER_CUT 1u   // a field update stopped before its count
#define FLAG_OUTER_CUT 2u   // the site loop stopped before its plan

#ifdef BINARY_NARROW
#define FIELD int
#else
#define FIELD int64_t
#endif

layout(local_size_x = 8) in;

// CSR row offsets (n + 1) and (col, val) pairs; or the n*n matrix.
layout(std430, set = 0, binding = 0) readonly buffer Rows { uint rows[]; };
layout(std430, set = 0, binding = 1) readonly buffer Cv { ivec2 cv[]; };
layout(std430, set = 0, binding = 2) readonly buffer Mat { int mat[]; };
layout(std430, set = 0, binding = 3) readonly buffer Neglog {
  uint neglog[];
};
// Per slot: key, tq, two unused words.
layout(std430, set = 0, binding = 4) readonly buffer Slots {
  uvec4 slots[];
};
layout(std430, set = 0, binding = 5) buffer X { uint x[]; };
layout(std430, set = 0, binding = 6) buffer F { FIELD f[]; };
// Per slot: state, visits made this round, planned stop, flags.
layout(std430, set = 0, binding = 7) buffer Ctl { uvec4 ctl[]; };
layout(std430, set = 0, binding = 8) buffer Energy { int64_t energy[]; };

layout(push_constant) uniform Push {
  uint n;
  uint replicas;
  uint total;      // site visits per slot in this round
  uint sweep_lo;   // the round's first sweep
  uint sweep_hi;
  uint budget;     // loop iterations one dispatch may use
  uint cut;        // tests: end the site loop at this q (0: never)
  uint shift;      // pt_ladder.shift
  uint worst;      // most loop iterations one site visit can take
} pc;

uint used;         // loop iterations this dispatch, as llvmpipe counts
uint flags;

// Counts a field update that ran `ran` of its `steps` iterations.
void count(uint steps, uint ran)
{
  if (ran != steps)
    flags |= FLAG_INNER_CUT;
  used += max(1u, subgroupMax(steps));
}

// f_j += J_ij (x_i became 1, sgn 1) or -J_ij (sgn -1) for j in row i.
void update(uint base, uint i, bool on, int sgn)
{
#ifdef BINARY_DENSE
  uint steps = on ? pc.n : 0u;
  uint row = i * pc.n;
  uint t = 0u;
  for (; t < steps; t++)
    f[base + t] += FIELD(sgn) * FIELD(mat[row + t]);
#else
  uint a = rows[i];
  uint steps = on ? rows[i + 1u] - a : 0u;
  uint t = 0u;
  for (; t < steps; t++) {
    ivec2 e = cv[a + t];
    f[base + uint(e.x)] += FIELD(sgn) * FIELD(e.y);
  }
#endif
  count(steps, t);
}

void main()
{
  uint s = gl_GlobalInvocationID.x;
  if (s >= pc.replicas)
    return;
  uvec4 c = ctl[s];
  uvec4 sc = slots[s];
  uint base = c.x * pc.n;
  uint tq = sc.y;
  uint q = c.y, stop_at = pc.total;
  flags = c.w;
  used = 0u;
  uint i = q % pc.n;
  uint64_t w = packUint2x32(uvec2(pc.sweep_lo, pc.sweep_hi))
               + uint64_t(q / pc.n);
  uvec2 wv = unpackUint2x32(w);
  uint sk = rng_sweep_key(sc.x, wv.x, wv.y);
  int64_t e = energy[c.x];
  while (q < pc.total) {
    if (used + pc.worst > pc.budget) {
      stop_at = q;
      break;
    }
    if (pc.cut != 0u && q >= pc.cut)
      break;
    used += 1u;
    // binary.c sweeps_k: d = x_i ? -f_i : f_i; flip iff d <= 0 or
    // (d >> shift) <= mulhi(tq, neglog[u >> 20]). Its early rejection
    // above dmax changes nothing (neglog[0] is the largest entry).
    uint xi = x[base + i];
    int64_t fi = int64_t(f[base + i]);
    int64_t d = xi != 0u ? -fi : fi;
    uint u = rng_draw(sk, i, 0u);
    uint hi, lo;
    umulExtended(tq, neglog[u >> (32 - PT_NEGLOG_BITS)], hi, lo);
    bool flip = d <= 0l || (d >> pc.shift) <= int64_t(hi);
    if (flip) {
      e += d;
      xi ^= 1u;
      x[base + i] = xi;
    }
    update(base, i, flip, xi != 0u ? 1 : -1);
    q += 1u;
    i += 1u;
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
