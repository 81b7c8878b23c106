#pragma once

#include "engine/input.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace malfix::engine {

enum class ListenProtocol : std::uint8_t { kTcp, kUdp };

/// One `--listen` value: tcp://ADDR:PORT or udp://ADDR:PORT, IPv6 in brackets.
struct ListenSpec {
    ListenProtocol protocol = ListenProtocol::kTcp;
    std::string address;  ///< an IP literal without brackets, e.g. "127.0.0.1" or "::1"
    std::uint16_t port = 0;
};

/// Parses "tcp://127.0.0.1:4739", "udp://[::1]:4739", "tcp://0.0.0.0:0". Throws
/// std::invalid_argument with a one-line reason: unknown scheme, missing or bad port, an
/// address that is not an IP literal (host names are not resolved).
ListenSpec parse_listen_spec(std::string_view spec);

/// The spec back in parse_listen_spec() form, e.g. "udp://[::1]:4739".
std::string to_string(const ListenSpec& spec);

/// Why a TCP Transport Session ended; each reason has a counter in ListenerStats.
enum class CloseReason : std::uint8_t {
    kPeerClosed,  ///< the exporter closed the connection
    kReadError,   ///< the socket failed (reset, timeout)
    kBadHeader,   ///< a Message Header broke framing (Version not 10, Length under 16)
    kRejected,    ///< the consumer rejected a Message (RFC 7011 §10.4.2.2: TCP closes)
    kStopped,     ///< InputRuntime::stop()
    kCount
};

std::string_view close_reason_name(CloseReason reason);

/// Totals over all listeners and input threads, read while they run.
struct ListenerStats {
    std::uint64_t connections_open = 0;
    std::uint64_t connections_total = 0;
    std::uint64_t messages = 0;  ///< Messages handed to consumers (TCP and UDP)
    std::uint64_t bytes = 0;     ///< octets of those Messages
    std::uint64_t rejected = 0;  ///< Messages the consumers rejected
    std::uint64_t udp_datagrams = 0;
    std::uint64_t udp_malformed = 0;  ///< datagrams (or their tails) that are no whole Messages
    std::uint64_t udp_unsupported_netflow = 0;  ///< NetFlow v9/v5 datagrams, dropped
    std::uint64_t tcp_truncated = 0;            ///< connections closed by the peer inside a Message
    std::uint64_t udp_sender_limit = 0;         ///< datagrams of new senders over max_udp_sessions
    std::uint64_t udp_sessions_open = 0;
    std::array<std::uint64_t, static_cast<std::size_t>(CloseReason::kCount)> closes{};

    std::uint64_t closed(CloseReason reason) const {
        return closes[static_cast<std::size_t>(reason)];
    }
};

struct InputRuntimeOptions {
    /// Input threads, each running one io_context with its own MessageConsumer.
    std::size_t io_threads = 1;
    /// Per TCP connection; at least twice the largest Message (64 KiB) is kept.
    std::size_t tcp_read_buffer = 256 * 1024;
    /// SO_RCVBUF asked for on UDP sockets (best effort: the kernel may cap it).
    int udp_receive_buffer = 8 * 1024 * 1024;
    /// How often an idle input thread calls MessageConsumer::flush().
    std::chrono::milliseconds flush_interval{10};
    /// UDP Transport Sessions per listener; datagrams of further senders are dropped and
    /// counted, so spoofed source addresses can not grow memory without bound.
    std::size_t max_udp_sessions = 4096;
    /// A UDP sender silent this long loses its session (and templates): the same span after
    /// which its templates would have expired anyway (RFC 7011 §8.4).
    std::chrono::seconds udp_session_idle{1800};
    /// Receives each log line (info and throttled warnings). Empty: lines go to stderr.
    std::function<void(std::string_view line)> log;
};

/// The network inputs: TCP and UDP listeners on Boost.Asio, spread over io_threads input
/// threads. Each thread runs one io_context and has its own MessageConsumer, so all calls
/// for one consumer come from one thread (engine/input.hpp).
///
/// TCP: every listener accepts on thread 0 and hands each new connection to the next thread,
/// round-robin. A connection is one Transport::kTcp Session named "tcp:ADDR:PORT" (IPv6 in
/// brackets, IPv4-mapped addresses shown as IPv4). Messages are framed by their header, also
/// across reads. A rejected Message or a broken header closes the connection with a
/// throttled warning, then on_session_closed() is called.
///
/// UDP: one socket per listener, assigned to threads round-robin. Sessions are keyed by the
/// sender's address and port ("udp:ADDR:PORT"); each datagram holds whole Messages (RFC 7011
/// §10.3.2). A rejected Message is skipped; anything that does not frame is counted.
///
/// Back-pressure: on_message() may block while matcher queues are full. The whole input
/// thread then waits: its TCP connections stop being read (the exporters slow down), and a
/// UDP socket on the same thread is not read either, so the kernel drops datagrams once
/// SO_RCVBUF fills. The engine's consumer counts flows it drops for UDP instead of blocking.
///
/// Every thread calls flush() every flush_interval, so partial batches ship when idle.
class InputRuntime {
public:
    /// Returns the consumer of input thread io_index; called once per thread, in the
    /// constructor. The consumers must outlive the runtime.
    using ConsumerFactory = std::function<MessageConsumer&(std::size_t io_index)>;

    /// Binds every listener (so bound_endpoints() is known before start()). Throws
    /// std::runtime_error naming the spec when a socket can not be bound, and
    /// std::invalid_argument for an empty spec list or zero threads.
    InputRuntime(const std::vector<ListenSpec>& specs, const ConsumerFactory& consumers,
                 InputRuntimeOptions options = {});
    /// Stops and joins the threads.
    ~InputRuntime();

    InputRuntime(const InputRuntime&) = delete;
    InputRuntime& operator=(const InputRuntime&) = delete;

    /// Starts accepting and reading on io_threads new threads. Call once.
    void start();
    /// Stops accepting and reading, closes every session (on_session_closed, reason
    /// kStopped), calls flush() once more on each thread. Thread-safe, returns at once;
    /// wait() joins. A thread blocked inside on_message() stops when that call returns.
    void stop();
    /// Blocks until every input thread has finished (after stop(), or a fatal error).
    void wait();

    /// The listeners as bound, in spec order, with the real port where port 0 was asked.
    std::vector<ListenSpec> bound_endpoints() const;
    ListenerStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace malfix::engine
