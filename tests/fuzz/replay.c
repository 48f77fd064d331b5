/*
 * replay.c - main() for fuzz targets built without libFuzzer: runs
 * LLVMFuzzerTestOneInput on every file of the corpus directories (or files)
 * given, so a plain gcc build replays the saved corpus under ctest (and under
 * the sanitizers in the asan preset).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *d;
	long n;
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc(n > 0 ? (size_t)n : 1);
	if (!d || (n > 0 && fread(d, 1, (size_t)n, f) != (size_t)n)) {
		fclose(f);
		free(d);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(d, (size_t)n);
	free(d);
	return 0;
}

int main(int argc, char **argv)
{
	int count = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: cannot open '%s'\n", argv[i]);
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			while (d && (de = readdir(d))) {
				char p[4096];
				if (de->d_name[0] == '.')
					continue;
				snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
				if (run_file(p) == 0)
					count++;
			}
			if (d)
				closedir(d);
		} else if (run_file(argv[i]) == 0) {
			count++;
		}
	}
	printf("replayed %d inputs\n", count);
	/* An empty corpus means the test checked nothing: fail loudly. */
	return count > 0 ? 0 : 1;
}
