#include "intel/trail_parser.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace malfix::intel;

namespace {

ParsedTrail parse(std::string_view line) {
    static std::string scratch;
    return parse_trail_line(line, scratch);
}

std::string normalized(std::string_view raw) {
    char out[300];
    return std::string(out, normalize_domain(raw, out, sizeof(out)));
}

}  // namespace

TEST_CASE("domain names are lower-cased and lose www and outer dots", "[intel][normalize]") {
    CHECK(normalized("WWW.Evil.COM.") == "evil.com");
    CHECK(normalized("..evil.com..") == "evil.com");
    CHECK(normalized("www.") == "www");
    CHECK(normalized("...") == "");
    CHECK(normalized("wwwx.evil.com") == "wwwx.evil.com");
    CHECK(normalized("l.google.com.") == "l.google.com");
    CHECK(normalized("") == "");
}

TEST_CASE("a name longer than the output buffer normalises to nothing", "[intel][normalize]") {
    char out[8];
    CHECK(normalize_domain("abcdefgh.com", out, sizeof(out)) == 0);
    CHECK(normalize_domain("abc.com", out, sizeof(out)) == 7);
}

TEST_CASE("comments and whitespace are not trails", "[intel][parser]") {
    CHECK(parse("").line_class == LineClass::kEmpty);
    CHECK(parse("   \t").line_class == LineClass::kEmpty);
    CHECK(parse("# Copyright (c) Maltrail").line_class == LineClass::kEmpty);
    const ParsedTrail trail = parse("  129.82.138.12 # pinger1a.netsec.colostate.edu\r");
    REQUIRE(trail.line_class == LineClass::kTrail);
    CHECK(trail.text == "129.82.138.12");
}

TEST_CASE("IPv4 trails decode to host order", "[intel][parser][ipv4]") {
    const ParsedTrail trail = parse("62.204.41.166");
    REQUIRE(trail.line_class == LineClass::kTrail);
    CHECK(trail.kind == IndicatorKind::kIp);
    CHECK_FALSE(trail.v6);
    CHECK(trail.v4 == 0x3ECC29A6U);
    CHECK(parse("300.1.1.1").line_class == LineClass::kBad);
    CHECK(parse("1.2.3").line_class == LineClass::kBad);
    CHECK(parse("1.2.3.4.5").line_class == LineClass::kBad);
}

TEST_CASE("ip:port trails keep the port and reject impossible ones", "[intel][parser][port]") {
    const ParsedTrail trail = parse("62.204.41.166:27688");
    REQUIRE(trail.line_class == LineClass::kTrail);
    CHECK(trail.kind == IndicatorKind::kIpPort);
    CHECK(trail.port == 27688);
    CHECK(trail.text == "62.204.41.166:27688");
    CHECK(parse("1.2.3.4:66086").reason == "bad port");
    CHECK(parse("213.165.60.118:22:443").reason == "more than one port");
    CHECK(parse("1.2.3.4:").line_class == LineClass::kBad);
}

TEST_CASE("IPv6 trails accept every text form and print canonically", "[intel][parser][ipv6]") {
    const ParsedTrail expanded = parse("2001:0470:000b:00a5:0000:0000:0000:beef");
    REQUIRE(expanded.line_class == LineClass::kTrail);
    CHECK(expanded.v6);
    CHECK(expanded.text == "2001:470:b:a5::beef");
    CHECK(parse("2001:470:B:A5::BEEF").text == "2001:470:b:a5::beef");
    CHECK(parse("::1").text == "::1");
    CHECK(parse("::").text == "::");
    CHECK(parse("2001:db8::").text == "2001:db8::");
    CHECK(parse("2001:db8:0:1:0:0:1:1").text == "2001:db8:0:1::1:1");
    CHECK(parse("::ffff:1.2.3.4").text == "::ffff:1.2.3.4");
    CHECK(parse("1:2:3:4:5:6:7:8:9").line_class == LineClass::kBad);
    CHECK(parse("1::2::3").line_class == LineClass::kBad);
    CHECK(parse("12345::1").line_class == LineClass::kBad);
    CHECK(parse("1:2:3:4:5:6:7:8::").line_class == LineClass::kBad);
}

TEST_CASE("bracketed IPv6 with a port is an address:port trail", "[intel][parser][ipv6]") {
    const ParsedTrail trail = parse("[0:0:0:0:0:ffff:2d3e:c649]:53");
    REQUIRE(trail.line_class == LineClass::kTrail);
    CHECK(trail.kind == IndicatorKind::kIpPort);
    CHECK(trail.v6);
    CHECK(trail.port == 53);
    CHECK(trail.text == "[::ffff:45.62.198.73]:53");
    CHECK(parse("[fe80::1]:99999").reason == "bad port");
    CHECK(parse("[a-z0-9]{10}\\.temp\\.swtest\\.ru").line_class == LineClass::kSkipped);
}

TEST_CASE("CIDR trails drop host bits and check the prefix length", "[intel][parser][cidr]") {
    const ParsedTrail v4 = parse("10.1.2.3/8");
    REQUIRE(v4.line_class == LineClass::kTrail);
    CHECK(v4.kind == IndicatorKind::kCidr);
    CHECK(v4.prefix == 8);
    CHECK(v4.text == "10.0.0.0/8");
    const ParsedTrail v6 = parse("2001:db8:ffff::1/33");
    REQUIRE(v6.line_class == LineClass::kTrail);
    CHECK(v6.text == "2001:db8:8000::/33");
    CHECK(parse("10.0.0.0/33").reason == "CIDR prefix length out of range");
    CHECK(parse("2001:db8::/129").reason == "CIDR prefix length out of range");
    CHECK(parse("10.0.0/8").reason == "bad IPv4 address");
}

TEST_CASE("URLs with a path are skipped, bare URLs become host trails", "[intel][parser][url]") {
    CHECK(parse("evil.com/gate.php").line_class == LineClass::kSkipped);
    CHECK(parse("/mstealer/logs/").line_class == LineClass::kSkipped);
    CHECK(parse("http://evil.com/a?b=c").line_class == LineClass::kSkipped);
    CHECK(parse("/CJ\xEB\x8C\x80 x.apk").line_class == LineClass::kSkipped);

    const ParsedTrail host = parse("HTTP://www.Evil.com/");
    REQUIRE(host.line_class == LineClass::kTrail);
    CHECK(host.kind == IndicatorKind::kDomain);
    CHECK(host.text == "evil.com");

    const ParsedTrail address = parse("http://213.165.60.118");
    REQUIRE(address.line_class == LineClass::kTrail);
    CHECK(address.kind == IndicatorKind::kIp);

    const ParsedTrail with_port = parse("https://1.2.3.4:8443/");
    REQUIRE(with_port.line_class == LineClass::kTrail);
    CHECK(with_port.kind == IndicatorKind::kIpPort);
    CHECK(with_port.text == "1.2.3.4:8443");
}

TEST_CASE("regex-like lines are skipped, not bad", "[intel][parser][regex]") {
    CHECK(parse("backdates[0-9]{1,2}\\.(com|net)").line_class == LineClass::kSkipped);
    CHECK(parse("*.evil.com").line_class == LineClass::kSkipped);
    CHECK(parse("nklmtf[0-9][^.]*[0-9].t35.com").reason == "regex");
}

TEST_CASE("domain trails are normalised and validated", "[intel][parser][domain]") {
    CHECK(parse(".XYZ").text == "xyz");
    CHECK(parse("www.Evil.Com.").text == "evil.com");
    CHECK(parse("_dmarc.evil.com").line_class == LineClass::kTrail);
    CHECK(parse("a..b.com").reason == "empty label");
    CHECK(parse("bad!name.com").reason == "invalid character in name");
    CHECK(parse(std::string(64, 'a') + ".com").reason == "label longer than 63 characters");
    CHECK(parse(std::string(63, 'a') + ".com").line_class == LineClass::kTrail);
    std::string long_name;
    for (int i = 0; i < 4; ++i) {
        long_name += std::string(63, 'a') + ".";
    }
    CHECK(parse(long_name + "com").reason == "name longer than 253 characters");
    CHECK(parse("evil .com").reason == "space inside trail");
}

TEST_CASE("non-ASCII names become Punycode", "[intel][parser][idna]") {
    // RFC 3492 §7.1 sample and familiar IDNs.
    CHECK(parse("b\xC3\xBC\x63her.de").text == "xn--bcher-kva.de");
    CHECK(parse("\xE4\xBE\x8B\xE5\xAD\x90.com").text == "xn--fsqu00a.com");
    CHECK(parse("m\xC3\xBCnchen.de").text == "xn--mnchen-3ya.de");
    CHECK(parse("\xC4\xB7\x65\x65pass.info").text == "xn--eepass-vbb.info");
    CHECK(parse("bad\xC3.com").reason == "invalid UTF-8 in name");
    CHECK(parse("over\xC0\xAFlong.com").reason == "invalid UTF-8 in name");
}
