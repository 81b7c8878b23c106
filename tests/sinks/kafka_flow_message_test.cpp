// The Kafka protobuf form: malfix's hand-written FlowMessage encoder against the classes protoc
// generated from sinks/proto/malfix.proto, and the raw wire bytes against GoFlow2's numbering
// (REFERENCE §4).

#include "sinks/kafka_flow_message.hpp"

#include "sinks/kafka_url.hpp"
#include "tests/sinks/sinks_test_util.hpp"

#include "malfix/proto/malfix.pb.h"
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

namespace malfix::sinks {
namespace {

using test::add_flow;
using test::basic_fields;
using test::basic_record;
using test::basic_view;
using test::BasicFlow;
using test::ip_hit;
using test::make_template;

std::uint64_t read_varint(const std::string& s, std::size_t& at) {
    std::uint64_t v = 0;
    for (int shift = 0; at < s.size(); shift += 7) {
        const auto b = static_cast<std::uint8_t>(s[at++]);
        v |= std::uint64_t{b & 0x7FU} << shift;
        if ((b & 0x80U) == 0) {
            return v;
        }
    }
    FAIL("truncated varint");
    return 0;
}

/// (field number, wire type) of every field on the wire, in order.
std::vector<std::pair<std::uint32_t, std::uint32_t>> wire_fields(const std::string& m) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
    std::size_t at = 0;
    while (at < m.size()) {
        const std::uint64_t tag = read_varint(m, at);
        const auto wire = static_cast<std::uint32_t>(tag & 7);
        out.emplace_back(static_cast<std::uint32_t>(tag >> 3), wire);
        if (wire == 0) {
            read_varint(m, at);
        } else if (wire == 2) {
            at += read_varint(m, at);
        } else {
            FAIL("unexpected wire type " << wire);
        }
    }
    return out;
}

struct Fixture {
    std::shared_ptr<const ipfix::Template> tmpl = make_template(256, basic_fields());
    BasicFlow flow;
    std::vector<std::byte> record = basic_record(flow);
    engine::FlowBatch batch;

    std::string encode(bool prefix) {
        FlowMessageEncoder encoder;
        std::string out;
        encoder.append(out, batch, batch.flows.front(), 1'700'000'000'123'456'789ULL, prefix);
        return out;
    }
};

TEST_CASE("a flow with two hits parses with the generated FlowMessage class",
          "[sinks][kafka][protobuf]") {
    Fixture f;
    add_flow(f.batch, basic_view(f.record, f.tmpl, f.flow, 7),
             {ip_hit("198.51.100.2", "zeus (malware)"),
              ip_hit("192.0.2.0/24", "mass scanner", "(custom)", engine::HitField::kSrcAddr)});
    const std::string bytes = f.encode(false);

    flowpb::FlowMessage m;
    REQUIRE(m.ParseFromString(bytes));
    CHECK(m.type() == flowpb::FlowMessage::IPFIX);
    CHECK(m.src_addr() == std::string("\xC0\x00\x02\x01", 4));
    CHECK(m.dst_addr() == std::string("\xC6\x33\x64\x02", 4));
    CHECK(m.src_port() == 49152);
    CHECK(m.dst_port() == 443);
    CHECK(m.proto() == 6);
    CHECK(m.bytes() == 1500);
    CHECK(m.packets() == 3);
    CHECK(m.etype() == 0x0800);
    CHECK(m.observation_domain_id() == 7);
    CHECK(m.sampler_address() == std::string("\xC0\x00\x02\x09", 4));  // tcp:192.0.2.9:4739
    CHECK(m.time_received_ns() == 1'700'000'000'123'456'789ULL);
    CHECK(m.time_flow_start_ns() == 1460049092478ULL * 1'000'000);
    CHECK(m.time_flow_end_ns() == 1460049093000ULL * 1'000'000);
    REQUIRE(m.malfix_type_size() == 2);
    CHECK(m.malfix_type(0) == "IP");
    CHECK(m.malfix_trail(0) == "198.51.100.2");
    CHECK(m.malfix_trail(1) == "192.0.2.0/24");
    CHECK(m.malfix_info(0) == "zeus (malware)");
    CHECK(m.malfix_reference(1) == "(custom)");
    CHECK(m.malfix_field(0) == "dst_addr");
    CHECK(m.malfix_field(1) == "src_addr");
    REQUIRE(m.malfix_severity_size() == 2);
    CHECK(m.malfix_severity(0) == flowpb::FlowMessage::SEVERITY_HIGH);
    CHECK(m.malfix_severity(1) == flowpb::FlowMessage::SEVERITY_MEDIUM);
    CHECK(m.dns_qnames_size() == 0);

    // Same bytes as protobuf's own serialiser (both write fields in number order).
    CHECK(m.SerializeAsString() == bytes);
}

TEST_CASE("field numbers and wire types on the wire are GoFlow2's", "[sinks][kafka][protobuf]") {
    Fixture f;
    add_flow(f.batch, basic_view(f.record, f.tmpl, f.flow, 7),
             {ip_hit("198.51.100.2", "long domain (suspicious)")});
    const auto fields = wire_fields(f.encode(false));
    // GoFlow2 flow.proto: 1 type, 6 src_addr, 7 dst_addr, 9 bytes, 10 packets, 11
    // sampler_address, 20 proto, 21 src_port, 22 dst_port, 30 etype, 70 observation_domain_id,
    // 110 time_received_ns, 111 time_flow_start_ns, 112 time_flow_end_ns; malfix from 1000.
    const std::vector<std::pair<std::uint32_t, std::uint32_t>> expected = {
        {1, 0},    {6, 2},    {7, 2},    {9, 0},    {10, 0},   {11, 2},   {20, 0},
        {21, 0},   {22, 0},   {30, 0},   {70, 0},   {110, 0},  {111, 0},  {112, 0},
        {1000, 2}, {1001, 2}, {1002, 2}, {1003, 2}, {1004, 2}, {1005, 2},
    };
    CHECK(fields == expected);
}

TEST_CASE("length-delimited framing is a varint length, then the message",
          "[sinks][kafka][protobuf]") {
    Fixture f;
    add_flow(f.batch, basic_view(f.record, f.tmpl, f.flow), {});
    const std::string bare = f.encode(false);
    const std::string framed = f.encode(true);
    std::size_t at = 0;
    CHECK(read_varint(framed, at) == bare.size());
    CHECK(framed.substr(at) == bare);
    flowpb::FlowMessage m;
    REQUIRE(m.ParseFromString(bare));
    CHECK(m.malfix_type_size() == 0);
    CHECK(m.malfix_severity_size() == 0);
}

TEST_CASE("a file input has no sampler address and IPv6 gets its etype",
          "[sinks][kafka][protobuf]") {
    Fixture f;
    ipfix::FlowView view = basic_view(f.record, f.tmpl, f.flow);
    const std::uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    view.src_addr = ipfix::IpAddress::v6(v6);
    view.dst_addr = ipfix::IpAddress::v6(v6);
    add_flow(f.batch, view, {}, true, std::make_shared<const std::string>("file:x.ipfix"));
    flowpb::FlowMessage m;
    REQUIRE(m.ParseFromString(f.encode(false)));
    CHECK(m.etype() == 0x86DD);
    CHECK(m.src_addr().size() == 16);
    CHECK(m.sampler_address().empty());
}

TEST_CASE("severity comes from the end of the info text", "[sinks][kafka]") {
    CHECK(severity_of("zeus (malware)") == Severity::kHigh);
    CHECK(severity_of("known attacker (malicious)") == Severity::kMedium);
    CHECK(severity_of("mass scanner") == Severity::kMedium);
    CHECK(severity_of("mass scanner (shodan)") == Severity::kMedium);
    CHECK(severity_of("long domain (suspicious)") == Severity::kLow);
    CHECK(severity_of("my list") == Severity::kUnknown);
}

TEST_CASE("flow_hash keys both directions alike; src_addr keys the address bytes",
          "[sinks][kafka]") {
    Fixture f;
    ipfix::FlowView a = basic_view(f.record, f.tmpl, f.flow);
    ipfix::FlowView b = a;
    std::swap(b.src_addr, b.dst_addr);
    std::swap(b.src_port, b.dst_port);
    std::byte ka[16];
    std::byte kb[16];
    REQUIRE(kafka_key(KafkaKey::kFlowHash, a, ka) == 8);
    REQUIRE(kafka_key(KafkaKey::kFlowHash, b, kb) == 8);
    CHECK(std::equal(ka, ka + 8, kb));
    b.src_port = 1;
    kafka_key(KafkaKey::kFlowHash, b, kb);
    CHECK(!std::equal(ka, ka + 8, kb));
    REQUIRE(kafka_key(KafkaKey::kSrcAddr, a, ka) == 4);
    CHECK(ka[0] == std::byte{0xC0});
    CHECK(kafka_key(KafkaKey::kNone, a, ka) == 0);
}

TEST_CASE("kafka:// URLs: brokers, topic, options and X. properties", "[sinks][kafka]") {
    const KafkaUrl url = parse_kafka_url(
        "kafka://a:9092,b:9093/"
        "flow-messages?format=json&X.compression.type=lz4&X.sasl.password=p%26q",
        {"format"});
    CHECK(url.brokers == "a:9092,b:9093");
    CHECK(url.topic == "flow-messages");
    CHECK(url.param("format", "protobuf") == "json");
    CHECK(url.param("key", "none") == "none");
    REQUIRE(url.properties.size() == 2);
    CHECK(url.properties[0] == std::pair<std::string, std::string>{"compression.type", "lz4"});
    CHECK(url.properties[1].second == "p&q");

    CHECK_THROWS_AS(parse_kafka_url("kafka://a:9092", {}), std::invalid_argument);
    CHECK_THROWS_AS(parse_kafka_url("kafka:///t", {}), std::invalid_argument);
    CHECK_THROWS_AS(parse_kafka_url("kafka://a/bad topic", {}), std::invalid_argument);
    CHECK_THROWS_AS(parse_kafka_url("kafka://a/t?nope=1", {"format"}), std::invalid_argument);
    CHECK_THROWS_AS(parse_kafka_property("novalue"), std::invalid_argument);
    CHECK(parse_kafka_property("a.b=c=d").second == "c=d");
}

}  // namespace
}  // namespace malfix::sinks
