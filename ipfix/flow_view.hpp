#pragma once

#include "ipfix/ip_address.hpp"
#include "ipfix/template.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace malfix::ipfix {

/// A DNS name found in a Data Record. The bytes stay in the record: offset and length are
/// relative to the first byte of the record, so the view survives copying the record.
struct DnsQuery {
    std::uint32_t offset = 0;
    std::uint16_t length = 0;
    std::uint16_t qtype = 0;  ///< DNS type number (1 A, 28 AAAA, ...), 0 when unknown

    std::string_view name(std::span<const std::byte> record) const {
        return {reinterpret_cast<const char*>(record.data()) + offset, length};
    }
};

/// What the decoder yields for each Data Record of a (non-options) Template: the observables
/// the matchers look at, and a reference to the raw record and its Template for re-encoding.
///
/// Only valid during the decoder's callback: record points into the Message buffer and the
/// template pointers into the session's template cache. Whoever keeps a flow copies the record
/// bytes and the shared_ptrs it needs.
struct FlowView {
    static constexpr std::size_t kMaxDnsQueries = 8;
    static constexpr std::size_t kMaxNestedTemplates = 16;

    IpAddress src_addr;
    IpAddress dst_addr;
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    std::uint8_t protocol = 0;
    bool has_ports = false;

    /// Nanoseconds since the Unix epoch, 0 when the record has no such time.
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
    std::uint64_t octets = 0;
    std::uint64_t packets = 0;

    /// Distinct DNS names (question and answer owner names; yaf DPI or MalFIX 420/1).
    std::array<DnsQuery, kMaxDnsQueries> dns{};
    std::uint8_t dns_count = 0;
    bool dns_truncated = false;  ///< more distinct names than kMaxDnsQueries

    std::uint32_t observation_domain = 0;
    std::uint32_t export_time = 0;  ///< Export Time of the Message, Unix seconds

    std::span<const std::byte> record;
    const std::shared_ptr<const Template>* tmpl = nullptr;
    /// Templates referenced from this record's subTemplateList / subTemplateMultiList
    /// fields (RFC 6313), which an encoder must export before it copies the record verbatim.
    std::array<const std::shared_ptr<const Template>*, kMaxNestedTemplates> nested{};
    std::uint8_t nested_count = 0;

    std::string_view dns_name(std::size_t i) const { return dns[i].name(record); }
};

}  // namespace malfix::ipfix
