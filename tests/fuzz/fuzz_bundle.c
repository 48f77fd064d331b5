/*
 * fuzz_bundle.c - libFuzzer target for what `moat models verify` and
 * `moat models install` read from removable media: bundle.json and
 * SHA256SUMS, and the manifests and blobs they name.  The input is written as
 * a small bundle directory (sections "%% rel/path", fuzz_annot.h; the default
 * file is bundle.json); any bytes must give a verdict or an error, never a
 * crash, a leak or a read out of bounds.  A verdict of "ok" must mean no
 * problem was found, and a bundle that verifies must install into an empty
 * store, inside that store.
 */
#include "fuzz_annot.h"
#include "models/models.h"

#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[] = "/tmp/moat-fuzz-bundle-XXXXXX", store[] = "/tmp/moat-fuzz-store-XXXXXX";
	struct verify_opts vo = verify_default_opts();
	struct moat_err e = MOAT_ERR_INIT;
	json_t *res;
	int status, ok;
	if (!mkdtemp(dir))
		return 0;
	fuzz_layout(dir, data, size, "bundle.json");
	vo.dir = dir;
	res = models_verify(&vo, &status, &e);
	if (!res) {
		fuzz_rmtree(dir);
		return 0;
	}
	ok = json_is_true(json_object_get(res, "ok"));
	if (ok != (status == VERIFY_OK) ||
	    (ok && json_array_size(json_object_get(res, "problems"))))
		abort();
	json_decref(res);
	if (ok && mkdtemp(store)) {
		struct install_opts io = install_default_opts();
		err_clear(&e);
		io.dir = dir;
		io.models_dir = store;
		res = models_install(&io, &status, &e);
		/* verified once, the same bytes install (or fail with a reason) */
		if ((!res && !e.msg[0]) || (res && status != VERIFY_OK))
			abort();
		json_decref(res);
		fuzz_rmtree(store);
	}
	fuzz_rmtree(dir);
	return 0;
}
