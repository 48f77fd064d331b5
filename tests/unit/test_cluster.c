/* test_cluster.c - what moat reads from Slurm without a cluster: sacct's
 * and squeue's output (real lines of Slurm 22.05, with accounting and
 * without), a job's state from its exit files when neither knows it, and the
 * job script's quoting.  tests/cli/slurm.sh runs the real thing. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/slurm.h"
#include "core/fs.h"

static void sacct_lines(void **state)
{
	struct slurm_tasks t;
	/* steps (.batch, .extern) are not tasks; another job's lines are not
	 * this one's; a pending range names every task in it */
	const char *text =
		"41_0|COMPLETED|0:0\n"
		"41_0.batch|COMPLETED|0:0\n"
		"41_1|FAILED|1:0\n"
		"41_1.batch|FAILED|1:0\n"
		"41_2|CANCELLED by 0|0:15\n"
		"41_3|RUNNING|0:0\n"
		"41_[4-5,7]|PENDING|0:0\n"
		"410_6|COMPLETED|0:0\n"
		"41_8|TIMEOUT|0:0\n";
	(void)state;
	assert_int_equal(slurm_tasks_init(&t, 10), 0);
	assert_int_equal(slurm_parse_sacct(text, "41", &t), 8);
	assert_int_equal(t.state[0], SLURM_DONE);
	assert_int_equal(t.state[1], SLURM_FAILED);
	assert_string_equal(t.why[1], "FAILED");
	assert_int_equal(t.state[2], SLURM_FAILED);
	assert_string_equal(t.why[2], "CANCELLED");
	assert_int_equal(t.state[3], SLURM_RUNNING);
	assert_int_equal(t.state[4], SLURM_PENDING);
	assert_int_equal(t.state[5], SLURM_PENDING);
	assert_int_equal(t.state[6], SLURM_NONE);
	assert_int_equal(t.state[7], SLURM_PENDING);
	assert_int_equal(t.state[8], SLURM_FAILED);
	assert_int_equal(t.state[9], SLURM_NONE);
	/* "accounting storage is disabled" and other noise name nothing */
	slurm_tasks_release(&t);
	assert_int_equal(slurm_tasks_init(&t, 4), 0);
	assert_int_equal(slurm_parse_sacct("Slurm accounting storage is disabled\n", "41", &t), 0);
	assert_int_equal(slurm_parse_sacct("41_[0-99%2]|PENDING|0:0", "41", &t), 4);
	assert_int_equal(t.state[3], SLURM_PENDING);
	slurm_tasks_release(&t);
}

static void squeue_lines(void **state)
{
	struct slurm_tasks t;
	(void)state;
	assert_int_equal(slurm_tasks_init(&t, 4), 0);
	assert_int_equal(slurm_parse_squeue("2|RUNNING\n3|PENDING\n1|COMPLETING\n", &t), 3);
	assert_int_equal(t.state[0], SLURM_NONE);
	assert_int_equal(t.state[1], SLURM_RUNNING);
	assert_int_equal(t.state[2], SLURM_RUNNING);
	assert_int_equal(t.state[3], SLURM_PENDING);
	assert_int_equal(slurm_parse_squeue("slurm_load_jobs error: Invalid job id specified\n", &t), 0);
	slurm_tasks_release(&t);
}

/* With neither sacct nor squeue on PATH answering (fakes that fail as
 * Slurm does without accounting and for a job gone from the queue), the
 * exit files decide: 0 done, else failed, none failed too. */
#define SACCT "#!/bin/sh\necho 'Slurm accounting storage is disabled'\nexit 1\n"
#define SQUEUE "#!/bin/sh\necho 'slurm_load_jobs error: Invalid job id specified'\nexit 1\n"
static void state_from_exit_files(void **state)
{
	char *dir = tu_tmpdir(), bin[512], p[600], *oldpath = getenv("PATH");
	char path_env[1200];
	struct moat_err e = MOAT_ERR_INIT;
	struct slurm_tasks t;
	const char *source = NULL;
	const unsigned tasks[] = { 0, 1, 2, 3 }, again[] = { 2 };
	(void)state;
	snprintf(bin, sizeof(bin), "%s/bin", dir);
	assert_int_equal(fs_mkdirs(bin, 0755, &e), 0);
	snprintf(p, sizeof(p), "%s/sacct", bin);
	tu_write(p, SACCT, strlen(SACCT));
	chmod(p, 0755);
	snprintf(p, sizeof(p), "%s/squeue", bin);
	tu_write(p, SQUEUE, strlen(SQUEUE));
	chmod(p, 0755);
	snprintf(path_env, sizeof(path_env), "%s:%s", bin, oldpath ? oldpath : "/usr/bin");
	setenv("PATH", path_env, 1);

	assert_int_equal(slurm_job_save(dir, "7", "/ws/slurm/x.sh", "ingest", 4, tasks, 4, NULL, &e), 0);
	snprintf(p, sizeof(p), "%s/7.0.exit", dir);
	tu_write(p, "0\n", 2);
	snprintf(p, sizeof(p), "%s/7.1.exit", dir);
	tu_write(p, "1\n", 2);
	snprintf(p, sizeof(p), "%s/7.3.exit", dir);
	tu_write(p, "0\n", 2);
	assert_int_equal(slurm_job_state(dir, "7", &t, &source, NULL, &e), 0);
	assert_string_equal(source, "squeue and exit files");
	assert_int_equal(t.state[0], SLURM_DONE);
	assert_int_equal(t.state[1], SLURM_FAILED);
	assert_string_equal(t.why[1], "exit 1");
	assert_int_equal(t.state[2], SLURM_FAILED);
	assert_string_equal(t.why[2], "no exit status");
	assert_int_equal(t.state[3], SLURM_DONE);
	slurm_tasks_release(&t);

	/* a rerun of shard 2 that ended well makes shard 2 of job 7 done */
	assert_int_equal(slurm_job_save(dir, "8", "/ws/slurm/x.sh", "ingest", 4, again, 1, "7", &e), 0);
	assert_int_equal(slurm_job_add_rerun(dir, "7", "8", &e), 0);
	snprintf(p, sizeof(p), "%s/8.2.exit", dir);
	tu_write(p, "0\n", 2);
	assert_int_equal(slurm_job_state(dir, "7", &t, &source, NULL, &e), 0);
	assert_int_equal(t.state[1], SLURM_FAILED);
	assert_int_equal(t.state[2], SLURM_DONE);
	slurm_tasks_release(&t);
	assert_int_equal(slurm_job_state(dir, "8", &t, &source, NULL, &e), 0);
	assert_int_equal(t.state[1], SLURM_NONE);  /* not one of the rerun's shards */
	assert_int_equal(t.state[2], SLURM_DONE);
	slurm_tasks_release(&t);

	/* no record: not moat's job; not a job id */
	assert_int_equal(slurm_job_state(dir, "9", &t, &source, NULL, &e), -1);
	assert_int_equal(e.code, MOAT_ENOTFOUND);
	assert_int_equal(slurm_job_state(dir, "../7", &t, &source, NULL, &e), -1);
	assert_int_equal(e.code, MOAT_EUSAGE);
	setenv("PATH", oldpath ? oldpath : "/usr/bin", 1);
	tu_rmtree(dir);
	free(dir);
}

static void script_quotes_every_word(void **state)
{
	char *args[] = { (char *)"it's here", (char *)"--include", (char *)"*.pdf", (char *)"$(reboot)" };
	struct slurm_spec s = { "/opt/moat/bin/moat", "/srv/ws", "/home/a", "ingest", args, 4, 3,
				"batch", "1:00:00" };
	struct buf b = BUF_INIT;
	struct moat_err e = MOAT_ERR_INIT;
	(void)state;
	assert_int_equal(slurm_script(&s, &b, &e), 0);
	assert_non_null(strstr(buf_str(&b), "#SBATCH --array=0-2\n"));
	assert_non_null(strstr(buf_str(&b), "#SBATCH --partition=batch\n"));
	assert_non_null(strstr(buf_str(&b), "#SBATCH --time=1:00:00\n"));
	assert_non_null(strstr(buf_str(&b), "#SBATCH --output=/srv/ws/slurm/%A.%a.out\n"));
	assert_non_null(strstr(buf_str(&b), "'/opt/moat/bin/moat' -w '/srv/ws' 'ingest' 'it'\\''s here' "
					    "'--include' '*.pdf' '$(reboot)' --shard \"$task/3\"\n"));
	buf_release(&b);
	/* what an #SBATCH line cannot hold, and options that are not names */
	s.workspace = "/srv/my ws";
	assert_int_equal(slurm_script(&s, &b, &e), -1);
	assert_int_equal(e.code, MOAT_EUSAGE);
	s.workspace = "/srv/100%";
	assert_int_equal(slurm_script(&s, &b, &e), -1);
	s.workspace = "/srv/ws";
	s.partition = "a\n#SBATCH --uid=0";
	assert_int_equal(slurm_script(&s, &b, &e), -1);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sacct_lines),
		cmocka_unit_test(squeue_lines),
		cmocka_unit_test(state_from_exit_files),
		cmocka_unit_test(script_quotes_every_word),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
