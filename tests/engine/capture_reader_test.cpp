#include "engine/capture_reader.hpp"

#include "tests/engine/recording_consumer.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

using malfix::engine::CaptureReader;
using malfix::engine::CaptureReaderOptions;
using malfix::engine::CaptureSummary;
using malfix::ipfix::Transport;
using malfix::test::data_path;
using malfix::test::ipfix_message;
using malfix::test::RecordingConsumer;
using malfix::test::TempFile;

namespace {

using Bytes = std::vector<std::byte>;

constexpr std::uint32_t kLinkNull = 0;
constexpr std::uint32_t kLinkEthernet = 1;
constexpr std::uint32_t kLinkRaw = 101;
constexpr std::uint32_t kLinkSll = 113;
constexpr std::uint32_t kLinkSll2 = 276;
constexpr std::uint8_t kFin = 0x01;
constexpr std::uint8_t kSyn = 0x02;
constexpr std::uint8_t kRst = 0x04;
constexpr std::uint8_t kAck = 0x10;

void put8(Bytes& out, unsigned v) {
    out.push_back(std::byte(static_cast<unsigned char>(v)));
}
void put16(Bytes& out, unsigned v) {
    put8(out, (v >> 8) & 0xffU);
    put8(out, v & 0xffU);
}
void put32(Bytes& out, std::uint32_t v) {
    put16(out, v >> 16);
    put16(out, v & 0xffffU);
}
void put32_le(Bytes& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        put8(out, (v >> (8 * i)) & 0xffU);
    }
}
void append(Bytes& out, const Bytes& more) {
    out.insert(out.end(), more.begin(), more.end());
}

// Writes a classic little-endian pcap, the format every libpcap reads.
class PcapWriter {
public:
    explicit PcapWriter(std::uint32_t link_type) {
        put32_le(file_, 0xa1b2c3d4);
        put8(file_, 2);  // version 2.4, little-endian 16-bit fields
        put8(file_, 0);
        put8(file_, 4);
        put8(file_, 0);
        put32_le(file_, 0);  // thiszone
        put32_le(file_, 0);  // sigfigs
        put32_le(file_, 262144);
        put32_le(file_, link_type);
    }

    void add(const Bytes& frame) {
        put32_le(file_, 1700000000);
        put32_le(file_, static_cast<std::uint32_t>(packets_++));
        put32_le(file_, static_cast<std::uint32_t>(frame.size()));
        put32_le(file_, static_cast<std::uint32_t>(frame.size()));
        append(file_, frame);
    }

    void write(const TempFile& file) const { malfix::test::write_file(file.path(), file_); }

private:
    Bytes file_;
    std::size_t packets_ = 0;
};

Bytes udp(unsigned src_port, unsigned dst_port, const Bytes& payload) {
    Bytes out;
    put16(out, src_port);
    put16(out, dst_port);
    put16(out, static_cast<unsigned>(8 + payload.size()));
    put16(out, 0);  // checksum: not checked by the reader
    append(out, payload);
    return out;
}

Bytes tcp(unsigned src_port, unsigned dst_port, std::uint32_t seq, std::uint8_t flags,
          const Bytes& payload = {}) {
    Bytes out;
    put16(out, src_port);
    put16(out, dst_port);
    put32(out, seq);
    put32(out, 0);      // ack
    put8(out, 5 << 4);  // data offset: 5 words
    put8(out, flags);
    put16(out, 65535);  // window
    put16(out, 0);
    put16(out, 0);
    append(out, payload);
    return out;
}

Bytes ipv4(std::array<unsigned, 4> src, std::uint8_t protocol, const Bytes& segment,
           unsigned fragment_field = 0) {
    Bytes out;
    put8(out, 0x45);
    put8(out, 0);
    put16(out, static_cast<unsigned>(20 + segment.size()));
    put16(out, 1);  // identification
    put16(out, fragment_field);
    put8(out, 64);
    put8(out, protocol);
    put16(out, 0);
    for (const unsigned b : src) {
        put8(out, b);
    }
    for (const unsigned b : {10U, 0U, 0U, 1U}) {
        put8(out, b);
    }
    append(out, segment);
    return out;
}

// Source 2001:db8::1 to 2001:db8::2; a hop-by-hop options header first when asked.
Bytes ipv6(std::uint8_t protocol, const Bytes& segment, bool hop_by_hop = false) {
    Bytes out;
    put32(out, 0x60000000);
    put16(out, static_cast<unsigned>(segment.size() + (hop_by_hop ? 8 : 0)));
    put8(out, hop_by_hop ? 0 : protocol);
    put8(out, 64);
    for (const unsigned last : {1U, 2U}) {
        put16(out, 0x2001);
        put16(out, 0x0db8);
        for (int i = 0; i < 5; ++i) {
            put16(out, 0);
        }
        put16(out, last);
    }
    if (hop_by_hop) {
        put8(out, protocol);
        put8(out, 0);  // 8 octets in all
        for (const unsigned pad : {1U, 4U, 0U, 0U, 0U, 0U}) {
            put8(out, pad);  // PadN option
        }
    }
    append(out, segment);
    return out;
}

Bytes ethernet(const Bytes& packet, unsigned ether_type = 0x0800) {
    Bytes out(12, std::byte{0x02});
    put16(out, ether_type);
    append(out, packet);
    return out;
}

Bytes concat(const Bytes& a, const Bytes& b) {
    Bytes out = a;
    append(out, b);
    return out;
}

CaptureSummary read_capture(const std::string& path, RecordingConsumer& consumer,
                            CaptureReaderOptions options = {}) {
    return CaptureReader(path, options).run(consumer);
}

constexpr std::array<unsigned, 4> kExporter = {192, 0, 2, 7};

}  // namespace

TEST_CASE("a yaf UDP capture yields its six Messages on one UDP session", "[engine][capture]") {
    RecordingConsumer consumer;
    const CaptureSummary summary =
        read_capture(data_path("captures/yaf_dns_dpi_ipfix_udp4739.pcapng"), consumer);

    CHECK(summary.packets == 6);
    CHECK(summary.messages == 6);
    CHECK(summary.udp_sessions == 1);
    CHECK(summary.error_count == 0);
    const auto messages = consumer.messages();
    REQUIRE(messages.size() == 6);
    for (const auto& m : messages) {
        CHECK(m.exporter == "udp:127.0.0.1:56227");
        CHECK(m.transport == Transport::kUdp);
    }
    // UDP payload lengths as tshark lists them, less the 8-octet UDP header.
    CHECK(messages[0].length == 1416);
    CHECK(messages[5].length == 58);
    CHECK(consumer.closed() == std::vector<std::string>{"udp:127.0.0.1:56227"});
}

TEST_CASE("a yaf TCP capture is reassembled into its nine Messages", "[engine][capture][tcp]") {
    RecordingConsumer consumer;
    const CaptureSummary summary =
        read_capture(data_path("captures/yaf_mixed_dpi_ipfix_tcp4739.pcapng"), consumer);

    CHECK(summary.packets == 24);
    CHECK(summary.messages == 9);
    // The same export written to a file (yaf_mixed_v4v6_dpi.yaf) is 5794 octets.
    CHECK(summary.bytes == 5794);
    CHECK(summary.tcp_sessions == 1);
    CHECK(summary.tcp_retransmits == 0);
    CHECK(summary.error_count == 0);
    for (const auto& m : consumer.messages()) {
        CHECK(m.exporter == "tcp:127.0.0.1:55914");
        CHECK(m.transport == Transport::kTcp);
    }
    CHECK(consumer.closed() == std::vector<std::string>{"tcp:127.0.0.1:55914"});
}

TEST_CASE("a softflowd TCP capture yields its three Messages", "[engine][capture][tcp]") {
    RecordingConsumer consumer;
    const CaptureSummary summary =
        read_capture(data_path("captures/softflowd_mixed_v4v6_ipfix_tcp4739.pcapng"), consumer);

    CHECK(summary.messages == 3);
    CHECK(summary.bytes == 1308 + 1352 + 72);
    CHECK(summary.error_count == 0);
    const auto messages = consumer.messages();
    REQUIRE(messages.size() == 3);
    CHECK(messages[0].exporter == "tcp:127.0.0.1:48956");
}

TEST_CASE("NetFlow v9 datagrams are counted as unsupported, not IPFIX", "[engine][capture]") {
    RecordingConsumer consumer;
    const CaptureSummary summary =
        read_capture(data_path("captures/softflowd_mixed_v4v6_nfv9_udp2055.pcapng"), consumer);

    CHECK(summary.packets == 2);
    CHECK(summary.unsupported_netflow == 2);
    CHECK(summary.messages == 0);
    CHECK(summary.udp_sessions == 0);
    CHECK(consumer.messages().empty());
}

TEST_CASE("a classic pcap from scapy yields its three Messages", "[engine][capture]") {
    RecordingConsumer consumer;
    const CaptureSummary summary = read_capture(data_path("captures/ipfix.pcap"), consumer);

    CHECK(summary.messages == 3);
    const auto messages = consumer.messages();
    REQUIRE(messages.size() == 3);
    CHECK(messages[0].exporter == "udp:204.42.110.30:33092");
    CHECK(messages[0].length == 116);
}

TEST_CASE("Linux cooked, raw IP and loopback link types are read", "[engine][capture][link]") {
    const Bytes message = ipfix_message(40);
    const Bytes datagram = ipv4(kExporter, 17, udp(40000, 4739, message));
    const TempFile file("link.pcap");

    SECTION("Linux cooked SLL") {
        PcapWriter pcap(kLinkSll);
        Bytes frame(14, std::byte{0});  // packet type, ARPHRD, address length, address
        put16(frame, 0x0800);
        pcap.add(concat(frame, datagram));
        pcap.write(file);
    }
    SECTION("Linux cooked SLL2") {
        PcapWriter pcap(kLinkSll2);
        Bytes frame;
        put16(frame, 0x0800);
        frame.resize(20, std::byte{0});
        pcap.add(concat(frame, datagram));
        pcap.write(file);
    }
    SECTION("raw IP") {
        PcapWriter pcap(kLinkRaw);
        pcap.add(datagram);
        pcap.write(file);
    }
    SECTION("BSD loopback") {
        PcapWriter pcap(kLinkNull);
        Bytes frame;
        put32_le(frame, 2);  // AF_INET in the writer's byte order
        pcap.add(concat(frame, datagram));
        pcap.write(file);
    }
    SECTION("Ethernet with a VLAN tag") {
        PcapWriter pcap(kLinkEthernet);
        Bytes tag;
        put16(tag, 100);  // VLAN ID
        put16(tag, 0x0800);
        pcap.add(ethernet(concat(tag, datagram), 0x8100));
        pcap.write(file);
    }

    RecordingConsumer consumer;
    const CaptureSummary summary = read_capture(file.path().string(), consumer);
    CHECK(summary.messages == 1);
    const auto messages = consumer.messages();
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].exporter == "udp:192.0.2.7:40000");
    CHECK(messages[0].length == 40);
}

TEST_CASE("IPv6 exporters are named in brackets and extension headers skipped",
          "[engine][capture][ipv6]") {
    PcapWriter pcap(kLinkEthernet);
    pcap.add(ethernet(ipv6(17, udp(40001, 4739, ipfix_message(32)), true), 0x86dd));
    pcap.add(ethernet(ipv6(17, udp(40001, 4739, ipfix_message(48))), 0x86dd));
    const TempFile file("ipv6.pcap");
    pcap.write(file);

    RecordingConsumer consumer;
    const CaptureSummary summary = read_capture(file.path().string(), consumer);
    CHECK(summary.messages == 2);
    CHECK(summary.udp_sessions == 1);
    const auto messages = consumer.messages();
    REQUIRE(messages.size() == 2);
    CHECK(messages[0].exporter == "udp:[2001:db8::1]:40001");
    CHECK(messages[0].length == 32);
    CHECK(messages[1].length == 48);
}

TEST_CASE("fragments, NetFlow v5 and padding are told apart", "[engine][capture][malformed]") {
    PcapWriter pcap(kLinkEthernet);
    // More Fragments set: not reassembled.
    pcap.add(ethernet(ipv4(kExporter, 17, udp(40000, 4739, ipfix_message(40)), 0x2000)));
    // 00 05 = NetFlow v5 header start
    pcap.add(ethernet(ipv4(kExporter, 17, udp(40000, 2055, Bytes{std::byte{0}, std::byte{5}}))));
    // Two Messages in one datagram, then Ethernet padding past the IP length.
    Bytes frame = ethernet(
        ipv4(kExporter, 17, udp(40000, 4739, concat(ipfix_message(20), ipfix_message(24)))));
    frame.resize(frame.size() + 6, std::byte{0});
    pcap.add(frame);
    // A datagram whose second Message is cut short.
    Bytes cut = concat(ipfix_message(20), ipfix_message(30));
    cut.resize(cut.size() - 4);
    pcap.add(ethernet(ipv4(kExporter, 17, udp(40000, 4739, cut))));
    // ICMP
    pcap.add(ethernet(ipv4(kExporter, 1, Bytes(8, std::byte{0}))));
    // ARP
    pcap.add(ethernet(Bytes(28, std::byte{0}), 0x0806));
    const TempFile file("mixed.pcap");
    pcap.write(file);

    RecordingConsumer consumer;
    const CaptureSummary summary = read_capture(file.path().string(), consumer);
    CHECK(summary.packets == 6);
    CHECK(summary.fragments == 1);
    CHECK(summary.unsupported_netflow == 1);
    CHECK(summary.messages == 3);
    CHECK(summary.udp_malformed == 1);
    CHECK(summary.skipped_bytes == 26);
    CHECK(summary.other_transport == 1);
    CHECK(summary.non_ip == 1);
    REQUIRE(summary.errors.size() == 1);
    CHECK_THAT(summary.errors[0], Catch::Contains("packet 4: udp:192.0.2.7:40000"));
}

TEST_CASE("TCP segments out of order and retransmitted are reassembled once",
          "[engine][capture][tcp]") {
    // Two Messages (60 + 40 octets) sent as segments of 25, 35 and 40 octets.
    const Bytes stream = concat(ipfix_message(60, 0x21), ipfix_message(40, 0x22));
    const auto part = [&stream](std::size_t from, std::size_t n) {
        return Bytes(stream.begin() + static_cast<std::ptrdiff_t>(from),
                     stream.begin() + static_cast<std::ptrdiff_t>(from + n));
    };
    constexpr std::uint32_t kIsn = 0xfffffff0;  // sequence numbers wrap inside the stream
    PcapWriter pcap(kLinkEthernet);
    const auto segment = [&](std::uint32_t seq, std::uint8_t flags, const Bytes& data) {
        pcap.add(ethernet(ipv4(kExporter, 6, tcp(40002, 4739, seq, flags, data))));
    };
    segment(kIsn, kSyn, {});
    segment(kIsn + 1 + 25, kAck, part(25, 35));  // ahead of a gap: held
    segment(kIsn + 1, kAck, part(0, 25));        // fills the gap: first Message complete
    segment(kIsn + 1, kAck, part(0, 25));        // retransmission
    segment(kIsn + 1 + 60, kAck, part(60, 40));
    segment(kIsn + 1 + 100, kAck | kFin, {});
    const TempFile file("tcp.pcap");
    pcap.write(file);

    RecordingConsumer consumer;
    const CaptureSummary summary = read_capture(file.path().string(), consumer);
    CHECK(summary.messages == 2);
    CHECK(summary.tcp_out_of_order == 1);
    CHECK(summary.tcp_retransmits == 1);
    CHECK(summary.error_count == 0);
    const auto messages = consumer.messages();
    REQUIRE(messages.size() == 2);
    CHECK(messages[0].exporter == "tcp:192.0.2.7:40002");
    CHECK(messages[0].length == 60);
    CHECK(messages[1].length == 40);
    CHECK(messages[0].head[20] == std::byte{0x21});  // the fill of each Message
    CHECK(messages[1].head[20] == std::byte{0x22});
    CHECK(consumer.closed() == std::vector<std::string>{"tcp:192.0.2.7:40002"});
}

TEST_CASE("a TCP stream with too many segments after a gap is abandoned",
          "[engine][capture][tcp][malformed]") {
    PcapWriter pcap(kLinkEthernet);
    pcap.add(ethernet(ipv4(kExporter, 6, tcp(40003, 4739, 1000, kSyn))));
    pcap.add(ethernet(ipv4(kExporter, 6, tcp(40003, 4739, 1001, kAck, ipfix_message(20)))));
    // The segment at 1021 is lost; three more arrive after the gap.
    for (std::uint32_t i = 0; i < 3; ++i) {
        pcap.add(
            ethernet(ipv4(kExporter, 6, tcp(40003, 4739, 1041 + 20 * i, kAck, ipfix_message(20)))));
    }
    const TempFile file("gap.pcap");
    pcap.write(file);

    RecordingConsumer consumer;
    CaptureReaderOptions options;
    options.max_out_of_order_segments = 2;
    const CaptureSummary summary = read_capture(file.path().string(), consumer, options);
    CHECK(summary.messages == 1);
    CHECK(summary.tcp_streams_abandoned == 1);
    REQUIRE(summary.errors.size() == 1);
    CHECK_THAT(summary.errors[0], Catch::Contains("segments after a sequence gap"));
    CHECK(consumer.closed() == std::vector<std::string>{"tcp:192.0.2.7:40003"});
}

TEST_CASE("a broken header on a TCP stream closes its session", "[engine][capture][tcp]") {
    Bytes bad = ipfix_message(24);
    bad[1] = std::byte{9};  // Version 9 in the middle of an IPFIX stream
    PcapWriter pcap(kLinkEthernet);
    pcap.add(ethernet(ipv4(kExporter, 6, tcp(40004, 4739, 5000, kSyn))));
    pcap.add(ethernet(ipv4(kExporter, 6, tcp(40004, 4739, 5001, kAck, ipfix_message(20)))));
    pcap.add(ethernet(ipv4(kExporter, 6, tcp(40004, 4739, 5021, kAck, bad))));
    pcap.add(ethernet(ipv4(kExporter, 6, tcp(40004, 4739, 5045, kAck, ipfix_message(20)))));
    pcap.add(ethernet(ipv4(kExporter, 6, tcp(40004, 4739, 5065, kRst))));
    const TempFile file("badtcp.pcap");
    pcap.write(file);

    RecordingConsumer consumer;
    const CaptureSummary summary = read_capture(file.path().string(), consumer);
    CHECK(summary.messages == 1);
    CHECK(summary.tcp_streams_abandoned == 1);
    CHECK(summary.tcp_ignored_segments == 1);
    REQUIRE(summary.errors.size() == 1);
    CHECK_THAT(summary.errors[0], Catch::Contains("Version 9 is not 10"));
    CHECK(consumer.closed().size() == 1);
}

TEST_CASE("a rejected Message over TCP ends that session as a live one would",
          "[engine][capture][tcp]") {
    PcapWriter pcap(kLinkEthernet);
    pcap.add(ethernet(ipv4(kExporter, 6, tcp(40005, 4739, 7000, kSyn))));
    pcap.add(ethernet(ipv4(
        kExporter, 6, tcp(40005, 4739, 7001, kAck, concat(ipfix_message(20), ipfix_message(20))))));
    const TempFile file("rejecttcp.pcap");
    pcap.write(file);

    RecordingConsumer consumer;
    consumer.reject_when([](std::size_t index, auto) { return index == 0; });
    const CaptureSummary summary = read_capture(file.path().string(), consumer);
    CHECK(summary.messages == 1);
    CHECK(summary.rejected == 1);
    CHECK(consumer.closed().size() == 1);
}

TEST_CASE("a TCP stream ending inside a Message reports the lost octets",
          "[engine][capture][tcp][malformed]") {
    Bytes partial = ipfix_message(50);
    partial.resize(30);
    PcapWriter pcap(kLinkRaw);
    pcap.add(ipv4(kExporter, 6, tcp(40006, 4739, 100, kSyn)));
    pcap.add(ipv4(kExporter, 6, tcp(40006, 4739, 101, kAck, concat(ipfix_message(20), partial))));
    const TempFile file("cuttcp.pcap");
    pcap.write(file);

    RecordingConsumer consumer;
    const CaptureSummary summary = read_capture(file.path().string(), consumer);
    CHECK(summary.messages == 1);
    CHECK(summary.skipped_bytes == 30);
    REQUIRE(summary.errors.size() == 1);
    CHECK_THAT(summary.errors[0], Catch::Contains("stream ends inside a Message (30 octets)"));
    CHECK(consumer.closed().size() == 1);
}

TEST_CASE("a capture that does not exist throws", "[engine][capture]") {
    RecordingConsumer consumer;
    CHECK_THROWS_WITH(read_capture("/nonexistent/malfix.pcap", consumer),
                      Catch::Contains("/nonexistent/malfix.pcap"));
}
