#include "engine/dispatcher.hpp"

#include <chrono>
#include <cstring>
#include <ctime>

namespace malfix::engine {
namespace {

std::uint64_t address_hash(const ipfix::IpAddress& addr) {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::memcpy(&a, addr.bytes.data(), 8);
    std::memcpy(&b, addr.bytes.data() + 8, 8);
    // A multiply-xorshift mix: cheap, and spreads neighbouring addresses across matchers.
    std::uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 31);
}

}  // namespace

std::size_t matcher_for(const ipfix::FlowView& flow, std::size_t matchers) {
    // Adding the two hashes makes (a, b) and (b, a) hash alike.
    const std::uint64_t h = address_hash(flow.src_addr) + address_hash(flow.dst_addr);
    return static_cast<std::size_t>((h ^ (h >> 29)) % matchers);
}

Dispatcher::Dispatcher(BatchPool& pool, std::vector<BatchQueue*> matcher_queues)
    : pool_(pool), queues_(std::move(matcher_queues)), open_(queues_.size(), nullptr) {}

Dispatcher::~Dispatcher() {
    for (FlowBatch*& batch : open_) {
        if (batch != nullptr) {
            pool_.release(batch);
            batch = nullptr;
        }
    }
}

Verdict Dispatcher::on_message(ipfix::Session& session, std::span<const std::byte> message) {
    current_session_ = &session;
    const SessionExporter& exporter = exporter_of(session);
    current_exporter_ = exporter.name;
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    const std::uint64_t records_before = decode_.data_records;
    const ipfix::DecodeResult result = ipfix::decode_message(message, session, decode_, *this, now);
    // Only this thread writes the counter: a relaxed load and store, no read-modify-write.
    exporter.flows->flows.store(exporter.flows->flows.load(std::memory_order_relaxed) +
                                    (decode_.data_records - records_before),
                                std::memory_order_relaxed);
    if (!result.ok) {
        ++rejected_;
        last_rejection_ = {ipfix::reason_name(result.reason), result.offset};
    }
    // Publishing now and then keeps the stats line moving during a long file or connection.
    if ((decode_.messages & 63) == 0) {
        publish();
    }
    return result.ok ? Verdict::kAccepted : Verdict::kRejected;
}

const Dispatcher::SessionExporter& Dispatcher::exporter_of(const ipfix::Session& session) {
    auto [it, inserted] = exporters_.try_emplace(&session);
    if (inserted) {
        it->second.name = std::make_shared<const std::string>(session.exporter());
        it->second.flows = exporter_counter(*it->second.name);
    }
    return it->second;
}

ExporterFlows* Dispatcher::exporter_counter(const std::string& name) {
    if (const auto found = exporter_index_.find(name); found != exporter_index_.end()) {
        return found->second;
    }
    const std::string key = exporter_index_.size() < kMaxExporters ? name : std::string("other");
    if (const auto found = exporter_index_.find(key); found != exporter_index_.end()) {
        return found->second;
    }
    std::lock_guard lock(exporter_flows_mutex_);
    ExporterFlows* counter = &exporter_flows_.emplace_back(key);
    exporter_index_.emplace(key, counter);
    return counter;
}

std::vector<std::pair<std::string, std::uint64_t>> Dispatcher::exporter_flows() const {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    std::lock_guard lock(exporter_flows_mutex_);
    out.reserve(exporter_flows_.size());
    for (const ExporterFlows& e : exporter_flows_) {
        out.emplace_back(e.name, e.flows.load(std::memory_order_relaxed));
    }
    return out;
}

void Dispatcher::on_flow(const ipfix::FlowView& flow) {
    const std::size_t m = matcher_for(flow, queues_.size());
    FlowBatch* batch = batch_for(m);
    if (batch == nullptr) {
        ++queue_full_drops_;
        return;
    }
    if (batch->add(flow, current_exporter_)) {
        return;
    }
    ship(m);
    batch = batch_for(m);
    if (batch == nullptr || !batch->add(flow, current_exporter_)) {
        ++queue_full_drops_;
    }
}

FlowBatch* Dispatcher::batch_for(std::size_t m) {
    if (open_[m] != nullptr) {
        return open_[m];
    }
    if (current_session_ != nullptr && current_session_->transport() == ipfix::Transport::kUdp) {
        // UDP has no way to slow the exporter down: take a batch if one is free, else drop.
        open_[m] = pool_.acquire(std::chrono::microseconds{0});
        return open_[m];
    }
    // TCP and files wait: while this thread waits it reads nothing, so the socket's window
    // fills and the exporter slows down (or the file is simply read later). Shipping the other
    // partial batches first means a waiting input never sits on batches the pool needs.
    if ((open_[m] = pool_.acquire(std::chrono::microseconds{0})) != nullptr) {
        return open_[m];
    }
    for (std::size_t other = 0; other < open_.size(); ++other) {
        ship(other);
    }
    while ((open_[m] = pool_.acquire(std::chrono::milliseconds{50})) == nullptr) {
    }
    return open_[m];
}

void Dispatcher::ship(std::size_t m) {
    if (open_[m] == nullptr) {
        return;
    }
    if (open_[m]->empty()) {
        pool_.release(open_[m]);
    } else {
        queues_[m]->push(open_[m]);
    }
    open_[m] = nullptr;
}

void Dispatcher::flush() {
    for (std::size_t m = 0; m < open_.size(); ++m) {
        ship(m);
    }
    publish();
}

void Dispatcher::on_session_closed(ipfix::Session& session) {
    exporters_.erase(&session);
    if (current_session_ == &session) {
        current_session_ = nullptr;
    }
}

void Dispatcher::publish() {
    const auto relaxed = std::memory_order_relaxed;
    published_.messages.store(decode_.messages, relaxed);
    published_.messages_rejected.store(rejected_, relaxed);
    published_.flows.store(decode_.data_records, relaxed);
    published_.options_records.store(decode_.options_records, relaxed);
    published_.template_records.store(decode_.template_records, relaxed);
    published_.withdrawals.store(decode_.withdrawals, relaxed);
    published_.sequence_gaps.store(decode_.sequence_gaps, relaxed);
    published_.queue_full_drops.store(queue_full_drops_, relaxed);
    for (std::size_t i = 0; i < decode_.drops.size(); ++i) {
        published_.drops[i].store(decode_.drops[i], relaxed);
    }
}

}  // namespace malfix::engine
