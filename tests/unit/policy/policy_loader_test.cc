// PolicyLoader: reloads read only the files that changed (inotify on the policy directories),
// and give exactly what load_policy gives on the same files, refusals included.
#include <unistd.h>

#include <filesystem>

#include "netd/policy/loader.h"
#include "tests/unit/policy/policy_test_util.h"

namespace netd::policy {
namespace {

using testing::netd_table;
using testing::slice_table;

class Reloads : public testing::PolicyDirTest {
 protected:
  // alice in the main file, one drop-in per slice s10..s(10+n-1).
  void write_slices(int n) {
    write("policy.toml", netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/24"));
    for (int id = 10; id < 10 + n; ++id) write(drop_in(id), slice(id));
  }
  static std::string drop_in(int id) { return "policy.d/s" + std::to_string(id) + ".toml"; }
  static std::string slice(int id, const std::string& extra = "") {
    return slice_table("s" + std::to_string(id), id, 2000 + id, "10.100." + std::to_string(id) + ".0/24", extra);
  }
  // The loader's view equals a fresh load of the same files.
  void expect_as_fresh(const Policy& loaded) {
    auto fresh = load_policy(main_);
    ASSERT_OK(fresh);
    ASSERT_EQ(loaded.slices.size(), fresh->slices.size());
    for (size_t i = 0; i < loaded.slices.size(); ++i) {
      EXPECT_EQ(loaded.slices[i].name, fresh->slices[i].name);
      EXPECT_EQ(loaded.slices[i].uids, fresh->slices[i].uids);
      EXPECT_EQ(loaded.slices[i].max_routes, fresh->slices[i].max_routes);
      EXPECT_EQ(loaded.slices[i].source, fresh->slices[i].source);
    }
    EXPECT_TRUE(loaded.netd == fresh->netd);
  }
};

TEST_F(Reloads, ReadOnlyTheFilesThatChanged) {
  write_slices(20);
  PolicyLoader loader(main_);
  ASSERT_OK(loader.load());
  EXPECT_EQ(loader.last_files_read(), 21u);

  auto again = loader.load();
  ASSERT_OK(again);
  EXPECT_TRUE(loader.last_load_watched());
  EXPECT_EQ(loader.last_files_read(), 0u);
  expect_as_fresh(*again);

  // Rewritten in place with the same size, at once: the stamp may not tell, the event does.
  write(drop_in(15), slice(15, "max_routes = 63"));
  write(drop_in(16), slice(16, "max_routes = 64"));  // the default: same policy, still read
  auto changed = loader.load();
  ASSERT_OK(changed);
  EXPECT_EQ(loader.last_files_read(), 2u);
  EXPECT_EQ(changed->find_by_name("s15")->max_routes, 63u);
  expect_as_fresh(*changed);
  write(drop_in(15), slice(15, "max_routes = 62"));
  auto changed_again = loader.load();
  ASSERT_OK(changed_again);
  EXPECT_EQ(changed_again->find_by_name("s15")->max_routes, 62u);
}

TEST_F(Reloads, AddedAndRemovedDropInsAndTheMainFile) {
  write_slices(5);
  PolicyLoader loader(main_);
  ASSERT_OK(loader.load());
  write(drop_in(40), slice(40));
  ASSERT_EQ(::unlink(path(drop_in(12)).c_str()), 0);
  write("policy.d/.s41.toml.swp", "not a drop-in");  // the glob skips it, so does the loader
  auto p = loader.load();
  ASSERT_OK(p);
  EXPECT_EQ(loader.last_files_read(), 1u);
  EXPECT_NE(p->find_by_name("s40"), nullptr);
  EXPECT_EQ(p->find_by_name("s12"), nullptr);
  expect_as_fresh(*p);

  // Renamed over (how editors and config managers save): a new inode under the old name.
  write("policy.d/tmp.new", slice(11, "max_routes = 5"));
  std::filesystem::rename(path("policy.d/tmp.new"), path(drop_in(11)));
  write("policy.toml", netd_table("requests_per_second_per_uid = 77") + slice_table("alice", 7, 1001, "10.7.0.0/24"));
  p = loader.load();
  ASSERT_OK(p);
  EXPECT_EQ(p->find_by_name("s11")->max_routes, 5u);
  EXPECT_EQ(p->netd.requests_per_second_per_uid, 77u);
  expect_as_fresh(*p);
}

TEST_F(Reloads, APolicyDirectoryMadeLaterIsWatchedFromThen) {
  write("policy.toml", netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/24"));
  PolicyLoader loader(main_);
  ASSERT_OK(loader.load());
  write(drop_in(10), slice(10));
  auto p = loader.load();  // policy.d appeared: everything is listed and read again
  ASSERT_OK(p);
  EXPECT_FALSE(loader.last_load_watched());
  EXPECT_NE(p->find_by_name("s10"), nullptr);
  write(drop_in(11), slice(11));
  p = loader.load();
  ASSERT_OK(p);
  EXPECT_TRUE(loader.last_load_watched());
  EXPECT_EQ(loader.last_files_read(), 1u);
  EXPECT_NE(p->find_by_name("s11"), nullptr);
  std::filesystem::remove_all(path("policy.d"));
  p = loader.load();
  ASSERT_OK(p);
  EXPECT_EQ(p->slices.size(), 1u);
}

// A refusal between a slice read now and one remembered names both lines, as a fresh load does.
TEST_F(Reloads, ARefusalAgainstARememberedSliceNamesItsLine) {
  write_slices(5);
  PolicyLoader loader(main_);
  ASSERT_OK(loader.load());
  write(drop_in(40), slice_table("s40", 12, 2040, "10.100.40.0/24"));
  auto refused = loader.load();
  EXPECT_ERR(refused, EINVAL,
             path(drop_in(40)) + ":3: slice\\[s40\\]\\.id: 12 is already the id of slice s12 \\(" +
                 path(drop_in(12)) + ":3\\)");
  auto fresh = load_policy(main_);
  ASSERT_FALSE(fresh.ok());
  EXPECT_EQ(refused.error().message, fresh.error().message);
}

// Changes seen by a refused load are not lost: the next load still reads them.
TEST_F(Reloads, ARefusedLoadKeepsWhatItSawForTheNext) {
  write_slices(5);
  PolicyLoader loader(main_);
  ASSERT_OK(loader.load());
  write(drop_in(10), slice(10, "max_routes = 9"));
  write(drop_in(11), slice(11, "max_routes = \"many\""));  // not an integer
  EXPECT_ERR(loader.load(), EINVAL, "max_routes");
  write(drop_in(11), slice(11));
  auto p = loader.load();
  ASSERT_OK(p);
  EXPECT_EQ(p->find_by_name("s10")->max_routes, 9u);
  expect_as_fresh(*p);
}

// [netd] settings that change what a slice may hold check every slice again, remembered or not.
TEST_F(Reloads, ChangedSettingsCheckRememberedSlicesAgain) {
  write_slices(3);
  PolicyLoader loader(main_);
  ASSERT_OK(loader.load());
  // s12 (id 12) no longer fits a 3-bit mark mask.
  write("policy.toml", netd_table("mark_mask = 0x00070000\nraw_flag = 0x10000000") +
                           slice_table("alice", 7, 1001, "10.7.0.0/24"));
  auto refused = loader.load();
  ASSERT_FALSE(refused.ok());
  auto fresh = load_policy(main_);
  ASSERT_FALSE(fresh.ok());
  EXPECT_EQ(refused.error().message, fresh.error().message);
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr(path(drop_in(10)) + ":3"));
}

// A symlinked drop-in changes where no event is raised (its target's directory): it is compared
// by its stat every time, and read while it is younger than a second.
TEST_F(Reloads, ASymlinkedDropInIsNotTrustedToTheEvents) {
  write_slices(2);
  write("elsewhere/s30.toml", slice(30));
  std::filesystem::create_symlink(path("elsewhere/s30.toml"), path(drop_in(30)));
  PolicyLoader loader(main_);
  ASSERT_OK(loader.load());
  write("elsewhere/s30.toml", slice(30, "max_routes = 3"));
  auto p = loader.load();
  ASSERT_OK(p);
  EXPECT_EQ(p->find_by_name("s30")->max_routes, 3u);
}

TEST_F(Reloads, AMissingMainFileIsRefusedAsByLoadPolicy) {
  PolicyLoader loader(main_);
  EXPECT_ERR(loader.load(), ENOENT, "reading policy " + main_);
}

// Slices read are checked against the remembered ones by an index: every kind of key it holds
// is refused as a fresh load refuses it, and a key a changed file lets go is free in that load.
TEST_F(Reloads, EveryConflictWithARememberedSliceIsRefusedAsByLoadPolicy) {
  write_slices(5);
  write(drop_in(13), slice(13, "gids = [3013]"));
  write(drop_in(14), slice(14, "bind_ports = [\"6014\"]"));
  PolicyLoader loader(main_);
  ASSERT_OK(loader.load());
  const std::string conflicts[] = {
      slice_table("s11", 40, 2040, "10.100.40.0/24"),                          // name
      slice_table("s40", 40, 2011, "10.100.40.0/24"),                          // uid
      slice_table("s40", 40, 2040, "10.100.0.0/16"),                           // netblock around s10..
      slice_table("s40", 40, 2040, "10.100.12.128/25"),                        // netblock inside s12's
      slice_table("s40", 40, 2040, "10.7.0.0/25"),                             // alice's, in the main file
      slice_table("s40", 40, 2040, "10.100.40.0/24", "gids = [3013]"),        // gid
      slice_table("s40", 40, 2040, "10.100.40.0/24", "bind_ports = [\"6014\"]"),  // port
      slice_table("s40", 14, 2040, "10.100.40.0/24"),                          // id
  };
  for (const std::string& text : conflicts) {
    SCOPED_TRACE(text);
    write(drop_in(40), text);
    auto refused = loader.load();
    ASSERT_FALSE(refused.ok());
    auto fresh = load_policy(main_);
    ASSERT_FALSE(fresh.ok());
    EXPECT_EQ(refused.error().message, fresh.error().message);
  }
  write(drop_in(40), slice(40));
  ASSERT_OK(loader.load());  // every file read again: the refusals named remembered ones
  // s13's gid, s14's port and its netblock, given up in the same load that s40 takes them.
  write(drop_in(13), slice(13));
  write(drop_in(14), slice_table("s14", 14, 2014, "10.101.0.0/24"));
  write(drop_in(40), slice_table("s40", 40, 2040, "10.100.14.0/24", "gids = [3013]\nbind_ports = [\"6014\"]"));
  auto p = loader.load();
  ASSERT_OK(p);
  EXPECT_EQ(loader.last_files_read(), 3u);
  expect_as_fresh(*p);
  // And a removed file's keys are free for the next.
  ASSERT_EQ(::unlink(path(drop_in(40)).c_str()), 0);
  write(drop_in(41), slice_table("s41", 41, 2040, "10.100.14.0/24", "gids = [3013]"));
  p = loader.load();
  ASSERT_OK(p);
  expect_as_fresh(*p);
  // The index follows: s41's keys are held now.
  write(drop_in(42), slice_table("s42", 42, 2042, "10.100.14.0/25"));
  auto refused = loader.load();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, load_policy(main_).error().message);
}

// The list of drop-ins is the last one with the names that arrived and went merged in, in
// name order wherever they fall: first, between others, last.
TEST_F(Reloads, DropInsThatArriveAndGoKeepTheNameOrder) {
  write_slices(5);  // s10..s14
  PolicyLoader loader(main_);
  ASSERT_OK(loader.load());
  write("policy.d/a.toml", slice_table("a", 50, 2050, "10.100.50.0/24"));
  write("policy.d/s12b.toml", slice_table("s12b", 51, 2051, "10.100.51.0/24"));
  write("policy.d/z.toml", slice_table("z", 52, 2052, "10.100.52.0/24"));
  ASSERT_EQ(::unlink(path(drop_in(10)).c_str()), 0);
  ASSERT_EQ(::unlink(path(drop_in(14)).c_str()), 0);
  auto p = loader.load();
  ASSERT_OK(p);
  EXPECT_TRUE(loader.last_load_watched());
  EXPECT_EQ(loader.last_files_read(), 3u);
  expect_as_fresh(*p);
  ASSERT_EQ(::unlink(path("policy.d/a.toml").c_str()), 0);
  write(drop_in(10), slice(10));
  p = loader.load();
  ASSERT_OK(p);
  EXPECT_EQ(loader.last_files_read(), 1u);
  expect_as_fresh(*p);
}

}  // namespace
}  // namespace netd::policy
