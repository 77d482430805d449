#pragma once
// Prompt wake-ups for a thread that must react within a connection's lifetime. A curl
// connection to a nearby server lives about a millisecond; its socket leaves the fd table
// when curl closes it, so the attribution thread has to read that table before. On a busy
// machine the scheduler lets a woken thread wait for the running one's slice (a few ms),
// which loses the race. Linux 6.12+ (EEVDF) lets a SCHED_OTHER thread ask for a shorter
// slice (sched_setattr(2), sched_runtime): it then gets an earlier deadline and preempts
// on wake-up, without any privilege, and gives up the CPU sooner in turn. Older kernels
// ignore the request.

#include <chrono>

namespace netscope::host {

// Asks for `slice` (the kernel clamps it to 0.1-100 ms) for the calling thread, keeping
// its policy and nice value. False when the kernel refused (the thread runs as before) or
// the thread is not SCHED_OTHER.
bool request_short_slice(std::chrono::microseconds slice);

}  // namespace netscope::host
