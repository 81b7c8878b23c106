#pragma once

// Prometheus metrics for operators (issue 5): a text-format builder, a minimal HTTP endpoint,
// and the collector that turns malfix's counters into the exposition.
//
// Why a small Boost.Asio endpoint rather than prometheus-cpp: the engine already keeps every
// counter per thread (relaxed atomics on their own cache lines) and sums them on demand for
// the stats line, so a scrape only needs to read those sums; prometheus-cpp would want its
// own counter objects updated on the hot path or a parallel registry kept in sync, and it is
// one more dependency, while Asio is already linked for the listeners. The endpoint runs on
// its own thread, so a slow or hostile scraper never touches an input or matcher thread.

#include "apps/stats_report.hpp"
#include "engine/dispatcher.hpp"
#include "engine/listener.hpp"
#include "engine/pipeline.hpp"
#include "intel/snapshot.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace malfix::apps {

/// Builds a Prometheus text exposition (format 0.0.4): families with HELP and TYPE, then
/// their samples, label values escaped.
class MetricsText {
public:
    using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, Labels labels, double value);
    void sample(std::string_view name, Labels labels, std::uint64_t value);
    const std::string& text() const { return text_; }

private:
    void begin_sample(std::string_view name, Labels labels);

    std::string text_;
};

/// A minimal HTTP/1.1 server: GET /metrics answers 200 with render()'s text, anything else
/// 404, one request per connection. Binds in the constructor (throws when it cannot) and
/// serves from its own thread until destroyed.
class MetricsServer {
public:
    using Render = std::function<std::string()>;

    /// endpoint: tcp://ADDR:PORT, IPv6 as tcp://[::1]:PORT; port 0 picks a free one.
    MetricsServer(const std::string& endpoint, Render render);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    /// The bound endpoint, tcp://ADDR:PORT with the real port.
    std::string bound() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The intelligence's lifecycle as the main thread records it.
struct IntelStatus {
    std::atomic<std::int64_t> loaded_unix_ms{0};  ///< when the current snapshot was built
    std::atomic<std::uint64_t> reloads{0};
    std::atomic<std::uint64_t> reload_failures{0};
};

/// One input as the metrics name it, with the Dispatcher that counts its flows.
struct MetricsInput {
    std::string name;
    const engine::Dispatcher* dispatcher = nullptr;
};

/// Everything a scrape reads. The referenced objects must outlive the MetricsServer.
struct MetricsSources {
    const engine::Pipeline* pipeline = nullptr;
    InputDrops* drops = nullptr;
    const engine::InputRuntime* network = nullptr;  ///< may be null (no network listener)
    const intel::SnapshotHolder* intel = nullptr;
    const IntelStatus* intel_status = nullptr;
    std::vector<MetricsInput> inputs;
};

/// The exposition of every malfix metric, summed over the threads at the time of the call.
std::string render_metrics(const MetricsSources& sources);

}  // namespace malfix::apps
