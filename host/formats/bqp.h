/* bqp reader: QUBO instances of Beasley's OR-Library (bqp50 ... bqp2500).
 *
 *   K              the number of instances in the file
 *   n nnz          per instance: variables, entries listed
 *   i j q          nnz lines: 1-based variables, integer or decimal value
 *
 * One record per line; blank lines, leading and trailing blanks, CRLF and
 * a missing final newline are fine. i == j is the linear term q_ii; i > j
 * is mirrored to (j, i). The objective, to be maximised as in the
 * OR-Library, is
 *   f(x) = sum_i q_ii x_i + 2 * sum_{i<j} q_ij x_i x_j.
 * Refused, each with "path:LINE: reason": repeated pairs (either
 * orientation; the message names both lines, values are never summed),
 * ids out of 1..n (id 0 is called out as zero-based), non-numeric or
 * non-finite values, |q| > BQP_MAX_COEF, a per-instance sum of |q_ii| +
 * 2|q_ij| > BQP_MAX_ABS_SUM, entry or instance counts that disagree with
 * the file, K outside 1..BQP_MAX_INSTANCES, n outside
 * 1..BQP_MAX_VARIABLES, nnz < 0 or beyond BQP_MAX_ENTRIES or n(n+1)/2,
 * an instance index outside 1..K, and empty files. Every instance of the
 * file is checked, not only the one returned. docs/formats.md lists every
 * rule. */
#ifndef NEROX_BQP_H
#define NEROX_BQP_H

#include <stddef.h>
#include <stdint.h>

/* Largest instance count K in a file. */
#define BQP_MAX_INSTANCES 1000000
/* Largest n: the binary kernel's BINARY_MAX_N. */
#define BQP_MAX_VARIABLES 1000000
/* Largest nnz of one instance. */
#define BQP_MAX_ENTRIES 100000000LL
/* Largest |q| of one entry: 2^31 - 1, so integer values fit an int32. */
#define BQP_MAX_COEF 2147483647.0
/* Largest sum of |q_ii| + 2|q_ij| over one instance: 2^53, so every
 * objective value of integer data is exact in a double. */
#define BQP_MAX_ABS_SUM 9007199254740992.0

typedef struct bqp_instance {
  int n;          /* variables, 0..n-1 */
  int64_t nnz;    /* entries, in file order */
  int32_t *i;     /* nnz row ids, 0-based, i[k] <= j[k] */
  int32_t *j;
  double *q;      /* nnz values; i == j is the linear term */
  int integral;   /* 1 when every value is an integer */
} bqp_instance;

/* Read instance `instance` (1-based) of a bqp file. *count (when not NULL)
 * receives K once the whole file has been checked, also when `instance`
 * is out of range, and 0 on any other failure. Returns 0 and sets *out,
 * or -1 with *out NULL and err filled ("path:LINE: reason"; LINE 0 when
 * the file cannot be read). */
int bqp_read_file(const char *path, int instance, bqp_instance **out,
                  int *count, char *err, size_t errlen);
/* Same from memory (len bytes, no terminator needed); `label` names the
 * source in error messages. */
int bqp_read_string(const char *text, size_t len, const char *label,
                    int instance, bqp_instance **out, int *count,
                    char *err, size_t errlen);
void bqp_free(bqp_instance *b);

/* f(x) for n values of x (any non-zero value counts as 1), to maximise.
 * Exact for integral instances: every partial sum is an integer of
 * magnitude <= BQP_MAX_ABS_SUM, which a double holds exactly. */
double bqp_objective(const bqp_instance *b, const int32_t *x);

#endif
