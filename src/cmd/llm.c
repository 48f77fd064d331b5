/* llm.c - `moat llm ...` (the model layer). */
#include "cmd.h"

int cmd_llm(struct cmd_ctx *ctx)
{
	(void)ctx;
	return cmd_usage("llm: not built yet");
}
