#include "ipfix/decoder.hpp"

#include "ipfix/byte_reader.hpp"
#include "ipfix/elements.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace malfix::ipfix {

namespace {

constexpr std::uint16_t kIpfixVersion = 10;
constexpr std::size_t kMessageHeaderLength = 16;
constexpr std::size_t kSetHeaderLength = 4;
constexpr std::uint16_t kTemplateSetId = 2;
constexpr std::uint16_t kOptionsTemplateSetId = 3;
constexpr std::uint16_t kMinDataSetId = 256;
constexpr std::uint16_t kMinTemplateId = 256;
constexpr std::uint16_t kEnterpriseBit = 0x8000;

// RFC 6313 lists nest; yaf's DNS data sits three lists deep (STML entry, DNS resource record
// list, type-specific list). The limit bounds recursion on hostile input.
constexpr int kMaxListDepth = 4;

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kNanosPerMilli = 1'000'000;
constexpr std::int64_t kNanosPerMicro = 1'000;
// Seconds from the NTP epoch (1900-01-01) to the Unix epoch (RFC 7011 §6.1.9, RFC 5905).
constexpr std::uint64_t kNtpToUnixSeconds = 2'208'988'800;
constexpr std::uint64_t kMaxMillis =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / kNanosPerMilli);

struct MessageHeader {
    std::uint16_t length = 0;
    std::uint32_t export_time = 0;
    std::uint32_t sequence = 0;
    std::uint32_t domain = 0;
};

/// State shared by everything that decodes one Message.
struct MessageContext {
    Session& session;
    DecodeCounters& counters;
    FlowSink& sink;
    std::int64_t now;
    std::uint32_t domain;
    std::uint32_t export_time;
    std::uint32_t data_records = 0;  ///< Data Records delimited, for the Sequence Number

    void drop(DropReason reason) { ++counters.drop(reason); }
};

// ---------------------------------------------------------------------------------------------
// Message and Set headers

bool valid_set_id(std::uint16_t id) {
    // 0 and 1 were NetFlow v9's, 4..255 are reserved (RFC 7011 §3.3.2).
    return id == kTemplateSetId || id == kOptionsTemplateSetId || id >= kMinDataSetId;
}

DecodeResult refuse(DropReason reason, std::size_t offset) {
    return {false, reason, offset};
}

/// Checks the Message Header and walks every Set header, so that a Message is refused before
/// any of its records reaches the sink.
DecodeResult validate_message(std::span<const std::byte> bytes, MessageHeader& header) {
    if (bytes.size() < kMessageHeaderLength) {
        return refuse(DropReason::kShortMessage, 0);
    }
    const std::byte* p = bytes.data();
    if (load_be16(p) != kIpfixVersion) {
        return refuse(DropReason::kBadVersion, 0);
    }
    header.length = load_be16(p + 2);
    if (header.length < kMessageHeaderLength) {
        return refuse(DropReason::kBadMessageLength, 2);
    }
    if (header.length > bytes.size()) {
        // A datagram cut short, or a Length that lies: either way the Message is incomplete.
        return refuse(DropReason::kShortMessage, 2);
    }
    header.export_time = load_be32(p + 4);
    header.sequence = load_be32(p + 8);
    header.domain = load_be32(p + 12);

    std::size_t offset = kMessageHeaderLength;
    while (offset < header.length) {
        if (header.length - offset < kSetHeaderLength) {
            return refuse(DropReason::kBadSetLength, offset);
        }
        const std::uint16_t set_id = load_be16(p + offset);
        const std::uint16_t set_length = load_be16(p + offset + 2);
        // A Set Length under 4 would stop the walk (header-and-zeros loops naive parsers).
        if (set_length < kSetHeaderLength || set_length > header.length - offset) {
            return refuse(DropReason::kBadSetLength, offset);
        }
        if (!valid_set_id(set_id)) {
            return refuse(DropReason::kBadSetId, offset);
        }
        // A Set holds at least one record (RFC 7011 §3.3.1).
        if (set_length == kSetHeaderLength) {
            return refuse(DropReason::kEmptySet, offset);
        }
        offset += set_length;
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// Template Sets (RFC 7011 §3.4)

bool read_field_spec(ByteReader& reader, FieldSpec& field) {
    std::uint16_t raw_id = 0;
    if (!reader.read_u16(raw_id) || !reader.read_u16(field.length)) {
        return false;
    }
    field.id = static_cast<std::uint16_t>(raw_id & ~kEnterpriseBit);
    field.enterprise = 0;
    if ((raw_id & kEnterpriseBit) != 0) {
        return reader.read_u32(field.enterprise);
    }
    return true;
}

/// Compares the Field Specifiers on the wire with a live definition without building a
/// Template, so the periodic resends of UDP Exporters do not allocate.
bool same_as_live(ByteReader reader, std::uint16_t field_count, std::uint16_t scope_count,
                  const Template& live) {
    if (live.scope_field_count != scope_count || live.fields.size() != field_count) {
        return false;
    }
    for (const FieldSpec& known : live.fields) {
        FieldSpec field;
        if (!read_field_spec(reader, field) || !(field == known)) {
            return false;
        }
    }
    return true;
}

void install_template(MessageContext& ctx, ByteReader fields, std::uint16_t id,
                      std::uint16_t field_count, std::uint16_t scope_count) {
    ++ctx.counters.template_records;
    const std::shared_ptr<const Template>* live = ctx.session.find(ctx.domain, id, ctx.now);
    if (live != nullptr && same_as_live(fields, field_count, scope_count, **live)) {
        ctx.session.refresh(ctx.domain, id, ctx.now);
        return;
    }

    Template tmpl;
    tmpl.id = id;
    tmpl.scope_field_count = scope_count;
    tmpl.fields.resize(field_count);
    for (FieldSpec& field : tmpl.fields) {
        read_field_spec(fields, field);  // already bounds-checked by the caller
    }
    // On TCP the redefinition still replaces the old one; see Session::define().
    if (!ctx.session.define(ctx.domain, std::move(tmpl), ctx.now)) {
        ctx.drop(DropReason::kTemplateRedefined);
    }
}

void withdraw_template(MessageContext& ctx, std::uint16_t id, bool options) {
    ++ctx.counters.withdrawals;
    // ID 2 (Template Set) or 3 (Options Template Set) withdraws them all (RFC 7011 §8.1).
    const std::uint16_t all = options ? kOptionsTemplateSetId : kTemplateSetId;
    if (id < kMinTemplateId && id != all) {
        ctx.drop(DropReason::kBadTemplate);
        return;
    }
    // A withdrawal of an unknown Template is ignored (RFC 7011 §8.1), only counted.
    if (ctx.session.withdraw(ctx.domain, id) == 0 && id != all) {
        ++ctx.counters.unknown_withdrawals;
    }
}

/// Decodes one Template or Options Template record. Returns false when the rest of the Set
/// can no longer be delimited.
bool decode_template_record(MessageContext& ctx, ByteReader& reader, bool options) {
    std::uint16_t id = 0;
    std::uint16_t field_count = 0;
    if (!reader.read_u16(id) || !reader.read_u16(field_count)) {
        ctx.drop(DropReason::kBadTemplate);
        return false;
    }
    // Field Count 0 is a Template Withdrawal, with no Scope Field Count (RFC 7011 §8.1).
    if (field_count == 0) {
        withdraw_template(ctx, id, options);
        return true;
    }
    std::uint16_t scope_count = 0;
    if (options && !reader.read_u16(scope_count)) {
        ctx.drop(DropReason::kBadTemplate);
        return false;
    }

    const ByteReader fields = reader;
    bool zero_length_field = false;
    for (std::uint16_t i = 0; i < field_count; ++i) {
        FieldSpec field;
        if (!read_field_spec(reader, field)) {
            ctx.drop(DropReason::kBadTemplate);
            return false;
        }
        zero_length_field = zero_length_field || field.length == 0;
    }

    // The record is delimited, so a bad one is skipped and the Set goes on. A Scope Field
    // Count of 0 or above the Field Count is invalid (RFC 7011 §3.4.2.2). Zero-length fields
    // carry nothing, and records made of them could not be told from padding; refusing them
    // also keeps the work per record proportional to its bytes.
    const bool bad_scope = options && (scope_count == 0 || scope_count > field_count);
    if (id < kMinTemplateId || bad_scope || zero_length_field) {
        ctx.drop(DropReason::kBadTemplate);
        return true;
    }
    install_template(ctx, fields, id, field_count, scope_count);
    return true;
}

bool all_zero(std::span<const std::byte> bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

void decode_template_set(MessageContext& ctx, std::span<const std::byte> body, bool options) {
    ByteReader reader(body);
    std::size_t records = 0;
    // Trailing zeros are padding (RFC 7011 §3.3.1); Template ID 0 is never valid.
    while (reader.remaining() >= 4 && !all_zero(reader.rest())) {
        if (!decode_template_record(ctx, reader, options)) {
            return;
        }
        ++records;
    }
    if (records == 0) {
        ctx.drop(DropReason::kEmptySet);
    }
}

// ---------------------------------------------------------------------------------------------
// Data Records

bool read_value(ByteReader& reader, const FieldSpec& field, std::span<const std::byte>& value) {
    return field.is_variable() ? reader.read_varlen(value) : reader.read_bytes(field.length, value);
}

/// Walks a record without looking at it; used for Options Template records.

/// A time candidate: a more precise source replaces a less precise one.
struct TimeCandidate {
    int rank = 0;
    std::int64_t ns = 0;

    void offer(int source_rank, std::int64_t value_ns) {
        if (source_rank > rank && value_ns != 0) {
            rank = source_rank;
            ns = value_ns;
        }
    }
};

// Precision ranks of the time sources; equal data comes in at most one form per record.
constexpr int kRankDeltaMicros = 1;  // relative to Export Time, which has whole seconds
constexpr int kRankSeconds = 2;
constexpr int kRankSysUpTime = 3;
constexpr int kRankMillis = 4;
constexpr int kRankMicros = 5;
constexpr int kRankNanos = 6;

/// What the top-level record contributes beyond the FlowView itself, resolved at its end
/// because the elements may come in any order.
struct FlowScratch {
    TimeCandidate start;
    TimeCandidate end;
    std::uint8_t src_port_rank = 0;
    std::uint8_t dst_port_rank = 0;
    std::uint8_t octets_rank = 0;
    std::uint8_t packets_rank = 0;

    bool has_init_time = false;
    std::uint64_t init_time_ms = 0;
    bool has_start_uptime = false;
    bool has_end_uptime = false;
    std::uint32_t start_uptime_ms = 0;
    std::uint32_t end_uptime_ms = 0;
    bool has_start_delta = false;
    bool has_end_delta = false;
    std::uint32_t start_delta_us = 0;
    std::uint32_t end_delta_us = 0;

    bool has_malfix_name = false;
    std::span<const std::byte> malfix_name;
    bool has_malfix_type = false;
    std::uint8_t malfix_type = 0;
};

/// The DNS elements of one (nested) record.
struct DnsScratch {
    bool has_name = false;
    std::span<const std::byte> name;
    std::uint16_t qtype = 0;
    bool has_section = false;
    std::uint8_t section = 0;
};

/// State of one top-level Data Record while its fields and lists are walked.
struct RecordContext {
    MessageContext& msg;
    FlowView& flow;
    const std::byte* base;  ///< first byte of the top-level record
    bool bad_list = false;
};

std::int64_t ntp_to_unix_ns(std::uint64_t ntp) {
    std::uint64_t seconds = ntp >> 32;
    const std::uint64_t fraction = ntp & 0xffff'ffffU;
    // NTP era 0 ends in 2036; a timestamp with the top bit clear belongs to era 1, the
    // convention of RFC 4330 §3 for times that cannot lie before 1968.
    if ((seconds & 0x8000'0000U) == 0) {
        seconds += std::uint64_t{1} << 32;
    }
    const std::uint64_t nanos = (fraction * kNanosPerSecond) >> 32;
    return static_cast<std::int64_t>((seconds - kNtpToUnixSeconds) * kNanosPerSecond + nanos);
}

std::int64_t millis_to_ns(std::uint64_t ms) {
    return ms > kMaxMillis ? 0 : static_cast<std::int64_t>(ms) * kNanosPerMilli;
}

std::uint8_t port_rank(std::uint16_t id) {
    // sourceTransportPort and destinationTransportPort first; the protocol-specific ports
    // only stand in when they are missing.
    return (id == ie::kSourceTransportPort || id == ie::kDestinationTransportPort) ? 2 : 1;
}

void apply_port(FlowView& flow, std::uint8_t& rank, std::uint16_t& port, std::uint16_t id,
                std::uint64_t value) {
    const std::uint8_t r = port_rank(id);
    if (r > rank) {
        rank = r;
        port = static_cast<std::uint16_t>(value);
        flow.has_ports = true;
    }
}

void apply_counter(std::uint8_t& rank, std::uint64_t& counter, std::uint8_t source_rank,
                   std::uint64_t value) {
    if (source_rank > rank) {
        rank = source_rank;
        counter = value;
    }
}

void apply_address(IpAddress& address, std::span<const std::byte> value, std::size_t length) {
    if (value.size() != length) {
        return;
    }
    if (length == 4) {
        address = IpAddress::v4(load_be32(value.data()));
    } else {
        address = IpAddress::v6(reinterpret_cast<const std::uint8_t*>(value.data()));
    }
}

/// load_be_uint() with the widths Templates use almost always (1, 2, 4, 8) loaded in one go:
/// this runs for nearly every field of every record, and the byte loop was a quarter of the
/// decoder's instructions.
bool load_number(std::span<const std::byte> value, std::uint64_t& out) {
    switch (value.size()) {
        case 1:
            out = std::to_integer<std::uint64_t>(value[0]);
            return true;
        case 2:
            out = load_be16(value.data());
            return true;
        case 4:
            out = load_be32(value.data());
            return true;
        case 8:
            out = load_be64(value.data());
            return true;
        default:
            return load_be_uint(value, out);
    }
}

/// Delimits an Options Template record. Its systemInitTimeMilliseconds (IANA IE 160), when
/// present, is kept for the domain: exporters such as softflowd send it only there, and their
/// flow records carry flowStart/EndSysUpTime (IE 22/21) relative to it.
bool skip_record(ByteReader& reader, const Template& tmpl, Session& session, std::uint32_t domain) {
    for (const FieldSpec& field : tmpl.fields) {
        std::span<const std::byte> value;
        if (!read_value(reader, field, value)) {
            return false;
        }
        std::uint64_t ms = 0;
        if (field.enterprise == 0 && field.id == ie::kSystemInitTimeMilliseconds &&
            load_number(value, ms) && ms != 0) {
            session.set_system_init_ms(domain, ms);
        }
    }
    return true;
}

/// dateTimeMicroseconds and dateTimeNanoseconds are NTP timestamps, not Unix time (RFC 7011
/// §6.1.9, §6.1.10); a frequent bug in collectors.
void offer_ntp(TimeCandidate& time, int rank, std::span<const std::byte> value) {
    std::uint64_t number = 0;
    if (value.size() == 8 && load_number(value, number) && number != 0) {
        time.offer(rank, ntp_to_unix_ns(number));
    }
}

/// IANA elements of the top-level record that feed the FlowView. One switch on the element
/// ID decides everything, so a field the FlowView does not take costs one jump. All but the
/// addresses are unsigned integers, possibly in reduced size (RFC 7011 §6.2); a value that is
/// not 1 to 8 bytes long is ignored.
void apply_iana(FlowScratch& s, FlowView& flow, std::uint16_t id,
                std::span<const std::byte> value) {
    std::uint64_t n = 0;
    switch (id) {
        case ie::kSourceIPv4Address:
            apply_address(flow.src_addr, value, 4);
            return;
        case ie::kDestinationIPv4Address:
            apply_address(flow.dst_addr, value, 4);
            return;
        case ie::kSourceIPv6Address:
            apply_address(flow.src_addr, value, 16);
            return;
        case ie::kDestinationIPv6Address:
            apply_address(flow.dst_addr, value, 16);
            return;
        case ie::kProtocolIdentifier:
            if (load_number(value, n)) {
                flow.protocol = static_cast<std::uint8_t>(n);
            }
            return;
        case ie::kSourceTransportPort:
        case ie::kUdpSourcePort:
        case ie::kTcpSourcePort:
            if (load_number(value, n)) {
                apply_port(flow, s.src_port_rank, flow.src_port, id, n);
            }
            return;
        case ie::kDestinationTransportPort:
        case ie::kUdpDestinationPort:
        case ie::kTcpDestinationPort:
            if (load_number(value, n)) {
                apply_port(flow, s.dst_port_rank, flow.dst_port, id, n);
            }
            return;
        case ie::kOctetDeltaCount:
            if (load_number(value, n)) {
                apply_counter(s.octets_rank, flow.octets, 2, n);
            }
            return;
        case ie::kOctetTotalCount:
            if (load_number(value, n)) {
                apply_counter(s.octets_rank, flow.octets, 1, n);
            }
            return;
        case ie::kPacketDeltaCount:
            if (load_number(value, n)) {
                apply_counter(s.packets_rank, flow.packets, 2, n);
            }
            return;
        case ie::kPacketTotalCount:
            if (load_number(value, n)) {
                apply_counter(s.packets_rank, flow.packets, 1, n);
            }
            return;
        case ie::kFlowStartSeconds:
            if (load_number(value, n)) {
                s.start.offer(kRankSeconds, static_cast<std::int64_t>(n) * kNanosPerSecond);
            }
            return;
        case ie::kFlowEndSeconds:
            if (load_number(value, n)) {
                s.end.offer(kRankSeconds, static_cast<std::int64_t>(n) * kNanosPerSecond);
            }
            return;
        case ie::kFlowStartMilliseconds:
            if (load_number(value, n)) {
                s.start.offer(kRankMillis, millis_to_ns(n));
            }
            return;
        case ie::kFlowEndMilliseconds:
            if (load_number(value, n)) {
                s.end.offer(kRankMillis, millis_to_ns(n));
            }
            return;
        case ie::kFlowStartMicroseconds:
            offer_ntp(s.start, kRankMicros, value);
            return;
        case ie::kFlowStartNanoseconds:
            offer_ntp(s.start, kRankNanos, value);
            return;
        case ie::kFlowEndMicroseconds:
            offer_ntp(s.end, kRankMicros, value);
            return;
        case ie::kFlowEndNanoseconds:
            offer_ntp(s.end, kRankNanos, value);
            return;
        case ie::kFlowStartSysUpTime:
            if (load_number(value, n)) {
                s.has_start_uptime = true;
                s.start_uptime_ms = static_cast<std::uint32_t>(n);
            }
            return;
        case ie::kFlowEndSysUpTime:
            if (load_number(value, n)) {
                s.has_end_uptime = true;
                s.end_uptime_ms = static_cast<std::uint32_t>(n);
            }
            return;
        case ie::kSystemInitTimeMilliseconds:
            if (load_number(value, n)) {
                s.has_init_time = true;
                s.init_time_ms = n;
            }
            return;
        case ie::kFlowStartDeltaMicroseconds:
            if (load_number(value, n)) {
                s.has_start_delta = true;
                s.start_delta_us = static_cast<std::uint32_t>(n);
            }
            return;
        case ie::kFlowEndDeltaMicroseconds:
            if (load_number(value, n)) {
                s.has_end_delta = true;
                s.end_delta_us = static_cast<std::uint32_t>(n);
            }
            return;
        default:
            return;
    }
}

void apply_malfix(FlowScratch& s, std::uint16_t id, std::span<const std::byte> value) {
    if (id == malfix_ie::kDnsName) {
        s.has_malfix_name = true;
        s.malfix_name = value;
    } else if (id == malfix_ie::kDnsType && value.size() == 1) {
        s.has_malfix_type = true;
        s.malfix_type = std::to_integer<std::uint8_t>(value[0]);
    }
}

void apply_cert(DnsScratch& dns, std::uint16_t id, std::span<const std::byte> value) {
    std::uint64_t number = 0;
    switch (id) {
        case cert_ie::kDnsQName:
            dns.has_name = true;
            dns.name = value;
            return;
        case cert_ie::kDnsQRType:
            if (load_number(value, number)) {
                dns.qtype = static_cast<std::uint16_t>(number);
            }
            return;
        case cert_ie::kDnsRRSection:
            if (load_number(value, number)) {
                dns.has_section = true;
                dns.section = static_cast<std::uint8_t>(number);
            }
            return;
        default:
            return;
    }
}

/// Adds a name unless it is empty or already there (byte-equal).
void add_dns_name(FlowView& flow, const std::byte* base, std::span<const std::byte> name,
                  std::uint16_t qtype) {
    if (name.empty()) {
        return;
    }
    for (std::uint8_t i = 0; i < flow.dns_count; ++i) {
        const DnsQuery& known = flow.dns[i];
        if (known.length == name.size() &&
            std::memcmp(base + known.offset, name.data(), name.size()) == 0) {
            return;
        }
    }
    if (flow.dns_count == FlowView::kMaxDnsQueries) {
        flow.dns_truncated = true;
        return;
    }
    DnsQuery& query = flow.dns[flow.dns_count++];
    query.offset = static_cast<std::uint32_t>(name.data() - base);
    query.length = static_cast<std::uint16_t>(name.size());
    query.qtype = qtype;
}

void note_nested(FlowView& flow, const std::shared_ptr<const Template>* tmpl) {
    const auto used = flow.nested.begin() + flow.nested_count;
    if (std::find(flow.nested.begin(), used, tmpl) != used) {
        return;
    }
    // TODO(ipfix): a record referencing more than kMaxNestedTemplates templates keeps only
    // the first ones; an encoder copying it verbatim would miss the rest.
    if (flow.nested_count < FlowView::kMaxNestedTemplates) {
        flow.nested[flow.nested_count++] = tmpl;
    }
}

bool walk_record(RecordContext& rc, ByteReader& reader, const Template& tmpl, int depth,
                 FlowScratch* top);

/// Walks the records of one subTemplateList or one subTemplateMultiList entry.
void walk_list_records(RecordContext& rc, std::uint16_t template_id,
                       std::span<const std::byte> content, int depth) {
    const std::shared_ptr<const Template>* nested =
        rc.msg.session.find(rc.msg.domain, template_id, rc.msg.now);
    if (nested == nullptr) {
        return;  // unknown Template: the content is carried, not inspected
    }
    note_nested(rc.flow, nested);

    ByteReader reader(content);
    while (!reader.empty()) {
        const std::size_t start = reader.offset();
        if (!walk_record(rc, reader, **nested, depth, nullptr)) {
            rc.bad_list = true;
            return;
        }
        if (reader.offset() == start) {
            return;  // a Template of zero-length records cannot be walked
        }
    }
}

/// Walks a subTemplateList (RFC 6313 §4.5.2) or subTemplateMultiList (§4.5.3) field.
void walk_list(RecordContext& rc, std::uint16_t id, std::span<const std::byte> value, int depth) {
    // An empty value is read as "no list": some Exporters send one instead of an empty list.
    if (depth > kMaxListDepth || value.empty()) {
        return;
    }
    ByteReader reader(value);
    std::uint8_t semantic = 0;
    reader.read_u8(semantic);

    if (id == ie::kSubTemplateList) {
        std::uint16_t template_id = 0;
        if (!reader.read_u16(template_id)) {
            rc.bad_list = true;
            return;
        }
        walk_list_records(rc, template_id, reader.rest(), depth);
        return;
    }

    // Entries: Template ID, Length including this 4-byte header, records.
    while (!reader.empty()) {
        std::uint16_t template_id = 0;
        std::uint16_t length = 0;
        std::span<const std::byte> content;
        if (!reader.read_u16(template_id) || !reader.read_u16(length) || length < 4 ||
            !reader.read_bytes(length - 4U, content)) {
            rc.bad_list = true;
            return;
        }
        walk_list_records(rc, template_id, content, depth);
    }
}

/// Walks one record of tmpl; top is set for the top-level Data Record only. Returns false if
/// the record overruns the bytes of reader.
bool walk_record(RecordContext& rc, ByteReader& reader, const Template& tmpl, int depth,
                 FlowScratch* top) {
    DnsScratch dns;
    for (const FieldSpec& field : tmpl.fields) {
        std::span<const std::byte> value;
        if (!read_value(reader, field, value)) {
            return false;
        }
        // Only forward elements count: reverse ones (PEN 29305, CERT id + 16384) describe
        // the other direction of a biflow (RFC 5103).
        if (field.enterprise == pen::kIana) {
            if (field.id == ie::kSubTemplateList || field.id == ie::kSubTemplateMultiList) {
                walk_list(rc, field.id, value, depth + 1);
            } else if (top != nullptr) {
                apply_iana(*top, rc.flow, field.id, value);
            }
        } else if (field.enterprise == pen::kCert) {
            apply_cert(dns, field.id, value);
        } else if (field.enterprise == pen::kMalfix && top != nullptr) {
            apply_malfix(*top, field.id, value);
        }
    }
    // yaf exports every question and resource record; only the question and answer sections
    // name what the client looked up.
    const bool wanted_section = !dns.has_section || dns.section == dns::kSectionQuestion ||
                                dns.section == dns::kSectionAnswer;
    if (dns.has_name && wanted_section) {
        add_dns_name(rc.flow, rc.base, dns.name, dns.qtype);
    }
    return true;
}

std::int64_t add_millis(std::uint64_t base_ms, std::uint32_t offset_ms) {
    return base_ms > kMaxMillis - offset_ms ? 0 : millis_to_ns(base_ms + offset_ms);
}

std::int64_t before_export(std::uint32_t export_time, std::uint32_t delta_us) {
    return std::int64_t{export_time} * kNanosPerSecond - std::int64_t{delta_us} * kNanosPerMicro;
}

/// Resolves what could only be decided once the whole record was seen.
void finish_flow(const FlowScratch& s, FlowView& flow, std::uint32_t export_time,
                 std::uint64_t domain_init_ms) {
    TimeCandidate start = s.start;
    TimeCandidate end = s.end;
    // flowStart/EndSysUpTime count from systemInitTimeMilliseconds: the record's own, else the
    // one an Options Template record of the domain announced.
    const std::uint64_t init_ms = s.has_init_time ? s.init_time_ms : domain_init_ms;
    if (init_ms != 0 && s.has_start_uptime) {
        start.offer(kRankSysUpTime, add_millis(init_ms, s.start_uptime_ms));
    }
    if (init_ms != 0 && s.has_end_uptime) {
        end.offer(kRankSysUpTime, add_millis(init_ms, s.end_uptime_ms));
    }
    // flowStart/EndDeltaMicroseconds count back from the Export Time (IANA IE 158/159).
    if (s.has_start_delta) {
        start.offer(kRankDeltaMicros, before_export(export_time, s.start_delta_us));
    }
    if (s.has_end_delta) {
        end.offer(kRankDeltaMicros, before_export(export_time, s.end_delta_us));
    }
    flow.start_ns = start.ns;
    flow.end_ns = end.ns;

    if (s.has_malfix_name) {
        // MalFIX's dnsType: 4 is an A query, anything else AAAA (REFERENCE.md §1).
        std::uint16_t qtype = 0;
        if (s.has_malfix_type) {
            qtype = s.malfix_type == malfix_ie::kDnsTypeA ? dns::kTypeA : dns::kTypeAaaa;
        }
        add_dns_name(flow, flow.record.data(), s.malfix_name, qtype);
    }
}

/// Decodes one Data Record of a non-options Template and hands it to the sink. Returns false
/// if the record overruns its Set.
bool decode_flow_record(MessageContext& ctx, ByteReader& reader,
                        const std::shared_ptr<const Template>* tmpl) {
    const std::span<const std::byte> rest = reader.rest();
    const std::size_t start = reader.offset();

    FlowView flow;
    flow.observation_domain = ctx.domain;
    flow.export_time = ctx.export_time;
    flow.tmpl = tmpl;
    FlowScratch scratch;
    RecordContext rc{ctx, flow, rest.data()};
    if (!walk_record(rc, reader, **tmpl, 0, &scratch)) {
        return false;
    }
    flow.record = rest.first(reader.offset() - start);

    // The record is delimited by its outer fields, so only it is lost (RFC 6313 §4.5).
    if (rc.bad_list) {
        ctx.drop(DropReason::kBadSubTemplateList);
        return true;
    }
    const bool uptime = scratch.has_start_uptime || scratch.has_end_uptime;
    finish_flow(scratch, flow, ctx.export_time,
                uptime && !scratch.has_init_time ? ctx.session.system_init_ms(ctx.domain) : 0);
    ++ctx.counters.data_records;
    ctx.sink.on_flow(flow);
    return true;
}

void decode_data_set(MessageContext& ctx, std::uint16_t set_id, std::span<const std::byte> body) {
    const std::shared_ptr<const Template>* tmpl = ctx.session.find(ctx.domain, set_id, ctx.now);
    if (tmpl == nullptr) {
        // Over UDP data may come before its Template: skip the Set, keep the Message.
        ctx.drop(DropReason::kMissingTemplate);
        return;
    }
    const Template& t = **tmpl;

    ByteReader reader(body);
    std::size_t records = 0;
    // Fewer bytes than the shortest record are padding (RFC 7011 §3.3.1).
    while (!reader.empty() && reader.remaining() >= t.min_record_length) {
        const std::size_t start = reader.offset();
        const bool delimited = t.is_options() ? skip_record(reader, t, ctx.session, ctx.domain)
                                              : decode_flow_record(ctx, reader, tmpl);
        if (!delimited) {
            ctx.drop(DropReason::kBadRecord);
            ctx.data_records += static_cast<std::uint32_t>(records);
            return;
        }
        ++records;
        if (t.is_options()) {
            ++ctx.counters.options_records;
        }
        if (reader.offset() == start) {
            break;  // zero-length records cannot be delimited
        }
    }
    ctx.data_records += static_cast<std::uint32_t>(records);
    if (records == 0) {
        ctx.drop(DropReason::kEmptySet);
    }
}

}  // namespace

std::string_view reason_name(DropReason reason) {
    switch (reason) {
        case DropReason::kShortMessage:
            return "short_message";
        case DropReason::kBadVersion:
            return "bad_version";
        case DropReason::kBadMessageLength:
            return "bad_message_length";
        case DropReason::kBadSetLength:
            return "bad_set_length";
        case DropReason::kBadSetId:
            return "bad_set_id";
        case DropReason::kEmptySet:
            return "empty_set";
        case DropReason::kBadTemplate:
            return "bad_template";
        case DropReason::kMissingTemplate:
            return "missing_template";
        case DropReason::kBadRecord:
            return "bad_record";
        case DropReason::kBadSubTemplateList:
            return "bad_sub_template_list";
        case DropReason::kTemplateRedefined:
            return "template_redefined";
        case DropReason::kCount:
            break;
    }
    return "unknown";
}

std::size_t message_length(std::span<const std::byte> bytes) {
    if (bytes.size() < kMessageHeaderLength) {
        return 0;
    }
    return std::max<std::size_t>(load_be16(bytes.data() + 2), kMessageHeaderLength);
}

DecodeResult decode_message(std::span<const std::byte> message, Session& session,
                            DecodeCounters& counters, FlowSink& sink, std::int64_t now) {
    MessageHeader header;
    const DecodeResult result = validate_message(message, header);
    if (!result.ok) {
        ++counters.drop(result.reason);
        return result;
    }
    ++counters.messages;

    // Bytes past the Length field belong to no Message; stream readers frame with
    // message_length(), so only a padded datagram has them.
    const std::span<const std::byte> bytes = message.first(header.length);
    MessageContext ctx{session, counters, sink, now, header.domain, header.export_time};
    std::size_t offset = kMessageHeaderLength;
    while (offset < bytes.size()) {
        const std::uint16_t set_id = load_be16(bytes.data() + offset);
        const std::uint16_t set_length = load_be16(bytes.data() + offset + 2);
        const std::span<const std::byte> body =
            bytes.subspan(offset + kSetHeaderLength, set_length - kSetHeaderLength);
        if (set_id == kTemplateSetId || set_id == kOptionsTemplateSetId) {
            decode_template_set(ctx, body, set_id == kOptionsTemplateSetId);
        } else {
            decode_data_set(ctx, set_id, body);
        }
        offset += set_length;
    }

    // Gaps are counted, never acted on: UDP reorders and some Exporters (softflowd) number
    // their Messages inconsistently.
    if (!session.check_sequence(header.domain, header.sequence, ctx.data_records)) {
        ++counters.sequence_gaps;
    }
    return result;
}

}  // namespace malfix::ipfix
