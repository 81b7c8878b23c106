#pragma once

#include "sinks/output.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace malfix::sinks {

/// Settings shared by the outputs that make_output() builds.
struct OutputOptions {
    /// UDP: Templates are resent before their next use once this many seconds passed
    /// (RFC 7011 §8.4; 0 disables).
    std::int64_t template_refresh_s = 60;
    /// UDP: also resend after this many Messages per Observation Domain (0 disables).
    std::uint32_t template_refresh_messages = 0;
    /// UDP: one Message per datagram, kept under this size unless one record needs more.
    std::size_t udp_max_message_size = 1400;
    /// TCP and files: the largest Message (RFC 7011 allows 65535).
    std::size_t stream_max_message_size = 65535;
    /// Hits encoded per flow in IPFIX output; JSON writes them all.
    std::size_t max_hits = 16;
    /// Send RFC 5610 Information Element Type records for the 420 elements.
    bool export_type_info = true;
    /// TCP: reconnect backoff, doubling from min to max (seconds of the tick() clock).
    std::int64_t reconnect_min_s = 1;
    std::int64_t reconnect_max_s = 30;
    /// TCP: how long one connection attempt may block the serializer.
    int connect_timeout_ms = 2000;
    /// Buffer of file and JSON outputs, and the TCP send buffer.
    std::size_t buffer_bytes = 256 * 1024;
};

/// A host and port parsed from "HOST:PORT" or "[IPv6]:PORT".
struct Endpoint {
    std::string host;
    std::uint16_t port = 0;
};

/// Parses "HOST:PORT" or "[V6ADDR]:PORT"; throws std::invalid_argument naming the problem.
Endpoint parse_endpoint(std::string_view text);

/// Builds an output from its command-line spec:
///   ipfix:PATH              IPFIX file (RFC 5655)
///   ipfix+tcp://HOST:PORT   IPFIX over TCP (reconnects with backoff)
///   ipfix+udp://HOST:PORT   IPFIX over UDP
///   json:PATH, json:-       one JSON object per line, to a file or standard output
/// Throws std::invalid_argument with a one-line reason for a malformed spec, and
/// std::runtime_error when a file cannot be opened or a UDP host does not resolve.
std::unique_ptr<Output> make_output(std::string_view spec, const OutputOptions& options = {});

}  // namespace malfix::sinks
