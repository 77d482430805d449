// QUIC Initial protection against RFC 9001 Appendix A and RFC 9369 Appendix A, the frame
// walk, and the inspector's "decryption is the proof" rule.

#include "dpi/quic.hpp"

#include <gtest/gtest.h>

#include "dpi/inspector.hpp"
#include "dpi/quic_crypto.hpp"
#include "dpi/tls.hpp"
#include "dpi_test_util.hpp"
#include "quic_vectors.hpp"

namespace netscope::dpi::quic {
namespace {

using test::ByteVec;
using test::hex;

ByteVec to_vec(const auto& a) {
  return ByteVec(a.begin(), a.end());
}

TEST(QuicKeys, rfc9001_a1_initial_secrets_and_keys) {
  const ByteVec dcid = hex(test::kRfcDcid);
  const auto initial = hkdf_extract(hex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"), dcid);
  EXPECT_EQ(to_vec(initial),
            hex("7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44"));
  std::array<std::uint8_t, 32> client{};
  hkdf_expand_label(initial, "client in", client.data(), client.size());
  EXPECT_EQ(to_vec(client),
            hex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea"));
  InitialKeys keys;
  ASSERT_TRUE(derive_initial_keys(kVersion1, dcid, keys));
  EXPECT_EQ(to_vec(keys.client.key), hex("1f369613dd76d5467730efcbe3b1a22d"));
  EXPECT_EQ(to_vec(keys.client.iv), hex("fa044b2f42a3fd3b46fb255c"));
  EXPECT_EQ(to_vec(keys.client.hp), hex("9f50449e04a0e810283a1e9933adedd2"));
  EXPECT_EQ(to_vec(keys.server.key), hex("cf3a5331653c364c88f0f379b6067e37"));
  EXPECT_EQ(to_vec(keys.server.iv), hex("0ac1493ca1905853b0bba03e"));
  EXPECT_EQ(to_vec(keys.server.hp), hex("c206b8d9b9f0f37644430b490eeaa314"));
}

TEST(QuicKeys, rfc9369_a1_version2_keys) {
  InitialKeys keys;
  ASSERT_TRUE(derive_initial_keys(kVersion2, hex(test::kRfcDcid), keys));
  EXPECT_EQ(to_vec(keys.client.key), hex("8b1a0bc121284290a29e0971b5cd045d"));
  EXPECT_EQ(to_vec(keys.client.iv), hex("91f73e2351d8fa91660e909f"));
  EXPECT_EQ(to_vec(keys.client.hp), hex("45b95e15235d6f45a6b19cbcb0294ba9"));
  EXPECT_EQ(to_vec(keys.server.key), hex("82db637861d55e1d011f19ea71d5d2a7"));
  EXPECT_EQ(to_vec(keys.server.iv), hex("dd13c276499c0249d3310652"));
  EXPECT_EQ(to_vec(keys.server.hp), hex("edf6d05c83121201b436e16877593c3a"));
  EXPECT_FALSE(derive_initial_keys(0xff00001d, hex(test::kRfcDcid), keys));  // a draft version
}

TEST(QuicKeys, rfc9001_a2_header_protection_mask) {
  InitialKeys keys;
  ASSERT_TRUE(derive_initial_keys(kVersion1, hex(test::kRfcDcid), keys));
  std::array<std::uint8_t, 5> mask{};
  ASSERT_TRUE(
      header_protection_mask(keys.client.hp, hex("d1b1c98dd7689fb8ec11d242b123dc9b"), mask));
  EXPECT_EQ(to_vec(mask), hex("437b9aec36"));
}

// Opens `packet_hex` (one Initial) with `keys` and returns its frames' CRYPTO data at 0.
struct Opened {
  bool ok = false;
  std::uint64_t pn = 0;
  std::vector<std::uint8_t> plaintext;
  InitialFrames frames;
};

Opened open(const char* packet_hex, std::uint32_t version, bool server) {
  Opened o;
  const ByteVec packet = hex(packet_hex);
  LongHeader h;
  EXPECT_TRUE(parse_long_header(packet, h));
  EXPECT_EQ(h.type, PacketType::initial);
  EXPECT_EQ(h.version, version);
  EXPECT_EQ(h.packet_size, packet.size());
  InitialKeys keys;
  EXPECT_TRUE(derive_initial_keys(version, hex(test::kRfcDcid), keys));
  std::vector<std::uint8_t> scratch;
  o.ok = open_packet(Bytes(packet).first(h.packet_size), h, server ? keys.server : keys.client, 0,
                     scratch, o.plaintext, o.pn);
  if (o.ok) {
    EXPECT_TRUE(walk_initial_frames(o.plaintext, o.frames));
  }
  return o;
}

void expect_rfc_client_hello(const Opened& o) {
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.pn, 2u);
  EXPECT_EQ(o.plaintext.size(), 1162u);
  const ByteVec crypto = hex(test::kRfcClientCrypto);
  EXPECT_TRUE(std::equal(crypto.begin(), crypto.end(), o.plaintext.begin()));
  ASSERT_EQ(o.frames.crypto_count, 1u);
  EXPECT_EQ(o.frames.crypto[0].offset, 0u);
  const Bytes msg = o.frames.crypto[0].data;
  ASSERT_EQ(msg[0], tls::kClientHello);
  tls::ClientHello hello;
  ASSERT_TRUE(tls::parse_client_hello(msg.subspan(4), hello));
  EXPECT_EQ(hello.sni, "example.com");
  EXPECT_EQ(hello.alpn, (std::vector<std::string>{"alpn"}));
  EXPECT_EQ(hello.max_version(), 0x0304);
}

TEST(QuicInitial, rfc9001_a2_client_initial_decrypts_to_its_client_hello) {
  expect_rfc_client_hello(open(test::kRfc9001ClientInitial, kVersion1, false));
}

TEST(QuicInitial, rfc9369_a2_version2_client_initial_decrypts_to_the_same_client_hello) {
  expect_rfc_client_hello(open(test::kRfc9369ClientInitial, kVersion2, false));
}

void expect_rfc_server_hello(const Opened& o) {
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.pn, 1u);
  EXPECT_TRUE(o.frames.ack);
  ASSERT_EQ(o.frames.crypto_count, 1u);
  const Bytes msg = o.frames.crypto[0].data;
  ASSERT_EQ(msg[0], tls::kServerHello);
  tls::ServerHello hello;
  ASSERT_TRUE(tls::parse_server_hello(msg.subspan(4), hello));
  EXPECT_EQ(hello.cipher_suite, 0x1301);
  EXPECT_EQ(hello.version(), 0x0304);
}

TEST(QuicInitial, rfc9001_a3_server_initial_decrypts_with_the_server_keys) {
  expect_rfc_server_hello(open(test::kRfc9001ServerInitial, kVersion1, true));
}

TEST(QuicInitial, rfc9369_a3_version2_server_initial) {
  expect_rfc_server_hello(open(test::kRfc9369ServerInitial, kVersion2, true));
}

TEST(QuicInitial, any_changed_byte_fails_the_tag) {
  ByteVec packet = hex(test::kRfc9001ClientInitial);
  InitialKeys keys;
  ASSERT_TRUE(derive_initial_keys(kVersion1, hex(test::kRfcDcid), keys));
  LongHeader h;
  ASSERT_TRUE(parse_long_header(packet, h));
  std::vector<std::uint8_t> scratch, plain;
  std::uint64_t pn = 0;
  for (const std::size_t at : {std::size_t{5}, std::size_t{30}, packet.size() - 1}) {
    ByteVec bad = packet;
    bad[at] ^= 0x01;
    LongHeader hb;
    if (!parse_long_header(bad, hb)) continue;  // the header no longer parses: also a rejection
    EXPECT_FALSE(open_packet(bad, hb, keys.client, 0, scratch, plain, pn)) << at;
  }
  // The server's keys do not open the client's packet.
  EXPECT_FALSE(open_packet(packet, h, keys.server, 0, scratch, plain, pn));
}

TEST(QuicHeader, long_header_forms) {
  LongHeader h;
  // Version Negotiation: version 0, then a list of versions.
  EXPECT_TRUE(parse_long_header(hex("c0 00000000 04 01020304 00 00000001 6b3343cf"), h));
  EXPECT_EQ(h.type, PacketType::version_negotiation);
  // An unknown version: only the invariants are read.
  EXPECT_TRUE(parse_long_header(hex("c0 1a2a3a4a 04 01020304 00 aabbcc"), h));
  EXPECT_EQ(h.type, PacketType::unknown_version);
  // v1 Retry (type 3): token + 16-byte tag.
  EXPECT_TRUE(parse_long_header(
      hex("f0 00000001 00 04 01020304 746f6b656e 00112233445566778899aabbccddeeff"), h));
  EXPECT_EQ(h.type, PacketType::retry);
  // A Length beyond the datagram, a connection ID over 20 bytes, a short header.
  EXPECT_FALSE(parse_long_header(hex("c0 00000001 00 00 00 4100 00"), h));
  EXPECT_FALSE(parse_long_header(
      hex("c0 00000001 15 000000000000000000000000000000000000000000 00 00 01 00"), h));
  EXPECT_FALSE(parse_long_header(hex("40 00000001"), h));
}

TEST(QuicHeader, packet_number_decoding_rfc9000_a3) {
  EXPECT_EQ(decode_packet_number(0xa82f30eb, 0x9b32, 16), 0xa82f9b32u);  // the RFC's example
  EXPECT_EQ(decode_packet_number(0, 2, 32), 2u);
  EXPECT_EQ(decode_packet_number(256, 0x01, 8), 257u);
}

TEST(QuicFrames, walk_keeps_crypto_and_sees_connection_close) {
  // PADDING, PING, ACK (1 range), CRYPTO(offset 5, "abc"), CONNECTION_CLOSE(0x0a, frame 6, "x").
  const ByteVec payload = hex("00 00 01 02 05 00 01 00 00 00 06 05 03 616263 1c 0a 06 01 78");
  InitialFrames f;
  ASSERT_TRUE(walk_initial_frames(payload, f));
  ASSERT_EQ(f.crypto_count, 1u);
  EXPECT_EQ(f.crypto[0].offset, 5u);
  EXPECT_EQ(f.crypto[0].data.size(), 3u);
  EXPECT_TRUE(f.ping);
  EXPECT_TRUE(f.connection_close);
  EXPECT_EQ(f.close_error, 0x0au);
}

// Runs of PADDING of every length up to three words, before, between and after frames
// (they are skipped a word at a time), and a payload of padding alone.
TEST(QuicFrames, padding_runs_of_any_length_are_skipped) {
  for (std::size_t run = 0; run <= 24; ++run) {
    SCOPED_TRACE(run);
    ByteVec payload(run, 0);
    for (const std::uint8_t b : hex("06 00 02 6162")) payload.push_back(b);  // CRYPTO "ab"
    payload.insert(payload.end(), run, 0);
    payload.push_back(0x01);  // PING
    payload.insert(payload.end(), run, 0);
    InitialFrames f;
    ASSERT_TRUE(walk_initial_frames(payload, f));
    ASSERT_EQ(f.crypto_count, 1u);
    EXPECT_EQ(f.crypto[0].data.size(), 2u);
    EXPECT_TRUE(f.ping);
    InitialFrames only_padding;
    EXPECT_TRUE(walk_initial_frames(ByteVec(run, 0), only_padding));
    EXPECT_EQ(only_padding.crypto_count, 0u);
    // A forbidden frame after a run still stops the walk.
    ByteVec bad(run, 0);
    bad.push_back(0x08);
    EXPECT_FALSE(walk_initial_frames(bad, only_padding));
  }
}

TEST(QuicFrames, malformed_and_forbidden_frames_stop_the_walk) {
  InitialFrames f;
  EXPECT_FALSE(walk_initial_frames(hex("06 00 10 6162"), f));  // CRYPTO longer than the packet
  EXPECT_FALSE(
      walk_initial_frames(hex("02 05 00 bfffffffffffffff 00"), f));  // absurd ACK range count
  EXPECT_FALSE(walk_initial_frames(hex("08 00"), f));  // STREAM: not in Initial packets
}

}  // namespace
}  // namespace netscope::dpi::quic
