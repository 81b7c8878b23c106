#include "ipfix/encoder.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace malfix::ipfix {

namespace {

constexpr std::uint16_t kVersion = 10;
constexpr std::uint16_t kTemplateSetId = 2;
constexpr std::uint16_t kOptionsTemplateSetId = 3;
constexpr std::uint16_t kMinDataSetId = 256;
constexpr std::size_t kSetHeaderSize = 4;
constexpr std::size_t kMaxVarlen = 65535;
/// Derived Templates kept per Observation Domain before all of them are dropped and
/// re-derived on use; bounds memory when Exporters keep redefining their Templates.
constexpr std::size_t kMaxDerivedPerDomain = 4096;

// RFC 5610 §3 Information Elements of an Information Element Type record.
constexpr std::uint16_t kPrivateEnterpriseNumber = 346;
constexpr std::uint16_t kInformationElementId = 303;
constexpr std::uint16_t kInformationElementDataType = 339;
constexpr std::uint16_t kInformationElementSemantics = 344;
constexpr std::uint16_t kInformationElementUnits = 345;
constexpr std::uint16_t kInformationElementRangeBegin = 342;
constexpr std::uint16_t kInformationElementRangeEnd = 343;
constexpr std::uint16_t kInformationElementName = 341;
constexpr std::uint16_t kInformationElementDescription = 340;
constexpr std::uint8_t kTypeUnsigned8 = 2;
constexpr std::uint8_t kTypeString = 13;
constexpr std::uint8_t kSemanticsDefault = 0;
constexpr std::uint8_t kSemanticsIdentifier = 4;

struct TypeInfo {
    MalfixElement id;
    std::uint8_t type;
    std::uint8_t semantics;
    std::string_view name;
    std::string_view description;
};

constexpr std::array<TypeInfo, 6> kTypeInfos{{
    {MalfixElement::kDnsName, kTypeString, kSemanticsDefault, "dnsName",
     "DNS query name carried in the flow record"},
    {MalfixElement::kDnsType, kTypeUnsigned8, kSemanticsIdentifier, "dnsType",
     "DNS query type: 4 for A, anything else AAAA"},
    {MalfixElement::kType, kTypeString, kSemanticsDefault, "malfix_type",
     "What matched a trail: IP, IPORT or DNS"},
    {MalfixElement::kTrail, kTypeString, kSemanticsDefault, "malfix_trail",
     "The trail that matched"},
    {MalfixElement::kInfo, kTypeString, kSemanticsDefault, "malfix_info",
     "What the trail stands for"},
    {MalfixElement::kReference, kTypeString, kSemanticsDefault, "malfix_reference",
     "Where the trail comes from"},
}};

// Units, range and description are optional in RFC 5610 but libfixbuf (ipfixDump --rfc5610)
// only recognises a type record template that carries all of them.
constexpr std::array<FieldSpec, 9> kTypeInfoFields{{
    {kPrivateEnterpriseNumber, 4, 0},
    {kInformationElementId, 2, 0},
    {kInformationElementDataType, 1, 0},
    {kInformationElementSemantics, 1, 0},
    {kInformationElementUnits, 2, 0},
    {kInformationElementRangeBegin, 8, 0},
    {kInformationElementRangeEnd, 8, 0},
    {kInformationElementName, kVariableLength, 0},
    {kInformationElementDescription, kVariableLength, 0},
}};
constexpr std::uint16_t kTypeInfoScopeCount = 2;

FieldSpec malfix_field(MalfixElement id) {
    return {static_cast<std::uint16_t>(id), kVariableLength, kMalfixPen};
}

void put16(std::byte* at, std::uint32_t v) {
    at[0] = static_cast<std::byte>(v >> 8);
    at[1] = static_cast<std::byte>(v);
}

void put32(std::byte* at, std::uint32_t v) {
    at[0] = static_cast<std::byte>(v >> 24);
    at[1] = static_cast<std::byte>(v >> 16);
    at[2] = static_cast<std::byte>(v >> 8);
    at[3] = static_cast<std::byte>(v);
}

void push16(std::vector<std::byte>& out, std::uint32_t v) {
    out.push_back(static_cast<std::byte>(v >> 8));
    out.push_back(static_cast<std::byte>(v));
}

void push32(std::vector<std::byte>& out, std::uint32_t v) {
    push16(out, v >> 16);
    push16(out, v & 0xFFFF);
}

// RFC 7011 §7: one length byte below 255, otherwise 255 and a two-byte length.
std::size_t varlen_size(std::size_t n) {
    return (n < 255 ? 1 : 3) + n;
}

std::string_view clip(std::string_view s) {
    return s.size() > kMaxVarlen ? s.substr(0, kMaxVarlen) : s;
}

}  // namespace

/// One Template as it stands on the wire of one Observation Domain.
struct Encoder::WireTemplate {
    enum class Kind : std::uint8_t { kVerbatim, kDerived, kTypeInfo };

    Kind kind = Kind::kVerbatim;
    std::uint64_t uid = 0;  ///< kVerbatim: Template::uid of the source
    DerivedKey key;         ///< kDerived: the cache key
    std::uint16_t set_id = kTemplateSetId;
    bool sent = false;  ///< sent since the Transport Session started or the last refresh
    std::vector<std::byte> record;
};

struct Encoder::DomainState {
    std::uint32_t odid = 0;
    std::uint32_t sequence = 0;  ///< Data Records sent so far, modulo 2^32 (RFC 7011 §3.1)
    std::unordered_map<std::uint16_t, WireTemplate> wire;
    std::unordered_map<DerivedKey, std::uint16_t, DerivedKeyHash> derived;
    std::uint16_t next_id = 65535;
    std::uint16_t type_info_id = 0;  ///< 0 while the RFC 5610 Options Template has no ID
    bool type_info_sent = false;
    std::uint32_t messages_since_refresh = 0;
    /// The derived Template used last: consecutive records nearly always share it, and two
    /// hash lookups per record were a fifth of add(). wire nodes never move, and evict()
    /// clears this before it erases one.
    DerivedKey last_key;
    std::uint16_t last_id = 0;
    WireTemplate* last_wire = nullptr;
};

void encode_template_record(std::uint16_t id, std::uint16_t scope_field_count,
                            std::span<const FieldSpec> fields, std::vector<std::byte>& out) {
    push16(out, id);
    push16(out, static_cast<std::uint32_t>(fields.size()));
    if (scope_field_count != 0) {
        push16(out, scope_field_count);
    }
    for (const FieldSpec& f : fields) {
        // RFC 7011 §3.2: the top bit of the Information Element identifier flags a PEN.
        if (f.enterprise != 0) {
            push16(out, (f.id & 0x7FFFU) | 0x8000U);
            push16(out, f.length);
            push32(out, f.enterprise);
        } else {
            push16(out, f.id & 0x7FFFU);
            push16(out, f.length);
        }
    }
}

Encoder::Encoder(EncoderOptions options, MessageWriter& writer)
    : options_(options), writer_(writer), message_(kMaxMessageSize) {
    options_.max_message_size =
        std::clamp<std::size_t>(options_.max_message_size, 256, kMaxMessageSize);
    options_.max_hits = std::min(options_.max_hits, kMaxHitsLimit);
    scratch_.reserve(1024);
}

Encoder::~Encoder() = default;

Encoder::DomainState& Encoder::domain(std::uint32_t odid) {
    if (last_domain_ != nullptr && last_domain_->odid == odid) {
        return *last_domain_;
    }
    auto& slot = domains_[odid];
    if (!slot) {
        slot = std::make_unique<DomainState>();
        slot->odid = odid;
    }
    last_domain_ = slot.get();
    return *slot;
}

EncodeStatus Encoder::add(const FlowView& flow, std::string_view dns_name,
                          std::span<const ThreatFields> hits) {
    if (flow.tmpl == nullptr || !*flow.tmpl) {
        return EncodeStatus::kNoTemplate;
    }
    const Template& input = **flow.tmpl;
    const std::size_t hit_count = std::min(hits.size(), options_.max_hits);
    const bool add_dns = !dns_name.empty() && !has_dns_field(input);
    dns_name = clip(dns_name);

    std::size_t size = flow.record.size();
    if (add_dns) {
        size += varlen_size(dns_name.size());
    }
    for (std::size_t i = 0; i < hit_count; ++i) {
        size += varlen_size(clip(hits[i].type).size()) + varlen_size(clip(hits[i].trail).size()) +
                varlen_size(clip(hits[i].info).size()) +
                varlen_size(clip(hits[i].reference).size());
    }
    if (size + kHeaderSize + kSetHeaderSize > kMaxMessageSize) {
        ++counters_.too_large;
        return EncodeStatus::kTooLarge;
    }

    // Everything the record depends on goes out first, in stream order (RFC 7011 §8).
    DomainState& state = domain(flow.observation_domain);
    if (used_ != 0 && message_odid_ != state.odid) {
        close_message();
    }
    ensure_type_info(state);
    for (std::size_t i = 0; i < flow.nested_count; ++i) {
        if (flow.nested[i] != nullptr && *flow.nested[i]) {
            ensure_nested(state, **flow.nested[i]);
        }
    }
    const std::uint16_t id = ensure_derived(state, input, add_dns, hit_count);

    begin_set(state, id, size);
    append(flow.record);
    auto put_string = [this](std::string_view s) {
        s = clip(s);
        std::byte* at = message_.data() + used_;
        if (s.size() < 255) {
            at[0] = static_cast<std::byte>(s.size());
            used_ += 1;
        } else {
            at[0] = std::byte{255};
            put16(at + 1, static_cast<std::uint32_t>(s.size()));
            used_ += 3;
        }
        std::memcpy(message_.data() + used_, s.data(), s.size());
        used_ += s.size();
    };
    if (add_dns) {
        put_string(dns_name);
    }
    for (std::size_t i = 0; i < hit_count; ++i) {
        put_string(hits[i].type);
        put_string(hits[i].trail);
        put_string(hits[i].info);
        put_string(hits[i].reference);
    }
    ++message_records_;
    ++message_flows_;
    return EncodeStatus::kOk;
}

void Encoder::flush() {
    close_message();
}

void Encoder::tick(std::int64_t now_s) {
    tick_s_ = now_s;
    if (options_.transport != Transport::kUdp || options_.template_refresh_s <= 0) {
        return;
    }
    if (last_refresh_s_ == kNever) {
        last_refresh_s_ = now_s;
        return;
    }
    // RFC 7011 §8.4: over UDP the Collecting Process forgets Templates that are not resent.
    if (now_s - last_refresh_s_ >= options_.template_refresh_s) {
        refresh_templates();
    }
}

void Encoder::refresh_templates() {
    for (auto& [odid, state] : domains_) {
        for (auto& [id, wire] : state->wire) {
            wire.sent = false;
        }
        state->type_info_sent = false;
        state->messages_since_refresh = 0;
    }
    last_refresh_s_ = tick_s_;
}

std::uint32_t Encoder::reset() {
    const std::uint32_t discarded = message_flows_;
    used_ = 0;
    set_start_ = 0;
    message_records_ = 0;
    message_flows_ = 0;
    domains_.clear();
    last_domain_ = nullptr;
    last_refresh_s_ = tick_s_;
    return discarded;
}

bool Encoder::has_dns_field(const Template& tmpl) {
    if (tmpl.uid != 0 && tmpl.uid == last_uid_) {
        return last_has_dns_;
    }
    const FieldSpec dns = malfix_field(MalfixElement::kDnsName);
    const bool has = std::any_of(tmpl.fields.begin(), tmpl.fields.end(), [&](const FieldSpec& f) {
        return f.id == dns.id && f.enterprise == dns.enterprise;
    });
    last_uid_ = tmpl.uid;
    last_has_dns_ = has;
    return has;
}

// --- Messages and Sets -------------------------------------------------------------------

void Encoder::open_message(DomainState& state) {
    std::byte* h = message_.data();
    put16(h, kVersion);
    put16(h + 2, 0);  // Length, set when the Message is closed
    put32(h + 4, static_cast<std::uint32_t>(now_s_));
    put32(h + 8, state.sequence);
    put32(h + 12, state.odid);
    used_ = kHeaderSize;
    message_odid_ = state.odid;
    message_records_ = 0;
    message_flows_ = 0;
    set_start_ = 0;
}

void Encoder::close_message() {
    if (used_ == 0) {
        return;
    }
    end_set();
    put16(message_.data() + 2, static_cast<std::uint32_t>(used_));
    DomainState& state = domain(message_odid_);
    state.sequence += message_records_;  // wraps modulo 2^32 as §3.1 requires
    const std::uint32_t flows = message_flows_;
    const std::size_t size = used_;
    used_ = 0;
    message_records_ = 0;
    message_flows_ = 0;
    ++counters_.messages;
    counters_.flows += flows;

    if (options_.transport == Transport::kUdp && options_.template_refresh_messages != 0 &&
        ++state.messages_since_refresh >= options_.template_refresh_messages) {
        for (auto& [id, wire] : state.wire) {
            wire.sent = false;
        }
        state.type_info_sent = false;
        state.messages_since_refresh = 0;
    }
    writer_.on_message({message_.data(), size}, flows);
}

bool Encoder::fits(std::size_t bytes) const {
    return used_ + bytes <= options_.max_message_size;
}

void Encoder::make_room(DomainState& state, std::size_t bytes) {
    if (used_ != 0 && !fits(bytes) && used_ > kHeaderSize) {
        close_message();
    }
    if (used_ == 0) {
        open_message(state);
    }
}

void Encoder::begin_set(DomainState& state, std::uint16_t set_id, std::size_t first_record) {
    const bool same = used_ != 0 && set_start_ != 0 && set_id_ == set_id;
    make_room(state, same ? first_record : kSetHeaderSize + first_record);
    if (set_start_ != 0 && set_id_ == set_id) {
        return;
    }
    end_set();
    set_start_ = used_;
    set_id_ = set_id;
    put16(message_.data() + used_, set_id);
    used_ += kSetHeaderSize;
}

void Encoder::end_set() {
    if (set_start_ == 0) {
        return;
    }
    // No padding: RFC 7011 §3.3.1 makes it optional, and records are copied unaligned anyway.
    put16(message_.data() + set_start_ + 2, static_cast<std::uint32_t>(used_ - set_start_));
    set_start_ = 0;
}

void Encoder::append(std::span<const std::byte> bytes) {
    std::memcpy(message_.data() + used_, bytes.data(), bytes.size());
    used_ += bytes.size();
}

// --- Templates ---------------------------------------------------------------------------

void Encoder::send_template(DomainState& state, std::uint16_t id) {
    WireTemplate& wire = state.wire.at(id);
    begin_set(state, wire.set_id, wire.record.size());
    append(wire.record);
    wire.sent = true;
    ++counters_.templates_sent;
}

void Encoder::withdraw(DomainState& state, std::uint16_t id) {
    // RFC 7011 §8.1: over TCP an ID is withdrawn before it is redefined. The withdrawal
    // travels in a Message of its own, after every record that used the old definition.
    const std::uint16_t set_id = state.wire.at(id).set_id;
    close_message();
    open_message(state);
    begin_set(state, set_id, 4);
    put16(message_.data() + used_, id);
    put16(message_.data() + used_ + 2, 0);  // Field Count 0 marks the withdrawal
    used_ += 4;
    close_message();
    ++counters_.withdrawals;
}

void Encoder::evict(DomainState& state, std::uint16_t id) {
    auto it = state.wire.find(id);
    if (it == state.wire.end()) {
        return;
    }
    if (&it->second == state.last_wire) {
        state.last_wire = nullptr;
    }
    if (options_.transport == Transport::kTcp && it->second.sent) {
        withdraw(state, id);
    }
    if (it->second.kind == WireTemplate::Kind::kDerived) {
        state.derived.erase(it->second.key);
    } else if (it->second.kind == WireTemplate::Kind::kTypeInfo) {
        state.type_info_id = 0;
        state.type_info_sent = false;
    }
    state.wire.erase(it);
}

std::uint16_t Encoder::allocate_id(DomainState& state) {
    // Counting down from 65535 keeps clear of the low IDs Exporters usually pick, so verbatim
    // nested Templates rarely displace a derived one.
    for (std::uint32_t tries = 0; tries < 65536 - kMinDataSetId; ++tries) {
        const std::uint16_t id = state.next_id;
        state.next_id =
            state.next_id <= kMinDataSetId ? 65535 : static_cast<std::uint16_t>(state.next_id - 1);
        if (state.wire.find(id) == state.wire.end()) {
            return id;
        }
    }
    // Every ID is taken: start the domain's derived Templates over.
    std::vector<std::uint16_t> ids;
    for (const auto& [id, wire] : state.wire) {
        if (wire.kind == WireTemplate::Kind::kDerived) {
            ids.push_back(id);
        }
    }
    if (ids.empty()) {
        // Only reachable with more than 65000 nested Templates in one domain: start over.
        for (const auto& [id, wire] : state.wire) {
            ids.push_back(id);
        }
    }
    for (std::uint16_t id : ids) {
        evict(state, id);
    }
    return allocate_id(state);
}

void Encoder::ensure_type_info(DomainState& state) {
    if (!options_.export_type_info || state.type_info_sent) {
        return;
    }
    if (state.type_info_id == 0) {
        const std::uint16_t id = allocate_id(state);
        WireTemplate& wire = state.wire[id];
        wire.kind = WireTemplate::Kind::kTypeInfo;
        wire.set_id = kOptionsTemplateSetId;
        encode_template_record(id, kTypeInfoScopeCount, kTypeInfoFields, wire.record);
        state.type_info_id = id;
    }
    if (!state.wire.at(state.type_info_id).sent) {
        send_template(state, state.type_info_id);
    }
    write_type_info_records(state);
    state.type_info_sent = true;
}

void Encoder::write_type_info_records(DomainState& state) {
    for (const TypeInfo& info : kTypeInfos) {
        // Units 0 (none) and range 0..0 (unspecified, RFC 5610 §3.7) are zero bytes.
        constexpr std::size_t kFixed = 4 + 2 + 1 + 1 + 2 + 8 + 8;
        const std::size_t size =
            kFixed + varlen_size(info.name.size()) + varlen_size(info.description.size());
        begin_set(state, state.type_info_id, size);
        std::byte* at = message_.data() + used_;
        std::memset(at, 0, kFixed);
        put32(at, kMalfixPen);
        put16(at + 4, static_cast<std::uint16_t>(info.id));
        at[6] = static_cast<std::byte>(info.type);
        at[7] = static_cast<std::byte>(info.semantics);
        at += kFixed;
        for (std::string_view text : {info.name, info.description}) {
            at[0] = static_cast<std::byte>(text.size());
            std::memcpy(at + 1, text.data(), text.size());
            at += 1 + text.size();
        }
        used_ += size;
        ++message_records_;
    }
}

void Encoder::ensure_nested(DomainState& state, const Template& nested) {
    if (nested.id < kMinDataSetId) {
        return;
    }
    auto it = state.wire.find(nested.id);
    if (it != state.wire.end() && it->second.kind == WireTemplate::Kind::kVerbatim &&
        it->second.uid == nested.uid) {
        if (!it->second.sent) {
            send_template(state, nested.id);
        }
        return;
    }
    // A different definition holds the ID: a derived Template moves elsewhere on its next
    // use, an older nested definition is replaced (withdrawn first over TCP).
    evict(state, nested.id);
    WireTemplate& wire = state.wire[nested.id];
    wire.kind = WireTemplate::Kind::kVerbatim;
    wire.uid = nested.uid;
    wire.set_id = nested.is_options() ? kOptionsTemplateSetId : kTemplateSetId;
    encode_template_record(nested.id, nested.scope_field_count, nested.fields, wire.record);
    send_template(state, nested.id);
}

std::uint16_t Encoder::ensure_derived(DomainState& state, const Template& input, bool dns,
                                      std::size_t hits) {
    const DerivedKey key{input.uid, static_cast<std::uint16_t>(hits), dns};
    if (state.last_wire != nullptr && state.last_key == key) {
        if (!state.last_wire->sent) {
            send_template(state, state.last_id);
        }
        return state.last_id;
    }
    if (auto it = state.derived.find(key); it != state.derived.end()) {
        WireTemplate& wire = state.wire.at(it->second);
        if (!wire.sent) {
            send_template(state, it->second);
        }
        state.last_key = key;
        state.last_id = it->second;
        state.last_wire = &wire;
        return it->second;
    }

    if (state.derived.size() >= kMaxDerivedPerDomain) {
        std::vector<std::uint16_t> ids;
        for (const auto& [k, id] : state.derived) {
            ids.push_back(id);
        }
        for (std::uint16_t id : ids) {
            evict(state, id);
        }
    }

    std::vector<FieldSpec> fields = input.fields;
    if (dns) {
        fields.push_back(malfix_field(MalfixElement::kDnsName));
    }
    for (std::size_t i = 0; i < hits; ++i) {
        fields.push_back(malfix_field(MalfixElement::kType));
        fields.push_back(malfix_field(MalfixElement::kTrail));
        fields.push_back(malfix_field(MalfixElement::kInfo));
        fields.push_back(malfix_field(MalfixElement::kReference));
    }
    const std::uint16_t id = allocate_id(state);
    WireTemplate& wire = state.wire[id];
    wire.kind = WireTemplate::Kind::kDerived;
    wire.key = key;
    wire.set_id = input.is_options() ? kOptionsTemplateSetId : kTemplateSetId;
    encode_template_record(id, input.scope_field_count, fields, wire.record);
    state.derived.emplace(key, id);
    send_template(state, id);
    state.last_key = key;
    state.last_id = id;
    state.last_wire = &wire;
    return id;
}

}  // namespace malfix::ipfix
