#include "engine/matcher.hpp"

#include "engine/dispatcher.hpp"
#include "intel/snapshot_builder.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

namespace malfix::engine {
namespace {

std::shared_ptr<const intel::Snapshot> snapshot_of(std::initializer_list<const char*> trails,
                                                   std::initializer_list<const char*> white = {}) {
    intel::SnapshotBuilder builder;
    const std::uint16_t feed = builder.add_feed("test");
    for (const char* trail : trails) {
        builder.add_trail(feed, trail, "evil (malware)", "(static)");
    }
    for (const char* entry : white) {
        builder.add_whitelist(entry);
    }
    return builder.build();
}

/// A flow whose "record" is just the DNS names laid end to end, which is all the matcher
/// reads of the record bytes.
struct TestFlow {
    std::vector<std::byte> bytes;
    ipfix::FlowView view;

    TestFlow(const char* src, const char* dst, std::uint16_t sport, std::uint16_t dport,
             std::vector<std::string> names = {}) {
        view.src_addr = parse(src);
        view.dst_addr = parse(dst);
        view.src_port = sport;
        view.dst_port = dport;
        view.has_ports = true;
        view.protocol = 17;
        for (const std::string& name : names) {
            ipfix::DnsQuery& q = view.dns[view.dns_count++];
            q.offset = static_cast<std::uint32_t>(bytes.size());
            q.length = static_cast<std::uint16_t>(name.size());
            for (char c : name) {
                bytes.push_back(static_cast<std::byte>(c));
            }
        }
        view.record = bytes;
    }

    static ipfix::IpAddress parse(const char* text) {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (std::sscanf(text, "%u.%u.%u.%u", &a, &b, &c, &d) == 4) {
            return ipfix::IpAddress::v4((a << 24) | (b << 16) | (c << 8) | d);
        }
        std::uint8_t v6[16] = {};
        v6[0] = 0x20;
        v6[1] = 0x01;
        v6[2] = 0x0d;
        v6[3] = 0xb8;
        v6[15] = static_cast<std::uint8_t>(std::strlen(text));
        return ipfix::IpAddress::v6(v6);
    }
};

struct Matched {
    FlowBatch batch;
    MatchCounters counters;

    Matched(std::vector<TestFlow>& flows, std::shared_ptr<const intel::Snapshot> snapshot,
            Mode mode = Mode::kAlert) {
        auto exporter = std::make_shared<const std::string>("test");
        for (TestFlow& f : flows) {
            f.view.record = f.bytes;
            REQUIRE(batch.add(f.view, exporter));
        }
        match_batch(batch, std::move(snapshot), mode, counters);
    }

    std::vector<std::string> trails(std::size_t flow) const {
        std::vector<std::string> out;
        for (const Hit& hit : batch.hits_of(batch.flows[flow])) {
            out.emplace_back(std::string(hit_type_name(hit.type)) + " " + std::string(hit.trail) +
                             " " + std::string(hit_field_name(hit.field)));
        }
        return out;
    }
};

}  // namespace

TEST_CASE("source and destination addresses both hit, on any protocol", "[engine][matcher]") {
    std::vector<TestFlow> flows{{"192.0.2.1", "198.51.100.7", 5000, 53},
                                {"198.51.100.7", "192.0.2.1", 53, 5000},
                                {"192.0.2.1", "192.0.2.2", 1, 2}};
    Matched m(flows, snapshot_of({"198.51.100.7"}));
    CHECK(m.trails(0) == std::vector<std::string>{"IP 198.51.100.7 dst_addr"});
    CHECK(m.trails(1) == std::vector<std::string>{"IP 198.51.100.7 src_addr"});
    CHECK(m.trails(2).empty());
    CHECK(m.batch.flows[0].forward);
    CHECK_FALSE(m.batch.flows[2].forward);
    CHECK(m.counters.hits_ip.load() == 2);
    CHECK(m.counters.flows_with_hits.load() == 2);
}

TEST_CASE("an address:port trail hits only on its port, and a CIDR trail covers its range",
          "[engine][matcher]") {
    std::vector<TestFlow> flows{{"192.0.2.1", "203.0.113.9", 40000, 8443},
                                {"192.0.2.1", "203.0.113.9", 40000, 443},
                                {"192.0.2.1", "198.18.7.200", 40000, 443}};
    Matched m(flows, snapshot_of({"203.0.113.9:8443", "198.18.0.0/15"}));
    CHECK(m.trails(0) == std::vector<std::string>{"IPORT 203.0.113.9:8443 dst_addr_port"});
    CHECK(m.trails(1).empty());
    CHECK(m.trails(2) == std::vector<std::string>{"IP 198.18.0.0/15 dst_addr"});
}

TEST_CASE("a DNS name hits its parent trail and is reported the Maltrail way",
          "[engine][matcher][dns]") {
    std::vector<TestFlow> flows{
        {"192.0.2.1", "192.0.2.53", 5000, 53, {"WWW.A.B.Evil.COM."}},
        {"192.0.2.1", "192.0.2.53", 5001, 53, {"evil.com."}},
        {"192.0.2.1", "192.0.2.53", 5002, 53, {"notevil.com."}},
    };
    Matched m(flows, snapshot_of({"evil.com"}));
    CHECK(m.trails(0) == std::vector<std::string>{"DNS (a.b).evil.com dns_qname"});
    CHECK(m.trails(1) == std::vector<std::string>{"DNS evil.com dns_qname"});
    CHECK(m.trails(2).empty());
}

TEST_CASE("a flow with several hits keeps every one of them", "[engine][matcher]") {
    std::vector<TestFlow> flows{
        {"198.51.100.7", "203.0.113.9", 40000, 8443, {"c2.evil.com", "other.bad.org"}}};
    Matched m(flows, snapshot_of({"198.51.100.7", "203.0.113.9", "203.0.113.9:8443", "evil.com",
                                  "bad.org"}));
    CHECK(m.trails(0) == std::vector<std::string>{
                             "IP 198.51.100.7 src_addr", "IPORT 203.0.113.9:8443 dst_addr_port",
                             "IP 203.0.113.9 dst_addr", "DNS (c2).evil.com dns_qname",
                             "DNS (other).bad.org dns_qname"});
    CHECK(m.batch.hits_of(m.batch.flows[0])[3].dns_index == 0);
    CHECK(m.batch.hits_of(m.batch.flows[0])[4].dns_index == 1);
}

TEST_CASE("whitelisted names never hit, even under a trail", "[engine][matcher][whitelist]") {
    std::vector<TestFlow> flows{{"192.0.2.1", "192.0.2.53", 5000, 53, {"cdn.good.evil.com"}},
                                {"192.0.2.1", "192.0.2.53", 5000, 53, {"x.evil.com"}}};
    Matched m(flows, snapshot_of({"evil.com"}, {"good.evil.com"}));
    CHECK(m.trails(0).empty());
    CHECK(m.trails(1) == std::vector<std::string>{"DNS (x).evil.com dns_qname"});
}

TEST_CASE("pipeline mode forwards every flow, alert mode only those with hits",
          "[engine][matcher]") {
    std::vector<TestFlow> flows{{"192.0.2.1", "198.51.100.7", 1, 2},
                                {"192.0.2.1", "192.0.2.2", 1, 2}};
    Matched pipeline(flows, snapshot_of({"198.51.100.7"}), Mode::kPipeline);
    CHECK(pipeline.batch.flows[0].forward);
    CHECK(pipeline.batch.flows[1].forward);
    Matched alert(flows, snapshot_of({"198.51.100.7"}), Mode::kAlert);
    CHECK(alert.batch.flows[0].forward);
    CHECK_FALSE(alert.batch.flows[1].forward);
}

TEST_CASE("both directions of a conversation go to the same matcher", "[engine][dispatch]") {
    for (std::uint32_t i = 0; i < 1000; ++i) {
        ipfix::FlowView a;
        a.src_addr = ipfix::IpAddress::v4(0x0A000000 + i * 7919);
        a.dst_addr = ipfix::IpAddress::v4(0xC0A80000 + i);
        ipfix::FlowView b = a;
        std::swap(b.src_addr, b.dst_addr);
        REQUIRE(matcher_for(a, 7) == matcher_for(b, 7));
    }
}

TEST_CASE("flows spread over all matchers", "[engine][dispatch]") {
    std::vector<int> seen(4, 0);
    for (std::uint32_t i = 0; i < 4000; ++i) {
        ipfix::FlowView f;
        f.src_addr = ipfix::IpAddress::v4(0x0A000001);
        f.dst_addr = ipfix::IpAddress::v4(0xC0A80000 + i);
        ++seen[matcher_for(f, 4)];
    }
    for (int n : seen) {
        CHECK(n > 700);
    }
}

}  // namespace malfix::engine
