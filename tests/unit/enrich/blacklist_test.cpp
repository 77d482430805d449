#include "enrich/blacklist.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace netscope::enrich {
namespace {

core::IpAddress ip(const char* text) {
  return *core::IpAddress::parse(text);
}

BlacklistRules parse(std::string_view text, std::vector<std::string>& errors) {
  BlacklistRules r;
  r.add(text, "list.txt", errors);
  return r;
}

TEST(BlacklistRules, AddressesCidrsAndDomains) {
  std::vector<std::string> errors;
  const BlacklistRules r = parse(
      "# threat feed\n"
      "198.51.100.7\n"
      "10.20.0.0/16   # a whole range\n"
      "2001:db8::1\n"
      "2001:db8:bad::/48\n"
      "Evil.Example.\n"
      "*.tracker.test\n"
      "\n"
      "   \t\n",
      errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(r.size(), 6u);
  EXPECT_EQ(r.addresses(), 2u);
  EXPECT_EQ(r.cidrs(), 2u);
  EXPECT_EQ(r.domains(), 2u);

  ASSERT_NE(r.match_address(ip("198.51.100.7")), nullptr);
  EXPECT_EQ(*r.match_address(ip("198.51.100.7")), "198.51.100.7");
  EXPECT_EQ(r.match_address(ip("198.51.100.8")), nullptr);
  ASSERT_NE(r.match_address(ip("10.20.255.1")), nullptr);
  EXPECT_EQ(*r.match_address(ip("10.20.255.1")), "10.20.0.0/16");
  EXPECT_EQ(r.match_address(ip("10.21.0.1")), nullptr);
  ASSERT_NE(r.match_address(ip("2001:db8::1")), nullptr);
  EXPECT_EQ(r.match_address(ip("2001:db8::2")), nullptr);
  ASSERT_NE(r.match_address(ip("2001:db8:bad:ffff::9")), nullptr);
  EXPECT_EQ(*r.match_address(ip("2001:db8:bad:ffff::9")), "2001:db8:bad::/48");

  ASSERT_NE(r.match_domain("evil.example"), nullptr);
  EXPECT_EQ(*r.match_domain("evil.example"), "evil.example");
  EXPECT_NE(r.match_domain("A.B.EVIL.example."), nullptr);
  EXPECT_EQ(r.match_domain("notevil.example"), nullptr);
  EXPECT_EQ(r.match_domain("example"), nullptr);
  EXPECT_EQ(r.match_domain("evil.example.org"), nullptr);
  EXPECT_NE(r.match_domain("tracker.test"), nullptr);
  EXPECT_NE(r.match_domain("x.tracker.test"), nullptr);
  EXPECT_EQ(r.match_domain(""), nullptr);
  EXPECT_EQ(r.match_domain("."), nullptr);

  EXPECT_NE(r.match_answer("198.51.100.7"), nullptr);
  EXPECT_NE(r.match_answer("cdn.evil.example"), nullptr);
  EXPECT_EQ(r.match_answer("192.0.2.1"), nullptr);
}

TEST(BlacklistRules, LongestPrefixAndExactAddressWin) {
  std::vector<std::string> errors;
  const BlacklistRules r = parse("10.0.0.0/8\n10.1.0.0/16\n10.1.2.3\n", errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(*r.match_address(ip("10.1.2.3")), "10.1.2.3");
  EXPECT_EQ(*r.match_address(ip("10.1.2.4")), "10.1.0.0/16");
  EXPECT_EQ(*r.match_address(ip("10.2.2.4")), "10.0.0.0/8");
}

TEST(BlacklistRules, CidrHostBitsAreMaskedAndFamiliesStayApart) {
  std::vector<std::string> errors;
  const BlacklistRules r = parse("192.0.2.77/24\n0.0.0.0/0\n", errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(*r.match_address(ip("192.0.2.1")), "192.0.2.0/24");
  // 0.0.0.0/0 is every IPv4 address, and no IPv6 one.
  EXPECT_EQ(*r.match_address(ip("203.0.113.9")), "0.0.0.0/0");
  EXPECT_EQ(r.match_address(ip("2001:db8::5")), nullptr);
}

TEST(BlacklistRules, BadLinesAreReportedWithFileAndLineAndTheRestLoads) {
  std::vector<std::string> errors;
  const std::string long_line(2000, 'a');
  const BlacklistRules r = parse(
      "good.example\n"          // 1
      "1.2.3.256\n"             // 2: not an address, and not a name
      "10.0.0.0/33\n"           // 3
      "10.0.0.0/\n"             // 4
      "two words.example\n"     // 5
      "bad..example\n"          // 6
      "ex ample # comment\n"    // 7
      "2001:db8::/129\n"        // 8
      "sp\xc3\xa4m.example\n"   // 9: not ASCII
      "-ok.example\n"           // 10: lenient: leading hyphen is allowed
      "192.0.2.1\n"             // 11
          + long_line + "\n" +  // 12
          "also-good.example",  // 13, no final newline
      errors);
  ASSERT_EQ(errors.size(), 9u);
  EXPECT_EQ(errors[0].rfind("list.txt:2: \"1.2.3.256\"", 0), 0u) << errors[0];
  EXPECT_EQ(errors[1].rfind("list.txt:3: \"10.0.0.0/33\": not a CIDR", 0), 0u) << errors[1];
  EXPECT_EQ(errors[2].rfind("list.txt:4: ", 0), 0u) << errors[2];
  EXPECT_EQ(errors[3].rfind("list.txt:5: ", 0), 0u) << errors[3];
  EXPECT_NE(errors[3].find("one address, CIDR or domain per line"), std::string::npos);
  EXPECT_EQ(errors[4].rfind("list.txt:6: ", 0), 0u) << errors[4];
  EXPECT_EQ(errors[5].rfind("list.txt:7: ", 0), 0u) << errors[5];
  EXPECT_EQ(errors[6].rfind("list.txt:8: ", 0), 0u) << errors[6];
  EXPECT_EQ(errors[7].rfind("list.txt:9: ", 0), 0u) << errors[7];
  EXPECT_EQ(errors[8], "list.txt:12: line longer than 1024 bytes");
  EXPECT_EQ(r.size(), 4u);
  EXPECT_NE(r.match_domain("good.example"), nullptr);
  EXPECT_NE(r.match_domain("also-good.example"), nullptr);
  EXPECT_NE(r.match_address(ip("192.0.2.1")), nullptr);
}

TEST(BlacklistRules, DuplicatesCountOnce) {
  std::vector<std::string> errors;
  const BlacklistRules r = parse("a.example\nA.EXAMPLE.\n10.0.0.1\n10.0.0.1\n", errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(r.size(), 2u);
}

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char tmpl[] = "/tmp/netscope_blacklist_XXXXXX";
    const int fd = ::mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = tmpl;
    write(text);
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  void write(const std::string& text) const {
    std::ofstream out(path_, std::ios::trunc);
    out << text;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Blacklist, LoadsFilesAndReloads) {
  TempFile a("evil.example\n");
  TempFile b("198.51.100.0/24\nbad line here\n");
  Blacklist bl({a.path(), b.path()});
  const BlacklistLoad first = bl.last_load();
  EXPECT_TRUE(first.ok);
  EXPECT_EQ(first.entries, 2u);
  EXPECT_EQ(first.files, 2u);
  ASSERT_EQ(first.errors.size(), 1u);
  EXPECT_EQ(first.errors[0].rfind(b.path() + ":2: ", 0), 0u);
  EXPECT_EQ(first.summary(), "blacklist: 2 entries from 2 files (1 bad line skipped)");

  const auto before = bl.rules();
  a.write("other.example\n");
  const BlacklistLoad second = bl.reload();
  EXPECT_TRUE(second.ok);
  EXPECT_EQ(bl.rules()->match_domain("evil.example"), nullptr);
  EXPECT_NE(bl.rules()->match_domain("other.example"), nullptr);
  // A matcher that took the old rules keeps them.
  EXPECT_NE(before->match_domain("evil.example"), nullptr);
}

TEST(Blacklist, UnreadableFileThrowsAtStartAndKeepsOldListOnReload) {
  EXPECT_THROW(Blacklist({"/nonexistent/list.txt"}), std::runtime_error);
  try {
    Blacklist bl({"/nonexistent/list.txt"});
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("--blacklist /nonexistent/list.txt: cannot read: ", 0),
              0u)
        << e.what();
  }
  auto* a = new TempFile("evil.example\n");
  Blacklist bl({a->path()});
  const std::string path = a->path();
  delete a;  // the file is gone
  const BlacklistLoad r = bl.reload();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.summary().find("previous list stays"), std::string::npos);
  EXPECT_NE(bl.rules()->match_domain("evil.example"), nullptr);
}

TEST(Blacklist, ReloadWhileMatchingIsSafe) {
  TempFile a("evil.example\n10.0.0.0/8\n");
  Blacklist bl({a.path()});
  std::thread reloader([&] {
    for (int i = 0; i < 50; ++i) bl.reload();
  });
  std::size_t hits = 0;
  for (int i = 0; i < 5000; ++i) {
    const auto rules = bl.rules();
    hits += rules->match_domain("x.evil.example") != nullptr;
    hits += rules->match_address(ip("10.9.8.7")) != nullptr;
  }
  reloader.join();
  EXPECT_EQ(hits, 10000u);
}

}  // namespace
}  // namespace netscope::enrich
