// Message and Set level behaviour of decode_message(): a golden Message written out in hex,
// and one test per DropReason.

#include "ipfix/decoder.hpp"
#include "ipfix/elements.hpp"
#include "tests/ipfix/decoder_support.hpp"
#include "tests/ipfix/message_builder.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace malfix::ipfix {
namespace {

using test::ByteBuffer;
using test::CollectingSink;
using test::MessageBuilder;

constexpr std::int64_t kNow = 1'700'000'000;

template <std::size_t N>
std::vector<std::byte> hex_bytes(const std::array<std::uint8_t, N>& values) {
    std::vector<std::byte> out;
    out.reserve(N);
    for (const std::uint8_t v : values) {
        out.push_back(static_cast<std::byte>(v));
    }
    return out;
}

// A complete Message: one Template and one Data Record, with padding after the record.
constexpr std::array<std::uint8_t, 104> kGoldenMessage = {
    // Message Header (RFC 7011 §3.1)
    0x00, 0x0a,              // Version 10
    0x00, 0x68,              // Length 104
    0x65, 0x53, 0xf1, 0x00,  // Export Time 1700000000
    0x00, 0x00, 0x00, 0x07,  // Sequence Number 7
    0x00, 0x00, 0x00, 0x2a,  // Observation Domain ID 42
    // Template Set (§3.4.1)
    0x00, 0x02, 0x00, 0x2c,  // Set ID 2, Length 44
    0x01, 0x00, 0x00, 0x09,  // Template ID 256, Field Count 9
    0x00, 0x08, 0x00, 0x04,  // sourceIPv4Address, 4
    0x00, 0x0c, 0x00, 0x04,  // destinationIPv4Address, 4
    0x00, 0x07, 0x00, 0x02,  // sourceTransportPort, 2
    0x00, 0x0b, 0x00, 0x02,  // destinationTransportPort, 2
    0x00, 0x04, 0x00, 0x01,  // protocolIdentifier, 1
    0x00, 0x01, 0x00, 0x04,  // octetDeltaCount, 4 (reduced size, §6.2)
    0x00, 0x02, 0x00, 0x04,  // packetDeltaCount, 4 (reduced size)
    0x00, 0x98, 0x00, 0x08,  // flowStartMilliseconds, 8
    0x00, 0x99, 0x00, 0x08,  // flowEndMilliseconds, 8
    // Data Set (§3.3.2)
    0x01, 0x00, 0x00, 0x2c,                          // Set ID 256, Length 44
    0xc0, 0x00, 0x02, 0x01,                          // 192.0.2.1
    0xc6, 0x33, 0x64, 0x07,                          // 198.51.100.7
    0xd4, 0x31,                                      // 54321
    0x00, 0x35,                                      // 53
    0x11,                                            // UDP
    0x00, 0x00, 0x01, 0x2c,                          // 300 octets
    0x00, 0x00, 0x00, 0x02,                          // 2 packets
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,  // 1700000000000 ms
    0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x6d, 0xdc,  // 1700000001500 ms
    0x00, 0x00, 0x00,                                // padding, shorter than a record
};

/// A valid Message with Template 256 (sourceIPv4Address, destinationIPv4Address) and n
/// records; used where only the Message around it matters.
MessageBuilder simple_message(std::uint32_t domain = 1, int records = 1) {
    MessageBuilder m(domain);
    m.begin_set(2).template_record(256, {{ie::kSourceIPv4Address, 4}, {12, 4}});
    m.begin_set(256);
    for (int i = 0; i < records; ++i) {
        m.ipv4("10.0.0.1").ipv4("10.0.0.2");
    }
    m.end_set();
    return m;
}

}  // namespace

TEST_CASE("a golden Message decodes into one flow with every observable", "[ipfix][golden]") {
    Session session(Transport::kUdp, "exporter");
    DecodeCounters counters;
    CollectingSink sink;
    const std::vector<std::byte> message = hex_bytes(kGoldenMessage);

    const DecodeResult result = decode_message(message, session, counters, sink, kNow);

    REQUIRE(result.ok);
    REQUIRE(sink.flows.size() == 1);
    const FlowView& flow = sink.flows[0].view;
    CHECK(flow.src_addr.to_string() == "192.0.2.1");
    CHECK(flow.dst_addr.to_string() == "198.51.100.7");
    CHECK(flow.has_ports);
    CHECK(flow.src_port == 54321);
    CHECK(flow.dst_port == 53);
    CHECK(flow.protocol == 17);
    CHECK(flow.octets == 300);
    CHECK(flow.packets == 2);
    CHECK(flow.start_ns == 1'700'000'000'000'000'000);
    CHECK(flow.end_ns == 1'700'000'001'500'000'000);
    CHECK(flow.observation_domain == 42);
    CHECK(flow.export_time == 1'700'000'000);
    CHECK(flow.dns_count == 0);
    CHECK(sink.flows[0].record.size() == 37);
    REQUIRE(sink.flows[0].tmpl != nullptr);
    CHECK(sink.flows[0].tmpl->id == 256);
    CHECK(sink.flows[0].tmpl->min_record_length == 37);
    CHECK(sink.flows[0].tmpl->fixed_length);
    CHECK(counters.messages == 1);
    CHECK(counters.data_records == 1);
    CHECK(counters.template_records == 1);
    CHECK(test::total_drops(counters) == 0);
}

TEST_CASE("a Message Header with no Set is a valid empty Message", "[ipfix][message]") {
    Session session(Transport::kFile, "file");
    DecodeCounters counters;
    CollectingSink sink;
    const std::vector<std::byte> message = MessageBuilder().build();

    REQUIRE(message.size() == 16);
    CHECK(decode_message(message, session, counters, sink, kNow).ok);
    CHECK(counters.messages == 1);
    CHECK(test::total_drops(counters) == 0);
}

TEST_CASE("message_length frames a stream and never reports less than a header",
          "[ipfix][message]") {
    const std::vector<std::byte> message = simple_message().build();
    CHECK(message_length(message) == message.size());
    CHECK(message_length(std::span(message).first(15)) == 0);
    CHECK(message_length(MessageBuilder().message_length(3).build()) == 16);
}

TEST_CASE("bytes after the Length field are ignored", "[ipfix][message]") {
    Session session(Transport::kUdp, "exporter");
    DecodeCounters counters;
    CollectingSink sink;
    std::vector<std::byte> message = simple_message().build();
    message.resize(message.size() + 5, std::byte{0xff});

    CHECK(decode_message(message, session, counters, sink, kNow).ok);
    CHECK(sink.flows.size() == 1);
}

TEST_CASE("drop reasons have stable snake_case names", "[ipfix][message]") {
    CHECK(reason_name(DropReason::kShortMessage) == "short_message");
    CHECK(reason_name(DropReason::kBadVersion) == "bad_version");
    CHECK(reason_name(DropReason::kBadMessageLength) == "bad_message_length");
    CHECK(reason_name(DropReason::kBadSetLength) == "bad_set_length");
    CHECK(reason_name(DropReason::kBadSetId) == "bad_set_id");
    CHECK(reason_name(DropReason::kEmptySet) == "empty_set");
    CHECK(reason_name(DropReason::kBadTemplate) == "bad_template");
    CHECK(reason_name(DropReason::kMissingTemplate) == "missing_template");
    CHECK(reason_name(DropReason::kBadRecord) == "bad_record");
    CHECK(reason_name(DropReason::kBadSubTemplateList) == "bad_sub_template_list");
    CHECK(reason_name(DropReason::kTemplateRedefined) == "template_redefined");
}

// ---------------------------------------------------------------------------------------------
// One test per DropReason.

namespace {

struct Outcome {
    DecodeResult result;
    DecodeCounters counters;
    std::size_t flows = 0;
};

Outcome decode(const std::vector<std::byte>& message, Transport transport = Transport::kUdp) {
    Session session(transport, "exporter");
    Outcome out;
    CollectingSink sink;
    out.result = decode_message(message, session, out.counters, sink, kNow);
    out.flows = sink.flows.size();
    return out;
}

std::uint64_t drops(const Outcome& o, DropReason r) {
    return o.counters.drops[static_cast<std::size_t>(r)];
}

}  // namespace

TEST_CASE("fewer bytes than a Message Header or than its Length is a short Message",
          "[ipfix][malformed]") {
    const std::vector<std::byte> whole = simple_message().build();

    const Outcome header_cut = decode({whole.begin(), whole.begin() + 10});
    CHECK_FALSE(header_cut.result.ok);
    CHECK(header_cut.result.reason == DropReason::kShortMessage);
    CHECK(drops(header_cut, DropReason::kShortMessage) == 1);

    const Outcome body_cut = decode({whole.begin(), whole.end() - 1});
    CHECK_FALSE(body_cut.result.ok);
    CHECK(body_cut.result.reason == DropReason::kShortMessage);
    CHECK(body_cut.flows == 0);
    CHECK(body_cut.counters.messages == 0);
}

TEST_CASE("a NetFlow v9 header is refused as a bad version", "[ipfix][malformed]") {
    const Outcome o = decode(simple_message().version(9).build());
    CHECK_FALSE(o.result.ok);
    CHECK(o.result.reason == DropReason::kBadVersion);
    CHECK(o.result.offset == 0);
    CHECK(drops(o, DropReason::kBadVersion) == 1);
}

TEST_CASE("a Length field under 16 is a bad Message length", "[ipfix][malformed]") {
    const Outcome o = decode(simple_message().message_length(15).build());
    CHECK_FALSE(o.result.ok);
    CHECK(o.result.reason == DropReason::kBadMessageLength);
    CHECK(drops(o, DropReason::kBadMessageLength) == 1);
}

TEST_CASE("a Set longer than its Message is rejected", "[ipfix][malformed]") {
    MessageBuilder m = simple_message();
    m.begin_set(256).set_length(200).ipv4("10.0.0.3").ipv4("10.0.0.4");
    const Outcome o = decode(m.build());
    CHECK_FALSE(o.result.ok);
    CHECK(o.result.reason == DropReason::kBadSetLength);
    // The valid Sets before it yield nothing: the Message is checked before any record.
    CHECK(o.flows == 0);
    CHECK(o.counters.data_records == 0);
    CHECK(drops(o, DropReason::kBadSetLength) == 1);
}

TEST_CASE("a Set Length under 4 is rejected instead of looping", "[ipfix][malformed]") {
    MessageBuilder m;
    m.begin_set(256).set_length(0).zeros(8);
    const Outcome o = decode(m.build());
    CHECK_FALSE(o.result.ok);
    CHECK(o.result.reason == DropReason::kBadSetLength);
    CHECK(o.result.offset == 16);
}

TEST_CASE("a reserved Set ID is rejected", "[ipfix][malformed]") {
    for (const std::uint16_t id : std::initializer_list<std::uint16_t>{0, 1, 4, 255}) {
        MessageBuilder m = simple_message();
        m.begin_set(id).zeros(8);
        const Outcome o = decode(m.build());
        CHECK_FALSE(o.result.ok);
        CHECK(o.result.reason == DropReason::kBadSetId);
        CHECK(o.flows == 0);
    }
}

TEST_CASE("a Set holding no record is an empty Set", "[ipfix][malformed]") {
    // A bare Set header condemns the Message...
    MessageBuilder bare = simple_message();
    bare.begin_set(256);
    const Outcome header_only = decode(bare.build());
    CHECK_FALSE(header_only.result.ok);
    CHECK(header_only.result.reason == DropReason::kEmptySet);

    // ...a Data Set of padding only is counted and skipped.
    MessageBuilder padding = simple_message();
    padding.begin_set(256).zeros(4);
    const Outcome padded = decode(padding.build());
    CHECK(padded.result.ok);
    CHECK(padded.flows == 1);
    CHECK(drops(padded, DropReason::kEmptySet) == 1);
}

TEST_CASE("an Options Template whose scope count exceeds its field count is a bad Template",
          "[ipfix][malformed]") {
    MessageBuilder m;
    m.begin_set(3).options_template_record(300, 3, {{149, 4}, {41, 8}});
    m.options_template_record(301, 0, {{149, 4}});  // scope count 0
    m.begin_set(2).template_record(5, {{8, 4}});    // Template ID below 256
    m.template_record(302, {{8, 4}});               // still read after the bad ones
    const Outcome o = decode(m.build());
    CHECK(o.result.ok);
    CHECK(drops(o, DropReason::kBadTemplate) == 3);
    CHECK(o.counters.template_records == 1);
}

TEST_CASE("a Template record cut short by its Set is a bad Template", "[ipfix][malformed]") {
    MessageBuilder m;
    m.begin_set(2).u16(256).u16(1000).u16(8).u16(4);
    const Outcome o = decode(m.build());
    CHECK(o.result.ok);
    CHECK(drops(o, DropReason::kBadTemplate) == 1);
}

TEST_CASE("a Data Set before its Template is skipped and the Message goes on",
          "[ipfix][malformed]") {
    MessageBuilder m;
    m.begin_set(257).ipv4("10.9.9.9");  // Template 257 is never defined
    m.begin_set(2).template_record(256, {{8, 4}});
    m.begin_set(256).ipv4("10.0.0.1").ipv4("10.0.0.2");
    m.begin_set(258).ipv4("10.9.9.9");
    const Outcome o = decode(m.build());
    CHECK(o.result.ok);
    CHECK(o.flows == 2);
    CHECK(drops(o, DropReason::kMissingTemplate) == 2);
}

TEST_CASE("a variable-length value overrunning its Set is a bad record", "[ipfix][malformed]") {
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{8, 4}, {82, kVariableLength}});
    m.begin_set(256);
    m.ipv4("10.0.0.1").varlen_text("eth0");
    m.ipv4("10.0.0.2").u8(40).text("eth1");  // claims 40 bytes, has 4
    m.begin_set(256).ipv4("10.0.0.3").varlen_text("eth2");
    const Outcome o = decode(m.build());
    CHECK(o.result.ok);
    CHECK(o.flows == 2);  // the record before and the next Set
    CHECK(drops(o, DropReason::kBadRecord) == 1);
}

TEST_CASE("a subTemplateMultiList entry longer than its field drops only that record",
          "[ipfix][malformed]") {
    MessageBuilder m;
    m.begin_set(2).template_record(300, {{8, 4}});
    m.template_record(256, {{8, 4}, {ie::kSubTemplateMultiList, kVariableLength}});
    m.begin_set(256);
    ByteBuffer good_records;
    good_records.ipv4("1.1.1.1");
    ByteBuffer good;
    good.u8(3).raw(test::stml_entry(300, good_records));
    ByteBuffer bad;
    bad.u8(3).raw(test::stml_entry(300, good_records, 40));  // entry Length 40, 8 present
    m.ipv4("10.0.0.1").varlen(good);
    m.ipv4("10.0.0.2").varlen(bad);
    m.ipv4("10.0.0.3").varlen(good);
    const Outcome o = decode(m.build());
    CHECK(o.result.ok);
    CHECK(o.flows == 2);
    CHECK(drops(o, DropReason::kBadSubTemplateList) == 1);
}

TEST_CASE("a Template ID redefined over TCP without withdrawal is counted and replaced",
          "[ipfix][malformed]") {
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{8, 4}});
    m.template_record(256, {{12, 4}});
    m.begin_set(256).ipv4("10.0.0.9");
    const Outcome o = decode(m.build(), Transport::kTcp);
    CHECK(o.result.ok);
    CHECK(drops(o, DropReason::kTemplateRedefined) == 1);
    CHECK(o.flows == 1);
}

}  // namespace malfix::ipfix
