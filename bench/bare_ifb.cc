#include "bench/bare_ifb.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <net/if.h>

#include <cstddef>

#include "bench/bench_testbed.h"
#include "netd/kernel/bpf/tcx_pins.h"
#include "tests/fixtures/process.h"

namespace bench {

namespace {

constexpr const char* kIfb = "ifb0";
constexpr int32_t kClass = 0x00010001;  // 1:1

// skb->priority = 1:1 (the class, as netd's program writes it); return bpf_redirect(ifb, 0).
netd::Result<netd::UniqueFd> load_redirect(int ifb_ifindex) {
  const bpf_insn insns[] = {
      {BPF_ST | BPF_MEM | BPF_W, BPF_REG_1, 0, static_cast<int16_t>(offsetof(__sk_buff, priority)), kClass},
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, ifb_ifindex},
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 0},
      {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  netd::UniqueFd fd(bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "bare_redirect", "GPL", insns,
                                  sizeof insns / sizeof insns[0], nullptr));
  if (!fd.valid()) return netd::errno_error("loading the bare redirect program");
  return fd;
}

}  // namespace

netd::Result<BareIfb> make_bare_ifb(const netd::testing::Netns& ns, const std::string& device,
                                    const std::string& rate) {
  using netd::testing::run_in;
  NETD_TRY(must(run_in(&ns, {"ip", "link", "add", kIfb, "type", "ifb"}), "adding the bare IFB"));
  NETD_TRY(must(run_in(&ns, {"ip", "link", "set", kIfb, "up"}), "setting the bare IFB up"));
  NETD_TRY(must(run_in(&ns, {"tc", "qdisc", "add", "dev", kIfb, "root", "handle", "1:", "htb", "default", "1"}),
                "the bare IFB's HTB root"));
  NETD_TRY(must(run_in(&ns, {"tc", "class", "add", "dev", kIfb, "parent", "1:", "classid", "1:1", "htb", "rate", rate}),
                "the bare IFB's class"));
  // The ifindexes and the tcx attach are of the calling thread's netns.
  NETD_ASSIGN_OR_RETURN(auto inside, ns.enter());
  const int ifb = static_cast<int>(if_nametoindex(kIfb)), dev = static_cast<int>(if_nametoindex(device.c_str()));
  if (ifb == 0 || dev == 0) return netd::errno_error("looking up " + device + " and " + kIfb);
  NETD_ASSIGN_OR_RETURN(netd::UniqueFd prog, load_redirect(ifb));
  netd::UniqueFd link(bpf_link_create(prog.get(), dev, netd::kernel::kBpfTcxIngress, nullptr));
  if (!link.valid()) return netd::errno_error("attaching the bare redirect at " + device + "'s tcx ingress");
  return BareIfb{std::move(link)};
}

}  // namespace bench
