// Helpers shared by the policy tests: small valid documents to break one key at a time, and the line
// number of a marker so refusal tests assert the exact "file:line" without hand-counted constants.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "netd/policy/loader.h"
#include "tests/fixtures/test_macros.h"

namespace netd::policy::testing {

// 1-based line of the first line containing `marker` (0 when absent, which fails the regex).
inline int line_of(const std::string& doc, const std::string& marker) {
  auto pos = doc.find(marker);
  if (pos == std::string::npos) return 0;
  int line = 1;
  for (size_t i = 0; i < pos; ++i)
    if (doc[i] == '\n') ++line;
  return line;
}

// [netd] with uplinks = ["eth0"] unless `extra` sets uplinks itself.
inline std::string netd_table(const std::string& extra = "") {
  std::string uplinks = extra.find("uplinks") == std::string::npos ? "uplinks = [\"eth0\"]\n" : "";
  return "[netd]\n" + uplinks + extra + "\n";
}

// A valid slice; `extra` adds keys (a key already set here would be a TOML redefinition, so the
// fields a test needs to vary are the ones it passes in).
inline std::string slice_table(const std::string& name, int id, int uid, const std::string& netblock,
                               const std::string& extra = "") {
  return "[[slice]]\nname = \"" + name + "\"\nid = " + std::to_string(id) + "\nuids = [" +
         std::to_string(uid) + "]\nnetblock = [\"" + netblock + "\"]\n" + extra + "\n";
}

// The common two-slice document with extra keys for [netd], alice and bob.
inline std::string two_slices(const std::string& netd_extra = "", const std::string& alice_extra = "",
                              const std::string& bob_extra = "") {
  return netd_table(netd_extra) + slice_table("alice", 7, 1001, "10.7.0.0/24", alice_extra) +
         slice_table("bob", 8, 1002, "10.8.0.0/24", bob_extra);
}

// "test.toml:<line of marker>: <subject>: .*<reason>" as a regex.
inline std::string at_line(const std::string& doc, const std::string& marker, const std::string& subject,
                           const std::string& reason) {
  return "test\\.toml:" + std::to_string(line_of(doc, marker)) + ": " + subject + ": .*" + reason;
}

// A test over one fixed document: `text` parsed (as test.toml) before each test.
template <const char* const* kText>
class ParsedPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = parse_policy(*kText, "test.toml");
    ASSERT_OK(p);
    policy_ = std::move(p).value();
  }
  const SliceSpec& slice(const char* name) const { return *policy_.find_by_name(name); }
  Policy policy_;
};

// A fresh directory per test (mkdtemp), removed afterwards, so tests can run in parallel; the
// main file is policy.toml in it.
class PolicyDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/netd-policy-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    main_ = dir_ + "/policy.toml";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void write(const std::string& relative, const std::string& text) {
    std::filesystem::path path = dir_ + "/" + relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  std::string path(const std::string& relative) const { return dir_ + "/" + relative; }

  std::string dir_;
  std::string main_;
};

}  // namespace netd::policy::testing

// parse_policy(doc) is refused with EINVAL, naming `subject` at the line holding `marker`.
#define EXPECT_REFUSED(doc, marker, subject, reason)                                            \
  do {                                                                                          \
    SCOPED_TRACE(doc);                                                                          \
    const std::string netd_doc_ = (doc);                                                        \
    EXPECT_ERR(::netd::policy::parse_policy(netd_doc_, "test.toml"), EINVAL,                    \
               ::netd::policy::testing::at_line(netd_doc_, (marker), (subject), (reason)));     \
  } while (0)
