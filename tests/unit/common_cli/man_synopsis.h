// Compares a tool's -h text with its man page: the SYNOPSIS section, font escapes and
// requests removed, word by word (line breaks and indentation may differ). Shared by the
// sliceip and vtuntap tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace netd::testing {

// The words of a text, whitespace ignored.
inline std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// The SYNOPSIS section of a man page, font escapes and requests removed.
inline std::string synopsis_of_man_page(const std::string& page) {
  std::istringstream in(page);
  std::string text;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(".SH", 0) == 0) {
      inside = line.find("SYNOPSIS") != std::string::npos;
      continue;
    }
    if (!inside || line.rfind(".", 0) == 0) continue;
    for (std::string_view escape : {"\\fB", "\\fI", "\\fR", "\\fP", "\\&"})
      for (size_t at; (at = line.find(escape)) != std::string::npos;) line.erase(at, escape.size());
    for (size_t at; (at = line.find("\\-")) != std::string::npos;) line.erase(at, 1);
    text += line + "\n";
  }
  return text;
}

// The words of a man page's SYNOPSIS ("" words if the file cannot be read).
inline std::vector<std::string> man_synopsis_words(const std::string& path) {
  std::ifstream file(path);
  std::stringstream page;
  page << file.rdbuf();
  return words_of(synopsis_of_man_page(page.str()));
}

// The words of a usage text without its leading "Usage:".
inline std::vector<std::string> usage_words(const std::string& usage) {
  std::vector<std::string> words = words_of(usage);
  if (!words.empty() && words.front() == "Usage:") words.erase(words.begin());
  return words;
}

}  // namespace netd::testing
