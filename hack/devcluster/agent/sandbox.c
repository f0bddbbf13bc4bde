// The dev cluster's container runtime in one process: a private mount namespace, a fresh
// tmpfs root, the image's folders as copy-on-write layers (overlayfs over the host folder, the
// writes kept in memory), a minimal /dev, the pod's volumes at their mountPaths, then chroot,
// the container's groups and user, and exec. Compiled by the node agent on first use
// (sandbox-binary.ts); its command line is built and tested in sandbox.ts:
//   --root DIR  --layer SRC DST  --bind SRC DST ro|rw  --link TARGET PATH  --read-only-root
//   --user UID  --group GID  --groups G1,G2  --workdir DIR  --cgroup DIR...  --  ARGV...
// With --cgroup (once per cgroup hierarchy) the process first moves itself into those cgroups
// (its memory and CPU limits), so that everything the container does is charged there.
// The layers' upper and work folders live on a second tmpfs at DIR.layers, outside the root.
// Exit codes when the command never starts: 125 (setting up the container failed), 126 (found
// but not executable), 127 (not found), each with one "sandbox: ..." line on stderr.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_ITEMS 256

static void die(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("sandbox: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(code);
}

static void mkdirs(const char *path, mode_t mode) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) die(125, "path too long: %s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) die(125, "mkdir %s: %s", buf, strerror(errno));
    *p = '/';
  }
  if (mkdir(buf, mode) != 0 && errno != EEXIST) die(125, "mkdir %s: %s", buf, strerror(errno));
}

static void parent_dirs(const char *path) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  char *slash = strrchr(buf, '/');
  if (slash && slash != buf) {
    *slash = 0;
    mkdirs(buf, 0755);
  }
}

static void touch(const char *path) {
  parent_dirs(path);
  int fd = open(path, O_WRONLY | O_CREAT, 0644);
  if (fd < 0 && errno != EISDIR) die(125, "create %s: %s", path, strerror(errno));
  if (fd >= 0) close(fd);
}

static void do_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
  if (mount(src, dst, type, flags, data) != 0) die(125, "mount %s on %s: %s", src ? src : "(none)", dst, strerror(errno));
}

static void bind(const char *src, const char *dst, int read_only) {
  struct stat st;
  if (stat(src, &st) != 0) die(125, "bind %s: %s", src, strerror(errno));
  if (S_ISDIR(st.st_mode)) mkdirs(dst, 0755);
  else touch(dst);
  do_mount(src, dst, NULL, MS_BIND | MS_REC, NULL);
  if (read_only) do_mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_REC, NULL);
}

static char *in_root(const char *root, const char *path) {
  static char bufs[4][PATH_MAX];
  static int next;
  char *buf = bufs[next++ % 4];
  if (snprintf(buf, PATH_MAX, "%s%s", root, path) >= PATH_MAX) die(125, "path too long: %s%s", root, path);
  return buf;
}

static void minimal_dev(const char *root) {
  const char *dev = in_root(root, "/dev");
  mkdirs(dev, 0755);
  do_mount("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=755");
  const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
  for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
    char host[64], path[PATH_MAX];
    snprintf(host, sizeof host, "/dev/%s", nodes[i]);
    snprintf(path, sizeof path, "%s/dev/%s", root, nodes[i]);
    touch(path);
    do_mount(host, path, NULL, MS_BIND, NULL);
  }
  const char *shm = in_root(root, "/dev/shm");
  mkdirs(shm, 01777);
  do_mount("tmpfs", shm, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  mkdirs(in_root(root, "/dev/pts"), 0755);
  const char *links[][2] = {{"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}};
  for (size_t i = 0; i < 4; i++) symlink(links[i][0], in_root(root, links[i][1]));
}

static int parse_groups(const char *list, gid_t *out) {
  int n = 0;
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *tok = strtok(buf, ","); tok && n < MAX_ITEMS; tok = strtok(NULL, ",")) out[n++] = (gid_t)strtoul(tok, NULL, 10);
  return n;
}

static void join_cgroup(const char *dir) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= (int)sizeof path) die(125, "path too long: %s", dir);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(125, "open %s: %s", path, strerror(errno));
  char pid[32];
  int n = snprintf(pid, sizeof pid, "%d", (int)getpid());
  if (write(fd, pid, (size_t)n) != n) die(125, "join cgroup %s: %s", dir, strerror(errno));
  close(fd);
}

int main(int argc, char **argv) {
  const char *root = NULL, *workdir = "/", *cgroups[8];
  int ncgroups = 0;
  const char *binds[MAX_ITEMS][3], *links[MAX_ITEMS][2], *layers[MAX_ITEMS][2];
  int nbinds = 0, nlinks = 0, nlayers = 0, ro_root = 0, ngroups = 0;
  uid_t uid = 0;
  gid_t gid = 0, groups[MAX_ITEMS];
  pid_t parent = getppid();
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) { i++; break; }
    if (!strcmp(a, "--root") && i + 1 < argc) root = argv[++i];
    else if (!strcmp(a, "--bind") && i + 3 < argc && nbinds < MAX_ITEMS) { binds[nbinds][0] = argv[i + 1]; binds[nbinds][1] = argv[i + 2]; binds[nbinds][2] = argv[i + 3]; nbinds++; i += 3; }
    else if (!strcmp(a, "--layer") && i + 2 < argc && nlayers < MAX_ITEMS) { layers[nlayers][0] = argv[i + 1]; layers[nlayers][1] = argv[i + 2]; nlayers++; i += 2; }
    else if (!strcmp(a, "--link") && i + 2 < argc && nlinks < MAX_ITEMS) { links[nlinks][0] = argv[i + 1]; links[nlinks][1] = argv[i + 2]; nlinks++; i += 2; }
    else if (!strcmp(a, "--read-only-root")) ro_root = 1;
    else if (!strcmp(a, "--user") && i + 1 < argc) uid = (uid_t)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(a, "--group") && i + 1 < argc) gid = (gid_t)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(a, "--groups") && i + 1 < argc) ngroups = parse_groups(argv[++i], groups);
    else if (!strcmp(a, "--workdir") && i + 1 < argc) workdir = argv[++i];
    else if (!strcmp(a, "--cgroup") && i + 1 < argc && ncgroups < 8) cgroups[ncgroups++] = argv[++i];
    else die(125, "unknown or incomplete argument %s", a);
  }
  if (!root || i >= argc) die(125, "usage: --root DIR [options] -- ARGV...");
  for (int c = 0; c < ncgroups; c++) join_cgroup(cgroups[c]);

  if (unshare(CLONE_NEWNS) != 0) die(125, "unshare(CLONE_NEWNS): %s", strerror(errno));
  do_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  do_mount("tmpfs", root, "tmpfs", MS_NOSUID, "mode=755");
  minimal_dev(root);
  const char *dirs[][2] = {{"/proc", "755"}, {"/sys", "755"}, {"/tmp", "1777"}, {"/var/tmp", "1777"}};
  for (size_t d = 0; d < 4; d++) {
    const char *p = in_root(root, dirs[d][0]);
    mkdirs(p, 0755);
    chmod(p, (mode_t)strtoul(dirs[d][1], NULL, 8));
  }
  do_mount("/proc", in_root(root, "/proc"), NULL, MS_BIND | MS_REC, NULL);
  do_mount("/sys", in_root(root, "/sys"), NULL, MS_BIND | MS_REC, NULL);
  mount(NULL, in_root(root, "/sys"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
  char store[PATH_MAX];
  if (snprintf(store, sizeof store, "%s.layers", root) >= (int)sizeof store) die(125, "path too long: %s", root);
  mkdirs(store, 0700);
  do_mount("tmpfs", store, "tmpfs", MS_NOSUID, "mode=700");
  for (int l = 0; l < nlayers; l++) {
    char upper[PATH_MAX + 32], work[PATH_MAX + 32], opts[3 * PATH_MAX + 128];
    snprintf(upper, sizeof upper, "%s/%d/upper", store, l);
    snprintf(work, sizeof work, "%s/%d/work", store, l);
    mkdirs(upper, 0755);
    mkdirs(work, 0755);
    snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", layers[l][0], upper, work);
    const char *dst = in_root(root, layers[l][1]);
    mkdirs(dst, 0755);
    do_mount("overlay", dst, "overlay", 0, opts);
  }
  for (int l = 0; l < nlinks; l++) {
    const char *path = in_root(root, links[l][1]);
    parent_dirs(path);
    if (symlink(links[l][0], path) != 0 && errno != EEXIST) die(125, "symlink %s: %s", path, strerror(errno));
  }
  for (int b = 0; b < nbinds; b++) bind(binds[b][0], in_root(root, binds[b][1]), !strcmp(binds[b][2], "ro"));
  // As runc: a missing working directory is created (in the root filesystem or a volume).
  struct stat wd;
  if (stat(in_root(root, workdir), &wd) != 0) mkdirs(in_root(root, workdir), 0755);
  if (ro_root) {
    for (int l = 0; l < nlayers; l++) do_mount(NULL, in_root(root, layers[l][1]), NULL, MS_REMOUNT | MS_RDONLY, NULL);
    do_mount(NULL, root, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID, NULL);
  }

  if (chdir(root) != 0 || chroot(root) != 0) die(125, "chroot %s: %s", root, strerror(errno));
  if (setgroups((size_t)ngroups, groups) != 0) die(125, "setgroups: %s", strerror(errno));
  if (setresgid(gid, gid, gid) != 0) die(125, "setresgid %u: %s", gid, strerror(errno));
  if (setresuid(uid, uid, uid) != 0) die(125, "setresuid %u: %s", uid, strerror(errno));
  // After the user change (which clears it): the container dies with the node agent.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) exit(125);
  if (chdir(workdir) != 0) die(125, "cannot change to the working directory %s: %s", workdir, strerror(errno));
  execvp(argv[i], &argv[i]);
  int code = errno == ENOENT ? 127 : 126;
  die(code, "exec %s: %s", argv[i], errno == ENOENT ? "executable file not found in $PATH" : strerror(errno));
  return code;
}
