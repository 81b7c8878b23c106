// Serialising: the IPFIX Encoder (through IpfixOutput::write, as the serializer calls it, and
// Encoder::add alone) and JsonOutput::format_flow, for flows with no hit and with one hit.

#include "bench/micro_fixtures.hpp"
#include "engine/matcher.hpp"
#include "ipfix/encoder.hpp"
#include "sinks/ipfix_output.hpp"
#include "sinks/json_output.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>

namespace malfix::bench {
namespace {

/// An IPFIX output whose transport discards every Message.
class DiscardingOutput final : public sinks::IpfixOutput {
public:
    DiscardingOutput() : IpfixOutput("discard", ipfix::EncoderOptions{}) {}

    std::uint64_t bytes = 0;

private:
    void deliver(std::span<const std::byte> message, std::uint32_t flows) override {
        bytes += message.size();
        count_sent(message.size(), flows);
    }
};

class DiscardingWriter final : public ipfix::MessageWriter {
public:
    void on_message(std::span<const std::byte> message, std::uint32_t flows) override {
        bytes += message.size();
        benchmark::DoNotOptimize(flows);
    }

    std::uint64_t bytes = 0;
};

/// A matched batch in pipeline mode (every flow forwarded), kept with its decoded input.
struct MatchedBatch {
    std::unique_ptr<DecodedFlows> decoded;
    engine::FlowBatch batch;
};

std::unique_ptr<MatchedBatch> matched(const std::string& input) {
    auto m = std::make_unique<MatchedBatch>();
    if (input == "yaf_mixed_dpi") {
        m->decoded = decode_file(data_file("sample/yaf_mixed_v4v6_dpi.yaf"));
    } else {
        FlowMix mix = FlowMix::kBenignNoName;
        for (FlowMix candidate : {FlowMix::kBenignNoName, FlowMix::kBenignName,
                                  FlowMix::kMaliciousIp, FlowMix::kMaliciousDns}) {
            if (mix_name(candidate) == input) {
                mix = candidate;
            }
        }
        m->decoded = decode_file(
            build_messages(make_flows(sample_intel(), mix, engine::FlowBatch::kMaxFlows)));
    }
    fill_batch(m->batch, m->decoded->views);
    engine::MatchCounters counters;
    engine::match_batch(m->batch, sample_intel().snapshot, engine::Mode::kPipeline, counters);
    return m;
}

/// IpfixOutput::write: threat fields, the 420/1 choice, and Encoder::add for every flow.
void ipfix_output(benchmark::State& state, const std::string& input) {
    const std::unique_ptr<MatchedBatch> m = matched(input);
    DiscardingOutput output;
    output.write(m->batch);  // derive and send the Templates once
    for (auto _ : state) {
        output.write(m->batch);
    }
    benchmark::DoNotOptimize(output.bytes);
    report_records(state, m->batch.size());
}

/// Encoder::add alone, with the hits already turned into ThreatFields.
void encoder_add(benchmark::State& state, const std::string& input) {
    const std::unique_ptr<MatchedBatch> m = matched(input);
    const engine::FlowBatch& batch = m->batch;
    std::vector<ipfix::ThreatFields> threats;
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    for (const engine::FlowRecord& flow : batch.flows) {
        ranges.emplace_back(threats.size(), flow.hit_count);
        for (const engine::Hit& hit : batch.hits_of(flow)) {
            threats.push_back(
                {engine::hit_type_name(hit.type), hit.trail, hit.info, hit.reference});
        }
    }
    DiscardingWriter writer;
    ipfix::Encoder encoder(ipfix::EncoderOptions{}, writer);
    for (auto _ : state) {
        for (std::size_t i = 0; i < batch.flows.size(); ++i) {
            const ipfix::FlowView& view = batch.flows[i].view;
            const std::string_view name = view.dns_count > 0 ? view.dns_name(0) : "";
            encoder.add(view, name, {threats.data() + ranges[i].first, ranges[i].second});
        }
    }
    benchmark::DoNotOptimize(writer.bytes);
    report_records(state, batch.size());
}

/// JsonOutput::format_flow into a reused line, as JsonOutput::write does.
void json_format(benchmark::State& state, const std::string& input) {
    const std::unique_ptr<MatchedBatch> m = matched(input);
    std::string line;
    line.reserve(4096);
    std::uint64_t bytes = 0;
    for (auto _ : state) {
        for (const engine::FlowRecord& flow : m->batch.flows) {
            line.clear();
            sinks::JsonOutput::format_flow(line, m->batch, flow);
            bytes += line.size();
        }
    }
    benchmark::DoNotOptimize(bytes);
    report_records(state, m->batch.size());
}

bool register_all() {
    // benign_*: 0 hits (pipeline mode forwards them); malicious_*: 1 hit each.
    for (const char* input :
         {"benign_noname", "benign_name", "malicious_ip", "malicious_dns", "yaf_mixed_dpi"}) {
        const std::string in = input;
        benchmark::RegisterBenchmark(("encode_ipfix_output/" + in).c_str(), ipfix_output, in);
        benchmark::RegisterBenchmark(("encode_encoder_add/" + in).c_str(), encoder_add, in);
        benchmark::RegisterBenchmark(("encode_json/" + in).c_str(), json_format, in);
    }
    return true;
}

const bool registered = register_all();

}  // namespace
}  // namespace malfix::bench
