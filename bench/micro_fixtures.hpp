#pragma once

// Inputs shared by the micro benchmarks: IPFIX files from tests/data framed into Messages,
// synthetic Messages in the shape softflowd and MalFIX send, snapshots with known-bad and
// known-good observables, and batches of decoded flows.

#include "engine/flow_batch.hpp"
#include "intel/snapshot.hpp"
#include "ipfix/decoder.hpp"
#include "ipfix/session.hpp"

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace malfix::bench {

/// Reports records per iteration as items/s and as the counter ns_per_record (CPU time).
void report_records(benchmark::State& state, std::uint64_t records_per_iteration);

/// An IPFIX file's bytes and the Messages in it, in order.
struct MessageFile {
    std::vector<std::byte> bytes;
    std::vector<std::span<const std::byte>> messages;
};

/// Reads path (relative to tests/data) and frames it with message_length(). Aborts the
/// benchmark program when the file is missing: a benchmark without its input means nothing.
const MessageFile& data_file(std::string_view relative_path);

/// The Messages of file without their Template Sets (Data Sets only, lengths fixed up): what
/// a decoder sees once it knows the Templates, so per-record costs are not diluted by the
/// Template Sets that small capture files begin with.
MessageFile data_sets_only(const MessageFile& file);

/// One flow of a synthetic export. An empty name gives a record of the Template without
/// 420/1 dnsName (as softflowd sends); a name gives the MalFIX input form (420/1, 420/2).
struct SyntheticFlow {
    std::uint32_t src = 0;
    std::uint32_t dst = 0;
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    std::uint8_t protocol = 17;
    std::string name;
};

/// Encodes flows as an IPFIX file: one Template Set first, then Messages of at most 32
/// records (about one Ethernet frame, as UDP exporters send them).
MessageFile build_messages(const std::vector<SyntheticFlow>& flows);

/// The flow mixes the match and encode benchmarks use.
enum class FlowMix : std::uint8_t {
    kBenignNoName,  ///< random public addresses that no trail covers, no DNS name
    kBenignName,    ///< the same with a DNS name that no trail covers
    kMaliciousIp,   ///< destination address is an address trail
    kMaliciousDns,  ///< DNS name is a domain trail or a subdomain of one
};
std::string_view mix_name(FlowMix mix);

/// A snapshot and observables known to hit it.
struct Intel {
    std::string name;
    std::shared_ptr<const intel::Snapshot> snapshot;
    std::vector<std::uint32_t> bad_v4;     ///< host order, each an address trail
    std::vector<std::string> bad_domains;  ///< each a domain trail
};

/// tests/data/sample/trails, loaded once.
const Intel& sample_intel();
/// The trails directory named by MALFIX_FULL_TRAILS, loaded once; nullptr when unset.
const Intel* full_intel();

/// count synthetic flows of mix whose verdicts against intel are as the mix says.
std::vector<SyntheticFlow> make_flows(const Intel& intel, FlowMix mix, std::size_t count);

/// Decodes every Message of file on a fresh session and calls fn with each FlowView. The
/// views stay valid while file and session live.
template <typename Fn>
void decode_all(const MessageFile& file, ipfix::Session& session, Fn&& fn) {
    struct Sink final : ipfix::FlowSink {
        Fn& fn;
        explicit Sink(Fn& f) : fn(f) {}
        void on_flow(const ipfix::FlowView& flow) override { fn(flow); }
    } sink(fn);
    ipfix::DecodeCounters counters;
    for (std::span<const std::byte> message : file.messages) {
        ipfix::decode_message(message, session, counters, sink, 0);
    }
}

/// Decoded flows that outlive the decoder: the Messages, their session and the views.
struct DecodedFlows {
    MessageFile file;
    std::unique_ptr<ipfix::Session> session;
    std::vector<ipfix::FlowView> views;
};
std::unique_ptr<DecodedFlows> decode_file(MessageFile file);

/// Fills batch with views (up to its capacity) as the Dispatcher would.
void fill_batch(engine::FlowBatch& batch, const std::vector<ipfix::FlowView>& views);

}  // namespace malfix::bench
