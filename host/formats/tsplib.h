/* TSPLIB reader: every symmetric TSP file of TSPLIB95 and .opt.tour files.
 *
 * Distances follow TSPLIB95 exactly (nint rounding, CEIL_2D, ATT's
 * pseudo-Euclidean rule, GEO with PI = 3.141592 and RRR = 6378.388, MAN_2D,
 * MAX_2D, EUC_3D, and EXPLICIT matrices in every EDGE_WEIGHT_FORMAT).
 * Errors name the file, the line and the reason: "path:LINE: reason". */
#ifndef NEROX_TSPLIB_H
#define NEROX_TSPLIB_H

#include <stddef.h>
#include <stdint.h>

typedef enum tsp_metric {
  TSP_METRIC_EXPLICIT = 0,
  TSP_METRIC_EUC_2D,
  TSP_METRIC_CEIL_2D,
  TSP_METRIC_ATT,
  TSP_METRIC_GEO,
  TSP_METRIC_MAN_2D,
  TSP_METRIC_MAX_2D,
  TSP_METRIC_EUC_3D
} tsp_metric;

typedef struct tsp_instance {
  char name[128];
  int n;
  tsp_metric metric;
  int dims;         /* 2 or 3 for coordinate metrics, 0 for EXPLICIT */
  double *coords;   /* n * dims node coordinates, NULL for EXPLICIT */
  int32_t *matrix;  /* n * n full matrix for EXPLICIT, else NULL */
} tsp_instance;

/* Read a .tsp file. Returns 0 and sets *out, or -1 with err filled. */
int tsplib_read_file(const char *path, tsp_instance **out,
                     char *err, size_t errlen);
/* Same from memory; `label` names the source in error messages. */
int tsplib_read_string(const char *text, size_t len, const char *label,
                       tsp_instance **out, char *err, size_t errlen);
void tsplib_free(tsp_instance *t);

/* Distance between nodes i and j (0-based), exactly as TSPLIB defines it. */
int32_t tsplib_dist(const tsp_instance *t, int i, int j);
/* Fill an n*n row-major matrix with every distance. */
void tsplib_fill_matrix(const tsp_instance *t, int32_t *matrix);
/* Length of a closed tour of n 0-based node ids. */
int64_t tsplib_tour_length(const tsp_instance *t, const int32_t *tour);

/* Read a .opt.tour (TYPE: TOUR) file: a permutation of 1..n, returned
 * 0-based in a malloc'd array. Returns 0, or -1 with err filled. */
int tsplib_read_tour(const char *path, int32_t **tour, int *n,
                     char *err, size_t errlen);

#endif
