// Tests of ipfix/encoder.* (kept under tests/sinks/ because the encoder belongs to the outputs'
// owner; tests/ipfix/ is the decoder's).

#include "ipfix/encoder.hpp"
#include "tests/sinks/ipfix_test_parser.hpp"
#include "tests/sinks/sinks_test_util.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using namespace malfix;
using ipfix::Encoder;
using ipfix::EncoderOptions;
using ipfix::FieldSpec;
using ipfix::ThreatFields;

namespace {

/// Keeps every Message the encoder hands out.
struct Collector : ipfix::MessageWriter {
    std::vector<std::vector<std::byte>> messages;
    std::uint32_t flows = 0;

    void on_message(std::span<const std::byte> message, std::uint32_t n) override {
        messages.emplace_back(message.begin(), message.end());
        flows += n;
    }

    test::Replay replay() const {
        test::Replay r;
        for (const auto& m : messages) {
            r.feed(test::parse_message(m));
        }
        return r;
    }
};

std::vector<std::byte> hex(std::string_view text) {
    std::vector<std::byte> out;
    int nibble = -1;
    for (char c : text) {
        int v = -1;
        if (c >= '0' && c <= '9') {
            v = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;
        }
        if (v < 0) {
            continue;
        }
        if (nibble < 0) {
            nibble = v;
        } else {
            out.push_back(static_cast<std::byte>(nibble * 16 + v));
            nibble = -1;
        }
    }
    return out;
}

EncoderOptions no_type_info(ipfix::Transport transport = ipfix::Transport::kFile) {
    EncoderOptions o;
    o.transport = transport;
    o.export_type_info = false;
    return o;
}

const FieldSpec kMalfix(std::uint16_t id) {
    return {id, ipfix::kVariableLength, ipfix::kMalfixPen};
}

}  // namespace

TEST_CASE("a flow with one hit encodes to the expected Message bytes", "[ipfix][encoder]") {
    auto tmpl = test::make_template(256, {{8, 4, 0}, {4, 1, 0}});
    const std::vector<std::byte> record = hex("c0000201 06");
    ipfix::FlowView view;
    view.record = {record.data(), record.size()};
    view.tmpl = &tmpl;
    view.observation_domain = 7;

    Collector out;
    Encoder encoder(no_type_info(), out);
    encoder.set_time(1000);
    const ThreatFields hit{"IP", "x", "y", "z"};
    REQUIRE(encoder.add(view, {}, {&hit, 1}) == ipfix::EncodeStatus::kOk);
    CHECK(out.messages.empty());  // still open
    encoder.flush();

    REQUIRE(out.messages.size() == 1);
    CHECK(out.messages[0] == hex(
                                 // Message Header: version 10, length 82, Export Time 1000,
                                 // Sequence Number 0, Observation Domain 7
                                 "000a 0052 000003e8 00000000 00000007"
                                 // Template Set, length 48: Template 65535 with 6 fields
                                 "0002 0030 ffff 0006"
                                 "0008 0004  0004 0001"  // sourceIPv4Address, protocolIdentifier
                                 "8003 ffff 000001a4"    // 420/3 malfix_type, variable length
                                 "8004 ffff 000001a4"    // 420/4 malfix_trail
                                 "8005 ffff 000001a4"    // 420/5 malfix_info
                                 "8006 ffff 000001a4"    // 420/6 malfix_reference
                                 // Data Set 65535, length 18: the record verbatim, then the hit
                                 "ffff 0012 c0000201 06"
                                 "02 4950  01 78  01 79  01 7a"));  // "IP" "x" "y" "z"
    CHECK(out.flows == 1);
}

TEST_CASE("a flow with two hits gets a derived Template with two hit groups", "[ipfix][encoder]") {
    auto tmpl = test::make_template(256, test::basic_fields());
    test::BasicFlow f;
    const auto record = test::basic_record(f);
    const auto view = test::basic_view(record, tmpl, f);

    Collector out;
    Encoder encoder(no_type_info(), out);
    const ThreatFields hits[] = {{"IP", "198.51.100.2", "zeus (malware)", "(static)"},
                                 {"IPORT", "198.51.100.2:443", "c2 (malware)", "abuse.ch"}};
    REQUIRE(encoder.add(view, {}, hits) == ipfix::EncodeStatus::kOk);
    REQUIRE(encoder.add(view, {}, {hits, 1}) == ipfix::EncodeStatus::kOk);
    REQUIRE(encoder.add(view, {}, {}) == ipfix::EncodeStatus::kOk);
    encoder.flush();

    const test::Replay r = out.replay();
    REQUIRE(r.records.size() == 3);
    REQUIRE(r.template_log.size() == 3);  // one per hit count

    const auto& two = r.records[0];
    REQUIRE(two.fields.size() == 9 + 8);
    CHECK(std::equal(two.fields.begin(), two.fields.begin() + 9, tmpl->fields.begin()));
    for (int g = 0; g < 2; ++g) {
        for (std::uint16_t e = 0; e < 4; ++e) {
            CHECK(two.fields[9 + g * 4 + e] == kMalfix(static_cast<std::uint16_t>(3 + e)));
        }
    }
    CHECK(std::memcmp(two.values[0].data(), record.data(), 4) == 0);
    CHECK(two.values[9] == "IP");
    CHECK(two.values[10] == "198.51.100.2");
    CHECK(two.values[11] == "zeus (malware)");
    CHECK(two.values[12] == "(static)");
    CHECK(two.values[13] == "IPORT");
    CHECK(two.values[14] == "198.51.100.2:443");
    CHECK(two.values[16] == "abuse.ch");

    CHECK(r.records[1].fields.size() == 9 + 4);
    CHECK(r.records[2].fields.size() == 9);  // pipeline mode: no hit group
    CHECK(r.records[0].template_id != r.records[1].template_id);
}

TEST_CASE("a DNS name is added as 420/1 only when the input Template lacks it",
          "[ipfix][encoder]") {
    auto plain = test::make_template(256, test::basic_fields());
    auto fields = test::basic_fields();
    fields.push_back(kMalfix(1));
    auto with_dns = test::make_template(257, fields);

    test::BasicFlow f;
    const auto rec1 = test::basic_record(f);
    auto rec2 = test::basic_record(f);
    test::put_varlen(rec2, "evil.example");
    const auto v1 = test::basic_view(rec1, plain, f);
    const auto v2 = test::basic_view(rec2, with_dns, f);

    Collector out;
    Encoder encoder(no_type_info(), out);
    const ThreatFields hit{"DNS", "evil.example", "bad (malware)", "(static)"};
    encoder.add(v1, "evil.example", {&hit, 1});
    encoder.add(v2, "evil.example", {&hit, 1});
    encoder.flush();

    const test::Replay r = out.replay();
    REQUIRE(r.records.size() == 2);
    REQUIRE(r.records[0].fields.size() == 9 + 1 + 4);
    CHECK(r.records[0].fields[9] == kMalfix(1));
    CHECK(r.records[0].values[9] == "evil.example");
    CHECK(r.records[0].values[10] == "DNS");
    REQUIRE(r.records[1].fields.size() == 10 + 4);  // its own 420/1, none added
    CHECK(std::count(r.records[1].fields.begin(), r.records[1].fields.end(), kMalfix(1)) == 1);
}

TEST_CASE("nested Templates are exported with their IDs before the first record using them",
          "[ipfix][encoder]") {
    auto inner = test::make_template(0xCF00, {{179, ipfix::kVariableLength, 6871}});
    auto outer = test::make_template(300, {{8, 4, 0}, {292, ipfix::kVariableLength, 0}});
    // sourceIPv4Address, then a subTemplateList (RFC 6313 §4.5.2): semantic allOf (3),
    // Template 0xCF00, one record holding "a.b."
    const std::vector<std::byte> record = hex("c0000201 08 03 cf00 04 612e622e");
    ipfix::FlowView view;
    view.record = {record.data(), record.size()};
    view.tmpl = &outer;
    view.nested[0] = &inner;
    view.nested_count = 1;

    Collector out;
    Encoder encoder(no_type_info(), out);
    encoder.add(view, {}, {});
    encoder.add(view, {}, {});
    encoder.flush();

    REQUIRE(out.messages.size() == 1);
    const test::ParsedMessage m = test::parse_message(out.messages[0]);
    REQUIRE(m.sets.size() == 2);
    REQUIRE(m.sets[0].id == 2);
    const auto templates = test::parse_templates(m.sets[0]);
    REQUIRE(templates.size() == 2);  // once, though two records use it
    CHECK(templates[0].id == 0xCF00);
    CHECK(templates[0].fields == inner->fields);
    CHECK(m.sets[1].id == templates[1].id);
    CHECK(templates[1].id != 0xCF00);
    CHECK(templates[1].id != 300);
}

TEST_CASE("a nested Template ID taken by a derived Template moves the derived one",
          "[ipfix][encoder]") {
    auto plain = test::make_template(256, test::basic_fields());
    test::BasicFlow f;
    const auto rec = test::basic_record(f);
    const auto v1 = test::basic_view(rec, plain, f);

    Collector out;
    Encoder encoder(no_type_info(ipfix::Transport::kTcp), out);
    encoder.add(v1, {}, {});  // derived Template gets 65535

    auto inner = test::make_template(65535, {{179, ipfix::kVariableLength, 6871}});
    auto outer = test::make_template(300, {{8, 4, 0}, {292, ipfix::kVariableLength, 0}});
    const std::vector<std::byte> rec2 = hex("c0000201 04 03 ffff 00");
    ipfix::FlowView v2;
    v2.record = {rec2.data(), rec2.size()};
    v2.tmpl = &outer;
    v2.nested[0] = &inner;
    v2.nested_count = 1;
    v2.observation_domain = v1.observation_domain;  // Template IDs are per domain
    encoder.add(v2, {}, {});
    encoder.add(v1, {}, {});
    encoder.flush();

    const test::Replay r = out.replay();
    CHECK(r.missing_template == 0);
    REQUIRE(r.records.size() == 3);
    CHECK(r.records[0].template_id == 65535);
    CHECK(r.records[2].template_id != 65535);
    CHECK(r.records[2].fields.size() == 9);
    // Over TCP the old definition was withdrawn before 65535 was redefined (RFC 7011 §8.1).
    const auto withdrawal = std::find_if(r.template_log.begin(), r.template_log.end(),
                                         [](const auto& t) { return t.withdrawal(); });
    REQUIRE(withdrawal != r.template_log.end());
    CHECK(withdrawal->id == 65535);
    CHECK(encoder.counters().withdrawals == 1);
}

TEST_CASE("a redefined nested Template is withdrawn first over TCP and just resent over UDP",
          "[ipfix][encoder]") {
    auto outer = test::make_template(300, {{8, 4, 0}, {292, ipfix::kVariableLength, 0}});
    auto inner1 = test::make_template(0xCF00, {{179, ipfix::kVariableLength, 6871}});
    auto inner2 = test::make_template(0xCF00, {{180, ipfix::kVariableLength, 6871}});
    const std::vector<std::byte> rec = hex("c0000201 04 03 cf00 00");
    ipfix::FlowView view;
    view.record = {rec.data(), rec.size()};
    view.tmpl = &outer;
    view.nested_count = 1;

    for (auto transport : {ipfix::Transport::kTcp, ipfix::Transport::kUdp}) {
        Collector out;
        Encoder encoder(no_type_info(transport), out);
        view.nested[0] = &inner1;
        encoder.add(view, {}, {});
        view.nested[0] = &inner2;
        encoder.add(view, {}, {});
        encoder.flush();

        const test::Replay r = out.replay();
        std::vector<std::size_t> withdrawals;
        for (const auto& t : r.template_log) {
            if (t.id == 0xCF00 && t.withdrawal()) {
                withdrawals.push_back(1);
            }
        }
        CHECK(withdrawals.size() == (transport == ipfix::Transport::kTcp ? 1U : 0U));
        CHECK(r.templates.at({0, 0xCF00}).fields == inner2->fields);
        CHECK(r.records.size() == 2);
    }
}

TEST_CASE("RFC 5610 type records describe the six 420 elements", "[ipfix][encoder][rfc5610]") {
    auto tmpl = test::make_template(256, test::basic_fields());
    test::BasicFlow f;
    const auto rec = test::basic_record(f);
    const auto view = test::basic_view(rec, tmpl, f);

    Collector out;
    EncoderOptions options;
    Encoder encoder(options, out);
    encoder.add(view, {}, {});
    encoder.add(view, {}, {});
    encoder.flush();

    const test::Replay r = out.replay();
    REQUIRE(r.template_log.size() == 2);
    const test::ParsedTemplate& opt = r.template_log[0];
    CHECK(opt.scope == 2);
    REQUIRE(opt.fields.size() == 9);
    CHECK(opt.fields[0].id == 346);  // privateEnterpriseNumber (scope)
    CHECK(opt.fields[1].id == 303);  // informationElementId (scope)
    CHECK(opt.fields[2].id == 339);  // informationElementDataType
    CHECK(opt.fields[3].id == 344);  // informationElementSemantics
    CHECK(opt.fields[7].id == 341);  // informationElementName

    std::vector<std::string> names;
    for (const auto& rec_ : r.records) {
        if (rec_.template_id != opt.id) {
            continue;
        }
        CHECK(test::get32(reinterpret_cast<const std::byte*>(rec_.values[0].data())) == 420);
        const auto id = test::get16(reinterpret_cast<const std::byte*>(rec_.values[1].data()));
        CHECK(static_cast<int>(rec_.values[2][0]) == (id == 2 ? 2 : 13));
        names.push_back(rec_.values[7]);
    }
    CHECK(names == std::vector<std::string>{"dnsName", "dnsType", "malfix_type", "malfix_trail",
                                            "malfix_info", "malfix_reference"});
    CHECK(out.flows == 2);  // type records are not flows
}

TEST_CASE("Sequence Numbers count the Data Records sent before each Message per domain",
          "[ipfix][encoder]") {
    auto tmpl = test::make_template(256, test::basic_fields());
    test::BasicFlow f;
    const auto rec = test::basic_record(f);
    const auto d1 = test::basic_view(rec, tmpl, f, 1);
    const auto d2 = test::basic_view(rec, tmpl, f, 2);

    Collector out;
    EncoderOptions options;  // with the 6 RFC 5610 records, which count too
    Encoder encoder(options, out);
    encoder.add(d1, {}, {});
    encoder.add(d1, {}, {});
    encoder.add(d2, {}, {});  // another domain closes the Message
    encoder.add(d1, {}, {});
    encoder.flush();

    REQUIRE(out.messages.size() == 3);
    const auto m0 = test::parse_message(out.messages[0]);
    const auto m1 = test::parse_message(out.messages[1]);
    const auto m2 = test::parse_message(out.messages[2]);
    CHECK(m0.odid == 1);
    CHECK(m0.sequence == 0);
    CHECK(m1.odid == 2);
    CHECK(m1.sequence == 0);
    CHECK(m2.odid == 1);
    CHECK(m2.sequence == 6 + 2);
}

TEST_CASE("UDP Messages keep under the size limit and Templates come back after the refresh",
          "[ipfix][encoder][udp]") {
    auto tmpl = test::make_template(256, test::basic_fields());
    test::BasicFlow f;
    const auto rec = test::basic_record(f);
    const auto view = test::basic_view(rec, tmpl, f);

    Collector out;
    EncoderOptions options;
    options.transport = ipfix::Transport::kUdp;
    options.max_message_size = 1400;
    options.template_refresh_s = 60;
    Encoder encoder(options, out);
    encoder.tick(5000);
    const ThreatFields hit{"IP", "198.51.100.2", "zeus (malware)", "(static)"};
    for (int i = 0; i < 100; ++i) {
        encoder.add(view, {}, {&hit, 1});
    }
    encoder.flush();
    const std::size_t before = out.messages.size();
    CHECK(before > 3);
    for (const auto& m : out.messages) {
        CHECK(m.size() <= 1400);
    }
    CHECK(encoder.counters().templates_sent == 2);

    encoder.tick(5059);  // not yet
    encoder.add(view, {}, {&hit, 1});
    encoder.flush();
    CHECK(encoder.counters().templates_sent == 2);

    encoder.tick(5060);
    encoder.add(view, {}, {&hit, 1});
    encoder.flush();
    CHECK(encoder.counters().templates_sent == 4);
    const auto last = test::parse_message(out.messages.back());
    CHECK(last.sets.front().id == 3);  // RFC 5610 Options Template first
    CHECK(out.replay().missing_template == 0);
}

TEST_CASE("a record too large for any Message is refused", "[ipfix][encoder]") {
    auto tmpl = test::make_template(256, {{8, 4, 0}});
    const std::vector<std::byte> rec(4);
    ipfix::FlowView view;
    view.record = {rec.data(), rec.size()};
    view.tmpl = &tmpl;
    const std::string big(40000, 'a');
    const ThreatFields hit{"DNS", big, big, "(static)"};

    Collector out;
    Encoder encoder(no_type_info(), out);
    CHECK(encoder.add(view, {}, {&hit, 1}) == ipfix::EncodeStatus::kTooLarge);
    const ThreatFields fits{"DNS", big, "x", "(static)"};
    CHECK(encoder.add(view, {}, {&fits, 1}) == ipfix::EncodeStatus::kOk);
    ipfix::FlowView none;
    CHECK(encoder.add(none, {}, {}) == ipfix::EncodeStatus::kNoTemplate);
    encoder.flush();
    const test::Replay r = out.replay();
    REQUIRE(r.records.size() == 1);
    CHECK(r.records[0].values[2] == big);  // 3-byte length form (RFC 7011 §7)
}

TEST_CASE("reset starts a new Transport Session with Templates and Sequence Numbers anew",
          "[ipfix][encoder][tcp]") {
    auto tmpl = test::make_template(256, test::basic_fields());
    test::BasicFlow f;
    const auto rec = test::basic_record(f);
    const auto view = test::basic_view(rec, tmpl, f);

    Collector out;
    Encoder encoder(no_type_info(ipfix::Transport::kTcp), out);
    encoder.add(view, {}, {});
    encoder.flush();
    encoder.add(view, {}, {});
    CHECK(encoder.reset() == 1);
    encoder.add(view, {}, {});
    encoder.flush();

    REQUIRE(out.messages.size() == 2);
    const auto m = test::parse_message(out.messages[1]);
    CHECK(m.sequence == 0);
    CHECK(m.sets.front().id == 2);
}
