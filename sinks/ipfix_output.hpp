#pragma once

#include "engine/flow_batch.hpp"
#include "ipfix/encoder.hpp"
#include "sinks/output.hpp"
#include "sinks/output_counters.hpp"
#include "sinks/output_factory.hpp"
#include "sinks/threat_encoding.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace malfix::sinks {

/// What the IPFIX outputs share: the Encoder, the choice of the DNS name written as 420/1,
/// and the counters. Subclasses only move finished Messages to their transport.
///
/// flows counts flows whose Message reached the transport; a flow counts as dropped when its
/// record does not fit a Message, when the transport refuses its Message, or, for TCP, while
/// the connection is down.
class IpfixOutput : public Output, private ipfix::MessageWriter {
public:
    ~IpfixOutput() override;

    void write(const engine::FlowBatch& batch) override;
    void flush() override;
    void tick(std::int64_t now_s) override;
    OutputStats stats() const override { return counters_.load(); }
    const std::string& name() const override { return name_; }

    const ipfix::EncoderCounters& encoder_counters() const { return encoder_.counters(); }

protected:
    IpfixOutput(std::string name, ipfix::EncoderOptions options);

    /// False while the transport cannot take data; write() then drops flows without encoding.
    virtual bool ready() const { return true; }
    /// Takes one finished Message holding flows flows; counts on success or failure.
    virtual void deliver(std::span<const std::byte> message, std::uint32_t flows) = 0;
    /// Pushes transport buffers out (after the Encoder flushed its open Message).
    virtual void flush_transport() {}
    /// Time-based transport work (reconnects); now_s is the tick() clock.
    virtual void tick_transport(std::int64_t now_s) { (void)now_s; }

    /// Counts a Message the transport accepted.
    void count_sent(std::size_t bytes, std::uint32_t flows);
    /// Counts a Message the transport refused.
    void count_failed(std::uint32_t flows);

    OutputCounters counters_;
    ipfix::Encoder encoder_;

private:
    void on_message(std::span<const std::byte> message, std::uint32_t flows) override;

    std::string name_;
    ThreatScratch threats_{};
};

/// ipfix:PATH — an IPFIX File (RFC 5655): Messages back to back, Templates sent once.
class IpfixFileOutput final : public IpfixOutput {
public:
    IpfixFileOutput(std::string name, const std::string& path, const OutputOptions& options);
    ~IpfixFileOutput() override;

private:
    void deliver(std::span<const std::byte> message, std::uint32_t flows) override;
    void flush_transport() override;

    std::FILE* file_ = nullptr;
    std::vector<char> buffer_;
};

/// ipfix+tcp://HOST:PORT — a TCP client. It connects at construction and, after a failure,
/// again from tick() with exponential backoff; each new connection is a new Transport Session,
/// so every Template is sent again. Sends block: a slow Collector slows the pipeline down.
/// TODO(sinks): while disconnected flows are only counted as dropped; buffer them instead.
class IpfixTcpOutput final : public IpfixOutput {
public:
    IpfixTcpOutput(std::string name, Endpoint endpoint, const OutputOptions& options);
    ~IpfixTcpOutput() override;

    bool connected() const { return fd_ >= 0; }

private:
    bool ready() const override { return fd_ >= 0; }
    void deliver(std::span<const std::byte> message, std::uint32_t flows) override;
    void flush_transport() override;
    void tick_transport(std::int64_t now_s) override;

    bool connect_now();
    bool send_pending();
    void disconnect();

    Endpoint endpoint_;
    OutputOptions options_;
    int fd_ = -1;
    std::vector<std::byte> send_buffer_;
    std::uint32_t pending_flows_ = 0;
    std::uint32_t pending_messages_ = 0;
    std::int64_t backoff_s_ = 1;
    std::int64_t retry_at_ = 0;
    std::int64_t last_tick_ = 0;
};

/// ipfix+udp://HOST:PORT — one Message per datagram; Templates are resent periodically because
/// UDP Collectors expire them (RFC 7011 §8.4, §10.3.6).
class IpfixUdpOutput final : public IpfixOutput {
public:
    IpfixUdpOutput(std::string name, const Endpoint& endpoint, const OutputOptions& options);
    ~IpfixUdpOutput() override;

private:
    void deliver(std::span<const std::byte> message, std::uint32_t flows) override;

    int fd_ = -1;
};

}  // namespace malfix::sinks
