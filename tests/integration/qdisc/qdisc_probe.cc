// qdisc_probe: the traffic of the vif qdisc tests, run as the slice's uid. One JSON object per
// line on stdout, flushed at once.
//
//   qdisc_probe sink [--fd N]
//       Reads every packet of the device fd (default 3, as `vtuntap run` passes it) and
//       counts bytes. Prints {"event":"ready","ifname":$VTUNTAP_IFNAME}; stdin commands:
//         measure MS   counts for the next MS ms, then prints
//                      {"event":"measured","bytes":B,"packets":P,"ms":T,"rate_bps":R}
//         quit         exit 0 (so does EOF on stdin)
//   qdisc_probe udp-send DST PORT SECONDS RATE_BPS SIZE
//       SIZE-byte datagrams to DST:PORT for SECONDS, paced at RATE_BPS counted in IP bytes
//       (SIZE + 28); prints {"sent":N,"errors":E}.
//
// Bad usage: a message on stderr, exit 2. Self-contained (libc, nlohmann/json).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

void emit(const json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

int usage_error(const std::string& message) {
  std::fprintf(stderr,
               "qdisc_probe: %s\n"
               "usage: qdisc_probe sink [--fd N]\n"
               "       qdisc_probe udp-send DST PORT SECONDS RATE_BPS SIZE\n",
               message.c_str());
  return 2;
}

long long elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

int sink(int fd) {
  const char* ifname = std::getenv("VTUNTAP_IFNAME");
  emit({{"event", "ready"}, {"ifname", ifname != nullptr ? ifname : ""}});
  std::vector<char> packet(65536);
  uint64_t bytes = 0, packets = 0;
  // The window of a "measure" command in progress.
  bool measuring = false;
  Clock::time_point window_start, window_end;
  uint64_t start_bytes = 0, start_packets = 0;
  std::string input;
  for (;;) {
    int timeout = -1;
    if (measuring) timeout = static_cast<int>(std::max<long long>(0, -elapsed_ms(window_end)));
    pollfd fds[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    int n = poll(fds, 2, timeout);
    if (n < 0 && errno != EINTR) return 1;
    if (fds[0].revents & POLLIN) {
      // Drain what is there: a slow reader would let the device's own queue drop packets.
      for (int i = 0; i < 64; ++i) {
        ssize_t got = read(fd, packet.data(), packet.size());
        if (got <= 0) break;
        bytes += static_cast<uint64_t>(got);
        ++packets;
        pollfd again{fd, POLLIN, 0};
        if (poll(&again, 1, 0) <= 0) break;
      }
    }
    if (measuring && Clock::now() >= window_end) {
      measuring = false;
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - window_start).count();
      uint64_t b = bytes - start_bytes;
      emit({{"event", "measured"},
            {"bytes", b},
            {"packets", packets - start_packets},
            {"ms", ms},
            {"rate_bps", static_cast<double>(b) * 8 * 1000 / ms}});
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      char buf[256];
      ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
      if (got <= 0) return 0;
      input.append(buf, static_cast<size_t>(got));
      for (size_t nl; (nl = input.find('\n')) != std::string::npos;) {
        std::string line = input.substr(0, nl);
        input.erase(0, nl + 1);
        if (line == "quit") return 0;
        if (line.rfind("measure ", 0) == 0) {
          window_start = Clock::now();
          window_end = window_start + std::chrono::milliseconds(std::atoll(line.c_str() + 8));
          start_bytes = bytes;
          start_packets = packets;
          measuring = true;
        } else {
          emit({{"event", "error"}, {"error", "unknown command: " + line}});
        }
      }
    }
  }
}

int udp_send(const std::string& dst, int port, double seconds, double rate_bps, size_t size) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, dst.c_str(), &to.sin_addr) != 1) return usage_error("not an IPv4 address: " + dst);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return 1;
  std::vector<char> payload(size, 'x');
  // Paced by the clock: the datagram number k is due at k × its time on the wire at rate.
  const double per_packet_s = static_cast<double>(size + 28) * 8 / rate_bps;
  const Clock::time_point start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  uint64_t sent = 0, errors = 0;
  while (Clock::now() < end) {
    double due = static_cast<double>(sent) * per_packet_s;
    double now = std::chrono::duration<double>(Clock::now() - start).count();
    if (now < due) {
      std::this_thread::sleep_for(std::chrono::duration<double>(due - now));
      continue;
    }
    if (sendto(s, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) ++errors;
    ++sent;
  }
  close(s);
  emit({{"sent", sent}, {"errors", errors}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error("missing mode");
  if (args[0] == "sink") {
    int fd = 3;
    if (args.size() == 3 && args[1] == "--fd") fd = std::atoi(args[2].c_str());
    else if (args.size() != 1) return usage_error("sink takes only --fd N");
    return sink(fd);
  }
  if (args[0] == "udp-send") {
    if (args.size() != 6) return usage_error("udp-send needs DST PORT SECONDS RATE_BPS SIZE");
    return udp_send(args[1], std::atoi(args[2].c_str()), std::atof(args[3].c_str()), std::atof(args[4].c_str()),
                    static_cast<size_t>(std::atol(args[5].c_str())));
  }
  return usage_error("unknown mode " + args[0]);
}
