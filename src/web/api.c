/*
 * api.c - the endpoints that are not the label stage's: the session
 * (auth.c), users (admin) and the models the server can reach (admin).
 * Each parses and checks its input, calls the library, and returns the
 * status with r->out set; the role was checked before it runs (server.c).
 */
#define _GNU_SOURCE
#include "web_int.h"
#include "../core/passwd.h"
#include "../llm/llm.h"
#include "../store/audit.h"
#include "../store/store.h"

#include <string.h>

#include <openssl/crypto.h>

#include "../core/banned.h"

#define PASSWD_MIN 8

static int users_get(struct web_req *r)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *list = user_list(r->st, &e);
	if (!list)
		return web_moat_err(r, &e);
	r->out = json_pack("{s:o}", "users", list);
	return 200;
}

/* Runs fn and its audit record (actor: the logged-in user) in one transaction. */
static int audited(struct web_req *r, json_t *outputs,
		   int (*fn)(struct web_req *, const void *, struct moat_err *), const void *arg)
{
	struct moat_err e = MOAT_ERR_INIT;
	json_t *argv = web_cmdline(r);
	struct audit_entry a = { argv, NULL, outputs, NULL, r->sess.name };
	int rc = 0;
	if (!argv || !outputs)
		rc = err_set(&e, MOAT_ENOMEM, "out of memory");
	else if (store_begin(r->st, &e) < 0 || fn(r, arg, &e) < 0 ||
		 audit_append(r->st, &a, NULL, &e) < 0 || store_commit(r->st, &e) < 0)
		rc = -1;
	if (rc < 0)
		store_rollback(r->st);
	json_decref(argv);
	json_decref(outputs);
	return rc < 0 ? web_moat_err(r, &e) : 0;
}

struct add_arg {
	const char *name;
	enum user_role role;
	const char *hash;
};

static int do_add(struct web_req *r, const void *arg, struct moat_err *e)
{
	const struct add_arg *a = arg;
	return user_add(r->st, a->name, a->role, a->hash, e);
}

static int do_rm(struct web_req *r, const void *arg, struct moat_err *e)
{
	return user_rm(r->st, arg, e);
}

static int users_post(struct web_req *r)
{
	const char *name, *role, *pw;
	char hash[PASSWD_HASH_MAX];
	struct moat_err e = MOAT_ERR_INIT;
	struct add_arg a;
	int rc;
	if ((rc = web_body_only(r, "name", "role", "password", NULL)) ||
	    (rc = web_body_str(r, "name", 1, USER_NAME_MAX, &name)) ||
	    (rc = web_body_str(r, "role", 1, 16, &role)) ||
	    (rc = web_body_str(r, "password", 1, PASSWD_MAX, &pw)))
		return rc;
	if (user_name_check(name, &e) < 0)
		return web_err(r, 400, "field 'name': %s", e.msg);
	if (!user_role_parse(role))
		return web_err(r, 400, "field 'role': annotator, reviewer or admin");
	if (strlen(pw) < PASSWD_MIN)
		return web_err(r, 400, "field 'password': at least %d characters", PASSWD_MIN);
	if (passwd_hash(pw, strlen(pw), hash, &e) < 0)
		return web_moat_err(r, &e);
	a.name = name;
	a.role = user_role_parse(role);
	a.hash = hash;
	rc = audited(r, json_pack("{s:s, s:s}", "user", name, "role", role), do_add, &a);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (rc)
		return rc;
	r->out = json_pack("{s:s, s:s}", "name", name, "role", role);
	return 201;
}

static int users_delete(struct web_req *r)
{
	const char *name = r->seg[1];
	int rc;
	if (!strcmp(name, r->sess.name))
		return web_err(r, 409, "you cannot remove yourself");
	if ((rc = audited(r, json_pack("{s:s}", "user", name), do_rm, name)))
		return rc;
	r->out = json_pack("{s:s}", "removed", name);
	return 200;
}

static int models_get(struct web_req *r)
{
	struct llm_config cfg = llm_config_default();
	struct llm_list_sources src;
	memset(&src, 0, sizeof(src));
	cfg.connect_timeout_ms = 2000;
	cfg.idle_timeout_ms = 5000;
	cfg.deadline_ms = 10000;
	src.cfg = &cfg;
	src.gguf_dir = r->w->o.models_dir;
	src.servers = r->w->o.servers;
	src.n_servers = r->w->o.n_servers;
	if (!(r->out = llm_list(&src)))
		return web_err(r, 500, "out of memory");
	return 200;
}

const struct web_route web_api_routes[] = {
	{ "GET", "session", WEB_PUBLIC, api_session, WEB_WRITES_BY_METHOD },
	{ "POST", "login", WEB_PUBLIC, api_login, WEB_WRITES_NOT },
	{ "POST", "logout", WEB_ANNOTATOR, api_logout, WEB_WRITES_BY_METHOD },
	{ "GET", "users", WEB_ADMIN, users_get, WEB_WRITES_BY_METHOD },
	{ "POST", "users", WEB_ADMIN, users_post, WEB_WRITES_BY_METHOD },
	{ "DELETE", "users/{name}", WEB_ADMIN, users_delete, WEB_WRITES_BY_METHOD },
	{ "GET", "models", WEB_ADMIN, models_get, WEB_WRITES_BY_METHOD },
	{ NULL, NULL, 0, NULL, 0 },
};
