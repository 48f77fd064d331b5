/* testutil.c - helpers shared by the unit tests. */
#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	char *p;
	if (asprintf(&p, "%s/moat-test-XXXXXX", t && *t ? t : "/tmp") < 0)
		fail_msg("out of memory");
	if (!mkdtemp(p))
		fail_msg("cannot create a temporary directory");
	return p;
}

void tu_rmtree(const char *path)
{
	char *cmd;
	if (!path)
		return;
	if (asprintf(&cmd, "rm -rf '%s'", path) >= 0) {
		if (system(cmd) != 0)
			fprintf(stderr, "warning: cannot remove %s\n", path);
		free(cmd);
	}
}

char *tu_testdata(const char *rel)
{
	const char *base = getenv("MOAT_TESTDATA");
	const char *ci = getenv("CI");
	char *p;
	if (!base || !*base)
		base = getenv("MOAT_TESTDATA_DEFAULT");
	if (!base || !*base)
		base = "../shared";
	if (asprintf(&p, "%s/%s", base, rel) < 0)
		fail_msg("out of memory");
	if (access(p, R_OK) != 0) {
		if (ci && !strcmp(ci, "true"))
			fail_msg("test data '%s' is missing (set MOAT_TESTDATA)", p);
		free(p);
		skip();
		return NULL;
	}
	return p;
}

void tu_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}
