// TestbedTest: a gtest fixture giving each test its own Testbed (skipped when not root).
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed.h"

namespace netd::testing {

class TestbedTest : public ::testing::Test {
 protected:
  // Suites that need another policy override this.
  virtual TestbedOptions testbed_options() const { return {}; }

  void SetUp() override {
    NETD_REQUIRE_ROOT();
    auto bed = Testbed::create(testbed_options());
    ASSERT_OK(bed);
    bed_.emplace(std::move(bed).value());
  }

  std::optional<Testbed> bed_;
};

}  // namespace netd::testing
