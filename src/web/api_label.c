/*
 * api_label.c - the label stage's endpoints (projects, tasks, annotations,
 * suggestions, review, stats, suggestion runs, prompt preview).  They wait
 * for the label library (src/label/label.h).
 */
#include "web_int.h"

#include "../core/banned.h"

void web_runs_join(struct web *w)
{
	(void)w;
}

const struct web_route web_label_routes[] = {
	{ NULL, NULL, 0, NULL },
};
