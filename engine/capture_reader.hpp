#pragma once

#include "engine/file_reader.hpp"
#include "engine/input.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace malfix::engine {

/// Packet-level counters of a capture, on top of the Message counters every input keeps.
struct CaptureSummary : InputSummary {
    std::uint64_t packets = 0;
    std::uint64_t non_ip = 0;               ///< link frames that carry neither IPv4 nor IPv6
    std::uint64_t truncated = 0;            ///< packets cut short by the capture or a bad header
    std::uint64_t fragments = 0;            ///< IP fragments: not reassembled, dropped
    std::uint64_t other_transport = 0;      ///< neither TCP nor UDP (ICMP, ESP, ...)
    std::uint64_t unsupported_netflow = 0;  ///< UDP payloads of NetFlow v9 or v5
    std::uint64_t non_ipfix_udp = 0;        ///< UDP payloads that are no IPFIX at all
    std::uint64_t non_ipfix_tcp = 0;        ///< TCP streams whose first bytes are no Message Header
    std::uint64_t udp_malformed = 0;        ///< IPFIX datagrams whose Messages do not fill them
    std::uint64_t udp_sessions = 0;
    std::uint64_t tcp_sessions = 0;      ///< TCP streams that carried at least one Message
    std::uint64_t tcp_retransmits = 0;   ///< segments wholly before the expected sequence
    std::uint64_t tcp_out_of_order = 0;  ///< segments held back until the gap before them filled
    std::uint64_t tcp_streams_abandoned = 0;  ///< gap never filled or framing lost: stream dropped
    std::uint64_t tcp_ignored_segments = 0;   ///< segments of an abandoned stream
};

/// Limits of the TCP reassembly; defaults suit captures of a local exporter.
struct CaptureReaderOptions {
    /// Segments after a gap held per stream; one more and the stream is abandoned.
    std::size_t max_out_of_order_segments = 32;
};

/// Reads IPFIX export traffic from a pcap or pcapng file (libpcap reads both).
///
/// Link types: Ethernet (with up to two VLAN tags), Linux cooked SLL and SLL2, raw IP and
/// BSD loopback/null. IPv4 and IPv6 (hop-by-hop, routing, destination-options and AH headers
/// are stepped over); fragments are counted and dropped, not reassembled.
///
/// UDP: every datagram whose payload starts with Version 10 holds one or more whole Messages
/// (RFC 7011 §10.3.2), for a Transport::kUdp Session per (source, destination) address and
/// port, named "udp:SRC:PORT" (IPv6 in brackets). Payloads starting with 9 or 5 are NetFlow
/// and only counted. A rejected Message is skipped.
///
/// TCP: each direction of a connection is reassembled in sequence order (SYN sets the
/// start; retransmissions are dropped; a few out-of-order segments are held back) and framed
/// into Messages for a Transport::kTcp Session "tcp:SRC:PORT". FIN, RST, a framing fault, a
/// rejected Message (RFC 7011 §10.4: TCP closes the session) or the end of the file ends it.
///
/// Capture timestamps are not used: the consumer API carries no time.
class CaptureReader {
public:
    explicit CaptureReader(std::string path, CaptureReaderOptions options = {});

    /// Reads the whole capture, then calls consumer.flush() and on_session_closed() for each
    /// session still open. Throws std::runtime_error if the file can not be opened or its
    /// link type is not one of the above.
    CaptureSummary run(MessageConsumer& consumer);

    const std::string& path() const { return path_; }

private:
    std::string path_;
    CaptureReaderOptions options_;
};

}  // namespace malfix::engine
