#include "engine/pipeline.hpp"

#include "engine/log.hpp"

#include <chrono>

namespace malfix::engine {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::size_t pool_size(const PipelineOptions& options) {
    // Each input may hold one open batch per matcher; the rest flow through the queues.
    return options.matchers * (options.batches_per_matcher + options.max_inputs);
}

}  // namespace

Pipeline::Pipeline(PipelineOptions options, const intel::SnapshotHolder& intel,
                   std::vector<std::unique_ptr<sinks::Output>> outputs)
    : options_(options),
      intel_(intel),
      outputs_(std::move(outputs)),
      pool_(pool_size(options)),
      serializer_queue_(pool_size(options)) {
    for (std::size_t i = 0; i < options_.matchers; ++i) {
        matcher_queues_.push_back(std::make_unique<BatchQueue>(pool_.capacity()));
        match_counters_.push_back(std::make_unique<MatchCounters>());
    }
    for (std::size_t i = 0; i < options_.matchers; ++i) {
        matchers_.emplace_back([this, i] { run_matcher(i); });
    }
    serializer_ = std::thread([this] { run_serializer(); });
}

Pipeline::~Pipeline() {
    stop();
}

Dispatcher& Pipeline::make_dispatcher() {
    std::vector<BatchQueue*> queues;
    for (auto& q : matcher_queues_) {
        queues.push_back(q.get());
    }
    std::lock_guard lock(dispatchers_mutex_);
    dispatchers_.push_back(std::make_unique<Dispatcher>(pool_, std::move(queues)));
    return *dispatchers_.back();
}

void Pipeline::run_matcher(std::size_t index) {
    BatchQueue& queue = *matcher_queues_[index];
    MatchCounters& counters = *match_counters_[index];
    FlowBatch* batch = nullptr;
    while (!stopping_.load(std::memory_order_acquire) || queue.depth() != 0) {
        if (!queue.pop(batch, milliseconds{50})) {
            continue;
        }
        // One snapshot per batch: a reload swaps the pointer between batches, never inside.
        match_batch(*batch, intel_.current(), options_.mode, counters);
        serializer_queue_.push(batch);
    }
}

void Pipeline::run_serializer() {
    FlowBatch* batch = nullptr;
    bool dirty = false;
    auto last_tick = Clock::now();
    while (true) {
        const bool got = serializer_queue_.pop(batch, milliseconds{20});
        if (got) {
            std::uint64_t forwarded = 0;
            for (const FlowRecord& flow : batch->flows) {
                forwarded += flow.forward ? 1 : 0;
            }
            if (forwarded != 0) {
                for (auto& output : outputs_) {
                    output->write(*batch);
                }
                dirty = true;
            }
            flows_out_.fetch_add(forwarded, std::memory_order_relaxed);
            pool_.release(batch);
        }
        const std::uint64_t requested = flush_requested_.load(std::memory_order_acquire);
        // Flush when idle, so a trickle of hits reaches the collectors without delay.
        if ((!got && dirty) || requested != flush_done_.load(std::memory_order_relaxed)) {
            for (auto& output : outputs_) {
                output->flush();
            }
            dirty = false;
            flush_done_.store(requested, std::memory_order_release);
        }
        const auto now = Clock::now();
        if (now - last_tick >= milliseconds{1000}) {
            last_tick = now;
            const auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::system_clock::now().time_since_epoch());
            for (auto& output : outputs_) {
                output->tick(secs.count());
            }
        }
        if (!got && stopping_.load(std::memory_order_acquire) && pool_.in_use() == 0) {
            break;
        }
    }
}

void Pipeline::drain() {
    while (pool_.in_use() != 0) {
        std::this_thread::sleep_for(milliseconds{2});
    }
    const std::uint64_t ticket = flush_requested_.fetch_add(1, std::memory_order_acq_rel) + 1;
    while (flush_done_.load(std::memory_order_acquire) < ticket) {
        std::this_thread::sleep_for(milliseconds{2});
    }
}

void Pipeline::stop() {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    // Dispatchers hold no batches once their inputs flushed; release any left by an input
    // that never got to (their owners are gone by now).
    {
        std::lock_guard lock(dispatchers_mutex_);
        for (auto& d : dispatchers_) {
            d->flush();
        }
    }
    drain();
    stopping_.store(true, std::memory_order_release);
    for (auto& t : matchers_) {
        t.join();
    }
    serializer_.join();
}

PipelineStats Pipeline::stats() const {
    PipelineStats s;
    const auto relaxed = std::memory_order_relaxed;
    {
        std::lock_guard lock(dispatchers_mutex_);
        for (const auto& d : dispatchers_) {
            const InputCounters& c = d->counters();
            s.messages += c.messages.load(relaxed);
            s.messages_rejected += c.messages_rejected.load(relaxed);
            s.flows_in += c.flows.load(relaxed);
            s.options_records += c.options_records.load(relaxed);
            s.template_records += c.template_records.load(relaxed);
            s.sequence_gaps += c.sequence_gaps.load(relaxed);
            s.queue_full_drops += c.queue_full_drops.load(relaxed);
            for (std::size_t i = 0; i < s.drops.size(); ++i) {
                s.drops[i] += c.drops[i].load(relaxed);
            }
        }
    }
    for (std::size_t i = 0; i < match_counters_.size(); ++i) {
        const MatchCounters& c = *match_counters_[i];
        s.flows_matched += c.flows.load(relaxed);
        s.flows_with_hits += c.flows_with_hits.load(relaxed);
        s.hits_ip += c.hits_ip.load(relaxed);
        s.hits_ip_port += c.hits_ip_port.load(relaxed);
        s.hits_dns += c.hits_dns.load(relaxed);
        s.matcher_queue_depth.push_back(matcher_queues_[i]->depth());
        for (std::size_t f = 0; f < s.hits_by_feed.size(); ++f) {
            s.hits_by_feed[f] += c.hits_by_feed[f].load(relaxed);
        }
    }
    s.serializer_queue_depth = serializer_queue_.depth();
    s.flows_out = flows_out_.load(relaxed);
    s.batches_in_use = pool_.in_use();
    return s;
}

}  // namespace malfix::engine
