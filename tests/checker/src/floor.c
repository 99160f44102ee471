/* `just bench`'s floor: only what the kernel must do for the row "UTS,
 * IPC, PID and mount namespaces with a fresh /proc", and nothing else.
 *
 *   floor PROGRAM [ARG...]
 *
 * clone(2) with the four namespaces; in the child, every mount made
 * private (so that nothing below reaches the host), a fresh proc on
 * /proc, then exec PROGRAM; the parent waits and exits with its status.
 * No state, no handshake, no transcript, no error messages beyond one
 * line: it is the physical limit for a runtime's start-up on this host,
 * the yardstick every row of ours is divided by.
 *
 * Built by `just bench` with `cc -static -O2`, as a runtime one copies
 * onto a host usually is. It never changes the host: its only mounts are
 * in its own mount namespace, made private before anything is mounted.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[64 * 1024];

static int child(void *argv) {
    char **command = argv;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        perror("floor: make mounts private");
        return 125;
    }
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
        perror("floor: mount /proc");
        return 125;
    }
    execv(command[0], command);
    perror("floor: exec");
    return 127;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: floor PROGRAM [ARG...]\n");
        return 125;
    }
    int flags = CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNS | SIGCHLD;
    pid_t pid = clone(child, stack + sizeof stack, flags, argv + 1);
    if (pid < 0) {
        perror("floor: clone");
        return 125;
    }
    int status;
    if (waitpid(pid, &status, 0) < 0) {
        perror("floor: wait");
        return 125;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
