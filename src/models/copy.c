/*
 * copy.c - the plumbing of the model kit: copying that hashes every byte on
 * the way (one read per byte), durable small writes and renames, and the
 * progress counter that the copying threads share.  The _at functions work in
 * directories opened without following links (an Ollama store that another
 * user owns); temporary files are made new, never through a link.
 *
 * Not for: deciding what to copy (bundle.c, install.c, import.c) or running
 * copies in parallel (they use core/pool.h).
 */
#define _GNU_SOURCE
#include "models_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"

#include "core/banned.h"

void models_progress_init(struct models_progress *p, models_progress_fn fn, void *arg,
			  uint64_t total)
{
	pthread_mutex_init(&p->lock, NULL);
	p->done = p->last = 0;
	p->total = total;
	p->fn = fn;
	p->arg = arg;
	if (fn)
		fn(arg, 0, total);
}

void models_progress_add(struct models_progress *p, uint64_t n)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->done += n;
	if (p->fn && p->done - p->last >= (16u << 20)) {
		p->last = p->done;
		p->fn(p->arg, p->done, p->total);
	}
	pthread_mutex_unlock(&p->lock);
}

void models_progress_finish(struct models_progress *p)
{
	if (p->fn)
		p->fn(p->arg, p->done, p->total);
	pthread_mutex_destroy(&p->lock);
}

/* Reads len bytes of fd from off (UINT64_MAX: to the end) through block
 * (block_size bytes), feeding them to h1 and h2 and writing them to out_fd
 * (each if there); *got gets the count, which is short only when the file
 * is. */
static int pump(int fd, const char *path, uint64_t off, uint64_t len, unsigned char *block,
		size_t block_size, struct sha256 *h1, struct sha256 *h2, int out_fd,
		const char *out_path, struct models_progress *sp, uint64_t *got, struct moat_err *e)
{
	uint64_t total = 0;
#ifdef POSIX_FADV_SEQUENTIAL
	posix_fadvise(fd, (off_t)off, len == UINT64_MAX ? 0 : (off_t)len, POSIX_FADV_SEQUENTIAL);
#endif
	while (total < len) {
		size_t want = block_size;
		ssize_t n;
		if (len - total < want)
			want = (size_t)(len - total);
		n = pread(fd, block, want, (off_t)(off + total));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, MOAT_EIO, "cannot read '%s': %s", path, strerror(errno));
		if (n == 0)
			break;
		if (h1)
			sha256_update(h1, block, (size_t)n);
		if (h2)
			sha256_update(h2, block, (size_t)n);
		if (out_fd >= 0 && fs_write_all(out_fd, block, (size_t)n) < 0)
			return err_set(e, MOAT_EIO, "cannot write '%s': %s", out_path,
				       strerror(errno));
		total += (uint64_t)n;
		models_progress_add(sp, (uint64_t)n);
	}
	*got = total;
	return 0;
}

int models_hash_fd(int fd, const char *path, uint64_t off, uint64_t len, struct sha256 *h1,
		   struct sha256 *h2, struct models_progress *sp, uint64_t *got,
		   struct moat_err *e)
{
	unsigned char *block = malloc(HASH_BLOCK);
	int rc;
	if (!block)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	rc = pump(fd, path, off, len, block, HASH_BLOCK, h1, h2, -1, NULL, sp, got, e);
	free(block);
	return rc;
}

/* Creates MT_TMP_PREFIX<base>-XXXXXX in the directory dirfd, new (O_EXCL),
 * never through a link, mode 0600; *name gets its name (malloc'd).  Returns
 * the descriptor, or -1 with errno set (ENOMEM when out of memory). */
static int tmp_create(int dirfd, const char *base, char **name)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	*name = NULL;
	for (int tries = 0; tries < 100; tries++) {
		unsigned char r[6];
		char sfx[7];
		int fd;
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -1;
		for (int i = 0; i < 6; i++)
			sfx[i] = al[r[i] % (sizeof(al) - 1)];
		sfx[6] = '\0';
		if (asprintf(name, MT_TMP_PREFIX "%s-%s", base, sfx) < 0) {
			*name = NULL;
			errno = ENOMEM;
			return -1;
		}
		fd = openat(dirfd, *name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		free(*name);
		*name = NULL;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int models_copy_to_tmp_at(const struct models_copy_src *src, size_t n_src, int dirfd,
			  const char *dst, mode_t mode, uid_t uid, gid_t gid, struct sha256 *h1,
			  char part_hex[SHA256_HEX], struct models_progress *sp, char **tmp_out,
			  struct moat_err *e)
{
	const char *base = strrchr(dst, '/') ? strrchr(dst, '/') + 1 : dst;
	unsigned char *block = NULL;
	struct sha256 ph = { NULL };
	char *tmp = NULL;
	int fd = -1, sfd = -1;

	*tmp_out = NULL;
	if (!(block = malloc(COPY_BLOCK)))
		goto nomem;
	if (part_hex && sha256_init(&ph) < 0)
		goto nomem;
	fd = tmp_create(dirfd, base, &tmp);
	if (fd < 0) {
		if (errno == ENOMEM)
			goto nomem;
		err_set(e, MOAT_EIO, "cannot create a temporary file for '%s': %s", dst,
			strerror(errno));
		goto fail;
	}
	for (size_t s = 0; s < n_src; s++) {
		uint64_t got = 0, len = src[s].len, off = src[s].off;
		sfd = open(src[s].path, O_RDONLY | O_CLOEXEC);
		if (sfd < 0) {
			err_set(e, MOAT_EIO, "cannot open '%s': %s", src[s].path, strerror(errno));
			goto fail;
		}
		if (pump(sfd, src[s].path, off, len, block, COPY_BLOCK, h1, part_hex ? &ph : NULL, fd,
			 dst, sp, &got, e) < 0)
			goto fail;
		if (got < len && len != UINT64_MAX) {
			err_set(e, MOAT_ECORRUPT, "'%s' ends after %llu bytes, expected %llu",
				src[s].path, (unsigned long long)(off + got),
				(unsigned long long)(off + len));
			goto fail;
		}
		close(sfd);
		sfd = -1;
	}
	if (fchmod(fd, mode) < 0 || (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) || fsync(fd) < 0) {
		err_set(e, MOAT_EIO, "cannot write a temporary file for '%s': %s", dst,
			strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(e, MOAT_EIO, "cannot write a temporary file for '%s': %s", dst,
			strerror(errno));
		unlinkat(dirfd, tmp, 0);
		goto fail;
	}
	if (part_hex) {
		unsigned char d[SHA256_LEN];
		sha256_final(&ph, d);
		hex_encode(d, SHA256_LEN, part_hex);
	}
	free(block);
	*tmp_out = tmp;
	return 0;
nomem:
	err_set(e, MOAT_ENOMEM, "out of memory");
fail:
	if (sfd >= 0)
		close(sfd);
	if (fd >= 0) {
		close(fd);
		unlinkat(dirfd, tmp, 0);
	}
	sha256_release(&ph);
	free(block);
	free(tmp);
	return -1;
}

int models_copy_to_tmp(const struct models_copy_src *src, size_t n_src, const char *dst,
		       mode_t mode, uid_t uid, gid_t gid, struct sha256 *h1,
		       char part_hex[SHA256_HEX], struct models_progress *sp, char **tmp_out,
		       struct moat_err *e)
{
	char *dir = fs_dirname(dst), *name = NULL;
	int dfd, rc;
	*tmp_out = NULL;
	if (!dir)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err_set(e, MOAT_EIO, "cannot open '%s': %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	rc = models_copy_to_tmp_at(src, n_src, dfd, dst, mode, uid, gid, h1, part_hex, sp, &name, e);
	if (rc == 0 && !(*tmp_out = fs_join(dir, name))) {
		unlinkat(dfd, name, 0);
		rc = err_set(e, MOAT_ENOMEM, "out of memory");
	}
	close(dfd);
	free(name);
	free(dir);
	return rc;
}

int models_write_durable_at(int tmp_dirfd, int dirfd, const char *dst, const void *data,
			    size_t len, mode_t mode, uid_t uid, gid_t gid, int64_t mtime_sec,
			    long mtime_nsec, struct moat_err *e)
{
	const char *base = strrchr(dst, '/') ? strrchr(dst, '/') + 1 : dst;
	char *tmp;
	int fd = tmp_create(tmp_dirfd, base, &tmp);
	if (fd < 0) {
		if (errno == ENOMEM)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		return err_set(e, MOAT_EIO, "cannot create a temporary file for '%s': %s", dst,
			       strerror(errno));
	}
	if (fs_write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0 ||
	    (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)) {
		err_set(e, MOAT_EIO, "cannot write a temporary file for '%s': %s", dst,
			strerror(errno));
		goto fail;
	}
	if (mtime_sec >= 0) {
		struct timespec ts[2];
		ts[0].tv_sec = ts[1].tv_sec = (time_t)mtime_sec;
		ts[0].tv_nsec = ts[1].tv_nsec = mtime_nsec;
		if (futimens(fd, ts) < 0) {
			err_set(e, MOAT_EIO, "cannot set the time of a temporary file for '%s': %s",
				dst, strerror(errno));
			goto fail;
		}
	}
	if (fsync(fd) < 0) {
		err_set(e, MOAT_EIO, "cannot write a temporary file for '%s': %s", dst,
			strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(e, MOAT_EIO, "cannot write a temporary file for '%s': %s", dst,
			strerror(errno));
		goto fail;
	}
	fd = -1;
	if (models_rename_at(tmp_dirfd, tmp, dirfd, dst, e) < 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(tmp_dirfd, tmp, 0);
	free(tmp);
	return -1;
}

int models_rename_at(int from_dirfd, const char *from, int dirfd, const char *dst,
		     struct moat_err *e)
{
	const char *base = strrchr(dst, '/') ? strrchr(dst, '/') + 1 : dst;
	if (renameat(from_dirfd, from, dirfd, base) < 0)
		return err_set(e, MOAT_EIO, "cannot rename '%s' to '%s': %s", from, dst,
			       strerror(errno));
	if (fsync(dirfd) < 0)
		return err_set(e, MOAT_EIO, "cannot sync the directory of '%s': %s", dst,
			       strerror(errno));
	return 0;
}

int models_rename_durable(const char *tmp, const char *dst, struct moat_err *e)
{
	char *dir = fs_dirname(dst);  /* first: out of memory must leave tmp as it is */
	int dfd, rc;
	if (!dir)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		rc = err_set(e, MOAT_EIO, "cannot open '%s': %s", dir, strerror(errno));
	else
		rc = models_rename_at(AT_FDCWD, tmp, dfd, dst, e);
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return rc;
}
