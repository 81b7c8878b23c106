#include "sinks/threat_encoding.hpp"

#include <algorithm>
#include <string_view>

namespace malfix::sinks {
namespace {

std::string_view dns_name_of(const engine::FlowRecord& flow, std::span<const engine::Hit> hits) {
    const ipfix::FlowView& view = flow.view;
    if (view.dns_count == 0) {
        return {};
    }
    // The name that matched is the one worth carrying; otherwise the first one seen.
    std::size_t index = 0;
    for (const engine::Hit& hit : hits) {
        if (hit.type == engine::HitType::kDns && hit.dns_index < view.dns_count) {
            index = hit.dns_index;
            break;
        }
    }
    std::string_view name = view.dns_name(index);
    if (!name.empty() && name.back() == '.') {
        name.remove_suffix(1);
    }
    return name;
}

}  // namespace

ipfix::EncodeStatus encode_flow(ipfix::Encoder& encoder, const engine::FlowBatch& batch,
                                const engine::FlowRecord& flow, ThreatScratch& scratch) {
    const std::span<const engine::Hit> hits = batch.hits_of(flow);
    const std::size_t n = std::min(hits.size(), scratch.size());
    for (std::size_t i = 0; i < n; ++i) {
        scratch[i] = {engine::hit_type_name(hits[i].type), hits[i].trail, hits[i].info,
                      hits[i].reference};
    }
    return encoder.add(flow.view, dns_name_of(flow, hits), {scratch.data(), n});
}

}  // namespace malfix::sinks
