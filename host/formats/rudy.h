/* rudy reader: weighted undirected graphs in the format of Rinaldi's rudy
 * generator, used by the G-set Max-Cut benchmark.
 *
 *   n m            header: vertex count, edge count
 *   i j w          m lines: 1-based endpoints, integer or decimal weight
 *
 * One record per line; blank lines, trailing blanks and CRLF are fine;
 * vertices without edges are allowed (n comes from the header). Refused,
 * each with "path:LINE: reason": self-loops, repeated edges (either
 * orientation; the message names both lines), ids out of 1..n (id 0 is
 * called out as zero-based), non-numeric or non-finite weights, |w| >
 * RUDY_MAX_WEIGHT, a sum of |w| over the graph > RUDY_MAX_ABS_SUM, fewer
 * or more edge lines than m, n outside 1..RUDY_MAX_VERTICES, m < 0, m >
 * RUDY_MAX_EDGES or more edges than a simple graph on n vertices can hold,
 * and empty files. docs/formats.md lists every rule. */
#ifndef NEROX_RUDY_H
#define NEROX_RUDY_H

#include <stddef.h>
#include <stdint.h>

/* Largest vertex count: the binary kernel's BINARY_MAX_N. */
#define RUDY_MAX_VERTICES 1000000
/* Largest edge count accepted in a header. */
#define RUDY_MAX_EDGES 100000000LL
/* Largest |w| of one edge: 2^31 - 1, so integer weights fit an int32. */
#define RUDY_MAX_WEIGHT 2147483647.0
/* Largest sum of |w| over all edges: 2^53, so every cut value of integer
 * data is exact in a double and in an int64. */
#define RUDY_MAX_ABS_SUM 9007199254740992.0

typedef struct rudy_graph {
  int n;          /* vertices, 0..n-1 */
  int64_t m;      /* edges */
  int32_t *u;     /* m endpoints, 0-based, in file order, u != v */
  int32_t *v;
  double *w;      /* m weights */
  int integral;   /* 1 when every weight is an integer */
} rudy_graph;

/* Read a rudy file. Returns 0 and sets *out, or -1 with *out NULL and err
 * filled ("path:LINE: reason"; LINE 0 when the file cannot be read). */
int rudy_read_file(const char *path, rudy_graph **out,
                   char *err, size_t errlen);
/* Same from memory (len bytes, no terminator needed); `label` names the
 * source in error messages. */
int rudy_read_string(const char *text, size_t len, const char *label,
                     rudy_graph **out, char *err, size_t errlen);
void rudy_free(rudy_graph *g);

#endif
