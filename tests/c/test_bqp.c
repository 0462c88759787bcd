/* Tests of the bqp reader: every instance of the public OR-Library files
 * against its header and against objective values computed independently,
 * odd-but-valid inputs, and broken inputs refused with the label, the line
 * and the reason. */
#include "formats/bqp.h"
#include "test_formats.h"

#include <stdint.h>

#define ERRLEN 512
#define FILE_K 10  /* instances in each public file */

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
  const char *tail = "tests/c/test_bqp.c";
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

static bqp_instance *load(const char *text, int instance, char *err)
{
  bqp_instance *b = NULL;

  if (bqp_read_string(text, strlen(text), "mem", instance, &b, NULL, err,
                      ERRLEN))
    fprintf(stderr, "unexpected error: %s\n", err);
  return b;
}

/* f(x) of n values given as a string of '0' and '1'. */
static double objective_of(const bqp_instance *b, const char *bits)
{
  int32_t x[16];
  int k;

  for (k = 0; k < b->n && k < 16; k++)
    x[k] = bits[k] == '1';
  return bqp_objective(b, x);
}

/* ---- 1. the public instances ----------------------------------------- */

/* What a plain fscanf walk of a bqp file finds for one instance. */
typedef struct ref_inst {
  long long n, nnz;
  long long ones;      /* sum q_ii + 2 q_ij: f(all ones) */
  long long diag1;     /* q_11: f(x) with x_1 = 1 alone */
} ref_inst;

/* Walk the file independently of the reader; returns K, or -1. */
static int reference(const char *path, ref_inst *ref, int cap)
{
  FILE *f = fopen(path, "r");
  long long k, t, i, j, q;
  int inst;

  if (!f)
    return -1;
  if (fscanf(f, "%lld", &k) != 1 || k < 1 || k > cap) {
    fclose(f);
    return -1;
  }
  for (inst = 0; inst < k; inst++) {
    ref_inst *r = &ref[inst];

    memset(r, 0, sizeof *r);
    if (fscanf(f, "%lld %lld", &r->n, &r->nnz) != 2)
      break;
    for (t = 0; t < r->nnz && fscanf(f, "%lld %lld %lld", &i, &j, &q) == 3;
         t++) {
      r->ones += i == j ? q : 2 * q;
      if (i == 1 && j == 1)
        r->diag1 += q;
    }
  }
  fclose(f);
  return inst == k ? (int)k : -1;
}

static int sorted_pairs(const bqp_instance *b)
{
  int64_t k;

  for (k = 0; k < b->nnz; k++)
    if (b->i[k] < 0 || b->i[k] > b->j[k] || b->j[k] >= b->n)
      return 0;
  return 1;
}

static void check_file(const char *name, int n, const long long *nnz)
{
  char path[1024], err[ERRLEN];
  ref_inst ref[FILE_K];
  int32_t *x;
  int inst, count, k;

  snprintf(path, sizeof path, "%s/bqp/%s", test_data_dir(), name);
  CHECK_EQ_INT(reference(path, ref, FILE_K), FILE_K);
  x = calloc((size_t)n, sizeof *x);
  CHECK(x != NULL);
  for (inst = 1; x && inst <= FILE_K; inst++) {
    bqp_instance *b = NULL;

    count = -1;
    CHECK_EQ_INT(bqp_read_file(path, inst, &b, &count, err, sizeof err), 0);
    if (!b) {
      fprintf(stderr, "  %s #%d: %s\n", name, inst, err);
      continue;
    }
    CHECK_EQ_INT(count, FILE_K);
    CHECK_EQ_INT(b->n, n);
    CHECK_EQ_INT(b->nnz, nnz[inst - 1]);
    CHECK_EQ_INT(b->nnz, ref[inst - 1].nnz);
    CHECK_EQ_INT(b->integral, 1);
    CHECK(sorted_pairs(b));
    for (k = 0; k < n; k++)
      x[k] = 0;
    CHECK(bqp_objective(b, x) == 0.0);
    x[0] = 1;
    CHECK_EQ_INT(bqp_objective(b, x), ref[inst - 1].diag1);
    for (k = 0; k < n; k++)
      x[k] = 1;
    CHECK_EQ_INT(bqp_objective(b, x), ref[inst - 1].ones);
    bqp_free(b);
  }
  free(x);
}

static void test_public_files(void)
{
  static const long long nnz50[FILE_K] = {
    111, 123, 136, 115, 138, 115, 127, 147, 129, 111
  };
  static const long long nnz250[FILE_K] = {
    3120, 3064, 3092, 3173, 3134, 3208, 3111, 3039, 3167, 3069
  };

  check_file("bqp50.txt", 50, nnz50);
  check_file("bqp250.txt", 250, nnz250);
}

/* The public files end without a final newline; count may be NULL. */
static void test_public_details(void)
{
  char path[1024], err[ERRLEN];
  bqp_instance *b = NULL;
  FILE *f;
  int c = 0;

  snprintf(path, sizeof path, "%s/bqp/bqp50.txt", test_data_dir());
  f = fopen(path, "rb");
  CHECK(f != NULL);
  if (f) {
    CHECK(fseek(f, -1, SEEK_END) == 0 && (c = fgetc(f)) != '\n');
    fclose(f);
  }
  CHECK_EQ_INT(bqp_read_file(path, 10, &b, NULL, err, sizeof err), 0);
  if (b) {
    CHECK(b->n == 50 && b->nnz == 111);
    bqp_free(b);
  }
  CHECK_EQ_INT(bqp_read_file(path, 1, &b, NULL, err, sizeof err), 0);
  if (b) {
    CHECK(b->i[0] == 0 && b->j[0] == 3 && b->q[0] == 39.0);  /* 1 4 39 */
    bqp_free(b);
  }
}

/* ---- 2. odd but valid inputs ----------------------------------------- */

static void test_objective(void)
{
  char err[ERRLEN];
  bqp_instance *b;

  /* i > j mirrored; f = 5 x1 - 2 x3 + 2*3 x1 x2 + 2*(-4) x2 x3 */
  b = load("1\n3 4\n1 1 5\n2 1 3\n3 3 -2\n3 2 -4\n", 1, err);
  CHECK(b != NULL);
  if (!b)
    return;
  CHECK(b->i[1] == 0 && b->j[1] == 1 && b->q[1] == 3.0);
  CHECK(b->i[3] == 1 && b->j[3] == 2);
  CHECK(objective_of(b, "000") == 0.0);
  CHECK(objective_of(b, "100") == 5.0);
  CHECK(objective_of(b, "110") == 11.0);
  CHECK(objective_of(b, "011") == -10.0);
  CHECK(objective_of(b, "111") == 1.0);
  CHECK(objective_of(b, "101") == 3.0);
  bqp_free(b);
  /* the largest values: exact, beyond 2^32 */
  b = load("1\n2 3\n1 1 2147483647\n1 2 2147483647\n2 2 2147483647", 1,
           err);
  CHECK(b != NULL);
  if (b) {
    CHECK_EQ_INT(objective_of(b, "11"), 4LL * 2147483647LL);
    bqp_free(b);
  }
}

static void test_ok_inline(void)
{
  char err[ERRLEN];
  bqp_instance *b;
  int count = 0;

  /* blanks, CRLF, blank lines, no final newline; second instance read */
  b = load("\n 2 \r\n 2 1 \r\n 1 2 4 \r\n\r\n 3 2\r\n3 3 7\r\n1 3 0.5", 2,
           err);
  CHECK(b != NULL);
  if (b) {
    CHECK(b->n == 3 && b->nnz == 2 && !b->integral);
    CHECK(objective_of(b, "101") == 8.0);
    bqp_free(b);
  }
  /* an instance without entries; decimals that are integers */
  CHECK_EQ_INT(bqp_read_string("2\n4 0\n1 1\n1 1 -3.0e0\n", 21, "mem", 2,
                               &b, &count, err, sizeof err), 0);
  CHECK_EQ_INT(count, 2);
  if (b) {
    CHECK(b->integral && b->q[0] == -3.0);
    bqp_free(b);
  }
  b = load("2\n4 0\n1 1\n1 1 -3\n", 1, err);
  CHECK(b != NULL);
  if (b) {
    CHECK(b->n == 4 && b->nnz == 0);
    CHECK(objective_of(b, "1111") == 0.0);
    bqp_free(b);
  }
}

static void test_ok_files(const char *src)
{
  char path[1024], err[ERRLEN];
  bqp_instance *b = NULL;
  int count = 0;

  snprintf(path, sizeof path, "%s/tests/data/bqp_ok/two.txt", src);
  CHECK_EQ_INT(bqp_read_file(path, 2, &b, &count, err, sizeof err), 0);
  CHECK_EQ_INT(count, 2);
  if (b) {
    CHECK(b->n == 2 && b->nnz == 1 && b->q[0] == 7.0);
    bqp_free(b);
  }
  CHECK_EQ_INT(bqp_read_file(path, 1, &b, &count, err, sizeof err), 0);
  if (b) {
    CHECK(objective_of(b, "111") == 1.0);
    bqp_free(b);
  }
  snprintf(path, sizeof path, "%s/tests/data/bqp_ok/crlf_float.txt", src);
  CHECK_EQ_INT(bqp_read_file(path, 1, &b, &count, err, sizeof err), 0);
  CHECK_EQ_INT(count, 1);
  if (b) {
    CHECK(b->nnz == 3 && !b->integral);
    CHECK(b->i[1] == 1 && b->j[1] == 2 && b->q[1] == -1.5);
    CHECK(objective_of(b, "111") == 0.5 - 3.0 + 10.0);
    bqp_free(b);
  }
}

/* ---- 3. broken inputs ------------------------------------------------- */

static const struct { const char *text; int line; const char *word; }
bad_strings[] = {
  { "", 1, "empty file" },
  { "\n \r\n", 1, "empty file" },
  { "2 3\n", 1, "number of instances alone, found 2 values" },
  { "x\n", 1, "instance count 'x' is not an integer" },
  { "0\n", 1, "need at least 1 instance" },
  { "-1\n", 1, "need at least 1 instance" },
  { "1000001\n", 1, "limit of 1000000 instances" },
  { "1\n", 1, "file ends after 0 of the 1 instances given on line 1" },
  { "3\n3 1\n1 1 5\n", 3, "file ends after 1 of the 3 instances" },
  { "1\n3 2\n1 1 5\n", 3, "file ends after 1 of the 2 entries of "
    "instance 1 (line 2)" },
  { "2\n3 2\n1 1 5\n3 1\n1 2 3\n", 4, "instance 1 (nnz = 2 on line 2): "
    "expected entry 2 as 'i j q', found 2 values" },
  { "1\n3 2\n1 1 5\n1 2 3 4\n", 4, "found at least 4 values" },
  { "2\n3 1\n1 1 5\n1 2 3\n3 1\n1 1 1\n", 4, "extra entry: instance 1 "
    "declares nnz = 1 on line 2" },
  { "1\n3 1\n1 1 5\n2 2 3\n", 4, "extra entry: instance 1" },
  { "1\n3 1\n1 1 5\n\n7\n", 5, "extra data after the 1 instances" },
  { "1\n3\n", 2, "expected the header 'n nnz' of instance 1, found 1 value" },
  { "1\n3 1 1\n", 2, "header 'n nnz' of instance 1, found 3 values" },
  { "1\n0 0\n", 2, "instance 1: variable count 0, need at least 1" },
  { "1\n1000001 0\n", 2, "limit of 1000000 variables" },
  { "1\n3 x\n", 2, "entry count 'x' is not an integer" },
  { "1\n3 -1\n", 2, "negative entry count -1" },
  { "1\n3 7\n", 2, "entry count 7 exceeds 6" },
  { "1\n100000 100000001\n", 2, "limit of 100000000 entries" },
  { "1\n3 2\n1 2 5\n2 1 4\n", 4, "repeated pair 1 2 (first given on "
    "line 3)" },
  { "1\n3 3\n2 2 5\n\n1 3 1\n2 2 4\n", 6, "first given on line 3" },
  { "1\n3 1\n0 1 5\n", 3, "variable id 0: ids are 1-based (1..3); is the "
    "file zero-based?" },
  { "1\n3 1\n1 0 5\n", 3, "zero-based" },
  { "1\n3 1\n1 4 5\n", 3, "variable id 4 out of range 1..3" },
  { "1\n3 1\n-2 1 5\n", 3, "out of range" },
  { "1\n3 1\n1 2.5 1\n", 3, "variable id '2.5' is not an integer" },
  { "1\n3 1\n1 2 nan\n", 3, "value 'nan' is not finite" },
  { "1\n3 1\n1 2 -INF\n", 3, "not finite" },
  { "1\n3 1\n1 2 1e400\n", 3, "not finite" },
  { "1\n3 1\n1 2 x\n", 3, "non-numeric value 'x'" },
  { "1\n3 1\n1 2 2147483648\n", 3, "exceeds the limit |q| <= 2147483647" },
  { "1\n3 1\n1 2 -2.2e9\n", 3, "2^31-1" },
  /* a broken instance refuses the whole file, even when 1 is asked */
  { "2\n3 1\n1 1 5\n3 1\n1 1 nan\n", 5, "not finite" },
};

static void test_bad_strings(void)
{
  char err[ERRLEN], what[32];
  size_t k;

  for (k = 0; k < sizeof bad_strings / sizeof *bad_strings; k++) {
    static bqp_instance sentinel;
    bqp_instance *b = &sentinel;
    int rc, count = -1;

    err[0] = '\0';
    rc = bqp_read_string(bad_strings[k].text, strlen(bad_strings[k].text),
                         "bad.txt", 1, &b, &count, err, sizeof err);
    CHECK_EQ_INT(rc, -1);
    CHECK(b == NULL);
    CHECK_EQ_INT(count, 0);
    snprintf(what, sizeof what, "%zu", k);
    check_bad(what, err, "bad.txt", bad_strings[k].line,
              bad_strings[k].word);
  }
}

/* --instance outside 1..K: refused on the line of K, count still set. */
static void test_instance_range(void)
{
  static const char text[] = "2\n3 1\n1 1 5\n\n2 0\n";
  static const int bad[] = { 0, -1, 3, 1000 };
  char err[ERRLEN], word[64];
  bqp_instance *b = NULL;
  size_t k;
  int count;

  for (k = 0; k < sizeof bad / sizeof *bad; k++) {
    count = -1;
    CHECK_EQ_INT(bqp_read_string(text, sizeof text - 1, "r.txt", bad[k], &b,
                                 &count, err, sizeof err), -1);
    CHECK(b == NULL);
    CHECK_EQ_INT(count, 2);
    snprintf(word, sizeof word, "instance %d out of range: the file holds "
             "2 instances", bad[k]);
    check_bad("range", err, "r.txt", 1, word);
  }
  CHECK_EQ_INT(bqp_read_string(text, sizeof text - 1, "r.txt", 2, &b,
                               &count, err, sizeof err), 0);
  CHECK(b && b->n == 2 && b->nnz == 0);
  bqp_free(b);
}

/* 2^21 + 1 off-diagonal values of 2^31 - 1 count 2|q| each and sum to
 * more than 2^53: refused on the entry that crosses the limit; one entry
 * fewer is accepted and its objective is exact. */
static void test_abs_sum(void)
{
  const int n = 2100;
  const long long most = 1LL << 21;
  size_t cap = (size_t)(most + 2) * 24 + 64, len;
  char *text = malloc(cap), err[ERRLEN];
  bqp_instance *b = NULL;
  long long e = 0;
  int a, c;

  CHECK(text != NULL);
  if (!text)
    return;
  len = (size_t)snprintf(text, cap, "1\n%d %lld\n", n, most + 1);
  for (a = 1; a <= n && e <= most; a++)
    for (c = a + 1; c <= n && e <= most; c++, e++)
      len += (size_t)snprintf(text + len, cap - len, "%d %d 2147483647\n",
                              a, c);
  CHECK_EQ_INT(bqp_read_string(text, len, "big", 1, &b, NULL, err,
                               sizeof err), -1);
  check_bad("abs sum", err, "big", (int)(most + 3), "exceeds 2^53");
  text[len - 1] = '\0';
  len = (size_t)(strrchr(text, '\n') - text) + 1;
  memcpy(text, "1\n2100 2097152\n", 15);
  CHECK_EQ_INT(bqp_read_string(text, len, "big", 1, &b, NULL, err,
                               sizeof err), 0);
  if (b) {
    int32_t *x = malloc((size_t)n * sizeof *x);

    CHECK(x != NULL);
    for (a = 0; x && a < n; a++)
      x[a] = 1;
    if (x)
      CHECK(bqp_objective(b, x) == 9007199254740992.0 - 4194304.0);
    free(x);
    bqp_free(b);
  }
  free(text);
}

static const test_bad_file bad_files[] = {
  { "missing_instance.txt", 5, "file ends after 2 of the 3 instances" },
  { "repeated.txt", 5, "repeated pair 1 2 (first given on line 3)" },
  { "zero_based.txt", 3, "zero-based" },
  { "short.txt", 4, "expected entry 2 as 'i j q'" },
  { "long.txt", 4, "extra entry: instance 1 declares nnz = 1 on line 2" },
  { "inf.txt", 3, "value 'inf' is not finite" },
  { "empty.txt", 1, "empty file" },
};

static int read_bad(const char *path, const char *name, char *err,
                    size_t errlen)
{
  bqp_instance *b = NULL;
  (void)name;
  int rc = bqp_read_file(path, 1, &b, NULL, err, errlen);
  CHECK(b == NULL);
  return rc;
}

/* Every file of bqp_bad is refused as the table says. */
static void test_bad_files(const char *src)
{
  test_each_bad_file(src, "bqp_bad", bad_files,
                     sizeof bad_files / sizeof *bad_files, read_bad);
}

static void test_unreadable(void)
{
  const char *path = "/nonexistent-nerox/bqp50.txt";
  char err[ERRLEN];
  bqp_instance *b = NULL;
  int count = -1;

  CHECK_EQ_INT(bqp_read_file(path, 1, &b, &count, err, sizeof err), -1);
  CHECK_EQ_INT(count, 0);
  check_bad("missing file", err, path, 0, "cannot open");
  CHECK_EQ_INT(bqp_read_file("/", 1, &b, NULL, err, sizeof err), -1);
  check_bad("directory", err, "/", 0, "cannot read");
  /* a tiny err buffer is filled without overflow; NULL err is fine */
  CHECK_EQ_INT(bqp_read_string("0\n", 2, "lbl", 1, &b, NULL, err, 4), -1);
  CHECK(strcmp(err, "lbl") == 0);
  CHECK_EQ_INT(bqp_read_string("0\n", 2, "lbl", 1, &b, NULL, NULL, 0), -1);
  CHECK(b == NULL);
}

/* Binary garbage quoted from a file comes out as '?', never raw bytes. */
static void test_garbage_quoted(void)
{
  static const char text[] = "1\n3 1\n1 2 \x1b[2J\x01\xff\n";
  char err[ERRLEN];
  bqp_instance *b = NULL;
  const char *p;

  CHECK_EQ_INT(bqp_read_string(text, sizeof text - 1, "bin", 1, &b, NULL,
                               err, sizeof err), -1);
  check_bad("garbage", err, "bin", 3, "non-numeric value '?[2J?" "?'");
  for (p = err; *p; p++)
    CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

int main(void)
{
  char src[512];

  source_dir(src, sizeof src);
  test_public_files();
  test_public_details();
  test_objective();
  test_ok_inline();
  test_ok_files(src);
  test_bad_strings();
  test_instance_range();
  test_abs_sum();
  test_bad_files(src);
  test_unreadable();
  test_garbage_quoted();
  return test_report("test_bqp");
}
