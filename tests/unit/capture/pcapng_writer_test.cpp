// PcapngWriter round trips: what it writes, FileReader (and tshark, when installed)
// reads back unchanged.

#include "capture/pcapng_writer.hpp"

#include <gtest/gtest.h>

#include "capture/file_reader.hpp"
#include "capture_test_util.hpp"

namespace netscope::capture {
namespace {

using test::pcap_path;
using test::TempFile;

TEST(PcapngWriter, copy_of_a_mixed_interface_file_reads_back_identically) {
  for (const char* name :
       {"zeek/ldap_gap-data-missing.pcapng", "tcpdump/tcp-handshake-nano.pcap"}) {
    SCOPED_TRACE(name);
    TempFile out("copy.pcapng");
    FileReader in;
    in.open(pcap_path(name));
    auto expected = test::read_all(in);
    {
      PcapngWriter writer(out.path());
      for (const auto& i : in.interfaces()) writer.add_interface(i.linktype, i.snaplen, i.name);
      for (const auto& p : expected) {
        ASSERT_TRUE(writer.write(p.interface_id, core::Timestamp{p.ts_ns}, p.data, p.orig_len));
      }
      EXPECT_TRUE(writer.close());
    }
    FileReader back;
    back.open(out.path());
    auto actual = test::read_all(back);
    EXPECT_EQ(back.status(), ReadStatus::end);
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
      EXPECT_EQ(actual[i].ts_ns, expected[i].ts_ns);
      EXPECT_EQ(actual[i].data, expected[i].data);
      EXPECT_EQ(actual[i].orig_len, expected[i].orig_len);
      EXPECT_EQ(actual[i].linktype, expected[i].linktype);
      EXPECT_EQ(actual[i].interface_id, expected[i].interface_id);
    }
    ASSERT_EQ(back.interfaces().size(), in.interfaces().size());
    EXPECT_EQ(back.interfaces()[0].name, in.interfaces()[0].name);
    if (test::have_tool("capinfos")) {
      std::string count;
      // Wireshark's reader is an independent check of the block layout.
      ASSERT_TRUE(test::run_command("capinfos -M -c '" + out.path() + "' 2>/dev/null", count));
      auto at = count.find("Number of packets:");
      ASSERT_NE(at, std::string::npos) << count;
      EXPECT_EQ(std::stoull(count.substr(at + 18)), expected.size()) << count;
    }
  }
}

TEST(PcapngWriter, unwritable_path_throws_naming_the_file) {
  EXPECT_THROW(PcapngWriter("/nonexistent/dir/x.pcapng"), std::runtime_error);
}

}  // namespace
}  // namespace netscope::capture
