// SliceTagger: every socket of a slice member carries the slice mark from creation; the
// attachment is pinned, adopted on restart and removed by teardown.
#include "netd/kernel/bpf/slice_tagger.h"

#include <sys/stat.h>

#include "tests/integration/tagging/tagging_env.h"

namespace netd::testing {
namespace {

using kernel::SliceTagger;
using kernel::TaggingConfig;

class SliceTaggerTest : public TaggingTest {
 protected:
  TaggingConfig config(uint32_t mask = kMask) {
    // A subdirectory that does not exist yet: open() must create it.
    return TaggingConfig{bpffs_->path() + "/netd", cgroup_->path(), mask};
  }
  std::string pin(const std::string& name) { return bpffs_->path() + "/netd/tagging/" + name; }
  static bool exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }
  size_t sock_create_programs() {
    size_t n = 0;
    for (const auto& p : cgroup_programs())
      // bpftool 7.1 says "cgroup_inet_sock_create", older ones "sock_create".
      if (p.value("attach_type", "").ends_with("sock_create")) ++n;
    return n;
  }
};

TEST_F(SliceTaggerTest, MarksEverySocketKindOfAMemberOnly) {
  auto tagger = SliceTagger::open(config());
  ASSERT_OK(tagger);
  ASSERT_OK(tagger->sync({{kMember, kSliceMark}}, {}));

  nlohmann::json member = probe_marks(kMember, kMember);
  expect_all_marked(member, kSliceMark);
  // The member cannot change its mark: SO_MARK needs CAP_NET_ADMIN (or CAP_NET_RAW).
  EXPECT_EQ(member.value("set_mark", ""), "Operation not permitted") << member.dump();

  expect_all_marked(probe_marks(kStranger, kStranger), 0);
}

TEST_F(SliceTaggerTest, GidEntryAppliesWhenTheUidHasNone) {
  auto tagger = SliceTagger::open(config());
  ASSERT_OK(tagger);
  ASSERT_OK(tagger->sync({{kMember, kSliceMark}}, {{2000, 9u << 16}}));
  expect_all_marked(probe_marks(1003, 2000), 9u << 16);
  expect_all_marked(probe_marks(kMember, 2000), kSliceMark);  // uid wins
}

TEST_F(SliceTaggerTest, SyncMakesTheMapsEqual) {
  auto tagger = SliceTagger::open(config());
  ASSERT_OK(tagger);
  ASSERT_OK(tagger->sync({{kMember, kSliceMark}, {kStranger, 8u << 16}}, {{2000, 9u << 16}}));
  ASSERT_OK(tagger->sync({{kStranger, 8u << 16}}, {}));
  auto uids = tagger->uid_marks();
  ASSERT_OK(uids);
  EXPECT_EQ(*uids, (std::map<uint32_t, uint32_t>{{kStranger, 8u << 16}}));
  auto gids = tagger->gid_marks();
  ASSERT_OK(gids);
  EXPECT_TRUE(gids->empty());
  expect_all_marked(probe_marks(kMember, kMember), 0);
  expect_all_marked(probe_marks(kStranger, kStranger), 8u << 16);
}

TEST_F(SliceTaggerTest, RejectsMarksOutsideTheMask) {
  auto tagger = SliceTagger::open(config());
  ASSERT_OK(tagger);
  EXPECT_ERR(tagger->sync({{kMember, 0x1}}, {}), EINVAL, "outside mark_mask");
}

TEST_F(SliceTaggerTest, RefusesADirectoryNotOnBpffs) {
  // Missing, and its parent is not on bpffs: not created.
  std::string missing = "/tmp/netd-not-bpffs-" + std::to_string(::getpid());
  EXPECT_ERR(SliceTagger::open(TaggingConfig{missing, cgroup_->path(), kMask}), EINVAL, "/tmp is not on bpffs");
  EXPECT_FALSE(exists(missing));
  // Exists but is no bpffs.
  EXPECT_ERR(SliceTagger::open(TaggingConfig{"/tmp", cgroup_->path(), kMask}), EINVAL, "/tmp is not on bpffs");
}

TEST_F(SliceTaggerTest, PinnedTaggingOutlivesTheObjectAndIsAdoptedOnce) {
  {
    auto tagger = SliceTagger::open(config());
    ASSERT_OK(tagger);
    ASSERT_OK(tagger->sync({{kMember, kSliceMark}}, {}));
  }
  EXPECT_TRUE(exists(pin("sock_create_link")));
  EXPECT_TRUE(exists(pin("uid_marks")));
  EXPECT_TRUE(exists(pin("gid_marks")));
  EXPECT_EQ(sock_create_programs(), 1u);
  expect_all_marked(probe_marks(kMember, kMember), kSliceMark);  // nobody holds an fd now

  // A restarted netd adopts: same maps (contents kept), program swapped in the same link.
  auto again = SliceTagger::open(config());
  ASSERT_OK(again);
  auto uids = again->uid_marks();
  ASSERT_OK(uids);
  EXPECT_EQ(*uids, (std::map<uint32_t, uint32_t>{{kMember, kSliceMark}}));
  EXPECT_EQ(sock_create_programs(), 1u) << cgroup_programs().dump();
  expect_all_marked(probe_marks(kMember, kMember), kSliceMark);
}

TEST_F(SliceTaggerTest, ReopenWithAnotherMaskReplacesTheProgram) {
  {
    auto tagger = SliceTagger::open(config(kMask));
    ASSERT_OK(tagger);
    ASSERT_OK(tagger->sync({{kMember, kSliceMark}}, {}));
  }
  auto narrower = SliceTagger::open(config(0x000f0000));
  ASSERT_OK(narrower);
  // The old entry has bits outside the new mask: only the mask's bits are applied.
  expect_all_marked(probe_marks(kMember, kMember), kSliceMark & 0x000f0000);
  ASSERT_OK(narrower->sync({{kMember, 3u << 16}}, {}));
  expect_all_marked(probe_marks(kMember, kMember), 3u << 16);
  EXPECT_EQ(sock_create_programs(), 1u) << cgroup_programs().dump();
}

TEST_F(SliceTaggerTest, TeardownDetachesEvenWhileHeldAndRemovesPins) {
  auto tagger = SliceTagger::open(config());
  ASSERT_OK(tagger);
  ASSERT_OK(tagger->sync({{kMember, kSliceMark}}, {}));
  ASSERT_OK(SliceTagger::teardown(config().bpffs_dir));
  EXPECT_EQ(sock_create_programs(), 0u) << cgroup_programs().dump();
  expect_all_marked(probe_marks(kMember, kMember), 0);
  EXPECT_FALSE(exists(pin("")));
  EXPECT_FALSE(exists(config().bpffs_dir));
  ASSERT_OK(SliceTagger::teardown(config().bpffs_dir));  // nothing left: still fine
}

TEST_F(SliceTaggerTest, ReattachesWhenThePinnedLinkIsOnAnotherCgroup) {
  auto other = TestCgroup::create();
  ASSERT_OK(other);
  {
    auto tagger = SliceTagger::open(TaggingConfig{config().bpffs_dir, other->path(), kMask});
    ASSERT_OK(tagger);
  }
  auto tagger = SliceTagger::open(config());
  ASSERT_OK(tagger);
  ASSERT_OK(tagger->sync({{kMember, kSliceMark}}, {}));
  EXPECT_EQ(sock_create_programs(), 1u);
  expect_all_marked(probe_marks(kMember, kMember), kSliceMark);
  ProcessResult r = run_in(nullptr, {"bpftool", "-j", "cgroup", "show", other->path()});
  EXPECT_EQ(r.out.find("sock_create"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace netd::testing
