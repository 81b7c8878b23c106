#pragma once

#include "apps/loadgen/random.hpp"
#include "intel/snapshot.hpp"
#include "ipfix/ip_address.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace malfix::loadgen {

/// A malicious endpoint drawn from the trails: the address, and the port when the trail was an
/// ip:port one (0 otherwise).
struct Endpoint {
    ipfix::IpAddress address;
    std::uint16_t port = 0;
};

/// How many trails of each kind the pool can draw from.
struct TrailCounts {
    std::size_t v4 = 0;
    std::size_t v6 = 0;
    std::size_t v4_port = 0;
    std::size_t v6_port = 0;
    std::size_t v4_cidr = 0;
    std::size_t v6_cidr = 0;
    std::size_t domains = 0;
};

/// The trails a load is drawn from, and the snapshot malfix would build from the same path.
///
/// Malicious draws come from the trail lines themselves (parsed with intel's parse_trail_line);
/// benign draws are random and checked against the snapshot, so a "benign" flow can never hit
/// (a draw that matches is thrown away and drawn again). Immutable after load(); draws only
/// read it, so several generators may share one pool.
class TrailPool {
public:
    /// Reads a Maltrail trails directory, a trail file or a trails.csv. Throws
    /// std::runtime_error when the path cannot be read or holds nothing to draw from.
    static std::shared_ptr<const TrailPool> load(const std::filesystem::path& path);

    const intel::Snapshot& snapshot() const { return *snapshot_; }
    std::shared_ptr<const intel::Snapshot> shared_snapshot() const { return snapshot_; }
    const TrailCounts& counts() const { return counts_; }

    /// True when an address trail of that family exists (plain, ip:port or CIDR).
    bool has_addresses(bool v6) const;
    /// A malicious address of the family: an address trail, an ip:port trail (with its port) or
    /// an address inside a CIDR trail. has_addresses(v6) must be true.
    Endpoint draw_malicious(Rng& rng, bool v6) const;
    /// A domain trail, sometimes under a random subdomain so the suffix walk is exercised.
    std::string draw_malicious_name(Rng& rng) const;

    /// A random public-looking address that no trail matches.
    ipfix::IpAddress draw_benign_public(Rng& rng, bool v6) const;
    /// A random private (RFC 1918 / RFC 4193) address that no trail matches.
    ipfix::IpAddress draw_benign_private(Rng& rng, bool v6) const;
    /// A random name under a benign-looking TLD that no trail matches.
    std::string draw_benign_name(Rng& rng) const;

    /// Whether the snapshot matches the address, or the address:port.
    bool hits(const ipfix::IpAddress& address, std::uint16_t port) const;
    /// Whether the snapshot matches the name (trailing dot allowed; normalised here).
    bool hits_name(std::string_view name) const;

private:
    struct Cidr {
        std::array<std::uint8_t, 16> base{};
        std::uint8_t prefix = 0;
    };
    struct PortTrail {
        std::array<std::uint8_t, 16> address{};
        std::uint16_t port = 0;
    };

    Endpoint draw_malicious_once(Rng& rng, bool v6) const;
    std::string draw_malicious_name_once(Rng& rng) const;
    /// The snapshot alone: address trail, CIDR, or address:port.
    bool matches(const ipfix::IpAddress& address, std::uint16_t port) const;
    void add_line(std::string_view line, std::string& scratch);
    void read_file(const std::filesystem::path& file, bool csv);
    ipfix::IpAddress redraw_until_clean(Rng& rng, bool v6, bool is_private) const;

    std::shared_ptr<const intel::Snapshot> snapshot_;
    TrailCounts counts_;
    std::vector<std::uint32_t> v4_;
    std::vector<std::array<std::uint8_t, 16>> v6_;
    std::vector<PortTrail> v4_port_;
    std::vector<PortTrail> v6_port_;
    std::vector<Cidr> v4_cidr_;
    std::vector<Cidr> v6_cidr_;
    /// Domain trails back to back; each entry is (offset, length) into domain_text_. One arena
    /// instead of a std::string per trail keeps the full static trails under 100 MB.
    std::string domain_text_;
    std::vector<std::pair<std::uint32_t, std::uint16_t>> domains_;
};

/// The text form of an address, for logs and tests.
std::string to_text(const ipfix::IpAddress& address);

}  // namespace malfix::loadgen
