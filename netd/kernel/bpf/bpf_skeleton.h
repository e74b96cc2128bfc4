// BpfSkeleton<T>: move-only owner of a `bpftool gen skeleton` object (open → set rodata →
// load), destroying it on every path. Use through NETD_BPF_SKELETON(name):
//   using SockCreateSkeleton = NETD_BPF_SKELETON(sock_create_bpf);
#pragma once

#include <bpf/libbpf.h>

#include <memory>
#include <string>

#include "lib/core/result.h"
#include "netd/kernel/bpf/libbpf_log.h"

namespace netd::kernel {

template <typename T, T* (*OpenFn)(const struct bpf_object_open_opts*), int (*LoadFn)(T*),
          void (*DestroyFn)(T*)>
class BpfSkeleton {
 public:
  // `name` appears in errors ("opening BPF object sock_create: ...").
  static Result<BpfSkeleton> open(const std::string& name) {
    LibbpfLogCapture log;
    T* skel = OpenFn(nullptr);
    if (skel == nullptr) {
      int code = errno;
      return errno_error("opening BPF object " + name + details(log), code);
    }
    return BpfSkeleton(skel, name);
  }

  // Creates the maps (or takes reused fds) and loads the programs into the kernel; the
  // verifier's complaint, if any, is in the error.
  Status load() {
    LibbpfLogCapture log;
    int err = LoadFn(skel_.get());
    if (err != 0) return errno_error("loading BPF object " + name_ + details(log), -err);
    return ok_status();
  }

  T* get() const { return skel_.get(); }
  T* operator->() const { return skel_.get(); }

 private:
  struct Deleter {
    void operator()(T* skel) const { DestroyFn(skel); }
  };
  BpfSkeleton(T* skel, std::string name) : skel_(skel), name_(std::move(name)) {}

  static std::string details(const LibbpfLogCapture& log) {
    std::string text = log.tail();
    return text.empty() ? "" : " (libbpf: " + text + ")";
  }

  std::unique_ptr<T, Deleter> skel_;
  std::string name_;
};

#define NETD_BPF_SKELETON(name) \
  ::netd::kernel::BpfSkeleton<struct name, name##__open_opts, name##__load, name##__destroy>

}  // namespace netd::kernel
