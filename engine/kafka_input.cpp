#include "engine/kafka_input.hpp"

#include "ipfix/encoder.hpp"

#include "malfix/proto/malfix.pb.h"
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace malfix::engine {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint16_t kTemplateV4 = 256;
constexpr std::uint16_t kTemplateV6 = 257;
/// Messages are closed once they pass this size; well under RFC 7011's 65535.
constexpr std::size_t kMessageTarget = 16 * 1024;
constexpr std::size_t kHeaderSize = 16;

/// Field Specifiers of the input's Templates after the two addresses (RFC 7011 §3.2; IANA
/// numbers): sourceTransportPort, destinationTransportPort, protocolIdentifier,
/// flowStartMilliseconds, flowEndMilliseconds, octetDeltaCount, packetDeltaCount.
struct Field {
    std::uint16_t id;
    std::uint16_t length;
};
constexpr Field kCommonFields[] = {{7, 2}, {11, 2}, {4, 1}, {152, 8}, {153, 8}, {1, 8}, {2, 8}};

void put(std::vector<std::byte>& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        out.push_back(static_cast<std::byte>(v >> (8 * i)));
    }
}

void put_at(std::vector<std::byte>& out, std::size_t at, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out[at + i] = static_cast<std::byte>(v >> (8 * (bytes - 1 - i)));
    }
}

void put_raw(std::vector<std::byte>& out, const std::string& bytes) {
    const auto* p = reinterpret_cast<const std::byte*>(bytes.data());
    out.insert(out.end(), p, p + bytes.size());
}

/// One Template Record: the two address fields of the family, the common fields, dnsName.
void put_template(std::vector<std::byte>& out, std::uint16_t id, std::uint16_t src_ie,
                  std::uint16_t dst_ie, std::uint16_t addr_len) {
    const std::size_t count = 2 + std::size(kCommonFields) + 1;
    put(out, id, 2);
    put(out, count, 2);
    put(out, src_ie, 2);
    put(out, addr_len, 2);
    put(out, dst_ie, 2);
    put(out, addr_len, 2);
    for (const Field& f : kCommonFields) {
        put(out, f.id, 2);
        put(out, f.length, 2);
    }
    // 420/1 dnsName, variable length: the enterprise bit, then the PEN (RFC 7011 §3.2).
    put(out, 0x8000U | static_cast<unsigned>(ipfix::MalfixElement::kDnsName), 2);
    put(out, 0xFFFF, 2);
    put(out, ipfix::kMalfixPen, 4);
}

/// Reads a base-128 varint; returns its length in bytes, 0 when malformed or truncated.
std::size_t read_varint(const std::uint8_t* p, std::size_t size, std::uint64_t& value) {
    value = 0;
    for (std::size_t i = 0; i < size && i < 10; ++i) {
        value |= std::uint64_t{p[i] & 0x7FU} << (7 * i);
        if ((p[i] & 0x80U) == 0) {
            return i + 1;
        }
    }
    return 0;
}

bool worth_reporting(std::uint64_t n) {
    return n <= 3 || (n & (n - 1)) == 0;
}

}  // namespace

KafkaInput::KafkaInput(std::string_view spec, MessageConsumer& consumer, KafkaInputOptions options)
    : name_(spec),
      consumer_(consumer),
      options_(std::move(options)),
      session_(ipfix::Transport::kTcp, "kafka:") {
    const sinks::KafkaUrl url = sinks::parse_kafka_url(spec, {"group", "format", "framing"});
    if (url.param("format", "protobuf") != "protobuf") {
        throw std::invalid_argument("bad input '" + name_ + "': format=" + url.param("format", "") +
                                    " (only protobuf is read)");
    }
    const std::string framing = url.param("framing", "auto");
    if (framing == "auto") {
        framing_ = kFramingAuto;
    } else if (framing == "none") {
        framing_ = kFramingNone;
    } else if (framing == "length-delimited") {
        framing_ = kFramingDelimited;
    } else {
        throw std::invalid_argument("bad input '" + name_ + "': framing=" + framing +
                                    " (expected auto, none or length-delimited)");
    }
    session_ = ipfix::Session(ipfix::Transport::kTcp, "kafka:" + url.topic);
    context_.settings = options_.settings;
    context_.owner = this;

    const sinks::KafkaProperties defaults = {
        {"group.id", url.param("group", "malfix")},
        // Offsets are committed by commit_now(), after the outputs delivered the flows.
        {"enable.auto.commit", "false"},
        {"auto.offset.reset", "earliest"},
        {"client.id", "malfix"},
    };
    rd_kafka_conf_t* conf = sinks::make_kafka_conf(url, defaults, context_);
    rd_kafka_conf_set_rebalance_cb(conf, &KafkaInput::on_rebalance);
    char error[512];
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (rk_ == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw std::invalid_argument("bad input '" + name_ + "': " + error);
    }
    rd_kafka_poll_set_consumer(rk_);

    context_.quiet = true;
    const std::string problem = sinks::probe_brokers(rk_, options_.settings.connect_timeout_ms);
    context_.quiet = false;
    if (!problem.empty()) {
        const std::string reason =
            "no Kafka broker of " + url.brokers + " answered (" + problem + ")";
        if (!options_.settings.wait_for_broker) {
            rd_kafka_destroy(rk_);
            throw std::runtime_error("input " + name_ + ": " + reason +
                                     "; --kafka-wait keeps retrying instead");
        }
        sinks::kafka_report(context_.settings, sinks::KafkaLogLevel::kWarn,
                            "input " + name_ + ": " + reason + "; retrying (--kafka-wait)");
    }

    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, url.topic.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_destroy(rk_);
        throw std::runtime_error("input " + name_ + ": cannot subscribe: " + rd_kafka_err2str(err));
    }
    message_.reserve(kMessageTarget + 1024);
    flow_ = std::make_unique<flowpb::FlowMessage>();
}

KafkaInput::~KafkaInput() {
    stop();
    rd_kafka_destroy(rk_);
}

void KafkaInput::start() {
    thread_ = std::thread([this] { run(); });
}

void KafkaInput::stop() {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    stopping_.store(true, std::memory_order_release);
    if (thread_.joinable()) {
        thread_.join();
    } else {
        // Never started: still leave the group cleanly.
        rd_kafka_consumer_close(rk_);
    }
}

KafkaInputStats KafkaInput::stats() const {
    const auto r = std::memory_order_relaxed;
    KafkaInputStats s;
    s.records = records_.load(r);
    s.flows = flows_.load(r);
    s.bad_records = bad_records_.load(r);
    s.messages = messages_.load(r);
    s.commits = commits_.load(r);
    s.commit_errors = commit_errors_.load(r);
    return s;
}

void KafkaInput::run() {
    auto next_commit = Clock::now() + std::chrono::milliseconds(options_.commit_interval_ms);
    while (!stopping_.load(std::memory_order_acquire)) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 100);
        if (m == nullptr) {
            // Idle: ship what was gathered, so flows never wait for a full batch.
            emit();
            consumer_.flush();
        } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                sinks::kafka_report(context_.settings, sinks::KafkaLogLevel::kWarn,
                                    "input " + name_ + ": " + rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
        } else {
            records_.fetch_add(1, std::memory_order_relaxed);
            handle_record(m->payload, m->len);
            pending_offsets_[{rd_kafka_topic_name(m->rkt), m->partition}] = m->offset + 1;
            rd_kafka_message_destroy(m);
        }
        if (Clock::now() >= next_commit) {
            if (!pending_offsets_.empty()) {
                commit_now();
            }
            next_commit = Clock::now() + std::chrono::milliseconds(options_.commit_interval_ms);
        }
    }
    commit_now();
    // Leaving the group revokes the partitions (on_rebalance commits, nothing is left).
    rd_kafka_consumer_close(rk_);
}

void KafkaInput::handle_record(const void* payload, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(payload);
    flowpb::FlowMessage& flow = *flow_;

    // Length-delimited (GoFlow2): varint prefixes, each followed by that many message bytes.
    // The first pass only checks, so a record that fails half-way adds nothing.
    auto delimited = [&](bool add) {
        std::size_t at = 0;
        while (at < size) {
            std::uint64_t length = 0;
            const std::size_t n = read_varint(p + at, size - at, length);
            if (n == 0 || length > size - at - n ||
                !flow.ParseFromArray(p + at + n, static_cast<int>(length))) {
                return false;
            }
            if (add && !add_flow_record(flow)) {
                return false;
            }
            at += n + static_cast<std::size_t>(length);
        }
        return at > 0;
    };

    bool ok = false;
    if (framing_ != kFramingNone) {
        // A bare message rarely starts with a varint equal to the rest of its own length.
        ok = delimited(false) && delimited(true);
    }
    if (!ok && framing_ != kFramingDelimited) {
        ok = size > 0 && flow.ParseFromArray(p, static_cast<int>(size)) && add_flow_record(flow);
    }
    if (!ok) {
        const std::uint64_t n = bad_records_.fetch_add(1, std::memory_order_relaxed) + 1;
        if (worth_reporting(n)) {
            sinks::kafka_report(context_.settings, sinks::KafkaLogLevel::kWarn,
                                "input " + name_ + ": record is no FlowMessage, skipped (bad=" +
                                    std::to_string(n) + ")");
        }
    }
}

bool KafkaInput::add_flow_record(const flowpb::FlowMessage& flow) {
    const std::size_t addr_len = flow.src_addr().size();
    if ((addr_len != 4 && addr_len != 16) || flow.dst_addr().size() != addr_len) {
        return false;
    }
    const std::uint16_t tmpl = addr_len == 4 ? kTemplateV4 : kTemplateV6;
    const std::uint32_t odid = flow.observation_domain_id();
    std::string_view dns = flow.dns_qnames_size() > 0 ? flow.dns_qnames(0) : std::string_view{};
    dns = dns.substr(0, 65535);
    const std::size_t record_size = 2 * addr_len + 45 - 8 + (dns.size() < 255 ? 1 : 3) + dns.size();

    if (message_records_ != 0 && (odid != message_odid_ || tmpl != message_template_ ||
                                  message_.size() + record_size > kMessageTarget)) {
        emit();
    }
    if (message_records_ == 0) {
        open_message(odid, tmpl);
    }
    put_raw(message_, flow.src_addr());
    put_raw(message_, flow.dst_addr());
    put(message_, flow.src_port(), 2);
    put(message_, flow.dst_port(), 2);
    put(message_, flow.proto(), 1);
    put(message_, flow.time_flow_start_ns() / 1'000'000, 8);
    put(message_, flow.time_flow_end_ns() / 1'000'000, 8);
    put(message_, flow.bytes(), 8);
    put(message_, flow.packets(), 8);
    // Variable-length encoding, RFC 7011 §7: one length byte, or 255 and two length bytes.
    if (dns.size() < 255) {
        put(message_, dns.size(), 1);
    } else {
        put(message_, 255, 1);
        put(message_, dns.size(), 2);
    }
    const auto* d = reinterpret_cast<const std::byte*>(dns.data());
    message_.insert(message_.end(), d, d + dns.size());
    ++message_records_;
    flows_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void KafkaInput::open_message(std::uint32_t odid, std::uint16_t tmpl) {
    message_.clear();
    put(message_, 10, 2);  // Version
    put(message_, 0, 2);   // Length, set by emit()
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch());
    put(message_, static_cast<std::uint64_t>(now.count()), 4);
    put(message_, sequence_[odid], 4);
    put(message_, odid, 4);
    if (!templates_sent_[odid]) {
        // Both Templates once per Observation Domain: the Session keeps them (TCP rules).
        const std::size_t set = message_.size();
        put(message_, 2, 2);
        put(message_, 0, 2);
        put_template(message_, kTemplateV4, 8, 12, 4);
        put_template(message_, kTemplateV6, 27, 28, 16);
        put_at(message_, set + 2, message_.size() - set, 2);
        templates_sent_[odid] = true;
    }
    data_set_ = message_.size();
    put(message_, tmpl, 2);
    put(message_, 0, 2);
    message_odid_ = odid;
    message_template_ = tmpl;
}

void KafkaInput::emit() {
    if (message_records_ == 0) {
        return;
    }
    put_at(message_, data_set_ + 2, message_.size() - data_set_, 2);
    put_at(message_, 2, message_.size(), 2);
    sequence_[message_odid_] += message_records_;
    message_records_ = 0;
    messages_.fetch_add(1, std::memory_order_relaxed);
    if (consumer_.on_message(session_, {message_.data(), message_.size()}) != Verdict::kAccepted) {
        // Never expected: the Message is built here. Say so instead of losing flows silently.
        sinks::kafka_report(context_.settings, sinks::KafkaLogLevel::kError,
                            "input " + name_ + ": own IPFIX Message rejected: " +
                                std::string(consumer_.last_rejection().reason));
    }
}

void KafkaInput::commit_now() {
    emit();
    consumer_.flush();
    if (pending_offsets_.empty()) {
        return;
    }
    if (options_.drain) {
        options_.drain();
    }
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(pending_offsets_.size()));
    for (const auto& [where, offset] : pending_offsets_) {
        rd_kafka_topic_partition_list_add(list, where.first.c_str(), where.second)->offset = offset;
    }
    const rd_kafka_resp_err_t err = rd_kafka_commit(rk_, list, 0);
    rd_kafka_topic_partition_list_destroy(list);
    pending_offsets_.clear();
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        commits_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    // The flows went out; only the bookkeeping failed, so a restart replays them.
    const std::uint64_t n = commit_errors_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (worth_reporting(n)) {
        sinks::kafka_report(context_.settings, sinks::KafkaLogLevel::kWarn,
                            "input " + name_ + ": offset commit failed: " + rd_kafka_err2str(err) +
                                " (records may be read again)");
    }
}

void KafkaInput::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<KafkaInput*>(static_cast<sinks::KafkaContext*>(opaque)->owner);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, parts);
        sinks::kafka_report(
            self->context_.settings, sinks::KafkaLogLevel::kInfo,
            "input " + self->name_ + ": assigned " + std::to_string(parts->cnt) + " partition(s)");
        return;
    }
    // Revoked (or an error): what was consumed from these partitions is delivered and
    // committed before another group member may take them over.
    self->commit_now();
    rd_kafka_assign(rk, nullptr);
}

}  // namespace malfix::engine
