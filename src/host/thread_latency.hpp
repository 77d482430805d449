#pragma once
// Prompt wake-ups for a thread that must react within a connection's lifetime. A curl
// connection to a nearby server lives about a millisecond; its socket leaves the fd table
// when curl closes it, so the attribution thread has to read that table before. On a busy
// machine the scheduler lets a woken thread wait for the running one's slice (a few ms),
// which loses the race.
//  - Real-time priority (RealtimeBudget): SCHED_FIFO at priority 1, the lowest, preempts
//    every SCHED_OTHER thread the moment it wakes. It needs CAP_SYS_NICE (which the live
//    monitor keeps when it has it) or an RLIMIT_RTPRIO of at least 1; without either the
//    thread falls back to the short slice, silently. The thread must block between events (it
//    does: poll), and a CPU budget sends it back to SCHED_OTHER for the rest of a window
//    when it works too long (a flood), so it can never starve the machine.
//  - A short slice (request_short_slice): Linux 6.12+ (EEVDF) lets a SCHED_OTHER thread
//    ask for a shorter slice (sched_setattr(2), sched_runtime): it then gets an earlier
//    deadline and preempts on wake-up, without any privilege, and gives up the CPU sooner
//    in turn. Older kernels ignore the request. Under a load of a dozen runnable threads
//    on two CPUs it still waited 2-17 ms now and then (e2e live_short_lived: 92-98 of 100
//    curls attributed under ASan, 100 with SCHED_FIFO).

#include <chrono>
#include <cstdint>

namespace netscope::host {

// Asks for `slice` (the kernel clamps it to 0.1-100 ms) for the calling thread, keeping
// its policy and nice value. False when the kernel refused (the thread runs as before) or
// the thread is not SCHED_OTHER.
bool request_short_slice(std::chrono::microseconds slice);

// SCHED_FIFO priority 1 for the calling thread while it stays within a CPU budget.
// Everything runs on the thread that called start().
class RealtimeBudget {
 public:
  struct Config {
    std::chrono::microseconds slice{100};      // the short slice when not real-time
    std::chrono::milliseconds window{100};     // the budget's period
    std::chrono::microseconds budget{20'000};  // CPU time per window at real-time priority
  };
  explicit RealtimeBudget(Config config) : config_(config) {}

  // SCHED_FIFO priority 1 with SCHED_RESET_ON_FORK when permitted, else the short slice
  // (request_short_slice). True when real-time priority was granted.
  bool start();
  // After each piece of work (before blocking again). Once the thread has used more than
  // `budget` CPU time in the current window it goes back to SCHED_OTHER with the short
  // slice; the first call after the window ends makes it real-time again.
  void charge();
  // Bulk work (the attribution refresh) runs at SCHED_OTHER with the short slice however
  // much budget is left, and its CPU time is not charged to the budget: a real-time thread
  // busy for long keeps every other real-time thread at its priority off that CPU (another
  // netscope's lookups: one waited 430 ms for a CPU beside other netscopes under ASan).
  // end_bulk() makes the thread real-time again unless the budget demoted it.
  void begin_bulk();
  void end_bulk();

  bool realtime() const { return granted_; }              // granted by start()
  bool short_slice() const { return short_slice_; }       // ... else the short slice was
  bool demoted() const { return demoted_; }               // over budget in this window
  std::uint64_t demotions() const { return demotions_; }  // windows that went over

 private:
  Config config_;
  bool granted_ = false;
  bool short_slice_ = false;
  bool demoted_ = false;
  bool bulk_ = false;             // between begin_bulk() and end_bulk(), at SCHED_OTHER
  std::int64_t bulk_cpu_ns_ = 0;  // the thread's CPU time at begin_bulk()
  std::uint64_t demotions_ = 0;
  std::int64_t window_end_ns_ = 0;  // CLOCK_MONOTONIC
  std::int64_t window_cpu_ns_ = 0;  // the thread's CPU time when the window began
};

}  // namespace netscope::host
