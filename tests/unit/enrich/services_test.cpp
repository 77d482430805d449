// ServiceNames: services(5) parsing, bad lines, bounds, the built-in fallback.

#include "enrich/services.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace netscope::enrich {
namespace {

constexpr std::uint8_t kTcp = 6;
constexpr std::uint8_t kUdp = 17;

TEST(ServiceNames, parses_names_ports_protocols_aliases_and_comments) {
  const ServiceNames s = ServiceNames::parse(
      "# comment line\n"
      "\n"
      "ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol\n"
      "domain\t\t53/tcp\n"
      "domain\t\t53/udp\r\n"
      "http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP\n"
      "amqp\t\t5672/sctp\n");
  EXPECT_EQ(s.name(22, kTcp), "ssh");
  EXPECT_EQ(s.name(22, kUdp), "");
  EXPECT_EQ(s.name(53, kUdp), "domain");
  EXPECT_EQ(s.name(80, kTcp), "http");
  EXPECT_EQ(s.name(5672, kTcp), "");  // sctp only
  EXPECT_EQ(s.size(), 4u);
  EXPECT_EQ(s.skipped_lines(), 0u);
}

TEST(ServiceNames, the_first_entry_for_a_port_wins_as_with_getservbyport) {
  const ServiceNames s = ServiceNames::parse("shell 514/tcp cmd\nsyslog 514/udp\nrsh 514/tcp\n");
  EXPECT_EQ(s.name(514, kTcp), "shell");
  EXPECT_EQ(s.name(514, kUdp), "syslog");
}

TEST(ServiceNames, bad_lines_are_skipped_and_counted) {
  const ServiceNames s = ServiceNames::parse(
      "noport\n"
      "bad 80\n"
      "bad 0/tcp\n"
      "bad 65536/tcp\n"
      "bad 8x/tcp\n"
      "bad -1/udp\n" +
      std::string(ServiceNames::kMaxName + 1, 'n') + " 81/tcp\n" + "long 82/tcp " +
      std::string(ServiceNames::kMaxLine, 'a') + "\n" + "good 65535/udp");
  EXPECT_EQ(s.skipped_lines(), 8u);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.name(65535, kUdp), "good");  // the last line needs no newline
}

TEST(ServiceNames, a_missing_file_falls_back_to_the_builtin_table) {
  const ServiceNames s = ServiceNames::load("/nonexistent/services");
  EXPECT_FALSE(s.from_file());
  EXPECT_EQ(s.name(443, kTcp), "https");
  EXPECT_EQ(s.name(443, kUdp), "https");
  EXPECT_EQ(s.name(5353, kUdp), "mdns");
  EXPECT_EQ(s.name(12345, kTcp), "");
}

TEST(ServiceNames, the_builtin_table_agrees_with_the_system_file) {
  if (!std::filesystem::exists("/etc/services")) GTEST_SKIP() << "no /etc/services";
  const ServiceNames sys = ServiceNames::load("/etc/services");
  ASSERT_TRUE(sys.from_file());
  const ServiceNames builtin = ServiceNames::builtin();
  std::size_t compared = 0;
  for (std::uint32_t port = 1; port <= 65535; ++port) {
    for (const std::uint8_t proto : {kTcp, kUdp}) {
      const auto mine = builtin.name(static_cast<std::uint16_t>(port), proto);
      const auto theirs = sys.name(static_cast<std::uint16_t>(port), proto);
      if (mine.empty() || theirs.empty()) continue;  // older netbase lacks a few
      EXPECT_EQ(mine, theirs) << port << "/" << int{proto};
      ++compared;
    }
  }
  EXPECT_GT(compared, 50u);
}

TEST(ServiceNames, process_wide_lookup) {
  EXPECT_EQ(service_name(22, kTcp), "ssh");
  EXPECT_EQ(service_name(0, kTcp), "");
}

}  // namespace
}  // namespace netscope::enrich
