/*
 * clocks: print what the three clocks a container may ask about read,
 * through clock_gettime(2), as "NAME SECONDS.NANOSECONDS" lines.
 *
 * CLOCK_MONOTONIC and CLOCK_BOOTTIME are the two a time namespace moves;
 * CLOCK_REALTIME, the wall clock, it does not. /proc/uptime shows only
 * the boot-time clock, and no busybox applet prints the monotonic one.
 * clock_gettime goes through the vDSO, whose data page the kernel
 * switches for a process in a time namespace: this is what programs see.
 *
 * Static, so that it runs in a rootfs without a C library.
 * Usage: clocks
 */
#include <stdio.h>
#include <time.h>

static int show(const char *name, clockid_t id)
{
	struct timespec now;

	if (clock_gettime(id, &now) != 0) {
		perror(name);
		return 1;
	}
	printf("%s %lld.%09ld\n", name, (long long)now.tv_sec, now.tv_nsec);
	return 0;
}

int main(void)
{
	return show("monotonic", CLOCK_MONOTONIC) |
	       show("boottime", CLOCK_BOOTTIME) |
	       show("realtime", CLOCK_REALTIME);
}
