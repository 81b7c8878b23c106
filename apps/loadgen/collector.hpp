#pragma once

#include "apps/loadgen/net.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace malfix::loadgen {

struct CollectorConfig {
    Url listen;
    /// Only read bytes, never decode: the transport's ceiling rather than a collector's.
    bool discard = false;
};

/// Totals of a collector; records is 0 in discard mode.
struct CollectorTotals {
    std::uint64_t connections = 0;
    std::uint64_t bytes = 0;
    std::uint64_t messages = 0;
    std::uint64_t records = 0;          ///< Data Records of (non-options) Templates
    std::uint64_t options_records = 0;  ///< Options Template records, counted apart
    std::uint64_t rejected = 0;         ///< Messages the decoder refused (the session closes)
    double active_seconds = 0;          ///< from the first byte received to the last
};

/// A TCP sink that frames and decodes IPFIX Messages (malfix's own decoder, one Session per
/// connection) and counts what it got. One thread per connection; totals are summed with
/// atomics so they can be read while it runs.
class Collector {
public:
    /// Binds and listens; throws std::runtime_error when it cannot.
    explicit Collector(const CollectorConfig& config);
    ~Collector();
    Collector(const Collector&) = delete;
    Collector& operator=(const Collector&) = delete;

    /// The bound address, with the port the kernel picked for port 0.
    const Url& address() const { return bound_; }

    /// Accepts and reads until stop becomes true, then closes every connection.
    void run(const std::atomic<bool>& stop);

    CollectorTotals totals() const;

private:
    void serve(int fd, const std::atomic<bool>& stop);
    void note_activity();

    CollectorConfig config_;
    Url bound_;
    int listen_fd_ = -1;
    std::vector<std::thread> threads_;
    std::atomic<std::uint64_t> connections_{0};
    std::atomic<std::uint64_t> bytes_{0};
    std::atomic<std::uint64_t> messages_{0};
    std::atomic<std::uint64_t> records_{0};
    std::atomic<std::uint64_t> options_records_{0};
    std::atomic<std::uint64_t> rejected_{0};
    std::atomic<std::int64_t> first_ns_{0};
    std::atomic<std::int64_t> last_ns_{0};
};

}  // namespace malfix::loadgen
