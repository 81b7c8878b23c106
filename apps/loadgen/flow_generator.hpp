#pragma once

#include "apps/loadgen/random.hpp"
#include "apps/loadgen/trail_pool.hpp"
#include "ipfix/ip_address.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace malfix::loadgen {

/// The four traffic mixes of the MalFIX benchmark (REFERENCE §1).
enum class Mix : std::uint8_t {
    kMaliciousIp,   ///< every flow has a malicious address
    kMaliciousDns,  ///< every flow carries a malicious DNS name
    kBenignDns5,    ///< nothing malicious; 5 % of flows carry a (benign) DNS name
    kMixed10,       ///< 10 % malicious (half by address, half by name), 90 % as kBenignDns5
};

std::optional<Mix> parse_mix(std::string_view text);
std::string_view mix_name(Mix mix);

/// What a flow is meant to be; the tests check the decoded stream against it.
enum class FlowKind : std::uint8_t { kBenign, kBenignDns, kMaliciousIp, kMaliciousDns };

/// One flow before it is encoded.
struct FlowSpec {
    FlowKind kind = FlowKind::kBenign;
    ipfix::IpAddress src;
    ipfix::IpAddress dst;
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    std::uint8_t protocol = 0;
    std::uint16_t tcp_flags = 0;
    std::uint64_t start_ms = 0;
    std::uint64_t end_ms = 0;
    std::uint64_t octets = 0;
    std::uint64_t packets = 0;
    std::string dns_name;  ///< empty: the flow carries no DNS name
    std::uint16_t dns_qtype = 0;
    std::uint16_t dns_id = 0;
    ipfix::IpAddress dns_answer;  ///< yaf encoding: the A/AAAA answer record's address

    bool is_v6() const { return src.is_v6(); }
    bool has_dns() const { return !dns_name.empty(); }
};

struct GeneratorConfig {
    Mix mix = Mix::kMixed10;
    double ipv6_share = 0.1;
    std::uint64_t seed = 1;
    /// Flow times start here (Unix milliseconds) and advance about 1 ms per 100 flows.
    std::uint64_t base_time_ms = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
};

/// Draws flows of one mix. Deterministic: the same pool, config and call sequence give the
/// same flows.
class FlowGenerator {
public:
    FlowGenerator(const TrailPool& pool, GeneratorConfig config);

    void next(FlowSpec& out);

    /// IPv6 flows asked for but drawn as IPv4 because the trails have no IPv6 address trail.
    std::uint64_t ipv6_fallbacks() const { return ipv6_fallbacks_; }

private:
    FlowKind draw_kind();
    void fill_benign(FlowSpec& f, bool v6);
    void fill_dns(FlowSpec& f, bool v6, bool malicious);
    void fill_malicious_ip(FlowSpec& f, bool v6);
    void fill_times(FlowSpec& f);
    ipfix::IpAddress resolver(bool v6);

    const TrailPool& pool_;
    GeneratorConfig config_;
    Rng rng_;
    std::uint64_t clock_ms_ = 0;
    std::uint64_t ipv6_fallbacks_ = 0;
    /// A few resolvers serve every DNS flow, as in a real network.
    std::array<ipfix::IpAddress, 4> resolvers_v4_{};
    std::array<ipfix::IpAddress, 4> resolvers_v6_{};
};

}  // namespace malfix::loadgen
