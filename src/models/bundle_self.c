/*
 * bundle_self.c - `moat models bundle --include-self`: everything moat needs
 * to run on a target machine that has nothing but a bare Debian, so that no
 * package ever has to be fetched there.
 *
 * What goes into <bundle>/moat/:
 *   bin/moat                the running program
 *   lib/LIB.so              every shared library it runs with, but the C
 *                           library's own (the target has glibc), and
 *                           those it loads on first need (Tesseract,
 *                           Leptonica: o->self_dlopen) with theirs
 *   share/magic.mgc         libmagic's database (file type detection)
 *   share/tessdata/LANG.traineddata
 *                           Tesseract's language files: those the staging
 *                           machine has, or those named (osd always)
 *   bin/llama-server        llama.cpp's server, with the libraries it needs
 *                           beyond the program's (read from its ELF header)
 *   install.sh              puts them under PREFIX/lib/moat, where the
 *                           installed moat looks first (core/datadir.h)
 *
 * Not for: the models themselves (bundle.c), checking a bundle (verify.c).
 */
#define _GNU_SOURCE
#include "models_int.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/jsonu.h"

#include "core/banned.h"

/* ---- the list of files ---- */

int models_fileset_add(struct models_fileset *f, const char *rel, const char *hex)
{
	if (f->n == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 64;
		char **nr = realloc(f->rel, nc * sizeof(*nr));
		if (!nr)
			return -1;
		f->rel = nr;
		char (*nh)[65] = realloc(f->hex, nc * sizeof(*nh));
		if (!nh)
			return -1;
		f->hex = nh;
		f->cap = nc;
	}
	f->rel[f->n] = strdup(rel);
	if (!f->rel[f->n])
		return -1;
	memcpy(f->hex[f->n], hex ? hex : "", hex ? 65 : 1);
	f->n++;
	return 0;
}

int models_fileset_has(const struct models_fileset *f, const char *rel)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->rel[i], rel))
			return 1;
	return 0;
}

void models_fileset_release(struct models_fileset *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->rel[i]);
	free(f->rel);
	free(f->hex);
	memset(f, 0, sizeof(*f));
}

/* ---- what to carry ---- */

struct selfcol {
	struct models_fileset src;   /* rel = source path */
	struct models_fileset dst;   /* rel = bundle path */
	int oom;
};

static void carry(struct selfcol *s, const char *src, const char *dst)
{
	if (models_fileset_has(&s->dst, dst))
		return;
	if (models_fileset_add(&s->src, src, NULL) < 0 || models_fileset_add(&s->dst, dst, NULL) < 0)
		s->oom = 1;
}

/* The C library's own objects: the target's glibc must be the one used. */
static int skip_lib(const char *base)
{
	static const char *glibc[] = {
		"linux-vdso", "linux-gate", "ld-linux", "libc.so", "libm.so", "libpthread.so",
		"libdl.so", "librt.so", "libresolv.so", "libutil.so", "libanl.so", "libnss_",
		"libmvec.so", "libBrokenLocale.so", "libthread_db.so",
	};
	for (size_t i = 0; i < sizeof(glibc) / sizeof(glibc[0]); i++)
		if (!strncmp(base, glibc[i], strlen(glibc[i])))
			return 1;
	return 0;
}

static void carry_lib(struct selfcol *s, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char *dst;
	if (skip_lib(base))
		return;
	if (asprintf(&dst, "moat/lib/%s", base) < 0) {
		s->oom = 1;
		return;
	}
	carry(s, path, dst);
	free(dst);
}

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	if (info->dlpi_name && info->dlpi_name[0] == '/')
		carry_lib(arg, info->dlpi_name);
	return 0;
}

/* Loads the libraries the program opens on first need (each soname in
 * names) so that dl_iterate_phdr lists them and all they pull in, as the
 * loader finds them here.  The handles go to h (as many as names, NULL
 * included); 0, or -1 with e set when one cannot be loaded. */
static int load_on_demand_libs(const char *const *names, void **h, struct moat_err *e)
{
	for (size_t i = 0; names && names[i]; i++) {
		h[i] = dlopen(names[i], RTLD_LAZY | RTLD_LOCAL);
		if (!h[i]) {
			const char *why = dlerror();
			return err_set(e, MOAT_ENOTFOUND, "cannot load '%s', which moat loads for OCR: %s",
				       names[i], why ? why : "unknown reason");
		}
	}
	return 0;
}

/* The file offset of virtual address v in a 64-bit ELF image, or -1. */
static int64_t elf_offset(const unsigned char *d, size_t n, const Elf64_Ehdr *eh, uint64_t v)
{
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, d + eh->e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && v >= ph.p_vaddr && v - ph.p_vaddr < ph.p_filesz &&
		    ph.p_offset <= n && v - ph.p_vaddr <= n - ph.p_offset)
			return (int64_t)(ph.p_offset + (v - ph.p_vaddr));
	}
	return -1;
}

/* The DT_NEEDED names of the 64-bit ELF program or library at path, appended
 * to out.  Every offset is checked against the file. */
static int elf_needed(const char *path, struct models_fileset *out, struct moat_err *e)
{
	struct buf b = BUF_INIT;
	const unsigned char *d;
	Elf64_Ehdr eh;
	Elf64_Phdr dyn;
	uint64_t strtab = 0, strsz = 0;
	int64_t stroff;
	int found = 0, rc = -1;
	size_t n;
	if (fs_read_file(path, &b, (size_t)1 << 30, e) < 0)
		return -1;
	d = (const unsigned char *)b.data;
	n = b.len;
	if (n < sizeof(eh) || memcmp(d, ELFMAG, SELFMAG) || d[EI_CLASS] != ELFCLASS64) {
		err_set(e, MOAT_ECORRUPT, "'%s' is not a 64-bit ELF file", path);
		goto out;
	}
	memcpy(&eh, d, sizeof(eh));
	if (eh.e_phoff > n || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phnum > (n - eh.e_phoff) / sizeof(Elf64_Phdr)) {
		err_set(e, MOAT_ECORRUPT, "'%s': bad ELF program headers", path);
		goto out;
	}
	for (unsigned i = 0; i < eh.e_phnum && !found; i++) {
		memcpy(&dyn, d + eh.e_phoff + (size_t)i * sizeof(dyn), sizeof(dyn));
		found = dyn.p_type == PT_DYNAMIC;
	}
	if (!found) {  /* static: needs nothing */
		rc = 0;
		goto out;
	}
	if (dyn.p_offset > n || dyn.p_filesz > n - dyn.p_offset) {
		err_set(e, MOAT_ECORRUPT, "'%s': bad ELF dynamic section", path);
		goto out;
	}
	for (uint64_t o = 0; o + sizeof(Elf64_Dyn) <= dyn.p_filesz; o += sizeof(Elf64_Dyn)) {
		Elf64_Dyn t;
		memcpy(&t, d + dyn.p_offset + o, sizeof(t));
		if (t.d_tag == DT_NULL)
			break;
		if (t.d_tag == DT_STRTAB)
			strtab = t.d_un.d_ptr;
		else if (t.d_tag == DT_STRSZ)
			strsz = t.d_un.d_val;
	}
	stroff = elf_offset(d, n, &eh, strtab);
	if (stroff < 0 || strsz > n - (uint64_t)stroff) {
		err_set(e, MOAT_ECORRUPT, "'%s': bad ELF string table", path);
		goto out;
	}
	for (uint64_t o = 0; o + sizeof(Elf64_Dyn) <= dyn.p_filesz; o += sizeof(Elf64_Dyn)) {
		Elf64_Dyn t;
		const char *name;
		memcpy(&t, d + dyn.p_offset + o, sizeof(t));
		if (t.d_tag == DT_NULL)
			break;
		if (t.d_tag != DT_NEEDED)
			continue;
		name = (const char *)d + stroff + t.d_un.d_val;
		if (t.d_un.d_val >= strsz || !memchr(name, '\0', strsz - t.d_un.d_val)) {
			err_set(e, MOAT_ECORRUPT, "'%s': bad ELF string table", path);
			goto out;
		}
		if (models_fileset_add(out, name, NULL) < 0) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	buf_release(&b);
	return rc;
}

/* A library named name, as the loader would find it for a program in
 * origin: beside the program's ../lib (llama.cpp's RUNPATH), beside the
 * program, then the system's directories.  1 with *out (malloc'd), 0 when it
 * is nowhere, -1 when out of memory. */
static int find_lib(const char *origin, const char *name, char **out)
{
	static const char *const sys[] = {
		"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
		"/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
	};
	const size_t n_sys = sizeof(sys) / sizeof(sys[0]);
	for (size_t i = 0; i < n_sys + 2; i++) {
		char *p;
		int rc = i == 0 ? asprintf(&p, "%s/../lib/%s", origin, name)
			 : asprintf(&p, "%s/%s", i == 1 ? origin : sys[i - 2], name);
		if (rc < 0)
			return -1;
		if (access(p, R_OK) == 0) {
			*out = p;
			return 1;
		}
		free(p);
	}
	return 0;
}

/* llama-server and the libraries it needs that the program does not bring,
 * followed through their own needs. */
static int carry_llama_server(struct selfcol *s, const char *server, struct moat_err *e)
{
	char *origin = fs_dirname(server);
	size_t first = s->src.n;
	int rc = -1;
	if (!origin) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		return -1;
	}
	carry(s, server, "moat/bin/llama-server");
	for (size_t i = first; i < s->src.n; i++) {
		struct models_fileset need = { NULL, NULL, 0, 0 };
		if (elf_needed(s->src.rel[i], &need, e) < 0) {
			models_fileset_release(&need);
			goto out;
		}
		for (size_t k = 0; k < need.n; k++) {
			char *dst, *lib;
			int have, found;
			if (skip_lib(need.rel[k]))
				continue;
			if (asprintf(&dst, "moat/lib/%s", need.rel[k]) < 0) {
				s->oom = 1;
				break;
			}
			have = models_fileset_has(&s->dst, dst);
			free(dst);
			if (have)
				continue;
			found = find_lib(origin, need.rel[k], &lib);
			if (found <= 0) {
				if (found < 0)
					err_set(e, MOAT_ENOMEM, "out of memory");
				else
					err_set(e, MOAT_ENOTFOUND, "cannot find '%s', which '%s' needs",
						need.rel[k], s->src.rel[i]);
				models_fileset_release(&need);
				goto out;
			}
			carry_lib(s, lib);
			free(lib);
		}
		models_fileset_release(&need);
	}
	rc = 0;
out:
	free(origin);
	return rc;
}

static int lang_named(const char *langs, const char *lang, size_t len)
{
	for (const char *p = langs; *p;) {
		size_t l = strcspn(p, "+");
		if (l == len && !strncmp(p, lang, len))
			return 1;
		p += l;
		if (*p == '+')
			p++;
	}
	return 0;
}

/* Tesseract's language files: every one in dir, or those langs names (each
 * must be there) and osd. */
static int carry_tessdata(struct selfcol *s, const char *dir, const char *langs,
			  struct moat_err *e)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	if (!dh)
		return langs ? err_set(e, MOAT_ENOTFOUND, "cannot read the OCR languages in '%s'",
				       dir) : 0;
	while ((de = readdir(dh))) {
		size_t len = strlen(de->d_name), sl = strlen(".traineddata");
		char *src, *dst;
		if (len <= sl || strcmp(de->d_name + len - sl, ".traineddata"))
			continue;
		if (langs && !lang_named(langs, de->d_name, len - sl) &&
		    strcmp(de->d_name, "osd.traineddata"))
			continue;
		src = fs_join(dir, de->d_name);
		if (asprintf(&dst, "moat/share/tessdata/%s", de->d_name) < 0)
			dst = NULL;
		if (src && dst)
			carry(s, src, dst);
		else
			s->oom = 1;
		free(src);
		free(dst);
	}
	closedir(dh);
	for (const char *p = langs; p && *p;) {
		size_t l = strcspn(p, "+");
		char *dst;
		int have;
		if (asprintf(&dst, "moat/share/tessdata/%.*s.traineddata", (int)l, p) < 0)
			return err_set(e, MOAT_ENOMEM, "out of memory");
		have = models_fileset_has(&s->dst, dst);
		free(dst);
		if (!have)
			return err_set(e, MOAT_ENOTFOUND, "OCR language '%.*s' is not installed (no "
				       "%s/%.*s.traineddata)", (int)l, p, dir, (int)l, p);
		p += l;
		if (*p == '+')
			p++;
	}
	return 0;
}

/* ---- install.sh ---- */

static const char install_sh[] =
"#!/bin/sh\n"
"# install.sh - installs the moat program carried in this bundle (made with\n"
"# 'moat models bundle --include-self') on a machine without network access.\n"
"#   sh moat/install.sh [PREFIX]          (default PREFIX: /usr/local)\n"
"# The program goes to PREFIX/lib/moat/ with the shared libraries it was built\n"
"# against (all but the C library's own), its data files (share/: libmagic's\n"
"# database, Tesseract's languages) and llama.cpp's llama-server (bin/), where\n"
"# the installed moat looks first ('moat version' says what it uses).\n"
"# PREFIX/bin/moat and PREFIX/bin/llama-server are small wrappers that point the\n"
"# loader at the libraries.  Nothing is downloaded.\n"
"set -eu\n"
"here=$(cd \"$(dirname \"$0\")\" && pwd)\n"
"prefix=${1:-${PREFIX:-/usr/local}}\n"
"if command -v sha256sum >/dev/null 2>&1 && [ -f \"$here/../SHA256SUMS\" ]; then\n"
"\t(cd \"$here/..\" && grep '  moat/' SHA256SUMS | sha256sum -c --quiet -) || {\n"
"\t\techo \"install.sh: the moat files of this bundle are damaged\" >&2; exit 1; }\n"
"fi\n"
"d=\"$prefix/lib/moat\"\n"
"mkdir -p \"$d/lib\" \"$prefix/bin\"\n"
"cp \"$here/bin/moat\" \"$d/moat.new\"\n"
"chmod 755 \"$d/moat.new\"\n"
"mv -f \"$d/moat.new\" \"$d/moat\"\n"
"for f in \"$here\"/lib/*; do\n"
"\t[ -f \"$f\" ] && cp \"$f\" \"$d/lib/\"\n"
"done\n"
"if [ -d \"$here/share\" ]; then\n"
"\trm -rf \"$d/share.new\"\n"
"\tcp -R \"$here/share\" \"$d/share.new\"\n"
"\trm -rf \"$d/share\"\n"
"\tmv \"$d/share.new\" \"$d/share\"\n"
"fi\n"
"wrapper() { # NAME PROGRAM\n"
"\tcat > \"$prefix/bin/$1.new\" <<EOF\n"
"#!/bin/sh\n"
"# $1, installed from a moat bundle: the libraries it needs sit beside it.\n"
"LD_LIBRARY_PATH=\"$d/lib\\${LD_LIBRARY_PATH:+:\\$LD_LIBRARY_PATH}\"\n"
"export LD_LIBRARY_PATH\n"
"exec \"$2\" \"\\$@\"\n"
"EOF\n"
"\tchmod 755 \"$prefix/bin/$1.new\"\n"
"\tmv -f \"$prefix/bin/$1.new\" \"$prefix/bin/$1\"\n"
"}\n"
"wrapper moat \"$d/moat\"\n"
"if [ -f \"$here/bin/llama-server\" ]; then\n"
"\tmkdir -p \"$d/bin\"\n"
"\tcp \"$here/bin/llama-server\" \"$d/bin/llama-server.new\"\n"
"\tchmod 755 \"$d/bin/llama-server.new\"\n"
"\tmv -f \"$d/bin/llama-server.new\" \"$d/bin/llama-server\"\n"
"\twrapper llama-server \"$d/bin/llama-server\"\n"
"fi\n"
"echo \"moat installed: $prefix/bin/moat\"\n";

/* ---- copying ---- */

int models_bundle_self(const struct bundle_opts *o, struct models_progress *sp,
		     struct models_fileset *files, json_t *self_json, struct moat_err *e)
{
	struct selfcol s;
	const char *exe = o->self_exe ? o->self_exe : "/proc/self/exe";
	json_t *list = json_object_get(self_json, "files");
	int rc = -1, bad = 0;
	size_t n_dl = 0;
	void **dl;
	memset(&s, 0, sizeof(s));
	while (o->self_dlopen && o->self_dlopen[n_dl])
		n_dl++;
	dl = calloc(n_dl + 1, sizeof(*dl));
	if (!dl)
		return err_set(e, MOAT_ENOMEM, "out of memory");
	carry(&s, exe, "moat/bin/moat");
	if (load_on_demand_libs(o->self_dlopen, dl, e) < 0)
		goto fail;
	dl_iterate_phdr(phdr_cb, &s);
	if (o->magic_file && access(o->magic_file, R_OK) == 0) {
		carry(&s, o->magic_file, "moat/share/magic.mgc");
	} else {
		const char *mgc[] = { "/usr/lib/file/magic.mgc", "/usr/share/misc/magic.mgc",
				      "/usr/share/file/magic.mgc" };
		for (size_t i = 0; i < 3; i++)
			if (access(mgc[i], R_OK) == 0) {
				carry(&s, mgc[i], "moat/share/magic.mgc");
				break;
			}
	}
	if (o->tessdata_dir && carry_tessdata(&s, o->tessdata_dir, o->ocr_langs, e) < 0)
		goto fail;
	if (o->llama_server && carry_llama_server(&s, o->llama_server, e) < 0)
		goto fail;
	if (s.oom || s.src.n != s.dst.n) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < s.src.n; i++) {
		char *dst = fs_join(o->to, s.dst.rel[i]);
		char *dir = dst ? fs_dirname(dst) : NULL;
		char *tmp = NULL;
		char hex[SHA256_HEX];
		struct models_copy_src src = { s.src.rel[i], 0, UINT64_MAX };
		int mode = strncmp(s.dst.rel[i], "moat/share/", 11) ? 0755 : 0644;
		if (!dir)
			err_set(e, MOAT_ENOMEM, "out of memory");
		if (!dir || fs_mkdirs(dir, 0755, e) < 0 ||
		    models_copy_to_tmp(&src, 1, dst, (mode_t)mode, (uid_t)-1, (gid_t)-1, NULL, hex, sp,
				&tmp, e) < 0 ||
		    models_rename_durable(tmp, dst, e) < 0) {
			if (tmp)
				unlink(tmp);
			free(tmp);
			free(dir);
			free(dst);
			goto fail;
		}
		free(tmp);
		free(dir);
		free(dst);
		if (models_fileset_add(files, s.dst.rel[i], hex) < 0) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto fail;
		}
		models_jadd(list, json_pack("{s:s, s:o}", "path", s.dst.rel[i], "from",
					    jsonu_string(s.src.rel[i])), &bad);
	}
	{
		char *dst = fs_join(o->to, "moat/install.sh");
		char hex[SHA256_HEX];
		if (!dst)
			err_set(e, MOAT_ENOMEM, "out of memory");
		if (!dst || fs_write_atomic(dst, install_sh, sizeof(install_sh) - 1, 0755, e) < 0) {
			free(dst);
			goto fail;
		}
		free(dst);
		sha256_hex_mem(install_sh, sizeof(install_sh) - 1, hex);
		if (models_fileset_add(files, "moat/install.sh", hex) < 0) {
			err_set(e, MOAT_ENOMEM, "out of memory");
			goto fail;
		}
		models_jadd(list, json_pack("{s:s}", "path", "moat/install.sh"), &bad);
	}
	if (bad) {
		err_set(e, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	err_prefix(e, "--include-self");
out:
	for (size_t i = 0; i < n_dl; i++)
		if (dl[i])
			dlclose(dl[i]);
	free(dl);
	models_fileset_release(&s.src);
	models_fileset_release(&s.dst);
	return rc;
}
