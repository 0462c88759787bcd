/* Tests of the rudy reader: every G-set graph of the public set against
 * its header, odd-but-valid inputs, and broken inputs refused with the
 * label, the line and the reason. */
#include "formats/rudy.h"
#include "test_formats.h"

#include <sys/stat.h>

#define ERRLEN 512

/* ---- helpers ---------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);

  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Folder of this source tree: $NEROX_SOURCE_DIR, else from __FILE__. */
static void source_dir(char *buf, size_t cap)
{
  const char *env = getenv("NEROX_SOURCE_DIR");
  const char *tail = "tests/c/test_rudy.c";
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

static rudy_graph *load(const char *text, char *err)
{
  rudy_graph *g = NULL;

  if (rudy_read_string(text, strlen(text), "mem", &g, err, ERRLEN))
    fprintf(stderr, "unexpected error: %s\n", err);
  return g;
}

/* Every endpoint in 0..n-1, no self-loop. */
static int well_formed(const rudy_graph *g)
{
  int64_t k;

  for (k = 0; k < g->m; k++)
    if (g->u[k] < 0 || g->u[k] >= g->n || g->v[k] < 0 ||
        g->v[k] >= g->n || g->u[k] == g->v[k])
      return 0;
  return 1;
}

static double weight_sum(const rudy_graph *g)
{
  double s = 0;
  int64_t k;

  for (k = 0; k < g->m; k++)
    s += g->w[k];
  return s;
}

/* ---- 1. the public instances ----------------------------------------- */

static const struct { const char *name; int n; long long m; } gset[] = {
  { "G1", 800, 19176 },
  { "G11", 800, 1600 },
  { "G14", 800, 4694 },
  { "G22", 2000, 19990 },
  { "G43", 1000, 9990 },
};

/* Header "n m" of a file, read independently of the reader. */
static int header_of(const char *path, long long *n, long long *m)
{
  FILE *f = fopen(path, "r");
  int ok;

  if (!f)
    return 0;
  ok = fscanf(f, "%lld %lld", n, m) == 2;
  fclose(f);
  return ok;
}

static void check_graph(const char *dir, const char *file, int *named)
{
  char path[1024], err[ERRLEN];
  rudy_graph *g = NULL;
  long long n = -1, m = -1;
  size_t k;

  snprintf(path, sizeof path, "%s/gset/%s", dir, file);
  if (rudy_read_file(path, &g, err, sizeof err)) {
    CHECK(!"graph loads");
    fprintf(stderr, "  %s\n", err);
    return;
  }
  CHECK(header_of(path, &n, &m));
  CHECK_EQ_INT(g->n, n);
  CHECK_EQ_INT(g->m, m);
  CHECK(well_formed(g));
  CHECK_EQ_INT(g->integral, 1);
  for (k = 0; k < sizeof gset / sizeof *gset; k++) {
    if (strcmp(gset[k].name, file) != 0)
      continue;
    (*named)++;
    CHECK_EQ_INT(g->n, gset[k].n);
    CHECK_EQ_INT(g->m, gset[k].m);
  }
  rudy_free(g);
}

static void test_public_graphs(void)
{
  const char *dir = test_data_dir();
  char path[1024];
  struct dirent *e;
  int count = 0, named = 0;
  DIR *d;

  snprintf(path, sizeof path, "%s/gset", dir);
  d = opendir(path);
  CHECK(d != NULL);
  if (!d)
    return;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0)
      continue;
    count++;
    check_graph(dir, e->d_name, &named);
  }
  closedir(d);
  CHECK(count >= 5);
  CHECK_EQ_INT(named, (int)(sizeof gset / sizeof *gset));
}

/* G1 has only +1 weights; G11 (toroidal grid) mixes +1 and -1. */
static void test_public_details(void)
{
  const char *dir = test_data_dir();
  char path[1024], err[ERRLEN];
  rudy_graph *g = NULL;

  snprintf(path, sizeof path, "%s/gset/G1", dir);
  CHECK_EQ_INT(rudy_read_file(path, &g, err, sizeof err), 0);
  if (g) {
    CHECK(weight_sum(g) == 19176.0);
    CHECK(g->u[0] == 0 && g->v[0] == 559 && g->w[0] == 1.0);  /* 1 560 1 */
    rudy_free(g);
  }
  snprintf(path, sizeof path, "%s/gset/G11", dir);
  CHECK_EQ_INT(rudy_read_file(path, &g, err, sizeof err), 0);
  if (g) {
    int64_t k, neg = 0;

    for (k = 0; k < g->m; k++)
      neg += g->w[k] == -1.0;
    CHECK(neg > 0 && neg < g->m);
    CHECK(weight_sum(g) == (double)(g->m - 2 * neg));
    rudy_free(g);
  }
}

/* ---- 2. odd but valid inputs ----------------------------------------- */

static void test_ok_inline(void)
{
  char err[ERRLEN];
  rudy_graph *g;

  /* trailing blanks, CRLF, blank lines, no final newline, isolated 4, 5 */
  g = load("\n5 2 \r\n\r\n1 2 3 \r\n\t3 1\t-2\r\n\n", err);
  CHECK(g != NULL);
  if (g) {
    CHECK_EQ_INT(g->n, 5);
    CHECK_EQ_INT(g->m, 2);
    CHECK(g->u[1] == 2 && g->v[1] == 0 && g->w[1] == -2.0);
    CHECK_EQ_INT(g->integral, 1);
    rudy_free(g);
  }
  g = load("3 2\n1 2 0.25\n2 3 -1e-1", err);
  CHECK(g != NULL);
  if (g) {
    CHECK_EQ_INT(g->integral, 0);
    CHECK(g->w[0] == 0.25 && g->w[1] == -0.1);
    rudy_free(g);
  }
  /* decimals that are integers keep integral; extreme weights accepted */
  g = load("\xEF\xBB\xBF" "3 3\n1 2 2.0\n2 3 2147483647\n3 1 -2147483647",
           err);
  CHECK(g != NULL);
  if (g) {
    CHECK_EQ_INT(g->integral, 1);
    CHECK(g->w[1] == 2147483647.0 && g->w[2] == -2147483647.0);
    rudy_free(g);
  }
  /* one vertex, no edges */
  g = load("1 0\n", err);
  CHECK(g != NULL);
  if (g) {
    CHECK(g->n == 1 && g->m == 0);
    rudy_free(g);
  }
}

static void test_ok_files(const char *src)
{
  char path[1024], err[ERRLEN];
  rudy_graph *g = NULL;

  snprintf(path, sizeof path, "%s/tests/data/rudy_ok/trailing_spaces.rudy",
           src);
  CHECK_EQ_INT(rudy_read_file(path, &g, err, sizeof err), 0);
  if (g) {
    CHECK(g->n == 5 && g->m == 3);
    CHECK(weight_sum(g) == 1.0);
    rudy_free(g);
  }
  snprintf(path, sizeof path, "%s/tests/data/rudy_ok/crlf_float.rudy", src);
  CHECK_EQ_INT(rudy_read_file(path, &g, err, sizeof err), 0);
  if (g) {
    CHECK(g->n == 4 && g->m == 3 && !g->integral);
    CHECK(g->u[1] == 2 && g->v[1] == 1 && g->w[1] == -12.5);
    rudy_free(g);
  }
  snprintf(path, sizeof path,
           "%s/tests/data/rudy_ok/no_newline_isolated.rudy", src);
  CHECK_EQ_INT(rudy_read_file(path, &g, err, sizeof err), 0);
  if (g) {
    CHECK(g->n == 6 && g->m == 2 && g->integral);
    CHECK(g->u[1] == 4 && g->v[1] == 3 && g->w[1] == 3.0);
    rudy_free(g);
  }
}

/* ---- 3. broken inputs ------------------------------------------------- */

static const struct { const char *text; int line; const char *word; }
bad_strings[] = {
  { "", 1, "empty file" },
  { " \n\t\r\n", 1, "empty file" },
  { "3\n", 1, "header must be 'n m'" },
  { "3 2 1\n1 2 1\n", 1, "found 3 values" },
  { "\n\nx 2\n", 3, "vertex count 'x'" },
  { "3 2.0\n", 1, "edge count '2.0' in the header is not an integer" },
  { "0 0\n", 1, "at least 1 vertex" },
  { "-3 1\n", 1, "at least 1 vertex" },
  { "1000001 0\n", 1, "limit of 1000000 vertices" },
  { "99999999999999999999999 0\n", 1, "limit of 1000000" },
  { "3 -1\n", 1, "negative edge count -1" },
  { "3 4\n1 2 1\n", 1, "exceeds 3, the most" },
  { "1 1\n", 1, "exceeds 0" },
  { "20000 100000001\n", 1, "limit of 100000000 edges" },
  { "3 2\n1 2 1\n", 2, "file ends after 1 of the 2 edges" },
  { "3 2\n1 2 1\n\n\n", 2, "file ends after 1 of the 2 edges" },
  { "3 2\n", 1, "file ends after 0 of the 2 edges" },
  { "3 1\n1 2 1\n2 3 1\n", 3, "extra line after the 1 edges" },
  { "3 0\n1 2 1\n", 2, "extra line after the 0 edges" },
  { "3 2\n1 2\n2 3 1\n", 2, "expected an edge 'i j w', found 2 values" },
  { "3 2\n1\n", 2, "found 1 value" },
  { "3 2\n1 2 1 4\n", 2, "found at least 4 values" },
  { "3 2\n1 2 1\n2 1 5\n", 3, "repeated edge 2-1 (first given on line 2)" },
  { "3 3\n1 2 1\n2 3 1\n\n1 2 5\n", 5, "first given on line 2" },
  { "3 1\n2 2 1\n", 2, "self-loop on vertex 2" },
  { "3 1\n0 2 1\n", 2, "vertex id 0: ids are 1-based (1..3)" },
  { "3 1\n2 0 1\n", 2, "zero-based" },
  { "3 1\n1 4 1\n", 2, "vertex id 4 out of range 1..3" },
  { "3 1\n-1 2 1\n", 2, "out of range" },
  { "3 1\n99999999999999999999 2 1\n", 2, "out of range" },
  { "3 1\n1.0 2 1\n", 2, "vertex id '1.0' is not an integer" },
  { "3 1\n1 2 nan\n", 2, "weight 'nan' is not finite" },
  { "3 1\n1 2 -Inf\n", 2, "not finite" },
  { "3 1\n1 2 infinity\n", 2, "not finite" },
  { "3 1\n1 2 1e999\n", 2, "not finite" },
  { "3 1\n1 2 abc\n", 2, "non-numeric weight 'abc'" },
  { "3 1\n1 2 0x10\n", 2, "non-numeric" },
  { "3 1\n1 2 1,5\n", 2, "non-numeric" },
  { "3 1\n1 2 2147483648\n", 2, "exceeds the limit |w| <= 2147483647" },
  { "3 1\n1 2 -2147483648\n", 2, "2^31-1" },
  { "3 1\n1 2 3e9\n", 2, "2^31-1" },
  { "3 1\n1 2 99999999999999999999999\n", 2, "2^31-1" },
};

static void test_bad_strings(void)
{
  char err[ERRLEN], what[32];
  size_t k;

  for (k = 0; k < sizeof bad_strings / sizeof *bad_strings; k++) {
    static rudy_graph sentinel;
    rudy_graph *g = &sentinel;
    int rc;

    err[0] = '\0';
    rc = rudy_read_string(bad_strings[k].text, strlen(bad_strings[k].text),
                          "bad.rudy", &g, err, sizeof err);
    CHECK_EQ_INT(rc, -1);
    CHECK(g == NULL);
    snprintf(what, sizeof what, "%zu", k);
    check_bad(what, err, "bad.rudy", bad_strings[k].line,
              bad_strings[k].word);
  }
}

/* 2^22 + 1 edges of weight 2^31 - 1 sum to more than 2^53: refused on the
 * edge that crosses the limit; one edge fewer is accepted. */
static void test_abs_sum(void)
{
  const int n = 3000;
  const long long limit_edges = 1LL << 22;
  size_t cap = (size_t)(limit_edges + 2) * 24 + 64, len;
  char *text = malloc(cap), err[ERRLEN];
  rudy_graph *g = NULL;
  long long e = 0;
  int a, b;

  CHECK(text != NULL);
  if (!text)
    return;
  len = (size_t)snprintf(text, cap, "%d %lld\n", n, limit_edges + 1);
  for (a = 1; a <= n && e <= limit_edges; a++)
    for (b = a + 1; b <= n && e <= limit_edges; b++, e++)
      len += (size_t)snprintf(text + len, cap - len, "%d %d %s\n", a, b,
                              e % 2 ? "2147483647" : "-2147483647");
  CHECK_EQ_INT(rudy_read_string(text, len, "big", &g, err, sizeof err), -1);
  check_bad("abs sum", err, "big", (int)(limit_edges + 2), "exceeds 2^53");
  /* the same text without its last edge, announced as such */
  text[len - 1] = '\0';
  len = (size_t)(strrchr(text, '\n') - text) + 1;
  memcpy(text, "3000 4194304\n", 13);
  CHECK_EQ_INT(rudy_read_string(text, len, "big", &g, err, sizeof err), 0);
  if (g) {
    CHECK_EQ_INT(g->m, limit_edges);
    CHECK(weight_sum(g) == 0.0);
    rudy_free(g);
  }
  free(text);
}

static const test_bad_file bad_files[] = {
  { "long.rudy", 5, "extra line after the 3 edges" },
  { "short.rudy", 3, "file ends after 2 of the 3 edges" },
  { "repeated.rudy", 5, "repeated edge 2-1 (first given on line 2)" },
  { "zero_based.rudy", 2, "zero-based" },
  { "self_loop.rudy", 3, "self-loop" },
  { "nan.rudy", 3, "weight 'NaN' is not finite" },
  { "empty.rudy", 1, "empty file" },
};

static int read_bad(const char *path, const char *name, char *err,
                    size_t errlen)
{
  rudy_graph *g = NULL;
  (void)name;
  int rc = rudy_read_file(path, &g, err, errlen);
  CHECK(g == NULL);
  return rc;
}

/* Every file of rudy_bad is refused as the table says. */
static void test_bad_files(const char *src)
{
  test_each_bad_file(src, "rudy_bad", bad_files,
                     sizeof bad_files / sizeof *bad_files, read_bad);
}

static void test_unreadable(void)
{
  const char *path = "/nonexistent-nerox/G1";
  char err[ERRLEN];
  rudy_graph *g = NULL;

  CHECK_EQ_INT(rudy_read_file(path, &g, err, sizeof err), -1);
  check_bad("missing file", err, path, 0, "cannot open");
  CHECK_EQ_INT(rudy_read_file("/", &g, err, sizeof err), -1);
  check_bad("directory", err, "/", 0, "cannot read");
  /* a tiny err buffer is filled without overflow; NULL err is fine */
  CHECK_EQ_INT(rudy_read_string("0 0\n", 4, "lbl", &g, err, 4), -1);
  CHECK(strcmp(err, "lbl") == 0);
  CHECK_EQ_INT(rudy_read_string("0 0\n", 4, "lbl", &g, NULL, 0), -1);
  CHECK(g == NULL);
}

/* Binary garbage quoted from a file comes out as '?', never raw bytes. */
static void test_garbage_quoted(void)
{
  static const char text[] = "3 1\n\x1b[2J\x01\xff 2 1\n";
  char err[ERRLEN];
  rudy_graph *g = NULL;
  const char *p;

  CHECK_EQ_INT(rudy_read_string(text, sizeof text - 1, "bin", &g, err,
                                sizeof err), -1);
  check_bad("garbage", err, "bin", 2, "vertex id '?[2J?" "?' is not");
  for (p = err; *p; p++)
    CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
  /* an embedded NUL is a byte like any other */
  CHECK_EQ_INT(rudy_read_string("3 1\n1 2 1\0", 10, "nul", &g, err,
                                sizeof err), -1);
  check_bad("nul", err, "nul", 2, "non-numeric weight '1?'");
}

int main(void)
{
  char src[512];

  source_dir(src, sizeof src);
  test_public_graphs();
  test_public_details();
  test_ok_inline();
  test_ok_files(src);
  test_bad_strings();
  test_abs_sum();
  test_bad_files(src);
  test_unreadable();
  test_garbage_quoted();
  return test_report("test_rudy");
}
