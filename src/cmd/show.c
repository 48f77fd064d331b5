/* show.c - `moat show DOC`: one document's elements with types, offsets, metadata. */
#include "cmd.h"
#include "../store/store.h"

#include <string.h>

#include "../core/fmt.h"
#include "../core/banned.h"

int cmd_show(struct cmd_ctx *ctx)
{
	struct moat_err e = MOAT_ERR_INIT;
	int as_json = 0;
	const char *ref = NULL;
	json_t *doc, *el, *paths, *p;
	size_t i;
	for (int k = 1; k < ctx->argc; k++) {
		if (!strcmp(ctx->argv[k], "--json"))
			as_json = 1;
		else if (!strcmp(ctx->argv[k], "--help") || !strcmp(ctx->argv[k], "-h")) {
			printf("usage: moat show DOC [--json]\n\nDOC is a document id, a unique id prefix "
			       "(4+ hex digits) or an ingested path.\n");
			return 0;
		} else if (ctx->argv[k][0] == '-')
			return cmd_usage("show: unknown option '%s'", ctx->argv[k]);
		else if (!ref)
			ref = ctx->argv[k];
		else
			return cmd_usage("usage: moat show DOC [--json]");
	}
	if (!ref)
		return cmd_usage("usage: moat show DOC [--json]");
	doc = store_show(ctx->store, ref, &e);
	if (!doc)
		return cmd_fail(&e);
	if (as_json) {
		cmd_print_json(doc);
		return 0;
	}
	printf("id        %s\n", json_string_value(json_object_get(doc, "id")));
	paths = json_object_get(doc, "paths");
	json_array_foreach(paths, i, p) {
		fputs("path      ", stdout);
		cmd_put_path(stdout, json_string_value(p));
		fputc('\n', stdout);
	}
	printf("type      %s (%s)\n", json_string_value(json_object_get(doc, "type")),
	       json_string_value(json_object_get(doc, "mime")) ? json_string_value(json_object_get(doc, "mime")) : "-");
	printf("size      %lld bytes, encoding %s\n",
	       (long long)json_integer_value(json_object_get(doc, "size")),
	       json_string_value(json_object_get(doc, "encoding")) ? json_string_value(json_object_get(doc, "encoding")) : "-");
	printf("elements  %lld, text %lld code points\n\n",
	       (long long)json_integer_value(json_object_get(doc, "n_elements")),
	       (long long)json_integer_value(json_object_get(doc, "text_length")));
	json_array_foreach(json_object_get(doc, "elements"), i, el) {
		const char *t = json_string_value(json_object_get(el, "type"));
		json_t *lvl = json_object_get(el, "level");
		char label[48];
		/* the longest type name is 10 bytes and a level 20 digits: it fits */
		if ((lvl ? xsnprintf(label, sizeof(label), "%s/%lld", t,
				     (long long)json_integer_value(lvl))
			 : xsnprintf(label, sizeof(label), "%s", t)) < 0)
			label[0] = '\0';
		printf("%4lld %-12s [%lld,%lld) ", (long long)json_integer_value(json_object_get(el, "seq")),
		       label, (long long)json_integer_value(json_object_get(el, "start")),
		       (long long)json_integer_value(json_object_get(el, "end")));
		cmd_put_text(stdout, json_string_value(json_object_get(el, "text")));
		fputc('\n', stdout);
	}
	json_decref(doc);
	return 0;
}
