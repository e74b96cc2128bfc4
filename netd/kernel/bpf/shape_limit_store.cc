#include "netd/kernel/bpf/shape_limit_store.h"

#include <bpf/bpf.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "netd/kernel/bpf/bpffs.h"
#include "netd/kernel/bpf/map_sync.h"
#include "netd/kernel/bpf/shape_classifier.h"

namespace netd::kernel {
namespace {

// Slice names match [a-z][a-z0-9_-]{0,30}: 31 characters and the NUL.
using NameKey = std::array<char, 32>;
constexpr uint32_t kMaxEntries = 65536;

std::string pin_of(const std::string& bpffs_dir, const char* pin) {
  return bpffs_dir + "/" + ShapeClassifier::kDir + "/" + pin;
}

Result<NameKey> key_of(const std::string& slice) {
  NameKey key{};
  if (slice.empty() || slice.size() >= key.size())
    return make_error(EINVAL, "shaping: slice name '" + slice + "' does not fit 31 characters");
  std::memcpy(key.data(), slice.data(), slice.size());
  return key;
}

bool layout_matches(int fd) {
  struct bpf_map_info info = {};
  __u32 len = sizeof info;
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == BPF_MAP_TYPE_HASH &&
         info.key_size == sizeof(NameKey) && info.value_size == sizeof(OwnShapeLimits);
}

}  // namespace

Result<ShapeLimitStore> ShapeLimitStore::open(const std::string& bpffs_dir, const char* pin_name) {
  NETD_TRY(ensure_bpffs_dir(bpffs_dir));
  NETD_TRY(ensure_bpffs_dir(bpffs_dir + "/" + ShapeClassifier::kDir));
  const std::string pin = pin_of(bpffs_dir, pin_name);
  NETD_ASSIGN_OR_RETURN(UniqueFd pinned, open_pin(pin));
  if (pinned.valid() && layout_matches(pinned.get())) return ShapeLimitStore(std::move(pinned));
  // Nothing pinned, or an older layout: start empty (slices fall back to the policy's rates).
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
  int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "netd_shape_own", sizeof(NameKey), sizeof(OwnShapeLimits),
                          kMaxEntries, &opts);
  if (fd < 0) return errno_error("creating the map of slices' own shaping limits");
  UniqueFd map(fd);
  NETD_TRY(remove_pin(pin));
  if (bpf_obj_pin(map.get(), pin.c_str()) != 0) return errno_error("pinning map at " + pin);
  return ShapeLimitStore(std::move(map));
}

Result<std::map<std::string, OwnShapeLimits>> ShapeLimitStore::read() const {
  NETD_ASSIGN_OR_RETURN(auto raw, (read_bpf_map<std::map<NameKey, OwnShapeLimits>>(
                                      fd_.get(), "own_limits", [](const NameKey& k) { return std::string(k.data()); })));
  std::map<std::string, OwnShapeLimits> out;
  for (const auto& [key, limits] : raw) out[std::string(key.data(), strnlen(key.data(), key.size()))] = limits;
  return out;
}

Status ShapeLimitStore::put(const std::string& slice, const OwnShapeLimits& limits) {
  NETD_ASSIGN_OR_RETURN(NameKey key, key_of(slice));
  if (bpf_map_update_elem(fd_.get(), key.data(), &limits, BPF_ANY) != 0)
    return errno_error("storing slice " + slice + "'s own shaping limits");
  return ok_status();
}

Status ShapeLimitStore::erase(const std::string& slice) {
  NETD_ASSIGN_OR_RETURN(NameKey key, key_of(slice));
  if (bpf_map_delete_elem(fd_.get(), key.data()) != 0 && errno != ENOENT)
    return errno_error("forgetting slice " + slice + "'s own shaping limits");
  return ok_status();
}

Status ShapeLimitStore::teardown(const std::string& bpffs_dir) {
  NETD_TRY(remove_pin(pin_of(bpffs_dir, kPinIn)));
  return remove_pin(pin_of(bpffs_dir, kPin));
}

}  // namespace netd::kernel
