#pragma once

#include "engine/batch_queue.hpp"
#include "engine/input.hpp"
#include "ipfix/decoder.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace malfix::engine {

/// Counters of one input thread, published by its Dispatcher for readers on other threads.
struct alignas(64) InputCounters {
    std::atomic<std::uint64_t> messages{0};
    std::atomic<std::uint64_t> messages_rejected{0};
    std::atomic<std::uint64_t> flows{0};
    std::atomic<std::uint64_t> options_records{0};
    std::atomic<std::uint64_t> template_records{0};
    std::atomic<std::uint64_t> withdrawals{0};
    std::atomic<std::uint64_t> sequence_gaps{0};
    /// UDP flows dropped because every batch was in use (the pipeline was saturated).
    std::atomic<std::uint64_t> queue_full_drops{0};
    std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(ipfix::DropReason::kCount)>
        drops{};
};

/// Flows (Data Records) of one exporter as its input thread counts them: one writer, any
/// number of relaxed readers.
struct ExporterFlows {
    explicit ExporterFlows(std::string exporter) : name(std::move(exporter)) {}
    const std::string name;
    std::atomic<std::uint64_t> flows{0};
};

/// The decoding end of one input thread: decodes Messages, hashes each flow onto a matcher
/// by its address pair and ships the flows in batches through that matcher's queue.
///
/// Owned and called by exactly one input thread (MessageConsumer contract).
class Dispatcher final : public MessageConsumer, private ipfix::FlowSink {
public:
    Dispatcher(BatchPool& pool, std::vector<BatchQueue*> matcher_queues);
    ~Dispatcher() override;

    Verdict on_message(ipfix::Session& session, std::span<const std::byte> message) override;
    void flush() override;
    void on_session_closed(ipfix::Session& session) override;
    Rejection last_rejection() const override { return last_rejection_; }

    const InputCounters& counters() const { return published_; }

    /// Exporters this input has decoded Messages from, with their flow totals (sessions that
    /// closed included). Any thread; the lock only guards against a new exporter being added.
    std::vector<std::pair<std::string, std::uint64_t>> exporter_flows() const;

    /// Distinct exporter names kept per input; later ones are counted under "other", so a
    /// scan of ephemeral source ports cannot grow the metrics without bound.
    static constexpr std::size_t kMaxExporters = 1024;

private:
    void on_flow(const ipfix::FlowView& flow) override;
    /// The batch for matcher m, acquiring one if needed; nullptr when a UDP flow must drop.
    FlowBatch* batch_for(std::size_t m);
    void ship(std::size_t m);
    void publish();
    /// The session's exporter, named and counted on its first Message.
    struct SessionExporter {
        std::shared_ptr<const std::string> name;
        ExporterFlows* flows = nullptr;
    };
    const SessionExporter& exporter_of(const ipfix::Session& session);
    ExporterFlows* exporter_counter(const std::string& name);

    BatchPool& pool_;
    std::vector<BatchQueue*> queues_;
    std::vector<FlowBatch*> open_;
    ipfix::DecodeCounters decode_;
    std::uint64_t queue_full_drops_ = 0;
    std::uint64_t rejected_ = 0;
    Rejection last_rejection_;
    ipfix::Session* current_session_ = nullptr;
    std::shared_ptr<const std::string> current_exporter_;
    std::unordered_map<const ipfix::Session*, SessionExporter> exporters_;
    // Per-exporter flow counters (issue 5): found once per session, bumped once per Message
    // by the Data Records it held, never per record. A deque keeps their addresses stable.
    std::unordered_map<std::string, ExporterFlows*> exporter_index_;
    std::deque<ExporterFlows> exporter_flows_;
    mutable std::mutex exporter_flows_mutex_;
    InputCounters published_;
};

/// Picks the matcher for a flow. The hash is symmetric in (source, destination), so both
/// directions of a conversation land on the same matcher thread.
std::size_t matcher_for(const ipfix::FlowView& flow, std::size_t matchers);

}  // namespace malfix::engine
