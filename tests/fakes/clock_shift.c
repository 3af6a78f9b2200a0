// A wall clock a test can set, for the daemon under test only: preloaded into crisisd
// (LD_PRELOAD), it adds the number of seconds written in the file named by
// CRISISD_TEST_CLOCK_OFFSET_FILE to every reading of CLOCK_REALTIME (clock_gettime,
// gettimeofday, time). The monotonic clocks are left alone, as a real `date -s` leaves them.
// The file is read again at most every 20 ms of CLOCK_MONOTONIC, so a test moves the clock by
// rewriting it.
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_llong offset_seconds;
static atomic_llong read_at_ns = -1;

// The kernel's clocks, bypassing this file's own definitions.
static int real_clock_gettime(clockid_t id, struct timespec* ts) { return (int)syscall(SYS_clock_gettime, id, ts); }

static long long current_offset(void) {
    struct timespec mono;
    real_clock_gettime(CLOCK_MONOTONIC, &mono);
    const long long now_ns = (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec;
    const long long last = atomic_load(&read_at_ns);
    if (last < 0 || now_ns - last > 20000000LL) {
        atomic_store(&read_at_ns, now_ns);
        const char* path = getenv("CRISISD_TEST_CLOCK_OFFSET_FILE");
        FILE* f = path ? fopen(path, "re") : NULL;
        long long seconds = 0;
        if (f) {
            if (fscanf(f, "%lld", &seconds) == 1) atomic_store(&offset_seconds, seconds);
            fclose(f);
        }
    }
    return atomic_load(&offset_seconds);
}

int clock_gettime(clockid_t id, struct timespec* ts) {
    const int rc = real_clock_gettime(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) ts->tv_sec += (time_t)current_offset();
    return rc;
}

int gettimeofday(struct timeval* tv, void* tz) {
    (void)tz;
    struct timespec ts;
    const int rc = clock_gettime(CLOCK_REALTIME, &ts);
    if (rc == 0 && tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return rc;
}

time_t time(time_t* out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
