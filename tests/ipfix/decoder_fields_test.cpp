// Data Record decoding: how each observable is read from the record.

#include "ipfix/decoder.hpp"
#include "ipfix/elements.hpp"
#include "tests/ipfix/decoder_support.hpp"
#include "tests/ipfix/message_builder.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace malfix::ipfix {
namespace {

using test::ByteBuffer;
using test::CollectingSink;
using test::MessageBuilder;

constexpr std::int64_t kNow = 1'700'000'000;
// NTP seconds of 2023-11-14 22:13:20 UTC (Unix 1700000000).
constexpr std::uint64_t kNtpSeconds = 1'700'000'000ULL + 2'208'988'800ULL;

struct Decoded {
    DecodeResult result;
    DecodeCounters counters;
    std::vector<test::CapturedFlow> flows;
};

Decoded decode(MessageBuilder& m, Transport transport = Transport::kUdp) {
    Session session(transport, "exporter");
    Decoded out;
    CollectingSink sink;
    out.result = decode_message(m.build(), session, out.counters, sink, kNow);
    out.flows = std::move(sink.flows);
    return out;
}

}  // namespace

TEST_CASE("reduced-size counters are read by the Template's field length",
          "[ipfix][fields][reduced-size]") {
    for (std::uint16_t width = 1; width <= 8; ++width) {
        const std::uint64_t value =
            width == 8 ? 0x0102030405060708ULL : (std::uint64_t{1} << (8 * width - 1)) + 5;
        MessageBuilder m;
        m.begin_set(2).template_record(
            256, {{ie::kOctetDeltaCount, width}, {ie::kPacketDeltaCount, width}});
        m.begin_set(256).uint(value, width).uint(value - 1, width);
        const Decoded d = decode(m);
        REQUIRE(d.flows.size() == 1);
        CHECK(d.flows[0].view.octets == value);
        CHECK(d.flows[0].view.packets == value - 1);
    }
}

TEST_CASE("a counter wider than 8 bytes is ignored, not misread", "[ipfix][fields][reduced-size]") {
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{ie::kOctetDeltaCount, 9}});
    m.begin_set(256).zeros(8).u8(7);
    const Decoded d = decode(m);
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].view.octets == 0);
}

TEST_CASE("total counts stand in for delta counts only when those are absent", "[ipfix][fields]") {
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{ie::kOctetTotalCount, 8}, {ie::kPacketTotalCount, 8}});
    m.template_record(257, {{ie::kOctetTotalCount, 8}, {ie::kOctetDeltaCount, 4}});
    m.begin_set(256).u64(1000).u64(10);
    m.begin_set(257).u64(1000).u32(77);
    const Decoded d = decode(m);
    REQUIRE(d.flows.size() == 2);
    CHECK(d.flows[0].view.octets == 1000);
    CHECK(d.flows[0].view.packets == 10);
    CHECK(d.flows[1].view.octets == 77);
}

TEST_CASE("a variable-length field with the 255 escape is read with its 2-byte length",
          "[ipfix][fields][varlen]") {
    const std::string long_name(300, 'x');
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{ie::kSourceIPv4Address, 4},
                                         {82, kVariableLength},  // interfaceName
                                         {ie::kDestinationIPv4Address, 4}});
    m.begin_set(256);
    m.ipv4("10.0.0.1").varlen_text("ab", true).ipv4("10.0.0.2");  // 255, 0x0002, "ab"
    m.ipv4("10.0.0.3").varlen_text(long_name).ipv4("10.0.0.4");   // needs the escape
    m.ipv4("10.0.0.5").varlen_text("").ipv4("10.0.0.6");          // empty value
    const Decoded d = decode(m);
    REQUIRE(d.flows.size() == 3);
    CHECK(d.flows[0].view.dst_addr.to_string() == "10.0.0.2");
    CHECK(d.flows[0].record.size() == 4 + 3 + 2 + 4);
    CHECK(d.flows[1].view.dst_addr.to_string() == "10.0.0.4");
    CHECK(d.flows[1].record.size() == 4 + 3 + 300 + 4);
    CHECK(d.flows[2].view.dst_addr.to_string() == "10.0.0.6");
    CHECK_FALSE(d.flows[0].tmpl->fixed_length);
    CHECK(d.flows[0].tmpl->min_record_length == 9);
}

TEST_CASE("IPv6 addresses are read from sourceIPv6Address and destinationIPv6Address",
          "[ipfix][fields]") {
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{ie::kSourceIPv6Address, 16},
                                         {ie::kDestinationIPv6Address, 16},
                                         {ie::kProtocolIdentifier, 1}});
    m.begin_set(256).ipv6("2001:db8::1").ipv6("2001:db8:0:1::53").u8(6);
    const Decoded d = decode(m);
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].view.src_addr.is_v6());
    CHECK(d.flows[0].view.src_addr.to_string() == "2001:db8::1");
    CHECK(d.flows[0].view.dst_addr.to_string() == "2001:db8:0:1::53");
    CHECK(d.flows[0].view.protocol == 6);
}

TEST_CASE("protocol-specific ports stand in for the transport ports", "[ipfix][fields]") {
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{ie::kUdpSourcePort, 2}, {ie::kUdpDestinationPort, 2}});
    m.template_record(257, {{ie::kTcpSourcePort, 2}, {ie::kTcpDestinationPort, 2}});
    m.template_record(258, {{ie::kTcpSourcePort, 2},
                            {ie::kSourceTransportPort, 2},
                            {ie::kDestinationTransportPort, 2},
                            {ie::kTcpDestinationPort, 2}});
    m.template_record(259, {{ie::kSourceIPv4Address, 4}});
    m.begin_set(256).u16(5353).u16(53);
    m.begin_set(257).u16(40000).u16(443);
    m.begin_set(258).u16(1).u16(2).u16(3).u16(4);
    m.begin_set(259).ipv4("10.0.0.1");
    const Decoded d = decode(m);
    REQUIRE(d.flows.size() == 4);
    CHECK(d.flows[0].view.src_port == 5353);
    CHECK(d.flows[0].view.dst_port == 53);
    CHECK(d.flows[1].view.src_port == 40000);
    CHECK(d.flows[1].view.dst_port == 443);
    CHECK(d.flows[2].view.src_port == 2);
    CHECK(d.flows[2].view.dst_port == 3);
    CHECK(d.flows[2].view.has_ports);
    CHECK_FALSE(d.flows[3].view.has_ports);
}

TEST_CASE("reverse and enterprise elements never fill the forward observables",
          "[ipfix][fields][biflow]") {
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{ie::kSourceIPv4Address, 4},
                                         {ie::kOctetDeltaCount, 8, pen::kReverse},
                                         {ie::kOctetTotalCount, 8, pen::kReverse},
                                         {ie::kDestinationIPv4Address, 4, pen::kReverse},
                                         {ie::kOctetTotalCount, 8}});
    m.begin_set(256).ipv4("10.0.0.1").u64(999).u64(998).ipv4("10.6.6.6").u64(50);
    const Decoded d = decode(m);
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].view.octets == 50);
    CHECK(d.flows[0].view.dst_addr.empty());
}

TEST_CASE("dateTimeMicroseconds and dateTimeNanoseconds are NTP timestamps",
          "[ipfix][fields][time]") {
    // Fraction 2^31 is half a second; 0x00000010 of 2^32 is 3.7 ns, truncated to 3.
    MessageBuilder m;
    m.begin_set(2).template_record(
        256, {{ie::kFlowStartMicroseconds, 8}, {ie::kFlowEndMicroseconds, 8}});
    m.template_record(257, {{ie::kFlowStartNanoseconds, 8}, {ie::kFlowEndNanoseconds, 8}});
    m.begin_set(256).u32(kNtpSeconds).u32(0x8000'0000).u32(kNtpSeconds + 2).u32(0);
    m.begin_set(257).u32(kNtpSeconds).u32(0x10).u32(kNtpSeconds + 1).u32(0x4000'0000);
    const Decoded d = decode(m);
    REQUIRE(d.flows.size() == 2);
    CHECK(d.flows[0].view.start_ns == 1'700'000'000'500'000'000);
    CHECK(d.flows[0].view.end_ns == 1'700'000'002'000'000'000);
    CHECK(d.flows[1].view.start_ns == 1'700'000'000'000'000'003);
    CHECK(d.flows[1].view.end_ns == 1'700'000'001'250'000'000);
}

TEST_CASE("NTP timestamps after the 2036 era rollover stay in the future",
          "[ipfix][fields][time]") {
    // NTP second 0x00000001 with the top bit clear lies in era 1: 2036-02-07T06:28:17Z.
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{ie::kFlowStartNanoseconds, 8}});
    m.begin_set(256).u32(1).u32(0);
    const Decoded d = decode(m);
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].view.start_ns == 2'085'978'497'000'000'000);
}

TEST_CASE("the most precise time source wins", "[ipfix][fields][time]") {
    // yaf sends flowStartMilliseconds next to flowStartMicroseconds.
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{ie::kFlowStartSeconds, 4},
                                         {ie::kFlowStartMilliseconds, 8},
                                         {ie::kFlowStartMicroseconds, 8},
                                         {ie::kFlowEndMilliseconds, 8},
                                         {ie::kFlowEndSeconds, 4}});
    m.begin_set(256)
        .u32(1'700'000'000)
        .u64(1'700'000'000'123)
        .u32(kNtpSeconds)
        .u32(0x2000'0000)  // 0.125 s
        .u64(1'700'000'009'999)
        .u32(1'700'000'009);
    const Decoded d = decode(m);
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].view.start_ns == 1'700'000'000'125'000'000);
    CHECK(d.flows[0].view.end_ns == 1'700'000'009'999'000'000);
}

TEST_CASE("flowStartSeconds alone gives whole seconds", "[ipfix][fields][time]") {
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{ie::kFlowStartSeconds, 4}, {ie::kFlowEndSeconds, 4}});
    m.begin_set(256).u32(1'600'000'000).u32(1'600'000'060);
    const Decoded d = decode(m);
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].view.start_ns == 1'600'000'000'000'000'000);
    CHECK(d.flows[0].view.end_ns == 1'600'000'060'000'000'000);
}

TEST_CASE("sysUpTime times count from systemInitTimeMilliseconds in the same record",
          "[ipfix][fields][time]") {
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{ie::kFlowStartSysUpTime, 4},
                                         {ie::kFlowEndSysUpTime, 4},
                                         {ie::kSystemInitTimeMilliseconds, 8}});
    m.template_record(257, {{ie::kFlowStartSysUpTime, 4}, {ie::kFlowEndSysUpTime, 4}});
    m.begin_set(256).u32(1500).u32(2750).u64(1'690'000'000'000);
    m.begin_set(257).u32(1500).u32(2750);
    const Decoded d = decode(m);
    REQUIRE(d.flows.size() == 2);
    CHECK(d.flows[0].view.start_ns == 1'690'000'001'500'000'000);
    CHECK(d.flows[0].view.end_ns == 1'690'000'002'750'000'000);
    // Without the init time the uptimes mean nothing absolute.
    CHECK(d.flows[1].view.start_ns == 0);
    CHECK(d.flows[1].view.end_ns == 0);
}

TEST_CASE("sysUpTime times use the init time an Options Template record announced",
          "[ipfix][fields][time][options]") {
    // softflowd's layout: systemInitTimeMilliseconds only in its exporter options record,
    // scoped by observationDomainId (IANA IE 149).
    MessageBuilder m;
    m.begin_set(3).options_template_record(300, 1,
                                           {{149, 4}, {ie::kSystemInitTimeMilliseconds, 8}});
    m.begin_set(2).template_record(257, {{ie::kFlowStartSysUpTime, 4}, {ie::kFlowEndSysUpTime, 4}});
    m.begin_set(300).u32(0).u64(1'690'000'000'000);
    m.begin_set(257).u32(1500).u32(2750);
    const Decoded d = decode(m);
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].view.start_ns == 1'690'000'001'500'000'000);
    CHECK(d.flows[0].view.end_ns == 1'690'000'002'750'000'000);
}

TEST_CASE("delta microseconds count back from the Export Time", "[ipfix][fields][time]") {
    MessageBuilder m(1, 0, 1'700'000'100);
    m.begin_set(2).template_record(
        256, {{ie::kFlowStartDeltaMicroseconds, 4}, {ie::kFlowEndDeltaMicroseconds, 4}});
    m.begin_set(256).u32(2'500'000).u32(250);
    const Decoded d = decode(m);
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].view.start_ns == 1'700'000'097'500'000'000);
    CHECK(d.flows[0].view.end_ns == 1'700'000'099'999'750'000);
}

TEST_CASE("Options Template records are counted and not yielded", "[ipfix][options]") {
    MessageBuilder m;
    m.begin_set(3).options_template_record(400, 1, {{149, 4}, {41, 8}, {82, kVariableLength}});
    m.begin_set(2).template_record(256, {{ie::kSourceIPv4Address, 4}});
    m.begin_set(400);
    m.u32(7).u64(100).varlen_text("eth0");
    m.u32(7).u64(100).varlen_text("eth1");
    m.begin_set(256).ipv4("10.0.0.1");
    const Decoded d = decode(m);
    CHECK(d.result.ok);
    CHECK(d.flows.size() == 1);
    CHECK(d.counters.options_records == 2);
    CHECK(d.counters.data_records == 1);
}

TEST_CASE("Template Sets may end in padding and carry several records", "[ipfix][template]") {
    MessageBuilder m;
    m.begin_set(2)
        .template_record(256, {{ie::kSourceIPv4Address, 4}})
        .template_record(257, {{ie::kDestinationIPv4Address, 4}})
        .zeros(3);
    m.begin_set(3).options_template_record(258, 1, {{149, 4}}).zeros(6);
    m.begin_set(257).ipv4("10.0.0.7");
    const Decoded d = decode(m);
    CHECK(d.result.ok);
    CHECK(d.counters.template_records == 3);
    CHECK(test::total_drops(d.counters) == 0);
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].view.dst_addr.to_string() == "10.0.0.7");
}

TEST_CASE("a Template of zero-length fields is refused", "[ipfix][template][malformed]") {
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{ie::kSourceIPv4Address, 0}, {210, 0}});
    m.begin_set(256).zeros(4);
    const Decoded d = decode(m);
    CHECK(d.result.ok);
    CHECK(d.counters.drops[static_cast<std::size_t>(DropReason::kBadTemplate)] == 1);
    CHECK(d.counters.drops[static_cast<std::size_t>(DropReason::kMissingTemplate)] == 1);
}

}  // namespace malfix::ipfix
