#pragma once

#include "engine/flow_batch.hpp"
#include "ipfix/encoder.hpp"

#include <array>

namespace malfix::sinks {

/// Reusable room for one flow's threat elements; one per output, so encoding allocates nothing.
using ThreatScratch = std::array<ipfix::ThreatFields, ipfix::Encoder::kMaxHitsLimit>;

/// Adds one flow to an encoder the way every IPFIX-speaking output writes it: one group of
/// threat elements per hit (at most scratch's size) and, as 420/1, the DNS name a hit matched,
/// else the first name the flow carried, without its trailing dot.
ipfix::EncodeStatus encode_flow(ipfix::Encoder& encoder, const engine::FlowBatch& batch,
                                const engine::FlowRecord& flow, ThreatScratch& scratch);

}  // namespace malfix::sinks
