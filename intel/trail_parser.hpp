#pragma once

#include "intel/snapshot.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace malfix::intel {

/// What one line of a trail file turned out to be.
enum class LineClass : std::uint8_t {
    kEmpty,    ///< blank or comment only: not counted anywhere
    kTrail,    ///< a trail flows can match (address, address:port, CIDR, domain)
    kSkipped,  ///< a valid trail flows cannot match (URL with a path, regex-like line)
    kBad,      ///< malformed; reason says why
};

/// One parsed trail line. Addresses are decoded so the builder never parses text again.
struct ParsedTrail {
    LineClass line_class = LineClass::kEmpty;
    IndicatorKind kind = IndicatorKind::kIp;
    bool v6 = false;                         ///< address family for kIp, kIpPort and kCidr
    std::uint32_t v4 = 0;                    ///< host order
    std::array<std::uint8_t, 16> v6_addr{};  ///< network order
    std::uint16_t port = 0;                  ///< kIpPort only
    std::uint8_t prefix = 0;                 ///< kCidr only
    std::string_view text;    ///< normalised trail; valid until the scratch string changes
    std::string_view reason;  ///< static text saying why a line is skipped or bad
};

/// Longest DNS name in text form without the trailing dot (RFC 1035 §2.3.4).
inline constexpr std::size_t kMaxDomainLength = 253;

/// Parses one line of a Maltrail trail file (REFERENCE §5): drops a `#` comment (whole line or
/// trailing), trims, strips a URL scheme, and classifies what is left. The normalised text is
/// written into scratch, which callers reuse across lines so parsing does not allocate.
ParsedTrail parse_trail_line(std::string_view line, std::string& scratch);

/// Dotted quad to host order; rejects anything but four decimal parts of at most 255.
std::optional<std::uint32_t> parse_ipv4(std::string_view text);

/// Any RFC 4291 §2.2 text form (compressed, fully expanded with leading zeros, embedded IPv4).
std::optional<std::array<std::uint8_t, 16>> parse_ipv6(std::string_view text);

/// Appends the dotted quad of a host-order address.
void append_ipv4(std::string& out, std::uint32_t host_order);

/// Appends the RFC 5952 canonical text (lower case, longest zero run compressed).
void append_ipv6(std::string& out, const std::array<std::uint8_t, 16>& addr);

/// Turns one UTF-8 DNS label into its ASCII form: unchanged (ASCII lower-cased) when it is all
/// ASCII, else "xn--" plus its RFC 3492 Punycode. Returns false on invalid UTF-8. It does not
/// apply the IDNA mapping tables (case folding beyond ASCII, NFC); trails are lower case already.
bool label_to_ascii(std::string_view label, std::string& out);

}  // namespace malfix::intel
