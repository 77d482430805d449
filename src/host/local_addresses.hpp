#pragma once
// LocalAddresses: the addresses of this host's interfaces, kept current. Upload versus
// download is decided per packet by whether an address is local, so contains() is read
// on the packet path: it is lock-free over an immutable snapshot that a background
// thread replaces whenever the kernel reports a change (RTM_NEWADDR / RTM_DELADDR on the
// RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR groups). The initial set comes from an
// RTM_GETADDR dump; when the event socket overflows (ENOBUFS: events were lost) the set
// is dumped again.
//
// A host-scope address (127.0.0.1/8, ::1/128) covers its whole prefix: the kernel
// routes all of 127.0.0.0/8 to the loopback device as local.
//
// It follows the network namespace of the thread that calls start().

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/ip_address.hpp"
#include "host/local_nets.hpp"
#include "host/netlink.hpp"
#include "host/netlink_addr.hpp"

namespace netscope::host {

class LocalAddresses {
 public:
  LocalAddresses();
  ~LocalAddresses();  // stops the thread
  LocalAddresses(const LocalAddresses&) = delete;
  LocalAddresses& operator=(const LocalAddresses&) = delete;

  // Subscribes to address events, dumps the current addresses and starts following the
  // events. False with `error` set when netlink fails; contains() is then always false.
  bool start(std::string* error);
  void stop();

  // Any thread, cheap: an atomic load of the snapshot and a binary search.
  bool contains(const core::IpAddress& addr) const;
  std::vector<core::IpAddress> addresses() const;  // sorted, no duplicates
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }
  std::uint64_t resyncs() const { return resyncs_.load(std::memory_order_relaxed); }
  std::uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  struct Snapshot {
    std::vector<core::IpAddress> exact;  // sorted
    std::vector<Cidr> ranges;            // host-scope prefixes
  };
  // One address on one interface; the same address may sit on several.
  using Key = std::tuple<std::uint32_t, core::IpAddress, std::uint8_t>;

  bool dump(std::vector<AddressMessage>& out, std::string* error);
  void apply(const std::vector<AddressMessage>& messages);
  void publish();
  void run();

  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
  std::atomic<std::uint64_t> version_{0};
  std::atomic<std::uint64_t> resyncs_{0};
  std::atomic<std::uint64_t> errors_{0};
  netlink::Socket events_;    // multicast subscription
  netlink::Socket requests_;  // dumps
  int stop_fd_ = -1;          // eventfd that ends run()
  std::thread thread_;
  std::map<Key, AddressMessage> state_;  // owned by start(), then by the thread
  std::vector<std::uint8_t> buffer_;
};

}  // namespace netscope::host
