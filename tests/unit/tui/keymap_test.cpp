#include "tui/keymap.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace netscope::tui {
namespace {

std::string readme() {
  std::ifstream in(std::string(NETSCOPE_SOURCE_DIR) + "/README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// STYLE.md: the key table in the README is tested against the one the help overlay draws.
TEST(TuiKeymap, ReadmeDocumentsEveryKeyOfTheHelpOverlay) {
  const std::string text = readme();
  ASSERT_FALSE(text.empty());
  for (const KeyHelp& k : kKeyHelp) {
    const std::string row = "| `" + std::string(k.keys) + "` | " + std::string(k.action) + " |";
    EXPECT_NE(text.find(row), std::string::npos) << "README.md lacks the row: " << row;
  }
}

TEST(TuiKeymap, EveryFooterHintIsAKeyOfTheHelp) {
  for (const KeyHint& h : kFooterHints) {
    bool found = false;
    for (const KeyHelp& k : kKeyHelp) {
      if (std::string(k.keys).find(h.key) != std::string::npos) found = true;
    }
    if (h.key == "Tab" || h.key == "Space" || h.key == "Enter") found = true;
    EXPECT_TRUE(found) << h.key;
  }
}

}  // namespace
}  // namespace netscope::tui
