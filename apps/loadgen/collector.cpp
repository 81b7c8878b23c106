#include "apps/loadgen/collector.hpp"

#include "ipfix/decoder.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace malfix::loadgen {
namespace {

constexpr int kPollMs = 100;
constexpr std::size_t kBufferSize = std::size_t{1} << 20;
constexpr std::int64_t kDrainNs = 2'000'000'000;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

class CountingSink : public ipfix::FlowSink {
public:
    void on_flow(const ipfix::FlowView& /*flow*/) override {}
};

}  // namespace

Collector::Collector(const CollectorConfig& config) : config_(config) {
    if (config_.listen.udp) {
        throw std::runtime_error("the collector listens on tcp:// only");
    }
    listen_fd_ = socket(config_.listen.address.ss_family, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (listen_fd_ < 0 ||
        bind(listen_fd_, reinterpret_cast<const sockaddr*>(&config_.listen.address),
             config_.listen.address_length) != 0 ||
        listen(listen_fd_, 64) != 0) {
        const std::string reason = std::strerror(errno);
        if (listen_fd_ >= 0) {
            close(listen_fd_);
        }
        throw std::runtime_error("listen " + config_.listen.text() + ": " + reason);
    }
    bound_ = local_url(listen_fd_, false);
}

Collector::~Collector() {
    if (listen_fd_ >= 0) {
        close(listen_fd_);
    }
    for (std::thread& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
}

void Collector::run(const std::atomic<bool>& stop) {
    while (!stop.load()) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (poll(&p, 1, kPollMs) <= 0) {
            continue;
        }
        const int fd = accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) {
            continue;
        }
        connections_.fetch_add(1);
        threads_.emplace_back([this, fd, &stop] { serve(fd, stop); });
    }
    for (std::thread& t : threads_) {
        t.join();
    }
    threads_.clear();
}

void Collector::note_activity() {
    const std::int64_t t = now_ns();
    std::int64_t expected = 0;
    first_ns_.compare_exchange_strong(expected, t);
    last_ns_.store(t, std::memory_order_relaxed);
}

void Collector::serve(int fd, const std::atomic<bool>& stop) {
    std::vector<std::byte> buffer(kBufferSize);
    std::size_t used = 0;
    ipfix::Session session(ipfix::Transport::kTcp, "collector");
    ipfix::DecodeCounters counters;
    CountingSink sink;
    std::uint64_t reported_records = 0;
    std::uint64_t reported_options = 0;
    bool open = true;
    std::int64_t give_up_ns = 0;
    while (open) {
        // Asked to stop, a connection still reads what its peer already sent (a malfix that
        // was stopped first flushes its last Messages), for kDrainNs at most.
        if (stop.load(std::memory_order_relaxed) && give_up_ns == 0) {
            give_up_ns = now_ns() + kDrainNs;
        }
        if (give_up_ns != 0 && now_ns() > give_up_ns) {
            break;
        }
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, kPollMs) <= 0) {
            if (give_up_ns != 0) {
                break;  // nothing more arrived within a poll interval
            }
            continue;
        }
        const ssize_t n = read(fd, buffer.data() + used, buffer.size() - used);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            break;
        }
        note_activity();
        bytes_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
        if (config_.discard) {
            continue;
        }
        used += static_cast<std::size_t>(n);

        // Frame by the Message Header's Length (RFC 7011 §3.1), as any TCP collector does.
        std::size_t offset = 0;
        std::uint64_t messages = 0;
        for (;;) {
            const std::span<const std::byte> rest(buffer.data() + offset, used - offset);
            const std::size_t length = ipfix::message_length(rest);
            if (length == 0 || length > rest.size()) {
                break;
            }
            const ipfix::DecodeResult r =
                ipfix::decode_message(rest.first(length), session, counters, sink, 0);
            offset += length;
            ++messages;
            if (!r.ok) {
                rejected_.fetch_add(1);
                open = false;  // a stream that lost its framing cannot be trusted (§10.4.1)
                break;
            }
        }
        std::memmove(buffer.data(), buffer.data() + offset, used - offset);
        used -= offset;
        messages_.fetch_add(messages, std::memory_order_relaxed);
        records_.fetch_add(counters.data_records - reported_records, std::memory_order_relaxed);
        options_records_.fetch_add(counters.options_records - reported_options,
                                   std::memory_order_relaxed);
        reported_records = counters.data_records;
        reported_options = counters.options_records;
    }
    close(fd);
}

CollectorTotals Collector::totals() const {
    CollectorTotals t;
    t.connections = connections_.load();
    t.bytes = bytes_.load();
    t.messages = messages_.load();
    t.records = records_.load();
    t.options_records = options_records_.load();
    t.rejected = rejected_.load();
    const std::int64_t first = first_ns_.load();
    t.active_seconds = first == 0 ? 0 : static_cast<double>(last_ns_.load() - first) / 1e9;
    return t;
}

}  // namespace malfix::loadgen
