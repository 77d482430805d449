// StreamBuffer and TcpStream: ordering, overlap, holes, the per-stream cap and the total
// budget, and the no-copy fast path.

#include <gtest/gtest.h>

#include <memory>

#include "dpi/reader.hpp"
#include "dpi/stream_buffer.hpp"
#include "dpi/tcp_stream.hpp"
#include "dpi_test_util.hpp"

namespace netscope::dpi {
namespace {

using test::bytes;
using test::ByteVec;

std::shared_ptr<ReassemblyBudget> budget(std::size_t limit = 1 << 20) {
  auto b = std::make_shared<ReassemblyBudget>();
  b->limit = limit;
  return b;
}

std::string text(Bytes b) {
  return std::string(as_text(b));
}

TEST(StreamBuffer, out_of_order_segments_become_contiguous_when_the_hole_fills) {
  StreamBuffer buf(64, budget());
  const ByteVec a = bytes("hello "), b = bytes("world"), c = bytes("!");
  EXPECT_TRUE(buf.insert(6, b));
  EXPECT_TRUE(buf.insert(11, c));
  EXPECT_TRUE(buf.contiguous().empty());
  EXPECT_TRUE(buf.has_gap());
  EXPECT_TRUE(buf.insert(0, a));
  EXPECT_EQ(text(buf.contiguous()), "hello world!");
  EXPECT_FALSE(buf.has_gap());
}

TEST(StreamBuffer, overlapping_and_repeated_segments_are_merged) {
  StreamBuffer buf(64, budget());
  const ByteVec abc = bytes("abcdef"), cde = bytes("cdefgh");
  buf.insert(0, abc);
  buf.insert(2, cde);
  buf.insert(0, abc);  // a retransmission
  EXPECT_EQ(text(buf.contiguous()), "abcdefgh");
}

TEST(StreamBuffer, bytes_past_the_cap_are_dropped_and_counted) {
  StreamBuffer buf(8, budget());
  const ByteVec data = bytes("0123456789");
  EXPECT_FALSE(buf.insert(0, data));
  EXPECT_EQ(text(buf.contiguous()), "01234567");
  EXPECT_EQ(buf.truncated_bytes(), 2u);
  EXPECT_FALSE(buf.insert(100, data));
  EXPECT_EQ(buf.truncated_bytes(), 12u);
}

TEST(StreamBuffer, too_many_holes_drop_the_segment_instead_of_growing_state) {
  StreamBuffer buf(1024, budget());
  const ByteVec x = bytes("x");
  for (std::size_t i = 0; i < StreamBuffer::kMaxRanges; ++i) EXPECT_TRUE(buf.insert(10 + 2 * i, x));
  EXPECT_FALSE(buf.insert(100, x));  // a ninth disjoint range
  EXPECT_EQ(buf.truncated_bytes(), 1u);
  EXPECT_TRUE(buf.insert(11, x));  // joining two ranges is fine
}

TEST(StreamBuffer, consume_slides_the_window_and_old_bytes_are_ignored) {
  StreamBuffer buf(8, budget());
  const ByteVec a = bytes("abcdefgh"), b = bytes("ijkl");
  buf.insert(0, a);
  buf.consume(6);
  EXPECT_EQ(buf.window_start(), 6u);
  EXPECT_EQ(text(buf.contiguous()), "gh");
  buf.insert(0, a);  // before the window: a retransmission
  buf.insert(8, b);
  EXPECT_EQ(text(buf.contiguous()), "ghijkl");
}

TEST(StreamBuffer, the_total_budget_refuses_growth_and_gets_bytes_back) {
  auto b = budget(10);
  {
    StreamBuffer one(64, b);
    StreamBuffer two(64, b);
    const ByteVec eight = bytes("12345678");
    EXPECT_TRUE(one.insert(0, eight));
    EXPECT_EQ(b->used, 8u);
    EXPECT_FALSE(two.insert(0, eight));  // 16 > 10
    EXPECT_EQ(b->refused, 1u);
    EXPECT_TRUE(two.contiguous().empty());
    one.consume(8);
    EXPECT_EQ(b->used, 0u);
    EXPECT_TRUE(two.insert(0, eight));
  }
  EXPECT_EQ(b->used, 0u);  // destructors give the bytes back
}

TEST(StreamBuffer, rebase_moves_the_start_back_for_an_earlier_first_segment) {
  StreamBuffer buf(16, budget());
  const ByteVec tail = bytes("world"), head = bytes("hello ");
  buf.insert(0, tail);
  ASSERT_TRUE(buf.rebase(6));
  buf.insert(0, head);
  EXPECT_EQ(text(buf.contiguous()), "hello world");
  buf.consume(1);
  EXPECT_FALSE(buf.rebase(1));  // not once bytes were read
}

TEST(TcpStream, an_in_order_segment_is_read_in_place) {
  TcpStream s(64, budget());
  s.set_syn(999);
  const ByteVec seg = bytes("GET / HTTP/1.1\r\n");
  const Bytes view = s.feed(1000, seg);
  EXPECT_EQ(view.data(), seg.data());  // no copy
  s.consume(view.size());
  EXPECT_EQ(s.read_offset(), seg.size());
}

TEST(TcpStream, unused_bytes_are_kept_for_the_next_segment) {
  auto b = budget();
  TcpStream s(64, b);
  s.set_syn(0);
  const ByteVec one = bytes("abc"), two = bytes("def");
  s.feed(1, one);
  s.consume(1);  // "bc" stays
  EXPECT_EQ(b->used, 2u);
  EXPECT_EQ(text(s.feed(4, two)), "bcdef");
}

TEST(TcpStream, retransmissions_and_reordering_give_the_stream_once_in_order) {
  TcpStream s(64, budget());
  s.set_syn(100);
  const ByteVec a = bytes("aaaa"), b = bytes("bbbb"), c = bytes("cccc");
  EXPECT_TRUE(s.feed(105, b).empty());  // second segment first
  EXPECT_TRUE(s.blocked());
  EXPECT_EQ(text(s.feed(109, c)), "");
  EXPECT_EQ(text(s.feed(101, a)), "aaaabbbbcccc");
  s.consume(12);
  EXPECT_TRUE(s.feed(105, b).empty());  // an old retransmission adds nothing
}

TEST(TcpStream, without_a_syn_an_earlier_segment_moves_the_start_back) {
  TcpStream s(64, budget());
  const ByteVec a = bytes("first "), b = bytes("second");
  EXPECT_EQ(text(s.feed(5006, b)), "second");
  s.consume(0);
  EXPECT_EQ(text(s.feed(5000, a)), "first second");
}

TEST(TcpStream, sequence_numbers_wrap) {
  TcpStream s(64, budget());
  s.set_syn(0xfffffffd);  // stream starts at 0xfffffffe
  const ByteVec a = bytes("ab"), b = bytes("cd");
  s.feed(0xfffffffe, a);
  s.consume(0);
  EXPECT_EQ(text(s.feed(0, b)), "abcd");
}

TEST(TcpStream, skipping_past_the_available_bytes_drops_the_skipped_part_of_later_segments) {
  TcpStream s(64, budget());
  s.set_syn(0);
  const ByteVec a = bytes("0123"), b = bytes("456789");
  s.feed(1, a);
  s.consume(4);
  s.skip_to(7);  // over "456"
  EXPECT_EQ(text(s.feed(5, b)), "789");
}

TEST(TcpStream, advances_counts_each_byte_once) {
  TcpStream s(64, budget());
  EXPECT_TRUE(s.advances(100, 10));
  EXPECT_FALSE(s.advances(100, 10));  // retransmission
  EXPECT_FALSE(s.advances(104, 6));
  EXPECT_TRUE(s.advances(105, 10));  // partly new
  EXPECT_FALSE(s.advances(90, 5));   // before the start
}

TEST(ByteReader, quic_varints_of_every_length_and_truncation) {
  const ByteVec v = test::hex("25 7bbd 9d7f3e7d c2197c5eff14e88c");  // RFC 9000 §A.1 examples
  ByteReader r(v);
  std::uint64_t x = 0;
  ASSERT_TRUE(r.varint(x));
  EXPECT_EQ(x, 37u);
  ASSERT_TRUE(r.varint(x));
  EXPECT_EQ(x, 15293u);
  ASSERT_TRUE(r.varint(x));
  EXPECT_EQ(x, 494878333u);
  ASSERT_TRUE(r.varint(x));
  EXPECT_EQ(x, 151288809941952652u);
  const ByteVec cut = test::hex("c2197c");
  ByteReader c(cut);
  EXPECT_FALSE(c.varint(x));
  EXPECT_EQ(c.offset(), 0u);
}

TEST(ByteReader, a_vector_longer_than_the_input_fails_without_moving) {
  const ByteVec v = test::hex("0005 0102");
  ByteReader r(v);
  Bytes out;
  EXPECT_FALSE(r.vec16(out));
  EXPECT_EQ(r.offset(), 0u);
}

}  // namespace
}  // namespace netscope::dpi
