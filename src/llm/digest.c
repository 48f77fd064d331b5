/*
 * digest.c - the SHA-256 of a model file for provenance, hashed once per
 * version of the file: the result is remembered in <cache>/digests (cache =
 * $MOAT_CACHE, else $XDG_CACHE_HOME/moat, else ~/.cache/moat) keyed by device,
 * inode, size and modification time, so opening a 40 GB model the second time
 * costs nothing.  An Ollama blob is named by its digest already and is never
 * hashed here (models fsck checks those names).
 */
#include "internal.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/datadir.h"
#include "../core/fs.h"
#include "../core/hash.h"

#include "../core/banned.h"

static char *cache_file(void)
{
	return datadir_cache("digests");
}

static char *ret_digest(const char *hex)
{
	char *d = malloc(72);
	if (d)
		snprintf(d, 72, "sha256:%.64s", hex);
	return d;
}

char *llm_file_digest(const char *path, struct moat_err *e)
{
	struct stat st;
	const char *base = strrchr(path, '/');
	char key[160], hex[65];
	char *cf;
	struct buf b = BUF_INIT;
	unsigned char raw[SHA256_LEN];

	base = base ? base + 1 : path;
	if (!strncmp(base, "sha256-", 7) && strlen(base) == 71) {
		size_t k = 7;
		while (k < 71 && strchr("0123456789abcdef", base[k]))
			k++;
		if (k == 71)
			return ret_digest(base + 7);
	}
	if (stat(path, &st) < 0) {
		err_set(e, MOAT_EIO, "cannot open '%s'", path);
		return NULL;
	}
	snprintf(key, sizeof(key), "%ju %ju %jd %jd.%09ld ", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
		 (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
	cf = cache_file();
	if (cf && fs_read_file(cf, &b, 16u << 20, NULL) == 0) {
		size_t kl = strlen(key);
		const char *p = buf_str(&b);
		while (p && *p) {
			const char *nl = strchr(p, '\n');
			if (!strncmp(p, key, kl) && (nl ? (size_t)(nl - p) : strlen(p)) >= kl + 64) {
				memcpy(hex, p + kl, 64);
				hex[64] = '\0';
				buf_release(&b);
				free(cf);
				return ret_digest(hex);
			}
			p = nl ? nl + 1 : NULL;
		}
	}
	buf_release(&b);
	if (sha256_file(path, raw, NULL, e) < 0) {
		free(cf);
		return NULL;
	}
	hex_encode(raw, SHA256_LEN, hex);
	if (cf) {
		char *dir = fs_dirname(cf);
		if (dir && fs_mkdirs(dir, 0755, NULL) == 0) {
			int fd = open(cf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
			if (fd >= 0) {
				char line[4400];
				int n = snprintf(line, sizeof(line), "%s%s %s\n", key, hex, path);
				if (n > 0 && (size_t)n < sizeof(line))
					(void)fs_write_all(fd, line, (size_t)n);
				close(fd);
			}
		}
		free(dir);
		free(cf);
	}
	return ret_digest(hex);
}
