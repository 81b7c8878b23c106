#pragma once

#include "engine/input.hpp"
#include "ipfix/session.hpp"
#include "sinks/kafka_client.hpp"
#include "sinks/kafka_url.hpp"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace flowpb {
class FlowMessage;
}

namespace malfix::engine {

/// Counters of one Kafka input; any thread may read them.
struct KafkaInputStats {
    std::uint64_t records = 0;      ///< Kafka records consumed
    std::uint64_t flows = 0;        ///< FlowMessages turned into IPFIX Data Records
    std::uint64_t bad_records = 0;  ///< records that are no FlowMessage (skipped, committed)
    std::uint64_t messages = 0;     ///< IPFIX Messages handed to the consumer
    std::uint64_t commits = 0;      ///< successful offset commits
    std::uint64_t commit_errors = 0;
};

struct KafkaInputOptions {
    sinks::KafkaSettings settings;
    /// Offsets are committed about this often (and at rebalances and shutdown).
    int commit_interval_ms = 1000;
    /// Called before every commit, after the input flushed its consumer: must return only
    /// when every flow handed over so far has been written and the outputs flushed
    /// (Pipeline::drain(), whose Kafka outputs wait for their deliveries).
    std::function<void()> drain;
};

/// --listen kafka://BROKERS/TOPIC?group=NAME[&format=protobuf][&framing=auto|none|
/// length-delimited][&X.PROP=V]
///
/// A Kafka consumer in group NAME (default "malfix"), so that several malfix processes split
/// the topic's partitions. Each record holds a flowpb.FlowMessage (sinks/proto/malfix.proto,
/// GoFlow2's numbering), bare or with GoFlow2's varint length prefix (framing=auto tells them
/// apart: a prefix equal to the rest of the record, followed by a valid message).
///
/// Each FlowMessage becomes an IPFIX Data Record under a fixed Template of this input (one for
/// IPv4, one for IPv6: addresses, ports, protocol, flowStart/EndMilliseconds, octet and packet
/// counts, and MalFIX's dnsName 420/1 with the first DNS name, empty when there is none); the
/// records are packed into IPFIX Messages and handed to the MessageConsumer, so decoding,
/// matching and every output work as for any other input. The Transport Session is named
/// "kafka:TOPIC".
///
/// At-least-once: enable.auto.commit is off, and the input commits the offsets of what it has
/// consumed only after drain() returned, i.e. after every output delivered those flows. A crash
/// between delivery and commit replays the uncommitted records.
/// TODO(engine): drain() waits for the whole pipeline, so a busy TCP listener in the same
/// process delays commits; per-input delivery tracking would remove that coupling.
class KafkaInput {
public:
    /// Throws std::invalid_argument for a bad URL or property, and std::runtime_error when no
    /// broker answers within the connect timeout (unless settings.wait_for_broker).
    KafkaInput(std::string_view spec, MessageConsumer& consumer, KafkaInputOptions options);
    ~KafkaInput();
    KafkaInput(const KafkaInput&) = delete;
    KafkaInput& operator=(const KafkaInput&) = delete;

    /// Starts the consuming thread.
    void start();
    /// Stops consuming, hands over and drains what was consumed, commits, leaves the group
    /// and joins the thread. Idempotent.
    void stop();

    KafkaInputStats stats() const;
    const std::string& name() const { return name_; }

private:
    void run();
    void handle_record(const void* payload, std::size_t size);
    /// Appends one Data Record; false when the FlowMessage has no usable addresses.
    bool add_flow_record(const flowpb::FlowMessage& flow);
    void open_message(std::uint32_t odid, std::uint16_t tmpl);
    /// Closes the IPFIX Message being built and hands it to the consumer.
    void emit();
    /// emit(), consumer.flush(), drain(), then commits every consumed offset.
    void commit_now();
    static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t* parts, void* opaque);

    enum Framing : std::uint8_t { kFramingAuto, kFramingNone, kFramingDelimited };

    std::string name_;
    MessageConsumer& consumer_;
    KafkaInputOptions options_;
    sinks::KafkaContext context_;
    Framing framing_ = kFramingAuto;
    rd_kafka_t* rk_ = nullptr;
    std::unique_ptr<flowpb::FlowMessage> flow_;  ///< reused for every record
    ipfix::Session session_;

    /// The IPFIX Message under construction.
    std::vector<std::byte> message_;
    std::uint32_t message_odid_ = 0;
    std::uint16_t message_template_ = 0;
    std::uint32_t message_records_ = 0;
    std::size_t data_set_ = 0;  ///< offset of the Data Set header in message_
    std::map<std::uint32_t, std::uint32_t> sequence_;  ///< per Observation Domain
    std::map<std::uint32_t, bool> templates_sent_;     ///< per Observation Domain

    /// Next offset to commit per (topic, partition): consumed but not yet committed.
    std::map<std::pair<std::string, std::int32_t>, std::int64_t> pending_offsets_;

    std::atomic<bool> stopping_{false};
    std::thread thread_;
    bool stopped_ = false;

    std::atomic<std::uint64_t> records_{0};
    std::atomic<std::uint64_t> flows_{0};
    std::atomic<std::uint64_t> bad_records_{0};
    std::atomic<std::uint64_t> messages_{0};
    std::atomic<std::uint64_t> commits_{0};
    std::atomic<std::uint64_t> commit_errors_{0};
};

}  // namespace malfix::engine
