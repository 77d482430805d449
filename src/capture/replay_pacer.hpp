#pragma once
// ReplayPacer: releases the packets of a capture file (--read FILE --speed X) at X times
// the pace they were recorded at, so that the live engine, its refresh ticks and its
// rates behave as they did on the wire.
//
// The first packet anchors the mapping: it defines the file time ts0 and the wall time
// t0 (a monotonic clock). A packet stamped ts is released at t0 + (ts - ts0) / X.
// - speed 0 means as fast as possible: pace() returns at once and never sleeps.
// - A packet that is already late (processing fell behind) is released at once; the
//   mapping is kept, so the replay catches up rather than drifting.
// - Time going backwards in the file (merged or badly stamped captures): no sleep. The
//   packet counts as due when the previous one was, and the packets after it keep their
//   spacing from it, so a jump back neither stalls nor rushes the replay.
// - A long gap in the file is slept through faithfully (a day-long gap at speed 1 sleeps a
//   day); interrupt() cuts it short.
//
// pace() sleeps in ppoll() on an eventfd, so interrupt() ends a sleep at once, from any
// thread or from a signal handler.

#include <cstdint>

#include "core/timestamp.hpp"

namespace netscope::capture {

class ReplayPacer {
 public:
  // Throws std::invalid_argument unless speed is finite and >= 0.
  explicit ReplayPacer(double speed);
  ~ReplayPacer();
  ReplayPacer(const ReplayPacer&) = delete;
  ReplayPacer& operator=(const ReplayPacer&) = delete;

  // Blocks until the packet stamped `ts` is due. Returns true when it is, false when
  // interrupt() cut the wait short; the interrupt is then consumed, and the caller
  // decides (usually by checking its stop flag) whether to go on.
  bool pace(core::Timestamp ts);

  // Ends the current pace() sleep, or the next one if none is in progress. Thread- and
  // async-signal-safe.
  void interrupt();

  double speed() const { return speed_; }
  // Total time pace() has spent sleeping, in nanoseconds (statistics and tests).
  std::int64_t slept_ns() const { return slept_ns_; }

 private:
  double speed_;
  int wake_fd_ = -1;
  bool anchored_ = false;
  std::int64_t wall0_ns_ = 0;  // monotonic clock at the anchor
  core::Timestamp ts0_;        // file time at the anchor
  core::Timestamp last_ts_;
  std::int64_t slept_ns_ = 0;
};

}  // namespace netscope::capture
