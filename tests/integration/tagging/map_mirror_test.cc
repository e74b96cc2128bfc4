// U32MapMirror on a real BPF hash map: the first sync reads the map and makes it equal; later
// ones write only what changed since (nothing read); a failure makes the next one read again.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "lib/core/unique_fd.h"
#include "netd/kernel/bpf/map_sync.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_macros.h"

namespace netd::kernel {
namespace {

using Marks = std::map<uint32_t, uint32_t>;

class MapMirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NETD_REQUIRE_ROOT();
    fd_ = bpf_map_create(BPF_MAP_TYPE_HASH, "mirror_test", 4, 4, 64, nullptr);
    ASSERT_GE(fd_, 0) << strerror(errno);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
  }
  Marks contents() {
    auto read = read_u32_map(fd_, "mirror_test");
    EXPECT_OK(read);
    return read.ok() ? *read : Marks{};
  }
  void put(uint32_t key, uint32_t value) { ASSERT_EQ(bpf_map_update_elem(fd_, &key, &value, BPF_ANY), 0); }
  int fd_ = -1;
};

TEST_F(MapMirrorTest, TheFirstSyncReadsTheMapLaterOnesWriteTheChange) {
  put(99, 1);  // left by an earlier netd
  U32MapMirror mirror;
  ASSERT_OK(mirror.sync(fd_, "mirror_test", {{1001, 0x70000}, {1002, 0x80000}}));
  EXPECT_EQ(contents(), (Marks{{1001, 0x70000}, {1002, 0x80000}})) << "the stray entry went";
  ASSERT_OK(mirror.sync(fd_, "mirror_test", {{1001, 0x70000}, {1003, 0x90000}}));
  EXPECT_EQ(contents(), (Marks{{1001, 0x70000}, {1003, 0x90000}}));
  // A change behind netd's back is not read back by a later sync: the mirror trusts that it
  // is the map's only writer (the pins are root's); a restart (a new mirror) repairs it.
  put(1001, 0x50000);
  ASSERT_OK(mirror.sync(fd_, "mirror_test", {{1001, 0x70000}, {1003, 0x90000}}));
  EXPECT_EQ(contents().at(1001), 0x50000u);
  U32MapMirror restarted;
  ASSERT_OK(restarted.sync(fd_, "mirror_test", {{1001, 0x70000}, {1003, 0x90000}}));
  EXPECT_EQ(contents(), (Marks{{1001, 0x70000}, {1003, 0x90000}}));
}

TEST_F(MapMirrorTest, ForgettingTheMirrorsMakesTheNextSyncReadTheMap) {
  U32MapMirror mirror;
  ASSERT_OK(mirror.sync(fd_, "mirror_test", {{1001, 0x70000}, {1002, 0x80000}}));
  ASSERT_EQ(bpf_map_delete_elem(fd_, &(const uint32_t&)1001u), 0);  // root, behind netd's back
  put(77, 7);
  forget_map_mirrors();  // netd's scheduled check
  ASSERT_OK(mirror.sync(fd_, "mirror_test", {{1001, 0x70000}, {1002, 0x80000}}));
  EXPECT_EQ(contents(), (Marks{{1001, 0x70000}, {1002, 0x80000}}));
  // Only the one sync after: later ones work from memory again.
  put(77, 7);
  ASSERT_OK(mirror.sync(fd_, "mirror_test", {{1001, 0x70000}, {1002, 0x80000}}));
  EXPECT_EQ(contents().count(77), 1u);
}

TEST_F(MapMirrorTest, AFailedSyncMakesTheNextOneReadTheMap) {
  U32MapMirror mirror;
  ASSERT_OK(mirror.sync(fd_, "mirror_test", {{1, 1}}));
  Marks too_many;
  for (uint32_t k = 0; k < 100; ++k) too_many[k] = k + 1;  // the map holds 64
  auto st = mirror.sync(fd_, "mirror_test", too_many);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("setting mirror_test["), std::string::npos) << st.error().message;
  EXPECT_EQ(contents().size(), 64u) << "what the failed sync wrote before the map was full";
  ASSERT_OK(mirror.sync(fd_, "mirror_test", {{1, 1}}));
  EXPECT_EQ(contents(), (Marks{{1, 1}}));
}

// update writes the keys named and nothing else, from what the mirror knows; while it knows
// nothing (no sync yet, or a failed write since) it refuses, and a whole sync is needed.
TEST_F(MapMirrorTest, AnUpdateWritesTheNamedKeysFromWhatTheMirrorKnows) {
  U32MapMirror mirror;
  EXPECT_ERR(mirror.update(fd_, "mirror_test", {{{1, 1}}, {}}), ESTALE, "unknown");
  ASSERT_OK(mirror.sync(fd_, "mirror_test", {{1001, 0x70000}, {1002, 0x80000}, {1003, 0x90000}}));
  // 1002 moves to another mark and stays (set and unset: set wins), 1003 goes, 1004 comes;
  // unsetting a key the map lacks is no error.
  ASSERT_OK(mirror.update(fd_, "mirror_test", {{{1002, 0xa0000}, {1004, 0xb0000}}, {1002, 1003, 1005}}));
  EXPECT_EQ(contents(), (Marks{{1001, 0x70000}, {1002, 0xa0000}, {1004, 0xb0000}}));
  // The update is remembered: a later whole sync writes only what differs from it.
  ASSERT_OK(mirror.sync(fd_, "mirror_test", {{1001, 0x70000}, {1002, 0xa0000}}));
  EXPECT_EQ(contents(), (Marks{{1001, 0x70000}, {1002, 0xa0000}}));
  // A failed update leaves the mirror knowing nothing.
  U32MapChanges too_many;
  for (uint32_t k = 0; k < 100; ++k) too_many.set[k] = k + 1;  // the map holds 64
  EXPECT_FALSE(mirror.update(fd_, "mirror_test", too_many).ok());
  EXPECT_ERR(mirror.update(fd_, "mirror_test", {{{1, 1}}, {}}), ESTALE, "unknown");
  ASSERT_OK(mirror.sync(fd_, "mirror_test", {{1, 1}}));
  EXPECT_EQ(contents(), (Marks{{1, 1}}));
  // Nor does it after forget_map_mirrors() (netd's check of the kernel), until a sync.
  forget_map_mirrors();
  EXPECT_ERR(mirror.update(fd_, "mirror_test", {{{2, 2}}, {}}), ESTALE, "unknown");
  EXPECT_EQ(contents(), (Marks{{1, 1}})) << "nothing written";
  ASSERT_OK(mirror.sync(fd_, "mirror_test", {{1, 1}}));
  ASSERT_OK(mirror.update(fd_, "mirror_test", {{{2, 2}}, {1}}));
  EXPECT_EQ(contents(), (Marks{{2, 2}}));
}

}  // namespace
}  // namespace netd::kernel
