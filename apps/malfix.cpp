// malfix: the daemon and batch tool. Parses flags, wires inputs -> pipeline -> outputs,
// handles signals, prints stats. All the work happens in engine/, intel/, ipfix/ and sinks/.

#include "apps/metrics_server.hpp"
#include "apps/options.hpp"
#include "apps/stats_report.hpp"
#include "engine/capture_reader.hpp"
#include "engine/file_reader.hpp"
#include "engine/kafka_input.hpp"
#include "engine/listener.hpp"
#include "engine/log.hpp"
#include "engine/pipeline.hpp"
#include "intel/feed_loader.hpp"
#include "sinks/kafka_output.hpp"
#include "sinks/output_factory.hpp"

#include "malfix/version.hpp"
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace malfix::apps {
namespace {

using engine::log;
using engine::LogLevel;

/// Loads every feed into a new snapshot and logs what it holds. Throws on unreadable paths.
std::shared_ptr<const intel::Snapshot> load_intel(const Options& o) {
    intel::LoadOptions load;
    load.intel_paths.assign(o.intel.begin(), o.intel.end());
    load.whitelist_paths.assign(o.whitelist.begin(), o.whitelist.end());
    const auto started = std::chrono::steady_clock::now();
    intel::LoadResult result = intel::load_snapshot(load);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    for (const intel::FeedInfo& feed : result.snapshot->feeds()) {
        log(LogLevel::kInfo, "feed loaded",
            {{"feed", feed.name},
             {"indicators", std::to_string(feed.indicators)},
             {"bad_lines", std::to_string(feed.bad_lines)},
             {"skipped_lines", std::to_string(feed.skipped_lines)}});
    }
    for (const std::string& problem : result.report.problems) {
        log(LogLevel::kWarn, "bad trail line", {{"where", problem}});
    }
    log(LogLevel::kInfo, "snapshot ready",
        {{"indicators", std::to_string(result.snapshot->size())},
         {"load_ms", std::to_string(ms.count())}});
    return std::move(result.snapshot);
}

// --- Kafka wiring (issue 4) -----------------------------------------------------------------

bool is_kafka(const std::string& spec) {
    return spec.starts_with("kafka://");
}

/// The Kafka flags, with the client's lines joining the logfmt log.
sinks::KafkaSettings kafka_settings(const Options& o) {
    sinks::KafkaSettings settings;
    for (const std::string& property : o.kafka_properties) {
        settings.properties.push_back(sinks::parse_kafka_property(property));
    }
    settings.connect_timeout_ms = static_cast<int>(o.kafka_connect_timeout * 1000);
    settings.flush_timeout_ms = static_cast<int>(o.kafka_flush_timeout * 1000);
    settings.wait_for_broker = o.kafka_wait;
    settings.log = [](sinks::KafkaLogLevel level, std::string_view message) {
        static constexpr LogLevel kLevels[] = {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn,
                                               LogLevel::kError};
        log(kLevels[static_cast<int>(level)], message);
    };
    return settings;
}

/// One Kafka input per kafka:// --listen, each with its own dispatcher; they commit offsets
/// only after pipeline.drain() (every output delivered what they handed over).
std::vector<std::unique_ptr<engine::KafkaInput>> make_kafka_inputs(
    const Options& o, engine::Pipeline& pipeline, std::vector<MetricsInput>& named) {
    std::vector<std::unique_ptr<engine::KafkaInput>> inputs;
    for (const std::string& spec : o.listen) {
        if (!is_kafka(spec)) {
            continue;
        }
        engine::KafkaInputOptions options;
        options.settings = kafka_settings(o);
        options.drain = [&pipeline] { pipeline.drain(); };
        engine::Dispatcher& dispatcher = pipeline.make_dispatcher();
        named.push_back({spec, &dispatcher});
        inputs.push_back(std::make_unique<engine::KafkaInput>(spec, dispatcher, options));
        log(LogLevel::kInfo, "consuming", {{"listen", spec}});
    }
    return inputs;
}

// ------------------------------------------------------------------------------------------

std::vector<std::unique_ptr<sinks::Output>> make_outputs(const Options& o) {
    sinks::OutputOptions options;
    options.template_refresh_s = o.template_refresh;
    std::vector<std::unique_ptr<sinks::Output>> outputs;
    for (const std::string& spec : o.outputs) {
        if (is_kafka(spec)) {
            outputs.push_back(sinks::make_kafka_output(spec, kafka_settings(o)));
            continue;
        }
        outputs.push_back(sinks::make_output(spec, options));
    }
    return outputs;
}

enum class FileKind { kIpfix, kCapture, kUnknown };

/// Tells a capture from an IPFIX file by its first bytes: pcap and pcapng magic numbers, or
/// an IPFIX Message Header (Version 10).
FileKind sniff(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
    }
    unsigned char m[4] = {};
    in.read(reinterpret_cast<char*>(m), 4);
    const std::uint32_t be = (std::uint32_t{m[0]} << 24) | (std::uint32_t{m[1]} << 16) |
                             (std::uint32_t{m[2]} << 8) | m[3];
    switch (be) {
        case 0xa1b2c3d4:
        case 0xd4c3b2a1:
        case 0xa1b23c4d:
        case 0x4d3cb2a1:
        case 0x0a0d0d0a:
            return FileKind::kCapture;
        default:
            break;
    }
    return (m[0] == 0 && m[1] == 10) ? FileKind::kIpfix : FileKind::kUnknown;
}

void log_input_summary(const std::string& path, const engine::InputSummary& s) {
    for (const std::string& error : s.errors) {
        log(LogLevel::kWarn, "input problem", {{"input", path}, {"detail", error}});
    }
    log(LogLevel::kInfo, "input done",
        {{"input", path},
         {"messages", std::to_string(s.messages)},
         {"bytes", std::to_string(s.bytes)},
         {"rejected", std::to_string(s.rejected)},
         {"resyncs", std::to_string(s.resyncs)},
         {"skipped_bytes", std::to_string(s.skipped_bytes)}});
}

/// Reads every --read input through one dispatcher. Returns false if any could not be read.
bool read_files(const Options& o, engine::Dispatcher& dispatcher, InputDrops& drops) {
    bool all_ok = true;
    for (const std::string& path : o.read) {
        try {
            switch (sniff(path)) {
                case FileKind::kCapture: {
                    const engine::CaptureSummary s = engine::CaptureReader(path).run(dispatcher);
                    drops.add(s);
                    log_input_summary(path, s);
                    break;
                }
                case FileKind::kIpfix: {
                    const engine::InputSummary s = engine::FileReader(path).run(dispatcher);
                    drops.add(s);
                    log_input_summary(path, s);
                    break;
                }
                case FileKind::kUnknown:
                    log(LogLevel::kError, "not an IPFIX file nor a pcap/pcapng capture",
                        {{"input", path}});
                    all_ok = false;
                    break;
            }
        } catch (const std::exception& e) {
            log(LogLevel::kError, "cannot read input", {{"input", path}, {"error", e.what()}});
            all_ok = false;
        }
    }
    return all_ok;
}

/// The listeners report "level: text" lines (already throttled); they join the logfmt log.
void log_listener_line(std::string_view line) {
    LogLevel level = LogLevel::kInfo;
    if (const std::size_t colon = line.find(": ");
        colon != std::string_view::npos && engine::parse_log_level(line.substr(0, colon), level)) {
        line.remove_prefix(colon + 2);
    }
    // "tcp:ADDR:PORT: text" names the exporter: give it its own key, as every line should.
    if (line.starts_with("tcp:") || line.starts_with("udp:")) {
        if (const std::size_t end = line.find(": "); end != std::string_view::npos) {
            log(level, line.substr(end + 2), {{"exporter", std::string(line.substr(0, end))}});
            return;
        }
    }
    log(level, line);
}

/// Signals are taken by sigtimedwait() in the main thread only: every thread inherits the
/// blocked mask from here, so no handler ever runs inside a worker.
sigset_t block_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
    return set;
}

/// Waits for a signal for at most timeout; returns it, or 0.
int wait_signal(const sigset_t& set, std::chrono::milliseconds timeout) {
    timespec ts{static_cast<time_t>(timeout.count() / 1000),
                static_cast<long>((timeout.count() % 1000) * 1000000)};
    const int sig = sigtimedwait(&set, nullptr, &ts);
    return sig > 0 ? sig : 0;
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void reload_intel(const Options& o, intel::SnapshotHolder& holder, IntelStatus& status) {
    log(LogLevel::kInfo, "reloading threat intelligence (SIGHUP)");
    try {
        holder.publish(load_intel(o));
        status.loaded_unix_ms.store(unix_ms());
        status.reloads.fetch_add(1);
        log(LogLevel::kInfo, "snapshot swapped");
    } catch (const std::exception& e) {
        status.reload_failures.fetch_add(1);
        log(LogLevel::kError, "reload failed, keeping the current snapshot", {{"error", e.what()}});
    }
}

/// The main loop while inputs run: stats lines, SIGHUP reloads, and SIGINT/SIGTERM or the
/// end of the batch inputs end it. Returns the signal that ended it, or 0.
int supervise(const Options& o, const sigset_t& signals, intel::SnapshotHolder& holder,
              IntelStatus& intel_status, const engine::Pipeline& pipeline,
              const engine::InputRuntime* network, InputDrops& drops,
              const std::atomic<bool>& inputs_done) {
    StatsReporter reporter(pipeline, drops);
    const auto interval = std::chrono::milliseconds(static_cast<long>(o.stats_interval * 1000));
    auto next_stats = std::chrono::steady_clock::now() + interval;
    while (!inputs_done.load()) {
        const int sig = wait_signal(signals, std::chrono::milliseconds{100});
        if (sig == SIGHUP) {
            reload_intel(o, holder, intel_status);
        } else if (sig != 0) {
            log(LogLevel::kInfo, "stopping: draining queues and flushing outputs",
                {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
            return sig;
        }
        if (interval.count() > 0 && std::chrono::steady_clock::now() >= next_stats) {
            next_stats += interval;
            if (network != nullptr) {
                drops.set_network(network->stats());
            }
            reporter.report();
        }
    }
    return 0;
}

/// --metrics: the Prometheus endpoint on its own thread, or null without the flag.
std::unique_ptr<MetricsServer> start_metrics(const Options& o, MetricsSources sources) {
    if (o.metrics.empty()) {
        return nullptr;
    }
    auto server = std::make_unique<MetricsServer>(
        o.metrics, [sources = std::move(sources)] { return render_metrics(sources); });
    log(LogLevel::kInfo, "metrics listening", {{"listen", server->bound()}});
    return server;
}

int run(const Options& o) {
    const sigset_t signals = block_signals();
    log(LogLevel::kInfo, "malfix starting", {{"version", kVersion}});
    {
        std::string config;
        for (const auto& [key, value] : describe(o)) {
            config += key + "=" + (value.empty() ? "-" : value) + " ";
        }
        log(LogLevel::kInfo, "effective configuration", {{"config", config}});
    }

    intel::SnapshotHolder holder;
    holder.publish(load_intel(o));
    IntelStatus intel_status;
    intel_status.loaded_unix_ms.store(unix_ms());

    engine::PipelineOptions popts;
    popts.matchers = o.threads;
    popts.mode = o.mode == "pipeline" ? engine::Mode::kPipeline : engine::Mode::kAlert;
    const auto kafka_listens =
        static_cast<std::size_t>(std::count_if(o.listen.begin(), o.listen.end(), is_kafka));
    const bool net_listens = kafka_listens < o.listen.size();
    popts.max_inputs = o.input_threads + 1 + kafka_listens;
    engine::Pipeline pipeline(popts, holder, make_outputs(o));
    std::vector<MetricsInput> metrics_inputs;
    std::vector<std::unique_ptr<engine::KafkaInput>> kafka_inputs =
        make_kafka_inputs(o, pipeline, metrics_inputs);

    std::vector<engine::Dispatcher*> net_dispatchers;
    for (std::size_t i = 0; i < o.input_threads && net_listens; ++i) {
        net_dispatchers.push_back(&pipeline.make_dispatcher());
        metrics_inputs.push_back({"network-" + std::to_string(i), net_dispatchers.back()});
    }
    std::unique_ptr<engine::InputRuntime> network;
    if (net_listens) {
        std::vector<engine::ListenSpec> specs;
        for (const std::string& spec : o.listen) {
            if (!is_kafka(spec)) {
                specs.push_back(engine::parse_listen_spec(spec));
            }
        }
        engine::InputRuntimeOptions ropts;
        ropts.io_threads = o.input_threads;
        ropts.log = log_listener_line;
        network = std::make_unique<engine::InputRuntime>(
            specs, [&](std::size_t i) -> engine::MessageConsumer& { return *net_dispatchers[i]; },
            ropts);
        network->start();
        for (const engine::ListenSpec& bound : network->bound_endpoints()) {
            log(LogLevel::kInfo, "listening", {{"listen", engine::to_string(bound)}});
        }
    }

    for (auto& input : kafka_inputs) {
        input->start();
    }

    std::atomic<bool> files_done{false};
    bool files_ok = true;
    InputDrops drops;
    engine::Dispatcher& file_dispatcher = pipeline.make_dispatcher();
    metrics_inputs.push_back({"files", &file_dispatcher});
    const std::unique_ptr<MetricsServer> metrics = start_metrics(
        o, {&pipeline, &drops, network.get(), &holder, &intel_status, std::move(metrics_inputs)});
    std::thread reader([&] {
        files_ok = read_files(o, file_dispatcher, drops);
        files_done.store(true);
    });

    // Batch mode ends with the files; a daemon runs until a signal.
    std::atomic<bool> never{false};
    const int sig = supervise(o, signals, holder, intel_status, pipeline, network.get(), drops,
                              o.batch() ? files_done : never);
    if (sig != 0 && !files_done.load()) {
        log(LogLevel::kInfo, "waiting for the file being read to finish");
    }
    reader.join();
    if (network) {
        network->stop();
        network->wait();
        drops.set_network(network->stats());
    }
    for (auto& input : kafka_inputs) {
        input->stop();  // hands over, drains and commits what it consumed
        const engine::KafkaInputStats k = input->stats();
        log(LogLevel::kInfo, "input done",
            {{"input", input->name()},
             {"records", std::to_string(k.records)},
             {"flows", std::to_string(k.flows)},
             {"bad_records", std::to_string(k.bad_records)},
             {"commits", std::to_string(k.commits)},
             {"commit_errors", std::to_string(k.commit_errors)}});
    }
    pipeline.stop();
    StatsReporter(pipeline, drops).summary();
    return files_ok ? 0 : 1;
}

}  // namespace
}  // namespace malfix::apps

int main(int argc, char** argv) {
    malfix::apps::Options options;
    const int status = malfix::apps::parse_options(argc, argv, options);
    if (status >= 0) {
        return status;
    }
    malfix::engine::LogLevel level{};
    malfix::engine::parse_log_level(options.log_level, level);
    malfix::engine::set_log_level(level);
    malfix::engine::LogFormat format{};
    malfix::engine::parse_log_format(options.log_format, format);
    malfix::engine::set_log_format(format);
    try {
        return malfix::apps::run(options);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "malfix: %s (see --help)\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        malfix::engine::log(malfix::engine::LogLevel::kError, "fatal", {{"error", e.what()}});
        return 1;
    }
}
