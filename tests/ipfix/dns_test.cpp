// DNS names: MalFIX's flat dnsName and yaf's DNS deep packet inspection in RFC 6313 lists.

#include "ipfix/decoder.hpp"
#include "ipfix/elements.hpp"
#include "tests/ipfix/decoder_support.hpp"
#include "tests/ipfix/message_builder.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace malfix::ipfix {
namespace {

using test::ByteBuffer;
using test::CollectingSink;
using test::MessageBuilder;

constexpr std::int64_t kNow = 1'700'000'000;

/// Template IDs of a yaf-like layout; tests also shuffle them to show they are not relied on.
struct DpiIds {
    std::uint16_t flow = 0xB010;
    std::uint16_t dns_entry = 0xCE00;
    std::uint16_t dns_rr = 0xCF00;
    std::uint16_t rdata_a = 0xCE01;
};

void define_dpi_templates(MessageBuilder& m, const DpiIds& ids) {
    m.begin_set(2);
    m.template_record(ids.rdata_a, {{ie::kSourceIPv4Address, 4}});
    // The DNS resource record as yaf 2.x lays it out (REFERENCE.md §2).
    m.template_record(ids.dns_rr, {{ie::kSubTemplateList, kVariableLength},
                                   {cert_ie::kDnsQName, kVariableLength, pen::kCert},
                                   {199, 4, pen::kCert},  // dnsTTL
                                   {cert_ie::kDnsQRType, 2, pen::kCert},
                                   {174, 1, pen::kCert},  // dnsQueryResponse
                                   {176, 1, pen::kCert},  // dnsAuthoritative
                                   {177, 1, pen::kCert},  // dnsNXDomain
                                   {cert_ie::kDnsRRSection, 1, pen::kCert},
                                   {226, 2, pen::kCert},  // dnsID
                                   {210, 4}});            // paddingOctets
    m.template_record(ids.dns_entry, {{ie::kSubTemplateList, kVariableLength}});
    m.template_record(ids.flow, {{ie::kSourceIPv4Address, 4},
                                 {ie::kDestinationIPv4Address, 4},
                                 {ie::kSourceTransportPort, 2},
                                 {ie::kDestinationTransportPort, 2},
                                 {ie::kProtocolIdentifier, 1},
                                 {ie::kSubTemplateMultiList, kVariableLength}});
}

struct ResourceRecord {
    std::string name;
    std::uint16_t qtype = 1;
    std::uint8_t section = 0;
    std::optional<const char*> address;
};

ByteBuffer dns_rr(const DpiIds& ids, const ResourceRecord& rr) {
    ByteBuffer rdata;
    if (rr.address) {
        rdata.ipv4(*rr.address);
    }
    ByteBuffer record;
    record.varlen(test::sub_template_list(ids.rdata_a, rdata))
        .varlen_text(rr.name)
        .u32(300)
        .u16(rr.qtype)
        .u8(rr.section == 0 ? 0 : 1)
        .u8(0)
        .u8(0)
        .u8(rr.section)
        .u16(0x1234)
        .zeros(4);
    return record;
}

/// A flow record whose subTemplateMultiList holds one DNS entry with the given records.
ByteBuffer dpi_flow(const DpiIds& ids, const std::vector<ResourceRecord>& rrs) {
    ByteBuffer records;
    for (const ResourceRecord& rr : rrs) {
        records.raw(dns_rr(ids, rr));
    }
    ByteBuffer entry_record;
    entry_record.varlen(test::sub_template_list(ids.dns_rr, records));
    ByteBuffer stml;
    stml.u8(0xff).raw(test::stml_entry(ids.dns_entry, entry_record));

    ByteBuffer flow;
    flow.ipv4("192.168.0.30").ipv4("8.8.8.8").u16(55843).u16(53).u8(17).varlen(stml);
    return flow;
}

struct Decoded {
    DecodeResult result;
    DecodeCounters counters;
    std::vector<test::CapturedFlow> flows;
};

Decoded decode(const std::vector<std::byte>& message) {
    Session session(Transport::kUdp, "exporter");
    Decoded out;
    CollectingSink sink;
    out.result = decode_message(message, session, out.counters, sink, kNow);
    out.flows = std::move(sink.flows);
    return out;
}

std::uint64_t drops(const Decoded& d, DropReason r) {
    return d.counters.drops[static_cast<std::size_t>(r)];
}

}  // namespace

TEST_CASE("yaf DNS question and answer names come out once each with their type",
          "[ipfix][dns][yaf]") {
    const DpiIds ids;
    MessageBuilder m;
    define_dpi_templates(m, ids);
    m.begin_set(ids.flow).data(dpi_flow(ids, {
                                                 {"kernel.org.", 1, 0, {}},
                                                 {"kernel.org.", 1, 1, "199.204.44.194"},
                                                 {"kernel.org.", 1, 1, "198.145.20.140"},
                                                 {"ns.example.", 2, 2, {}},  // authority
                                                 {"cdn.kernel.org.", 1, 1, "149.20.4.69"},
                                                 {"", 46, 1, {}},  // empty name: skipped
                                             }));
    const Decoded d = decode(m.build());
    REQUIRE(d.result.ok);
    REQUIRE(d.flows.size() == 1);
    const test::CapturedFlow& flow = d.flows[0];
    CHECK(flow.dns_names == std::vector<std::string>{"kernel.org.", "cdn.kernel.org."});
    CHECK(flow.dns_qtypes == std::vector<std::uint16_t>{1, 1});
    CHECK_FALSE(flow.view.dns_truncated);
    CHECK(flow.view.dst_port == 53);
    // Offsets are relative to the record, so the names survive copying it.
    const std::string copied(reinterpret_cast<const char*>(flow.record.data()) + flow.dns[0].offset,
                             flow.dns[0].length);
    CHECK(copied == "kernel.org.");
    // Every template the lists reference, at every depth, for an encoder to export first.
    REQUIRE(flow.nested.size() == 3);
    CHECK(flow.nested[0]->id == ids.dns_entry);
    CHECK(flow.nested[1]->id == ids.dns_rr);
    CHECK(flow.nested[2]->id == ids.rdata_a);
    CHECK(test::total_drops(d.counters) == 0);
}

TEST_CASE("DNS data is found by element numbers whatever the template IDs", "[ipfix][dns][yaf]") {
    const DpiIds ids{300, 301, 302, 303};
    MessageBuilder m;
    define_dpi_templates(m, ids);
    m.begin_set(ids.flow).data(dpi_flow(ids, {{"evil.example.", 28, 0, {}}}));
    const Decoded d = decode(m.build());
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].dns_names == std::vector<std::string>{"evil.example."});
    CHECK(d.flows[0].dns_qtypes == std::vector<std::uint16_t>{28});
}

TEST_CASE("more distinct names than a flow holds set dns_truncated", "[ipfix][dns]") {
    const DpiIds ids;
    std::vector<ResourceRecord> rrs;
    rrs.reserve(12);
    for (int i = 0; i < 12; ++i) {
        rrs.push_back({"host" + std::to_string(i) + ".example.", 1, 1, {}});
    }
    MessageBuilder m;
    define_dpi_templates(m, ids);
    m.begin_set(ids.flow).data(dpi_flow(ids, rrs));
    const Decoded d = decode(m.build());
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].view.dns_count == FlowView::kMaxDnsQueries);
    CHECK(d.flows[0].view.dns_truncated);
    CHECK(d.flows[0].dns_names.front() == "host0.example.");
    CHECK(d.flows[0].dns_names.back() == "host7.example.");
}

TEST_CASE("the MalFIX flat dnsName carries A or AAAA by dnsType", "[ipfix][dns][malfix]") {
    MessageBuilder m;
    m.begin_set(2).template_record(256, {{ie::kSourceIPv4Address, 4},
                                         {malfix_ie::kDnsName, kVariableLength, pen::kMalfix},
                                         {malfix_ie::kDnsType, 1, pen::kMalfix}});
    m.begin_set(256);
    m.ipv4("10.0.0.1").varlen_text("a.example.com").u8(4);
    m.ipv4("10.0.0.2").varlen_text("aaaa.example.com").u8(6);
    m.ipv4("10.0.0.3").varlen_text("").u8(4);
    const Decoded d = decode(m.build());
    REQUIRE(d.flows.size() == 3);
    CHECK(d.flows[0].dns_names == std::vector<std::string>{"a.example.com"});
    CHECK(d.flows[0].dns_qtypes == std::vector<std::uint16_t>{1});
    CHECK(d.flows[1].dns_names == std::vector<std::string>{"aaaa.example.com"});
    CHECK(d.flows[1].dns_qtypes == std::vector<std::uint16_t>{28});
    CHECK(d.flows[2].dns_names.empty());
}

TEST_CASE("a list naming an unknown template is skipped without loss", "[ipfix][dns][rfc6313]") {
    const DpiIds ids;
    MessageBuilder m;
    define_dpi_templates(m, ids);
    ByteBuffer stml;
    stml.u8(0xff).raw(test::stml_entry(0xDEAD, ByteBuffer().u32(0xffffffff)));
    m.begin_set(ids.flow).ipv4("10.0.0.1").ipv4("10.0.0.2").u16(1).u16(2).u8(6).varlen(stml);
    const Decoded d = decode(m.build());
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].nested.empty());
    CHECK(test::total_drops(d.counters) == 0);
}

TEST_CASE("a subTemplateList shorter than its header drops the record",
          "[ipfix][dns][rfc6313][malformed]") {
    MessageBuilder m;
    m.begin_set(2).template_record(
        256, {{ie::kSourceIPv4Address, 4}, {ie::kSubTemplateList, kVariableLength}});
    m.begin_set(256);
    m.ipv4("10.0.0.1").varlen(ByteBuffer().u8(3).u8(1));  // semantic and half a Template ID
    m.ipv4("10.0.0.2").varlen(ByteBuffer());              // no list at all: accepted
    const Decoded d = decode(m.build());
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].view.src_addr.to_string() == "10.0.0.2");
    CHECK(drops(d, DropReason::kBadSubTemplateList) == 1);
}

TEST_CASE("a nested record overrunning its list drops the record",
          "[ipfix][dns][rfc6313][malformed]") {
    const DpiIds ids;
    MessageBuilder m;
    define_dpi_templates(m, ids);
    // A DNS RR list cut in the middle of a record.
    ByteBuffer rr = dns_rr(ids, {"cut.example.", 1, 0, {}});
    ByteBuffer half;
    half.raw(std::span<const std::byte>(rr.bytes()).first(rr.size() - 3));
    ByteBuffer entry_record;
    entry_record.varlen(test::sub_template_list(ids.dns_rr, half));
    ByteBuffer stml;
    stml.u8(0xff).raw(test::stml_entry(ids.dns_entry, entry_record));
    m.begin_set(ids.flow).ipv4("10.0.0.1").ipv4("10.0.0.2").u16(1).u16(2).u8(17).varlen(stml);
    m.data(dpi_flow(ids, {{"fine.example.", 1, 0, {}}}));
    const Decoded d = decode(m.build());
    REQUIRE(d.flows.size() == 1);
    CHECK(d.flows[0].dns_names == std::vector<std::string>{"fine.example."});
    CHECK(drops(d, DropReason::kBadSubTemplateList) == 1);
}

TEST_CASE("lists nested deeper than the limit are carried but not walked",
          "[ipfix][dns][rfc6313]") {
    // Template 400 holds a name and a list of itself: a name at each depth.
    MessageBuilder m;
    m.begin_set(2).template_record(400, {{cert_ie::kDnsQName, kVariableLength, pen::kCert},
                                         {ie::kSubTemplateList, kVariableLength}});
    m.template_record(256, {{ie::kSourceIPv4Address, 4}, {ie::kSubTemplateList, kVariableLength}});
    ByteBuffer inner;
    inner.varlen_text("depth7.").varlen(ByteBuffer());
    for (int depth = 6; depth >= 1; --depth) {
        ByteBuffer outer;
        outer.varlen_text("depth" + std::to_string(depth) + ".")
            .varlen(test::sub_template_list(400, inner));
        inner = outer;
    }
    m.begin_set(256).ipv4("10.0.0.1").varlen(test::sub_template_list(400, inner));
    const Decoded d = decode(m.build());
    REQUIRE(d.flows.size() == 1);
    // A record's own name is noted after its lists, so the deepest comes first.
    CHECK(d.flows[0].dns_names ==
          std::vector<std::string>{"depth4.", "depth3.", "depth2.", "depth1."});
    CHECK(d.flows[0].nested.size() == 1);
}

}  // namespace malfix::ipfix
