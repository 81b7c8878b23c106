#include "sinks/kafka_client.hpp"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

namespace malfix::sinks {

namespace {

void set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value,
                  std::string_view origin) {
    char error[512];
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        throw std::invalid_argument("Kafka property " + key + "=" + value + " (" +
                                    std::string(origin) + "): " + error);
    }
}

// librdkafka passes syslog levels: 0-3 errors, 4 warnings, 5-6 notices and info, 7 debug.
void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* text) {
    const auto* context = static_cast<const KafkaContext*>(rd_kafka_opaque(rk));
    if (context == nullptr || context->quiet) {
        return;
    }
    const KafkaLogLevel mapped = level <= 3   ? KafkaLogLevel::kError
                                 : level == 4 ? KafkaLogLevel::kWarn
                                 : level <= 6 ? KafkaLogLevel::kInfo
                                              : KafkaLogLevel::kDebug;
    kafka_report(context->settings, mapped, std::string("librdkafka ") + facility + ": " + text);
}

// Errors librdkafka recovers from itself (a broker going away, all brokers down) are warnings:
// the client keeps retrying. Fatal ones (the idempotent producer's sequence broke) are errors.
void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    const auto* context = static_cast<const KafkaContext*>(opaque);
    if (context == nullptr || context->quiet) {
        return;
    }
    const bool fatal = err == RD_KAFKA_RESP_ERR__FATAL;
    std::string text = std::string(fatal ? "fatal Kafka error: " : "Kafka: ") + reason;
    if (fatal) {
        char detail[512];
        rd_kafka_fatal_error(rk, detail, sizeof detail);
        text += std::string(" (") + detail + ")";
    }
    kafka_report(context->settings, fatal ? KafkaLogLevel::kError : KafkaLogLevel::kWarn, text);
}

}  // namespace

void kafka_report(const KafkaSettings& settings, KafkaLogLevel level, std::string_view message) {
    if (settings.log) {
        settings.log(level, message);
        return;
    }
    if (level != KafkaLogLevel::kDebug) {
        std::fprintf(stderr, "malfix: kafka: %.*s\n", static_cast<int>(message.size()),
                     message.data());
    }
}

rd_kafka_conf_s* make_kafka_conf(const KafkaUrl& url, const KafkaProperties& defaults,
                                 KafkaContext& context) {
    const KafkaSettings& settings = context.settings;
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set_property(conf, "bootstrap.servers", url.brokers, "URL");
    for (const auto& [key, value] : defaults) {
        set_property(conf, key, value, "malfix default");
    }
    for (const auto& [key, value] : settings.properties) {
        set_property(conf, key, value, "-X");
    }
    for (const auto& [key, value] : url.properties) {
        set_property(conf, key, value, "URL X." + key);
    }
    rd_kafka_conf_set_opaque(conf, &context);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
    return conf;
}

std::string probe_brokers(rd_kafka_s* rk, int timeout_ms) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string reason = "no answer";
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            return reason;
        }
        const rd_kafka_metadata_t* md = nullptr;
        const rd_kafka_resp_err_t err =
            rd_kafka_metadata(rk, 0, nullptr, &md, static_cast<int>(left.count()));
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const bool any = md->broker_cnt > 0;
            rd_kafka_metadata_destroy(md);
            if (any) {
                return {};
            }
            reason = "the cluster lists no brokers";
        } else {
            reason = rd_kafka_err2str(err);
        }
        // A refused connection fails at once; do not spin on it.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

}  // namespace malfix::sinks
