#include "tools/vtuntap/words.h"

#include "tools/vtuntap/options.h"

namespace vtuntap {

std::string unknown_option(std::string_view word, std::string_view command) {
  std::string message = "unknown option " + in_quotes(word) + " for " + in_quotes(command);
  if (is_global_option(word)) message += " (a global option: it goes before COMMAND)";
  return message;
}

}  // namespace vtuntap
