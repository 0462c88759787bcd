/* Shared by the file-reader tests (tsplib, rudy, bqp): the check of a
 * "FILE:LINE: reason" error, and a walk over a folder of broken files
 * with the error each must give. */
#ifndef NEROX_TEST_FORMATS_H
#define NEROX_TEST_FORMATS_H

#include <dirent.h>

#include "testutil.h"

#define TEST_FORMATS_ERRLEN 512

/* err starts with "label:line: " and contains word; what names the case
 * when it does not. */
static void check_bad(const char *what, const char *err, const char *label,
                      int line, const char *word)
{
  char prefix[1100];

  snprintf(prefix, sizeof prefix, "%s:%d: ", label, line);
  CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
  CHECK_CONTAINS(err, word);
  if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, word))
    fprintf(stderr, "  case %s: got \"%s\"\n", what, err);
}

/* A broken file and the error it must give. */
typedef struct test_bad_file {
  const char *file;
  int line;
  const char *word;
} test_bad_file;

/* Reads path (named name) and returns the reader's code, checking that
 * it returned no data; err gets the message. */
typedef int (*test_bad_reader)(const char *path, const char *name,
                               char *err, size_t errlen);

/* Every file of src/tests/data/folder must be in table, be refused by
 * read (-1) with its line and word, and every entry must be there. */
static void test_each_bad_file(const char *src, const char *folder,
                               const test_bad_file *table, size_t n,
                               test_bad_reader read)
{
  char dir[1024], path[1300], err[TEST_FORMATS_ERRLEN];
  struct dirent *e;
  size_t count = 0;
  DIR *d;

  snprintf(dir, sizeof dir, "%s/tests/data/%s", src, folder);
  d = opendir(dir);
  CHECK(d != NULL);
  if (!d)
    return;
  while ((e = readdir(d)) != NULL) {
    size_t k = 0;
    if (e->d_name[0] == '.')
      continue;
    while (k < n && strcmp(table[k].file, e->d_name) != 0)
      k++;
    CHECK(k < n);
    if (k == n)
      continue;
    count++;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    CHECK_EQ_INT(read(path, e->d_name, err, sizeof err), -1);
    check_bad(e->d_name, err, path, table[k].line, table[k].word);
  }
  closedir(d);
  CHECK_EQ_INT(count, n);
}

#endif
