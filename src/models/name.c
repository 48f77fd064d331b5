/*
 * name.c - Ollama model names: parsing "host/ns/model:tag" with Ollama's
 * defaults and part rules (types/model/name.go), and the two ways of writing
 * a name back (short display form, manifest path).
 */
#include "models.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/banned.h"

enum part_kind { PART_HOST, PART_NS, PART_MODEL, PART_TAG };

static int part_valid(const char *s, size_t len, enum part_kind k)
{
	size_t max = k == PART_HOST ? 350 : 80;
	if (len < 1 || len > max)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '_')
			continue;
		if (i == 0)
			return 0;
		if (c == '-')
			continue;
		if (c == '.' && k != PART_NS)
			continue;
		if (c == ':' && k == PART_HOST)
			continue;
		return 0;
	}
	return 1;
}

static int set_part(char *dst, size_t cap, const char *s, size_t len, enum part_kind k,
		    const char *whole, struct moat_err *e)
{
	static const char *what[] = { "host", "namespace", "model", "tag" };
	if (!part_valid(s, len, k) || len >= cap)
		return err_set(e, MOAT_EUSAGE, "invalid model name '%s': bad %s '%.*s'", whole,
			       what[k], (int)(len > 80 ? 80 : len), s);
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

int model_name_parse(const char *s, struct model_name *n, struct moat_err *e)
{
	const char *p = s, *end, *slash, *colon;
	memset(n, 0, sizeof(*n));
	if (!s || !*s)
		return err_set(e, MOAT_EUSAGE, "empty model name");
	if (strchr(s, '@'))  /* a digest suffix: take the name before it */
		end = strchr(s, '@');
	else
		end = s + strlen(s);
	{
		const char *sch = strstr(s, "://");
		if (sch && sch < end)
			p = sch + 3;
	}
	slash = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '/')
			slash = q;
	colon = NULL;
	for (const char *q = slash ? slash : p; q < end; q++)
		if (*q == ':')
			colon = q;
	if (colon) {
		if (set_part(n->tag, sizeof(n->tag), colon + 1, (size_t)(end - colon - 1), PART_TAG,
			     s, e) < 0)
			return -1;
		end = colon;
	} else {
		memcpy(n->tag, "latest", 7);
	}
	/* model */
	slash = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '/')
			slash = q;
	if (set_part(n->model, sizeof(n->model), slash ? slash + 1 : p,
		     (size_t)(end - (slash ? slash + 1 : p)), PART_MODEL, s, e) < 0)
		return -1;
	if (!slash) {
		memcpy(n->ns, "library", 8);
		memcpy(n->host, "registry.ollama.ai", 19);
		return 0;
	}
	end = slash;
	slash = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '/')
			slash = q;
	if (set_part(n->ns, sizeof(n->ns), slash ? slash + 1 : p,
		     (size_t)(end - (slash ? slash + 1 : p)), PART_NS, s, e) < 0)
		return -1;
	if (!slash) {
		memcpy(n->host, "registry.ollama.ai", 19);
		return 0;
	}
	return set_part(n->host, sizeof(n->host), p, (size_t)(slash - p), PART_HOST, s, e);
}

char *model_name_display(const struct model_name *n)
{
	size_t len = strlen(n->host) + strlen(n->ns) + strlen(n->model) + strlen(n->tag) + 8;
	char *r = malloc(len);
	if (!r)
		return NULL;
	if (strcasecmp(n->host, "registry.ollama.ai"))
		snprintf(r, len, "%s/%s/%s:%s", n->host, n->ns, n->model, n->tag);
	else if (strcasecmp(n->ns, "library"))
		snprintf(r, len, "%s/%s:%s", n->ns, n->model, n->tag);
	else
		snprintf(r, len, "%s:%s", n->model, n->tag);
	return r;
}

char *model_name_relpath(const struct model_name *n)
{
	size_t len = strlen(n->host) + strlen(n->ns) + strlen(n->model) + strlen(n->tag) + 8;
	char *r = malloc(len);
	if (r)
		snprintf(r, len, "%s/%s/%s/%s", n->host, n->ns, n->model, n->tag);
	return r;
}
