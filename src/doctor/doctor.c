/*
 * doctor.c - `moat doctor`'s checks (see doctor.h).  It reads what the
 * machine says about itself: nvidia-smi and nvcc for the GPU lines, the store
 * on disk (models_fsck --quick, permissions for the user the server runs as,
 * free space), /proc/net/tcp{,6} for the sockets the server listens on and the
 * user that owns them, /proc/PID/environ for the server's own environment
 * (when it may be read; otherwise this process's), and the server's API for
 * the rest, through the model layer's public interface.  Nothing is changed
 * anywhere.
 */
#define _DEFAULT_SOURCE  /* getgrouplist */
#include "doctor.h"
#include "../ingest/ingest.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/fmt.h"
#include "../core/fs.h"
#include "../core/jsonu.h"
#include "../models/models.h"

#include "../core/banned.h"

#define GIB (1024.0 * 1024.0 * 1024.0)
#define MAX_LISTEN 16

struct listener {
	char addr[64];
	int loopback;
	long uid;
	unsigned long inode;
};

struct gpu {
	char name[128];
	double total_mib, free_mib, util;
	char driver[32];
	double cc;   /* compute capability, 0 unknown */
};

struct dctx {
	const struct doctor_opts *o;
	struct llm_config cfg;
	json_t *checks;
	int n_ok, n_warn, n_fail;
	int nomem;               /* a check was lost for want of memory */
	/* GPU facts */
	int ngpu;
	struct gpu gpus[16];
	double vram_free_mib, vram_total_mib;
	/* the server */
	char *url;
	char hp[LLM_HOSTPORT_MAX];
	int port;
	int local;               /* the server is on this machine (loopback) */
	int server_up;
	struct listener ls[MAX_LISTEN];
	int nls;
	long server_uid;
	long server_pid;
	char *env_blob;          /* the server's environ (NUL-separated), or NULL */
	size_t env_len;
	char *store;
	json_t *tags;            /* the server's /api/tags models */
	json_t *golden;          /* --golden: golden_check_bundle's report */
};

static void add(struct dctx *d, const char *group, const char *check, const char *status, const char *fix,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void add(struct dctx *d, const char *group, const char *check, const char *status, const char *fix,
		const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	json_t *c = json_object();
	int bad = !c;
	va_start(ap, fmt);
	buf_addvf(&msg, fmt, ap);
	va_end(ap);
	if (!strcmp(status, "ok"))
		d->n_ok++;
	else if (!strcmp(status, "warn"))
		d->n_warn++;
	else
		d->n_fail++;
	/* messages carry paths and the environment's values: any bytes */
	bad = bad || buf_failed(&msg) || json_object_set_new(c, "group", jsonu_string(group)) < 0 ||
	      json_object_set_new(c, "check", json_string(check)) < 0 ||
	      json_object_set_new(c, "status", json_string(status)) < 0 ||
	      json_object_set_new(c, "message", jsonu_string(buf_str(&msg))) < 0 ||
	      (fix && strcmp(status, "ok") && json_object_set_new(c, "fix", jsonu_string(fix)) < 0);
	buf_release(&msg);
	if (bad || json_array_append(d->checks, c) < 0) {
		json_decref(c);
		d->nomem = 1;
		return;
	}
	if (d->o->on_check)
		d->o->on_check(d->o->ud, c);
	json_decref(c);
}

/* Copies n bytes of src (at most size - 1) into dst[size]: a field of a
 * program's output, cut to fit on purpose. */
static void copy_cut(char *dst, size_t size, const char *src, size_t n)
{
	if (n > size - 1)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ---- running programs ---- */

/* The path of an executable prog on PATH (malloc'd), or NULL. */
static char *find_on_path(struct dctx *d, const char *prog)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char *f;
		struct stat st;
		if (asprintf(&f, "%.*s/%s", (int)n, n ? path : ".", prog) < 0) {
			d->nomem = 1;
			return NULL;
		}
		if (access(f, X_OK) == 0 && stat(f, &st) == 0 && S_ISREG(st.st_mode))
			return f;
		free(f);
		path += n;
		if (*path == ':')
			path++;
	}
	return NULL;
}

/* Runs a program with arguments (a shell command line: the caller quotes),
 * collecting stdout and stderr; returns the exit status (or -1 when it could
 * not run). */
static int run_capture(struct dctx *d, struct buf *out, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int run_capture(struct dctx *d, struct buf *out, const char *fmt, ...)
{
	char line[4096], *cmd;
	va_list ap;
	FILE *p;
	int st, n;
	va_start(ap, fmt);
	n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0) {
		d->nomem = 1;
		return -1;
	}
	buf_reset(out);
	p = popen(cmd, "r");
	free(cmd);
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		buf_adds(out, line);
	st = pclose(p);
	if (buf_failed(out))
		d->nomem = 1;
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* The first line of s into out[size], cut to fit. */
static void first_line(const char *s, char *out, size_t size)
{
	copy_cut(out, size, s, strcspn(s, "\n"));
}

/* "12.4" -> 12.4; "550.54.15" -> 550 (major) */
static double version_num(const char *s)
{
	return s ? strtod(s, NULL) : 0;
}

/* ---- GPU ---- */

static void trim(char *s)
{
	size_t n = strlen(s);
	char *p = s;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	while (*p == ' ')
		p++;
	memmove(s, p, strlen(p) + 1);
}

static int split_csv(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;
	while (p && n < max) {
		char *c = strchr(p, ',');
		if (c)
			*c = '\0';
		trim(p);
		f[n++] = p;
		p = c ? c + 1 : NULL;
	}
	return n;
}

static void check_gpu(struct dctx *d)
{
	char *smi = find_on_path(d, "nvidia-smi"), *nvcc = find_on_path(d, "nvcc");
	struct buf out = BUF_INIT;
	char cuda[32] = "", nvcc_ver[32] = "", l1[300];
	int rc, have_cc = 1;

	if (!smi) {
		add(d, "gpu", "gpu", "warn", "if the machine has an NVIDIA GPU, install its driver (nvidia-smi comes with it)",
		    "no NVIDIA GPU found (nvidia-smi is not on PATH): inference will run on the CPU");
	} else {
		rc = run_capture(d, &out, "'%s' --query-gpu=index,name,memory.total,memory.free,driver_version,"
				 "utilization.gpu,compute_cap --format=csv,noheader,nounits 2>&1", smi);
		if (rc != 0 && strstr(buf_str(&out), "compute_cap")) {
			/* an older nvidia-smi without compute_cap */
			have_cc = 0;
			rc = run_capture(d, &out, "'%s' --query-gpu=index,name,memory.total,memory.free,"
					 "driver_version,utilization.gpu --format=csv,noheader,nounits 2>&1", smi);
		}
		if (rc != 0) {
			first_line(buf_str(&out), l1, sizeof(l1));
			add(d, "gpu", "gpu", "fail",
			    "load the NVIDIA driver (reboot after installing it; check 'dmesg | grep -i nvidia')",
			    "nvidia-smi fails: %s", l1[0] ? l1 : "no output");
		} else {
			char *p = out.data;
			while (p && *p && d->ngpu < 16) {
				char *nl = strchr(p, '\n'), *f[8];
				int nf;
				struct gpu *g = &d->gpus[d->ngpu];
				if (nl)
					*nl = '\0';
				nf = split_csv(p, f, 8);
				if (nf >= 6) {
					copy_cut(g->name, sizeof(g->name), f[1], strlen(f[1]));
					g->total_mib = strtod(f[2], NULL);
					g->free_mib = strtod(f[3], NULL);
					copy_cut(g->driver, sizeof(g->driver), f[4], strlen(f[4]));
					g->util = strtod(f[5], NULL);
					g->cc = have_cc && nf >= 7 ? strtod(f[6], NULL) : 0;
					d->vram_free_mib += g->free_mib;
					d->vram_total_mib += g->total_mib;
					d->ngpu++;
				}
				p = nl ? nl + 1 : NULL;
			}
			if (d->ngpu == 0) {
				add(d, "gpu", "gpu", "warn", "check 'nvidia-smi -L'",
				    "nvidia-smi lists no GPU: inference will run on the CPU");
			}
			for (int i = 0; i < d->ngpu; i++) {
				struct gpu *g = &d->gpus[i];
				if (g->cc > 0 && g->cc < 5.0)
					add(d, "gpu", "gpu", "fail", "Ollama's CUDA runners need compute capability 5.0 or newer",
					    "GPU %d: %s, compute capability %.1f is too old for Ollama", i, g->name, g->cc);
				else if (g->cc > 0)
					add(d, "gpu", "gpu", "ok", NULL,
					    "GPU %d: %s, %.0f MiB (%.0f MiB free), compute capability %.1f", i, g->name,
					    g->total_mib, g->free_mib, g->cc);
				else
					add(d, "gpu", "gpu", "ok", NULL, "GPU %d: %s, %.0f MiB (%.0f MiB free)", i, g->name,
					    g->total_mib, g->free_mib);
			}
		}
		if (d->ngpu > 0) {
			/* the CUDA version the driver supports is only in the banner */
			if (run_capture(d, &out, "'%s' 2>&1", smi) == 0) {
				const char *c = strstr(buf_str(&out), "CUDA Version:");
				if (c) {
					c += 13;
					while (*c == ' ')
						c++;
					copy_cut(cuda, sizeof(cuda), c, strspn(c, "0123456789."));
				}
			}
		}
	}
	if (nvcc) {
		if (run_capture(d, &out, "'%s' --version 2>&1", nvcc) == 0) {
			const char *r = strstr(buf_str(&out), "release ");
			if (r) {
				r += 8;
				copy_cut(nvcc_ver, sizeof(nvcc_ver), r, strspn(r, "0123456789."));
			}
		}
	}
	if (d->ngpu > 0) {
		const char *drv = d->gpus[0].driver;
		double major = version_num(drv), cv = version_num(cuda);
		if (major > 0 && major < 531)
			add(d, "gpu", "driver", "fail", "install NVIDIA driver 531 or newer (the one matching your CUDA 12 runtime)",
			    "driver %s, CUDA %s: Ollama needs driver 531 or newer", drv, cuda[0] ? cuda : "?");
		else if (cv > 0 && cv < 11.0)
			add(d, "gpu", "driver", "fail", "install a driver that supports CUDA 12",
			    "driver %s supports CUDA %s only: Ollama's runners need CUDA 12", drv, cuda);
		else if (cv > 0 && cv < 12.0)
			add(d, "gpu", "driver", "warn", "install a driver that supports CUDA 12 (531 or newer)",
			    "driver %s supports CUDA %s: current Ollama ships CUDA 12 and 13 runners only", drv, cuda);
		else if (!cuda[0])
			add(d, "gpu", "driver", "warn", "run nvidia-smi by hand and look at its banner",
			    "driver %s: nvidia-smi does not say which CUDA version it supports", drv);
		else
			add(d, "gpu", "driver", "ok", NULL, "driver %s, CUDA %s: compatible with Ollama's CUDA 12 runner",
			    drv, cuda);
		if (nvcc_ver[0] && cv > 0 && version_num(nvcc_ver) > cv + 1e-9)
			add(d, "gpu", "nvcc", "warn", "update the driver, or build with a CUDA toolkit no newer than the driver",
			    "nvcc %s is newer than the driver's CUDA %s: programs built with it will not run", nvcc_ver, cuda);
		else if (nvcc_ver[0])
			add(d, "gpu", "nvcc", "ok", NULL, "nvcc %s (%s)", nvcc_ver, nvcc);
		else
			add(d, "gpu", "nvcc", "warn", "install the CUDA toolkit only to build llama.cpp with CUDA yourself",
			    "nvcc not found: not needed to run Ollama (its runners bring CUDA), only to build with CUDA");
	} else if (nvcc_ver[0]) {
		add(d, "gpu", "nvcc", "ok", NULL, "nvcc %s (%s), but no GPU to use it", nvcc_ver, nvcc);
	}
	buf_release(&out);
	free(smi);
	free(nvcc);
}

/* ---- the server's sockets, user and environment ---- */

static void read_listeners(struct dctx *d, const char *file, int v6)
{
	FILE *f = fopen(file, "r");
	char line[512];
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) {  /* header */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f) && d->nls < MAX_LISTEN) {
		char local[80], rem[80], st[8];
		unsigned port;
		long uid;
		unsigned long inode;
		int sl;
		char *colon;
		if (sscanf(line, " %d: %79s %79s %7s %*s %*s %*s %ld %*s %lu", &sl, local, rem, st, &uid, &inode) != 6)
			continue;
		if (strcmp(st, "0A"))
			continue;  /* not LISTEN */
		colon = strchr(local, ':');
		if (!colon)
			continue;
		*colon = '\0';
		port = (unsigned)strtoul(colon + 1, NULL, 16);
		if ((int)port != d->port)
			continue;
		{
			struct listener *l = &d->ls[d->nls++];
			unsigned char a[16];
			l->uid = uid;
			l->inode = inode;
			if (!v6) {
				unsigned long w = strtoul(local, NULL, 16);
				for (int k = 0; k < 4; k++)
					a[k] = (unsigned char)(w >> (8 * k));
				/* bounded: 21 bytes at most */
				if (xsnprintf(l->addr, sizeof(l->addr), "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3],
					      port) < 0)
					l->addr[0] = '\0';
				l->loopback = a[0] == 127;
			} else {
				static const unsigned char lo[16] = { [15] = 1 };
				static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
				static const unsigned char zero[16];
				char hex[9], tb[48];
				const char *txt = "::";
				for (int wd = 0; wd < 4; wd++) {
					unsigned long w;
					memcpy(hex, local + 8 * wd, 8);
					hex[8] = '\0';
					w = strtoul(hex, NULL, 16);
					for (int k = 0; k < 4; k++)
						a[4 * wd + k] = (unsigned char)(w >> (8 * k));
				}
				l->loopback = !memcmp(a, lo, 16) || (!memcmp(a, mapped, 12) && a[12] == 127);
				/* bounded: txt has 22 bytes at most, the address 31 */
				if (!memcmp(a, lo, 16))
					txt = "::1";
				else if (!memcmp(a, mapped, 12))
					txt = xsnprintf(tb, sizeof(tb), "::ffff:%u.%u.%u.%u", a[12], a[13], a[14],
							a[15]) < 0 ? "?" : tb;
				else if (memcmp(a, zero, 16))
					txt = xsnprintf(tb, sizeof(tb), "%02x%02x:%02x%02x:...", a[0], a[1], a[2],
							a[3]) < 0 ? "?" : tb;
				if (xsnprintf(l->addr, sizeof(l->addr), "[%s]:%u", txt, port) < 0)
					l->addr[0] = '\0';
			}
		}
	}
	fclose(f);
}

static long pid_of_inode(unsigned long inode)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	char want[64];
	long found = -1;
	if (!proc)
		return -1;
	if (xsnprintf(want, sizeof(want), "socket:[%lu]", inode) < 0) {  /* bounded: 30 bytes */
		closedir(proc);
		return -1;
	}
	while (found < 0 && (de = readdir(proc))) {
		char fdp[300];
		DIR *fds;
		struct dirent *fe;
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (xsnprintf(fdp, sizeof(fdp), "/proc/%s/fd", de->d_name) < 0)
			continue;  /* a name is at most 255 bytes: cannot happen */
		fds = opendir(fdp);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			char lp[600], target[128];
			ssize_t n;
			if (fe->d_name[0] == '.')
				continue;
			if (xsnprintf(lp, sizeof(lp), "%s/%s", fdp, fe->d_name) < 0)
				continue;  /* 300 + 256 bytes at most: cannot happen */
			n = readlink(lp, target, sizeof(target) - 1);
			if (n > 0) {
				target[n] = '\0';
				if (!strcmp(target, want)) {
					found = strtol(de->d_name, NULL, 10);
					break;
				}
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

static void read_server_env(struct dctx *d)
{
	char p[64];
	struct buf b = BUF_INIT;
	if (d->server_pid <= 0)
		return;
	if (xsnprintf(p, sizeof(p), "/proc/%ld/environ", d->server_pid) < 0)
		return;  /* bounded: 34 bytes */
	if (fs_read_file(p, &b, 1u << 20, NULL) == 0 && b.len) {
		d->env_len = b.len;
		d->env_blob = buf_detach(&b, NULL);
	}
	buf_release(&b);
}

static const char *env_get(struct dctx *d, const char *k)
{
	size_t kl = strlen(k);
	if (!d->env_blob)
		return getenv(k);
	for (size_t i = 0; i < d->env_len;) {
		const char *s = d->env_blob + i;
		size_t l = strnlen(s, d->env_len - i);
		if (l > kl && !strncmp(s, k, kl) && s[kl] == '=')
			return s + kl + 1;
		i += l + 1;
	}
	return NULL;
}

/* Whose environment the checks read, for messages. */
static const char *env_where(struct dctx *d, char *buf, size_t size)
{
	if (d->env_blob && xsnprintf(buf, size, "the server's environment, pid %ld", d->server_pid) >= 0)
		return buf;
	return d->env_blob ? "the server's environment" : "this shell's environment";
}

static const char *user_name(long uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid((uid_t)uid);
	if (pw)
		copy_cut(buf, size, pw->pw_name, strlen(pw->pw_name));
	else if (xsnprintf(buf, size, "uid %ld", uid) < 0)
		copy_cut(buf, size, "?", 1);  /* a buffer too small for a number */
	return buf;
}

/* ---- environment ---- */

/* Go's time.ParseDuration subset Ollama accepts, or plain seconds. */
static int keep_alive_ok(const char *v, double *secs)
{
	const char *p = v;
	double total = 0;
	int neg = 0, any = 0;
	char *end;
	errno = 0;
	total = strtod(v, &end);
	if (end != v && !*end && !errno) {
		*secs = total;
		return 1;
	}
	total = 0;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	while (*p) {
		double n = strtod(p, &end);
		double mul;
		if (end == p)
			return 0;
		p = end;
		if (!strncmp(p, "ns", 2)) mul = 1e-9, p += 2;
		else if (!strncmp(p, "us", 2)) mul = 1e-6, p += 2;
		else if (!strncmp(p, "ms", 2)) mul = 1e-3, p += 2;
		else if (*p == 's') mul = 1, p++;
		else if (*p == 'm') mul = 60, p++;
		else if (*p == 'h') mul = 3600, p++;
		else return 0;
		total += n * mul;
		any = 1;
	}
	if (!any)
		return 0;
	*secs = neg ? -total : total;
	return 1;
}

static void check_env(struct dctx *d)
{
	char wbuf[96];
	const char *v, *where = env_where(d, wbuf, sizeof(wbuf));
	static const char *const proxies[] = { "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
					       "ALL_PROXY", "all_proxy", NULL };
	struct buf set = BUF_INIT;

	v = env_get(d, "OLLAMA_HOST");
	if (!v || !*v) {
		add(d, "env", "OLLAMA_HOST", "ok", NULL, "OLLAMA_HOST unset: Ollama listens on 127.0.0.1:11434 (%s)", where);
	} else {
		char host[256] = "", *tmp;
		const char *h = v;
		int port;
		while (*h == '"' || *h == '\'' || *h == ' ')
			h++;
		/* as Ollama reads it: no scheme means http, no host means 127.0.0.1 */
		if (asprintf(&tmp, "%s%s%s", strstr(h, "://") ? "" : "http://", h[0] == ':' ? "127.0.0.1" : "",
			     h) < 0) {
			d->nomem = 1;
			return;
		}
		tmp[strcspn(tmp, "\"' ")] = '\0';
		if (llm_url_split(tmp, host, sizeof(host), &port, NULL) < 0)
			host[0] = '\0';
		free(tmp);
		if (host[0] && llm_host_allowed(host, NULL, 0))
			add(d, "env", "OLLAMA_HOST", "ok", NULL, "OLLAMA_HOST=%s: loopback only (%s)", v, where);
		else
			add(d, "env", "OLLAMA_HOST", "fail",
			    "set OLLAMA_HOST=127.0.0.1:11434 where the server starts (systemctl edit ollama) and restart it",
			    "OLLAMA_HOST=%s: Ollama listens beyond loopback (%s)", v, where);
	}
	v = env_get(d, "OLLAMA_MODELS");
	if (v && *v) {
		char *dir = models_default_dir(NULL);
		if (!fs_is_dir(v))
			add(d, "env", "OLLAMA_MODELS", "fail", "point OLLAMA_MODELS at the installed store",
			    "OLLAMA_MODELS=%s does not exist (%s)", v, where);
		else if (d->store && strcmp(v, d->store) && d->env_blob)
			add(d, "env", "OLLAMA_MODELS", "warn", "check the store the server really uses with --models-dir",
			    "OLLAMA_MODELS=%s, but doctor checks the store %s (%s)", v, d->store, where);
		else
			add(d, "env", "OLLAMA_MODELS", "ok", NULL, "OLLAMA_MODELS=%s (%s)", v, where);
		free(dir);
	} else {
		add(d, "env", "OLLAMA_MODELS", "ok", NULL,
		    "OLLAMA_MODELS unset: the store is ~/.ollama/models of the user running the server "
		    "(/usr/share/ollama/.ollama/models for the Linux service) (%s)", where);
	}
	v = env_get(d, "OLLAMA_KEEP_ALIVE");
	if (!v || !*v) {
		add(d, "env", "OLLAMA_KEEP_ALIVE", "ok", NULL,
		    "OLLAMA_KEEP_ALIVE unset: a model stays loaded 5 minutes after its last request");
	} else {
		double s;
		if (!keep_alive_ok(v, &s))
			add(d, "env", "OLLAMA_KEEP_ALIVE", "fail", "use a duration with a unit (30m, 24h), seconds, or -1",
			    "OLLAMA_KEEP_ALIVE=%s is not a duration Ollama understands (%s)", v, where);
		else if (s == 0)
			add(d, "env", "OLLAMA_KEEP_ALIVE", "warn", "set OLLAMA_KEEP_ALIVE=30m (or -1 to keep models loaded)",
			    "OLLAMA_KEEP_ALIVE=%s: models unload after every request, so each one pays the load time", v);
		else if (s < 0)
			add(d, "env", "OLLAMA_KEEP_ALIVE", "ok", NULL, "OLLAMA_KEEP_ALIVE=%s: models stay loaded", v);
		else
			add(d, "env", "OLLAMA_KEEP_ALIVE", "ok", NULL, "OLLAMA_KEEP_ALIVE=%s", v);
	}
	v = env_get(d, "OLLAMA_NUM_PARALLEL");
	if (!v || !*v) {
		add(d, "env", "OLLAMA_NUM_PARALLEL", "ok", NULL,
		    "OLLAMA_NUM_PARALLEL unset: one request at a time per model (Ollama's default)");
	} else {
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || n < 0 || n > 256)
			add(d, "env", "OLLAMA_NUM_PARALLEL", "fail", "set a whole number (1 to 16 is usual)",
			    "OLLAMA_NUM_PARALLEL=%s is not a number (%s)", v, where);
		else
			add(d, "env", "OLLAMA_NUM_PARALLEL", "ok", NULL,
			    "OLLAMA_NUM_PARALLEL=%s: up to %ld requests at once per model, each with its own context",
			    v, n < 1 ? 1 : n);
	}
	for (int i = 0; proxies[i]; i++) {
		const char *pv = env_get(d, proxies[i]);
		if (pv && *pv)
			buf_addf(&set, "%s%s=%s", set.len ? ", " : "", proxies[i], pv);
	}
	if (set.len) {
		const char *np = env_get(d, "NO_PROXY");
		if (!np)
			np = env_get(d, "no_proxy");
		add(d, "env", "proxy", "warn",
		    "unset the proxy variables where the server starts (or set NO_PROXY=localhost,127.0.0.1,::1)",
		    "proxy variables set (%s)%s: on an air-gapped machine they cause DNS and time-out failures "
		    "at start-up (%s)", buf_str(&set), np ? ", NO_PROXY set" : "", where);
	} else {
		add(d, "env", "proxy", "ok", NULL, "no proxy variables (%s)", where);
	}
	buf_release(&set);
}

/* ---- the store ---- */

struct access_walk {
	uid_t uid;
	gid_t groups[64];
	int ngroups;
	long bad;
	long seen;
	char *example;           /* the first entry it cannot read (malloc'd) */
	int not_writable;
	int nomem;
};

static void bad_entry(struct access_walk *w, const char *path)
{
	if (!w->bad++ && !(w->example = strdup(path)))
		w->nomem = 1;
}

static int may(const struct stat *st, const struct access_walk *w, int want)
{
	int bits;
	if (w->uid == 0)
		return 1;
	if (st->st_uid == w->uid)
		bits = (st->st_mode >> 6) & 7;
	else {
		int in = 0;
		for (int i = 0; i < w->ngroups; i++)
			in |= w->groups[i] == st->st_gid;
		bits = in ? (st->st_mode >> 3) & 7 : st->st_mode & 7;
	}
	return (bits & want) == want;
}

static void walk_access(const char *path, struct access_walk *w, int depth)
{
	struct stat st;
	DIR *dir;
	struct dirent *de;
	if (lstat(path, &st) < 0 || depth > 6 || w->seen > 200000)
		return;
	w->seen++;
	if (S_ISLNK(st.st_mode) && stat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		if (!may(&st, w, 5)) {
			bad_entry(w, path);
			return;
		}
		if (depth <= 1 && !may(&st, w, 2))
			w->not_writable = 1;
		dir = opendir(path);
		if (!dir)
			return;
		while ((de = readdir(dir))) {
			char *sub;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (!(sub = fs_join(path, de->d_name))) {
				w->nomem = 1;
				break;
			}
			walk_access(sub, w, depth + 1);
			free(sub);
		}
		closedir(dir);
	} else if (S_ISREG(st.st_mode) && !may(&st, w, 4)) {
		bad_entry(w, path);
	}
}

static void check_store(struct dctx *d)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *fsck;
	struct statvfs sv;
	char who[64];
	long uid = d->server_uid >= 0 ? d->server_uid : (long)getuid();
	const char *whose = d->server_uid >= 0 ? "that runs the server" : "running doctor (no server found)";

	if (!fs_is_dir(d->store)) {
		add(d, "store", "exists", "fail",
		    "install models with 'moat models install BUNDLE --models-dir DIR', or point OLLAMA_MODELS "
		    "(and --models-dir) at the store",
		    "no model store at %s", d->store);
		return;
	}
	{
		char *m = fs_join(d->store, "manifests"), *b = fs_join(d->store, "blobs");
		int is_store = m && b && fs_is_dir(m) && fs_is_dir(b);
		if (!m || !b)
			d->nomem = 1;
		free(m);
		free(b);
		if (!is_store) {
			add(d, "store", "exists", "fail", "point --models-dir at the directory holding manifests/ and blobs/",
			    "%s is not an Ollama store (no manifests/ or blobs/)", d->store);
			return;
		}
	}
	add(d, "store", "exists", "ok", NULL, "store %s", d->store);

	{
		struct access_walk w;
		struct passwd *pw = getpwuid((uid_t)uid);
		memset(&w, 0, sizeof(w));
		w.uid = (uid_t)uid;
		w.ngroups = 64;
		if (pw) {
			if (getgrouplist(pw->pw_name, pw->pw_gid, w.groups, &w.ngroups) < 0)
				w.ngroups = 64;
		} else {
			w.ngroups = 0;
		}
		walk_access(d->store, &w, 0);
		user_name(uid, who, sizeof(who));
		if (w.nomem)
			d->nomem = 1;
		if (w.bad) {
			char *fix;
			if (asprintf(&fix, "chown -R %s %s (or chmod -R a+rX %s)", who, d->store, d->store) < 0) {
				fix = NULL;
				d->nomem = 1;
			}
			add(d, "store", "readable", "fail", fix,
			    "%ld entries are not readable by user '%s' %s, for example %s", w.bad, who, whose,
			    w.example ? w.example : "?");
			free(fix);
		} else if (w.not_writable) {
			add(d, "store", "readable", "warn",
			    "give the server's user write access, or set OLLAMA_NOPRUNE=1 for a read-only store",
			    "readable by user '%s' %s, but not writable: Ollama cannot prune or pull into it", who, whose);
		} else {
			add(d, "store", "readable", "ok", NULL, "readable by user '%s' %s", who, whose);
		}
		free(w.example);
	}

	fsck = models_fsck(d->store, 1, &e);
	if (!fsck) {
		add(d, "store", "fsck", "fail", "run 'moat models fsck' for details", "cannot check the store: %s", e.msg);
	} else {
		json_t *probs = json_object_get(fsck, "problems");
		json_int_t nm = json_integer_value(json_object_get(fsck, "models"));
		if (json_is_true(json_object_get(fsck, "ok")) && json_array_size(probs) == 0) {
			add(d, "store", "fsck", "ok", NULL, "%lld models pass 'moat models fsck --quick'", (long long)nm);
		} else {
			struct buf b = BUF_INIT;
			for (size_t i = 0; i < json_array_size(probs) && i < 3; i++) {
				json_t *p = json_array_get(probs, i);
				buf_addf(&b, "%s%s: %s", i ? "; " : "", json_string_value(json_object_get(p, "path")),
					 json_string_value(json_object_get(p, "problem")));
			}
			add(d, "store", "fsck", "fail",
			    "run 'moat models fsck' for the full list; reinstall broken models from their bundle "
			    "('moat models install')",
			    "%zu problems in the store: %s%s", json_array_size(probs), buf_str(&b),
			    json_array_size(probs) > 3 ? "; ..." : "");
			buf_release(&b);
		}
		json_decref(fsck);
	}

	if (statvfs(d->store, &sv) == 0) {
		double free_b = (double)sv.f_bavail * (double)sv.f_frsize;
		double total = (double)sv.f_blocks * (double)sv.f_frsize;
		if (free_b < 1 * GIB)
			add(d, "store", "disk", "fail", "free space on that file system (or move the store with OLLAMA_MODELS)",
			    "%.2f GiB free of %.1f GiB: too little to install another model", free_b / GIB, total / GIB);
		else if (free_b < 10 * GIB || (total > 0 && free_b / total < 0.05))
			add(d, "store", "disk", "warn", "free space before installing more models",
			    "%.1f GiB free of %.1f GiB", free_b / GIB, total / GIB);
		else
			add(d, "store", "disk", "ok", NULL, "%.1f GiB free of %.1f GiB", free_b / GIB, total / GIB);
	}
}

/* ---- the server ---- */

/* One answer of the server's API, through the model layer's rules. */
static json_t *get_json(struct dctx *d, const char *path, const char *body, struct moat_err *e)
{
	char *url;
	json_t *j;
	if (asprintf(&url, "%s%s", d->url, path) < 0) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	j = llm_server_json(&d->cfg, url, body, "Ollama", "is 'ollama serve' running?", e);
	free(url);
	if (!j && e->code == MOAT_EPARSE)
		err_set(e, MOAT_EPARSE, "Ollama at %s sent %s that is not JSON", d->hp, path);
	return j;
}

static const char *strip_sha(const char *s)
{
	return s && !strncmp(s, "sha256:", 7) ? s + 7 : s ? s : "";
}

static void check_server(struct dctx *d)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *v = get_json(d, "/api/version", NULL, &e), *tags;
	int bad = 0;

	if (!v) {
		if (e.code == MOAT_ENOTFOUND)
			err_set(&e, MOAT_ENET, "the server at %s is not Ollama (no /api/version)", d->hp);
		add(d, "server", "reachable", "fail",
		    "start it: 'systemctl start ollama', or 'OLLAMA_HOST=127.0.0.1:11434 ollama serve'", "%s", e.msg);
	} else {
		d->server_up = 1;
		add(d, "server", "reachable", "ok", NULL, "Ollama %s at %s",
		    json_is_string(json_object_get(v, "version")) ? json_string_value(json_object_get(v, "version"))
								  : "(unknown version)",
		    d->hp);
		json_decref(v);
	}
	if (!d->local) {
		add(d, "server", "listen", "warn", "run doctor on the server's machine",
		    "the server is on another host: doctor cannot see its sockets, user or environment");
		bad = 1;
	}
	for (int i = 0; i < d->nls; i++)
		if (!d->ls[i].loopback) {
			add(d, "server", "listen", "fail",
			    "set OLLAMA_HOST=127.0.0.1:11434 where the server starts and restart it",
			    "listening on %s: reachable from the network", d->ls[i].addr);
			bad = 1;
		}
	if (!bad && d->nls) {
		struct buf b = BUF_INIT;
		for (int i = 0; i < d->nls; i++)
			buf_addf(&b, "%s%s", i ? ", " : "", d->ls[i].addr);
		add(d, "server", "listen", "ok", NULL, "listening on %s only", buf_str(&b));
		buf_release(&b);
	} else if (!bad && d->server_up) {
		add(d, "server", "listen", "warn", "run doctor as root to see every socket",
		    "cannot see the socket the server listens on (another network namespace?)");
	}
	if (!d->server_up)
		return;

	tags = get_json(d, "/api/tags", NULL, &e);
	if (!tags || !json_is_array(json_object_get(tags, "models"))) {
		add(d, "server", "models", "fail", "look at the server's log", "cannot list the server's models: %s",
		    tags ? "no models list" : e.msg);
		json_decref(tags);
		return;
	}
	d->tags = json_incref(json_object_get(tags, "models"));
	json_decref(tags);
	if (fs_is_dir(d->store)) {
		json_t *store = models_list(d->store, &e);
		struct buf extra = BUF_INIT, missing = BUF_INIT;
		size_t n_extra = 0, n_missing = 0;
		for (size_t i = 0; i < json_array_size(d->tags); i++) {
			json_t *t = json_array_get(d->tags, i);
			const char *name = json_string_value(json_object_get(t, "name"));
			const char *dg = strip_sha(json_string_value(json_object_get(t, "digest")));
			int found = 0;
			for (size_t k = 0; k < json_array_size(store); k++) {
				json_t *s = json_array_get(store, k);
				if (name && json_string_value(json_object_get(s, "name")) &&
				    !strcasecmp(name, json_string_value(json_object_get(s, "name"))) &&
				    !strcmp(dg, strip_sha(json_string_value(json_object_get(s, "digest")))))
					found = 1;
			}
			if (!found) {
				n_extra++;
				buf_addf(&extra, "%s%s", extra.len ? ", " : "", name ? name : "?");
			}
		}
		for (size_t k = 0; k < json_array_size(store); k++) {
			const char *sn = json_string_value(json_object_get(json_array_get(store, k), "name"));
			int found = 0;
			for (size_t i = 0; i < json_array_size(d->tags); i++) {
				const char *tn = json_string_value(json_object_get(json_array_get(d->tags, i), "name"));
				if (sn && tn && !strcasecmp(sn, tn))
					found = 1;
			}
			if (!found) {
				n_missing++;
				buf_addf(&missing, "%s%s", missing.len ? ", " : "", sn ? sn : "?");
			}
		}
		if (n_extra) {
			char *fix;
			if (asprintf(&fix, "set OLLAMA_MODELS=%s where the server starts and restart it", d->store) < 0) {
				fix = NULL;
				d->nomem = 1;
			}
			add(d, "server", "models", "fail", fix,
			    "the server reads another store: it lists %s, which %s lacks or holds in another version",
			    buf_str(&extra), d->store);
			free(fix);
		} else if (n_missing) {
			add(d, "server", "models", "warn",
			    "run 'moat models fsck': Ollama leaves out models whose config or template blob is broken",
			    "the server lists %zu models but not %s from the store", json_array_size(d->tags),
			    buf_str(&missing));
		} else {
			add(d, "server", "models", "ok", NULL, "the server lists the %zu models of the store",
			    json_array_size(d->tags));
		}
		buf_release(&extra);
		buf_release(&missing);
		json_decref(store);
	} else {
		add(d, "server", "models", "ok", NULL, "the server lists %zu models", json_array_size(d->tags));
	}
}

/* ---- models ---- */

/* Memory bandwidth in GB/s that makes tokens/s plausible: tokens/s is about
 * bandwidth / bytes of weights for a dense model. */
static double gpu_bandwidth(const char *name)
{
	static const struct { const char *k; double gbs; } t[] = {
		{ "H200", 4800 }, { "H100", 2000 }, { "B200", 8000 }, { "GH200", 4000 }, { "A100", 1555 },
		{ "L40S", 864 }, { "L40", 864 }, { "L4", 300 }, { "A10", 600 }, { "A30", 933 },
		{ "4090", 1008 }, { "3090", 936 }, { "4080", 716 }, { "3080", 760 }, { "V100", 900 },
		{ "T4", 320 }, { "A6000", 768 }, { "A4000", 448 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (name && strstr(name, t[i].k))
			return t[i].gbs;
	return 300;
}

static double mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	double kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "MemAvailable:", 13))
			kb = strtod(line + 13, NULL);
	fclose(f);
	return kb * 1024;
}

static json_int_t info_int(struct dctx *d, json_t *mi, const char *arch, const char *key)
{
	char *k;
	json_t *v;
	if (!arch)
		return 0;
	if (asprintf(&k, "%s.%s", arch, key) < 0) {
		d->nomem = 1;
		return 0;
	}
	v = json_object_get(mi, k);
	free(k);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_array(v)) {  /* per-layer values: the largest */
		json_int_t mx = 0;
		for (size_t i = 0; i < json_array_size(v); i++)
			if (json_integer_value(json_array_get(v, i)) > mx)
				mx = json_integer_value(json_array_get(v, i));
		return mx;
	}
	return 0;
}

static void check_model(struct dctx *d, const char *name)
{
	char *uri = NULL, *grp = NULL;
	struct llm *m = NULL;
	struct moat_err e = MOAT_ERR_INIT;
	json_t *info = NULL, *caps, *tag = NULL, *ps = NULL, *psm = NULL, *show = NULL;
	double size = 0, tps = 0;
	int embed_only = 0;

	if (asprintf(&grp, "model %s", name) < 0) {
		grp = NULL;  /* what asprintf leaves there is undefined */
		d->nomem = 1;
		goto out;
	}
	if (asprintf(&uri, "ollama://%s/%s", d->hp, name) < 0) {
		uri = NULL;
		d->nomem = 1;
		goto out;
	}
	m = llm_open(uri, &d->cfg, &e);
	if (!m) {
		add(d, grp, "answers", "fail", "see 'moat llm list' and the server's log (journalctl -u ollama)", "%s",
		    e.msg);
		goto out;
	}
	for (size_t i = 0; i < json_array_size(d->tags); i++) {
		json_t *t = json_array_get(d->tags, i);
		const char *tn = json_string_value(json_object_get(t, "name"));
		if (tn && (!strcmp(tn, name) || (!strchr(name, ':') && !strncmp(tn, name, strlen(name)) &&
						 !strcmp(tn + strlen(name), ":latest"))))
			tag = t;
	}
	if (tag && json_is_integer(json_object_get(tag, "size")))
		size = (double)json_integer_value(json_object_get(tag, "size"));
	info = llm_info(m);
	if (!info) {
		d->nomem = 1;
		goto out;
	}
	caps = json_object_get(info, "capabilities");
	if (json_is_array(caps)) {
		int completion = 0, embedding = 0;
		for (size_t i = 0; i < json_array_size(caps); i++) {
			const char *c = json_string_value(json_array_get(caps, i));
			completion |= c && !strcmp(c, "completion");
			embedding |= c && !strcmp(c, "embedding");
		}
		embed_only = embedding && !completion;
	}
	if (embed_only) {
		struct llm_embedding em;
		const char *t = "moat doctor";
		if (llm_embed(m, &t, 1, &em, &e) < 0) {
			add(d, grp, "answers", "fail", "see the server's log (journalctl -u ollama); 'moat models fsck' finds corrupt blobs",
			    "cannot embed: %s", e.msg);
			goto out;
		}
		add(d, grp, "answers", "ok", NULL, "loads and embeds (%zu dimensions)", em.dim);
		llm_embedding_release(&em);
	} else {
		struct llm_request r;
		struct llm_result res;
		memset(&r, 0, sizeof(r));
		r.prompt = "Reply with the single word: ready";
		r.opt = llm_options_default();
		r.opt.temperature = 0;
		r.opt.seed = 1;
		r.opt.max_tokens = 32;
		if (llm_generate(m, &r, &res, &e) < 0) {
			add(d, grp, "answers", "fail",
			    "see the server's log (journalctl -u ollama); 'moat models fsck' finds corrupt blobs",
			    "no answer: %s", e.msg);
			llm_result_release(&res);
			goto out;
		}
		{
			char snippet[48];
			size_t k = 0;
			for (const char *p = res.text; *p && k + 1 < sizeof(snippet); p++)
				snippet[k++] = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
			snippet[k] = '\0';
			add(d, grp, "answers", "ok", NULL, "loads and answers in %.2f s (load %.2f s): '%s%s'",
			    res.total_s > 0 ? res.total_s : 0, res.load_s > 0 ? res.load_s : 0, snippet,
			    strlen(res.text) >= sizeof(snippet) - 1 ? "..." : "");
		}
		if (res.gen_s > 0 && res.completion_tokens > 0)
			tps = res.completion_tokens / res.gen_s;
		llm_result_release(&res);
	}

	ps = get_json(d, "/api/ps", NULL, &e);
	for (size_t i = 0; i < json_array_size(json_object_get(ps, "models")); i++) {
		json_t *p = json_array_get(json_object_get(ps, "models"), i);
		const char *pn = json_string_value(json_object_get(p, "name"));
		const char *tn = tag ? json_string_value(json_object_get(tag, "name")) : name;
		if (pn && tn && !strcmp(pn, tn))
			psm = p;
	}
	{
		double loaded = psm ? (double)json_integer_value(json_object_get(psm, "size")) : 0;
		double vram = psm ? (double)json_integer_value(json_object_get(psm, "size_vram")) : 0;
		double frac = loaded > 0 ? vram / loaded : 0;
		if (d->ngpu > 0) {
			if (!psm)
				add(d, grp, "gpu", "warn", "look at 'ollama ps' right after a request",
				    "not in the server's /api/ps after answering: cannot tell where it runs");
			else if (vram <= 0)
				add(d, grp, "gpu", "fail",
				    "look for 'insufficient VRAM' or a CUDA error in the server's log; see the memory line below",
				    "runs on the CPU: nothing of its %.1f GiB is in VRAM", loaded / GIB);
			else if (frac < 0.99)
				add(d, grp, "gpu", "warn", "lower the context or parallel requests, or use a smaller quantization",
				    "only %.0f%% of it is in VRAM: the rest runs on the CPU", frac * 100);
			else
				add(d, grp, "gpu", "ok", NULL, "fully in VRAM (%.1f GiB)", vram / GIB);
		}
		if (!embed_only && tps > 0 && size > 0) {
			/* what the hardware should give: a GPU when there is one */
			int on_gpu = d->ngpu > 0;
			double bw = on_gpu ? gpu_bandwidth(d->gpus[0].name) * 1e9 : 20e9;
			double floor_tps = 0.2 * bw / size;
			/* small models are bound by compute and overheads, not bandwidth */
			if (floor_tps > (on_gpu ? 50 : 10))
				floor_tps = on_gpu ? 50 : 10;
			if (tps >= floor_tps)
				add(d, grp, "speed", "ok", NULL, "%.1f tokens/s (plausible for %.1f GB on the %s)", tps,
				    size / 1e9, on_gpu ? "GPU" : "CPU");
			else
				add(d, grp, "speed", "warn",
				    on_gpu ? "check that the model runs on the GPU (see the gpu line) and nothing else loads it"
					   : "check the CPU load and OLLAMA_NUM_THREADS; a GPU would be much faster",
				    "%.1f tokens/s is slow for %.1f GB on the %s (expected %.0f or more)", tps, size / 1e9,
				    on_gpu ? "GPU" : "CPU", floor_tps);
		}

		/* memory fit: weights plus the KV cache for the context times the parallel requests */
		{
			json_t *req = json_object();
			char *b = req && json_object_set_new(req, "model", jsonu_string(name)) == 0
					  ? json_dumps(req, JSON_COMPACT) : NULL;
			json_decref(req);
			if (!b)
				d->nomem = 1;
			else
				show = get_json(d, "/api/show", b, &e);
			free(b);
		}
		if (show && size > 0) {
			json_t *mi = json_object_get(show, "model_info");
			const char *arch = json_string_value(json_object_get(mi, "general.architecture"));
			json_int_t nl = info_int(d, mi, arch, "block_count");
			json_int_t nh = info_int(d, mi, arch, "attention.head_count");
			json_int_t nkv = info_int(d, mi, arch, "attention.head_count_kv");
			json_int_t emb = info_int(d, mi, arch, "embedding_length");
			json_int_t kl = info_int(d, mi, arch, "attention.key_length");
			json_int_t vl = info_int(d, mi, arch, "attention.value_length");
			json_int_t train = info_int(d, mi, arch, "context_length");
			const char *envc = env_get(d, "OLLAMA_CONTEXT_LENGTH"), *envp = env_get(d, "OLLAMA_NUM_PARALLEL");
			const char *kvt = env_get(d, "OLLAMA_KV_CACHE_TYPE");
			long ctx = 0, par = envp && *envp ? strtol(envp, NULL, 10) : 1;
			double kv_bytes = 2.0, avail, need, kv;
			const char *avail_what;
			if (nkv <= 0)
				nkv = nh;
			if (kl <= 0 && nh > 0)
				kl = emb / nh;
			if (vl <= 0)
				vl = kl;
			if (psm && json_is_integer(json_object_get(psm, "context_length")))
				ctx = (long)json_integer_value(json_object_get(psm, "context_length"));
			if (ctx <= 0 && envc && *envc)
				ctx = strtol(envc, NULL, 10);
			if (ctx <= 0) {
				double vt = d->vram_total_mib / 1024.0;  /* Ollama's VRAM tiers */
				ctx = vt >= 47 ? 262144 : vt >= 23 ? 32768 : 4096;
			}
			if (train > 0 && ctx > train)
				ctx = (long)train;
			if (par < 1)
				par = 1;
			if (kvt && !strcmp(kvt, "q8_0"))
				kv_bytes = 1.0;
			else if (kvt && !strcmp(kvt, "q4_0"))
				kv_bytes = 0.5625;
			kv = (double)nl * (double)nkv * (double)(kl + vl) * kv_bytes * (double)ctx * (double)par;
			need = size + kv;
			if (d->ngpu > 0) {
				avail = d->vram_free_mib * 1024.0 * 1024.0 + vram;
				avail_what = "free VRAM";
			} else {
				avail = mem_available() + (psm ? loaded : 0);
				avail_what = "available memory";
			}
			if (nl <= 0 || kl <= 0)
				add(d, grp, "memory", "warn", "check /api/show's model_info", "cannot size the KV cache: "
				    "the model's shape is unknown");
			else if (need > avail)
				add(d, grp, "memory", "fail",
				    "lower OLLAMA_NUM_PARALLEL or OLLAMA_CONTEXT_LENGTH, set OLLAMA_FLASH_ATTENTION=1 with "
				    "OLLAMA_KV_CACHE_TYPE=q8_0, or use a smaller quantization",
				    "needs %.1f GiB (weights %.1f + KV cache %.1f for %ld tokens x %ld) but only %.1f GiB %s: "
				    "expect 'insufficient VRAM' or a fall back to the CPU",
				    need / GIB, size / GIB, kv / GIB, ctx, par, avail / GIB, avail_what);
			else
				add(d, grp, "memory", "ok", NULL,
				    "needs %.1f GiB (weights %.1f + KV cache %.1f for %ld tokens x %ld) of %.1f GiB %s",
				    need / GIB, size / GIB, kv / GIB, ctx, par, avail / GIB, avail_what);
		}
	}
out:
	json_decref(show);
	json_decref(ps);
	json_decref(info);
	llm_free(m);
	free(uri);
	free(grp);
}

static void check_embedded(struct dctx *d)
{
	if (llm_have_embedded())
		add(d, "moat", "llama.cpp", "ok", NULL,
		    "llama.cpp is built in: gguf: and store: models run without a server");
	else
		add(d, "moat", "llama.cpp", "warn", "rebuild moat with llama.cpp (make) to run GGUF files without a server",
		    "built without llama.cpp: only ollama:// and openai:// models");
}

static void check_sandbox(struct dctx *d)
{
	struct ingest_sandbox s;
	if (ingest_sandbox_probe(&s) < 0) {
		add(d, "moat", "parser sandbox", "fail", "check the process limits (ulimit -u) and memory",
		    "cannot start a probe process");
	} else if (s.seccomp && s.namespaces) {
		add(d, "moat", "parser sandbox", "ok", NULL,
		    "parsers run with a seccomp allow-list (no sockets, no exec, no writing files) in "
		    "their own user namespace%s",
		    s.dropped ? ", as nobody" : "");
	} else {
		add(d, "moat", "parser sandbox", "warn",
		    s.seccomp ? "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)"
			      : "use a kernel with seccomp filters (CONFIG_SECCOMP_FILTER)",
		    "parsers run with %s only: %s", s.seccomp ? "the seccomp allow-list" :
		    s.netns ? "no network, namespaces and limits" : "resource limits", s.why);
	}
}

static struct golden_runner golden_runner_of(const struct llm_config *cfg);

/* --golden: the bundle's known-good prompts rerun, one check per model. */
static void check_golden(struct dctx *d)
{
	struct golden_runner r = golden_runner_of(&d->cfg);
	struct moat_err e = MOAT_ERR_INIT;
	json_t *models;
	d->golden = golden_check_bundle(d->o->golden_bundle, d->o->models, d->o->n_models, &r,
					d->o->golden_tolerance, &e);
	if (!d->golden) {
		if (e.code == MOAT_ENOMEM)
			d->nomem = 1;
		else
			add(d, "golden", "golden outputs", "fail", e.code == MOAT_ECORRUPT ?
			    "carry the bundle again: 'moat models verify BUNDLE' names what changed" :
			    "bundle the models with --golden PROMPTS.jsonl on the staging machine",
			    "%s", e.msg);
		return;
	}
	models = json_object_get(d->golden, "models");
	for (size_t i = 0; i < json_array_size(models); i++) {
		json_t *m = json_array_get(models, i);
		const char *st = json_string_value(json_object_get(m, "status"));
		const char *name = json_string_value(json_object_get(m, "name"));
		char *text = golden_model_summary(m);
		if (!text) {
			d->nomem = 1;
			return;
		}
		add(d, "golden", name ? name : "?", !strcmp(st, "exact") ? "ok" : !strcmp(st, "within") ? "warn" :
		    "fail", !strcmp(st, "error") ? "name a runtime that has this model: --model "
		    "NAME=URI (gguf:FILE, store:NAME, openai://127.0.0.1:PORT/v1/, ollama://...)" :
		    "read the likely causes; --tolerance sets how alike an answer must be to pass",
		    "%s", text);
		free(text);
	}
}

json_t *doctor_run(const struct doctor_opts *o)
{
	struct dctx d;
	char host[256];
	json_t *res;

	memset(&d, 0, sizeof(d));
	d.o = o;
	d.cfg = o->cfg ? *o->cfg : llm_config_default();
	d.cfg.retries = 1;
	d.cfg.quiet_probe = 0;
	d.checks = json_array();
	d.server_uid = -1;
	d.server_pid = -1;
	if (!d.checks)
		return NULL;

	if (o->ollama_url) {
		/* "127.0.0.1:11434" or "http://127.0.0.1:11434/" */
		if (asprintf(&d.url, "%s%s", strstr(o->ollama_url, "://") ? "" : "http://", o->ollama_url) < 0)
			d.url = NULL;
		for (size_t l = d.url ? strlen(d.url) : 0; l && d.url[l - 1] == '/';)
			d.url[--l] = '\0';
	} else {
		d.url = llm_ollama_url_from_env();
	}
	if (!d.url) {
		d.nomem = 1;
		goto done;
	}
	if (llm_url_split(d.url, host, sizeof(host), &d.port, NULL) < 0 ||
	    llm_url_hostport(d.url, d.hp, sizeof(d.hp)) < 0) {
		add(&d, "server", "reachable", "fail", "give --ollama http://127.0.0.1:11434", "bad Ollama URL '%s'",
		    d.url);
		goto done;
	}

	/* who serves on that port, as whom, with which environment */
	d.local = llm_host_allowed(host, NULL, 0);
	if (d.local) {
		read_listeners(&d, "/proc/net/tcp", 0);
		read_listeners(&d, "/proc/net/tcp6", 1);
	}
	if (d.nls > 0) {
		d.server_uid = d.ls[0].uid;
		d.server_pid = pid_of_inode(d.ls[0].inode);
		read_server_env(&d);
	} else {
		struct passwd *pw = getpwnam("ollama");  /* the Linux service's user */
		if (pw)
			d.server_uid = (long)pw->pw_uid;
	}
	if (o->models_dir) {
		d.store = models_default_dir(o->models_dir);
	} else if (env_get(&d, "OLLAMA_MODELS") && *env_get(&d, "OLLAMA_MODELS")) {
		d.store = models_default_dir(env_get(&d, "OLLAMA_MODELS"));
	} else if (d.server_uid >= 0 && d.env_blob) {
		struct passwd *pw = getpwuid((uid_t)d.server_uid);
		char *p = fs_join(pw ? pw->pw_dir : "~", ".ollama/models");
		d.store = p ? models_default_dir(p) : NULL;
		free(p);
	} else {
		d.store = models_default_dir(NULL);
	}
	if (!d.store) {
		d.nomem = 1;
		goto done;
	}

	if (o->golden_bundle) {
		check_golden(&d);
		goto done;
	}
	check_gpu(&d);
	check_store(&d);
	check_env(&d);
	check_server(&d);
	check_embedded(&d);
	check_sandbox(&d);
	if (d.server_up && !o->no_models) {
		if (o->n_models) {
			for (size_t i = 0; i < o->n_models; i++)
				check_model(&d, o->models[i]);
		} else {
			for (size_t i = 0; i < json_array_size(d.tags); i++) {
				const char *n = json_string_value(json_object_get(json_array_get(d.tags, i), "name"));
				if (n)
					check_model(&d, n);
			}
		}
	}
done:
	if (d.nomem) {
		json_decref(d.checks);
		res = NULL;
	} else {
		res = json_pack("{s:b, s:{s:i, s:i, s:i}, s:o}", "ok", d.n_fail == 0, "counts", "ok", d.n_ok,
				"warn", d.n_warn, "fail", d.n_fail, "checks", d.checks);
		if (res && d.golden && json_object_set(res, "golden", d.golden) < 0) {
			json_decref(res);
			res = NULL;
		}
	}
	json_decref(d.golden);
	free(d.url);
	free(d.store);
	free(d.env_blob);
	json_decref(d.tags);
	return res;
}

/* ---- golden outputs: the model layer as golden.h's runner ---- */

struct golden_model {
	struct llm *m;
};

/* The pieces of one answer as the model produced them (on_token). */
struct pieces {
	json_t *arr;
	int bad;
};

static int on_piece(void *ud, const char *piece, size_t len)
{
	struct pieces *p = ud;
	if (json_array_append_new(p->arr, jsonu_stringn(piece, len)) < 0)
		p->bad = 1;
	return p->bad;
}

static void *golden_open(void *ud, const char *uri, int n_ctx, json_t **info, struct moat_err *e)
{
	struct llm_config cfg = *(const struct llm_config *)ud;
	struct golden_model *g = calloc(1, sizeof(*g));
	*info = NULL;
	if (!g) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	cfg.n_ctx = n_ctx;
	cfg.parallel = 1;
	g->m = llm_open(uri, &cfg, e);
	if (!g->m) {
		free(g);
		return NULL;
	}
	*info = llm_info(g->m);
	if (!*info) {
		llm_free(g->m);
		free(g);
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	return g;
}

static json_t *golden_generate(void *model, json_t *prompt, const struct golden_options *o,
			       struct moat_err *e)
{
	struct golden_model *g = model;
	struct llm_request r;
	struct llm_result res;
	struct pieces p = { json_array(), 0 };
	json_t *out = NULL, *opt;
	if (!p.arr) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	memset(&r, 0, sizeof(r));
	r.prompt = json_string_value(json_object_get(prompt, "prompt"));
	r.system = json_string_value(json_object_get(prompt, "system"));
	r.opt = llm_options_default();
	r.opt.temperature = 0;
	r.opt.top_k = 1;
	r.opt.top_p = 1.0;
	r.opt.seed = o->seed;
	r.opt.n_ctx = o->n_ctx;
	r.opt.max_tokens = (int)json_integer_value(json_object_get(prompt, "max_tokens"));
	r.on_token = on_piece;
	r.ud = &p;
	if (llm_generate(g->m, &r, &res, e) < 0 || p.bad) {
		if (p.bad)
			err_set(e, MOAT_ENOMEM, "out of memory");
		llm_result_release(&res);
		json_decref(p.arr);
		return NULL;
	}
	opt = json_object_get(res.provenance, "options");
	out = json_pack("{s:o, s:o, s:i, s:s, s:O, s:f}", "text", jsonu_string(res.text ? res.text : ""),
			"tokens", p.arr, "token_count", res.completion_tokens >= 0 ?
			res.completion_tokens : (int)json_array_size(p.arr), "finish", res.finish,
			"options", opt ? opt : json_null(), "seconds",
			res.gen_s > 0 ? res.gen_s : res.total_s > 0 ? res.total_s : 0.0);
	llm_result_release(&res);
	if (!out)
		err_set(e, MOAT_ENOMEM, "out of memory");
	return out;
}

static void golden_close(void *model)
{
	struct golden_model *g = model;
	if (g)
		llm_free(g->m);
	free(g);
}

static struct golden_runner golden_runner_of(const struct llm_config *cfg)
{
	return (struct golden_runner){ golden_open, golden_generate, golden_close, (void *)cfg };
}

struct golden_runner doctor_golden_runner(const struct llm_config *cfg)
{
	return golden_runner_of(cfg);
}
