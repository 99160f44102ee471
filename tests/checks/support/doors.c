/* Lesson 10's helper: knocks on the kernel's dangerous doors from inside
 * a container, as its root, and says how each answered.
 *
 *   doors knock DIR      try each door; one line "NAME ERRNO" (or "NAME ok");
 *                        shut is EPERM, except clone3: ENOSYS
 *   doors as UID PROG    become UID (groups cleared), then exec PROG
 *   doors whoami         print "euid=N" and the NoNewPrivs line of
 *                        /proc/self/status
 *
 * Every knock uses arguments that fail harmlessly if the door is open
 * (EINVAL, ENOEXEC, ENOSYS, EOPNOTSUPP...), so a container without the
 * protections cannot change the host: the check tells EPERM (shut) from
 * the rest (open) by the errno alone. The one call that succeeds when
 * open, mount, mounts a tmpfs on DIR in the container's own mount
 * namespace and unmounts it again. This helper never calls reboot,
 * settimeofday, swapon or swapoff.
 *
 * Built with `cc -static` (the rootfs has no C library).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *door, long result) {
    if (result == 0 || result > 0)
        printf("%s ok\n", door);
    else
        printf("%s %s\n", door, strerrorname_np(errno));
    fflush(stdout);
}

static int knock(const char *dir) {
    /* Not a mount point: EINVAL when the door is open. */
    say("umount", umount2(dir, 0));
    long mounted = mount("nslab-doors", dir, "tmpfs", 0, "size=16k");
    say("mount", mounted);
    if (mounted == 0)
        umount2(dir, MNT_DETACH);
    /* A child in a new user namespace, which exits at once. */
    long child = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (child == 0)
        _exit(0);
    if (child > 0)
        waitpid((pid_t)child, NULL, 0);
    say("clone-user", child);
    /* A user namespace for this helper alone, which it never uses (after
     * the clone: once in it, unmapped, it may make no other). */
    say("unshare-user", unshare(CLONE_NEWUSER));
    /* clone3 with no arguments: EINVAL when it reaches the kernel; a
     * filter that cannot read its flags must answer ENOSYS, so that C
     * libraries fall back to clone. */
    say("clone3", syscall(SYS_clone3, NULL, 0));
    /* An operation number no kernel has: EOPNOTSUPP when open. */
    say("keyctl", syscall(SYS_keyctl, 9999, 0, 0, 0, 0));
    /* Sixty-four zero bytes are no ELF image: ENOEXEC when open
     * (ENOSYS on a kernel without modules). */
    static char not_a_module[64];
    say("init_module", syscall(SYS_init_module, not_a_module, sizeof not_a_module, ""));
    /* More segments than the kernel takes and a flag it does not know:
     * EINVAL when open (ENOSYS without kexec). */
    say("kexec_load", syscall(SYS_kexec_load, 0UL, 1000UL, NULL, 0x80UL));
    /* A command number no kernel has: EINVAL when open. */
    say("bpf", syscall(SYS_bpf, 9999, NULL, 0));
    /* No attributes at all: EFAULT when open. */
    say("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
    /* A handle of zero bytes names no file: EINVAL when open. Shocker
     * passed real ones, guessed, and read the host's /etc/shadow. */
    struct { unsigned int bytes; int type; unsigned char data[8]; } handle = {0};
    say("open_by_handle_at", syscall(SYS_open_by_handle_at, AT_FDCWD, &handle, O_RDONLY));
    return 0;
}

static int as(const char *uid_text, char **command) {
    uid_t uid = (uid_t)strtoul(uid_text, NULL, 10);
    if (setgroups(0, NULL) || setgid(uid) || setuid(uid)) {
        perror("doors as: become the user");
        return 1;
    }
    execv(command[0], command);
    perror("doors as: exec");
    return 127;
}

static int whoami(void) {
    printf("euid=%d\n", (int)geteuid());
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];
    while (status && fgets(line, sizeof line, status))
        if (strncmp(line, "NoNewPrivs:", 11) == 0)
            fputs(line, stdout);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "knock") == 0)
        return knock(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "as") == 0)
        return as(argv[2], &argv[3]);
    if (argc == 2 && strcmp(argv[1], "whoami") == 0)
        return whoami();
    fprintf(stderr, "usage: doors knock DIR | doors as UID PROG [ARGS] | doors whoami\n");
    return 2;
}
