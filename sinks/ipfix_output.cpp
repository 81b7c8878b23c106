#include "sinks/ipfix_output.hpp"

#include "sinks/threat_encoding.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace malfix::sinks {

namespace {

std::int64_t wall_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

ipfix::EncoderOptions encoder_options(ipfix::Transport transport, const OutputOptions& options) {
    ipfix::EncoderOptions e;
    e.transport = transport;
    e.max_message_size = transport == ipfix::Transport::kUdp ? options.udp_max_message_size
                                                             : options.stream_max_message_size;
    e.template_refresh_s = options.template_refresh_s;
    e.template_refresh_messages = options.template_refresh_messages;
    e.max_hits = options.max_hits;
    e.export_type_info = options.export_type_info;
    return e;
}

struct AddrInfoList {
    addrinfo* head = nullptr;
    ~AddrInfoList() {
        if (head != nullptr) {
            freeaddrinfo(head);
        }
    }
};

int resolve(const Endpoint& endpoint, int socktype, AddrInfoList& out) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_NUMERICSERV;
    const std::string port = std::to_string(endpoint.port);
    return getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &out.head);
}

// Non-blocking connect bounded by timeout_ms, so an unreachable Collector cannot hold the
// serializer for the kernel's minutes-long SYN retry; the socket is blocking again afterwards.
int connect_with_timeout(const addrinfo& ai, int timeout_ms) {
    const int fd = socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC, ai.ai_protocol);
    if (fd < 0) {
        return -1;
    }
    const int flags = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = connect(fd, ai.ai_addr, ai.ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        rc = poll(&p, 1, timeout_ms) == 1 ? 0 : -1;
        int err = 0;
        socklen_t len = sizeof err;
        if (rc == 0 && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)) {
            rc = -1;
        }
    }
    if (rc != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, flags);
    return fd;
}

}  // namespace

// --- IpfixOutput -------------------------------------------------------------------------

IpfixOutput::IpfixOutput(std::string name, ipfix::EncoderOptions options)
    : encoder_(options, *this), name_(std::move(name)) {}

IpfixOutput::~IpfixOutput() = default;

void IpfixOutput::write(const engine::FlowBatch& batch) {
    encoder_.set_time(wall_seconds());
    for (const engine::FlowRecord& flow : batch.flows) {
        if (!flow.forward) {
            continue;
        }
        if (!ready()) {
            OutputCounters::add(counters_.dropped, 1);
            continue;
        }
        if (encode_flow(encoder_, batch, flow, threats_) != ipfix::EncodeStatus::kOk) {
            OutputCounters::add(counters_.dropped, 1);
        }
    }
}

void IpfixOutput::flush() {
    encoder_.set_time(wall_seconds());
    encoder_.flush();
    flush_transport();
}

void IpfixOutput::tick(std::int64_t now_s) {
    encoder_.tick(now_s);
    tick_transport(now_s);
}

void IpfixOutput::on_message(std::span<const std::byte> message, std::uint32_t flows) {
    deliver(message, flows);
}

void IpfixOutput::count_sent(std::size_t bytes, std::uint32_t flows) {
    OutputCounters::add(counters_.messages, 1);
    OutputCounters::add(counters_.bytes, bytes);
    OutputCounters::add(counters_.flows, flows);
}

void IpfixOutput::count_failed(std::uint32_t flows) {
    OutputCounters::add(counters_.errors, 1);
    OutputCounters::add(counters_.dropped, flows);
}

// --- file --------------------------------------------------------------------------------

IpfixFileOutput::IpfixFileOutput(std::string name, const std::string& path,
                                 const OutputOptions& options)
    : IpfixOutput(std::move(name), encoder_options(ipfix::Transport::kFile, options)),
      buffer_(std::max<std::size_t>(options.buffer_bytes, 4096)) {
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) {
        throw std::runtime_error("cannot open IPFIX output file '" + path +
                                 "': " + std::strerror(errno));
    }
    std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
}

IpfixFileOutput::~IpfixFileOutput() {
    flush();
    std::fclose(file_);
}

void IpfixFileOutput::deliver(std::span<const std::byte> message, std::uint32_t flows) {
    if (std::fwrite(message.data(), 1, message.size(), file_) != message.size()) {
        count_failed(flows);
        return;
    }
    count_sent(message.size(), flows);
}

void IpfixFileOutput::flush_transport() {
    if (std::fflush(file_) != 0) {
        OutputCounters::add(counters_.errors, 1);
    }
}

// --- TCP ---------------------------------------------------------------------------------

IpfixTcpOutput::IpfixTcpOutput(std::string name, Endpoint endpoint, const OutputOptions& options)
    : IpfixOutput(std::move(name), encoder_options(ipfix::Transport::kTcp, options)),
      endpoint_(std::move(endpoint)),
      options_(options),
      backoff_s_(std::max<std::int64_t>(options.reconnect_min_s, 1)) {
    send_buffer_.reserve(std::max<std::size_t>(options.buffer_bytes, 65536));
    if (!connect_now()) {
        retry_at_ = 0;  // the first tick() tries again
    }
}

IpfixTcpOutput::~IpfixTcpOutput() {
    if (fd_ >= 0) {
        flush();
    }
    disconnect();
}

bool IpfixTcpOutput::connect_now() {
    AddrInfoList list;
    if (resolve(endpoint_, SOCK_STREAM, list) != 0) {
        OutputCounters::add(counters_.errors, 1);
        return false;
    }
    for (addrinfo* ai = list.head; ai != nullptr; ai = ai->ai_next) {
        fd_ = connect_with_timeout(*ai, options_.connect_timeout_ms);
        if (fd_ >= 0) {
            break;
        }
    }
    if (fd_ < 0) {
        OutputCounters::add(counters_.errors, 1);
        return false;
    }
    // A new Transport Session: Sequence Numbers restart and every Template goes out again
    // (RFC 7011 §10.4.2). Flows still held for the old connection are lost.
    OutputCounters::add(counters_.dropped, encoder_.reset());
    backoff_s_ = std::max<std::int64_t>(options_.reconnect_min_s, 1);
    return true;
}

void IpfixTcpOutput::disconnect() {
    if (fd_ >= 0) {
        close(fd_);
        fd_ = -1;
    }
    OutputCounters::add(counters_.dropped, pending_flows_);
    send_buffer_.clear();
    pending_flows_ = 0;
    pending_messages_ = 0;
}

void IpfixTcpOutput::deliver(std::span<const std::byte> message, std::uint32_t flows) {
    // send_pending() counted the error when the connection broke; later Messages of the same
    // write() are only dropped.
    if (fd_ < 0 ||
        (send_buffer_.size() + message.size() > send_buffer_.capacity() && !send_pending())) {
        OutputCounters::add(counters_.dropped, flows);
        return;
    }
    send_buffer_.insert(send_buffer_.end(), message.begin(), message.end());
    pending_flows_ += flows;
    ++pending_messages_;
}

bool IpfixTcpOutput::send_pending() {
    std::size_t sent = 0;
    while (sent < send_buffer_.size()) {
        // MSG_NOSIGNAL: a Collector that went away must cost an error count, not SIGPIPE.
        const ssize_t n =
            send(fd_, send_buffer_.data() + sent, send_buffer_.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            OutputCounters::add(counters_.errors, 1);
            disconnect();
            retry_at_ = last_tick_ + backoff_s_;
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    OutputCounters::add(counters_.messages, pending_messages_);
    OutputCounters::add(counters_.bytes, send_buffer_.size());
    OutputCounters::add(counters_.flows, pending_flows_);
    send_buffer_.clear();
    pending_flows_ = 0;
    pending_messages_ = 0;
    return true;
}

void IpfixTcpOutput::flush_transport() {
    if (fd_ >= 0 && !send_buffer_.empty()) {
        send_pending();
    }
}

void IpfixTcpOutput::tick_transport(std::int64_t now_s) {
    last_tick_ = now_s;
    if (fd_ >= 0 || now_s < retry_at_) {
        return;
    }
    if (!connect_now()) {
        backoff_s_ = std::min(backoff_s_ * 2, std::max<std::int64_t>(options_.reconnect_max_s, 1));
        retry_at_ = now_s + backoff_s_;
    }
}

// --- UDP ---------------------------------------------------------------------------------

IpfixUdpOutput::IpfixUdpOutput(std::string name, const Endpoint& endpoint,
                               const OutputOptions& options)
    : IpfixOutput(std::move(name), encoder_options(ipfix::Transport::kUdp, options)) {
    AddrInfoList list;
    const int rc = resolve(endpoint, SOCK_DGRAM, list);
    if (rc != 0) {
        throw std::runtime_error("cannot resolve UDP output host '" + endpoint.host +
                                 "': " + gai_strerror(rc));
    }
    for (addrinfo* ai = list.head; ai != nullptr && fd_ < 0; ai = ai->ai_next) {
        fd_ = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd_ >= 0 && connect(fd_, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd_);
            fd_ = -1;
        }
    }
    if (fd_ < 0) {
        throw std::runtime_error("cannot open UDP output socket to '" + endpoint.host +
                                 "': " + std::strerror(errno));
    }
}

IpfixUdpOutput::~IpfixUdpOutput() {
    flush();
    close(fd_);
}

void IpfixUdpOutput::deliver(std::span<const std::byte> message, std::uint32_t flows) {
    // A connected UDP socket reports an earlier ICMP port unreachable as ECONNREFUSED here;
    // the datagram is lost either way, so count it and go on.
    const ssize_t n = send(fd_, message.data(), message.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(message.size())) {
        count_failed(flows);
        return;
    }
    count_sent(message.size(), flows);
}

}  // namespace malfix::sinks
