/*
 * testutil.h - what unit tests share: cmocka's headers in the right order,
 * temporary directories, and the shared test data (MOAT_TESTDATA, default
 * ../shared), which is a failure under CI=true when missing, a skip otherwise.
 */
#ifndef MOAT_TESTUTIL_H
#define MOAT_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* A fresh empty directory under $TMPDIR (malloc'd); removed by tu_rmtree. */
char *tu_tmpdir(void);
void tu_rmtree(const char *path);
/* Path of a file under the shared test data (malloc'd), or NULL after
 * skip()/fail() when the data is missing. */
char *tu_testdata(const char *rel);
/* Writes a file; asserts on failure. */
void tu_write(const char *path, const void *data, size_t len);

#endif
