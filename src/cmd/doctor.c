/* doctor.c - `moat doctor`: the deployment checklist. */
#include "cmd.h"

int cmd_doctor(struct cmd_ctx *ctx)
{
	(void)ctx;
	return cmd_usage("doctor: not built yet");
}
