#include "apps/loadgen/flow_generator.hpp"

#include "ipfix/elements.hpp"

#include <array>

namespace malfix::loadgen {
namespace {

constexpr std::uint8_t kTcp = 6;
constexpr std::uint8_t kUdp = 17;
constexpr std::uint16_t kDnsPort = 53;
// TCP flag bits (RFC 9293 §3.1).
constexpr std::uint16_t kFin = 0x01;
constexpr std::uint16_t kSyn = 0x02;
constexpr std::uint16_t kRst = 0x04;
constexpr std::uint16_t kPsh = 0x08;
constexpr std::uint16_t kAck = 0x10;

constexpr double kDnsShareBenign = 0.05;
constexpr double kMaliciousShareMixed = 0.10;
/// Share of malicious-address flows where the bad address is the source (a scanner or a
/// C2 calling in) rather than the destination.
constexpr double kInboundShare = 0.2;

constexpr std::array<std::uint16_t, 8> kTcpPorts{443, 443, 443, 80, 80, 22, 993, 8080};
constexpr std::array<std::uint16_t, 4> kUdpPorts{443, 123, 3478, 1194};

constexpr std::array<std::pair<std::string_view, Mix>, 4> kMixes{{
    {"malicious-ip", Mix::kMaliciousIp},
    {"malicious-dns", Mix::kMaliciousDns},
    {"benign-dns5", Mix::kBenignDns5},
    {"mixed10", Mix::kMixed10},
}};

}  // namespace

std::optional<Mix> parse_mix(std::string_view text) {
    for (const auto& [name, mix] : kMixes) {
        if (name == text) {
            return mix;
        }
    }
    return std::nullopt;
}

std::string_view mix_name(Mix mix) {
    for (const auto& [name, value] : kMixes) {
        if (value == mix) {
            return name;
        }
    }
    return "?";
}

FlowGenerator::FlowGenerator(const TrailPool& pool, GeneratorConfig config)
    : pool_(pool), config_(config), rng_(config.seed), clock_ms_(config.base_time_ms) {
    for (auto& r : resolvers_v4_) {
        r = pool_.draw_benign_public(rng_, false);
    }
    for (auto& r : resolvers_v6_) {
        r = pool_.draw_benign_public(rng_, true);
    }
}

FlowKind FlowGenerator::draw_kind() {
    switch (config_.mix) {
        case Mix::kMaliciousIp:
            return FlowKind::kMaliciousIp;
        case Mix::kMaliciousDns:
            return FlowKind::kMaliciousDns;
        case Mix::kBenignDns5:
            return rng_.chance(kDnsShareBenign) ? FlowKind::kBenignDns : FlowKind::kBenign;
        case Mix::kMixed10:
            if (rng_.chance(kMaliciousShareMixed)) {
                return rng_.chance(0.5) ? FlowKind::kMaliciousIp : FlowKind::kMaliciousDns;
            }
            return rng_.chance(kDnsShareBenign) ? FlowKind::kBenignDns : FlowKind::kBenign;
    }
    return FlowKind::kBenign;
}

void FlowGenerator::next(FlowSpec& f) {
    f = FlowSpec{};
    f.kind = draw_kind();
    bool v6 = rng_.chance(config_.ipv6_share);
    if (f.kind == FlowKind::kMaliciousIp && v6 && !pool_.has_addresses(true)) {
        ++ipv6_fallbacks_;
        v6 = false;
    }
    switch (f.kind) {
        case FlowKind::kBenign:
            fill_benign(f, v6);
            break;
        case FlowKind::kBenignDns:
            fill_dns(f, v6, false);
            break;
        case FlowKind::kMaliciousDns:
            fill_dns(f, v6, true);
            break;
        case FlowKind::kMaliciousIp:
            fill_malicious_ip(f, v6);
            break;
    }
    fill_times(f);
}

void FlowGenerator::fill_benign(FlowSpec& f, bool v6) {
    f.src = pool_.draw_benign_private(rng_, v6);
    f.dst = pool_.draw_benign_public(rng_, v6);
    f.src_port = static_cast<std::uint16_t>(rng_.between(32768, 60999));
    if (rng_.chance(0.8)) {
        f.protocol = kTcp;
        f.dst_port = kTcpPorts[rng_.below(kTcpPorts.size())];
        f.tcp_flags = rng_.chance(0.9) ? (kSyn | kAck | kPsh | kFin) : (kSyn | kAck | kRst);
        f.packets = rng_.between(4, 400);
    } else {
        f.protocol = kUdp;
        f.dst_port = kUdpPorts[rng_.below(kUdpPorts.size())];
        f.packets = rng_.between(1, 200);
    }
    f.octets = f.packets * rng_.between(60, 1400);
}

void FlowGenerator::fill_dns(FlowSpec& f, bool v6, bool malicious) {
    f.src = pool_.draw_benign_private(rng_, v6);
    f.dst = resolver(v6);
    f.protocol = kUdp;
    f.src_port = static_cast<std::uint16_t>(rng_.between(1024, 65535));
    f.dst_port = kDnsPort;
    f.packets = rng_.between(1, 2);
    f.octets = f.packets * rng_.between(60, 300);
    f.dns_name = malicious ? pool_.draw_malicious_name(rng_) : pool_.draw_benign_name(rng_);
    f.dns_qtype = rng_.chance(0.75) ? ipfix::dns::kTypeA : ipfix::dns::kTypeAaaa;
    f.dns_id = static_cast<std::uint16_t>(rng_.next());
    // The answer's address is not what malfix matches names by, so any clean one will do.
    f.dns_answer = pool_.draw_benign_public(rng_, f.dns_qtype == ipfix::dns::kTypeAaaa);
}

void FlowGenerator::fill_malicious_ip(FlowSpec& f, bool v6) {
    const Endpoint bad = pool_.draw_malicious(rng_, v6);
    const ipfix::IpAddress local = pool_.draw_benign_private(rng_, v6);
    const bool udp = rng_.chance(0.15);
    f.protocol = udp ? kUdp : kTcp;
    const std::uint16_t service = bad.port != 0 ? bad.port
                                                : (udp ? kUdpPorts[rng_.below(kUdpPorts.size())]
                                                       : kTcpPorts[rng_.below(kTcpPorts.size())]);
    const auto ephemeral = static_cast<std::uint16_t>(rng_.between(32768, 60999));
    // An ip:port trail only matches where the port sits on the bad address, so its flows go
    // to that service; plain and CIDR trails also come in as the source.
    if (bad.port == 0 && rng_.chance(kInboundShare)) {
        f.src = bad.address;
        f.src_port = ephemeral;
        f.dst = local;
        f.dst_port = service;
        f.tcp_flags = udp ? 0 : kSyn;
        f.packets = rng_.between(1, 3);
    } else {
        f.src = local;
        f.src_port = ephemeral;
        f.dst = bad.address;
        f.dst_port = service;
        f.tcp_flags = udp ? 0 : (kSyn | kAck | kPsh | kFin);
        f.packets = rng_.between(3, 300);
    }
    f.octets = f.packets * rng_.between(60, 1400);
}

void FlowGenerator::fill_times(FlowSpec& f) {
    // About a hundred flows end per millisecond; each lasted up to a minute.
    if (rng_.chance(0.01)) {
        ++clock_ms_;
    }
    f.end_ms = clock_ms_;
    f.start_ms = clock_ms_ - rng_.below(f.packets <= 2 ? 50 : 60'000);
}

ipfix::IpAddress FlowGenerator::resolver(bool v6) {
    return v6 ? resolvers_v6_[rng_.below(resolvers_v6_.size())]
              : resolvers_v4_[rng_.below(resolvers_v4_.size())];
}

}  // namespace malfix::loadgen
