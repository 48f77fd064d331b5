/*
 * fuzz_export_verify.c - libFuzzer target for what `moat exports verify DIR`
 * and `moat audit verify --file` read from outside: an export directory's
 * MANIFEST, audit/trail.jsonl and audit/export.json.  The input is written as
 * a small directory (sections "%% rel/path", fuzz_annot.h; the default file
 * is MANIFEST); any bytes must give a verdict or an error, never a crash or a
 * leak, and a verdict of "intact" must mean what it says: every line of the
 * trail chains to the one before.  The same bytes are also checked as a
 * trail slice on their own.
 */
#include "fuzz_annot.h"
#include "export/export.h"
#include "store/audit.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[] = "/tmp/moat-fuzz-export-XXXXXX";
	struct export_check c;
	struct audit_check ac;
	struct moat_err e = MOAT_ERR_INIT;
	if (audit_verify_slice((const char *)data, size, NULL, &ac, &e) == 0 && ac.ok &&
	    (ac.records < 1 || strlen(ac.head) != 64))
		abort();
	err_clear(&e);
	if (!mkdtemp(dir))
		return 0;
	fuzz_layout(dir, data, size, "MANIFEST");
	if (export_verify(dir, NULL, NULL, &c, &e) == 0 && c.ok && c.problems)
		abort();
	fuzz_rmtree(dir);
	return 0;
}
