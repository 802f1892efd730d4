/*
 * The floor for a /proc scan: a C loop that opens, reads and closes every
 * /proc/<pid>/stat, as a minimal native scanner without an fd cache would.
 * Prints the median microseconds per scan over ROUNDS scans. bench/proc.mjs
 * (~300 processes) and bench/proc-scale.mjs (10,000) run it beside sigkit.
 *   proc-scan ROUNDS
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 200;
  if (rounds < 1 || rounds > 100000) return 2;
  double *t = malloc(sizeof(double) * (size_t)rounds);
  char buf[4096], path[300];
  long sink = 0;
  for (int r = 0; r < rounds; r++) {
    double t0 = now_us();
    DIR *d = opendir("/proc");
    if (!d) return 3;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (de->d_name[0] < '1' || de->d_name[0] > '9') continue;
      snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) sink += buf[0];
      close(fd);
    }
    closedir(d);
    t[r] = now_us() - t0;
  }
  qsort(t, (size_t)rounds, sizeof(double), cmp);
  printf("%f %ld\n", t[rounds / 2], sink & 1);
  free(t);
  return 0;
}
