/* `just bench`'s floor: only what the kernel must do for a row, and
 * nothing else.
 *
 *   floor [--rootfs DIR] [--cgroup DIR]... [--set FILE=VALUE]... [--bridge] [--harden] PROGRAM [ARG...]
 *
 * Plain, it is the floor of the row "UTS, IPC, PID and mount namespaces
 * with a fresh /proc": clone(2) with the four namespaces; in the child,
 * every mount made private (so that nothing below reaches the host), a
 * fresh proc on /proc, then exec PROGRAM; the parent waits and exits with
 * its status. No state, no transcript, no error messages beyond one line.
 * It is the physical limit for a runtime's start-up on this host, the
 * yardstick every row of ours is divided by.
 *
 * Four options give the kernel's share of four lessons, to show whether
 * a target is in reach at all:
 *
 *   --rootfs DIR (lesson 04): the container's root is DIR, set up as
 *     lesson 04 sets it up: DIR bound onto itself; proc, a read-only
 *     sysfs, tmpfs on /tmp and /run; a /dev of its own (a tmpfs, six
 *     devices bound from the host's, devpts, /dev/shm, mqueue, the
 *     usual links); /etc/hostname, hosts and resolv.conf bound
 *     read-only over the image's, from files written into the new
 *     /run (in memory: lesson 04 writes them into the state directory,
 *     which the host may keep on disk); then pivot_root(".", "."), the
 *     old root detached, and PROGRAM found in DIR;
 *   --cgroup DIR (lesson 08; once per tree on cgroup v1): the directory
 *     is made before clone, the --set FILE=VALUE writes (its limits) go
 *     in, the child is in every DIR before it execs, and every DIR is
 *     removed once it has ended. The move is the cheapest the kernel
 *     offers: moving another process (writing its PID to cgroup.procs)
 *     takes a lock whose first writer waits for an RCU grace period, 1
 *     to 10 ms here; a thread that moves itself through a v1 `tasks`
 *     file ("0") does not take it. So on v1 the child moves itself; on
 *     v2 the parent writes cgroup.procs (clone3's CLONE_INTO_CGROUP
 *     would avoid the move altogether);
 *   --bridge (lesson 06): the child also gets a network namespace; the
 *     parent makes the bridge nslab-floor0, up, and a veth pair whose
 *     host end nslab-floor-h is on the bridge and up and whose other end,
 *     eth0, is made directly in the child's namespace; after the child
 *     has ended, the host's end (and with it the pair) and the bridge are
 *     deleted. No address, no route: those cost microseconds.
 *   --harden (lesson 10): in the child, after /proc, Docker's masked
 *     paths (/dev/null or an empty read-only tmpfs over each) and
 *     read-only paths (a bind mount made read-only), every capability
 *     but Docker's 14 dropped from the bounding set and the others,
 *     no_new_privs, and a seccomp filter as long as lesson 10's (230
 *     instructions) that refuses only numbers no system call has. Its
 *     shape matters: when a filter is installed, the kernel runs it once
 *     for every system call number to learn which are always allowed,
 *     so a chain of 226 comparisons costs about 0.8 ms here. This one
 *     first splits the numbers in two, as a binary-search filter does,
 *     and the kernel decides every real call in three instructions.
 *     (Lesson 10's filter walks about 70 comparisons for a call it does
 *     not name, and installs in about 0.15 ms.)
 *
 * With --cgroup or --bridge, the child waits for the parent's byte on a
 * pipe before it goes on, as any runtime's must. Built by `just bench`
 * with `musl-gcc -static -O2`, as the runtime is built against musl: a
 * static glibc program spends 0.3 to 0.6 ms of every start probing the
 * CPU in a VM, which is neither the kernel's work nor a runtime's. It leaves the
 * host as it found it: its mounts are in its own mount
 * namespace, made private before anything is mounted, and what it adds
 * to the host (cgroups, a bridge, a veth pair) it removes, also when the
 * command fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BRIDGE "nslab-floor0"
#define HOST_END "nslab-floor-h"
#define MAX_CGROUPS 8

static char stack[64 * 1024];
static int go[2] = {-1, -1};
static int harden;
static const char *v1_cgroups[MAX_CGROUPS];
static int v1_cgroup_count;

/* Docker's masked and read-only paths, as lesson 10 uses them. */
static const char *const masked[] = {
    "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore",
    "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
    "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
};
static const char *const read_only[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};
/* Docker's 14 capabilities. */
static const int kept[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID,
    CAP_SETUID, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SYS_CHROOT,
    CAP_MKNOD, CAP_AUDIT_WRITE, CAP_SETFCAP,
};
#define FILTER_LENGTH 230

static int kept_capability(int capability) {
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        if (kept[i] == capability)
            return 1;
    return 0;
}

static int hide_paths(void) {
    for (size_t i = 0; i < sizeof masked / sizeof masked[0]; i++) {
        struct stat seen;
        if (stat(masked[i], &seen) != 0)
            continue;
        int hidden = S_ISDIR(seen.st_mode)
            ? mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, NULL)
            : mount("/dev/null", masked[i], NULL, MS_BIND, NULL);
        if (hidden != 0)
            return -1;
    }
    for (size_t i = 0; i < sizeof read_only / sizeof read_only[0]; i++) {
        if (access(read_only[i], F_OK) != 0)
            continue;
        if (mount(read_only[i], read_only[i], NULL, MS_BIND | MS_REC, NULL) != 0 ||
            mount(NULL, read_only[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0)
            return -1;
    }
    return 0;
}

static int drop_privileges(void) {
    for (int capability = 0; prctl(PR_CAPBSET_READ, capability) >= 0; capability++)
        if (!kept_capability(capability) && prctl(PR_CAPBSET_DROP, capability) != 0)
            return -1;
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {{0}};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        data[kept[i] / 32].effective |= 1u << (kept[i] % 32);
        data[kept[i] / 32].permitted |= 1u << (kept[i] % 32);
    }
    if (syscall(SYS_capset, &header, data) != 0)
        return -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    /* Load the number; below 1000 (every real call), allow at once;
     * refuse each of the numbers from 1000 on, which no call has. */
    struct sock_filter filter[FILTER_LENGTH];
    int length = 0;
    filter[length++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    int refused = FILTER_LENGTH - 4;
    filter[length++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 1000, 0, refused);
    for (int i = 0; i < refused; i++)
        filter[length++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1000 + i, refused - i, 0);
    filter[length++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    filter[length++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    struct sock_fprog program = {.len = length, .filter = filter};
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program);
}

static const char *rootfs;

static int write_file(const char *path, const char *value) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t written = write(fd, value, strlen(value));
    close(fd);
    return written == (ssize_t)strlen(value) ? 0 : -1;
}

/* mount(2) at DIR/where (DIR is the rootfs, the current directory). */
static int mount_at(const char *source, const char *where, const char *type, unsigned long flags, const char *options) {
    char target[4096];
    snprintf(target, sizeof target, "%s/%s", rootfs, where);
    if (mount(source, target, type, flags, options) != 0) {
        fprintf(stderr, "floor: mount %s on %s: %s\n", type ? type : source, target, strerror(errno));
        return -1;
    }
    return 0;
}

/* A file at DIR/path to mount on, created if missing. */
static int mount_point(const char *path) {
    char target[4096];
    snprintf(target, sizeof target, "%s/%s", rootfs, path);
    int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* Lesson 04's root filesystem, then pivot_root into it. */
static int enter_rootfs(void) {
    static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
    static const char *const links[][2] = {
        {"pts/ptmx", "dev/ptmx"}, {"/proc/self/fd", "dev/fd"}, {"/proc/self/fd/0", "dev/stdin"},
        {"/proc/self/fd/1", "dev/stdout"}, {"/proc/self/fd/2", "dev/stderr"}};
    static const char *const etc[][2] = {
        {"hostname", "container\n"},
        {"hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tcontainer\n"},
        {"resolv.conf", "nameserver 10.0.2.3\n"}};
    const unsigned long hidden = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    char path[4096], source[4096];
    if (mount_at(rootfs, "", NULL, MS_BIND | MS_REC, NULL) != 0 ||
        mount_at("proc", "proc", "proc", hidden, NULL) != 0 ||
        mount_at("sysfs", "sys", "sysfs", hidden | MS_RDONLY, NULL) != 0 ||
        mount_at("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0 ||
        mount_at("tmpfs", "run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755") != 0 ||
        mount_at("tmpfs", "dev", "tmpfs", hidden, "mode=755,size=64k") != 0)
        return -1;
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        snprintf(path, sizeof path, "dev/%s", devices[i]);
        snprintf(source, sizeof source, "/dev/%s", devices[i]);
        if (mount_point(path) != 0 || mount_at(source, path, NULL, MS_BIND, NULL) != 0)
            return -1;
    }
    for (const char *const *dir = (const char *const[]){"dev/pts", "dev/shm", "dev/mqueue", NULL}; *dir; dir++) {
        snprintf(path, sizeof path, "%s/%s", rootfs, *dir);
        if (mkdir(path, 0755) != 0)
            return -1;
    }
    if (mount_at("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") != 0 ||
        mount_at("tmpfs", "dev/shm", "tmpfs", hidden, "mode=1777") != 0 ||
        mount_at("mqueue", "dev/mqueue", "mqueue", hidden, NULL) != 0)
        return -1;
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", rootfs, links[i][1]);
        if (symlink(links[i][0], path) != 0)
            return -1;
    }
    for (size_t i = 0; i < sizeof etc / sizeof etc[0]; i++) {
        snprintf(source, sizeof source, "%s/run/%s", rootfs, etc[i][0]);
        int fd = open(source, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, etc[i][1], strlen(etc[i][1])) < 0)
            return -1;
        close(fd);
        snprintf(path, sizeof path, "etc/%s", etc[i][0]);
        if (mount_point(path) != 0 || mount_at(source, path, NULL, MS_BIND, NULL) != 0 ||
            mount_at(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0)
            return -1;
    }
    if (chdir(rootfs) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 || umount2(".", MNT_DETACH) != 0 ||
        chdir("/") != 0)
        return -1;
    return 0;
}

static int child(void *argv) {
    char **command = argv;
    if (go[0] >= 0) {
        char byte;
        close(go[1]);
        if (read(go[0], &byte, 1) != 1)
            return 125;
    }
    for (int i = 0; i < v1_cgroup_count; i++) {
        char tasks[4096];
        snprintf(tasks, sizeof tasks, "%s/tasks", v1_cgroups[i]);
        if (write_file(tasks, "0") != 0) {
            perror("floor: move into the cgroup");
            return 125;
        }
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        perror("floor: make mounts private");
        return 125;
    }
    if (rootfs != NULL) {
        if (enter_rootfs() != 0) {
            perror("floor: the rootfs");
            return 125;
        }
    } else if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
        perror("floor: mount /proc");
        return 125;
    }
    if (harden && (hide_paths() != 0 || drop_privileges() != 0)) {
        perror("floor: harden");
        return 125;
    }
    execv(command[0], command);
    perror("floor: exec");
    return 127;
}

/* rmdir, retried while the kernel still counts the ended child in it. */
static void remove_cgroup(const char *dir) {
    for (int tries = 0; tries < 1000; tries++) {
        if (rmdir(dir) == 0 || errno != EBUSY)
            return;
        struct timespec millisecond = {0, 1000000};
        nanosleep(&millisecond, NULL);
    }
}

/* A netlink request in one buffer: the header, an ifinfomsg, attributes. */
struct request {
    struct nlmsghdr header;
    char body[1024];
};

static void *tail(struct nlmsghdr *header) {
    return (char *)header + NLMSG_ALIGN(header->nlmsg_len);
}

static struct rtattr *add_attribute(struct nlmsghdr *header, int type, const void *data, int length) {
    struct rtattr *attribute = tail(header);
    attribute->rta_type = type;
    attribute->rta_len = RTA_LENGTH(length);
    if (length > 0)
        memcpy(RTA_DATA(attribute), data, length);
    header->nlmsg_len = NLMSG_ALIGN(header->nlmsg_len) + RTA_ALIGN(attribute->rta_len);
    return attribute;
}

static void end_nest(struct nlmsghdr *header, struct rtattr *nest) {
    nest->rta_len = (char *)tail(header) - (char *)nest;
}

static struct ifinfomsg *start_link(struct request *request, int type, int flags) {
    memset(request, 0, sizeof *request);
    request->header.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    request->header.nlmsg_type = type;
    request->header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    return NLMSG_DATA(&request->header);
}

/* Send, and wait for the kernel's acknowledgement: 0, or -errno. */
static int talk(int sock, struct request *request) {
    if (send(sock, request, request->header.nlmsg_len, 0) < 0)
        return -errno;
    char answer[4096];
    ssize_t length = recv(sock, answer, sizeof answer, 0);
    if (length < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)))
        return -EIO;
    struct nlmsgerr *error = NLMSG_DATA((struct nlmsghdr *)answer);
    return error->error;
}

/* ip link add BRIDGE type bridge; ip link set BRIDGE up */
static int add_bridge(int sock) {
    struct request request;
    struct ifinfomsg *link = start_link(&request, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    link->ifi_flags = link->ifi_change = IFF_UP;
    add_attribute(&request.header, IFLA_IFNAME, BRIDGE, sizeof BRIDGE);
    struct rtattr *info = add_attribute(&request.header, IFLA_LINKINFO, NULL, 0);
    add_attribute(&request.header, IFLA_INFO_KIND, "bridge", sizeof "bridge");
    end_nest(&request.header, info);
    return talk(sock, &request);
}

/* ip link add HOST_END master BRIDGE up type veth peer name eth0 netns PID */
static int add_veth_pair(int sock, pid_t container) {
    struct request request;
    struct ifinfomsg *link = start_link(&request, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    link->ifi_flags = link->ifi_change = IFF_UP;
    int bridge = if_nametoindex(BRIDGE);
    if (bridge == 0)
        return -ENODEV;
    add_attribute(&request.header, IFLA_IFNAME, HOST_END, sizeof HOST_END);
    add_attribute(&request.header, IFLA_MASTER, &bridge, sizeof bridge);
    struct rtattr *info = add_attribute(&request.header, IFLA_LINKINFO, NULL, 0);
    add_attribute(&request.header, IFLA_INFO_KIND, "veth", sizeof "veth");
    struct rtattr *data = add_attribute(&request.header, IFLA_INFO_DATA, NULL, 0);
    struct rtattr *peer = add_attribute(&request.header, 1 /* VETH_INFO_PEER */, NULL, 0);
    struct ifinfomsg peer_link = {0};
    memcpy(tail(&request.header), &peer_link, sizeof peer_link);
    request.header.nlmsg_len += NLMSG_ALIGN(sizeof peer_link);
    add_attribute(&request.header, IFLA_IFNAME, "eth0", sizeof "eth0");
    uint32_t pid = container;
    add_attribute(&request.header, IFLA_NET_NS_PID, &pid, sizeof pid);
    end_nest(&request.header, peer);
    end_nest(&request.header, data);
    end_nest(&request.header, info);
    return talk(sock, &request);
}

/* ip link del NAME */
static void delete_link(int sock, const char *name) {
    struct request request;
    start_link(&request, RTM_DELLINK, 0);
    add_attribute(&request.header, IFLA_IFNAME, name, strlen(name) + 1);
    talk(sock, &request);
}

int main(int argc, char **argv) {
    const char *cgroups[MAX_CGROUPS];
    const char *settings[MAX_CGROUPS * 2];
    int cgroup_count = 0, setting_count = 0, bridge = 0;
    int first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        if (strcmp(argv[first], "--bridge") == 0) {
            bridge = 1;
        } else if (strcmp(argv[first], "--harden") == 0) {
            harden = 1;
        } else if (strcmp(argv[first], "--rootfs") == 0 && first + 1 < argc) {
            rootfs = argv[++first];
        } else if (strcmp(argv[first], "--cgroup") == 0 && first + 1 < argc && cgroup_count < MAX_CGROUPS) {
            cgroups[cgroup_count++] = argv[++first];
        } else if (strcmp(argv[first], "--set") == 0 && first + 1 < argc && setting_count < MAX_CGROUPS * 2) {
            settings[setting_count++] = argv[++first];
        } else {
            break;
        }
    }
    if (first >= argc || argv[first][0] == '-') {
        fprintf(stderr, "usage: floor [--rootfs DIR] [--cgroup DIR]... [--set FILE=VALUE]... [--bridge] [--harden] PROGRAM [ARG...]\n");
        return 125;
    }
    int status = 125;
    for (int i = 0; i < cgroup_count; i++) {
        if (mkdir(cgroups[i], 0755) != 0 && errno != EEXIST) {
            perror("floor: mkdir the cgroup");
            goto remove_cgroups;
        }
    }
    for (int i = 0; i < setting_count; i++) {
        char path[4096];
        const char *equals = strchr(settings[i], '=');
        if (equals == NULL || (size_t)(equals - settings[i]) >= sizeof path) {
            fprintf(stderr, "floor: --set takes FILE=VALUE, not %s\n", settings[i]);
            goto remove_cgroups;
        }
        memcpy(path, settings[i], equals - settings[i]);
        path[equals - settings[i]] = '\0';
        if (write_file(path, equals + 1) != 0) {
            perror("floor: write a limit");
            goto remove_cgroups;
        }
    }
    /* On v1 the child moves itself (it has a tasks file); on v2 the
     * parent moves it. */
    const char *v2_cgroups[MAX_CGROUPS];
    int v2_cgroup_count = 0;
    for (int i = 0; i < cgroup_count; i++) {
        char tasks[4096];
        snprintf(tasks, sizeof tasks, "%s/tasks", cgroups[i]);
        if (access(tasks, F_OK) == 0)
            v1_cgroups[v1_cgroup_count++] = cgroups[i];
        else
            v2_cgroups[v2_cgroup_count++] = cgroups[i];
    }
    int sock = -1;
    if (bridge) {
        sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (sock < 0) {
            perror("floor: netlink");
            goto remove_cgroups;
        }
    }
    if ((cgroup_count > 0 || bridge) && pipe2(go, O_CLOEXEC) != 0) {
        perror("floor: pipe");
        goto remove_links;
    }
    int flags = CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNS | SIGCHLD;
    if (bridge)
        flags |= CLONE_NEWNET;
    pid_t pid = clone(child, stack + sizeof stack, flags, argv + first);
    if (pid < 0) {
        perror("floor: clone");
        goto remove_links;
    }
    int ready = 1;
    if (go[0] >= 0)
        close(go[0]);
    char pid_text[16];
    snprintf(pid_text, sizeof pid_text, "%d", pid);
    for (int i = 0; i < v2_cgroup_count && ready; i++) {
        char procs[4096];
        snprintf(procs, sizeof procs, "%s/cgroup.procs", v2_cgroups[i]);
        if (write_file(procs, pid_text) != 0) {
            perror("floor: move the child into its cgroup");
            ready = 0;
        }
    }
    if (bridge && ready) {
        int error = add_bridge(sock);
        if (error == 0)
            error = add_veth_pair(sock, pid);
        if (error != 0) {
            fprintf(stderr, "floor: the bridge and veth pair: %s\n", strerror(-error));
            ready = 0;
        }
    }
    if (go[1] >= 0) {
        if (ready && write(go[1], "g", 1) != 1)
            ready = 0;
        close(go[1]);
    }
    int waited;
    if (waitpid(pid, &waited, 0) < 0) {
        perror("floor: wait");
    } else if (ready) {
        status = WIFEXITED(waited) ? WEXITSTATUS(waited) : 128 + WTERMSIG(waited);
    }
remove_links:
    if (bridge && sock >= 0) {
        delete_link(sock, HOST_END);
        delete_link(sock, BRIDGE);
        close(sock);
    }
remove_cgroups:
    for (int i = 0; i < cgroup_count; i++)
        remove_cgroup(cgroups[i]);
    return status;
}
