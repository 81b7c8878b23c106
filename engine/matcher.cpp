#include "engine/matcher.hpp"

#include <algorithm>
#include <string>

namespace malfix::engine {
namespace {

/// Longest DNS name (RFC 1035 §2.3.4) plus room for the "(" ")." of a rendered suffix trail.
constexpr std::size_t kNameBuffer = 260;

struct FlowMatcher {
    FlowBatch& batch;
    const intel::Snapshot& snapshot;
    std::uint64_t ip = 0;
    std::uint64_t ip_port = 0;
    std::uint64_t dns = 0;

    void add(HitType type, HitField field, const intel::Indicator& ind, std::string_view trail,
             std::uint8_t dns_index = 0) {
        Hit& hit = batch.hits.emplace_back();
        hit.type = type;
        hit.field = field;
        hit.dns_index = dns_index;
        hit.feed = ind.feed;
        hit.trail = trail;
        hit.info = ind.info;
        hit.reference = ind.reference;
    }

    const intel::Indicator* find_address(const ipfix::IpAddress& addr) const {
        if (addr.is_v4()) {
            return snapshot.find_ipv4(addr.v4_host_order());
        }
        if (addr.is_v6()) {
            return snapshot.find_ipv6(addr.bytes);
        }
        return nullptr;
    }

    const intel::Indicator* find_address_port(const ipfix::IpAddress& addr,
                                              std::uint16_t port) const {
        if (addr.is_v4()) {
            return snapshot.find_ipv4_port(addr.v4_host_order(), port);
        }
        if (addr.is_v6()) {
            return snapshot.find_ipv6_port(addr.bytes, port);
        }
        return nullptr;
    }

    void match_address(const ipfix::FlowView& view, bool source) {
        const ipfix::IpAddress& addr = source ? view.src_addr : view.dst_addr;
        const std::uint16_t port = source ? view.src_port : view.dst_port;
        if (view.has_ports) {
            if (const intel::Indicator* ind = find_address_port(addr, port)) {
                add(HitType::kIpPort, source ? HitField::kSrcAddrPort : HitField::kDstAddrPort,
                    *ind, ind->trail);
                ++ip_port;
            }
        }
        if (const intel::Indicator* ind = find_address(addr)) {
            add(HitType::kIp, source ? HitField::kSrcAddr : HitField::kDstAddr, *ind, ind->trail);
            ++ip;
        }
    }

    void match_name(const ipfix::FlowView& view, std::uint8_t index) {
        char name[kNameBuffer];
        const std::size_t length = intel::normalize_domain(view.dns_name(index), name, 254);
        if (length == 0) {
            return;
        }
        const intel::DomainMatch match = snapshot.find_domain({name, length});
        if (!match) {
            return;
        }
        add(HitType::kDns, HitField::kDnsQname, *match.indicator,
            render_trail(name, match.prefix_length, match.indicator->trail), index);
        ++dns;
    }

    /// Maltrail shows a hit on a parent suffix as "(prefix).suffix", e.g. "(a.b).evil.com";
    /// the rendered text lives in the batch's text arena.
    std::string_view render_trail(const char* name, std::size_t prefix, std::string_view trail) {
        if (prefix == 0) {
            return trail;
        }
        char text[kNameBuffer * 2];
        std::size_t n = 0;
        text[n++] = '(';
        for (std::size_t i = 0; i < prefix; ++i) {
            text[n++] = name[i];
        }
        text[n++] = ')';
        text[n++] = '.';
        for (char c : trail) {
            text[n++] = c;
        }
        const std::string_view kept = batch.keep_text({text, n});
        return kept.empty() ? trail : kept;
    }

    void match(FlowRecord& flow, Mode mode) {
        flow.hit_begin = static_cast<std::uint32_t>(batch.hits.size());
        match_address(flow.view, true);
        match_address(flow.view, false);
        for (std::uint8_t i = 0; i < flow.view.dns_count; ++i) {
            match_name(flow.view, i);
        }
        flow.hit_count = static_cast<std::uint16_t>(batch.hits.size() - flow.hit_begin);
        flow.forward = mode == Mode::kPipeline || flow.hit_count != 0;
    }
};

}  // namespace

void match_batch(FlowBatch& batch, std::shared_ptr<const intel::Snapshot> snapshot, Mode mode,
                 MatchCounters& counters) {
    batch.hits.clear();
    FlowMatcher matcher{batch, *snapshot};
    std::uint64_t with_hits = 0;
    for (FlowRecord& flow : batch.flows) {
        matcher.match(flow, mode);
        with_hits += flow.hit_count != 0 ? 1 : 0;
    }
    batch.snapshot = std::move(snapshot);

    const auto relaxed = std::memory_order_relaxed;
    counters.flows.fetch_add(batch.flows.size(), relaxed);
    counters.flows_with_hits.fetch_add(with_hits, relaxed);
    counters.hits_ip.fetch_add(matcher.ip, relaxed);
    counters.hits_ip_port.fetch_add(matcher.ip_port, relaxed);
    counters.hits_dns.fetch_add(matcher.dns, relaxed);
    counters.batches.fetch_add(1, relaxed);
    // Per feed (issue 5): a pass over the batch's hits, which are few next to its flows, so the
    // per-flow lookups stay as they were. Only this thread writes: load and store suffice.
    for (const Hit& hit : batch.hits) {
        auto& slot = counters.hits_by_feed[std::min<std::size_t>(hit.feed, kOtherFeed)];
        slot.store(slot.load(relaxed) + 1, relaxed);
    }
}

}  // namespace malfix::engine
