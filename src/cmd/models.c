/* models.c - `moat models ...` and `moat keys ...` (the model kit). */
#include "cmd.h"

int cmd_models(struct cmd_ctx *ctx)
{
	(void)ctx;
	return cmd_usage("models: not built yet");
}

int cmd_keys(struct cmd_ctx *ctx)
{
	(void)ctx;
	return cmd_usage("keys: not built yet");
}
