#pragma once

// Builders for hand-made Templates, records and batches shared by the sinks tests.

#include "engine/flow_batch.hpp"
#include "ipfix/flow_view.hpp"
#include "ipfix/template.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace malfix::test {

using ipfix::FieldSpec;
using ipfix::kVariableLength;

inline std::shared_ptr<const ipfix::Template> make_template(std::uint16_t id,
                                                            std::vector<FieldSpec> fields) {
    static std::atomic<std::uint64_t> next_uid{1000};
    auto t = std::make_shared<ipfix::Template>();
    t->id = id;
    t->fields = std::move(fields);
    for (const FieldSpec& f : t->fields) {
        t->min_record_length += f.is_variable() ? 1 : f.length;
        t->fixed_length = t->fixed_length && !f.is_variable();
    }
    t->uid = next_uid++;
    return t;
}

/// sourceIPv4Address, destinationIPv4Address, sourceTransportPort, destinationTransportPort,
/// protocolIdentifier, octetDeltaCount, packetDeltaCount, flowStartMilliseconds,
/// flowEndMilliseconds: 45 bytes.
inline std::vector<FieldSpec> basic_fields() {
    return {{8, 4, 0}, {12, 4, 0}, {7, 2, 0},   {11, 2, 0}, {4, 1, 0},
            {1, 8, 0}, {2, 8, 0},  {152, 8, 0}, {153, 8, 0}};
}

inline void put_be(std::vector<std::byte>& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        out.push_back(static_cast<std::byte>(v >> (8 * i)));
    }
}

inline void put_varlen(std::vector<std::byte>& out, std::string_view s) {
    out.push_back(static_cast<std::byte>(s.size()));
    for (char c : s) {
        out.push_back(static_cast<std::byte>(c));
    }
}

struct BasicFlow {
    std::uint32_t src = 0xC0000201;  // 192.0.2.1
    std::uint32_t dst = 0xC6336402;  // 198.51.100.2
    std::uint16_t sport = 49152;
    std::uint16_t dport = 443;
    std::uint8_t proto = 6;
    std::uint64_t octets = 1500;
    std::uint64_t packets = 3;
    std::uint64_t start_ms = 1460049092478;  // 2016-04-07T17:11:32.478Z
    std::uint64_t end_ms = 1460049093000;
};

inline std::vector<std::byte> basic_record(const BasicFlow& f) {
    std::vector<std::byte> r;
    put_be(r, f.src, 4);
    put_be(r, f.dst, 4);
    put_be(r, f.sport, 2);
    put_be(r, f.dport, 2);
    put_be(r, f.proto, 1);
    put_be(r, f.octets, 8);
    put_be(r, f.packets, 8);
    put_be(r, f.start_ms, 8);
    put_be(r, f.end_ms, 8);
    return r;
}

/// A view of record decoded as the decoder would (only what the sinks read). tmpl must outlive
/// the view: FlowView keeps a pointer to the shared_ptr.
inline ipfix::FlowView basic_view(const std::vector<std::byte>& record,
                                  const std::shared_ptr<const ipfix::Template>& tmpl,
                                  const BasicFlow& f, std::uint32_t odid = 1) {
    ipfix::FlowView v;
    v.src_addr = ipfix::IpAddress::v4(f.src);
    v.dst_addr = ipfix::IpAddress::v4(f.dst);
    v.src_port = f.sport;
    v.dst_port = f.dport;
    v.protocol = f.proto;
    v.has_ports = true;
    v.octets = f.octets;
    v.packets = f.packets;
    v.start_ns = static_cast<std::int64_t>(f.start_ms) * 1'000'000;
    v.end_ns = static_cast<std::int64_t>(f.end_ms) * 1'000'000;
    v.observation_domain = odid;
    v.record = {record.data(), record.size()};
    v.tmpl = &tmpl;
    return v;
}

inline engine::Hit ip_hit(std::string_view trail, std::string_view info,
                          std::string_view reference = "(static)",
                          engine::HitField field = engine::HitField::kDstAddr) {
    engine::Hit h;
    h.type = engine::HitType::kIp;
    h.field = field;
    h.trail = trail;
    h.info = info;
    h.reference = reference;
    return h;
}

/// Adds a flow with its hits to batch and sets forward.
inline engine::FlowRecord& add_flow(engine::FlowBatch& batch, const ipfix::FlowView& view,
                                    std::initializer_list<engine::Hit> hits, bool forward = true,
                                    const std::shared_ptr<const std::string>& exporter =
                                        std::make_shared<const std::string>("tcp:192.0.2.9:4739")) {
    if (!batch.add(view, exporter)) {
        throw std::runtime_error("batch full");
    }
    engine::FlowRecord& rec = batch.flows.back();
    for (const engine::Hit& h : hits) {
        batch.hits.push_back(h);
    }
    rec.hit_count = static_cast<std::uint16_t>(hits.size());
    rec.forward = forward;
    return rec;
}

inline std::span<const std::byte> as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace malfix::test
