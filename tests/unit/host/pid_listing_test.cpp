// PidListing: full listings anywhere, listings from a pid on where the directory is
// procfs and its offsets can be trusted.

#include "host/pid_listing.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

namespace netscope::host {
namespace {

namespace fs = std::filesystem;

TEST(PidListing, lists_from_a_pid_on_in_procfs) {
  PidListing listing("/proc");
  std::vector<pid_t> all;
  ASSERT_TRUE(listing.list_all(all));
  EXPECT_NE(std::find(all.begin(), all.end(), ::getpid()), all.end());
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  if (!listing.can_list_from()) GTEST_SKIP() << "this kernel's /proc offsets are not pid-based";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  std::vector<pid_t> from;
  const auto count = listing.list_from(child, from);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, from.size());
  ASSERT_FALSE(from.empty());
  EXPECT_EQ(from.front(), child);
  EXPECT_TRUE(std::all_of(from.begin(), from.end(), [&](pid_t p) { return p >= child; }));
  // Everything at or above the child that a full listing has (processes may come and go
  // in between, so only the child and this direction are certain).
  EXPECT_LE(from.size(), all.size() + 1);
}

TEST(PidListing, a_plain_directory_gets_full_listings_only) {
  std::string pattern = (fs::temp_directory_path() / "netscope-pids-XXXXXX").string();
  const fs::path root = ::mkdtemp(pattern.data());
  for (const char* name : {"7", "42", "1000", "self", "0", "12x"})
    fs::create_directory(root / name);
  PidListing listing(root.string());
  std::vector<pid_t> all;
  ASSERT_TRUE(listing.list_all(all));
  EXPECT_EQ(std::set<pid_t>(all.begin(), all.end()), (std::set<pid_t>{7, 42, 1000}));
  EXPECT_FALSE(listing.can_list_from());
  std::vector<pid_t> from;
  EXPECT_FALSE(listing.list_from(42, from));
  fs::remove_all(root);
  PidListing missing(root.string());
  EXPECT_FALSE(missing.list_all(all));
}

}  // namespace
}  // namespace netscope::host
