#pragma once

#include "engine/flow_batch.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace malfix::sinks {

/// Field numbers of flowpb.FlowMessage as sinks/proto/malfix.proto declares them: GoFlow2's
/// numbering (REFERENCE §4) plus malfix's threat fields from 1000.
namespace flowpb_field {
inline constexpr std::uint32_t kType = 1;
inline constexpr std::uint32_t kSequenceNum = 4;
inline constexpr std::uint32_t kSrcAddr = 6;
inline constexpr std::uint32_t kDstAddr = 7;
inline constexpr std::uint32_t kBytes = 9;
inline constexpr std::uint32_t kPackets = 10;
inline constexpr std::uint32_t kSamplerAddress = 11;
inline constexpr std::uint32_t kProto = 20;
inline constexpr std::uint32_t kSrcPort = 21;
inline constexpr std::uint32_t kDstPort = 22;
inline constexpr std::uint32_t kEtype = 30;
inline constexpr std::uint32_t kObservationDomainId = 70;
inline constexpr std::uint32_t kTimeReceivedNs = 110;
inline constexpr std::uint32_t kTimeFlowStartNs = 111;
inline constexpr std::uint32_t kTimeFlowEndNs = 112;
inline constexpr std::uint32_t kMalfixType = 1000;
inline constexpr std::uint32_t kMalfixTrail = 1001;
inline constexpr std::uint32_t kMalfixInfo = 1002;
inline constexpr std::uint32_t kMalfixReference = 1003;
inline constexpr std::uint32_t kMalfixField = 1004;
inline constexpr std::uint32_t kMalfixSeverity = 1005;
inline constexpr std::uint32_t kDnsQnames = 1006;
}  // namespace flowpb_field

/// FlowType 4: the flow came from IPFIX.
inline constexpr std::uint32_t kFlowTypeIpfix = 4;

/// How bad a hit is (FlowMessage.Severity), from the end of its info text.
enum class Severity : std::uint8_t { kUnknown = 0, kLow = 1, kMedium = 2, kHigh = 3 };

/// "... (malware)" is high; "... (malicious)" and mass scanners ("mass scanner",
/// "mass scanner (...)") are medium; "... (suspicious)" is low; anything else is unknown.
Severity severity_of(std::string_view info);

/// Appends v as a protobuf base-128 varint.
void append_varint(std::string& out, std::uint64_t v);

/// Serialises flows as flowpb.FlowMessage by hand, field by field in ascending number order,
/// so the hot path allocates nothing once its buffers have grown (the generated classes are
/// used by the tests to prove the bytes). One per output; not thread-safe.
class FlowMessageEncoder {
public:
    FlowMessageEncoder();

    /// Appends the message of one flow to out; with length_prefix, its varint length first
    /// (GoFlow2's framing). received_ns goes to time_received_ns.
    void append(std::string& out, const engine::FlowBatch& batch, const engine::FlowRecord& flow,
                std::uint64_t received_ns, bool length_prefix);

private:
    /// The exporter's address in network byte order (4 or 16 bytes), or empty for inputs
    /// that are not network peers (files). Cached per exporter name.
    std::string_view sampler_address(const std::shared_ptr<const std::string>& exporter);

    std::string body_;
    const std::string* cached_exporter_ = nullptr;
    std::string cached_address_;
};

/// The partitioning key of a flow: the source address bytes (key=src_addr), or an 8-byte
/// hash of the 5-tuple that is the same for both directions of a conversation (key=flow_hash).
enum class KafkaKey : std::uint8_t { kNone, kSrcAddr, kFlowHash };

/// Writes the key of flow into out (at least 16 bytes) and returns its length (0 for kNone).
std::size_t kafka_key(KafkaKey kind, const ipfix::FlowView& flow, std::byte* out);

}  // namespace malfix::sinks
