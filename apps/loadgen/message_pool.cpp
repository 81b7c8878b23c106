#include "apps/loadgen/message_pool.hpp"

#include "ipfix/elements.hpp"
#include "ipfix/encoder.hpp"
#include "ipfix/template.hpp"

#include <algorithm>
#include <cstring>

namespace malfix::loadgen {
namespace {

using ipfix::FieldSpec;
using ipfix::kVariableLength;

constexpr std::uint16_t kVersion = 10;
constexpr std::uint16_t kTemplateSetId = 2;
constexpr std::size_t kSetHeaderSize = 4;

// Data Templates: IPv4/IPv6, without and with a DNS name.
constexpr std::uint16_t kTemplateV4 = 256;
constexpr std::uint16_t kTemplateV6 = 257;
constexpr std::uint16_t kTemplateV4Dns = 258;
constexpr std::uint16_t kTemplateV6Dns = 259;
// yaf's nested DNS Templates; the IDs are yaf 2.x's, though decoders must not rely on them
// (REFERENCE §2).
constexpr std::uint16_t kTemplateDnsEntry = 0xCE00;
constexpr std::uint16_t kTemplateDnsRr = 0xCF00;
constexpr std::uint16_t kTemplateDnsA = 0xCE01;
constexpr std::uint16_t kTemplateDnsAaaa = 0xCE02;

constexpr std::uint8_t kSemanticAllOf = 3;  // RFC 6313 §4.4, what yaf writes
constexpr std::uint16_t kPaddingOctets = 210;
constexpr std::uint16_t kTcpControlBits = 6;
constexpr std::uint16_t kDnsTtl = 199;
constexpr std::uint16_t kDnsQueryResponse = 174;
constexpr std::uint16_t kDnsAuthoritative = 176;
constexpr std::uint16_t kDnsNxDomain = 177;
constexpr std::uint16_t kDnsId = 226;
constexpr std::size_t kRrPadding = 4;
// MalFIX's dnsType values (REFERENCE §1): 4 for A, anything else means AAAA.
constexpr std::uint8_t kMalfixTypeA = 4;
constexpr std::uint8_t kMalfixTypeAaaa = 6;

std::vector<FieldSpec> flow_fields(bool v6) {
    namespace ie = ipfix::ie;
    std::vector<FieldSpec> f{
        {ie::kFlowStartMilliseconds, 8, 0},
        {ie::kFlowEndMilliseconds, 8, 0},
        {ie::kOctetDeltaCount, 8, 0},
        {ie::kPacketDeltaCount, 8, 0},
        {v6 ? ie::kSourceIPv6Address : ie::kSourceIPv4Address,
         static_cast<std::uint16_t>(v6 ? 16 : 4), 0},
        {v6 ? ie::kDestinationIPv6Address : ie::kDestinationIPv4Address,
         static_cast<std::uint16_t>(v6 ? 16 : 4), 0},
        {ie::kSourceTransportPort, 2, 0},
        {ie::kDestinationTransportPort, 2, 0},
        {ie::kProtocolIdentifier, 1, 0},
        {kTcpControlBits, 2, 0},
    };
    return f;
}

void push8(std::vector<std::byte>& out, std::uint64_t v) {
    out.push_back(static_cast<std::byte>(v));
}
void push16(std::vector<std::byte>& out, std::uint64_t v) {
    push8(out, v >> 8);
    push8(out, v);
}
void push32(std::vector<std::byte>& out, std::uint64_t v) {
    push16(out, v >> 16);
    push16(out, v & 0xFFFFU);
}
void push64(std::vector<std::byte>& out, std::uint64_t v) {
    push32(out, static_cast<std::uint32_t>(v >> 32));
    push32(out, static_cast<std::uint32_t>(v));
}
void put16(std::byte* at, std::uint64_t v) {
    at[0] = static_cast<std::byte>(v >> 8);
    at[1] = static_cast<std::byte>(v);
}
void put32(std::byte* at, std::uint64_t v) {
    put16(at, v >> 16);
    put16(at + 2, v & 0xFFFFU);
}
void push_address(std::vector<std::byte>& out, const ipfix::IpAddress& a) {
    const std::size_t n = a.is_v6() ? 16 : 4;
    for (std::size_t i = 0; i < n; ++i) {
        push8(out, a.bytes[i]);
    }
}
// RFC 7011 §7: one length byte below 255, else 255 and two length bytes.
void push_varlen(std::vector<std::byte>& out, std::span<const std::byte> value) {
    if (value.size() < 255) {
        push8(out, static_cast<std::uint32_t>(value.size()));
    } else {
        push8(out, 255);
        push16(out, static_cast<std::uint32_t>(value.size()));
    }
    out.insert(out.end(), value.begin(), value.end());
}
void push_string(std::vector<std::byte>& out, std::string_view s) {
    push_varlen(out, std::as_bytes(std::span(s.data(), s.size())));
}

}  // namespace

void patch_header(std::byte* header, std::uint32_t export_time, std::uint32_t sequence) {
    put32(header + 4, export_time);
    put32(header + 8, sequence);
}

MessagePool::MessagePool(FlowGenerator& generator, const PoolConfig& config) : config_(config) {
    config_.max_message_size = std::clamp<std::size_t>(config_.max_message_size, 512, 65535);
    build_templates();
    FlowSpec flow;
    while (stats_.flows < config_.max_flows && arena_.size() < config_.max_bytes) {
        generator.next(flow);
        encode(flow);
        count(flow);
    }
    close_message();
}

void MessagePool::build_templates() {
    const bool yaf = config_.dns == DnsEncoding::kYaf;
    std::vector<std::byte> set;
    for (const bool v6 : {false, true}) {
        std::vector<FieldSpec> fields = flow_fields(v6);
        ipfix::encode_template_record(v6 ? kTemplateV6 : kTemplateV4, 0, fields, set);
        if (yaf) {
            fields.push_back({ipfix::ie::kSubTemplateMultiList, kVariableLength, 0});
        } else {
            fields.push_back({ipfix::malfix_ie::kDnsName, kVariableLength, ipfix::pen::kMalfix});
            fields.push_back({ipfix::malfix_ie::kDnsType, 1, ipfix::pen::kMalfix});
        }
        ipfix::encode_template_record(v6 ? kTemplateV6Dns : kTemplateV4Dns, 0, fields, set);
    }
    if (yaf) {
        namespace cert = ipfix::cert_ie;
        const std::uint32_t pen = ipfix::pen::kCert;
        const std::vector<FieldSpec> entry{{ipfix::ie::kSubTemplateList, kVariableLength, 0}};
        const std::vector<FieldSpec> rr{
            {ipfix::ie::kSubTemplateList, kVariableLength, 0},
            {cert::kDnsQName, kVariableLength, pen},
            {kDnsTtl, 4, pen},
            {cert::kDnsQRType, 2, pen},
            {kDnsQueryResponse, 1, pen},
            {kDnsAuthoritative, 1, pen},
            {kDnsNxDomain, 1, pen},
            {cert::kDnsRRSection, 1, pen},
            {kDnsId, 2, pen},
            {kPaddingOctets, kRrPadding, 0},
        };
        const std::vector<FieldSpec> a{{ipfix::ie::kSourceIPv4Address, 4, 0}};
        const std::vector<FieldSpec> aaaa{{ipfix::ie::kSourceIPv6Address, 16, 0}};
        ipfix::encode_template_record(kTemplateDnsEntry, 0, entry, set);
        ipfix::encode_template_record(kTemplateDnsRr, 0, rr, set);
        ipfix::encode_template_record(kTemplateDnsA, 0, a, set);
        ipfix::encode_template_record(kTemplateDnsAaaa, 0, aaaa, set);
    }

    templates_.clear();
    push16(templates_, kVersion);
    push16(templates_, kHeaderSize + kSetHeaderSize + set.size());
    push32(templates_, 0);
    push32(templates_, 0);
    push32(templates_, config_.observation_domain);
    push16(templates_, kTemplateSetId);
    push16(templates_, kSetHeaderSize + set.size());
    templates_.insert(templates_.end(), set.begin(), set.end());
}

void MessagePool::encode(const FlowSpec& flow) {
    record_.clear();
    push64(record_, flow.start_ms);
    push64(record_, flow.end_ms);
    push64(record_, flow.octets);
    push64(record_, flow.packets);
    push_address(record_, flow.src);
    push_address(record_, flow.dst);
    push16(record_, flow.src_port);
    push16(record_, flow.dst_port);
    push8(record_, flow.protocol);
    push16(record_, flow.tcp_flags);

    const bool v6 = flow.is_v6();
    if (!flow.has_dns()) {
        add_record(v6 ? kTemplateV6 : kTemplateV4);
        return;
    }
    if (config_.dns == DnsEncoding::kFlat) {
        push_string(record_, flow.dns_name);
        push8(record_, flow.dns_qtype == ipfix::dns::kTypeA ? kMalfixTypeA : kMalfixTypeAaaa);
    } else {
        encode_yaf_dns(flow);
    }
    add_record(v6 ? kTemplateV6Dns : kTemplateV4Dns);
}

void MessagePool::encode_yaf_dns(const FlowSpec& flow) {
    // Built inside out: the resource records, the subTemplateList holding them, the DNS entry
    // record, and the subTemplateMultiList around it (REFERENCE §2, RFC 6313 §4.5).
    const bool aaaa = flow.dns_qtype == ipfix::dns::kTypeAaaa;
    std::string qname = flow.dns_name;
    qname += '.';  // yaf writes owner names with the root dot

    std::vector<std::byte> rrs;
    rrs.reserve(256);
    push8(rrs, kSemanticAllOf);
    push16(rrs, kTemplateDnsRr);
    for (const bool answer : {false, true}) {
        std::vector<std::byte> rdata;
        push8(rdata, kSemanticAllOf);
        push16(rdata, aaaa ? kTemplateDnsAaaa : kTemplateDnsA);
        if (answer) {
            push_address(rdata, flow.dns_answer);
        }
        push_varlen(rrs, rdata);
        push_string(rrs, qname);
        push32(rrs, answer ? 300 : 0);
        push16(rrs, flow.dns_qtype);
        push8(rrs, answer ? 1 : 0);
        push8(rrs, 0);
        push8(rrs, 0);
        push8(rrs, answer ? ipfix::dns::kSectionAnswer : ipfix::dns::kSectionQuestion);
        push16(rrs, flow.dns_id);
        for (std::size_t i = 0; i < kRrPadding; ++i) {
            push8(rrs, 0);
        }
    }

    std::vector<std::byte> entry;
    push_varlen(entry, rrs);

    scratch_.clear();
    push8(scratch_, kSemanticAllOf);
    push16(scratch_, kTemplateDnsEntry);
    push16(scratch_, 4 + entry.size());
    scratch_.insert(scratch_.end(), entry.begin(), entry.end());
    push_varlen(record_, scratch_);
}

void MessagePool::add_record(std::uint16_t template_id) {
    const bool new_set = set_start_ == 0 || set_id_ != template_id;
    const std::size_t need = record_.size() + (new_set ? kSetHeaderSize : 0);
    if (!current_.empty() && current_records_ != 0 &&
        current_.size() + need > config_.max_message_size) {
        close_message();
    }
    if (current_.empty()) {
        open_message();
    }
    if (set_start_ == 0 || set_id_ != template_id) {
        if (set_start_ != 0) {
            put16(current_.data() + set_start_ + 2, current_.size() - set_start_);
        }
        set_start_ = current_.size();
        set_id_ = template_id;
        push16(current_, template_id);
        push16(current_, 0);
    }
    current_.insert(current_.end(), record_.begin(), record_.end());
    ++current_records_;
    record_end_.push_back(static_cast<std::uint32_t>(current_.size()));
    record_set_.push_back(static_cast<std::uint32_t>(set_start_));
}

void MessagePool::open_message() {
    current_.clear();
    push16(current_, kVersion);
    push16(current_, 0);
    push32(current_, 0);
    push32(current_, 0);
    push32(current_, config_.observation_domain);
    current_records_ = 0;
    set_start_ = 0;
}

void MessagePool::close_message() {
    if (current_.empty()) {
        return;
    }
    put16(current_.data() + set_start_ + 2, current_.size() - set_start_);
    put16(current_.data() + 2, current_.size());
    Entry e;
    e.offset = arena_.size();
    e.length = static_cast<std::uint32_t>(current_.size());
    e.records = current_records_;
    e.first_record = record_end_.size() - current_records_;
    messages_.push_back(e);
    arena_.insert(arena_.end(), current_.begin(), current_.end());
    current_.clear();
    current_records_ = 0;
    set_start_ = 0;
}

void MessagePool::count(const FlowSpec& flow) {
    ++stats_.flows;
    stats_.ipv6 += flow.is_v6() ? 1 : 0;
    switch (flow.kind) {
        case FlowKind::kBenign:
            ++stats_.benign;
            break;
        case FlowKind::kBenignDns:
            ++stats_.benign_dns;
            break;
        case FlowKind::kMaliciousIp:
            ++stats_.malicious_ip;
            break;
        case FlowKind::kMaliciousDns:
            ++stats_.malicious_dns;
            break;
    }
}

void MessagePool::truncate(std::size_t i, std::uint32_t n, std::vector<std::byte>& out) const {
    const Entry& e = messages_[i];
    const std::size_t last = e.first_record + n - 1;
    const std::uint32_t end = record_end_[last];
    const std::uint32_t set = record_set_[last];
    const std::byte* base = arena_.data() + e.offset;
    out.assign(base, base + end);
    put16(out.data() + set + 2, end - set);
    put16(out.data() + 2, end);
}

StreamCursor::StreamCursor(const MessagePool& pool, std::uint64_t quota, std::size_t first_message)
    : pool_(pool), quota_(quota), index_(pool.size() == 0 ? 0 : first_message % pool.size()) {}

bool StreamCursor::next(Chunk& out, std::uint32_t export_time) {
    if (flows_ >= quota_) {
        return false;
    }
    std::span<const std::byte> message;
    std::uint32_t records = 0;
    if (templates_due_ || pool_.size() == 0) {
        templates_due_ = false;
        message = pool_.templates();
    } else {
        records = pool_.records(index_);
        if (quota_ - flows_ < records) {
            records = static_cast<std::uint32_t>(quota_ - flows_);
            pool_.truncate(index_, records, cut_);
            message = cut_;
        } else {
            message = pool_.message(index_);
        }
        index_ = (index_ + 1) % pool_.size();
    }
    auto& header = headers_[slot_];
    slot_ = (slot_ + 1) % kMaxBatch;
    std::memcpy(header.data(), message.data(), MessagePool::kHeaderSize);
    // The Sequence Number counts the Data Records sent before this Message (RFC 7011 §3.1).
    patch_header(header.data(), export_time, sequence_);
    sequence_ += records;
    flows_ += records;
    out.header = header.data();
    out.body = message.subspan(MessagePool::kHeaderSize);
    out.records = records;
    return true;
}

}  // namespace malfix::loadgen
