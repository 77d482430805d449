// DNS message parsing: names, compression and its abuse, records, rcodes, TCP framing.

#include "dpi/dns.hpp"

#include <gtest/gtest.h>

#include "dpi_test_util.hpp"

namespace netscope::dpi::dns {
namespace {

using test::ByteVec;
using test::hex;

// A response for www.example.com A: CNAME to web.example.com (compressed), two A
// records and one AAAA, an OPT record in the additional section.
ByteVec sample_response(std::uint8_t rcode = 0) {
  ByteVec m = hex("abcd 8180 0001 0003 0000 0001");
  m[3] = static_cast<std::uint8_t>(0x80 | rcode);
  const ByteVec q = hex("03777777 076578616d706c65 03636f6d 00 0001 0001");  // offset 12
  test::append(m, q);
  // www.example.com CNAME web.example.com: name ptr to 12; rdata "web" + ptr to 16 (example.com)
  test::append(m, hex("c00c 0005 0001 0000012c 0006 03776562 c010"));
  // web.example.com (ptr to the CNAME's rdata at 45) A 93.184.216.34 and 93.184.216.35
  test::append(m, hex("c02d 0001 0001 0000012c 0004 5db8d822"));
  test::append(m, hex("c02d 001c 0001 0000012c 0010 20010db8000000000000000000000001"));
  test::append(m, hex("00 0029 1000 00000000 0000"));  // OPT
  return m;
}

TEST(DnsParse, header_question_and_answer_records_with_compression) {
  const ByteVec m = sample_response();
  Message msg;
  ASSERT_TRUE(parse_message(m, msg));
  EXPECT_EQ(msg.id, 0xabcd);
  EXPECT_TRUE(msg.response);
  EXPECT_EQ(msg.qname, "www.example.com");
  EXPECT_EQ(msg.qtype, rr::a);
  ASSERT_EQ(msg.records.size(), 3u);
  EXPECT_EQ(msg.records[0].answer.type, rr::cname);
  EXPECT_EQ(msg.records[0].answer.target, "web.example.com");
  EXPECT_EQ(msg.records[1].answer.text(), "93.184.216.34");
  EXPECT_EQ(msg.records[2].answer.text(), "2001:db8::1");
  EXPECT_EQ(msg.records[2].section, Section::answer);
  EXPECT_TRUE(strict_parse(m, msg));
}

TEST(DnsParse, rcode_names_and_the_edns_extended_rcode) {
  const ByteVec nx = sample_response(3);
  Message msg;
  ASSERT_TRUE(parse_message(nx, msg));
  EXPECT_EQ(rcode_name(msg.rcode), "NXDOMAIN");
  EXPECT_EQ(rcode_name(0), "NOERROR");
  EXPECT_EQ(rcode_name(1), "FORMERR");
  EXPECT_EQ(rcode_name(2), "SERVFAIL");
  EXPECT_EQ(rcode_name(4), "NOTIMP");
  EXPECT_EQ(rcode_name(5), "REFUSED");
  EXPECT_EQ(rcode_name(16), "BADVERS");
  EXPECT_EQ(rcode_name(15), "RCODE15");
  // OPT TTL's top byte 0x01 extends rcode 0 to 16 (RFC 6891 §6.1.3).
  ByteVec ext = sample_response(0);
  ext[ext.size() - 6] = 0x01;
  ASSERT_TRUE(parse_message(ext, msg));
  EXPECT_EQ(msg.rcode, 16);
}

TEST(DnsParse, qtype_mnemonics) {
  EXPECT_EQ(qtype_name(1), "A");
  EXPECT_EQ(qtype_name(28), "AAAA");
  EXPECT_EQ(qtype_name(65), "HTTPS");
  EXPECT_EQ(qtype_name(255), "ANY");
  EXPECT_EQ(qtype_name(65534), "TYPE65534");
}

TEST(DnsNames, pointer_loops_end_in_an_error) {
  std::string name;
  // A pointer to itself and two pointers to each other (the "zlip" attack).
  const ByteVec self = hex("000000000000000000000000 c00c");
  std::size_t pos = 12;
  EXPECT_FALSE(read_name(self, pos, &name));
  const ByteVec pair = hex("000000000000000000000000 c00e c00c");
  pos = 14;
  EXPECT_FALSE(read_name(pair, pos, &name));
  // A forward pointer, even to a valid name.
  const ByteVec forward = hex("000000000000000000000000 c00e 0161 00");
  pos = 12;
  EXPECT_FALSE(read_name(forward, pos, &name));
  // A label followed by a pointer back into that same name.
  const ByteVec back_in = hex("000000000000000000000000 0161 c00c");
  pos = 12;
  EXPECT_FALSE(read_name(back_in, pos, &name));
}

TEST(DnsNames, length_limits_and_bounds) {
  std::string name;
  std::size_t pos = 0;
  ByteVec long_label{64};
  long_label.insert(long_label.end(), 64, 'a');
  long_label.push_back(0);
  EXPECT_FALSE(read_name(long_label, pos, &name));
  // 5 labels of 63 bytes: 320 octets > 255.
  ByteVec long_name;
  for (int i = 0; i < 5; ++i) {
    long_name.push_back(63);
    long_name.insert(long_name.end(), 63, 'b');
  }
  long_name.push_back(0);
  pos = 0;
  EXPECT_FALSE(read_name(long_name, pos, &name));
  const ByteVec cut = hex("05 6162");  // label runs past the end
  pos = 0;
  EXPECT_FALSE(read_name(cut, pos, &name));
  const ByteVec ext_label = hex("41 00");  // 0x40: extended label type
  pos = 0;
  EXPECT_FALSE(read_name(ext_label, pos, &name));
}

TEST(DnsNames, root_and_escaped_bytes) {
  std::string name;
  std::size_t pos = 0;
  ASSERT_TRUE(read_name(hex("00"), pos, &name));
  EXPECT_EQ(name, ".");
  EXPECT_EQ(pos, 1u);
  pos = 0;
  ASSERT_TRUE(read_name(hex("03 612e62 02 0a20 00"), pos, &name));
  EXPECT_EQ(name, "a\\.b.\\010\\032");
  pos = 0;
  EXPECT_TRUE(read_name(hex("03 612e62 00"), pos, nullptr));  // checked, not kept
  EXPECT_EQ(pos, 5u);
}

// The longest name the wire allows (255 octets with the length bytes), every byte shown
// as \DDD: four characters per byte, all of it kept.
TEST(DnsNames, the_longest_name_of_unprintable_bytes_is_kept_whole) {
  ByteVec wire;
  std::string want;
  for (int label = 0; label < 4; ++label) {
    const int len = label < 3 ? 63 : 61;  // 3 * 64 + 62 + the root's 1 = 255 octets
    wire.push_back(static_cast<std::uint8_t>(len));
    if (label != 0) want += '.';
    for (int i = 0; i < len; ++i) {
      wire.push_back(0x01);
      want += "\\001";
    }
  }
  wire.push_back(0);
  ASSERT_EQ(wire.size(), 255u);
  std::string name;
  std::size_t pos = 0;
  ASSERT_TRUE(read_name(wire, pos, &name));
  EXPECT_EQ(name, want);
  EXPECT_EQ(name.size(), 4 * 250u + 3);
  // One octet more (the last label 62 long) is past kMaxName: malformed.
  wire[3 * 64] = 62;
  wire.insert(wire.end() - 1, 0x01);
  ASSERT_EQ(wire.size(), 256u);
  pos = 0;
  EXPECT_FALSE(read_name(wire, pos, &name));
}

TEST(DnsParse, absurd_counts_and_truncation_fail_fast) {
  ByteVec m = sample_response();
  m[6] = 0xff;  // ancount 0xff03
  Message msg;
  EXPECT_TRUE(parse_message(m, msg));  // header and question are fine
  EXPECT_FALSE(strict_parse(m, msg));  // the records are not all there
  for (std::size_t n = 0; n < 12; ++n)
    EXPECT_FALSE(parse_message(ByteVec(m.begin(), m.begin() + n), msg));
  const ByteVec q_cut(m.begin(), m.begin() + 20);
  EXPECT_FALSE(parse_message(q_cut, msg));
}

// keep_records off (analyze, which reports no answers): no record is kept, but every one
// is still read and checked, and the OPT record still extends the rcode.
TEST(DnsParse, without_records_the_header_question_and_checks_stay) {
  Message msg;
  msg.keep_records = false;
  ByteVec ext = sample_response(0);
  ext[ext.size() - 6] = 0x01;  // OPT: extended rcode 16
  ASSERT_TRUE(parse_message(ext, msg));
  EXPECT_TRUE(msg.records.empty());
  EXPECT_EQ(msg.qname, "www.example.com");
  EXPECT_EQ(msg.ancount, 3);
  EXPECT_EQ(msg.rcode, 16);
  EXPECT_TRUE(strict_parse(ext, msg));
  EXPECT_FALSE(msg.keep_records);  // kept across parses (clear() leaves it)
  // A CNAME whose target points forward (not to a prior occurrence) is malformed either way.
  ByteVec bad = sample_response(0);
  bad[50] = 0x40;  // the CNAME target's pointer (rdata at 45): c010 -> c040, forward
  Message kept;
  EXPECT_FALSE(strict_parse(bad, kept));
  EXPECT_FALSE(strict_parse(bad, msg));
}

// Past the 64 records looked into, the same message is read the same way whether records
// are kept or not: a malformed CNAME there is not looked at either way, and the OPT record
// after it still extends the rcode.
TEST(DnsParse, keeping_records_or_not_reads_a_long_message_alike) {
  ByteVec m = hex("abcd 8180 0001 0042 0000 0001");  // 66 answers, 1 additional
  test::append(m, hex("03777777 076578616d706c65 03636f6d 00 0001 0001"));
  for (int i = 0; i < 64; ++i) test::append(m, hex("c00c 0001 0001 0000012c 0004 c0000201"));
  test::append(m, hex("c00c 0005 0001 0000012c 0002 c0ff"));  // CNAME pointing forward
  test::append(m, hex("c00c 0001 0001 0000012c 0004 c0000202"));
  test::append(m, hex("00 0029 1000 01000000 0000"));  // OPT: extended rcode 16
  for (const bool strict : {false, true}) {
    Message kept;
    Message lean;
    lean.keep_records = false;
    const bool a = strict ? strict_parse(m, kept) : parse_message(m, kept);
    const bool b = strict ? strict_parse(m, lean) : parse_message(m, lean);
    EXPECT_EQ(a, b) << "strict " << strict;
    EXPECT_EQ(kept.rcode, lean.rcode) << "strict " << strict;
    EXPECT_EQ(kept.rcode, 16);
    EXPECT_EQ(kept.records.size(), 64u);
    EXPECT_TRUE(lean.records.empty());
  }
}

TEST(DnsParse, strict_parse_rejects_what_is_unlikely_dns) {
  Message msg;
  ByteVec two_questions = hex("0001 0100 0002 0000 0000 0000 0161 00 0001 0001 0162 00 0001 0001");
  EXPECT_TRUE(parse_message(two_questions, msg));
  EXPECT_FALSE(strict_parse(two_questions, msg));
  ByteVec trailing = hex("0001 0100 0001 0000 0000 0000 0161 00 0001 0001 ff");
  EXPECT_FALSE(strict_parse(trailing, msg));
  trailing.pop_back();
  EXPECT_TRUE(strict_parse(trailing, msg));
  ByteVec z_bit = trailing;
  z_bit[3] |= 0x40;
  EXPECT_FALSE(strict_parse(z_bit, msg));
}

TEST(DnsTcp, length_prefixed_messages) {
  ByteVec stream = hex("0003 616263 0002 6465 00");
  Bytes msg;
  std::size_t used = 0;
  ASSERT_TRUE(next_tcp_message(stream, msg, used));
  EXPECT_EQ(used, 5u);
  EXPECT_EQ(msg.size(), 3u);
  ASSERT_TRUE(next_tcp_message(Bytes(stream).subspan(5), msg, used));
  EXPECT_FALSE(next_tcp_message(Bytes(stream).subspan(9), msg, used));  // 1 byte of a prefix
}

}  // namespace
}  // namespace netscope::dpi::dns
