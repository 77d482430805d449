// JA3 and JA4 against the examples published with their specifications.

#include "dpi/tls_fingerprint.hpp"

#include <gtest/gtest.h>

#include "dpi_test_util.hpp"

namespace netscope::dpi::tls {
namespace {

using test::ByteVec;
using test::ClientHelloWriter;

ClientHello parse(const ClientHelloWriter& w) {
  const ByteVec msg = w.message();
  ClientHello h;
  EXPECT_TRUE(parse_client_hello(Bytes(msg).subspan(4), h));
  return h;
}

// The ClientHello of FoxIO's technical_details/JA4.md example: 15 ciphers, 16
// extensions (SNI and ALPN among them), ALPN h2, TLS 1.3 offered, plus GREASE values the
// fingerprint must ignore.
ClientHelloWriter ja4_spec_hello() {
  ClientHelloWriter w;
  w.ciphers = {0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
               0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
  // With the writer's SNI, groups (000a), point formats (000b), signature algorithms
  // (000d), ALPN (0010), supported_versions (002b) and padding (0015): 16 extensions.
  w.extra_extensions = {0x3a3a, 0x001b, 0x0033, 0x4469, 0x0017,
                        0x002d, 0x0005, 0x0023, 0x0012, 0xff01};
  w.padding = 10;
  w.alpn = {"h2", "http/1.1"};
  w.supported_versions = {0x4a4a, 0x0304, 0x0303};
  w.sig_algs = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
  return w;
}

TEST(Ja4, the_specification_example) {
  const ClientHello h = parse(ja4_spec_hello());
  EXPECT_EQ(ja4_raw(h, 't'),
            "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,"
            "cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,"
            "0804,0401,0503,0805,0501,0806,0601");
  EXPECT_EQ(ja4(h, 't'), "t13d1516h2_8daaf6152771_e5627efa2ab1");
  EXPECT_EQ(ja4(h, 'q').substr(0, 1), "q");
}

TEST(Ja4, without_signature_algorithms_the_extension_list_is_hashed_alone) {
  ClientHelloWriter w = ja4_spec_hello();
  w.sig_algs.clear();
  w.extra_extensions.push_back(0x000d);  // present but empty: no algorithms listed
  EXPECT_EQ(ja4(parse(w), 't'), "t13d1516h2_8daaf6152771_6d807ffa2a79");
}

TEST(Ja4, no_sni_no_alpn_and_no_ciphers) {
  ClientHelloWriter w;
  w.sni.clear();
  w.alpn.clear();
  w.ciphers.clear();
  w.supported_versions.clear();
  w.groups.clear();
  w.point_formats.clear();
  w.sig_algs.clear();
  const ClientHello h = parse(w);
  EXPECT_EQ(ja4(h, 't'), "t12i000000_000000000000_000000000000");
}

TEST(Ja4, alpn_characters_fall_back_to_hex_when_not_alphanumeric) {
  // JA4.md "ALPN Extension Value" examples.
  const std::pair<std::string, std::string> cases[] = {
      {"\xab", "ab"},
      {"\xab\xcd", "ad"},
      {"\x30\xab", "3b"},
      {"\x30\x31\xab\xcd", "3d"},
      {"\x30\xab\xcd\x31", "01"},
      {"h", "hh"},
      {"http/1.1", "h1"},
  };
  for (const auto& [alpn, expected] : cases) {
    ClientHelloWriter w;
    w.alpn = {alpn};
    EXPECT_EQ(ja4(parse(w), 't').substr(8, 2), expected) << expected;
  }
}

TEST(Ja4, versions_from_supported_versions_else_the_hello) {
  ClientHelloWriter w;
  w.supported_versions.clear();
  w.version = 0x0301;
  EXPECT_EQ(ja4(parse(w), 't').substr(0, 3), "t10");
  w.version = 0x0300;
  EXPECT_EQ(ja4(parse(w), 't').substr(0, 3), "ts3");
  w.version = 0x9999;
  EXPECT_EQ(ja4(parse(w), 't').substr(0, 3), "t00");
  w.supported_versions = {0x0303, 0x0304};  // highest, not first
  EXPECT_EQ(ja4(parse(w), 't').substr(0, 3), "t13");
}

TEST(Ja3, string_and_md5_leave_grease_out) {
  ClientHelloWriter w;
  w.ciphers = {0xdada, 0x1301, 0x1302, 0xc02f};
  w.groups = {0x8a8a, 0x001d, 0x0017};
  w.extra_extensions = {0x9a9a};
  const ClientHello h = parse(w);
  EXPECT_EQ(ja3_string(h), "771,4865-4866-49199,0-10-11-13-16-43,29-23,0");
  EXPECT_EQ(ja3_hash(h), "c9e264cb3675678ee364e81f3b6da7ad");
}

TEST(Ja3, empty_lists_leave_empty_fields) {
  ClientHelloWriter w;
  w.version = 0x0301;
  w.ciphers = {0x002f, 0x0035};
  w.sni.clear();
  w.alpn.clear();
  w.supported_versions.clear();
  w.groups.clear();
  w.point_formats.clear();
  w.sig_algs.clear();
  const ClientHello h = parse(w);
  EXPECT_EQ(ja3_string(h), "769,47-53,,,");
  EXPECT_EQ(ja3_hash(h), "dac4920d4335e769327dbf4e1b759e15");
}

}  // namespace
}  // namespace netscope::dpi::tls
