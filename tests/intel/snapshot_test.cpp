#include "intel/snapshot.hpp"

#include "intel/snapshot_builder.hpp"
#include "intel/trail_parser.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <utility>
#include <vector>

using namespace malfix::intel;

namespace {

std::uint32_t v4(std::string_view text) {
    return parse_ipv4(text).value();
}
std::array<std::uint8_t, 16> v6(std::string_view text) {
    return parse_ipv6(text).value();
}

std::shared_ptr<const Snapshot> make(const std::vector<std::pair<std::string, std::string>>& trails,
                                     const std::vector<std::string>& whitelist = {}) {
    SnapshotBuilder builder;
    const std::uint16_t feed = builder.add_feed("test");
    for (const auto& [trail, info] : trails) {
        builder.add_trail(feed, trail, info, "(static)");
    }
    for (const std::string& entry : whitelist) {
        builder.add_whitelist(entry);
    }
    return builder.build();
}

std::string info_of(const Indicator* indicator) {
    return indicator == nullptr ? std::string("-") : std::string(indicator->info);
}

}  // namespace

TEST_CASE("an exact IPv4 trail matches only its address", "[intel][ipv4]") {
    const auto snap = make({{"62.204.41.166", "zeus (malware)"}});
    const Indicator* hit = snap->find_ipv4(v4("62.204.41.166"));
    REQUIRE(hit != nullptr);
    CHECK(hit->trail == "62.204.41.166");
    CHECK(hit->info == "zeus (malware)");
    CHECK(hit->reference == "(static)");
    CHECK(hit->kind == IndicatorKind::kIp);
    CHECK(snap->find_ipv4(v4("62.204.41.167")) == nullptr);
    CHECK(snap->size() == 1);
}

TEST_CASE("the most specific IPv4 CIDR wins and an exact trail beats them all",
          "[intel][cidr][ipv4]") {
    const auto snap = make({{"10.0.0.0/8", "wide"},
                            {"10.1.0.0/16", "narrow"},
                            {"10.1.2.0/24", "narrower"},
                            {"10.1.2.3", "exact"},
                            {"0.0.0.0/0", "everything"}});
    CHECK(info_of(snap->find_ipv4(v4("10.1.2.3"))) == "exact");
    CHECK(info_of(snap->find_ipv4(v4("10.1.2.4"))) == "narrower");
    CHECK(info_of(snap->find_ipv4(v4("10.1.3.4"))) == "narrow");
    CHECK(info_of(snap->find_ipv4(v4("10.2.3.4"))) == "wide");
    CHECK(info_of(snap->find_ipv4(v4("11.0.0.1"))) == "everything");
}

TEST_CASE("IPv6 CIDRs match as ranges, most specific first", "[intel][cidr][ipv6]") {
    const auto snap = make(
        {{"2001:db8::/32", "wide"}, {"2001:db8:1::/48", "narrow"}, {"2001:db8:1::1", "exact"}});
    CHECK(info_of(snap->find_ipv6(v6("2001:db8:1::1"))) == "exact");
    CHECK(info_of(snap->find_ipv6(v6("2001:db8:1::2"))) == "narrow");
    CHECK(info_of(snap->find_ipv6(v6("2001:db8:2::2"))) == "wide");
    CHECK(snap->find_ipv6(v6("2001:db9::1")) == nullptr);
}

TEST_CASE("an IPv6 trail matches whatever text form it was written in", "[intel][ipv6]") {
    const auto snap = make({{"2001:0470:000b:00a5:0000:0000:0000:beef", "tor exit"}});
    const Indicator* hit = snap->find_ipv6(v6("2001:470:b:a5::beef"));
    REQUIRE(hit != nullptr);
    CHECK(hit->trail == "2001:470:b:a5::beef");
}

TEST_CASE("address:port trails need both the address and the port", "[intel][port]") {
    const auto snap = make({{"62.204.41.166:27688", "redline (malware)"},
                            {"[fe80::bdd9:fd11:ea3f:a4]:135", "smbghost (malware)"}});
    const Indicator* hit = snap->find_ipv4_port(v4("62.204.41.166"), 27688);
    REQUIRE(hit != nullptr);
    CHECK(hit->kind == IndicatorKind::kIpPort);
    CHECK(hit->trail == "62.204.41.166:27688");
    CHECK(snap->find_ipv4_port(v4("62.204.41.166"), 27689) == nullptr);
    CHECK(snap->find_ipv4(v4("62.204.41.166")) == nullptr);

    const Indicator* hit6 = snap->find_ipv6_port(v6("fe80::bdd9:fd11:ea3f:a4"), 135);
    REQUIRE(hit6 != nullptr);
    CHECK(hit6->trail == "[fe80::bdd9:fd11:ea3f:a4]:135");
    CHECK(snap->find_ipv6_port(v6("fe80::bdd9:fd11:ea3f:a4"), 136) == nullptr);
}

TEST_CASE("a subdomain hits its parent trail and reports the prefix", "[intel][domain]") {
    const auto snap = make({{"evil.com", "zeus (malware)"}});
    const DomainMatch exact = snap->find_domain("evil.com");
    REQUIRE(exact);
    CHECK(exact.prefix_length == 0);
    const DomainMatch sub = snap->find_domain("a.b.evil.com");
    REQUIRE(sub);
    CHECK(sub.indicator->trail == "evil.com");
    CHECK(sub.prefix_length == 3);
    CHECK_FALSE(snap->find_domain("notevil.com"));
    CHECK_FALSE(snap->find_domain("evil.com.au"));
    CHECK_FALSE(snap->find_domain("com"));
}

TEST_CASE("the most specific domain trail wins over a parent", "[intel][domain]") {
    const auto snap = make({{"evil.com", "parent"}, {"c2.evil.com", "child"}});
    CHECK(info_of(snap->find_domain("x.c2.evil.com").indicator) == "child");
    CHECK(snap->find_domain("x.c2.evil.com").prefix_length == 1);
    CHECK(info_of(snap->find_domain("x.other.evil.com").indicator) == "parent");
}

TEST_CASE("a TLD trail matches every name under it", "[intel][domain][tld]") {
    const auto snap = make({{".xyz", "domain (suspicious)"}});
    const DomainMatch match = snap->find_domain("a.b.xyz");
    REQUIRE(match);
    CHECK(match.indicator->trail == "xyz");
    CHECK(match.prefix_length == 3);
    CHECK_FALSE(snap->find_domain("xyz.com"));
}

TEST_CASE("duplicate trails keep the first indicator and are counted", "[intel][duplicates]") {
    SnapshotBuilder builder;
    const std::uint16_t feed = builder.add_feed("test");
    CHECK(builder.add_trail(feed, "evil.com", "first", "(static)") == AddOutcome::kAdded);
    CHECK(builder.add_trail(feed, "WWW.EVIL.COM", "second", "(static)") == AddOutcome::kDuplicate);
    CHECK(builder.add_trail(feed, "1.2.3.4", "first", "(static)") == AddOutcome::kAdded);
    CHECK(builder.add_trail(feed, "1.2.3.4", "second", "(static)") == AddOutcome::kDuplicate);
    CHECK(builder.add_trail(feed, "10.1.0.0/16", "first", "(static)") == AddOutcome::kAdded);
    CHECK(builder.add_trail(feed, "10.1.2.3/16", "second", "(static)") == AddOutcome::kDuplicate);
    CHECK(builder.add_trail(feed, "evil.com/x.php", "url", "(static)") == AddOutcome::kNotATrail);
    const auto snap = builder.build();
    CHECK(snap->size() == 3);
    CHECK(snap->feeds().at(0).indicators == 3);
    CHECK(snap->feeds().at(0).duplicates == 3);
    CHECK(info_of(snap->find_domain("evil.com").indicator) == "first");
    CHECK(info_of(snap->find_ipv4(v4("1.2.3.4"))) == "first");
    CHECK(info_of(snap->find_ipv4(v4("10.1.9.9"))) == "first");
}

TEST_CASE("a whitelisted name suppresses its trail and every trail below it",
          "[intel][whitelist][domain]") {
    const auto snap =
        make({{"google.com", "bad"}, {"l.google.com", "bad"}, {"com", "tld"}}, {"google.com"});
    CHECK_FALSE(snap->find_domain("google.com"));
    CHECK_FALSE(snap->find_domain("l.google.com"));
    CHECK_FALSE(snap->find_domain("www.l.google.com"));
    // The TLD trail still matches names outside the whitelisted subtree.
    CHECK(snap->find_domain("evil.com"));
    CHECK(snap->size() == 1);
    CHECK(snap->feeds().at(0).whitelisted == 2);
}

TEST_CASE("whitelisted addresses never match, not even inside a CIDR trail",
          "[intel][whitelist][cidr]") {
    const auto snap = make({{"35.190.247.1", "bad"},
                            {"35.0.0.0/8", "wide"},
                            {"35.190.247.2:443", "bad"},
                            {"2606:4700:4700::1111", "bad"},
                            {"2606:4700::/32", "wide6"}},
                           {"35.184.0.0/13", "2606:4700:4700::1111"});
    CHECK(snap->find_ipv4(v4("35.190.247.1")) == nullptr);
    CHECK(snap->find_ipv4(v4("35.190.1.1")) == nullptr);
    CHECK(snap->find_ipv4_port(v4("35.190.247.2"), 443) == nullptr);
    CHECK(info_of(snap->find_ipv4(v4("35.1.1.1"))) == "wide");
    CHECK(snap->find_ipv6(v6("2606:4700:4700::1111")) == nullptr);
    CHECK(info_of(snap->find_ipv6(v6("2606:4700:4700::1112"))) == "wide6");
    CHECK(snap->feeds().at(0).whitelisted == 3);
}

TEST_CASE("an empty snapshot finds nothing", "[intel][empty]") {
    SnapshotBuilder builder;
    const auto snap = builder.build();
    CHECK(snap->size() == 0);
    CHECK(snap->find_ipv4(1) == nullptr);
    CHECK(snap->find_ipv6(v6("::1")) == nullptr);
    CHECK(snap->find_ipv4_port(1, 1) == nullptr);
    CHECK(snap->find_ipv6_port(v6("::1"), 1) == nullptr);
    CHECK_FALSE(snap->find_domain("evil.com"));
    CHECK_FALSE(snap->find_domain(""));
}

TEST_CASE("indicators outlive the builder and stay put while tables grow", "[intel][lifetime]") {
    SnapshotBuilder builder;
    const std::uint16_t feed = builder.add_feed("bulk");
    for (int i = 0; i < 50000; ++i) {
        builder.add_trail(feed, "host" + std::to_string(i) + ".example", "bulk (malware)",
                          "(static)");
    }
    const auto snap = builder.build();
    CHECK(snap->size() == 50000);
    for (int i = 0; i < 50000; i += 997) {
        const std::string name = "x.host" + std::to_string(i) + ".example";
        const DomainMatch match = snap->find_domain(name);
        REQUIRE(match);
        CHECK(match.indicator->trail == name.substr(2));
        CHECK(match.indicator->info == "bulk (malware)");
    }
}
