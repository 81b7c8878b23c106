#pragma once

#include "sinks/kafka_url.hpp"

#include <functional>
#include <string>
#include <string_view>

struct rd_kafka_conf_s;
struct rd_kafka_s;

namespace malfix::sinks {

/// Severity of a line the Kafka client code reports (mapped onto malfix's log levels).
enum class KafkaLogLevel : unsigned char { kDebug, kInfo, kWarn, kError };

/// Where Kafka outputs and inputs report lifecycle events and librdkafka's own log lines.
/// May be called from librdkafka's threads. Empty: lines go to stderr.
using KafkaLog = std::function<void(KafkaLogLevel, std::string_view message)>;

/// What the command line says about every Kafka client (outputs and inputs alike).
struct KafkaSettings {
    /// librdkafka properties from -X KEY=VALUE, applied after malfix's defaults and before
    /// the URL's own X.KEY=VALUE options.
    KafkaProperties properties;
    /// How long start-up waits for a broker to answer (--kafka-connect-timeout).
    int connect_timeout_ms = 10000;
    /// How long Output::flush() waits for outstanding deliveries (--kafka-flush-timeout).
    int flush_timeout_ms = 30000;
    /// --kafka-wait: an unreachable broker at start-up is not an error; librdkafka keeps
    /// retrying and the records wait in its bounded queue.
    bool wait_for_broker = false;
    KafkaLog log;
};

/// What librdkafka's callbacks see as their opaque: the settings (for the log) and the client
/// object that owns the handle. Must outlive the handle.
struct KafkaContext {
    KafkaSettings settings;
    void* owner = nullptr;
    /// While set (during the start-up probe), librdkafka's log lines are not reported: the
    /// probe's own one-line verdict says what matters.
    bool quiet = false;
};

/// Calls settings.log, or writes "malfix: kafka: MESSAGE" to stderr when it is empty.
void kafka_report(const KafkaSettings& settings, KafkaLogLevel level, std::string_view message);

/// Builds a librdkafka configuration: bootstrap.servers from the URL, then defaults (in
/// order), then -X properties, then the URL's X.* properties. Routes librdkafka's log and
/// error callbacks to context.settings.log and makes context the handle's opaque. Throws
/// std::invalid_argument naming a property librdkafka rejects.
rd_kafka_conf_s* make_kafka_conf(const KafkaUrl& url, const KafkaProperties& defaults,
                                 KafkaContext& context);

/// Asks the cluster for its metadata until a broker answers or timeout_ms passes. Returns
/// an empty string on success, else librdkafka's reason.
std::string probe_brokers(rd_kafka_s* rk, int timeout_ms);

}  // namespace malfix::sinks
