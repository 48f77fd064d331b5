/*
 * doctor.h - the deployment checklist of an air-gapped Ollama target, run in
 * one call: GPUs and CUDA, the model store, the server's environment, the
 * server itself, and a test inference per model with its speed, GPU use and
 * memory fit.  Each check ends ok, warn or fail, with a fix for each fail.
 *
 * Not for printing (src/cmd/doctor.c prints), nor for repairing anything:
 * doctor only reads, runs nvidia-smi/nvcc, and talks to the server on
 * loopback (or a host named in cfg.allow_hosts).  Not part of the model
 * layer: it is one of its users.
 *
 * May use: llm/llm.h (the model layer's public interface: opening models,
 * the loopback rule, llm_server_json for the server's own API), models/
 * (the store: list, fsck), core/; /proc and the programs it runs.  Nothing
 * in src/llm/ beyond llm.h, and no stage.
 */
#ifndef MOAT_DOCTOR_H
#define MOAT_DOCTOR_H

#include <stddef.h>

#include <jansson.h>

#include "../llm/llm.h"
#include "../models/golden.h"

struct doctor_opts {
	const char *models_dir;      /* NULL: the server's OLLAMA_MODELS when readable, else
					OLLAMA_MODELS, else ~/.ollama/models of the server's user */
	const char *ollama_url;      /* NULL: from OLLAMA_HOST (127.0.0.1:11434) */
	const char *const *models;   /* models to test; none: each one the server lists */
	size_t n_models;
	int no_models;               /* skip the per-model checks */
	const struct llm_config *cfg;
	/* --golden BUNDLE: only rerun the bundle's known-good prompts (golden.h),
	 * one check per model; models[] are then URIs ("NAME=URI" or one for
	 * all), and an answer passes when its similarity is at least
	 * golden_tolerance.  The result gets "golden": the whole report. */
	const char *golden_bundle;
	double golden_tolerance;
	/* Called as each check ends (may be NULL), for a live display. */
	void (*on_check)(void *ud, json_t *check);
	void *ud;
};

/* {"ok":bool, "counts":{"ok":N,"warn":N,"fail":N}, "checks":[{"group",
 * "check", "status":"ok"|"warn"|"fail", "message", "fix"?}]}.  Never NULL
 * except when out of memory (a check that could not be made or kept). */
json_t *doctor_run(const struct doctor_opts *o) __attribute__((warn_unused_result));

/* The model layer as a runner of golden prompts (models/golden.h): each
 * model opened with cfg (borrowed: it must outlive the runner), one sequence,
 * the golden context; each answer greedy (temperature 0, top-k 1) with the
 * golden seed, its pieces recorded as the model produced them.  Used by
 * `moat doctor --golden`, `moat models bundle --golden`, `verify --golden`
 * and `moat models diff`. */
struct golden_runner doctor_golden_runner(const struct llm_config *cfg);

#endif
