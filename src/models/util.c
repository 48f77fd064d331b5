/*
 * util.c - the plumbing of the model kit: a small thread pool for hashing
 * and copying files in parallel, a progress counter those threads share,
 * and copying that hashes every byte on the way (one read per byte).
 */
#define _GNU_SOURCE
#include "models_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"

#include "core/banned.h"

int64_t now_unix(void)
{
	return (int64_t)time(NULL);
}

char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

int default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

struct pool {
	void (*fn)(void *arg, size_t i);
	void *arg;
	size_t n;
	size_t next;
	pthread_mutex_t lock;
};

static void *pool_worker(void *p_)
{
	struct pool *p = p_;
	for (;;) {
		size_t i;
		pthread_mutex_lock(&p->lock);
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			break;
		p->fn(p->arg, i);
	}
	return NULL;
}

void pool_run(int jobs, size_t n, void (*fn)(void *arg, size_t i), void *arg)
{
	struct pool p = { fn, arg, n, 0, PTHREAD_MUTEX_INITIALIZER };
	pthread_t th[64];
	int started = 0;
	if (jobs > 64)
		jobs = 64;
	if ((size_t)jobs > n)
		jobs = (int)n;
	for (int t = 1; t < jobs; t++)
		if (pthread_create(&th[started], NULL, pool_worker, &p) == 0)
			started++;
	pool_worker(&p);  /* this thread works too; with no threads it does it all */
	for (int t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	pthread_mutex_destroy(&p.lock);
}

void sp_init(struct shared_progress *p, models_progress_fn fn, void *arg, uint64_t total)
{
	pthread_mutex_init(&p->lock, NULL);
	p->done = p->last = 0;
	p->total = total;
	p->fn = fn;
	p->arg = arg;
	if (fn)
		fn(arg, 0, total);
}

void sp_add(struct shared_progress *p, uint64_t n)
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

void sp_finish(struct shared_progress *p)
{
	if (p->fn)
		p->fn(p->arg, p->done, p->total);
	pthread_mutex_destroy(&p->lock);
}

int hash_fd_range(int fd, const char *path, uint64_t off, uint64_t len, struct sha256 *h1,
		  struct sha256 *h2, struct shared_progress *sp, uint64_t *got,
		  struct moat_err *e)
{
	unsigned char *block = malloc(COPY_BLOCK);
	uint64_t total = 0;
	if (!block)
		return err_set(e, MOAT_ENOMEM, "out of memory");
#ifdef POSIX_FADV_SEQUENTIAL
	posix_fadvise(fd, (off_t)off, len == UINT64_MAX ? 0 : (off_t)len, POSIX_FADV_SEQUENTIAL);
#endif
	while (total < len) {
		size_t want = COPY_BLOCK;
		ssize_t n;
		if (len - total < want)
			want = (size_t)(len - total);
		n = pread(fd, block, want, (off_t)(off + total));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			free(block);
			return err_set(e, MOAT_EIO, "cannot read '%s': %s", path, strerror(saved));
		}
		if (n == 0)
			break;
		if (h1)
			sha256_update(h1, block, (size_t)n);
		if (h2)
			sha256_update(h2, block, (size_t)n);
		total += (uint64_t)n;
		sp_add(sp, (uint64_t)n);
	}
	free(block);
	*got = total;
	return 0;
}

int copy_to_tmp(const struct copy_src *src, size_t n_src, const char *dst, mode_t mode,
		uid_t uid, gid_t gid, struct sha256 *h1, char part_hex[SHA256_HEX],
		struct shared_progress *sp, char **tmp_out, struct moat_err *e)
{
	char *dir = fs_dirname(dst);
	const char *base = strrchr(dst, '/') ? strrchr(dst, '/') + 1 : dst;
	char *tmp = dir ? str_printf("%s/" MT_TMP_PREFIX "%s-XXXXXX", dir, base) : NULL;
	unsigned char *block = NULL;
	struct sha256 ph = { NULL };
	int fd = -1, sfd = -1;

	free(dir);
	*tmp_out = NULL;
	if (!tmp || !(block = malloc(COPY_BLOCK)))
		goto nomem;
	if (part_hex && sha256_init(&ph) < 0)
		goto nomem;
	fd = mkstemp(tmp);
	if (fd < 0) {
		err_set(e, MOAT_EIO, "cannot create a temporary file for '%s': %s", dst,
			strerror(errno));
		goto fail;
	}
	for (size_t s = 0; s < n_src; s++) {
		uint64_t total = 0, len = src[s].len, off = src[s].off;
		sfd = open(src[s].path, O_RDONLY | O_CLOEXEC);
		if (sfd < 0) {
			err_set(e, MOAT_EIO, "cannot open '%s': %s", src[s].path, strerror(errno));
			goto fail;
		}
#ifdef POSIX_FADV_SEQUENTIAL
		posix_fadvise(sfd, (off_t)off, len == UINT64_MAX ? 0 : (off_t)len,
			      POSIX_FADV_SEQUENTIAL);
#endif
		while (total < len) {
			size_t want = COPY_BLOCK;
			ssize_t n;
			if (len - total < want)
				want = (size_t)(len - total);
			n = pread(sfd, block, want, (off_t)(off + total));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				err_set(e, MOAT_EIO, "cannot read '%s': %s", src[s].path,
					strerror(errno));
				goto fail;
			}
			if (n == 0) {
				if (len == UINT64_MAX)
					break;
				err_set(e, MOAT_ECORRUPT, "'%s' ends after %llu bytes, expected %llu",
					src[s].path, (unsigned long long)(off + total),
					(unsigned long long)(off + len));
				goto fail;
			}
			if (h1)
				sha256_update(h1, block, (size_t)n);
			if (part_hex)
				sha256_update(&ph, block, (size_t)n);
			if (fs_write_all(fd, block, (size_t)n) < 0) {
				err_set(e, MOAT_EIO, "cannot write '%s': %s", tmp, strerror(errno));
				goto fail;
			}
			total += (uint64_t)n;
			sp_add(sp, (uint64_t)n);
		}
		close(sfd);
		sfd = -1;
	}
	if (fchmod(fd, mode) < 0 || (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) || fsync(fd) < 0) {
		err_set(e, MOAT_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(e, MOAT_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		unlink(tmp);
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
		unlink(tmp);
	}
	sha256_release(&ph);
	free(block);
	free(tmp);
	return -1;
}

int write_file_durable(const char *tmp_dir, const char *dst, const void *data, size_t len,
		       mode_t mode, uid_t uid, gid_t gid, int64_t mtime_sec, long mtime_nsec,
		       struct moat_err *e)
{
	const char *base = strrchr(dst, '/') ? strrchr(dst, '/') + 1 : dst;
	char *tmp = str_printf("%s/" MT_TMP_PREFIX "%s-XXXXXX", tmp_dir, base);
	int fd;
	if (!tmp)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		err_set(e, MOAT_EIO, "cannot create a temporary file in '%s': %s", tmp_dir,
			strerror(errno));
		free(tmp);
		return -1;
	}
	if (fs_write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0 ||
	    (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)) {
		err_set(e, MOAT_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (mtime_sec >= 0) {
		struct timespec ts[2];
		ts[0].tv_sec = ts[1].tv_sec = (time_t)mtime_sec;
		ts[0].tv_nsec = ts[1].tv_nsec = mtime_nsec;
		if (futimens(fd, ts) < 0) {
			err_set(e, MOAT_EIO, "cannot set the time of '%s': %s", tmp, strerror(errno));
			goto fail;
		}
	}
	if (fsync(fd) < 0) {
		err_set(e, MOAT_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(e, MOAT_EIO, "cannot write '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename_durable(tmp, dst, e) < 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

void store_owner(const char *models_dir, uid_t *uid, gid_t *gid)
{
	char *cur = strdup(models_dir);
	struct stat st;
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	while (cur) {
		if (stat(cur, &st) == 0) {
			if (geteuid() == 0 && st.st_uid != 0) {
				*uid = st.st_uid;
				*gid = st.st_gid;
			}
			break;
		}
		if (!strcmp(cur, "/") || !strcmp(cur, "."))
			break;
		char *up = fs_dirname(cur);
		free(cur);
		cur = up;
	}
	free(cur);
}

int store_lock(const char *models_dir, struct moat_err *e)
{
	char *p = fs_join(models_dir, ".moat-lock");
	int fd;
	if (!p)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_set(e, MOAT_EIO, "cannot open '%s': %s", p, strerror(errno));
		free(p);
		return -1;
	}
	free(p);
	{
		uid_t uid;
		gid_t gid;
		store_owner(models_dir, &uid, &gid);
		if (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) {
			/* the lock works all the same */
		}
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err_set(e, MOAT_EIO, "cannot lock the store '%s': %s", models_dir,
				strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

void remove_stale_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, MT_TMP_PREFIX, strlen(MT_TMP_PREFIX)))
			continue;
		char *p = fs_join(dir, de->d_name);
		if (p)
			unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
}

int rename_durable(const char *tmp, const char *dst, struct moat_err *e)
{
	char *dir;
	int rc;
	if (rename(tmp, dst) < 0)
		return err_set(e, MOAT_EIO, "cannot rename '%s' to '%s': %s", tmp, dst,
			       strerror(errno));
	dir = fs_dirname(dst);
	rc = dir ? fs_sync_dir(dir, e) : 0;
	free(dir);
	return rc;
}
