#pragma once

#include "engine/flow_batch.hpp"

#include <concurrentqueue/blockingconcurrentqueue.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

namespace malfix::engine {

/// A queue of batch pointers between threads. It wraps moodycamel's lock-free queue behind
/// the three operations the engine needs, so the queue can be swapped without touching the
/// threads. It never bounds anything by itself: the BatchPool does (see below).
class BatchQueue {
public:
    explicit BatchQueue(std::size_t capacity) : queue_(capacity) {}

    void push(FlowBatch* batch) { queue_.enqueue(batch); }
    /// Waits up to timeout for a batch; false when none came.
    bool pop(FlowBatch*& batch, std::chrono::microseconds timeout) {
        return queue_.wait_dequeue_timed(batch, timeout.count());
    }
    bool try_pop(FlowBatch*& batch) { return queue_.try_dequeue(batch); }
    std::size_t depth() const { return queue_.size_approx(); }

private:
    moodycamel::BlockingConcurrentQueue<FlowBatch*> queue_;
};

/// The fixed set of batches the engine owns. Every queue is bounded by it: a producer that
/// finds the pool empty must wait (TCP and files: back-pressure reaches the exporter) or drop
/// and count (UDP). Batches are allocated once, at start-up.
class BatchPool {
public:
    explicit BatchPool(std::size_t count) : free_(count) {
        storage_.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            storage_.push_back(std::make_unique<FlowBatch>());
            free_.push(storage_.back().get());
        }
    }

    /// A cleared batch, or nullptr if none frees up within timeout.
    FlowBatch* acquire(std::chrono::microseconds timeout) {
        FlowBatch* batch = nullptr;
        if (timeout.count() == 0 ? free_.try_pop(batch) : free_.pop(batch, timeout)) {
            in_use_.fetch_add(1, std::memory_order_relaxed);
            return batch;
        }
        return nullptr;
    }
    void release(FlowBatch* batch) {
        batch->clear();
        in_use_.fetch_sub(1, std::memory_order_relaxed);
        free_.push(batch);
    }

    std::size_t capacity() const { return storage_.size(); }
    /// Batches currently held by producers, queues, matchers or the serializer.
    std::size_t in_use() const { return in_use_.load(std::memory_order_relaxed); }

private:
    std::vector<std::unique_ptr<FlowBatch>> storage_;
    BatchQueue free_;
    std::atomic<std::size_t> in_use_{0};
};

}  // namespace malfix::engine
