/* embed.c - finding the files built into the binary (embed.h). */
#include "embed.h"

#include <string.h>

#include "../core/banned.h"

const struct embed_file *embed_find(const char *path)
{
	if (!strcmp(path, "/"))
		path = "/index.html";
	for (const struct embed_file *f = embed_files; f->path; f++)
		if (!strcmp(f->path, path))
			return f;
	return NULL;
}
