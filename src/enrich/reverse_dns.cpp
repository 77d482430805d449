#include "enrich/reverse_dns.hpp"

#include <ares.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace netscope::enrich {

namespace {

using Clock = std::chrono::steady_clock;

struct AddressHash {
  std::size_t operator()(const core::IpAddress& a) const noexcept {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    std::memcpy(&hi, a.bytes().data(), 8);
    std::memcpy(&lo, a.bytes().data() + 8, 8);
    // splitmix64 finaliser over both halves: cheap and spreads IPv4-mapped addresses,
    // whose high half is constant.
    std::uint64_t x = hi ^ (lo * 0x9e3779b97f4a7c15ULL);
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return static_cast<std::size_t>(x);
  }
};

void init_library_once() {
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (status != ARES_SUCCESS) {
    throw std::runtime_error(std::string("c-ares: ") + ares_strerror(status));
  }
}

}  // namespace

struct ReverseDns::Impl {
  enum class Source : std::uint8_t { ptr, answer };
  struct Entry {
    std::optional<std::string> name;  // nullopt: the lookup found no name
    Clock::time_point expires;
    Source source = Source::ptr;
    std::list<core::IpAddress>::iterator lru;
  };
  struct Request {
    Impl* impl;
    core::IpAddress addr;
  };

  explicit Impl(ReverseDnsConfig c) : config_(std::move(c)) {
    init_library_once();
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    ares_options opts{};
    opts.timeout = static_cast<int>(config_.timeout.count());
    opts.tries = config_.tries;
    std::string lookups = config_.lookups;  // c-ares takes a char* and copies it
    opts.lookups = lookups.data();
    const int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
    int status = ares_init_options(&channel_, &opts, mask);
    if (status == ARES_SUCCESS && !config_.servers.empty()) {
      status = ares_set_servers_ports_csv(channel_, config_.servers.c_str());
      if (status != ARES_SUCCESS) ares_destroy(channel_);
    }
    if (status != ARES_SUCCESS) {
      ::close(wake_fd_);
      throw std::runtime_error(std::string("c-ares: ") + ares_strerror(status));
    }
    thread_ = std::thread([this] { run(); });
  }

  ~Impl() {
    stop_.store(true, std::memory_order_relaxed);
    wake();
    thread_.join();
    ::close(wake_fd_);
  }

  void wake() const {
    const std::uint64_t one = 1;
    // EAGAIN means the counter is already nonzero: the thread is woken either way.
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

  // --- cache (callers hold mu_) ---

  void touch(Entry& e) {
    lru_.splice(lru_.begin(), lru_, e.lru);
    e.lru = lru_.begin();
  }

  void store(const core::IpAddress& addr, std::optional<std::string> name, Source source,
             Clock::duration ttl) {
    const Clock::time_point expires = Clock::now() + ttl;
    if (auto it = cache_.find(addr); it != cache_.end()) {
      it->second.name = std::move(name);
      it->second.expires = expires;
      it->second.source = source;
      touch(it->second);
      return;
    }
    if (config_.max_entries == 0) return;
    while (cache_.size() >= config_.max_entries) {
      cache_.erase(lru_.back());
      lru_.pop_back();
      ++counters_.evictions;
    }
    lru_.push_front(addr);
    cache_.emplace(addr, Entry{std::move(name), expires, source, lru_.begin()});
  }

  void enqueue(const core::IpAddress& addr) {
    if (pending_.count(addr) > 0) return;
    if (queue_.size() >= config_.queue) {
      ++counters_.overflow;
      return;
    }
    queue_.push_back(addr);
    pending_.insert(addr);
    ++counters_.queued;
    wake();
  }

  // --- resolver thread ---

  static void on_result(void* arg, int status, int /*timeouts*/, hostent* host) {
    std::unique_ptr<Request> req(static_cast<Request*>(arg));
    Impl& self = *req->impl;
    --self.in_flight_;
    // Shutdown: the channel is going away and nobody will read the cache again.
    if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) return;
    std::optional<std::string> name;
    if (status == ARES_SUCCESS && host != nullptr && host->h_name != nullptr &&
        host->h_name[0] != '\0') {
      name = host->h_name;
    }
    std::lock_guard lock(self.mu_);
    self.pending_.erase(req->addr);
    name ? ++self.counters_.resolved : ++self.counters_.failed;
    if (auto it = self.cache_.find(req->addr); it != self.cache_.end() &&
                                               it->second.source == Source::answer &&
                                               it->second.expires > Clock::now()) {
      return;  // a name from a DNS answer arrived meanwhile; it wins
    }
    const Clock::duration ttl =
        name ? Clock::duration(self.config_.ttl) : Clock::duration(self.config_.negative_ttl);
    self.store(req->addr, std::move(name), Source::ptr, ttl);
  }

  void start_queries() {
    std::vector<core::IpAddress> batch;
    {
      std::lock_guard lock(mu_);
      const std::size_t limit = std::max<std::size_t>(config_.max_in_flight, 1);
      while (in_flight_ + batch.size() < limit && !queue_.empty()) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    // Without the lock: c-ares calls on_result() from inside ares_gethostbyaddr() when
    // /etc/hosts has the answer, and on_result() takes the lock.
    for (const core::IpAddress& addr : batch) {
      ++in_flight_;
      auto* req = new Request{this, addr};
      if (addr.is_v4()) {
        ares_gethostbyaddr(channel_, addr.bytes().data() + 12, 4, AF_INET, on_result, req);
      } else {
        ares_gethostbyaddr(channel_, addr.bytes().data(), 16, AF_INET6, on_result, req);
      }
    }
  }

  void run() {
    while (!stop_.load(std::memory_order_relaxed)) {
      start_queries();
      std::array<ares_socket_t, ARES_GETSOCK_MAXNUM> socks{};
      const int bits = ares_getsock(channel_, socks.data(), ARES_GETSOCK_MAXNUM);
      std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}};
      for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
        short events = 0;
        if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
        if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
        if (events != 0) fds.push_back({socks[static_cast<std::size_t>(i)], events, 0});
      }
      timeval tv{};
      const timeval* next = ares_timeout(channel_, nullptr, &tv);
      const int wait_ms =
          next == nullptr ? -1
                          : static_cast<int>(next->tv_sec * 1000 + (next->tv_usec + 999) / 1000);
      const int ready = ::poll(fds.data(), fds.size(), wait_ms);
      if (ready < 0 && errno != EINTR) break;
      if (fds[0].revents & POLLIN) {
        std::uint64_t drained = 0;
        [[maybe_unused]] const ssize_t n = ::read(wake_fd_, &drained, sizeof drained);
      }
      bool any = false;
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        any = true;
        const bool rd = (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
        const bool wr = (fds[i].revents & POLLOUT) != 0;
        ares_process_fd(channel_, rd ? fds[i].fd : ARES_SOCKET_BAD,
                        wr ? fds[i].fd : ARES_SOCKET_BAD);
      }
      // No socket was ready: let c-ares expire timed-out queries and retry.
      if (!any) ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }
    ares_destroy(channel_);  // runs the outstanding callbacks with ARES_EDESTRUCTION
  }

  const ReverseDnsConfig config_;
  int wake_fd_ = -1;
  ares_channel channel_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> in_flight_{0};  // written by the resolver thread only

  mutable std::mutex mu_;  // guards everything below
  std::unordered_map<core::IpAddress, Entry, AddressHash> cache_;
  std::list<core::IpAddress> lru_;  // most recently used first
  std::deque<core::IpAddress> queue_;
  std::unordered_set<core::IpAddress, AddressHash> pending_;  // queued or in flight
  ReverseDnsStats counters_;

  std::thread thread_;  // last: starts after every member above exists
};

ReverseDns::ReverseDns(ReverseDnsConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {}

ReverseDns::~ReverseDns() = default;

std::optional<std::string> ReverseDns::lookup(const core::IpAddress& addr) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu_);
  const auto it = s.cache_.find(addr);
  if (it == s.cache_.end()) {
    ++s.counters_.misses;
    s.enqueue(addr);
    return std::nullopt;
  }
  Impl::Entry& e = it->second;
  s.touch(e);
  if (e.expires <= Clock::now()) s.enqueue(addr);  // refresh; serve the old name meanwhile
  ++s.counters_.hits;
  return e.name;
}

void ReverseDns::set_name(const core::IpAddress& addr, std::string name, std::chrono::seconds ttl) {
  if (name.empty()) return;
  Impl& s = *impl_;
  std::lock_guard lock(s.mu_);
  s.store(addr, std::move(name), Impl::Source::answer, ttl);
}

ReverseDnsStats ReverseDns::stats() const {
  const Impl& s = *impl_;
  std::lock_guard lock(s.mu_);
  ReverseDnsStats out = s.counters_;
  out.entries = s.cache_.size();
  out.pending = s.pending_.size();
  out.in_flight = s.in_flight_.load(std::memory_order_relaxed);
  return out;
}

}  // namespace netscope::enrich
