/* Monotonic and wall clocks in seconds. */
#ifndef NEROX_CLOCK_H
#define NEROX_CLOCK_H

#include <time.h>

static inline double clock_mono_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double clock_wall_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Absolute CLOCK_REALTIME deadline `s` seconds from now. */
static inline struct timespec clock_deadline(double s)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long long ns = (long long)ts.tv_nsec + (long long)((s - (long long)s) * 1e9);
  ts.tv_sec += (time_t)s + (time_t)(ns / 1000000000LL);
  ts.tv_nsec = (long)(ns % 1000000000LL);
  return ts;
}

#endif
