// Real captures from tests/data/ipfix (see SOURCE.md there): record counts as verified with
// tshark and ipfixDump, DNS names as ipfixDump --yaf prints them, and counted drops for the
// malformed files.

#include "ipfix/decoder.hpp"
#include "tests/ipfix/decoder_support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace malfix::ipfix {
namespace {

using test::CollectingSink;
using test::decode_file;

std::uint64_t drops(const DecodeCounters& c, DropReason r) {
    return c.drops[static_cast<std::size_t>(r)];
}

struct FileRun {
    Session session{Transport::kFile, "file"};
    DecodeCounters counters;
    CollectingSink sink;
    test::FileResult result;

    explicit FileRun(std::initializer_list<const char*> files) {
        for (const char* file : files) {
            const test::FileResult r =
                decode_file(std::string("ipfix/") + file, session, counters, sink);
            result.messages += r.messages;
            result.refused += r.refused;
        }
    }
};

}  // namespace

TEST_CASE("ipfixcol2's example flows decode to 3979 records", "[ipfix][capture]") {
    FileRun run({"example_flows.ipfix"});
    CHECK(run.result.messages == 68);
    CHECK(run.result.refused == 0);
    CHECK(run.counters.data_records == 3979);
    CHECK(run.counters.options_records == 0);
    CHECK(run.counters.template_records == 8);
    CHECK(test::total_drops(run.counters) == 0);
    // The header-only second Message restarts the Sequence Number at 0 (SOURCES.md).
    CHECK(run.counters.sequence_gaps == 1);

    std::size_t v6 = 0;
    for (const test::CapturedFlow& flow : run.sink.flows) {
        CHECK(flow.view.observation_domain == 6);
        CHECK_FALSE(flow.view.src_addr.empty());
        v6 += flow.view.src_addr.is_v6() ? 1 : 0;
    }
    CHECK(v6 > 0);
}

TEST_CASE("yaf DNS DPI output yields its flows and their query names", "[ipfix][capture][dns]") {
    FileRun run({"yaf_dns_dpi.yaf"});
    CHECK(run.result.refused == 0);
    CHECK(run.counters.data_records + run.counters.options_records == 10);
    CHECK(run.counters.options_records == 2);
    CHECK(test::total_drops(run.counters) == 0);
    REQUIRE(run.sink.flows.size() == 8);

    std::vector<std::vector<std::string>> names;
    for (const test::CapturedFlow& flow : run.sink.flows) {
        names.push_back(flow.dns_names);
        CHECK(flow.view.protocol == 17);
        CHECK(flow.view.dst_port == 53);
        CHECK(flow.view.src_addr.to_string() == "192.168.0.30");
        CHECK_FALSE(flow.view.dns_truncated);
    }
    using Names = std::vector<std::string>;
    CHECK(names[0] == Names{"kernel.org."});
    CHECK(names[1] == Names{"230.144.113.195.in-addr.arpa."});
    CHECK(names[2] == Names{"google.com."});
    CHECK(names[3] == Names{"google.com."});
    CHECK(names[4].empty());  // the query name is empty in that record
    CHECK(names[5] == Names{"google.com."});
    CHECK(names[6] == Names{"youtube.com."});
    CHECK(names[7] == Names{"4.4.8.8.in-addr.arpa."});

    // First flow: 8.8.4.4:53 from port 45418; 2016-04-07 17:11:32.478 UTC start per ipfixDump,
    // whose microsecond field print drops the fraction.
    const FlowView& first = run.sink.flows[0].view;
    CHECK(first.dst_addr.to_string() == "8.8.4.4");
    CHECK(first.src_port == 45418);
    CHECK(first.octets == 67);
    CHECK(first.packets == 1);
    CHECK(first.start_ns / 1'000'000 == 1'460'049'092'478);
    CHECK(first.end_ns / 1'000'000 == 1'460'049'092'512);
    // The DNS entry, the resource record list and the rdata templates it names.
    CHECK(run.sink.flows[0].nested.size() >= 3);
}

TEST_CASE("yaf mixed IPv4 and IPv6 DPI output decodes fully", "[ipfix][capture][dns]") {
    FileRun run({"yaf_mixed_v4v6_dpi.yaf"});
    CHECK(run.result.refused == 0);
    CHECK(run.counters.data_records == 41);
    CHECK(run.counters.options_records == 2);
    CHECK(test::total_drops(run.counters) == 0);

    std::set<std::string> names;
    std::size_t v6 = 0;
    for (const test::CapturedFlow& flow : run.sink.flows) {
        names.insert(flow.dns_names.begin(), flow.dns_names.end());
        v6 += flow.view.src_addr.is_v6() ? 1 : 0;
    }
    CHECK(names == std::set<std::string>{"ns1.internal.example.org.", "26.5.5.10.in-addr.arpa.",
                                         "kernel.org."});
    CHECK(v6 == 10);
}

TEST_CASE("yaf templates from logstash's captures decode their data", "[ipfix][capture]") {
    FileRun run({"ipfix_test_yaf_tpls_option_tpl.dat", "ipfix_test_yaf_tpl45841.dat",
                 "ipfix_test_yaf_data45841.dat", "ipfix_test_yaf_data45873.dat",
                 "ipfix_test_yaf_data53248.dat"});
    CHECK(run.result.refused == 0);
    CHECK(run.counters.data_records == 2);
    CHECK(run.counters.options_records == 1);
    CHECK(test::total_drops(run.counters) == 0);
}

TEST_CASE("NetScaler variable-length records decode and a set without template is counted",
          "[ipfix][capture]") {
    FileRun run({"ipfix_test_netscaler_tpl.dat", "ipfix_test_netscaler_data.dat"});
    CHECK(run.result.refused == 0);
    CHECK(run.counters.data_records == 3);
    CHECK(drops(run.counters, DropReason::kMissingTemplate) == 1);
}

TEST_CASE("two Observation Domains in one file keep their own templates", "[ipfix][capture]") {
    FileRun run({"04-odid256,512.ipfix"});
    CHECK(run.result.refused == 0);
    CHECK(run.counters.data_records == 22);
    CHECK(test::total_drops(run.counters) == 0);
    std::set<std::uint32_t> domains;
    for (const test::CapturedFlow& flow : run.sink.flows) {
        domains.insert(flow.view.observation_domain);
    }
    CHECK(domains == std::set<std::uint32_t>{256, 512});
}

TEST_CASE("a Message of a header and zeros is refused for its Set length",
          "[ipfix][capture][malformed]") {
    FileRun run({"header-and-zeros.ipfix"});
    CHECK(run.result.refused == 1);
    CHECK(drops(run.counters, DropReason::kBadSetLength) == 1);
    CHECK(run.sink.flows.empty());
}

TEST_CASE("Messages whose Length exceeds the file are refused", "[ipfix][capture][malformed]") {
    FileRun run({"bad-length-in-set.ipfix", "bad-length-in-set-very-long.ipfix"});
    CHECK(run.result.refused == 2);
    CHECK(drops(run.counters, DropReason::kShortMessage) == 2);
    CHECK(run.sink.flows.empty());
}

TEST_CASE("a Template with an impossible field count is dropped, its data sets counted",
          "[ipfix][capture][malformed]") {
    FileRun run({"bad-template-field-count.ipfix"});
    CHECK(run.result.refused == 0);
    CHECK(drops(run.counters, DropReason::kBadTemplate) == 1);
    CHECK(drops(run.counters, DropReason::kMissingTemplate) == 3);
    CHECK(run.sink.flows.empty());
}

TEST_CASE("a missing Template skips only its Data Set", "[ipfix][capture][malformed]") {
    FileRun run({"missing-template-258.ipfix"});
    CHECK(run.result.refused == 0);
    CHECK(run.counters.data_records == 4);
    CHECK(drops(run.counters, DropReason::kMissingTemplate) == 1);
}

TEST_CASE("data with no templates at all is counted per Set", "[ipfix][capture][malformed]") {
    FileRun run({"only-data-no-templates.ipfix"});
    CHECK(run.result.refused == 0);
    CHECK(run.counters.data_records == 0);
    CHECK(drops(run.counters, DropReason::kMissingTemplate) == 3);
}

TEST_CASE("a withdrawal of a never defined template is ignored", "[ipfix][capture]") {
    FileRun run({"withdrawal-message-256.ipfix"});
    CHECK(run.result.refused == 0);
    CHECK(run.counters.withdrawals == 1);
    CHECK(run.counters.unknown_withdrawals == 1);
    CHECK(test::total_drops(run.counters) == 0);
}

TEST_CASE("an Options Template with more scope fields than fields is refused",
          "[ipfix][capture][malformed]") {
    FileRun run({"enterprise-from-nfv9.ipfix"});
    CHECK(run.result.refused == 0);
    CHECK(run.counters.data_records + run.counters.options_records == 57);
    CHECK(drops(run.counters, DropReason::kBadTemplate) == 1);
    CHECK(drops(run.counters, DropReason::kMissingTemplate) == 1);
}

}  // namespace malfix::ipfix
