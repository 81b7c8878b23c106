#pragma once

#include "engine/flow_batch.hpp"
#include "ipfix/encoder.hpp"
#include "sinks/kafka_client.hpp"
#include "sinks/kafka_flow_message.hpp"
#include "sinks/kafka_url.hpp"
#include "sinks/output.hpp"
#include "sinks/output_counters.hpp"
#include "sinks/threat_encoding.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

struct rd_kafka_s;
struct rd_kafka_topic_s;
struct rd_kafka_message_s;

namespace malfix::sinks {

/// What a Kafka record holds.
enum class KafkaFormat : std::uint8_t {
    kProtobuf,  ///< one flowpb.FlowMessage (sinks/proto/malfix.proto) per record
    kJson,      ///< one JSON object per record, as the json output writes it (no newline)
    kIpfix,     ///< one self-contained IPFIX Message per record, Templates included
};

/// The Kafka-specific counters, beyond OutputStats.
struct KafkaOutputStats {
    std::uint64_t delivered = 0;         ///< records the broker acknowledged
    std::uint64_t failed = 0;            ///< records whose delivery failed for good
    std::uint64_t queue_full_waits = 0;  ///< produce calls that waited for room (back-pressure)
    std::uint64_t outstanding = 0;       ///< records handed to librdkafka, not yet reported
};

/// --output kafka://BROKER[,BROKER...]/TOPIC[?format=...&framing=...&key=...&X.PROP=V]
///
/// A librdkafka producer, idempotent by default (enable.idempotence=true), with
/// message.timeout.ms=0 (retry for ever) and a bounded queue (queue.buffering.max.messages
/// 100000, queue.buffering.max.kbytes 65536); -X and X.* properties override any of them.
///
/// No loss: when librdkafka's queue is full, write() polls for delivery reports and tries
/// again, so it blocks the serializer thread; the pipeline's batch pool then runs dry and the
/// inputs slow down (TCP) or count drops (UDP). flush() waits up to flush_timeout_ms for every
/// outstanding delivery and reports what is still outstanding when it gives up; the destructor
/// does the same, then purges what is left and counts it as failed.
///
/// Counters: OutputStats::flows and messages count flows and records the broker acknowledged,
/// dropped and errors the flows and records whose delivery failed. Delivery reports are served
/// on the serializer thread (inside write(), flush() and tick()).
class KafkaOutput final : public Output, private ipfix::MessageWriter {
public:
    /// Throws std::invalid_argument for a bad URL or property, and std::runtime_error when no
    /// broker answers within settings.connect_timeout_ms (unless settings.wait_for_broker).
    KafkaOutput(std::string name, const KafkaUrl& url, KafkaSettings settings);
    ~KafkaOutput() override;
    KafkaOutput(const KafkaOutput&) = delete;
    KafkaOutput& operator=(const KafkaOutput&) = delete;

    void write(const engine::FlowBatch& batch) override;
    void flush() override;
    void tick(std::int64_t now_s) override;
    OutputStats stats() const override { return counters_.load(); }
    const std::string& name() const override { return name_; }

    KafkaOutputStats kafka_stats() const;
    KafkaFormat format() const { return format_; }

private:
    void write_ipfix(const engine::FlowBatch& batch);
    /// Hands one record to librdkafka (copying it), waiting while its queue is full. flows is
    /// what the record carries, counted when its delivery report comes back.
    void produce(std::string_view payload, std::span<const std::byte> key, std::uint32_t flows);
    void on_message(std::span<const std::byte> message, std::uint32_t flows) override;
    static void on_delivery(rd_kafka_s* rk, const rd_kafka_message_s* message, void* opaque);
    /// Waits up to timeout_ms for every outstanding delivery; returns what is still out.
    int wait_deliveries(int timeout_ms);

    std::string name_;
    KafkaContext context_;
    KafkaFormat format_ = KafkaFormat::kProtobuf;
    bool length_prefix_ = true;
    KafkaKey key_ = KafkaKey::kNone;
    rd_kafka_s* rk_ = nullptr;
    rd_kafka_topic_s* topic_ = nullptr;

    FlowMessageEncoder protobuf_;
    std::string record_;
    std::unique_ptr<ipfix::Encoder> ipfix_;
    ThreatScratch threats_{};

    OutputCounters counters_;
    std::atomic<std::uint64_t> delivered_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::atomic<std::uint64_t> queue_full_waits_{0};
    bool reported_broker_down_ = false;
    bool last_flush_gave_up_ = false;
};

/// Builds a KafkaOutput from its --output spec (make_output() calls this for kafka://).
std::unique_ptr<Output> make_kafka_output(std::string_view spec, const KafkaSettings& settings);

}  // namespace malfix::sinks
