// TLS record framing, ClientHello and ServerHello parsing, malformed inputs.

#include "dpi/tls.hpp"

#include <gtest/gtest.h>

#include "dpi_test_util.hpp"

namespace netscope::dpi::tls {
namespace {

using test::ByteVec;
using test::ClientHelloWriter;

Bytes body_of(const ByteVec& msg) {
  return Bytes(msg).subspan(4);
}

TEST(TlsClientHello, every_field_fingerprints_and_names_need) {
  ClientHelloWriter w;
  w.ciphers = {0x0a0a, 0x1301, 0xc02f};
  w.extra_extensions = {0x1a1a};
  w.supported_versions = {0x2a2a, 0x0304, 0x0303};
  const ByteVec msg = w.message();
  ClientHello h;
  ASSERT_TRUE(parse_client_hello(body_of(msg), h));
  EXPECT_EQ(h.legacy_version, 0x0303);
  EXPECT_EQ(h.sni, "example.com");
  EXPECT_TRUE(h.has_sni);
  EXPECT_EQ(h.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(h.cipher_suites, (std::vector<std::uint16_t>{0x0a0a, 0x1301, 0xc02f}));
  EXPECT_EQ(h.extensions, (std::vector<std::uint16_t>{0, 0x1a1a, 10, 11, 13, 16, 43}));
  EXPECT_EQ(h.groups, (std::vector<std::uint16_t>{0x001d, 0x0017}));
  EXPECT_EQ(h.ec_point_formats, (std::vector<std::uint8_t>{0}));
  EXPECT_EQ(h.signature_algorithms, (std::vector<std::uint16_t>{0x0403, 0x0804}));
  EXPECT_EQ(h.max_version(), 0x0304);  // GREASE 0x2a2a is not a version
}

TEST(TlsClientHello, without_extensions_the_legacy_version_is_the_offer) {
  ByteVec body;
  test::put16(body, 0x0301);
  body.insert(body.end(), 32, 0);
  body.push_back(0);
  test::put16(body, 4);
  test::put16(body, 0x002f);
  test::put16(body, 0x0035);
  body.push_back(1);
  body.push_back(0);
  ClientHello h;
  ASSERT_TRUE(parse_client_hello(body, h));
  EXPECT_TRUE(h.extensions.empty());
  EXPECT_FALSE(h.has_sni);
  EXPECT_EQ(h.max_version(), 0x0301);
}

TEST(TlsClientHello, every_truncation_fails_except_at_the_optional_extensions) {
  const ClientHelloWriter w;
  const ByteVec msg = w.message();
  const Bytes body = body_of(msg);
  // version, random, session id, cipher suites, compression methods: a valid TLS 1.2
  // ClientHello may end there (RFC 5246 §7.4.1.2); any other cut is malformed.
  const std::size_t without_extensions = 2 + 32 + 1 + 32 + 2 + 2 * w.ciphers.size() + 2;
  ClientHello h;
  for (std::size_t n = 0; n < body.size(); ++n) {
    EXPECT_EQ(parse_client_hello(body.first(n), h), n == without_extensions) << n;
  }
  EXPECT_TRUE(parse_client_hello(body, h));
}

TEST(TlsClientHello, a_bad_extension_body_keeps_the_type_and_skips_the_content) {
  ClientHelloWriter w;
  w.sni.clear();
  w.alpn.clear();
  ByteVec msg = w.message();
  // Corrupt the groups list length (first extension: type 10 at a known place).
  const std::size_t ext_start = 4 + 2 + 32 + 1 + 32 + 2 + w.ciphers.size() * 2 + 2 + 2;
  ASSERT_EQ(msg[ext_start + 1], 10);
  msg[ext_start + 5] = 0xff;  // inner length byte says more than the extension holds
  ClientHello h;
  ASSERT_TRUE(parse_client_hello(body_of(msg), h));
  EXPECT_EQ(h.extensions.front(), 10);
  EXPECT_TRUE(h.groups.empty());
}

TEST(TlsServerHello, tls13_selected_version_and_cipher) {
  const ByteVec rec = test::server_hello_record(0x1302, true);
  ServerHello s;
  ASSERT_TRUE(parse_server_hello(Bytes(rec).subspan(9), s));
  EXPECT_EQ(s.version(), 0x0304);
  EXPECT_EQ(s.legacy_version, 0x0303);
  EXPECT_EQ(s.cipher_suite, 0x1302);
  EXPECT_FALSE(s.hello_retry_request);
  EXPECT_EQ(version_name(s.version()), "TLS 1.3");
  EXPECT_EQ(cipher_name(s.cipher_suite), "TLS_AES_256_GCM_SHA384");
}

TEST(TlsServerHello, hello_retry_request_is_recognised_by_its_random) {
  ByteVec rec = test::server_hello_record(0x1301, true);
  const ByteVec hrr = test::hex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c");
  std::copy(hrr.begin(), hrr.end(), rec.begin() + 9 + 2);
  ServerHello s;
  ASSERT_TRUE(parse_server_hello(Bytes(rec).subspan(9), s));
  EXPECT_TRUE(s.hello_retry_request);
}

TEST(TlsNames, unknown_values_print_as_hex) {
  EXPECT_EQ(version_name(0x0303), "TLS 1.2");
  EXPECT_EQ(version_name(0x7f1c), "0x7f1c");
  EXPECT_EQ(cipher_name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
  EXPECT_EQ(cipher_name(0x1234), "0x1234");
  EXPECT_TRUE(is_grease(0xfafa));
  EXPECT_FALSE(is_grease(0xfafb));
}

TEST(TlsRecords, a_message_in_one_record_is_read_in_place) {
  const ByteVec stream = ClientHelloWriter{}.records();
  std::vector<std::uint8_t> scratch;
  std::uint8_t type = 0;
  Bytes body;
  ASSERT_EQ(first_handshake_message(stream, 65536, scratch, type, body), Status::ok);
  EXPECT_EQ(type, kClientHello);
  EXPECT_TRUE(scratch.empty());
  EXPECT_EQ(body.data(), stream.data() + 9);
}

TEST(TlsRecords, a_message_split_over_records_is_joined) {
  ClientHelloWriter w;
  w.padding = 3000;
  const ByteVec stream = w.records(1000);  // 4 records
  std::vector<std::uint8_t> scratch;
  std::uint8_t type = 0;
  Bytes body;
  ASSERT_EQ(first_handshake_message(stream, 65536, scratch, type, body), Status::ok);
  ClientHello h;
  ASSERT_TRUE(parse_client_hello(body, h));
  EXPECT_EQ(h.sni, "example.com");
  // Every shorter prefix needs more.
  for (std::size_t n : {0, 3, 5, 500, 1005, 2500, static_cast<int>(stream.size()) - 1}) {
    EXPECT_EQ(first_handshake_message(Bytes(stream).first(n), 65536, scratch, type, body),
              Status::need_more)
        << n;
  }
}

TEST(TlsRecords, an_incomplete_record_is_enough_when_the_message_is_inside) {
  const ByteVec msg = ClientHelloWriter{}.message();
  ByteVec stream{22, 3, 1};
  test::put16(stream, static_cast<std::uint16_t>(msg.size() + 500));  // more records data follows
  test::append(stream, msg);
  std::vector<std::uint8_t> scratch;
  std::uint8_t type = 0;
  Bytes body;
  EXPECT_EQ(first_handshake_message(stream, 65536, scratch, type, body), Status::ok);
}

TEST(TlsRecords, non_handshake_and_oversized_input_is_rejected) {
  std::vector<std::uint8_t> scratch;
  std::uint8_t type = 0;
  Bytes body;
  const ByteVec app = test::hex("17 0303 0010 00000000000000000000000000000000");
  EXPECT_EQ(first_handshake_message(app, 65536, scratch, type, body), Status::not_handshake);
  const ByteVec sslv2 = test::hex("8046 0103 01");
  EXPECT_EQ(first_handshake_message(sslv2, 65536, scratch, type, body), Status::not_handshake);
  const ByteVec huge = test::hex("16 0301 0010 01ffffff 000000000000000000000000");
  EXPECT_EQ(first_handshake_message(huge, 65536, scratch, type, body), Status::malformed);
  const ByteVec bad_len = test::hex("16 0301 ffff 01");
  EXPECT_EQ(first_handshake_message(bad_len, 65536, scratch, type, body), Status::not_handshake);
}

TEST(TlsRecords, handshake_record_recognition) {
  bool partial = false;
  EXPECT_TRUE(looks_like_handshake_record(test::hex("16 0301 0200"), partial));
  EXPECT_FALSE(looks_like_handshake_record(test::hex("16 03"), partial));
  EXPECT_TRUE(partial);
  EXPECT_FALSE(looks_like_handshake_record(test::hex("16 0305 0200"), partial));
  EXPECT_FALSE(partial);
  EXPECT_FALSE(looks_like_handshake_record(test::hex("47 4554"), partial));
  EXPECT_FALSE(partial);
}

}  // namespace
}  // namespace netscope::dpi::tls
