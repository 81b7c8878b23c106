// Template lifetime per Transport Session and Observation Domain, and Sequence Numbers.

#include "ipfix/session.hpp"

#include "ipfix/decoder.hpp"
#include "ipfix/elements.hpp"
#include "tests/ipfix/decoder_support.hpp"
#include "tests/ipfix/message_builder.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace malfix::ipfix {
namespace {

using test::CollectingSink;
using test::MessageBuilder;

constexpr std::int64_t kNow = 1'700'000'000;

Template make_template(std::uint16_t id, std::initializer_list<FieldSpec> fields,
                       std::uint16_t scope = 0) {
    Template t;
    t.id = id;
    t.scope_field_count = scope;
    t.fields = fields;
    return t;
}

std::uint64_t drops(const DecodeCounters& c, DropReason r) {
    return c.drops[static_cast<std::size_t>(r)];
}

std::vector<std::byte> template_message(std::uint32_t domain, std::uint16_t id,
                                        std::initializer_list<FieldSpec> fields,
                                        std::uint32_t sequence = 0) {
    MessageBuilder m(domain, sequence);
    m.begin_set(2).template_record(id, fields);
    return m.build();
}

std::vector<std::byte> data_message(std::uint32_t domain, std::uint16_t id, const char* address,
                                    std::uint32_t sequence = 0, int records = 1) {
    MessageBuilder m(domain, sequence);
    m.begin_set(id);
    for (int i = 0; i < records; ++i) {
        m.ipv4(address);
    }
    return m.build();
}

}  // namespace

TEST_CASE("define computes the record lengths and a unique uid", "[ipfix][session]") {
    Session session(Transport::kTcp, "exporter");
    REQUIRE(session.define(1, make_template(256, {{8, 4}, {82, kVariableLength}, {7, 2}}), kNow));
    REQUIRE(session.define(1, make_template(257, {{8, 4}}), kNow));
    const auto* a = session.find(1, 256, kNow);
    const auto* b = session.find(1, 257, kNow);
    REQUIRE(a != nullptr);
    REQUIRE(b != nullptr);
    CHECK((*a)->min_record_length == 7);
    CHECK_FALSE((*a)->fixed_length);
    CHECK((*b)->fixed_length);
    CHECK((*a)->uid != 0);
    CHECK((*a)->uid != (*b)->uid);
    CHECK(session.template_count() == 2);
}

TEST_CASE("an identical resend refreshes a template and keeps its uid", "[ipfix][session]") {
    Session session(Transport::kTcp, "exporter");
    REQUIRE(session.define(1, make_template(256, {{8, 4}}), kNow));
    const std::uint64_t uid = (*session.find(1, 256, kNow))->uid;
    CHECK(session.define(1, make_template(256, {{8, 4}}), kNow + 10));
    CHECK((*session.find(1, 256, kNow))->uid == uid);
}

TEST_CASE("a template withdrawal removes the template and later data is missing",
          "[ipfix][session][withdrawal]") {
    Session session(Transport::kTcp, "exporter");
    DecodeCounters counters;
    CollectingSink sink;
    decode_message(template_message(1, 256, {{8, 4}}), session, counters, sink, kNow);

    // Keep a flow's template alive across the withdrawal, as a matcher would.
    decode_message(data_message(1, 256, "10.0.0.1"), session, counters, sink, kNow);
    REQUIRE(sink.flows.size() == 1);
    const std::shared_ptr<const Template> held = sink.flows[0].tmpl;

    MessageBuilder w(1);
    w.begin_set(2).withdrawal(256);
    REQUIRE(decode_message(w.build(), session, counters, sink, kNow).ok);
    CHECK(counters.withdrawals == 1);
    CHECK(session.find(1, 256, kNow) == nullptr);
    CHECK(held->fields.size() == 1);

    decode_message(data_message(1, 256, "10.0.0.2"), session, counters, sink, kNow);
    CHECK(sink.flows.size() == 1);
    CHECK(drops(counters, DropReason::kMissingTemplate) == 1);

    // After a withdrawal the ID may be redefined differently without complaint.
    decode_message(template_message(1, 256, {{12, 4}}), session, counters, sink, kNow);
    CHECK(drops(counters, DropReason::kTemplateRedefined) == 0);
}

TEST_CASE("withdrawal IDs 2 and 3 withdraw all templates or all options templates",
          "[ipfix][session][withdrawal]") {
    Session session(Transport::kTcp, "exporter");
    session.define(1, make_template(256, {{8, 4}}), kNow);
    session.define(1, make_template(257, {{12, 4}}), kNow);
    session.define(1, make_template(258, {{149, 4}, {41, 8}}, 1), kNow);
    session.define(2, make_template(256, {{8, 4}}), kNow);

    CHECK(session.withdraw(1, 2) == 2);
    CHECK(session.find(1, 258, kNow) != nullptr);
    CHECK(session.find(2, 256, kNow) != nullptr);
    CHECK(session.withdraw(1, 3) == 1);
    CHECK(session.template_count() == 1);
}

TEST_CASE("a withdrawal message for all Templates goes through the decoder",
          "[ipfix][session][withdrawal]") {
    Session session(Transport::kTcp, "exporter");
    DecodeCounters counters;
    CollectingSink sink;
    MessageBuilder m(1);
    m.begin_set(2).template_record(256, {{8, 4}}).template_record(257, {{12, 4}});
    m.begin_set(3).options_template_record(258, 1, {{149, 4}});
    decode_message(m.build(), session, counters, sink, kNow);
    REQUIRE(session.template_count() == 3);

    MessageBuilder w(1);
    w.begin_set(2).withdrawal(2);
    w.begin_set(3).withdrawal(3);
    REQUIRE(decode_message(w.build(), session, counters, sink, kNow).ok);
    CHECK(session.template_count() == 0);
    CHECK(counters.withdrawals == 2);
    CHECK(counters.unknown_withdrawals == 0);
}

TEST_CASE("withdrawing an unknown template is counted and ignored",
          "[ipfix][session][withdrawal]") {
    Session session(Transport::kTcp, "exporter");
    DecodeCounters counters;
    CollectingSink sink;
    MessageBuilder w(1);
    w.begin_set(2).withdrawal(300);
    CHECK(decode_message(w.build(), session, counters, sink, kNow).ok);
    CHECK(counters.withdrawals == 1);
    CHECK(counters.unknown_withdrawals == 1);
    CHECK(test::total_drops(counters) == 0);
}

TEST_CASE("UDP templates expire after the timeout unless refreshed", "[ipfix][session][udp]") {
    Session session(Transport::kUdp, "exporter", 100);
    DecodeCounters counters;
    CollectingSink sink;
    decode_message(template_message(1, 256, {{8, 4}}), session, counters, sink, kNow);

    decode_message(data_message(1, 256, "10.0.0.1"), session, counters, sink, kNow + 100);
    CHECK(sink.flows.size() == 1);

    // An identical resend at +90 keeps it alive until +190.
    decode_message(template_message(1, 256, {{8, 4}}), session, counters, sink, kNow + 90);
    decode_message(data_message(1, 256, "10.0.0.2"), session, counters, sink, kNow + 190);
    CHECK(sink.flows.size() == 2);

    decode_message(data_message(1, 256, "10.0.0.3"), session, counters, sink, kNow + 191);
    CHECK(sink.flows.size() == 2);
    CHECK(drops(counters, DropReason::kMissingTemplate) == 1);
}

TEST_CASE("TCP templates never expire", "[ipfix][session][tcp]") {
    Session session(Transport::kTcp, "exporter", 100);
    REQUIRE(session.define(1, make_template(256, {{8, 4}}), kNow));
    CHECK(session.find(1, 256, kNow + 1'000'000) != nullptr);
}

TEST_CASE("over UDP a template may be redefined at will", "[ipfix][session][udp]") {
    Session session(Transport::kUdp, "exporter");
    REQUIRE(session.define(1, make_template(256, {{8, 4}}), kNow));
    const std::uint64_t old_uid = (*session.find(1, 256, kNow))->uid;
    CHECK(session.define(1, make_template(256, {{12, 4}}), kNow));
    const auto* now_live = session.find(1, 256, kNow);
    REQUIRE(now_live != nullptr);
    CHECK((*now_live)->fields[0].id == 12);
    CHECK((*now_live)->uid != old_uid);
}

TEST_CASE("over TCP a redefinition is reported but the new definition is used",
          "[ipfix][session][tcp]") {
    Session session(Transport::kTcp, "exporter");
    DecodeCounters counters;
    CollectingSink sink;
    decode_message(template_message(1, 256, {{8, 4}}), session, counters, sink, kNow);
    decode_message(template_message(1, 256, {{12, 4}}), session, counters, sink, kNow);
    CHECK(drops(counters, DropReason::kTemplateRedefined) == 1);

    decode_message(data_message(1, 256, "10.0.0.9"), session, counters, sink, kNow);
    REQUIRE(sink.flows.size() == 1);
    CHECK(sink.flows[0].view.dst_addr.to_string() == "10.0.0.9");
    CHECK(sink.flows[0].view.src_addr.empty());

    // The identical resend that follows is not a redefinition.
    decode_message(template_message(1, 256, {{12, 4}}), session, counters, sink, kNow);
    CHECK(drops(counters, DropReason::kTemplateRedefined) == 1);
}

TEST_CASE("templates are scoped per Observation Domain", "[ipfix][session][odid]") {
    Session session(Transport::kTcp, "exporter");
    DecodeCounters counters;
    CollectingSink sink;
    decode_message(template_message(10, 256, {{8, 4}}), session, counters, sink, kNow);
    decode_message(template_message(20, 256, {{12, 4}}), session, counters, sink, kNow);
    CHECK(drops(counters, DropReason::kTemplateRedefined) == 0);

    decode_message(data_message(10, 256, "10.0.0.1"), session, counters, sink, kNow);
    decode_message(data_message(20, 256, "10.0.0.2"), session, counters, sink, kNow);
    decode_message(data_message(30, 256, "10.0.0.3"), session, counters, sink, kNow);
    REQUIRE(sink.flows.size() == 2);
    CHECK(sink.flows[0].view.observation_domain == 10);
    CHECK(sink.flows[0].view.src_addr.to_string() == "10.0.0.1");
    CHECK(sink.flows[1].view.observation_domain == 20);
    CHECK(sink.flows[1].view.dst_addr.to_string() == "10.0.0.2");
    CHECK(drops(counters, DropReason::kMissingTemplate) == 1);
}

TEST_CASE("Sequence Numbers count Data Records per domain and wrap", "[ipfix][session][sequence]") {
    Session session(Transport::kUdp, "exporter");
    CHECK(session.check_sequence(1, 100, 5));
    CHECK(session.check_sequence(1, 105, 0));
    CHECK(session.check_sequence(1, 105, 3));
    CHECK(session.check_sequence(2, 7, 1));  // another domain has its own count
    CHECK_FALSE(session.check_sequence(1, 200, 1));
    CHECK(session.check_sequence(1, 201, 1));
    CHECK(session.check_sequence(3, 0xffff'fffe, 4));
    CHECK(session.check_sequence(3, 2, 1));
}

TEST_CASE("a Sequence Number gap is counted and the Message still decoded",
          "[ipfix][session][sequence]") {
    Session session(Transport::kUdp, "exporter");
    DecodeCounters counters;
    CollectingSink sink;
    decode_message(template_message(1, 256, {{8, 4}}, 0), session, counters, sink, kNow);
    decode_message(data_message(1, 256, "10.0.0.1", 0, 3), session, counters, sink, kNow);
    decode_message(data_message(1, 256, "10.0.0.1", 3, 2), session, counters, sink, kNow);
    CHECK(counters.sequence_gaps == 0);
    decode_message(data_message(1, 256, "10.0.0.1", 9, 1), session, counters, sink, kNow);
    CHECK(counters.sequence_gaps == 1);
    CHECK(sink.flows.size() == 6);
}

}  // namespace malfix::ipfix
