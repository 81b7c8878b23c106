#include "sinks/kafka_output.hpp"

#include "sinks/json_output.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <utility>

namespace malfix::sinks {

namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t wall_ns() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

/// malfix's producer defaults; -X and X.* override them.
const KafkaProperties& producer_defaults() {
    static const KafkaProperties defaults = {
        // Exactly once per partition across retries and reconnects.
        {"enable.idempotence", "true"},
        // Never expire a record: a broker that is down for an hour only delays it.
        {"message.timeout.ms", "0"},
        // A bounded backlog: when it is full, write() waits (back-pressure to the inputs).
        {"queue.buffering.max.messages", "100000"},
        {"queue.buffering.max.kbytes", "65536"},
        {"linger.ms", "5"},
        {"client.id", "malfix"},
    };
    return defaults;
}

KafkaFormat parse_format(const std::string& text) {
    if (text == "protobuf") {
        return KafkaFormat::kProtobuf;
    }
    if (text == "json") {
        return KafkaFormat::kJson;
    }
    if (text == "ipfix") {
        return KafkaFormat::kIpfix;
    }
    throw std::invalid_argument("format=" + text + " (expected protobuf, json or ipfix)");
}

KafkaKey parse_key(const std::string& text) {
    if (text == "none") {
        return KafkaKey::kNone;
    }
    if (text == "src_addr") {
        return KafkaKey::kSrcAddr;
    }
    if (text == "flow_hash") {
        return KafkaKey::kFlowHash;
    }
    throw std::invalid_argument("key=" + text + " (expected none, src_addr or flow_hash)");
}

bool parse_framing(const std::string& text) {
    if (text == "length-delimited") {
        return true;
    }
    if (text == "none") {
        return false;
    }
    throw std::invalid_argument("framing=" + text + " (expected length-delimited or none)");
}

/// 1500 -> "1.5 s".
std::string seconds_text(int ms) {
    char text[32];
    std::snprintf(text, sizeof text, "%g s", ms / 1000.0);
    return text;
}

/// First few, then every power of two: a broker outage cannot flood the log.
bool worth_reporting(std::uint64_t n) {
    return n <= 3 || (n & (n - 1)) == 0;
}

}  // namespace

KafkaOutput::KafkaOutput(std::string name, const KafkaUrl& url, KafkaSettings settings)
    : name_(std::move(name)) {
    context_.settings = std::move(settings);
    context_.owner = this;
    format_ = parse_format(url.param("format", "protobuf"));
    length_prefix_ = parse_framing(url.param("framing", "length-delimited"));
    key_ = parse_key(url.param("key", "none"));
    if (format_ != KafkaFormat::kProtobuf && !url.param("framing", "").empty()) {
        throw std::invalid_argument("framing= applies to format=protobuf only");
    }
    if (format_ == KafkaFormat::kIpfix && key_ != KafkaKey::kNone) {
        throw std::invalid_argument("format=ipfix records hold many flows: key must be none");
    }

    rd_kafka_conf_t* conf = make_kafka_conf(url, producer_defaults(), context_);
    rd_kafka_conf_set_dr_msg_cb(conf, &KafkaOutput::on_delivery);
    char error[512];
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (rk_ == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw std::invalid_argument(std::string("Kafka producer: ") + error);
    }
    topic_ = rd_kafka_topic_new(rk_, url.topic.c_str(), nullptr);

    context_.quiet = true;
    const std::string problem = probe_brokers(rk_, context_.settings.connect_timeout_ms);
    context_.quiet = false;
    if (!problem.empty()) {
        const std::string reason = "no Kafka broker of " + url.brokers + " answered within " +
                                   seconds_text(context_.settings.connect_timeout_ms) + " (" +
                                   problem + ")";
        if (!context_.settings.wait_for_broker) {
            rd_kafka_topic_destroy(topic_);
            rd_kafka_destroy(rk_);
            throw std::runtime_error("output " + name_ + ": " + reason +
                                     "; --kafka-wait keeps retrying instead");
        }
        kafka_report(context_.settings, KafkaLogLevel::kWarn,
                     "output " + name_ + ": " + reason + "; retrying (--kafka-wait)");
    }

    if (format_ == KafkaFormat::kIpfix) {
        // UDP rules with a refresh after every Message: each Message carries the Templates
        // (and RFC 5610 type records) of its own records, so every Kafka record stands alone.
        ipfix::EncoderOptions e;
        e.transport = ipfix::Transport::kUdp;
        e.max_message_size = ipfix::Encoder::kMaxMessageSize;
        e.template_refresh_s = 0;
        e.template_refresh_messages = 1;
        ipfix::MessageWriter& writer = *this;
        ipfix_ = std::make_unique<ipfix::Encoder>(e, writer);
    }
    record_.reserve(4096);
}

KafkaOutput::~KafkaOutput() {
    if (ipfix_) {
        ipfix_->flush();
    }
    // A flush that already gave up waited its time; the destructor does not wait again.
    int left = wait_deliveries(last_flush_gave_up_ ? 0 : context_.settings.flush_timeout_ms);
    if (left > 0) {
        // Whatever is still queued now is lost: purge it so its delivery reports count it.
        rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(rk_, 100);
        left = rd_kafka_outq_len(rk_);
    }
    const KafkaOutputStats s = kafka_stats();
    kafka_report(context_.settings, s.failed == 0 ? KafkaLogLevel::kInfo : KafkaLogLevel::kError,
                 "output " + name_ + " closed: delivered=" + std::to_string(s.delivered) +
                     " failed=" + std::to_string(s.failed) +
                     " queue_full_waits=" + std::to_string(s.queue_full_waits));
    rd_kafka_topic_destroy(topic_);
    rd_kafka_destroy(rk_);
}

KafkaOutputStats KafkaOutput::kafka_stats() const {
    KafkaOutputStats s;
    s.delivered = delivered_.load(std::memory_order_relaxed);
    s.failed = failed_.load(std::memory_order_relaxed);
    s.queue_full_waits = queue_full_waits_.load(std::memory_order_relaxed);
    s.outstanding = static_cast<std::uint64_t>(std::max(0, rd_kafka_outq_len(rk_)));
    return s;
}

void KafkaOutput::write(const engine::FlowBatch& batch) {
    last_flush_gave_up_ = false;
    if (format_ == KafkaFormat::kIpfix) {
        write_ipfix(batch);
    } else {
        const std::uint64_t now_ns = wall_ns();
        std::array<std::byte, 16> key{};
        for (const engine::FlowRecord& flow : batch.flows) {
            if (!flow.forward) {
                continue;
            }
            record_.clear();
            if (format_ == KafkaFormat::kProtobuf) {
                protobuf_.append(record_, batch, flow, now_ns, length_prefix_);
            } else {
                JsonOutput::format_flow(record_, batch, flow);
                record_.pop_back();  // the newline: a Kafka record is its own frame
            }
            const std::size_t key_size = kafka_key(key_, flow.view, key.data());
            produce(record_, {key.data(), key_size}, 1);
        }
    }
    // Serve delivery reports without waiting.
    rd_kafka_poll(rk_, 0);
}

void KafkaOutput::write_ipfix(const engine::FlowBatch& batch) {
    ipfix_->set_time(static_cast<std::int64_t>(wall_ns() / 1'000'000'000));
    for (const engine::FlowRecord& flow : batch.flows) {
        if (!flow.forward) {
            continue;
        }
        if (encode_flow(*ipfix_, batch, flow, threats_) != ipfix::EncodeStatus::kOk) {
            OutputCounters::add(counters_.dropped, 1);
        }
    }
    // One Kafka record per batch at most: small records would cost more than they save.
    ipfix_->flush();
}

void KafkaOutput::on_message(std::span<const std::byte> message, std::uint32_t flows) {
    produce({reinterpret_cast<const char*>(message.data()), message.size()}, {}, flows);
}

void KafkaOutput::produce(std::string_view payload, std::span<const std::byte> key,
                          std::uint32_t flows) {
    void* opaque = reinterpret_cast<void*>(static_cast<std::uintptr_t>(flows));
    Clock::time_point waiting_since{};
    while (true) {
        const int rc = rd_kafka_produce(topic_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                        const_cast<char*>(payload.data()), payload.size(),
                                        key.empty() ? nullptr : key.data(), key.size(), opaque);
        if (rc == 0) {
            break;
        }
        const rd_kafka_resp_err_t err = rd_kafka_last_error();
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            // Too large for message.max.bytes, unknown topic with auto-create off, fatal error.
            OutputCounters::add(counters_.errors, 1);
            OutputCounters::add(counters_.dropped, flows);
            const std::uint64_t n = failed_.fetch_add(1, std::memory_order_relaxed) + 1;
            if (worth_reporting(n)) {
                kafka_report(context_.settings, KafkaLogLevel::kError,
                             "output " + name_ + ": record refused: " + rd_kafka_err2str(err) +
                                 " (failed=" + std::to_string(n) + ")");
            }
            return;
        }
        // Back-pressure: librdkafka's bounded queue is full. Serve delivery reports until
        // there is room; meanwhile the pipeline's batches pile up and the inputs slow down.
        queue_full_waits_.fetch_add(1, std::memory_order_relaxed);
        const auto now = Clock::now();
        if (waiting_since == Clock::time_point{}) {
            waiting_since = now;
        } else if (!reported_broker_down_ && now - waiting_since > std::chrono::seconds(2)) {
            reported_broker_down_ = true;
            kafka_report(context_.settings, KafkaLogLevel::kWarn,
                         "output " + name_ +
                             ": producer queue full, waiting for the broker (inputs are held "
                             "back)");
        }
        rd_kafka_poll(rk_, 100);
    }
    if (reported_broker_down_ && waiting_since != Clock::time_point{}) {
        reported_broker_down_ = false;
        kafka_report(context_.settings, KafkaLogLevel::kInfo,
                     "output " + name_ + ": producer queue has room again");
    }
}

void KafkaOutput::on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque) {
    (void)rk;
    auto* self = static_cast<KafkaOutput*>(static_cast<KafkaContext*>(opaque)->owner);
    const auto flows =
        static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(message->_private));
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        self->delivered_.fetch_add(1, std::memory_order_relaxed);
        OutputCounters::add(self->counters_.messages, 1);
        OutputCounters::add(self->counters_.flows, flows);
        OutputCounters::add(self->counters_.bytes, message->len);
        return;
    }
    OutputCounters::add(self->counters_.errors, 1);
    OutputCounters::add(self->counters_.dropped, flows);
    const std::uint64_t n = self->failed_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (worth_reporting(n)) {
        kafka_report(self->context_.settings, KafkaLogLevel::kError,
                     "output " + self->name_ + ": delivery failed: " +
                         rd_kafka_err2str(message->err) + " (failed=" + std::to_string(n) + ")");
    }
}

int KafkaOutput::wait_deliveries(int timeout_ms) {
    rd_kafka_flush(rk_, timeout_ms);
    return rd_kafka_outq_len(rk_);
}

void KafkaOutput::flush() {
    if (ipfix_) {
        ipfix_->flush();
    }
    const int left = wait_deliveries(context_.settings.flush_timeout_ms);
    last_flush_gave_up_ = left > 0;
    if (left > 0) {
        kafka_report(context_.settings, KafkaLogLevel::kWarn,
                     "output " + name_ + ": gave up waiting for deliveries after " +
                         seconds_text(context_.settings.flush_timeout_ms) + ": " +
                         std::to_string(left) + " records outstanding");
    }
}

void KafkaOutput::tick(std::int64_t now_s) {
    (void)now_s;
    rd_kafka_poll(rk_, 0);
}

std::unique_ptr<Output> make_kafka_output(std::string_view spec, const KafkaSettings& settings) {
    KafkaUrl url = parse_kafka_url(spec, {"format", "framing", "key"});
    try {
        return std::make_unique<KafkaOutput>(std::string(spec), url, settings);
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument("bad output '" + std::string(spec) + "': " + e.what());
    }
}

}  // namespace malfix::sinks
