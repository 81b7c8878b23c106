#include "engine/capture_reader.hpp"

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

namespace malfix::engine {

namespace {

using Bytes = std::span<const std::byte>;

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86dd;
constexpr std::uint16_t kEtherVlan = 0x8100;
constexpr std::uint16_t kEtherQinQ = 0x88a8;
constexpr std::uint16_t kEtherQinQOld = 0x9100;
constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kTcpFin = 0x01;
constexpr std::uint8_t kTcpSyn = 0x02;
constexpr std::uint8_t kTcpRst = 0x04;
constexpr std::uint16_t kIpfixVersion = 10;
constexpr std::uint16_t kNetflowV9 = 9;
constexpr std::uint16_t kNetflowV5 = 5;
// Past this many consumed octets the stream buffer is compacted, so it stays near 64 KiB.
constexpr std::size_t kCompactThreshold = 64 * 1024;

unsigned byte_at(Bytes b, std::size_t at) {
    return std::to_integer<unsigned>(b[at]);
}

std::uint16_t read_u16(Bytes b, std::size_t at) {
    return static_cast<std::uint16_t>((byte_at(b, at) << 8) | byte_at(b, at + 1));
}

std::uint32_t read_u32(Bytes b, std::size_t at) {
    return (std::uint32_t{read_u16(b, at)} << 16) | read_u16(b, at + 2);
}

// One direction of a transport conversation; IPv4 addresses use the first 4 octets.
struct FlowKey {
    std::array<std::byte, 16> src{};
    std::array<std::byte, 16> dst{};
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    bool ipv6 = false;

    bool operator==(const FlowKey&) const = default;
};

struct FlowKeyHash {
    std::size_t operator()(const FlowKey& k) const {
        std::size_t h = 1469598103934665603ULL;
        const auto mix = [&h](unsigned v) { h = (h ^ v) * 1099511628211ULL; };
        for (std::size_t i = 0; i < 16; ++i) {
            mix(std::to_integer<unsigned>(k.src[i]));
            mix(std::to_integer<unsigned>(k.dst[i]));
        }
        mix(k.src_port);
        mix(k.dst_port);
        mix(k.ipv6 ? 1U : 0U);
        return h;
    }
};

std::string exporter_name(const char* scheme, const FlowKey& key) {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(key.ipv6 ? AF_INET6 : AF_INET, key.src.data(), text, sizeof text);
    std::string name = scheme;
    if (key.ipv6) {
        name += '[';
        name += text;
        name += ']';
    } else {
        name += text;
    }
    return name + ":" + std::to_string(key.src_port);
}

struct TcpStream {
    std::string name;
    std::unique_ptr<ipfix::Session> session;  // created by the first complete Message
    std::optional<std::uint32_t> syn_seq;
    bool synced = false;
    bool abandoned = false;
    std::uint32_t next_seq = 0;
    std::vector<std::byte> buffer;  // reassembled, not yet framed octets from begin on
    std::size_t begin = 0;
    std::vector<std::pair<std::uint32_t, std::vector<std::byte>>> held;  // after a gap
};

// Sequence number distance with wrap-around (RFC 9293 §3.4 arithmetic).
std::int32_t seq_diff(std::uint32_t a, std::uint32_t b) {
    return static_cast<std::int32_t>(a - b);
}

class CaptureRun {
public:
    CaptureRun(const std::string& path, const CaptureReaderOptions& options,
               MessageConsumer& consumer)
        : path_(path), options_(options), consumer_(consumer) {}

    CaptureSummary run() {
        char errbuf[PCAP_ERRBUF_SIZE] = {};
        std::unique_ptr<pcap_t, decltype(&pcap_close)> pcap(
            pcap_open_offline(path_.c_str(), errbuf), &pcap_close);
        if (!pcap) {
            throw std::runtime_error(path_ + ": " + errbuf);
        }
        link_type_ = pcap_datalink(pcap.get());
        if (!supported_link_type(link_type_)) {
            throw std::runtime_error(path_ + ": unsupported link type " +
                                     std::to_string(link_type_));
        }

        read_packets(pcap.get());

        consumer_.flush();
        close_all();
        return std::move(summary_);
    }

private:
    static bool supported_link_type(int type) {
        switch (type) {
            case DLT_EN10MB:
            case DLT_LINUX_SLL:
            case DLT_LINUX_SLL2:
            case DLT_RAW:
            case DLT_IPV4:
            case DLT_IPV6:
            case DLT_NULL:
            case DLT_LOOP:
                return true;
            default:
                return false;
        }
    }

    void read_packets(pcap_t* pcap) {
        pcap_pkthdr* header = nullptr;
        const u_char* data = nullptr;
        while (true) {
            const int rc = pcap_next_ex(pcap, &header, &data);
            if (rc == PCAP_ERROR_BREAK) {
                return;
            }
            if (rc != 1) {
                summary_.add_error(path_ + ": after packet " + std::to_string(summary_.packets) +
                                   ": " + pcap_geterr(pcap));
                return;
            }
            ++summary_.packets;
            if (header->caplen < header->len) {
                ++summary_.truncated;
                continue;
            }
            link_layer(Bytes(reinterpret_cast<const std::byte*>(data), header->caplen));
        }
    }

    void link_layer(Bytes frame) {
        std::uint16_t type = 0;
        std::size_t offset = 0;
        switch (link_type_) {
            case DLT_EN10MB:
                if (frame.size() < 14) {
                    ++summary_.truncated;
                    return;
                }
                type = read_u16(frame, 12);
                offset = 14;
                // 802.1Q and 802.1ad tags sit between the addresses and the EtherType.
                for (int tags = 0; tags < 2 && frame.size() >= offset + 4; ++tags) {
                    if (type != kEtherVlan && type != kEtherQinQ && type != kEtherQinQOld) {
                        break;
                    }
                    type = read_u16(frame, offset + 2);
                    offset += 4;
                }
                break;
            case DLT_LINUX_SLL:
                if (frame.size() < 16) {
                    ++summary_.truncated;
                    return;
                }
                type = read_u16(frame, 14);
                offset = 16;
                break;
            case DLT_LINUX_SLL2:
                if (frame.size() < 20) {
                    ++summary_.truncated;
                    return;
                }
                type = read_u16(frame, 0);
                offset = 20;
                break;
            default:
                // Raw IP and loopback: the family field of DLT_NULL is in the writer's byte
                // order, so the IP version nibble is the more reliable guide.
                offset = (link_type_ == DLT_NULL || link_type_ == DLT_LOOP) ? 4 : 0;
                if (frame.size() <= offset) {
                    ++summary_.truncated;
                    return;
                }
                type = ip_version_type(byte_at(frame, offset) >> 4);
                break;
        }
        const Bytes packet = frame.subspan(offset);
        if (type == kEtherIpv4) {
            ipv4(packet);
        } else if (type == kEtherIpv6) {
            ipv6(packet);
        } else {
            ++summary_.non_ip;
        }
    }

    static std::uint16_t ip_version_type(unsigned version) {
        if (version == 4) {
            return kEtherIpv4;
        }
        return version == 6 ? kEtherIpv6 : 0;
    }

    void ipv4(Bytes packet) {
        if (packet.size() < 20 || (byte_at(packet, 0) >> 4) != 4) {
            ++summary_.truncated;
            return;
        }
        const std::size_t header_length = (byte_at(packet, 0) & 0x0fU) * 4;
        const std::size_t total_length = read_u16(packet, 2);
        if (header_length < 20 || total_length < header_length || total_length > packet.size()) {
            ++summary_.truncated;
            return;
        }
        // More Fragments set or a non-zero offset: part of a datagram we do not rebuild.
        if ((read_u16(packet, 6) & 0x3fffU) != 0) {
            ++summary_.fragments;
            return;
        }
        FlowKey key;
        std::memcpy(key.src.data(), packet.data() + 12, 4);
        std::memcpy(key.dst.data(), packet.data() + 16, 4);
        transport(key, static_cast<std::uint8_t>(byte_at(packet, 9)),
                  packet.subspan(header_length, total_length - header_length));
    }

    void ipv6(Bytes packet) {
        if (packet.size() < 40) {
            ++summary_.truncated;
            return;
        }
        const std::size_t payload_length = read_u16(packet, 4);
        // Payload Length 0 means a jumbogram (RFC 2675): trust the captured size.
        const std::size_t end = payload_length == 0 ? packet.size() : 40 + payload_length;
        if (end > packet.size()) {
            ++summary_.truncated;
            return;
        }
        auto next = static_cast<std::uint8_t>(byte_at(packet, 6));
        std::size_t offset = 40;
        for (int hops = 0; hops < 8; ++hops) {
            if (next == 44) {
                ++summary_.fragments;
                return;
            }
            if (next != 0 && next != 43 && next != 60 && next != 51) {
                break;
            }
            if (offset + 2 > end) {
                ++summary_.truncated;
                return;
            }
            const std::size_t units = byte_at(packet, offset + 1);
            const std::size_t length = next == 51 ? (units + 2) * 4 : (units + 1) * 8;
            next = static_cast<std::uint8_t>(byte_at(packet, offset));
            offset += length;
        }
        if (offset > end) {
            ++summary_.truncated;
            return;
        }
        FlowKey key;
        key.ipv6 = true;
        std::memcpy(key.src.data(), packet.data() + 8, 16);
        std::memcpy(key.dst.data(), packet.data() + 24, 16);
        transport(key, next, packet.subspan(offset, end - offset));
    }

    void transport(FlowKey& key, std::uint8_t protocol, Bytes segment) {
        if (protocol == kProtoUdp) {
            udp(key, segment);
        } else if (protocol == kProtoTcp) {
            tcp(key, segment);
        } else {
            ++summary_.other_transport;
        }
    }

    void udp(FlowKey& key, Bytes datagram) {
        if (datagram.size() < 8) {
            ++summary_.truncated;
            return;
        }
        const std::size_t length = read_u16(datagram, 4);
        if (length < 8 || length > datagram.size()) {
            ++summary_.truncated;
            return;
        }
        key.src_port = read_u16(datagram, 0);
        key.dst_port = read_u16(datagram, 2);
        const Bytes payload = datagram.subspan(8, length - 8);
        if (payload.size() < 2) {
            ++summary_.non_ipfix_udp;
            return;
        }
        const std::uint16_t version = read_u16(payload, 0);
        if (version == kNetflowV9 || version == kNetflowV5) {
            ++summary_.unsupported_netflow;
            return;
        }
        if (version != kIpfixVersion) {
            ++summary_.non_ipfix_udp;
            return;
        }
        udp_messages(udp_session(key), payload);
    }

    ipfix::Session& udp_session(const FlowKey& key) {
        auto& slot = udp_sessions_[key];
        if (!slot) {
            slot = std::make_unique<ipfix::Session>(ipfix::Transport::kUdp,
                                                    exporter_name("udp:", key));
            ++summary_.udp_sessions;
        }
        return *slot;
    }

    // A datagram holds whole Messages only (RFC 7011 §10.3.2); what does not frame is dropped.
    void udp_messages(ipfix::Session& session, Bytes payload) {
        std::size_t offset = 0;
        while (offset < payload.size()) {
            const FrameResult frame = frame_message(payload.subspan(offset));
            if (frame.status != FrameStatus::kComplete) {
                ++summary_.udp_malformed;
                summary_.skipped_bytes += payload.size() - offset;
                packet_error(session.exporter(), "datagram octets from " + std::to_string(offset) +
                                                     " are no whole Message (" +
                                                     std::string(frame_status_name(frame.status)) +
                                                     ")");
                return;
            }
            deliver(session, payload.subspan(offset, frame.length));
            offset += frame.length;
        }
    }

    bool deliver(ipfix::Session& session, Bytes message) {
        ++summary_.messages;
        summary_.bytes += message.size();
        if (consumer_.on_message(session, message) == Verdict::kRejected) {
            ++summary_.rejected;
            return false;
        }
        return true;
    }

    void tcp(FlowKey& key, Bytes segment) {
        if (segment.size() < 20) {
            ++summary_.truncated;
            return;
        }
        const std::size_t data_offset = (byte_at(segment, 12) >> 4) * 4;
        if (data_offset < 20 || data_offset > segment.size()) {
            ++summary_.truncated;
            return;
        }
        key.src_port = read_u16(segment, 0);
        key.dst_port = read_u16(segment, 2);
        const std::uint32_t seq = read_u32(segment, 4);
        const auto flags = static_cast<std::uint8_t>(byte_at(segment, 13));
        const Bytes payload = segment.subspan(data_offset);

        auto it = tcp_streams_.find(key);
        if ((flags & kTcpSyn) != 0) {
            it = on_syn(key, it, seq);
        }
        if (it == tcp_streams_.end()) {
            it = tcp_streams_.emplace(key, TcpStream{}).first;
            it->second.name = exporter_name("tcp:", key);
        }
        TcpStream& stream = it->second;
        if ((flags & kTcpRst) != 0) {
            close_stream(it);
            return;
        }
        if (stream.abandoned) {
            summary_.tcp_ignored_segments += payload.empty() ? 0 : 1;
        } else if (!payload.empty()) {
            // SYN occupies one sequence number; data riding on it starts after that.
            const std::uint32_t data_seq = (flags & kTcpSyn) != 0 ? seq + 1 : seq;
            if (!stream.synced) {
                stream.synced = true;  // capture started mid-connection
                stream.next_seq = data_seq;
            }
            accept_segment(stream, data_seq, payload);
        }
        if ((flags & kTcpFin) != 0) {
            close_stream(it);
        }
    }

    using StreamMap = std::unordered_map<FlowKey, TcpStream, FlowKeyHash>;

    StreamMap::iterator on_syn(const FlowKey& key, StreamMap::iterator it, std::uint32_t seq) {
        if (it != tcp_streams_.end()) {
            if (it->second.syn_seq == seq) {
                return it;  // a retransmitted SYN
            }
            close_stream(it);  // the 4-tuple is reused by a new connection
        }
        it = tcp_streams_.emplace(key, TcpStream{}).first;
        TcpStream& stream = it->second;
        stream.name = exporter_name("tcp:", key);
        stream.syn_seq = seq;
        stream.synced = true;
        stream.next_seq = seq + 1;
        return it;
    }

    void accept_segment(TcpStream& stream, std::uint32_t seq, Bytes payload) {
        const std::int32_t ahead = seq_diff(seq, stream.next_seq);
        if (ahead > 0) {
            hold_segment(stream, seq, payload);
            return;
        }
        if (!append_in_order(stream, seq, payload)) {
            ++summary_.tcp_retransmits;
            return;
        }
        drain_held(stream);
        frame_stream(stream);
    }

    // Appends the part of a segment at or after next_seq; false if it held nothing new.
    static bool append_in_order(TcpStream& stream, std::uint32_t seq, Bytes payload) {
        const auto behind = static_cast<std::size_t>(
            -static_cast<std::int64_t>(std::min<std::int32_t>(seq_diff(seq, stream.next_seq), 0)));
        if (behind >= payload.size()) {
            return false;
        }
        const Bytes fresh = payload.subspan(behind);
        stream.buffer.insert(stream.buffer.end(), fresh.begin(), fresh.end());
        stream.next_seq += static_cast<std::uint32_t>(fresh.size());
        return true;
    }

    void hold_segment(TcpStream& stream, std::uint32_t seq, Bytes payload) {
        if (stream.held.size() >= options_.max_out_of_order_segments) {
            abandon(stream, "more than " + std::to_string(options_.max_out_of_order_segments) +
                                " segments after a sequence gap");
            return;
        }
        ++summary_.tcp_out_of_order;
        stream.held.emplace_back(seq, std::vector<std::byte>(payload.begin(), payload.end()));
    }

    void drain_held(TcpStream& stream) {
        bool progressed = true;
        while (progressed && !stream.held.empty()) {
            progressed = false;
            for (auto it = stream.held.begin(); it != stream.held.end(); ++it) {
                if (seq_diff(it->first, stream.next_seq) <= 0) {
                    const auto held = std::move(*it);
                    stream.held.erase(it);
                    if (!append_in_order(stream, held.first, held.second)) {
                        ++summary_.tcp_retransmits;
                    }
                    progressed = true;
                    break;
                }
            }
        }
    }

    void frame_stream(TcpStream& stream) {
        while (!stream.abandoned) {
            const Bytes pending = Bytes(stream.buffer).subspan(stream.begin);
            const FrameResult frame = frame_message(pending);
            if (frame.status == FrameStatus::kNeedMore) {
                break;
            }
            if (frame.status != FrameStatus::kComplete) {
                framing_lost(stream, frame);
                return;
            }
            if (!stream.session) {
                stream.session =
                    std::make_unique<ipfix::Session>(ipfix::Transport::kTcp, stream.name);
                ++summary_.tcp_sessions;
            }
            if (!deliver(*stream.session, pending.first(frame.length))) {
                abandon(stream, "Message rejected, session closed as on a live connection");
                return;
            }
            stream.begin += frame.length;
        }
        if (stream.begin >= kCompactThreshold || stream.begin == stream.buffer.size()) {
            stream.buffer.erase(stream.buffer.begin(),
                                stream.buffer.begin() + static_cast<std::ptrdiff_t>(stream.begin));
            stream.begin = 0;
        }
    }

    void framing_lost(TcpStream& stream, const FrameResult& frame) {
        if (!stream.session) {
            // Not IPFIX at all, or the capture began inside a Message: say so once in counts.
            ++summary_.non_ipfix_tcp;
            stream.abandoned = true;
            stream.buffer.clear();
            stream.held.clear();
            return;
        }
        abandon(stream, frame.status == FrameStatus::kBadVersion
                            ? "Version " + std::to_string(frame.version) + " is not 10"
                            : "Length " + std::to_string(frame.length) + " is under 16");
    }

    // Gives up on a stream: its session ends, later segments of it are only counted.
    void abandon(TcpStream& stream, const std::string& reason) {
        packet_error(stream.name, reason);
        ++summary_.tcp_streams_abandoned;
        summary_.skipped_bytes += stream.buffer.size() - stream.begin;
        stream.abandoned = true;
        stream.buffer.clear();
        stream.begin = 0;
        stream.held.clear();
        end_session(stream);
    }

    void end_session(TcpStream& stream) {
        if (stream.session) {
            consumer_.on_session_closed(*stream.session);
            stream.session.reset();
        }
    }

    void close_stream(StreamMap::iterator it) {
        TcpStream& stream = it->second;
        if (!stream.abandoned) {
            const std::size_t left = stream.buffer.size() - stream.begin;
            if (!stream.held.empty()) {
                packet_error(stream.name, "stream ends with a sequence gap before " +
                                              std::to_string(stream.held.size()) + " segments");
                ++summary_.tcp_streams_abandoned;
            } else if (left > 0) {
                packet_error(stream.name,
                             "stream ends inside a Message (" + std::to_string(left) + " octets)");
            }
            summary_.skipped_bytes += left;
        }
        end_session(stream);
        tcp_streams_.erase(it);
    }

    void close_all() {
        while (!tcp_streams_.empty()) {
            close_stream(tcp_streams_.begin());
        }
        for (auto& [key, session] : udp_sessions_) {
            consumer_.on_session_closed(*session);
        }
        udp_sessions_.clear();
    }

    void packet_error(const std::string& exporter, const std::string& reason) {
        summary_.add_error(path_ + ": packet " + std::to_string(summary_.packets) + ": " +
                           exporter + ": " + reason);
    }

    const std::string& path_;
    const CaptureReaderOptions& options_;
    MessageConsumer& consumer_;
    int link_type_ = 0;
    CaptureSummary summary_;
    std::unordered_map<FlowKey, std::unique_ptr<ipfix::Session>, FlowKeyHash> udp_sessions_;
    StreamMap tcp_streams_;
};

}  // namespace

CaptureReader::CaptureReader(std::string path, CaptureReaderOptions options)
    : path_(std::move(path)), options_(options) {}

CaptureSummary CaptureReader::run(MessageConsumer& consumer) {
    CaptureRun capture_run(path_, options_, consumer);
    return capture_run.run();
}

}  // namespace malfix::engine
