#pragma once

#include <cstdint>
#include <vector>

namespace malfix::ipfix {

/// Field length that marks a variable-length Information Element (RFC 7011 §7).
inline constexpr std::uint16_t kVariableLength = 65535;

/// One Field Specifier of a Template (RFC 7011 §3.2). enterprise is 0 for IANA elements.
struct FieldSpec {
    std::uint16_t id = 0;
    std::uint16_t length = 0;
    std::uint32_t enterprise = 0;

    bool is_variable() const { return length == kVariableLength; }
    friend bool operator==(const FieldSpec&, const FieldSpec&) = default;
};

/// A Template or Options Template as received from one Exporter.
///
/// Immutable once built. It is shared (std::shared_ptr<const Template>) between the session's
/// template cache and every record in flight that was decoded with it, so a withdrawal or
/// redefinition never frees a template that a matcher or the serializer still reads.
struct Template {
    std::uint16_t id = 0;
    std::uint16_t scope_field_count = 0;  ///< non-zero for Options Templates
    std::vector<FieldSpec> fields;
    /// Sum of fixed field lengths plus one length byte per variable field: the shortest
    /// possible Data Record, used to tell padding from a record (RFC 7011 §3.3.1).
    std::uint32_t min_record_length = 0;
    /// True when every field has a fixed length; records then all have min_record_length.
    bool fixed_length = true;
    /// Process-wide unique number, so encoders can key derived templates without comparing
    /// field lists; two definitions that share an id on the wire still differ here.
    std::uint64_t uid = 0;

    bool is_options() const { return scope_field_count != 0; }
};

}  // namespace malfix::ipfix
