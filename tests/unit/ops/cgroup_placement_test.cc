// Whether netd runs inside the policy's cgroup: the pure decisions over /proc texts.
#include "netd/kernel/bpf/cgroup_placement.h"

#include <gtest/gtest.h>

#include "tests/fixtures/test_macros.h"

namespace netd::kernel {
namespace {

// A hybrid host: v1 controllers on /sys/fs/cgroup/*, cgroup2 on /sys/fs/cgroup/unified.
constexpr const char* kHybridMountinfo =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";
// cgroup v2 only, plus a bind mount of a subtree at a path with a space in it.
constexpr const char* kUnifiedMountinfo =
    "25 22 0:23 / /proc rw - proc proc rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
    "50 22 0:27 /system.slice /run/my\\040cg rw - cgroup2 cgroup2 rw\n";

TEST(CgroupPlacement, NormalizesPaths) {
  EXPECT_EQ(normalize_cgroup_path(""), "/");
  EXPECT_EQ(normalize_cgroup_path("/"), "/");
  EXPECT_EQ(normalize_cgroup_path("//"), "/");
  EXPECT_EQ(normalize_cgroup_path("/a/b/"), "/a/b");
  EXPECT_EQ(normalize_cgroup_path("/a//b/./c/"), "/a/b/c");
  EXPECT_EQ(normalize_cgroup_path("/a/b/../c"), "/a/c");
  EXPECT_EQ(normalize_cgroup_path("/../a"), "/a");
}

TEST(CgroupPlacement, ContainsByComponentsNotPrefixes) {
  EXPECT_TRUE(cgroup_contains("/", "/"));
  EXPECT_TRUE(cgroup_contains("/", "/system.slice/netd.service"));
  EXPECT_TRUE(cgroup_contains("", "/x"));
  EXPECT_TRUE(cgroup_contains("/a/b", "/a/b"));
  EXPECT_TRUE(cgroup_contains("/a/b/", "/a/b"));
  EXPECT_TRUE(cgroup_contains("/a/b", "/a/b/"));
  EXPECT_TRUE(cgroup_contains("/a/b", "/a/b/c/d"));
  EXPECT_TRUE(cgroup_contains("/a//b", "/a/b/c"));
  EXPECT_FALSE(cgroup_contains("/a/b", "/a/bc"));
  EXPECT_FALSE(cgroup_contains("/a/b", "/a"));
  EXPECT_FALSE(cgroup_contains("/a/b", "/"));
  EXPECT_FALSE(cgroup_contains("/a/b", "/c/a/b"));
}

TEST(CgroupPlacement, ParsesTheV2Line) {
  auto hybrid = parse_v2_cgroup("9:name=systemd:/\n4:memory:/x/y\n1:cpu:/\n0::/system.slice/netd.service\n");
  ASSERT_TRUE(hybrid.ok());
  EXPECT_EQ(*hybrid, "/system.slice/netd.service");
  auto root = parse_v2_cgroup("0::/\n");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, "/");
  EXPECT_ERR(parse_v2_cgroup("4:memory:/x\n1:cpu:/\n"), ENOENT, "no cgroup v2 line");
}

TEST(CgroupPlacement, ResolvesDirectoriesAgainstTheCgroup2Mount) {
  auto hybrid_root = cgroup_of_fs_path(kHybridMountinfo, "/sys/fs/cgroup/unified");
  ASSERT_TRUE(hybrid_root.ok());
  EXPECT_EQ(*hybrid_root, "/");
  auto hybrid_child = cgroup_of_fs_path(kHybridMountinfo, "/sys/fs/cgroup/unified/netd-t1/");
  ASSERT_TRUE(hybrid_child.ok());
  EXPECT_EQ(*hybrid_child, "/netd-t1");
  // /sys/fs/cgroup on a hybrid host is a tmpfs, /sys/fs/cgroup/unifiedx no mount at all.
  EXPECT_ERR(cgroup_of_fs_path(kHybridMountinfo, "/sys/fs/cgroup"), ENOENT, "no cgroup v2 file system");
  EXPECT_ERR(cgroup_of_fs_path(kHybridMountinfo, "/sys/fs/cgroup/unifiedx"), ENOENT, "/sys/fs/cgroup/unifiedx");

  auto unified = cgroup_of_fs_path(kUnifiedMountinfo, "/sys/fs/cgroup/system.slice");
  ASSERT_TRUE(unified.ok());
  EXPECT_EQ(*unified, "/system.slice");
  // A mount of a subtree: its root is prepended, its escaped mount point unescaped.
  auto bound = cgroup_of_fs_path(kUnifiedMountinfo, "/run/my cg/netd.service");
  ASSERT_TRUE(bound.ok());
  EXPECT_EQ(*bound, "/system.slice/netd.service");
}

TEST(CgroupPlacement, DecidesInsideOrOutside) {
  auto service = cgroup_placement("0::/system.slice/netd.service\n", kUnifiedMountinfo, "/sys/fs/cgroup");
  ASSERT_TRUE(service.ok());
  EXPECT_TRUE(service->inside);
  EXPECT_EQ(service->configured, "/");

  auto sibling = cgroup_placement("0::/netd-t1x\n", kHybridMountinfo, "/sys/fs/cgroup/unified/netd-t1");
  ASSERT_TRUE(sibling.ok());
  EXPECT_FALSE(sibling->inside);
  EXPECT_EQ(sibling->own, "/netd-t1x");
  const std::string warning = outside_cgroup_warning(*sibling);
  EXPECT_NE(warning.find("netd runs in cgroup /netd-t1x, outside the policy's cgroup /sys/fs/cgroup/unified/netd-t1"),
            std::string::npos)
      << warning;
  EXPECT_NE(warning.find("their flows are not learned"), std::string::npos) << warning;
  EXPECT_NE(warning.find("their egress is not fenced"), std::string::npos) << warning;

  auto below = cgroup_placement("0::/netd-t1/netd\n", kHybridMountinfo, "/sys/fs/cgroup/unified/netd-t1");
  ASSERT_TRUE(below.ok());
  EXPECT_TRUE(below->inside);

  EXPECT_ERR(cgroup_placement("1:cpu:/\n", kHybridMountinfo, "/sys/fs/cgroup/unified"), ENOENT, "no cgroup v2 line");
}

}  // namespace
}  // namespace netd::kernel
