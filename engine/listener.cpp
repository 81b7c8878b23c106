#include "engine/listener.hpp"

#include "engine/file_reader.hpp"

// Asio's scheduler trips -Wnull-dereference once inlined (GCC 12, Boost 1.74): a false alarm
// in a third-party header, silenced for these includes only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#pragma GCC diagnostic pop

#include <algorithm>
#include <atomic>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

namespace malfix::engine {

namespace {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;
using Udp = asio::ip::udp;
using ErrorCode = boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr std::uint16_t kNetflowV9 = 9;
constexpr std::uint16_t kNetflowV5 = 5;
constexpr std::uint16_t kIpfixVersion = 10;
constexpr std::size_t kMaxDatagram = 65535;
constexpr std::size_t kMinTcpBuffer = 2 * 65536;
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
constexpr auto kUdpSweepInterval = std::chrono::seconds(1);
// Warnings a peer can trigger: the first few of each kind, then only at powers of two.
constexpr std::uint64_t kWarnFirst = 5;

using Counter = std::atomic<std::uint64_t>;

// Each counter has one writer (its input thread), so a relaxed load and store is enough and
// avoids a locked read-modify-write on the hot path.
void bump(Counter& counter, std::uint64_t n = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// One input thread's counters, read by stats() on any thread. Aligned to a cache line of its
// own so threads counting side by side do not invalidate each other's lines.
struct alignas(64) IoCounters {
    Counter connections_open{0};
    Counter connections_total{0};
    Counter messages{0};
    Counter bytes{0};
    Counter rejected{0};
    Counter udp_datagrams{0};
    Counter udp_malformed{0};
    Counter udp_unsupported_netflow{0};
    Counter udp_sender_limit{0};
    Counter tcp_truncated{0};
    Counter udp_sessions_open{0};
    std::array<Counter, static_cast<std::size_t>(CloseReason::kCount)> closes{};
};

std::string endpoint_text(const asio::ip::address& raw, std::uint16_t port) {
    asio::ip::address address = raw;
    // A dual-stack socket reports IPv4 exporters as ::ffff:a.b.c.d; name them as IPv4.
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    const std::string text = address.to_string();
    return (address.is_v6() ? "[" + text + "]" : text) + ":" + std::to_string(port);
}

std::uint16_t read_u16(const std::byte* bytes) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(bytes[0]) << 8) |
                                      std::to_integer<unsigned>(bytes[1]));
}

std::string header_fault(const FrameResult& frame) {
    if (frame.status == FrameStatus::kBadVersion) {
        return "Version " + std::to_string(frame.version) + " is not 10";
    }
    if (frame.status == FrameStatus::kBadLength) {
        return "Length " + std::to_string(frame.length) + " is under 16";
    }
    return "Length " + std::to_string(frame.length) + " exceeds the datagram";
}

class TcpConnection;
class TcpListener;
class UdpListener;

// One input thread: its io_context, consumer, counters and the sessions it owns.
struct IoContext {
    IoContext(std::size_t index_in, MessageConsumer& consumer_in)
        : index(index_in), consumer(consumer_in) {}

    std::size_t index;
    MessageConsumer& consumer;
    asio::io_context io{1};
    asio::steady_timer flush_timer{io};
    Clock::time_point last_sweep = Clock::now();
    IoCounters counters;
    std::unordered_map<TcpConnection*, std::shared_ptr<TcpConnection>> connections;
    std::vector<UdpListener*> udp_listeners;
    std::map<std::string, std::uint64_t> warnings;  // per kind, for throttling
};

struct RuntimeState {
    InputRuntimeOptions options;
    std::vector<std::unique_ptr<IoContext>> contexts;
    std::vector<ListenSpec> bound;
    std::vector<std::unique_ptr<TcpListener>> tcp_listeners;
    std::vector<std::unique_ptr<UdpListener>> udp_listeners;
    std::vector<std::thread> threads;
    std::atomic<bool> stopping{false};
    std::size_t next_context = 0;  // round-robin for new connections, used on thread 0 only
    std::mutex log_mutex;
    std::mutex wait_mutex;

    void log(const std::string& line);
    void warn(IoContext& ctx, const std::string& kind, const std::string& line);
    IoContext& next_connection_context();
    void arm_flush(IoContext& ctx);
    void shutdown_context(IoContext& ctx);
};

class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
public:
    TcpConnection(RuntimeState& runtime, IoContext& ctx)
        : runtime_(runtime), ctx_(ctx), socket_(ctx.io), buffer_(runtime.options.tcp_read_buffer) {}

    Tcp::socket& socket() { return socket_; }

    // Runs on the connection's own thread, after the accept handed it over.
    void start() {
        ErrorCode ec;
        const Tcp::endpoint peer = socket_.remote_endpoint(ec);
        if (ec || runtime_.stopping.load()) {
            socket_.close(ec);
            return;
        }
        session_ = std::make_unique<ipfix::Session>(
            ipfix::Transport::kTcp, "tcp:" + endpoint_text(peer.address(), peer.port()));
        ctx_.connections.emplace(this, shared_from_this());
        bump(ctx_.counters.connections_open);
        bump(ctx_.counters.connections_total);
        runtime_.log("info: " + session_->exporter() + ": exporter connected");
        read();
    }

    void close(CloseReason reason, const std::string& detail = {}) {
        if (closed_) {
            return;
        }
        closed_ = true;
        ErrorCode ec;
        socket_.close(ec);
        if (!detail.empty()) {
            runtime_.warn(ctx_, std::string(close_reason_name(reason)),
                          "warn: " + session_->exporter() + ": closing: " + detail);
        }
        ctx_.consumer.on_session_closed(*session_);
        bump(ctx_.counters.closes[static_cast<std::size_t>(reason)]);
        ctx_.counters.connections_open.store(
            ctx_.counters.connections_open.load(std::memory_order_relaxed) - 1,
            std::memory_order_relaxed);
        ctx_.connections.erase(this);  // the handler in flight still holds a reference
    }

private:
    void read() {
        auto self = shared_from_this();
        socket_.async_read_some(
            asio::buffer(buffer_.data() + end_, buffer_.size() - end_),
            [self](const ErrorCode& ec, std::size_t n) { self->on_read(ec, n); });
    }

    void on_read(const ErrorCode& ec, std::size_t n) {
        if (closed_) {
            return;
        }
        if (ec) {
            if (ec == asio::error::eof) {
                if (end_ != begin_) {
                    bump(ctx_.counters.tcp_truncated);
                }
                close(CloseReason::kPeerClosed, pending_detail());
            } else if (ec == asio::error::operation_aborted) {
                close(CloseReason::kStopped);
            } else {
                close(CloseReason::kReadError, ec.message());
            }
            return;
        }
        end_ += n;
        if (!frame_messages()) {
            return;
        }
        compact();
        read();
    }

    // A peer that closes inside a Message has lost data: worth a warning, not a quiet close.
    std::string pending_detail() const {
        if (end_ == begin_) {
            return {};
        }
        return "connection closed inside a Message (" + std::to_string(end_ - begin_) +
               " octets pending)";
    }

    // Hands every complete Message on; false when the connection was closed.
    bool frame_messages() {
        while (true) {
            const std::span<const std::byte> pending(buffer_.data() + begin_, end_ - begin_);
            const FrameResult frame = frame_message(pending);
            if (frame.status == FrameStatus::kNeedMore) {
                return true;
            }
            if (frame.status != FrameStatus::kComplete) {
                close(CloseReason::kBadHeader, header_fault(frame));
                return false;
            }
            bump(ctx_.counters.messages);
            bump(ctx_.counters.bytes, frame.length);
            const Verdict verdict =
                ctx_.consumer.on_message(*session_, pending.first(frame.length));
            if (verdict == Verdict::kRejected) {
                bump(ctx_.counters.rejected);
                const Rejection why = ctx_.consumer.last_rejection();
                close(CloseReason::kRejected,
                      "Message rejected by the decoder: " + std::string(why.reason) + " at octet " +
                          std::to_string(why.offset));
                return false;
            }
            begin_ += frame.length;
        }
    }

    // Moves a partial Message to the front; the buffer holds at least two maximal Messages,
    // so there is always room to read the rest of it.
    void compact() {
        if (begin_ == 0) {
            return;
        }
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }

    RuntimeState& runtime_;
    IoContext& ctx_;
    Tcp::socket socket_;
    std::vector<std::byte> buffer_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::unique_ptr<ipfix::Session> session_;
    bool closed_ = false;
};

class TcpListener {
public:
    TcpListener(RuntimeState& runtime, IoContext& ctx, const Tcp::endpoint& endpoint)
        : runtime_(runtime), acceptor_(ctx.io), retry_(ctx.io) {
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(asio::socket_base::max_listen_connections);
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    void accept() {
        IoContext& target = runtime_.next_connection_context();
        auto connection = std::make_shared<TcpConnection>(runtime_, target);
        acceptor_.async_accept(connection->socket(),
                               [this, connection, &target](const ErrorCode& ec) {
                                   on_accept(ec, connection, target);
                               });
    }

    void close() {
        ErrorCode ec;
        acceptor_.close(ec);
        retry_.cancel();
    }

private:
    void on_accept(const ErrorCode& ec, const std::shared_ptr<TcpConnection>& connection,
                   IoContext& target) {
        if (ec == asio::error::operation_aborted || runtime_.stopping.load()) {
            return;
        }
        if (ec) {
            // Out of descriptors and the like: wait a little instead of spinning on it.
            runtime_.log("error: accept failed: " + ec.message());
            retry_.expires_after(kAcceptRetry);
            retry_.async_wait([this](const ErrorCode& timer_ec) {
                if (!timer_ec && !runtime_.stopping.load()) {
                    accept();
                }
            });
            return;
        }
        asio::post(target.io, [connection] { connection->start(); });
        accept();
    }

    RuntimeState& runtime_;
    Tcp::acceptor acceptor_;
    asio::steady_timer retry_;
};

class UdpListener {
public:
    UdpListener(RuntimeState& runtime, IoContext& ctx, const Udp::endpoint& endpoint)
        : runtime_(runtime), ctx_(ctx), socket_(ctx.io), buffer_(kMaxDatagram) {
        socket_.open(endpoint.protocol());
        ErrorCode ignored;
        // Best effort: a large buffer rides out bursts while the thread is busy.
        socket_.set_option(
            asio::socket_base::receive_buffer_size(runtime.options.udp_receive_buffer), ignored);
        socket_.bind(endpoint);
    }

    std::uint16_t port() const { return socket_.local_endpoint().port(); }

    void receive() {
        socket_.async_receive_from(
            asio::buffer(buffer_), sender_,
            [this](const ErrorCode& ec, std::size_t n) { on_receive(ec, n); });
    }

    // Ends sessions of senders silent longer than the idle limit.
    void sweep(Clock::time_point now) {
        for (auto it = peers_.begin(); it != peers_.end();) {
            if (now - it->second.last_seen > runtime_.options.udp_session_idle) {
                end_session(it->second);
                it = peers_.erase(it);
            } else {
                ++it;
            }
        }
    }

    void close() {
        ErrorCode ec;
        socket_.close(ec);
        for (auto& [sender, peer] : peers_) {
            end_session(peer);
        }
        peers_.clear();
    }

private:
    struct Peer {
        std::unique_ptr<ipfix::Session> session;
        Clock::time_point last_seen;
    };

    void on_receive(const ErrorCode& ec, std::size_t n) {
        if (ec == asio::error::operation_aborted || runtime_.stopping.load()) {
            return;
        }
        if (ec) {
            runtime_.warn(ctx_, "udp_receive", "warn: udp receive failed: " + ec.message());
        } else {
            bump(ctx_.counters.udp_datagrams);
            datagram(std::span<const std::byte>(buffer_.data(), n));
        }
        receive();
    }

    void datagram(std::span<const std::byte> payload) {
        const std::uint16_t version = payload.size() >= 2 ? read_u16(payload.data()) : 0;
        if (version == kNetflowV9 || version == kNetflowV5) {
            bump(ctx_.counters.udp_unsupported_netflow);
            runtime_.warn(ctx_, "udp_netflow",
                          "warn: udp:" + endpoint_text(sender_.address(), sender_.port()) +
                              ": NetFlow v" + std::to_string(version) +
                              " datagram dropped, only IPFIX is read");
            return;
        }
        if (version != kIpfixVersion) {
            malformed("datagram is not IPFIX");
            return;
        }
        ipfix::Session* session = session_for_sender();
        if (session == nullptr) {
            return;
        }
        std::size_t offset = 0;
        while (offset < payload.size()) {
            const FrameResult frame = frame_message(payload.subspan(offset));
            if (frame.status != FrameStatus::kComplete) {
                malformed(header_fault(frame));
                return;
            }
            bump(ctx_.counters.messages);
            bump(ctx_.counters.bytes, frame.length);
            if (ctx_.consumer.on_message(*session, payload.subspan(offset, frame.length)) ==
                Verdict::kRejected) {
                bump(ctx_.counters.rejected);
            }
            offset += frame.length;
        }
    }

    ipfix::Session* session_for_sender() {
        auto it = peers_.find(sender_);
        if (it == peers_.end()) {
            if (peers_.size() >= runtime_.options.max_udp_sessions) {
                bump(ctx_.counters.udp_sender_limit);
                runtime_.warn(ctx_, "udp_sender_limit",
                              "warn: udp: more than " +
                                  std::to_string(runtime_.options.max_udp_sessions) +
                                  " exporters on one socket, datagram dropped");
                return nullptr;
            }
            Peer peer;
            peer.session = std::make_unique<ipfix::Session>(
                ipfix::Transport::kUdp, "udp:" + endpoint_text(sender_.address(), sender_.port()));
            it = peers_.emplace(sender_, std::move(peer)).first;
            bump(ctx_.counters.udp_sessions_open);
        }
        it->second.last_seen = Clock::now();
        return it->second.session.get();
    }

    void malformed(const std::string& detail) {
        bump(ctx_.counters.udp_malformed);
        runtime_.warn(ctx_, "udp_malformed",
                      "warn: udp:" + endpoint_text(sender_.address(), sender_.port()) +
                          ": datagram dropped: " + detail);
    }

    void end_session(Peer& peer) {
        ctx_.consumer.on_session_closed(*peer.session);
        ctx_.counters.udp_sessions_open.store(
            ctx_.counters.udp_sessions_open.load(std::memory_order_relaxed) - 1,
            std::memory_order_relaxed);
    }

    RuntimeState& runtime_;
    IoContext& ctx_;
    Udp::socket socket_;
    std::vector<std::byte> buffer_;
    Udp::endpoint sender_;
    std::map<Udp::endpoint, Peer> peers_;
};

std::uint16_t parse_port(std::string_view text, std::string_view spec) {
    if (text.empty()) {
        throw std::invalid_argument("listen spec '" + std::string(spec) + "': missing port");
    }
    unsigned value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9' || text.size() > 5) {
            throw std::invalid_argument("listen spec '" + std::string(spec) + "': bad port '" +
                                        std::string(text) + "'");
        }
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) {
        throw std::invalid_argument("listen spec '" + std::string(spec) + "': port " +
                                    std::string(text) + " is over 65535");
    }
    return static_cast<std::uint16_t>(value);
}

void RuntimeState::log(const std::string& line) {
    const std::lock_guard lock(log_mutex);
    if (options.log) {
        options.log(line);
    } else {
        std::cerr << line << '\n';
    }
}

void RuntimeState::warn(IoContext& ctx, const std::string& kind, const std::string& line) {
    const std::uint64_t seen = ++ctx.warnings[kind];
    if (seen <= kWarnFirst || (seen & (seen - 1)) == 0) {
        log(line + " (" + kind + " #" + std::to_string(seen) + " on input thread " +
            std::to_string(ctx.index) + ")");
    }
}

IoContext& RuntimeState::next_connection_context() {
    IoContext& ctx = *contexts[next_context];
    next_context = (next_context + 1) % contexts.size();
    return ctx;
}

void RuntimeState::arm_flush(IoContext& ctx) {
    ctx.flush_timer.expires_after(options.flush_interval);
    ctx.flush_timer.async_wait([this, &ctx](const ErrorCode& ec) {
        if (ec || stopping.load()) {
            return;
        }
        ctx.consumer.flush();
        const Clock::time_point now = Clock::now();
        if (now - ctx.last_sweep >= kUdpSweepInterval) {
            ctx.last_sweep = now;
            for (UdpListener* listener : ctx.udp_listeners) {
                listener->sweep(now);
            }
        }
        arm_flush(ctx);
    });
}

void RuntimeState::shutdown_context(IoContext& ctx) {
    ctx.flush_timer.cancel();
    if (ctx.index == 0) {
        for (auto& listener : tcp_listeners) {
            listener->close();
        }
    }
    for (UdpListener* listener : ctx.udp_listeners) {
        listener->close();
    }
    // close() erases from the map, so walk a copy.
    const auto connections = ctx.connections;
    for (const auto& [raw, connection] : connections) {
        connection->close(CloseReason::kStopped);
    }
    ctx.consumer.flush();
}

}  // namespace

struct InputRuntime::Impl : RuntimeState {};

ListenSpec parse_listen_spec(std::string_view spec) {
    const std::string text(spec);
    const auto scheme_end = spec.find("://");
    if (scheme_end == std::string_view::npos) {
        throw std::invalid_argument("listen spec '" + text +
                                    "': expected tcp://ADDR:PORT or udp://ADDR:PORT");
    }
    ListenSpec result;
    const std::string_view scheme = spec.substr(0, scheme_end);
    if (scheme == "tcp") {
        result.protocol = ListenProtocol::kTcp;
    } else if (scheme == "udp") {
        result.protocol = ListenProtocol::kUdp;
    } else {
        throw std::invalid_argument("listen spec '" + text + "': unknown scheme '" +
                                    std::string(scheme) + "' (expected tcp or udp)");
    }

    std::string_view rest = spec.substr(scheme_end + 3);
    std::string_view host;
    std::string_view port;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            throw std::invalid_argument("listen spec '" + text + "': missing ']'");
        }
        host = rest.substr(1, close - 1);
        rest = rest.substr(close + 1);
        if (rest.empty() || rest.front() != ':') {
            throw std::invalid_argument("listen spec '" + text + "': missing port");
        }
        port = rest.substr(1);
    } else {
        const auto colon = rest.rfind(':');
        if (colon == std::string_view::npos) {
            throw std::invalid_argument("listen spec '" + text + "': missing port");
        }
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            throw std::invalid_argument("listen spec '" + text +
                                        "': put an IPv6 address in brackets, e.g. [::1]:4739");
        }
    }
    result.port = parse_port(port, spec);

    ErrorCode ec;
    const asio::ip::address address = asio::ip::make_address(std::string(host), ec);
    if (host.empty() || ec) {
        throw std::invalid_argument("listen spec '" + text + "': bad address '" +
                                    std::string(host) + "' (an IP literal is needed)");
    }
    result.address = address.to_string();
    return result;
}

std::string to_string(const ListenSpec& spec) {
    const bool ipv6 = spec.address.find(':') != std::string::npos;
    return std::string(spec.protocol == ListenProtocol::kTcp ? "tcp://" : "udp://") +
           (ipv6 ? "[" + spec.address + "]" : spec.address) + ":" + std::to_string(spec.port);
}

std::string_view close_reason_name(CloseReason reason) {
    switch (reason) {
        case CloseReason::kPeerClosed:
            return "peer_closed";
        case CloseReason::kReadError:
            return "read_error";
        case CloseReason::kBadHeader:
            return "bad_header";
        case CloseReason::kRejected:
            return "rejected";
        case CloseReason::kStopped:
            return "stopped";
        case CloseReason::kCount:
            break;
    }
    return "unknown";
}

InputRuntime::InputRuntime(const std::vector<ListenSpec>& specs, const ConsumerFactory& consumers,
                           InputRuntimeOptions options)
    : impl_(std::make_unique<Impl>()) {
    if (specs.empty()) {
        throw std::invalid_argument("no listener given");
    }
    if (options.io_threads == 0) {
        throw std::invalid_argument("input threads must be at least 1");
    }
    options.tcp_read_buffer = std::max(options.tcp_read_buffer, kMinTcpBuffer);
    impl_->options = std::move(options);
    for (std::size_t i = 0; i < impl_->options.io_threads; ++i) {
        impl_->contexts.push_back(std::make_unique<IoContext>(i, consumers(i)));
    }

    std::size_t udp_count = 0;
    for (const ListenSpec& spec : specs) {
        ListenSpec bound = spec;
        try {
            const auto address = asio::ip::make_address(spec.address);
            if (spec.protocol == ListenProtocol::kTcp) {
                auto listener = std::make_unique<TcpListener>(*impl_, *impl_->contexts[0],
                                                              Tcp::endpoint(address, spec.port));
                bound.port = listener->port();
                impl_->tcp_listeners.push_back(std::move(listener));
            } else {
                IoContext& ctx = *impl_->contexts[udp_count++ % impl_->contexts.size()];
                auto listener =
                    std::make_unique<UdpListener>(*impl_, ctx, Udp::endpoint(address, spec.port));
                bound.port = listener->port();
                ctx.udp_listeners.push_back(listener.get());
                impl_->udp_listeners.push_back(std::move(listener));
            }
        } catch (const boost::system::system_error& e) {
            throw std::runtime_error(to_string(spec) + ": " + e.code().message());
        }
        impl_->bound.push_back(bound);
    }
}

InputRuntime::~InputRuntime() {
    stop();
    wait();
}

void InputRuntime::start() {
    for (auto& listener : impl_->tcp_listeners) {
        listener->accept();
    }
    for (auto& listener : impl_->udp_listeners) {
        listener->receive();
    }
    for (auto& ctx : impl_->contexts) {
        impl_->arm_flush(*ctx);
        impl_->threads.emplace_back([this, raw = ctx.get()] {
            try {
                raw->io.run();
            } catch (const std::exception& e) {
                impl_->log("error: input thread " + std::to_string(raw->index) +
                           " stopped: " + e.what());
                stop();
            }
        });
    }
}

void InputRuntime::stop() {
    if (impl_->stopping.exchange(true)) {
        return;
    }
    for (auto& ctx : impl_->contexts) {
        asio::post(ctx->io, [this, raw = ctx.get()] { impl_->shutdown_context(*raw); });
    }
}

void InputRuntime::wait() {
    const std::lock_guard lock(impl_->wait_mutex);
    for (std::thread& thread : impl_->threads) {
        if (thread.joinable()) {
            thread.join();
        }
    }
}

std::vector<ListenSpec> InputRuntime::bound_endpoints() const {
    return impl_->bound;
}

ListenerStats InputRuntime::stats() const {
    ListenerStats total;
    const auto get = [](const Counter& c) { return c.load(std::memory_order_relaxed); };
    for (const auto& ctx : impl_->contexts) {
        const IoCounters& c = ctx->counters;
        total.connections_open += get(c.connections_open);
        total.connections_total += get(c.connections_total);
        total.messages += get(c.messages);
        total.bytes += get(c.bytes);
        total.rejected += get(c.rejected);
        total.udp_datagrams += get(c.udp_datagrams);
        total.udp_malformed += get(c.udp_malformed);
        total.udp_unsupported_netflow += get(c.udp_unsupported_netflow);
        total.udp_sender_limit += get(c.udp_sender_limit);
        total.tcp_truncated += get(c.tcp_truncated);
        total.udp_sessions_open += get(c.udp_sessions_open);
        for (std::size_t i = 0; i < total.closes.size(); ++i) {
            total.closes[i] += get(c.closes[i]);
        }
    }
    return total;
}

}  // namespace malfix::engine
