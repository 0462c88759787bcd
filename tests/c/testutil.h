/* A tiny assertion kit for the C unit tests: each failed check prints the
 * file and line and marks the test failed; main returns test_report(). */
#ifndef NEROX_TESTUTIL_H
#define NEROX_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond) do { \
    test_checks++; \
    if (!(cond)) { \
      test_failures++; \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    } \
  } while (0)

#define CHECK_EQ_INT(a, b) do { \
    long long va_ = (long long)(a), vb_ = (long long)(b); \
    test_checks++; \
    if (va_ != vb_) { \
      test_failures++; \
      fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
              __FILE__, __LINE__, #a, va_, #b, vb_); \
    } \
  } while (0)

#define CHECK_CONTAINS(haystack, needle) do { \
    test_checks++; \
    if (!strstr((haystack), (needle))) { \
      test_failures++; \
      fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", \
              __FILE__, __LINE__, (haystack), (needle)); \
    } \
  } while (0)

/* Folder of the public instances: $NEROX_DATA_DIR or ../shared/data. */
static inline const char *test_data_dir(void)
{
  const char *d = getenv("NEROX_DATA_DIR");
  return d && *d ? d : "../shared/data";
}

static inline int test_report(const char *name)
{
  printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
  return test_failures ? 1 : 0;
}

#endif
