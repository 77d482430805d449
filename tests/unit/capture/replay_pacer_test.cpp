#include "capture/replay_pacer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

namespace netscope::capture {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMs = 1'000'000;
const core::Timestamp kT0{1'700'000'000 * kSecond};

core::Timestamp at(std::int64_t offset_ns) {
  return core::Timestamp{kT0.ns + offset_ns};
}

TEST(ReplayPacer, SpeedZeroNeverSleeps) {
  ReplayPacer pacer(0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(pacer.pace(at(i * kSecond)));
  EXPECT_EQ(pacer.slept_ns(), 0);
}

TEST(ReplayPacer, SpeedTenTurnsASecondIntoATenth) {
  ReplayPacer pacer(10);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(pacer.pace(at(0)));  // the first packet only anchors the clock
  EXPECT_EQ(pacer.slept_ns(), 0);
  EXPECT_TRUE(pacer.pace(at(kSecond)));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // Lower bounds only: a loaded machine may sleep longer, never shorter.
  EXPECT_GE(elapsed, std::chrono::milliseconds(50));
  EXPECT_GE(pacer.slept_ns(), 50 * kMs);
}

TEST(ReplayPacer, BackwardsJumpDoesNotSleepAndKeepsTheSpacingAfterIt) {
  ReplayPacer pacer(10);
  EXPECT_TRUE(pacer.pace(at(100 * kSecond)));
  EXPECT_TRUE(pacer.pace(at(0)));  // 100 s back in the file
  EXPECT_EQ(pacer.slept_ns(), 0);
  // The time axis is stitched at the jump: the next packet, 1 s later in the file, is
  // not "late" by 99 s but due 100 ms after the jump.
  EXPECT_TRUE(pacer.pace(at(kSecond)));
  EXPECT_GE(pacer.slept_ns(), 50 * kMs);
}

TEST(ReplayPacer, LatePacketsAreReleasedAtOnce) {
  ReplayPacer pacer(1000);
  EXPECT_TRUE(pacer.pace(at(0)));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // 20 s of file time at 1000x
  EXPECT_TRUE(pacer.pace(at(kSecond)));
  EXPECT_EQ(pacer.slept_ns(), 0);
}

TEST(ReplayPacer, PendingInterruptEndsTheNextSleepOnce) {
  ReplayPacer pacer(1000);
  EXPECT_TRUE(pacer.pace(at(0)));
  pacer.interrupt();
  EXPECT_FALSE(pacer.pace(at(300 * kSecond)));  // due 300 ms after the anchor
  // The interrupt was consumed: the next packet is waited for.
  EXPECT_TRUE(pacer.pace(at(301 * kSecond)));
  EXPECT_GE(pacer.slept_ns(), 150 * kMs);
}

TEST(ReplayPacer, InterruptFromAnotherThreadEndsASleep) {
  ReplayPacer pacer(1);
  EXPECT_TRUE(pacer.pace(at(0)));
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pacer.interrupt();
  });
  EXPECT_FALSE(pacer.pace(at(120 * kSecond)));  // bounded: two minutes if interrupt fails
  t.join();
}

TEST(ReplayPacer, ExtremeTimestampsDoNotOverflow) {
  // UBSan fails this test on any signed overflow; speed 1e12 keeps the sleeps short.
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  ReplayPacer pacer(1e12);
  EXPECT_TRUE(pacer.pace(core::Timestamp{kMax}));
  EXPECT_TRUE(pacer.pace(core::Timestamp{kMin}));  // the whole range backwards
  EXPECT_TRUE(pacer.pace(core::Timestamp{kMin + kSecond}));
  EXPECT_TRUE(pacer.pace(core::Timestamp{0}));
  EXPECT_TRUE(pacer.pace(core::Timestamp{kMax}));  // about 9 ms at this speed
}

TEST(ReplayPacer, RejectsNegativeAndNonFiniteSpeeds) {
  EXPECT_THROW(ReplayPacer{-1}, std::invalid_argument);
  EXPECT_THROW(ReplayPacer{std::nan("")}, std::invalid_argument);
  EXPECT_THROW(ReplayPacer{std::numeric_limits<double>::infinity()}, std::invalid_argument);
}

}  // namespace
}  // namespace netscope::capture
