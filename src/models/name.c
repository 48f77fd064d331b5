/*
 * name.c - Ollama model names: parsing "host/ns/model:tag" with Ollama's
 * defaults and part rules (types/model/name.go), the two ways of writing a
 * name back (short display form, manifest path), and reading a manifest path
 * back as a name.  Not for: finding a name in a store (ollama_store.c).
 */
#include "models.h"
#include "core/fmt.h"

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
	char *r;
	int rc;
	if (strcasecmp(n->host, "registry.ollama.ai"))
		rc = asprintf(&r, "%s/%s/%s:%s", n->host, n->ns, n->model, n->tag);
	else if (strcasecmp(n->ns, "library"))
		rc = asprintf(&r, "%s/%s:%s", n->ns, n->model, n->tag);
	else
		rc = asprintf(&r, "%s:%s", n->model, n->tag);
	return rc < 0 ? NULL : r;
}

char *model_name_relpath(const struct model_name *n)
{
	char *r;
	if (asprintf(&r, "%s/%s/%s/%s", n->host, n->ns, n->model, n->tag) < 0)
		return NULL;
	return r;
}

int model_name_from_relpath(const char *rel, struct model_name *n, struct moat_err *e)
{
	const char *part[4];
	size_t len[4];
	const char *p = rel;
	char full[sizeof(n->host) + sizeof(n->ns) + sizeof(n->model) + sizeof(n->tag)];
	for (int k = 0; k < 4; k++) {
		const char *slash = strchr(p, '/');
		if ((k < 3) != (slash != NULL))
			return err_set(e, MOAT_EUSAGE, "'%s' is not host/namespace/model/tag", rel);
		part[k] = p;
		len[k] = slash ? (size_t)(slash - p) : strlen(p);
		p += len[k] + 1;
	}
	/* parsed as "host/ns/model:tag", it must give back the same four parts */
	if (xsnprintf(full, sizeof(full), "%.*s/%.*s/%.*s:%.*s", (int)len[0], part[0],
		      (int)len[1], part[1], (int)len[2], part[2], (int)len[3], part[3]) < 0)
		return err_set(e, MOAT_EUSAGE, "'%s' is too long for a model name", rel);
	if (model_name_parse(full, n, e) < 0)
		return -1;
	if (strlen(n->host) != len[0] || memcmp(n->host, part[0], len[0]) ||
	    strlen(n->ns) != len[1] || memcmp(n->ns, part[1], len[1]) ||
	    strlen(n->model) != len[2] || memcmp(n->model, part[2], len[2]) ||
	    strlen(n->tag) != len[3] || memcmp(n->tag, part[3], len[3]))
		return err_set(e, MOAT_EUSAGE, "'%s' is not the manifest path of a model name", rel);
	return 0;
}
