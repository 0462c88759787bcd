/* Tests of the TSPLIB reader: every public instance against its best-known
 * tour length, every EDGE_WEIGHT_FORMAT and metric against hand-computed
 * values, odd-but-valid inputs, and broken inputs refused with the label,
 * the line and the reason. */
#include "formats/tsplib.h"
#include "test_formats.h"

#include <sys/stat.h>

#define ERRLEN 512

/* ---- helpers ---------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);

  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int file_exists(const char *path)
{
  struct stat st;

  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Folder of this source tree: $NEROX_SOURCE_DIR, else from __FILE__. */
static void source_dir(char *buf, size_t cap)
{
  const char *env = getenv("NEROX_SOURCE_DIR");
  const char *tail = "tests/c/test_tsplib.c";
  size_t len = strlen(__FILE__);

  if (env && *env) {
    snprintf(buf, cap, "%s", env);
  } else if (ends_with(__FILE__, tail)) {
    len -= strlen(tail);
    snprintf(buf, cap, "%.*s.", (int)len, __FILE__);
  } else {
    snprintf(buf, cap, ".");
  }
}

static tsp_instance *load(const char *text, char *err)
{
  tsp_instance *t = NULL;

  if (tsplib_read_string(text, strlen(text), "mem", &t, err, ERRLEN))
    fprintf(stderr, "unexpected error: %s\n", err);
  return t;
}

/* Best value of instance `name` in best-known.tsv, or -1. */
static long long best_known(const char *dir, const char *name)
{
  char path[1024], line[512], inst[256], kind[64];
  long long best = -1, n, v;
  FILE *f;

  snprintf(path, sizeof path, "%s/best-known.tsv", dir);
  f = fopen(path, "r");
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "%255s %63s %lld %lld", inst, kind, &n, &v) == 4 &&
        strcmp(inst, name) == 0 && strcmp(kind, "tsp") == 0)
      best = v;
  }
  fclose(f);
  return best;
}

/* ---- 1. the public instances ----------------------------------------- */

static void check_instance(const char *dir, const char *file, int *ntour)
{
  char path[1024], tpath[1024], base[256], err[ERRLEN];
  tsp_instance *t = NULL;
  int32_t *tour = NULL;
  int n = 0;

  snprintf(base, sizeof base, "%.*s", (int)(strlen(file) - 4), file);
  snprintf(path, sizeof path, "%s/tsplib/%s", dir, file);
  snprintf(tpath, sizeof tpath, "%s/tsplib/%s.opt.tour", dir, base);
  if (tsplib_read_file(path, &t, err, sizeof err)) {
    CHECK(!"instance loads");
    fprintf(stderr, "  %s\n", err);
    return;
  }
  CHECK(t->n >= 3);
  CHECK(t->name[0] != '\0');
  if (file_exists(tpath)) {
    (*ntour)++;
    CHECK_EQ_INT(tsplib_read_tour(tpath, &tour, &n, err, sizeof err), 0);
    if (tour) {
      CHECK_EQ_INT(n, t->n);
      CHECK_EQ_INT(tsplib_tour_length(t, tour), best_known(dir, base));
      if (tsplib_tour_length(t, tour) != best_known(dir, base))
        fprintf(stderr, "  instance %s\n", base);
    }
    free(tour);
  }
  tsplib_free(t);
}

static void test_public_instances(void)
{
  const char *dir = test_data_dir();
  char path[1024];
  struct dirent *e;
  int ntsp = 0, ntour = 0;
  DIR *d;

  snprintf(path, sizeof path, "%s/tsplib", dir);
  d = opendir(path);
  CHECK(d != NULL);
  if (!d)
    return;
  while ((e = readdir(d)) != NULL) {
    if (!ends_with(e->d_name, ".tsp"))
      continue;
    ntsp++;
    check_instance(dir, e->d_name, &ntour);
  }
  closedir(d);
  CHECK(ntsp > 0);
  CHECK(ntour > 0);
}

/* Named details of a few instances of the public set. */
static void test_public_details(void)
{
  const char *dir = test_data_dir();
  char path[1024], err[ERRLEN];
  tsp_instance *t = NULL;
  int32_t *m;

  snprintf(path, sizeof path, "%s/tsplib/burma14.tsp", dir);
  CHECK_EQ_INT(tsplib_read_file(path, &t, err, sizeof err), 0);
  if (t) {
    CHECK_EQ_INT(t->metric, TSP_METRIC_GEO);
    CHECK_EQ_INT(t->dims, 2);
    CHECK(strcmp(t->name, "burma14") == 0);
    tsplib_free(t);
  }
  snprintf(path, sizeof path, "%s/tsplib/ulysses22.tsp", dir);
  CHECK_EQ_INT(tsplib_read_file(path, &t, err, sizeof err), 0);
  if (t) {
    CHECK(strcmp(t->name, "ulysses22.tsp") == 0);
    tsplib_free(t);
  }
  snprintf(path, sizeof path, "%s/tsplib/bayg29.tsp", dir);
  CHECK_EQ_INT(tsplib_read_file(path, &t, err, sizeof err), 0);
  if (t) {
    CHECK_EQ_INT(t->metric, TSP_METRIC_EXPLICIT);
    CHECK(t->coords == NULL && t->matrix != NULL);
    CHECK_EQ_INT(tsplib_dist(t, 0, 1), 97);   /* first UPPER_ROW value */
    CHECK_EQ_INT(tsplib_dist(t, 1, 0), 97);
    m = malloc((size_t)t->n * (size_t)t->n * sizeof *m);
    if (m) {
      tsplib_fill_matrix(t, m);
      CHECK(memcmp(m, t->matrix, (size_t)t->n * (size_t)t->n * 4) == 0);
      free(m);
    }
    tsplib_free(t);
  }
}

/* ---- 2. formats and metrics ------------------------------------------ */

static const int32_t five[25] = {
  0, 3, 5, 9, 4,
  3, 0, 7, 2, 8,
  5, 7, 0, 6, 1,
  9, 2, 6, 0, 10,
  4, 8, 1, 10, 0
};

static const struct { const char *fmt, *values; } five_formats[] = {
  { "FULL_MATRIX",
    "0 3 5 9 4\n3 0 7 2 8\n5 7 0 6 1\n9 2 6 0 10\n4 8 1 10 0\n" },
  { "UPPER_ROW", "3 5 9 4\n7 2 8\n6 1\n10\n" },
  { "LOWER_ROW", "3\n5 7\n9 2 6\n4 8 1 10\n" },
  { "UPPER_DIAG_ROW", "0 3 5 9 4 0 7 2 8 0 6 1 0 10 0\n" },
  { "LOWER_DIAG_ROW", "0\n3 0\n5 7 0\n9 2 6 0\n4 8 1 10 0\n" },
  { "UPPER_COL", "3 5\n7 9 2\n6 4 8\n1 10\n" },
  { "LOWER_COL", "3\n5\n9\n4\n7\n2\n8\n6\n1\n10\n" },
  { "UPPER_DIAG_COL", "0 3 0 5 7 0 9 2 6 0 4 8 1 10 0" },
  { "LOWER_DIAG_COL", "0 3 5 9 4\t0 7 2 8\t0 6 1\t0 10\t0\n" },
};

static void test_formats(void)
{
  static const int32_t order[5] = { 0, 1, 2, 3, 4 };
  char text[1024], err[ERRLEN];
  int32_t m[25];
  size_t k;

  for (k = 0; k < sizeof five_formats / sizeof *five_formats; k++) {
    tsp_instance *t;

    snprintf(text, sizeof text, "NAME: five\nTYPE: TSP\nDIMENSION: 5\n"
             "EDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: %s\n"
             "EDGE_WEIGHT_SECTION\n%s\nEOF\n", five_formats[k].fmt,
             five_formats[k].values);
    t = load(text, err);
    CHECK(t != NULL);
    if (!t) {
      fprintf(stderr, "  format %s\n", five_formats[k].fmt);
      continue;
    }
    CHECK_EQ_INT(t->n, 5);
    CHECK(memcmp(t->matrix, five, sizeof five) == 0);
    tsplib_fill_matrix(t, m);
    if (memcmp(m, five, sizeof five) != 0) {
      CHECK(!"identical matrix");
      fprintf(stderr, "  format %s\n", five_formats[k].fmt);
    }
    CHECK_EQ_INT(tsplib_dist(t, 3, 4), 10);
    CHECK_EQ_INT(tsplib_tour_length(t, order), 3 + 7 + 6 + 10 + 4);
    tsplib_free(t);
  }
}

/* Load a 3-node instance of `metric` and check d(0,1) and d(0,2). */
static void check_metric(const char *metric, const char *nodes,
                         int32_t d01, int32_t d02)
{
  char text[512], err[ERRLEN];
  tsp_instance *t;

  snprintf(text, sizeof text, "NAME: m\nTYPE: TSP\nDIMENSION: 3\n"
           "EDGE_WEIGHT_TYPE: %s\nNODE_COORD_SECTION\n%s\nEOF\n",
           metric, nodes);
  t = load(text, err);
  CHECK(t != NULL);
  if (!t)
    return;
  CHECK_EQ_INT(tsplib_dist(t, 0, 1), d01);
  CHECK_EQ_INT(tsplib_dist(t, 1, 0), d01);
  CHECK_EQ_INT(tsplib_dist(t, 0, 2), d02);
  CHECK_EQ_INT(tsplib_dist(t, 2, 2), 0);
  if (tsplib_dist(t, 0, 1) != d01 || tsplib_dist(t, 0, 2) != d02)
    fprintf(stderr, "  metric %s\n", metric);
  tsplib_free(t);
}

static void test_metrics(void)
{
  /* sqrt(2) = 1.41 -> 1; 2.5 -> nint 3 */
  check_metric("EUC_2D", "1 0 0\n2 1 1\n3 1.5 2", 1, 3);
  /* ceil(1.41) = 2; ceil(5) = 5 */
  check_metric("CEIL_2D", "1 0 0\n2 1 1\n3 3 4", 2, 5);
  /* 1.2 + 2.4 = 3.6 -> 4; 3 + 4 = 7 */
  check_metric("MAN_2D", "1 0 0\n2 1.2 2.4\n3 3 4", 4, 7);
  /* max(nint 1.4, nint 2.6) = 3; max(nint 3.5, nint 0.2) = 4 */
  check_metric("MAX_2D", "1 0 0\n2 1.4 2.6\n3 3.5 0.2", 3, 4);
  /* sqrt(1+4+4) = 3; sqrt(3) = 1.73 -> 2 */
  check_metric("EUC_3D", "1 0 0 0\n2 1 2 2\n3 1 1 1", 3, 2);
  /* sqrt(100/10) = 3.16 -> nint 3 < r -> 4; sqrt(1000/10) = 10 -> 10 */
  check_metric("ATT", "1 0 0\n2 10 0\n3 10 30", 4, 10);
  /* GEO: one degree of longitude on the equator is 111.32 km -> 112;
   * 1.70 is 1 degree 70 minutes = 2.1667 degrees (truncated, not nint)
   * -> 241.2 km -> 242 */
  check_metric("GEO", "1 0 0\n2 0 1.0\n3 0 1.70", 112, 242);
  /* burma14 nodes 1 and 2: (16.47, 96.10), (16.47, 94.44) -> 153 */
  check_metric("GEO", "1 16.47 96.10\n2 16.47 94.44\n3 0 0", 153, 10677);
}

/* ---- 3. odd but valid inputs ----------------------------------------- */

static void test_ok_inline(void)
{
  char err[ERRLEN];
  tsp_instance *t;

  t = load("NAME :   spaced name \t\r\nTYPE: TSP\r\nDIMENSION : 3\r\n"
           "EDGE_WEIGHT_TYPE :EUC_2D\r\nEDGE_WEIGHT_FORMAT: FUNCTION\r\n"
           "NODE_COORD_SECTION\r\n1 0 0 2 3 4 3\r\n0 0\r\n", err);
  CHECK(t != NULL);
  if (t) {
    CHECK(strcmp(t->name, "spaced name") == 0);
    CHECK_EQ_INT(tsplib_dist(t, 0, 1), 5);
    tsplib_free(t);
  }
  /* no TYPE, nodes listed out of order, NODE_COORD_TYPE given */
  t = load("DIMENSION:3\nEDGE_WEIGHT_TYPE:EUC_2D\n"
           "NODE_COORD_TYPE:TWOD_COORDS\nNODE_COORD_SECTION\n"
           "3 0 4\n1 0 0\n2 3 0\n", err);
  CHECK(t != NULL);
  if (t) {
    CHECK_EQ_INT(tsplib_dist(t, 0, 2), 4);
    CHECK_EQ_INT(tsplib_dist(t, 1, 2), 5);
    tsplib_free(t);
  }
  /* weights written with exponents and decimals that are integers */
  t = load("TYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\n"
           "EDGE_WEIGHT_FORMAT: UPPER_ROW\nEDGE_WEIGHT_SECTION\n"
           "1.5e+03 2.0 3\n", err);
  CHECK(t != NULL);
  if (t) {
    CHECK_EQ_INT(tsplib_dist(t, 0, 1), 1500);
    CHECK_EQ_INT(tsplib_dist(t, 2, 0), 2);
    tsplib_free(t);
  }
}

static void test_ok_files(const char *src)
{
  char path[1024], err[ERRLEN];
  tsp_instance *t = NULL;
  int32_t *tour = NULL;
  int n = 0;

  snprintf(path, sizeof path, "%s/tests/data/tsplib_ok/crlf_tabs.tsp", src);
  CHECK_EQ_INT(tsplib_read_file(path, &t, err, sizeof err), 0);
  if (t) {
    static const int32_t order[4] = { 0, 1, 2, 3 };

    CHECK(strcmp(t->name, "crlf_tabs") == 0);
    CHECK_EQ_INT(tsplib_tour_length(t, order), 5 + 3 + 5 + 3);
    tsplib_free(t);
  }
  snprintf(path, sizeof path, "%s/tests/data/tsplib_ok/display_fixed.tsp",
           src);
  CHECK_EQ_INT(tsplib_read_file(path, &t, err, sizeof err), 0);
  if (t) {
    CHECK_EQ_INT(tsplib_dist(t, 1, 3), 2);
    tsplib_free(t);
  }
  snprintf(path, sizeof path, "%s/tests/data/tsplib_ok/threed.tsp", src);
  CHECK_EQ_INT(tsplib_read_file(path, &t, err, sizeof err), 0);
  if (t) {
    CHECK_EQ_INT(t->dims, 3);
    CHECK_EQ_INT(tsplib_dist(t, 0, 1), 3);
    tsplib_free(t);
  }
  snprintf(path, sizeof path, "%s/tests/data/tsplib_ok/multi.tour", src);
  CHECK_EQ_INT(tsplib_read_tour(path, &tour, &n, err, sizeof err), 0);
  CHECK_EQ_INT(n, 4);
  if (tour)
    CHECK(tour[0] == 0 && tour[1] == 2 && tour[2] == 3 && tour[3] == 1);
  free(tour);
  snprintf(path, sizeof path, "%s/tests/data/tsplib_ok/nodim.tour", src);
  CHECK_EQ_INT(tsplib_read_tour(path, &tour, &n, err, sizeof err), 0);
  CHECK_EQ_INT(n, 3);
  if (tour)
    CHECK(tour[0] == 1 && tour[1] == 0 && tour[2] == 2);
  free(tour);
}

/* Every file of tsplib_ok loads. */
static void test_ok_dir(const char *src)
{
  char dir[1024], path[1300], err[ERRLEN];
  struct dirent *e;
  int count = 0;
  DIR *d;

  snprintf(dir, sizeof dir, "%s/tests/data/tsplib_ok", src);
  d = opendir(dir);
  CHECK(d != NULL);
  if (!d)
    return;
  while ((e = readdir(d)) != NULL) {
    tsp_instance *t = NULL;
    int32_t *tour = NULL;
    int n, rc;

    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (ends_with(e->d_name, ".tsp"))
      rc = tsplib_read_file(path, &t, err, sizeof err);
    else if (ends_with(e->d_name, ".tour"))
      rc = tsplib_read_tour(path, &tour, &n, err, sizeof err);
    else
      continue;
    count++;
    CHECK_EQ_INT(rc, 0);
    if (rc)
      fprintf(stderr, "  %s\n", err);
    tsplib_free(t);
    free(tour);
  }
  closedir(d);
  CHECK(count >= 5);
}

/* ---- 4. broken inputs ------------------------------------------------- */

#define HEAD "NAME: bad\nTYPE: TSP\nDIMENSION: 5\n"
#define EUC HEAD "EDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n"
#define EXPL(fmt) HEAD "EDGE_WEIGHT_TYPE: EXPLICIT\n" \
                  "EDGE_WEIGHT_FORMAT: " fmt "\nEDGE_WEIGHT_SECTION\n"
#define NODES4 "1 0 0\n2 1 0\n3 1 1\n4 0 1\n"

static const struct { const char *text; int line; const char *word; }
bad_strings[] = {
  { "NAME: x\nTYPE: TSP\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n"
    "1 0 0\n", 4, "DIMENSION" },
  { "NAME: x\nTYPE: TSP\nEDGE_WEIGHT_TYPE: EUC_2D\nEOF\n", 4,
    "missing DIMENSION" },
  { EUC NODES4 "EOF\n", 10, "too few" },
  { EUC NODES4, 9, "too few" },
  { EUC "1 0 0\n2 1 0\n4 1 1\n5 0 1\nEOF\n", 10, "node 3 missing" },
  { EUC NODES4 "5 2\nEOF\n", 11, "too few" },
  { EUC NODES4 "5 2 2\n6 3 3\nEOF\n", 11, "too many" },
  { EUC NODES4 "5 2 2 7\n", 10, "too many" },
  { EXPL("UPPER_ROW") "1 2 3 4\n5 6 7\n8 9\n10 11\n", 10, "too many" },
  { EXPL("UPPER_ROW") "1 2 3 4\n5 6 7\n8 9\nEOF\n", 10, "too few" },
  { EXPL("UPPER_ROW") "1 2 3 4\n5 -6 7\n8 9\n10\n", 8, "negative" },
  { EXPL("UPPER_ROW") "1 2 3 4\n5 6.5 7\n8 9\n10\n", 8, "integer" },
  { EXPL("UPPER_ROW") "1 2 3 4\n5 6 7\n8 9\n1e99\n", 10, "range" },
  { EXPL("FULL_MATRIX") "0 1 2 3 4\n1 0 5 6 7\n2 5 0 8 9\n"
    "3 6 8 0 1\n4 7 9 2 0\n", 11, "symmetric" },
  { EXPL("FUNCTION"), 6, "FUNCTION" },
  { EXPL("DIAGONAL") "1\n", 5, "EDGE_WEIGHT_FORMAT" },
  { HEAD "EDGE_WEIGHT_TYPE: XRAY1\n", 4, "EDGE_WEIGHT_TYPE" },
  { HEAD "EDGE_WEIGHT_TYPE: EUC_2D\n\nNODE_COORD_TYPE: 4D\n", 6,
    "NODE_COORD_TYPE" },
  { HEAD "EDGE_WEIGHT_TYPE: EUC_2D\nEOF\n", 5, "missing NODE_COORD" },
  { HEAD "EDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: FULL_MATRIX\n",
    5, "missing EDGE_WEIGHT_SECTION" },
  { HEAD "EDGE_WEIGHT_TYPE: EUC_3D\nNODE_COORD_TYPE: TWOD_COORDS\n"
    "NODE_COORD_SECTION\n" NODES4 "5 2 2\n", 6, "coordinates" },
  { EUC "1 0 0\n2 1 abc\n", 7, "non-numeric" },
  { EUC "1 0 0\n2 1 0\n2 1 1\n", 8, "repeated" },
  { EUC "1 0 0\n2 1 0\n6 1 1\n", 8, "out of range" },
  { EUC "1 0 0\n0 1 0\n", 7, "out of range" },
  { EUC "1 0 0\n2.0 1 0\n", 7, "integer" },
  { EUC "1 0 0\n2 nan 0\n", 7, "finite" },
  { EUC "1 0 0\n2 1 -inf\n", 7, "finite" },
  { EUC "1 0 0\n2 1 1e999\n", 7, "finite" },
  { EUC "1 0 0\n2 1 1e12\n", 7, "range" },
  { "NAME: x\nTYPE: TSP\nDIMENSION: 2\n", 3, "too small" },
  { "NAME: x\nDIMENSION: 1000001\n", 2, "limit" },
  { "NAME: x\nDIMENSION: 100001\n", 2, "limit of 100000" },
  { "NAME: x\nDIMENSION: 99999999999999999999999\n", 2, "limit" },
  { "NAME: x\nDIMENSION: -7\n", 2, "too small" },
  { "NAME: x\nDIMENSION: five\n", 2, "integer" },
  { "NAME: x\nDIMENSION:\n", 2, "no value" },
  { "NAME: x\nTYPE: ATSP\n", 2, "ATSP" },
  { "NAME: x\nTYPE: HCP\n", 2, "not supported" },
  { "NAME: x\nTYPE: CVRP\n", 2, "CVRP" },
  { "NAME: x\nTYPE: TOUR\n", 2, "TOUR" },
  { HEAD "DIMENSION: 6\n", 4, "repeated DIMENSION" },
  { HEAD "BOGUS_KEY: 1\n", 4, "unknown keyword" },
  { HEAD "42\n", 4, "outside" },
  { EUC NODES4 "5 1 1\nDISPLAY_DATA_SECTION\n1 0 x\n", 12, "non-numeric" },
  { "", 1, "missing DIMENSION" },
};

static void test_bad_strings(void)
{
  char err[ERRLEN], what[32];
  size_t k;

  for (k = 0; k < sizeof bad_strings / sizeof *bad_strings; k++) {
    static tsp_instance sentinel;
    tsp_instance *t = &sentinel;
    int rc;

    err[0] = '\0';
    rc = tsplib_read_string(bad_strings[k].text,
                            strlen(bad_strings[k].text), "bad.tsp", &t,
                            err, sizeof err);
    CHECK_EQ_INT(rc, -1);
    CHECK(t == NULL);
    snprintf(what, sizeof what, "%zu", k);
    check_bad(what, err, "bad.tsp", bad_strings[k].line,
              bad_strings[k].word);
  }
}

static const test_bad_file bad_files[] = {
  { "atsp.tsp", 2, "ATSP" },
  { "crlf_missing.tsp", 9, "node 3 missing" },
  { "repeated.tour", 6, "repeated" },
  { "range.tour", 7, "out of range" },
  { "short.tour", 7, "too few" },
  { "long.tour", 7, "too many" },
  { "type.tour", 2, "TOUR" },
  { "nonnum.tour", 6, "non-numeric" },
  { "gap.tour", 5, "not a permutation" },
  { "nosection.tour", 4, "missing TOUR_SECTION" },
};

/* A .tsp file or a tour file, read by its reader. */
static int read_bad(const char *path, const char *name, char *err,
                    size_t errlen)
{
  tsp_instance *t = NULL;
  int32_t *tour = NULL;
  int n = 0, rc;
  if (ends_with(name, ".tsp"))
    rc = tsplib_read_file(path, &t, err, errlen);
  else
    rc = tsplib_read_tour(path, &tour, &n, err, errlen);
  CHECK(t == NULL && tour == NULL && n == 0);
  return rc;
}

/* Every file of tsplib_bad is refused as the table says. */
static void test_bad_files(const char *src)
{
  test_each_bad_file(src, "tsplib_bad", bad_files,
                     sizeof bad_files / sizeof *bad_files, read_bad);
}

static void test_unreadable(void)
{
  const char *path = "/nonexistent-nerox/none.tsp";
  char err[ERRLEN];
  tsp_instance *t = NULL;
  int32_t *tour = NULL;
  int n = 0;

  CHECK_EQ_INT(tsplib_read_file(path, &t, err, sizeof err), -1);
  check_bad("missing file", err, path, 0, "cannot open");
  CHECK_EQ_INT(tsplib_read_tour(path, &tour, &n, err, sizeof err), -1);
  check_bad("missing tour", err, path, 0, "cannot open");
  CHECK_EQ_INT(tsplib_read_file("/", &t, err, sizeof err), -1);
  check_bad("directory", err, "/", 0, "cannot read");
  /* a tiny err buffer is filled without overflow */
  CHECK_EQ_INT(tsplib_read_string("DIMENSION: 1\n", 13, "lbl", &t, err, 4),
               -1);
  CHECK(strcmp(err, "lbl") == 0);
}

/* Binary garbage and terminal escapes quoted from a file come out of the
 * message as '?', never as raw bytes. */
static void test_garbage_quoted(void)
{
  static const char text[] = "NAME: x\n\x1b[2J\x01\xff\xfe junk\n";
  char err[ERRLEN];
  tsp_instance *t = NULL;
  const char *p;

  CHECK_EQ_INT(tsplib_read_string(text, sizeof text - 1, "bin.tsp", &t, err,
                                  sizeof err), -1);
  check_bad("garbage", err, "bin.tsp", 2, "unexpected token '?[2J?");
  for (p = err; *p; p++)
    CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

int main(void)
{
  char src[512];

  source_dir(src, sizeof src);
  test_public_instances();
  test_public_details();
  test_formats();
  test_metrics();
  test_ok_inline();
  test_ok_files(src);
  test_ok_dir(src);
  test_bad_strings();
  test_bad_files(src);
  test_unreadable();
  test_garbage_quoted();
  return test_report("test_tsplib");
}
