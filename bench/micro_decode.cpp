// Decode and dispatch: ipfix::decode_message over real and synthetic exports, the Dispatcher
// on top of it, and FlowBatch::add alone.

#include "bench/micro_fixtures.hpp"
#include "engine/batch_queue.hpp"
#include "engine/dispatcher.hpp"

#include <benchmark/benchmark.h>

#include <functional>
#include <string>

namespace malfix::bench {
namespace {

/// Counts flows and reads a field of each, as the cheapest sink that still looks at them.
class CountingSink final : public ipfix::FlowSink {
public:
    void on_flow(const ipfix::FlowView& flow) override {
        ++flows;
        checksum += flow.dst_port + flow.dns_count;
    }

    std::uint64_t flows = 0;
    std::uint64_t checksum = 0;
};

/// An input: a name and a way to get its Messages (built or read on first use).
struct Input {
    std::string name;
    std::function<const MessageFile&()> file;
};

const MessageFile& synthetic(FlowMix mix) {
    static std::unique_ptr<MessageFile> files[4];
    auto& slot = files[static_cast<int>(mix)];
    if (!slot) {
        slot = std::make_unique<MessageFile>(build_messages(make_flows(sample_intel(), mix, 4096)));
    }
    return *slot;
}

std::vector<Input> inputs() {
    return {
        {"softflowd_sample",
         []() -> const MessageFile& { return data_file("sample/softflowd_sample.ipfix"); }},
        {"example_flows",
         []() -> const MessageFile& { return data_file("ipfix/example_flows.ipfix"); }},
        {"yaf_mixed_dpi",
         []() -> const MessageFile& { return data_file("sample/yaf_mixed_v4v6_dpi.yaf"); }},
        {"yaf_dns_dpi", []() -> const MessageFile& { return data_file("ipfix/yaf_dns_dpi.yaf"); }},
        {"synthetic_v4", []() -> const MessageFile& { return synthetic(FlowMix::kBenignNoName); }},
        {"synthetic_v4_dnsname",
         []() -> const MessageFile& { return synthetic(FlowMix::kBenignName); }},
    };
}

/// The file's Messages are decoded once for their Templates, then their Data Sets again and
/// again on the same session (Template Sets are per exporter, not per record).
void decode(benchmark::State& state, const Input& input) {
    const MessageFile& file = input.file();
    const MessageFile data = data_sets_only(file);
    ipfix::Session session(ipfix::Transport::kFile, "bench");
    ipfix::DecodeCounters counters;
    CountingSink sink;
    for (std::span<const std::byte> message : file.messages) {
        ipfix::decode_message(message, session, counters, sink, 0);
    }
    const std::uint64_t per_pass = sink.flows;
    for (auto _ : state) {
        for (std::span<const std::byte> message : data.messages) {
            ipfix::decode_message(message, session, counters, sink, 0);
        }
    }
    benchmark::DoNotOptimize(sink.checksum);
    report_records(state, per_pass);
}

/// decode_message plus the Dispatcher: hashing onto two matchers and FlowBatch::add, Data
/// Sets only as in decode(). The batches go back to the pool after each pass (cheap, timed).
void decode_dispatch(benchmark::State& state, const Input& input) {
    const MessageFile& file = input.file();
    const MessageFile data = data_sets_only(file);
    // Every batch of a pass must fit the pool: the queues are only drained between passes,
    // and a file input waits for a free batch.
    std::size_t records = 0;
    ipfix::Session count_session(ipfix::Transport::kFile, "count");
    decode_all(file, count_session, [&](const ipfix::FlowView&) { ++records; });
    const std::size_t batches = 2 * (records / engine::FlowBatch::kMaxFlows + 2) + 4;
    engine::BatchPool pool(batches);
    engine::BatchQueue q0(batches);
    engine::BatchQueue q1(batches);
    engine::Dispatcher dispatcher(pool, {&q0, &q1});
    ipfix::Session session(ipfix::Transport::kFile, "bench");
    std::uint64_t per_pass = 0;
    const auto drain = [&] {
        engine::FlowBatch* batch = nullptr;
        std::uint64_t flows = 0;
        for (engine::BatchQueue* q : {&q0, &q1}) {
            while (q->try_pop(batch)) {
                flows += batch->size();
                pool.release(batch);
            }
        }
        return flows;
    };
    for (std::span<const std::byte> message : file.messages) {
        dispatcher.on_message(session, message);
    }
    dispatcher.flush();
    per_pass = drain();

    for (auto _ : state) {
        for (std::span<const std::byte> message : data.messages) {
            dispatcher.on_message(session, message);
        }
        dispatcher.flush();
        benchmark::DoNotOptimize(drain());
    }
    report_records(state, per_pass);
}

/// FlowBatch::add alone: the copy of each decoded view and its record into a batch.
void batch_add(benchmark::State& state, const Input& input) {
    const std::unique_ptr<DecodedFlows> decoded = decode_file(input.file());
    const auto exporter = std::make_shared<const std::string>("udp:192.0.2.1:4739");
    engine::FlowBatch batch;
    for (auto _ : state) {
        for (const ipfix::FlowView& view : decoded->views) {
            if (!batch.add(view, exporter)) {
                batch.clear();
                batch.add(view, exporter);
            }
        }
        benchmark::DoNotOptimize(batch.flows.data());
    }
    report_records(state, decoded->views.size());
}

bool register_all() {
    for (const Input& input : inputs()) {
        benchmark::RegisterBenchmark(("decode/" + input.name).c_str(), decode, input);
        benchmark::RegisterBenchmark(("decode_dispatch/" + input.name).c_str(), decode_dispatch,
                                     input);
        benchmark::RegisterBenchmark(("batch_add/" + input.name).c_str(), batch_add, input);
    }
    return true;
}

const bool registered = register_all();

}  // namespace
}  // namespace malfix::bench
