/* The metrics of `nerox serve` (GET /metrics), on the registry of
 * util/metrics.h: requests by route, method and status; request time by
 * route; jobs by final status; jobs queued and running; job run time;
 * GPU- and CPU-seconds; rate-limit rejections by limit. Names are listed
 * in docs/metrics.md. */
#ifndef NEROX_SRV_METRICS_H
#define NEROX_SRV_METRICS_H

#include <stddef.h>

typedef struct srv_metrics srv_metrics;

srv_metrics *srv_metrics_new(char *err, size_t errlen);
void srv_metrics_free(srv_metrics *m);

/* One answered request; route is the route's pattern ("/v1/jobs/:id"),
 * or "unmatched". */
void srv_metrics_request(srv_metrics *m, const char *route,
                         const char *method, int status, double seconds);
/* A job that ended in state after run_s seconds on kind ("gpu"/"cpu"). */
void srv_metrics_job_done(srv_metrics *m, const char *state, double run_s,
                          const char *kind);
/* A request refused by limit ("requests_per_minute", ...). */
void srv_metrics_rejected(srv_metrics *m, const char *limit);
/* The whole text, with the queue gauges set to queued and running;
 * malloc'd, NULL when out of memory. */
char *srv_metrics_render(srv_metrics *m, size_t queued, size_t running);

#endif
