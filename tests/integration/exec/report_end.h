// A command wrapped so that the test learns how it ended, as a shell cannot tell: a last JSON
// line {"event":"end","exit":CODE|null,"signal":SIGNO|null} on stdout once it has finished.
#pragma once

#include <string>
#include <vector>

namespace netd::testing {

inline std::vector<std::string> reporting_end(std::vector<std::string> argv) {
  static constexpr const char* kReportEnd =
      "import json, subprocess, sys\n"
      "p = subprocess.Popen(sys.argv[1:])\n"
      "r = p.wait()\n"
      "print(json.dumps({'event': 'end', 'exit': r if r >= 0 else None, 'signal': -r if r < 0 else None}), "
      "flush=True)\n";
  argv.insert(argv.begin(), {"/usr/bin/python3", "-c", kReportEnd});
  return argv;
}

}  // namespace netd::testing
