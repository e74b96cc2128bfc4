// What the etcd client tests share: the skip when etcd is not installed, client options for a
// test cluster, and reading a watch until enough events arrived (waiting on the stream itself,
// never sleeping).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "netd/fleet/etcd/etcd_client.h"
#include "tests/fixtures/eventually.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/fleet/etcd_server.h"

namespace netd::testing {

#define SKIP_WITHOUT_ETCD()                                                                     \
  do {                                                                                          \
    if (::access("/usr/bin/etcd", X_OK) != 0 || ::access("/usr/bin/etcdctl", X_OK) != 0)        \
      GTEST_SKIP() << "etcd-server / etcd-client are not installed (scripts/install-deps)";     \
  } while (0)

inline fleet::EtcdOptions options_for(const std::vector<std::string>& endpoints,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  fleet::EtcdOptions options;
  options.endpoints = endpoints;
  options.call_timeout = timeout;
  return options;
}

inline std::unique_ptr<fleet::EtcdClient> client_for(const std::vector<std::string>& endpoints,
                                                     std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto client = fleet::EtcdClient::connect(options_for(endpoints, timeout));
  EXPECT_OK(client);
  return client.ok() ? std::move(client).value() : nullptr;
}

// Reads batches until they hold `events` events in all (progress notifications are skipped),
// or the stream fails or kEventTimeout passes: the test then sees fewer than it wanted.
inline std::vector<fleet::WatchBatch> read_events(fleet::EtcdWatch& watch, size_t events) {
  std::vector<fleet::WatchBatch> batches;
  size_t seen = 0;
  auto deadline = std::chrono::steady_clock::now() + kEventTimeout;
  while (seen < events && std::chrono::steady_clock::now() < deadline) {
    auto next = watch.next(std::chrono::milliseconds(500));
    if (!next.ok()) {
      ADD_FAILURE() << next.error().message;
      break;
    }
    if (!next.value() || next.value()->progress) continue;
    for (const auto& rev : next.value()->revisions) seen += rev.events.size();
    batches.push_back(std::move(*next.value()));
  }
  return batches;
}

// Waits for the first batch that is not a progress notification (or the stream's end).
inline Result<fleet::WatchBatch> next_batch(fleet::EtcdWatch& watch) {
  auto deadline = std::chrono::steady_clock::now() + kEventTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto next = watch.next(std::chrono::milliseconds(500));
    if (!next.ok()) return std::move(next).error();
    if (next.value() && !next.value()->progress) return std::move(*next.value());
  }
  return make_error(ETIMEDOUT, "no watch batch in time");
}

// Waits for the watch to end with an error (the server went away) and returns it; nullopt if
// it is still going after kEventTimeout.
inline std::optional<Error> watch_end(fleet::EtcdWatch& watch) {
  auto deadline = std::chrono::steady_clock::now() + kEventTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto next = watch.next(std::chrono::milliseconds(500));
    if (!next.ok()) return std::move(next).error();
  }
  return std::nullopt;
}

}  // namespace netd::testing
