#include "sinks/kafka_flow_message.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace malfix::sinks {

namespace {

// Protobuf wire types (protobuf encoding guide): 0 varint, 2 length-delimited.
constexpr std::uint32_t kVarint = 0;
constexpr std::uint32_t kLengthDelimited = 2;

void append_tag(std::string& out, std::uint32_t field, std::uint32_t wire_type) {
    append_varint(out, (std::uint64_t{field} << 3) | wire_type);
}

/// proto3 leaves fields at their default (0, empty) off the wire; so does this encoder.
void append_uint(std::string& out, std::uint32_t field, std::uint64_t v) {
    if (v == 0) {
        return;
    }
    append_tag(out, field, kVarint);
    append_varint(out, v);
}

void append_bytes(std::string& out, std::uint32_t field, std::string_view bytes) {
    append_tag(out, field, kLengthDelimited);
    append_varint(out, bytes.size());
    out.append(bytes);
}

void append_nonempty(std::string& out, std::uint32_t field, std::string_view bytes) {
    if (!bytes.empty()) {
        append_bytes(out, field, bytes);
    }
}

std::string_view address_bytes(const ipfix::IpAddress& addr) {
    const char* p = reinterpret_cast<const char*>(addr.bytes.data());
    if (addr.is_v4()) {
        return {p, 4};
    }
    if (addr.is_v6()) {
        return {p, 16};
    }
    return {};
}

std::string_view strip_dot(std::string_view name) {
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);
    }
    return name;
}

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
    // splitmix64's finaliser: cheap and spreads every input bit over the result.
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBULL;
    return h ^ (h >> 31);
}

std::uint64_t endpoint_hash(const ipfix::IpAddress& addr, std::uint16_t port) {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, addr.bytes.data(), 8);
    std::memcpy(&b, addr.bytes.data() + 8, 8);
    return mix(mix(a, b), port);
}

}  // namespace

Severity severity_of(std::string_view info) {
    if (info.ends_with("(malware)")) {
        return Severity::kHigh;
    }
    if (info.ends_with("(malicious)") || info.starts_with("mass scanner")) {
        return Severity::kMedium;
    }
    if (info.ends_with("(suspicious)")) {
        return Severity::kLow;
    }
    return Severity::kUnknown;
}

void append_varint(std::string& out, std::uint64_t v) {
    char buffer[10];
    std::size_t n = 0;
    while (v >= 0x80) {
        buffer[n++] = static_cast<char>((v & 0x7F) | 0x80);
        v >>= 7;
    }
    buffer[n++] = static_cast<char>(v);
    out.append(buffer, n);
}

FlowMessageEncoder::FlowMessageEncoder() {
    body_.reserve(1024);
}

std::string_view FlowMessageEncoder::sampler_address(
    const std::shared_ptr<const std::string>& exporter) {
    if (!exporter) {
        return {};
    }
    if (exporter.get() == cached_exporter_) {
        return cached_address_;
    }
    cached_exporter_ = exporter.get();
    cached_address_.clear();
    // Network inputs name their exporter "tcp:ADDR:PORT", "udp:ADDR:PORT" or with "[V6]".
    std::string_view name = *exporter;
    if (!name.starts_with("tcp:") && !name.starts_with("udp:")) {
        return cached_address_;
    }
    name.remove_prefix(4);
    std::string host;
    if (name.starts_with('[')) {
        host = std::string(name.substr(1, name.find(']') - 1));
    } else {
        host = std::string(name.substr(0, name.rfind(':')));
    }
    unsigned char buffer[16];
    if (inet_pton(AF_INET, host.c_str(), buffer) == 1) {
        cached_address_.assign(reinterpret_cast<const char*>(buffer), 4);
    } else if (inet_pton(AF_INET6, host.c_str(), buffer) == 1) {
        cached_address_.assign(reinterpret_cast<const char*>(buffer), 16);
    }
    return cached_address_;
}

void FlowMessageEncoder::append(std::string& out, const engine::FlowBatch& batch,
                                const engine::FlowRecord& flow, std::uint64_t received_ns,
                                bool length_prefix) {
    namespace f = flowpb_field;
    const ipfix::FlowView& v = flow.view;
    std::string& m = length_prefix ? body_ : out;
    if (length_prefix) {
        body_.clear();
    }

    append_uint(m, f::kType, kFlowTypeIpfix);
    append_nonempty(m, f::kSrcAddr, address_bytes(v.src_addr));
    append_nonempty(m, f::kDstAddr, address_bytes(v.dst_addr));
    append_uint(m, f::kBytes, v.octets);
    append_uint(m, f::kPackets, v.packets);
    if (flow.exporter < batch.exporters.size()) {
        append_nonempty(m, f::kSamplerAddress, sampler_address(batch.exporters[flow.exporter]));
    }
    append_uint(m, f::kProto, v.protocol);
    append_uint(m, f::kSrcPort, v.src_port);
    append_uint(m, f::kDstPort, v.dst_port);
    const ipfix::IpAddress& family = v.src_addr.empty() ? v.dst_addr : v.src_addr;
    append_uint(m, f::kEtype, family.is_v4() ? 0x0800 : family.is_v6() ? 0x86DD : 0);
    append_uint(m, f::kObservationDomainId, v.observation_domain);
    append_uint(m, f::kTimeReceivedNs, received_ns);
    append_uint(m, f::kTimeFlowStartNs,
                static_cast<std::uint64_t>(std::max<std::int64_t>(v.start_ns, 0)));
    append_uint(m, f::kTimeFlowEndNs,
                static_cast<std::uint64_t>(std::max<std::int64_t>(v.end_ns, 0)));

    const std::span<const engine::Hit> hits = batch.hits_of(flow);
    for (const engine::Hit& hit : hits) {
        append_bytes(m, f::kMalfixType, engine::hit_type_name(hit.type));
    }
    for (const engine::Hit& hit : hits) {
        append_bytes(m, f::kMalfixTrail, hit.trail);
    }
    for (const engine::Hit& hit : hits) {
        append_bytes(m, f::kMalfixInfo, hit.info);
    }
    for (const engine::Hit& hit : hits) {
        append_bytes(m, f::kMalfixReference, hit.reference);
    }
    for (const engine::Hit& hit : hits) {
        append_bytes(m, f::kMalfixField, engine::hit_field_name(hit.field));
    }
    if (!hits.empty()) {
        // proto3 packs repeated enums: one length-delimited field of varints (each 0-3, one
        // byte), so its length is the number of hits.
        append_tag(m, f::kMalfixSeverity, kLengthDelimited);
        append_varint(m, hits.size());
        for (const engine::Hit& hit : hits) {
            m.push_back(static_cast<char>(severity_of(hit.info)));
        }
    }
    for (std::size_t i = 0; i < v.dns_count; ++i) {
        append_bytes(m, f::kDnsQnames, strip_dot(v.dns_name(i)));
    }

    if (length_prefix) {
        append_varint(out, body_.size());
        out.append(body_);
    }
}

std::size_t kafka_key(KafkaKey kind, const ipfix::FlowView& flow, std::byte* out) {
    switch (kind) {
        case KafkaKey::kNone:
            return 0;
        case KafkaKey::kSrcAddr: {
            const std::string_view bytes = address_bytes(flow.src_addr);
            std::memcpy(out, bytes.data(), bytes.size());
            return bytes.size();
        }
        case KafkaKey::kFlowHash: {
            // Symmetric: both directions of a conversation land in the same partition.
            const std::uint64_t a = endpoint_hash(flow.src_addr, flow.src_port);
            const std::uint64_t b = endpoint_hash(flow.dst_addr, flow.dst_port);
            const std::uint64_t h = mix(std::min(a, b) ^ mix(std::max(a, b), 1), flow.protocol);
            for (int i = 0; i < 8; ++i) {
                out[i] = static_cast<std::byte>(h >> (56 - 8 * i));
            }
            return 8;
        }
    }
    return 0;
}

}  // namespace malfix::sinks
