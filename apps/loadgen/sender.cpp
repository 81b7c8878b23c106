#include "apps/loadgen/sender.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <barrier>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace malfix::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

struct Shared;

/// Runs once every connection is up: the clock starts when the first byte can go out.
struct StartClock {
    Shared* shared;
    void operator()() noexcept;
};

struct Shared {
    Shared(const MessagePool& p, const SendConfig& c, const std::atomic<bool>& s)
        : pool(p), config(c), stop(s), ready(static_cast<std::ptrdiff_t>(c.connections), {this}) {}

    const MessagePool& pool;
    const SendConfig& config;
    const std::atomic<bool>& stop;
    std::barrier<StartClock> ready;
    Clock::time_point start{};
    std::mutex mutex;
    SendStats total;
};

void StartClock::operator()() noexcept {
    shared->start = Clock::now();
}

std::uint32_t wall_seconds() {
    return static_cast<std::uint32_t>(std::time(nullptr));
}

int open_socket(const Url& target, std::string& error) {
    const int fd = socket(target.address.ss_family, target.udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return -1;
    }
    if (connect(fd, reinterpret_cast<const sockaddr*>(&target.address), target.address_length) !=
        0) {
        error = "connect " + target.text() + ": " + std::strerror(errno);
        close(fd);
        return -1;
    }
    return fd;
}

/// One connection's share of the flows: the quota split evenly, the remainder to the first.
std::uint64_t share(std::uint64_t flows, std::size_t connections, std::size_t i) {
    if (flows == 0) {
        return StreamCursor::kUnbounded;
    }
    return flows / connections + (i < flows % connections ? 1 : 0);
}

class Connection {
public:
    Connection(Shared& shared, std::size_t index, int fd)
        : shared_(shared),
          fd_(fd),
          cursor_(shared.pool, share(shared.config.flows, shared.config.connections, index),
                  index * shared.pool.size() / shared.config.connections),
          per_second_(shared.config.rate / static_cast<double>(shared.config.connections)) {}

    SendStats run() {
        const SendConfig& config = shared_.config;
        const auto deadline =
            config.duration > 0
                ? shared_.start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(config.duration))
                : Clock::time_point::max();
        auto next_templates =
            shared_.start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(config.template_interval));
        // Paced sessions send one Message at a time so the rate holds at small scales too.
        const std::size_t batch =
            (per_second_ > 0 || config.target.udp) ? 1 : StreamCursor::kMaxBatch;
        std::array<iovec, 2 * StreamCursor::kMaxBatch> iov{};
        bool more = true;
        while (more && !shared_.stop.load(std::memory_order_relaxed)) {
            const auto now = Clock::now();
            if (now >= deadline) {
                break;
            }
            if (config.target.udp && now >= next_templates) {
                cursor_.resend_templates();
                next_templates = now + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(config.template_interval));
            }
            int count = 0;
            const std::uint32_t export_time = wall_seconds();
            Chunk chunk;
            for (std::size_t i = 0; i < batch && (more = cursor_.next(chunk, export_time)); ++i) {
                iov[count++] = {const_cast<std::byte*>(chunk.header), MessagePool::kHeaderSize};
                iov[count++] = {const_cast<std::byte*>(chunk.body.data()), chunk.body.size()};
                ++stats_.messages;
                stats_.bytes += chunk.size();
            }
            if (count == 0) {
                break;
            }
            if (!write_all(fd_, iov.data(), count)) {
                stats_.error = std::string("send: ") + std::strerror(errno);
                break;
            }
            stats_.flows = cursor_.flows();
            pace();
        }
        stats_.flows = cursor_.flows();
        return stats_;
    }

private:
    void pace() {
        if (per_second_ <= 0) {
            return;
        }
        const auto due = shared_.start +
                         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                             static_cast<double>(stats_.flows) / per_second_));
        std::this_thread::sleep_until(due);
    }

    Shared& shared_;
    int fd_;
    StreamCursor cursor_;
    double per_second_;
    SendStats stats_;
};

void run_connection(Shared& shared, std::size_t index) {
    std::string error;
    const int fd = open_socket(shared.config.target, error);
    shared.ready.arrive_and_wait();
    SendStats stats;
    if (fd < 0) {
        stats.error = error;
    } else {
        Connection connection(shared, index, fd);
        stats = connection.run();
        if (!shared.config.target.udp) {
            shutdown(fd, SHUT_WR);
        }
        close(fd);
    }
    std::lock_guard lock(shared.mutex);
    shared.total.flows += stats.flows;
    shared.total.messages += stats.messages;
    shared.total.bytes += stats.bytes;
    if (shared.total.error.empty()) {
        shared.total.error = stats.error;
    }
}

}  // namespace

SendStats send_stream(const MessagePool& pool, const SendConfig& config,
                      const std::atomic<bool>& stop) {
    const std::size_t n = std::max<std::size_t>(1, config.connections);
    SendConfig effective = config;
    effective.connections = n;
    Shared shared(pool, effective, stop);
    std::vector<std::thread> threads;
    threads.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        threads.emplace_back(run_connection, std::ref(shared), i);
    }
    for (std::thread& t : threads) {
        t.join();
    }
    shared.total.seconds = std::chrono::duration<double>(Clock::now() - shared.start).count();
    return shared.total;
}

SendStats write_stream(const MessagePool& pool, std::uint64_t flows, std::uint32_t export_time,
                       const std::filesystem::path& path) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
        throw std::runtime_error(path.string() + ": cannot be written");
    }
    const auto start = Clock::now();
    StreamCursor cursor(pool, flows, 0);
    SendStats stats;
    Chunk chunk;
    while (cursor.next(chunk, export_time)) {
        out.write(reinterpret_cast<const char*>(chunk.header), MessagePool::kHeaderSize);
        out.write(reinterpret_cast<const char*>(chunk.body.data()),
                  static_cast<std::streamsize>(chunk.body.size()));
        ++stats.messages;
        stats.bytes += chunk.size();
    }
    out.close();
    if (!out) {
        throw std::runtime_error(path.string() + ": write failed");
    }
    stats.flows = cursor.flows();
    stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return stats;
}

}  // namespace malfix::loadgen
