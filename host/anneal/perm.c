/* The `perm` kernel on the CPU: parallel-tempering simulated annealing of
 * closed tours with 2-opt and or-opt moves drawn from neighbour lists.
 *
 * Each temperature slot owns a tour (tour[] and its inverse pos[]); worker
 * threads take slots round-robin and anneal them for one round of a fixed
 * number of sweeps, then meet at a barrier where thread 0 (the caller)
 * exchanges states between adjacent slots, tracks the best tour, checks the
 * stopping rules and calls the progress callback. Rounds are fixed in
 * sweeps, so a sweep-limited run is the same whatever the threads or the
 * clock; only when the callback runs depends on time. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anneal/perm.h"
#include "anneal/perm_internal.h"
#include "anneal/pt.h"
#include "anneal/rng.h"
#include "util/clock.h"

#if defined(__GNUC__)
#define PERM_INLINE static inline __attribute__((always_inline))
#else
#define PERM_INLINE static inline
#endif

/* Seconds between progress callbacks. */
#define CALLBACK_PERIOD_S 0.010
/* Draws are hashed ahead in chunks of this many proposals, off the
 * critical path of the moves (the numbers are the same). */
#define DRAW_CHUNK 64
/* Longest or-opt segment. */
#define OR_MAX_LEN 3

enum dist_mode { DIST_MATRIX, DIST_EUC2D, DIST_TSPLIB };

/* One temperature slot and the state it currently holds. */
typedef struct slot {
  int32_t *tour;
  int32_t *pos;
  int64_t energy;
  uint32_t key;
  uint32_t tq;
  uint32_t thr_max;      /* largest threshold: tq * neglog[0] >> 32 */
  char pad[64];          /* slots are written by different threads */
} slot;

typedef struct run {
  /* model */
  int n, mode;
  const int32_t *mat;
  const double *xy;
  const tsp_instance *inst;
  const perm_model *model;
  perm_plan plan;

  /* parameters */
  const perm_params *par;
  perm_progress_fn progress;
  void *ud;
  int nthreads;
  uint32_t seed_key;

  /* state */
  slot *slots;
  int32_t *mem;          /* tours and positions of every slot */
  int32_t *best;
  int32_t *start;        /* shared starting tour, or NULL: random */
  int64_t best_energy;
  int64_t sweeps_done, round_len, round;
  int stop;
  perm_stop why;
  double t0, last_cb;

  pt_sync sync;
} run;

typedef struct worker {
  run *r;
  int id;
  pthread_t th;
} worker;

/* ---- distances ------------------------------------------------------ */

PERM_INLINE int64_t euc2d(const double *xy, int i, int j)
{
  double dx = xy[2 * i] - xy[2 * j];
  double dy = xy[2 * i + 1] - xy[2 * j + 1];
  return (int64_t)(int32_t)(sqrt(dx * dx + dy * dy) + 0.5);
}

PERM_INLINE int64_t dist(const run *r, int mode, int i, int j)
{
  if (mode == DIST_MATRIX)
    return r->mat[(size_t)i * (size_t)r->n + (size_t)j];
  if (mode == DIST_EUC2D)
    return euc2d(r->xy, i, j);
  return tsplib_dist(r->inst, i, j);
}

static int is_euc2d(const tsp_instance *t)
{
  return t->metric == TSP_METRIC_EUC_2D && t->dims == 2 && t->coords;
}

static int64_t model_dist(const perm_model *m, int i, int j)
{
  if (m->matrix)
    return m->matrix[(size_t)i * (size_t)m->n + (size_t)j];
  if (is_euc2d(m->instance))
    return euc2d(m->instance->coords, i, j);
  return tsplib_dist(m->instance, i, j);
}

int64_t perm_model_dist(const perm_model *m, int i, int j)
{
  return model_dist(m, i, j);
}

int perm_wants_matrix(const tsp_instance *t)
{
  if (!t->coords)
    return 1;
  if (is_euc2d(t))
    return t->n <= PERM_MATRIX_MAX_N;
  return t->n <= PERM_MATRIX_MAX_N_OTHER;
}

int64_t perm_tour_length(const perm_model *m, const int32_t *tour)
{
  int64_t len = 0;
  for (int i = 0; i + 1 < m->n; i++)
    len += model_dist(m, tour[i], tour[i + 1]);
  return len + model_dist(m, tour[m->n - 1], tour[0]);
}

/* ---- errors and checks --------------------------------------------- */

static int fail(char *err, size_t errlen, const char *msg)
{
  if (err && errlen)
    snprintf(err, errlen, "perm: %s", msg);
  return -1;
}

int perm_check_args(const perm_model *m, const perm_params *p,
                    char *err, size_t errlen)
{
  char msg[160];
  if (!m || !p)
    return fail(err, errlen, "model and parameters are required");
  if (m->n < PERM_MIN_N || m->n > PERM_MAX_N) {
    snprintf(msg, sizeof msg, "n = %d is outside %d..%d", m->n,
             PERM_MIN_N, PERM_MAX_N);
    return fail(err, errlen, msg);
  }
  if (!m->matrix && !m->instance)
    return fail(err, errlen, "the model has neither matrix nor instance");
  if (!m->matrix && m->instance->n != m->n)
    return fail(err, errlen, "the instance's n differs from the model's");
  return pt_check_params(p, "perm", PERM_MAX_REPLICAS, PERM_MAX_THREADS,
                         err, errlen);
}

/* ---- the plan: neighbours, ladder, tables -------------------------- */

int perm_default_replicas(int n)
{
  int r = 8 + (int)sqrt((double)n) / 2;
  return r > PERM_DEFAULT_MAX_REPLICAS ? PERM_DEFAULT_MAX_REPLICAS : r;
}

/* Insert (j, d) into the sorted list of city i's nearest, if it fits. */
static void nb_insert(int32_t *nb, int32_t *nbd, int k, int *cnt,
                      int32_t j, int32_t d)
{
  int at = *cnt;
  if (at == k && (d > nbd[k - 1] || (d == nbd[k - 1] && j > nb[k - 1])))
    return;
  if (at == k)
    at--;
  while (at > 0 && (nbd[at - 1] > d || (nbd[at - 1] == d && nb[at - 1] > j))) {
    nb[at] = nb[at - 1];
    nbd[at] = nbd[at - 1];
    at--;
  }
  nb[at] = j;
  nbd[at] = d;
  if (*cnt < k)
    (*cnt)++;
}

/* A bucket grid over EUC_2D coordinates: cell_start[c]..cell_start[c+1]
 * index the cities of cell c (row-major, g x g cells of side w). */
typedef struct grid {
  int g;
  double x0, y0, w;
  int32_t *cell_start, *items;
} grid;

typedef struct nb_job {
  const perm_model *m;
  perm_plan *pl;
  const grid *gr;        /* NULL: brute force */
  int first, step;
  pthread_t th;
} nb_job;

static int grid_cell(const grid *gr, double v, double v0)
{
  int c = (int)((v - v0) / gr->w);
  return c < 0 ? 0 : c >= gr->g ? gr->g - 1 : c;
}

/* Search rings of cells around city i until no unsearched cell can hold a
 * city as near as the k-th found: a city r+1 rings out is at least r*w
 * away, so its rounded distance is at least floor(r*w). */
static void grid_knn(const nb_job *jb, int i, int32_t *nb, int32_t *nbd)
{
  const grid *gr = jb->gr;
  const double *xy = jb->m->instance->coords;
  int k = jb->pl->k, cnt = 0, g = gr->g;
  int cx = grid_cell(gr, xy[2 * i], gr->x0);
  int cy = grid_cell(gr, xy[2 * i + 1], gr->y0);
  for (int r = 0; r <= g; r++) {
    for (int y = cy - r; y <= cy + r; y++) {
      int edge = y == cy - r || y == cy + r;
      if (y < 0 || y >= g)
        continue;
      for (int x = cx - r; x <= cx + r; x += edge ? 1 : 2 * r) {
        if (x < 0 || x >= g)
          continue;
        for (int q = gr->cell_start[y * g + x];
             q < gr->cell_start[y * g + x + 1]; q++) {
          int j = gr->items[q];
          if (j != i)
            nb_insert(nb, nbd, k, &cnt, j, (int32_t)euc2d(xy, i, j));
        }
        if (r == 0)
          break;
      }
    }
    if (cnt == k && nbd[k - 1] < floor(r * gr->w))
      break;
  }
}

static void *nb_worker(void *arg)
{
  nb_job *jb = arg;
  int n = jb->pl->n, k = jb->pl->k;
  for (int i = jb->first; i < n; i += jb->step) {
    int32_t *nb = jb->pl->nb + (size_t)i * (size_t)k;
    int32_t *nbd = jb->pl->nbd + (size_t)i * (size_t)k;
    int cnt = 0;
    if (jb->gr) {
      grid_knn(jb, i, nb, nbd);
      continue;
    }
    for (int j = 0; j < n; j++)
      if (j != i)
        nb_insert(nb, nbd, k, &cnt, j, (int32_t)model_dist(jb->m, i, j));
  }
  return NULL;
}

/* Bucket the cities of an EUC_2D instance, about 2 per cell. */
static int grid_build(grid *gr, const tsp_instance *t)
{
  double x1, y1;
  int n = t->n, cells;
  gr->x0 = x1 = t->coords[0];
  gr->y0 = y1 = t->coords[1];
  for (int i = 1; i < n; i++) {
    double x = t->coords[2 * i], y = t->coords[2 * i + 1];
    gr->x0 = x < gr->x0 ? x : gr->x0;
    gr->y0 = y < gr->y0 ? y : gr->y0;
    x1 = x > x1 ? x : x1;
    y1 = y > y1 ? y : y1;
  }
  gr->g = (int)ceil(sqrt(n / 2.0));
  gr->w = fmax(fmax(x1 - gr->x0, y1 - gr->y0) / gr->g, 1e-9);
  cells = gr->g * gr->g;
  gr->cell_start = calloc((size_t)cells + 2, sizeof *gr->cell_start);
  gr->items = malloc((size_t)n * sizeof *gr->items);
  if (!gr->cell_start || !gr->items)
    return -1;
  for (int i = 0; i < n; i++) {
    int c = grid_cell(gr, t->coords[2 * i + 1], gr->y0) * gr->g
            + grid_cell(gr, t->coords[2 * i], gr->x0);
    gr->cell_start[c + 2]++;
  }
  for (int c = 0; c < cells; c++)
    gr->cell_start[c + 2] += gr->cell_start[c + 1];
  for (int i = 0; i < n; i++) {
    int c = grid_cell(gr, t->coords[2 * i + 1], gr->y0) * gr->g
            + grid_cell(gr, t->coords[2 * i], gr->x0);
    gr->items[gr->cell_start[c + 1]++] = i;
  }
  return 0;
}

/* K nearest neighbours of every city over threads: through a grid for
 * EUC_2D coordinates, by brute force otherwise. */
static int plan_neighbours(const perm_model *m, perm_plan *pl, int threads,
                           char *err, size_t errlen)
{
  nb_job jobs[PERM_MAX_THREADS];
  grid gr = { 0 }, *use = NULL;
  int started = 0, rc = 0;
  if (!m->matrix && is_euc2d(m->instance)) {
    if (grid_build(&gr, m->instance)) {
      free(gr.cell_start);
      free(gr.items);
      return fail(err, errlen, "out of memory (neighbour grid)");
    }
    use = &gr;
  }
  for (int t = 0; t < threads; t++) {
    jobs[t] = (nb_job){ m, pl, use, t, threads, 0 };
    if (t > 0 && pthread_create(&jobs[t].th, NULL, nb_worker, &jobs[t])) {
      rc = fail(err, errlen, "pthread_create failed (neighbour lists)");
      break;
    }
    started = t + 1;
  }
  if (started > 0)
    nb_worker(&jobs[0]);
  for (int t = 1; t < started; t++)
    if (pthread_join(jobs[t].th, NULL))
      rc = fail(err, errlen, "pthread_join failed (neighbour lists)");
  free(gr.cell_start);
  free(gr.items);
  return rc;
}

_Static_assert(PERM_MAX_REPLICAS <= PT_MAX_LADDER, "ladder too short");

/* Geometric ladder from the mean neighbour edge (pt_ladder_build, no
 * shift: temperatures too large for the scale saturate). */
static void plan_ladder(perm_plan *pl)
{
  pt_ladder lad;
  double mean = 0;
  for (size_t i = 0; i < (size_t)pl->n * (size_t)pl->k; i++)
    mean += pl->nbd[i];
  mean /= (double)pl->n * pl->k;
  if (mean <= 0)
    mean = 1;
  pl->t_cold = PERM_T_COLD * mean;
  pl->t_hot = PERM_T_HOT * mean;
  pt_ladder_build_capped(&lad, pl->replicas, pl->t_cold, pl->t_hot, 0);
  pl->scale_bits = lad.scale_bits;
  memcpy(pl->tq, lad.tq, (size_t)pl->replicas * sizeof *pl->tq);
  memcpy(pl->txq, lad.txq, (size_t)(pl->replicas - 1) * sizeof *pl->txq);
  memcpy(pl->neglog, lad.neglog, sizeof pl->neglog);
}

void perm_plan_free(perm_plan *pl)
{
  free(pl->nb);
  free(pl->nbd);
  free(pl->tq);
  free(pl->txq);
  memset(pl, 0, sizeof *pl);
}

int perm_plan_build(const perm_model *m, int replicas, int threads,
                    perm_plan *pl, char *err, size_t errlen)
{
  size_t nk;
  memset(pl, 0, sizeof *pl);
  pl->n = m->n;
  pl->k = m->n - 1 < PERM_NEIGHBOURS ? m->n - 1 : PERM_NEIGHBOURS;
  pl->replicas = replicas > 0 ? replicas : perm_default_replicas(m->n);
  pl->round_sweeps = (PERM_ROUND_PROPOSALS + m->n - 1) / m->n;
  nk = (size_t)pl->n * (size_t)pl->k;
  pl->nb = malloc(nk * sizeof *pl->nb);
  pl->nbd = malloc(nk * sizeof *pl->nbd);
  pl->tq = malloc((size_t)pl->replicas * sizeof *pl->tq);
  pl->txq = malloc((size_t)pl->replicas * sizeof *pl->txq);
  if (!pl->nb || !pl->nbd || !pl->tq || !pl->txq) {
    perm_plan_free(pl);
    return fail(err, errlen, "out of memory (plan)");
  }
  if (plan_neighbours(m, pl, threads, err, errlen)) {
    perm_plan_free(pl);
    return -1;
  }
  plan_ladder(pl);
  return 0;
}

/* ---- tour edits ---------------------------------------------------- */

PERM_INLINE int wrap(int i, int n)
{
  return i >= n ? i - n : i;
}

PERM_INLINE int unwrap(int i, int n)
{
  return i < 0 ? i + n : i;
}

/* Reverse the cyclic stretch of positions i..j, or the complementary
 * stretch when that is shorter (the same cycle, read the other way). */
PERM_INLINE void reverse(int32_t *tour, int32_t *pos, int n, int i, int j)
{
  int len = unwrap(j - i, n) + 1;
  if (2 * len > n) {
    int ni = wrap(j + 1, n);
    j = unwrap(i - 1, n);
    i = ni;
    len = n - len;
  }
  for (int k = len / 2; k > 0; k--) {
    int32_t ci = tour[i], cj = tour[j];
    tour[i] = cj;
    pos[cj] = i;
    tour[j] = ci;
    pos[ci] = j;
    i = wrap(i + 1, n);
    j = unwrap(j - 1, n);
  }
}

PERM_INLINE void put(int32_t *tour, int32_t *pos, int at, int32_t city)
{
  tour[at] = city;
  pos[city] = at;
}

/* Move the segment seg[0..len) (already in its new order) that starts at
 * position ps to sit between c and d = succ(c), shifting whichever of the
 * two stretches between them is shorter. */
PERM_INLINE void move_segment(int32_t *tour, int32_t *pos, int n, int ps,
                              int len, const int32_t *seg, int32_t c,
                              int32_t d)
{
  int xlen = unwrap(pos[c] - wrap(ps + len, n), n) + 1;
  int ylen = n - len - xlen;
  if (xlen <= ylen) {
    for (int k = 0; k < xlen; k++)
      put(tour, pos, wrap(ps + k, n), tour[wrap(ps + len + k, n)]);
    ps = wrap(ps + xlen, n);
  } else {
    int pd = pos[d];
    for (int k = ylen - 1; k >= 0; k--)
      put(tour, pos, wrap(wrap(pd + len, n) + k, n), tour[wrap(pd + k, n)]);
    ps = pd;
  }
  for (int k = 0; k < len; k++)
    put(tour, pos, wrap(ps + k, n), seg[k]);
}

/* ---- moves --------------------------------------------------------- */

/* Whether an edit that rewrites the shorter of two stretches of lengths
 * len and total - len exceeds PERM_MAX_SPAN positions. */
PERM_INLINE int too_long(int len, int total)
{
  return len > PERM_MAX_SPAN && total - len > PERM_MAX_SPAN;
}

/* The state one sweep works on, kept in registers. */
typedef struct sweep_ctx {
  const run *r;
  int32_t *tour, *pos;
  int n, k;
  uint32_t sk, tq, thr_max;
  const uint32_t *neglog;
} sweep_ctx;

PERM_INLINE int accept(const sweep_ctx *x, int64_t delta, uint32_t u)
{
  if (delta <= 0)
    return 1;
  if (delta > (int64_t)x->thr_max)
    return 0;
  return perm_accept(delta, x->tq, x->neglog, u);
}

/* 2-opt joining a and b: side 0 makes b follow a, side 1 precede it
 * (the side is a select, not a branch). */
PERM_INLINE int64_t two_opt(const sweep_ctx *x, int mode, uint32_t u,
                            int32_t a, int32_t b, int64_t dab, int side)
{
  int32_t *tour = x->tour, *pos = x->pos;
  int n = x->n, pa = pos[a], pb = pos[b], step = side ? n - 1 : 1;
  int ia = wrap(pa + step, n);
  int32_t na = tour[ia], nb = tour[wrap(pb + step, n)];
  int64_t delta;
  if (na == b || nb == a)
    return 0;
  delta = dab + dist(x->r, mode, na, nb) - dist(x->r, mode, a, na)
          - dist(x->r, mode, b, nb);
  if (!accept(x, delta, u) || too_long(unwrap(pb - ia, n) + 1, n))
    return 0;
  reverse(tour, pos, n, side ? pb : ia, side ? ia : pb);
  return delta;
}

/* Or-opt: the len cities with a at one end (end 0: a first, 1: a last)
 * move next to b, between b and its successor (side 0) or predecessor
 * (side 1), turned so that a touches b. */
PERM_INLINE int64_t or_opt(const sweep_ctx *x, int mode, uint32_t u,
                           int32_t a, int32_t b, int64_t dab, int side,
                           int end, int len)
{
  int32_t *tour = x->tour, *pos = x->pos, seg[OR_MAX_LEN];
  int n = x->n, pb = pos[b];
  int ps = end ? unwrap(pos[a] - len + 1, n) : pos[a];
  int32_t o, c, d, s1, sl, p, q, first, far;
  int64_t delta;
  if (n < len + 2 || unwrap(pb - ps, n) < len)
    return 0;
  o = tour[wrap(pb + (side ? n - 1 : 1), n)];
  if (unwrap(pos[o] - ps, n) < len)
    return 0;
  c = side ? o : b;
  d = side ? b : o;
  s1 = tour[ps];
  sl = tour[wrap(ps + len - 1, n)];
  p = tour[unwrap(ps - 1, n)];
  q = tour[wrap(ps + len, n)];
  far = a == s1 ? sl : s1;
  first = side ? far : a;
  delta = dist(x->r, mode, p, q) - dist(x->r, mode, p, s1)
          - dist(x->r, mode, sl, q) - dist(x->r, mode, c, d) + dab
          + dist(x->r, mode, o, far);
  if (!accept(x, delta, u)
      || too_long(unwrap(pos[c] - wrap(ps + len, n), n) + 1, n - len))
    return 0;
  for (int k = 0; k < len; k++)
    seg[k] = tour[first == s1 ? wrap(ps + k, n)
                              : wrap(ps + len - 1 - k, n)];
  move_segment(tour, pos, n, ps, len, seg, c, d);
  return delta;
}

/* Proposal i of a sweep from its two draws h and u: a city, a neighbour
 * and, from the bits left, the side and end of the move; the kind of move
 * follows i (period PERM_MOVE_PERIOD), so every replica makes the same
 * kind of move at the same step. Returns the change of length. */
PERM_INLINE int64_t propose(const sweep_ctx *x, int mode, uint32_t i,
                            uint32_t h, uint32_t u)
{
  uint32_t a = rng_mulhi(h, (uint32_t)x->n);
  uint32_t f = rng_mullo(h, (uint32_t)x->n);
  uint32_t j = rng_mulhi(f, (uint32_t)x->k);
  size_t at = (size_t)a * (size_t)x->k + j;
  int32_t b = x->r->plan.nb[at];
  int64_t dab = x->r->plan.nbd[at];
  uint32_t kind = i % PERM_MOVE_PERIOD;
  int side, end;
  f = rng_mullo(f, (uint32_t)x->k);
  side = (int)(f >> 31);
  end = (int)(f >> 30) & 1;
  if (kind < PERM_OR_MOVES)
    return or_opt(x, mode, u, (int32_t)a, b, dab, side, end,
                  1 + (int)(kind % OR_MAX_LEN));
  return two_opt(x, mode, u, (int32_t)a, b, dab, side);
}

PERM_INLINE void sweeps_mode(const run *r, slot *s, int64_t from,
                             int64_t count, int mode)
{
  sweep_ctx x = { r, s->tour, s->pos, r->n, r->plan.k, 0, s->tq,
                  s->thr_max, r->plan.neglog };
  uint32_t hb[DRAW_CHUNK], ub[DRAW_CHUNK];
  int64_t e = s->energy;
  for (int64_t w = from; w < from + count; w++) {
    x.sk = rng_sweep_key(s->key, (uint32_t)w, (uint32_t)(w >> 32));
    for (uint32_t i0 = 0; i0 < (uint32_t)x.n; i0 += DRAW_CHUNK) {
      uint32_t m = (uint32_t)x.n - i0 < DRAW_CHUNK ? (uint32_t)x.n - i0
                                                    : DRAW_CHUNK;
      for (uint32_t k = 0; k < m; k++) {
        hb[k] = rng_draw(x.sk, i0 + k, 0);
        ub[k] = rng_draw(x.sk, i0 + k, 1);
      }
      for (uint32_t k = 0; k < m; k++)
        e += propose(&x, mode, i0 + k, hb[k], ub[k]);
    }
  }
  s->energy = e;
}

static void sweeps_matrix(const run *r, slot *s, int64_t from, int64_t cnt)
{
  sweeps_mode(r, s, from, cnt, DIST_MATRIX);
}

static void sweeps_euc2d(const run *r, slot *s, int64_t from, int64_t cnt)
{
  sweeps_mode(r, s, from, cnt, DIST_EUC2D);
}

static void sweeps_tsplib(const run *r, slot *s, int64_t from, int64_t cnt)
{
  sweeps_mode(r, s, from, cnt, DIST_TSPLIB);
}

static void run_sweeps(const run *r, slot *s, int64_t from, int64_t cnt)
{
  if (r->mode == DIST_MATRIX)
    sweeps_matrix(r, s, from, cnt);
  else if (r->mode == DIST_EUC2D)
    sweeps_euc2d(r, s, from, cnt);
  else
    sweeps_tsplib(r, s, from, cnt);
}

/* ---- serial phases (thread 0, between rounds) ---------------------- */

static void track_best(run *r)
{
  int at = 0;
  for (int s = 1; s < r->plan.replicas; s++)
    if (r->slots[s].energy < r->slots[at].energy)
      at = s;
  if (r->slots[at].energy < r->best_energy) {
    r->best_energy = r->slots[at].energy;
    memcpy(r->best, r->slots[at].tour, (size_t)r->n * sizeof *r->best);
  }
}

/* Round `round` pairs slots (i, i+1) for i of the round's parity; a pair
 * swaps states iff pt_accept(E_hot - E_cold, txq[i], u). */
static void exchange(run *r)
{
  uint32_t lo = (uint32_t)r->round, hi = (uint32_t)(r->round >> 32);
  for (int i = (int)(r->round & 1); i + 1 < r->plan.replicas; i += 2) {
    slot *c = &r->slots[i], *h = &r->slots[i + 1];
    uint32_t u = rng_exchange(r->seed_key, lo, hi, (uint32_t)i);
    if (pt_accept(h->energy - c->energy, r->plan.txq[i], 0,
                  r->plan.neglog, u)) {
      int32_t *t = c->tour, *p = c->pos;
      int64_t e = c->energy;
      c->tour = h->tour;
      c->pos = h->pos;
      c->energy = h->energy;
      h->tour = t;
      h->pos = p;
      h->energy = e;
    }
  }
}

static uint64_t proposals(const run *r)
{
  return (uint64_t)r->sweeps_done * (uint64_t)r->n
         * (uint64_t)r->plan.replicas;
}

static int call_progress(run *r, double now)
{
  perm_progress pg = { r->sweeps_done, r->best_energy, r->slots[0].energy,
                       now - r->t0, r->plan.replicas, proposals(r),
                       r->best };
  r->last_cb = now;
  return r->progress(r->ud, &pg) != 0;
}

static void decide_stop(run *r)
{
  const perm_params *p = r->par;
  double now = clock_mono_s();
  if (pt_sync_failed(&r->sync))
    r->stop = 1;
  else if (anneal_budget_spent(p, r->best_energy, r->sweeps_done,
                               now - r->t0, &r->why))
    r->stop = 1;
  else if (r->progress && now - r->last_cb >= CALLBACK_PERIOD_S
           && call_progress(r, now))
    r->stop = 1, r->why = PERM_STOP_CALLBACK;
}

static void next_round_len(run *r)
{
  r->round_len = anneal_round_len(r->par, r->plan.round_sweeps,
                                  r->sweeps_done);
}

/* After initial tours: the starting best, then the first round. */
static void serial_start(void *arg)
{
  run *r = arg;
  track_best(r);
  decide_stop(r);
  next_round_len(r);
}

static void serial_round(void *arg)
{
  run *r = arg;
  r->sweeps_done += r->round_len;
  exchange(r);
  r->round++;
  track_best(r);
  decide_stop(r);
  next_round_len(r);
}

/* ---- initial tours and workers -------------------------------------- */

/* The nearest unvisited city to c: from its list, else by a scan (ties
 * to the lower index). */
static int32_t nearest_unseen(const perm_model *m, const perm_plan *pl,
                              const char *seen, int32_t c)
{
  const int32_t *nb = pl->nb + (size_t)c * (size_t)pl->k;
  int64_t best = INT64_MAX;
  int32_t at = -1;
  for (int j = 0; j < pl->k; j++)
    if (!seen[nb[j]])
      return nb[j];
  for (int j = 0; j < m->n; j++) {
    int64_t d = seen[j] ? INT64_MAX : model_dist(m, c, j);
    if (d < best) {
      best = d;
      at = j;
    }
  }
  return at;
}

/* Nearest-neighbour tour from city 0, shared by every slot. */
static int32_t *nn_tour(const perm_model *m, const perm_plan *pl)
{
  char *seen = calloc((size_t)m->n, 1);
  int32_t *t = malloc((size_t)m->n * sizeof *t);
  if (!seen || !t) {
    free(seen);
    free(t);
    return NULL;
  }
  t[0] = 0;
  seen[0] = 1;
  for (int i = 1; i < m->n; i++) {
    t[i] = nearest_unseen(m, pl, seen, t[i - 1]);
    seen[t[i]] = 1;
  }
  free(seen);
  return t;
}

int perm_start_tour(const perm_model *m, const perm_plan *pl,
                    int32_t **start)
{
  *start = NULL;
  if (m->n <= 2 * PERM_MAX_SPAN)
    return 0;
  *start = nn_tour(m, pl);
  return *start ? 0 : -1;
}

/* For n <= 2 * PERM_MAX_SPAN, where any tour can be reached, a random one
 * from the slot's own stream (Fisher-Yates); above, the nearest-neighbour
 * tour, whose long-range order capped moves could not build. */
void perm_init_tour(int n, const int32_t *start, uint32_t key,
                    int32_t *tour)
{
  for (int i = 0; i < n; i++)
    tour[i] = start ? start[i] : i;
  for (int i = n - 1; i > 0 && !start; i--) {
    uint32_t h = rng_hash3(key, RNG_DOMAIN_INIT, (uint32_t)i);
    int j = (int)rng_mulhi(h, (uint32_t)i + 1);
    int32_t t = tour[i];
    tour[i] = tour[j];
    tour[j] = t;
  }
}

static void init_slot(const run *r, slot *s)
{
  perm_init_tour(r->n, r->start, s->key, s->tour);
  for (int i = 0; i < r->n; i++)
    s->pos[s->tour[i]] = i;
  s->energy = perm_tour_length(r->model, s->tour);
}

static void *work(void *arg)
{
  worker *w = arg;
  run *r = w->r;
  int rep = r->plan.replicas;
  if (w->id != 0)
    pt_wait_start(&r->sync);
  for (int s = w->id; s < rep; s += r->nthreads)
    init_slot(r, &r->slots[s]);
  pt_barrier(&r->sync, w->id, serial_start, r);
  while (!r->stop) {
    for (int s = w->id; s < rep; s += r->nthreads)
      run_sweeps(r, &r->slots[s], r->sweeps_done, r->round_len);
    pt_barrier(&r->sync, w->id, serial_round, r);
  }
  return NULL;
}

/* ---- setup and the entry point -------------------------------------- */

static int default_threads(void)
{
  long c = sysconf(_SC_NPROCESSORS_ONLN);
  if (c < 1)
    return 1;
  return c > PERM_MAX_THREADS ? PERM_MAX_THREADS : (int)c;
}

static int alloc_state(run *r)
{
  int rep = r->plan.replicas;
  size_t n = (size_t)r->n;
  r->slots = calloc((size_t)rep, sizeof *r->slots);
  r->mem = malloc(2 * n * (size_t)rep * sizeof *r->mem);
  r->best = malloc(n * sizeof *r->best);
  if (!r->slots || !r->mem || !r->best)
    return -1;
  for (int s = 0; s < rep; s++) {
    slot *sl = &r->slots[s];
    sl->tour = r->mem + 2 * n * (size_t)s;
    sl->pos = sl->tour + n;
    sl->key = rng_slot_key(r->seed_key, (uint32_t)s);
    sl->tq = r->plan.tq[s];
    sl->thr_max = pt_threshold(sl->tq, r->plan.neglog, 0);
  }
  return 0;
}

static void pick_mode(run *r, const perm_model *m)
{
  r->mat = m->matrix;
  r->inst = m->instance;
  r->mode = DIST_MATRIX;
  if (!m->matrix) {
    r->mode = is_euc2d(m->instance) ? DIST_EUC2D : DIST_TSPLIB;
    r->xy = m->instance->coords;
  }
}

/* Start threads 1.., run thread 0 here, join. The others wait until all
 * are started; if pthread_create fails, the run goes on with the threads
 * it has (workers take slots by id modulo the thread count). */
static int run_threads(run *r, char *err, size_t errlen)
{
  worker ws[PERM_MAX_THREADS];
  int rc = 0, started = 1;
  for (int t = 0; t < r->nthreads; t++)
    ws[t] = (worker){ r, t, 0 };
  for (int t = 1; t < r->nthreads; t++) {
    if (pthread_create(&ws[t].th, NULL, work, &ws[t]))
      break;
    started = t + 1;
  }
  r->nthreads = started;
  r->sync.nthreads = started;
  if (started > 1)
    pt_release(&r->sync);
  work(&ws[0]);
  for (int t = 1; t < started; t++)
    if (pthread_join(ws[t].th, NULL))
      rc = fail(err, errlen, "pthread_join failed");
  if (pt_sync_failed(&r->sync))
    rc = fail(err, errlen, r->sync.fail_msg);
  return rc;
}

static int finish(run *r, perm_result *res, char *err, size_t errlen)
{
  memset(res, 0, sizeof *res);
  res->tour = r->best;
  r->best = NULL;
  res->energy = perm_tour_length(r->model, res->tour);
  res->sweeps = r->sweeps_done;
  res->replicas = r->plan.replicas;
  res->proposals = proposals(r);
  res->elapsed_s = clock_mono_s() - r->t0;
  res->stop = r->why;
  if (res->energy != r->best_energy)
    return fail(err, errlen, "internal error: tracked length differs");
  return 0;
}

int perm_solve_cpu(const perm_model *m, const perm_params *p,
                   perm_progress_fn progress, void *ud,
                   perm_result *res, char *err, size_t errlen)
{
  run r;
  int rc = -1, threads;
  if (res)
    memset(res, 0, sizeof *res);
  if (!res)
    return fail(err, errlen, "a result is required");
  if (perm_check_args(m, p, err, errlen))
    return -1;
  memset(&r, 0, sizeof r);
  r.t0 = clock_mono_s();
  r.last_cb = r.t0;
  r.n = m->n;
  r.model = m;
  r.par = p;
  r.progress = progress;
  r.ud = ud;
  r.best_energy = INT64_MAX;
  r.seed_key = rng_seed_key((uint32_t)p->seed, (uint32_t)(p->seed >> 32));
  pick_mode(&r, m);
  threads = p->threads > 0 ? p->threads : default_threads();
  if (perm_plan_build(m, p->replicas, threads, &r.plan, err, errlen))
    return -1;
  r.nthreads = threads < r.plan.replicas ? threads : r.plan.replicas;
  if (alloc_state(&r) || perm_start_tour(m, &r.plan, &r.start)) {
    fail(err, errlen, "out of memory (replica state)");
  } else if (pt_sync_init(&r.sync, r.nthreads)) {
    fail(err, errlen, "pthread_mutex_init or pthread_cond_init failed");
  } else {
    rc = run_threads(&r, err, errlen);
    if (pt_sync_destroy(&r.sync))
      rc = fail(err, errlen, "destroying the barrier failed");
    if (rc == 0)
      rc = finish(&r, res, err, errlen);
    if (rc != 0 && res->tour) {
      free(res->tour);
      res->tour = NULL;
    }
  }
  free(r.start);
  free(r.best);
  free(r.mem);
  free(r.slots);
  perm_plan_free(&r.plan);
  return rc;
}
