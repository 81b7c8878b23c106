#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace malfix::ipfix {

/// An IPv4 or IPv6 address as carried in a Data Record, in network byte order.
/// IPv4 addresses use the first four bytes; the rest stay zero so equality is bytewise.
struct IpAddress {
    enum class Family : std::uint8_t { kNone = 0, kV4 = 4, kV6 = 6 };

    std::array<std::uint8_t, 16> bytes{};
    Family family = Family::kNone;

    static IpAddress v4(std::uint32_t host_order) {
        IpAddress a;
        a.family = Family::kV4;
        a.bytes[0] = static_cast<std::uint8_t>(host_order >> 24);
        a.bytes[1] = static_cast<std::uint8_t>(host_order >> 16);
        a.bytes[2] = static_cast<std::uint8_t>(host_order >> 8);
        a.bytes[3] = static_cast<std::uint8_t>(host_order);
        return a;
    }
    static IpAddress v6(const std::uint8_t* network_order) {
        IpAddress a;
        a.family = Family::kV6;
        std::memcpy(a.bytes.data(), network_order, 16);
        return a;
    }

    bool empty() const { return family == Family::kNone; }
    bool is_v4() const { return family == Family::kV4; }
    bool is_v6() const { return family == Family::kV6; }
    std::uint32_t v4_host_order() const {
        return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
               (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
    }

    /// Writes the conventional text form (dotted quad, RFC 5952 for IPv6) into out, which must
    /// hold at least kMaxTextLength + 1 bytes; returns the length written (0 for kNone).
    std::size_t format(char* out) const;
    std::string to_string() const;

    static constexpr std::size_t kMaxTextLength = 45;

    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

}  // namespace malfix::ipfix
